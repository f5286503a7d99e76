//! A lost handshake, recognised from the client's segment alone and played
//! again (`replicate/lost_handshake.rs`), and the mark of played segments.

use crate::lost_handshake::{recover, RECOVERED_MSS, SAFE_OPTIONS};
use crate::rendezvous::Key;
use crate::replica::{cluster_isn, cluster_tsval, segment_of, FIN};
use crate::splice::{build_segment, is_played, parse_syn, Segment, SynOptions, ACK, PSH, RST, SYN};
use crate::syn_cache;
use crate::wire::Tuple;
use proptest::prelude::*;
use std::sync::atomic::AtomicU64;

const TUPLE: Tuple = Tuple {
    client: [192, 0, 2, 7],
    client_port: 40000,
    vip: [198, 51, 100, 1],
    port: 80,
};

fn key() -> Key {
    Key::new(&[0x6d; 16])
}

/// The client's segment as it arrives: built, then parsed as the hook does.
fn client(
    tuple: Tuple,
    seq: u32,
    ack: u32,
    flags: u8,
    ts: Option<(u32, u32)>,
    payload: &[u8],
) -> (Vec<u8>, crate::replica::Segment) {
    let s = Segment {
        tuple,
        seq,
        ack,
        flags,
        window: 502,
        timestamps: ts,
        syn_options: None,
        payload,
    };
    let mut out = vec![0u8; 1600];
    let n = build_segment(&mut out, &s).unwrap();
    out.truncate(n);
    let seg = segment_of(&out, out.len()).unwrap();
    (out, seg)
}

/// The client's first acknowledgment of connection `tuple` with initial
/// sequence number `isn`, as the cluster's SYN-ACK asked for it.
fn completing(tuple: Tuple, isn: u32, ts: bool, payload: &[u8]) -> crate::replica::Segment {
    let k = key();
    let ts = ts.then(|| (9_000, cluster_tsval(&k, &tuple, isn)));
    let flags = if payload.is_empty() { ACK } else { ACK | PSH };
    client(
        tuple,
        isn.wrapping_add(1),
        cluster_isn(&k, &tuple, isn).wrapping_add(1),
        flags,
        ts,
        payload,
    )
    .1
}

#[test]
fn the_handshake_ack_is_played_again_after_a_syn() {
    let k = key();
    let isn = 0x1234_5678;
    let r = recover(&k, &TUPLE, &completing(TUPLE, isn, true, b""), None).unwrap();
    assert_eq!((r.syn.seq, r.syn.flags), (isn, SYN));
    let opts = r.syn.syn_options.unwrap();
    assert_eq!(
        (opts.mss, opts.wscale, opts.sack_permitted),
        (RECOVERED_MSS, Some(0), false)
    );
    assert_eq!(r.syn.timestamps, Some((9_000, 0)));
    assert_eq!((r.ack.seq, r.ack.flags), (isn.wrapping_add(1), ACK));
    assert_eq!(r.ack.ack, cluster_isn(&k, &TUPLE, isn).wrapping_add(1));
    assert_eq!(
        r.ack.timestamps,
        Some((9_000, cluster_tsval(&k, &TUPLE, isn)))
    );
    assert!(r.ack.payload.is_empty() && r.syn.payload.is_empty());
    assert_eq!((r.syn.tuple, r.ack.tuple), (TUPLE, TUPLE));
}

#[test]
fn data_at_the_first_sequence_number_and_no_timestamps_recover_too() {
    let r = recover(
        &key(),
        &TUPLE,
        &completing(TUPLE, 77, false, b"GET / HTTP/1.1\r\n\r\n"),
        None,
    )
    .unwrap();
    assert_eq!((r.syn.seq, r.ack.seq), (77, 78));
    assert_eq!((r.syn.timestamps, r.ack.timestamps), (None, None));
}

#[test]
fn only_the_cluster_s_own_handshake_is_recovered() {
    let k = key();
    let isn = 5_000;
    let good = completing(TUPLE, isn, true, b"");
    assert!(recover(&k, &TUPLE, &good, None).is_some());
    // Another key: another cluster's, or a guess.
    assert!(recover(&Key::new(&[1; 16]), &TUPLE, &good, None).is_none());
    // Another connection.
    let other = Tuple {
        client_port: 40001,
        ..TUPLE
    };
    assert!(recover(&k, &other, &good, None).is_none());
    // An acknowledgment one off, or past data the cluster sent.
    for delta in [0u32, 2, 100, u32::MAX] {
        let mut s = good;
        s.ack = Some(cluster_isn(&k, &TUPLE, isn).wrapping_add(delta));
        assert!(recover(&k, &TUPLE, &s, None).is_none(), "ack + {delta}");
    }
    // The client's later data (its sequence number moved on).
    let mut s = good;
    s.seq = s.seq.wrapping_add(10);
    assert!(recover(&k, &TUPLE, &s, None).is_none());
    // No ACK; a SYN; a reset.
    let mut s = good;
    s.ack = None;
    assert!(recover(&k, &TUPLE, &s, None).is_none());
    for flags in [SYN | ACK, RST | ACK] {
        let mut s = good;
        s.flags = flags;
        assert!(recover(&k, &TUPLE, &s, None).is_none(), "flags {flags:#x}");
    }
    // A FIN with it is the client's close: still a handshake to complete.
    let mut s = good;
    s.flags = ACK | FIN;
    assert!(recover(&k, &TUPLE, &s, None).is_some());
}

#[test]
fn only_the_syn_ack_s_own_timestamp_is_echoed() {
    let k = key();
    let isn = 42;
    let tsval = cluster_tsval(&k, &TUPLE, isn);
    let with_echo = |ecr: u32| {
        let mut s = completing(TUPLE, isn, true, b"");
        s.timestamps = Some((9_000, ecr));
        recover(&k, &TUPLE, &s, None)
    };
    assert!(with_echo(tsval).is_some());
    for other in [
        tsval.wrapping_add(1),
        tsval.wrapping_sub(1),
        tsval ^ 0x8000_0000,
    ] {
        assert!(with_echo(other).is_none(), "echo {other}");
    }
}

#[test]
fn played_segments_bear_their_mark_and_the_client_s_do_not() {
    let r = recover(&key(), &TUPLE, &completing(TUPLE, 9, true, b""), None).unwrap();
    for s in [r.syn, r.ack] {
        let mut out = vec![0u8; 200];
        let n = build_segment(&mut out, &s).unwrap();
        assert!(is_played(&out[..n]));
        // The same segment with another identification (the client's
        // stack chose it) is the client's.
        out[5] ^= 0x40;
        assert!(!is_played(&out[..n]));
    }
    assert!(!is_played(&[]));
    assert!(!is_played(&[0x45; 30]));
}

proptest! {
    /// Whatever the connection and its initial sequence number: its
    /// completing acknowledgment is recovered into a SYN and an ACK at the
    /// right numbers, and any other acknowledgment number is not.
    #[test]
    fn recovered_exactly_at_the_cluster_isn(
        port in 1u16..,
        isn in any::<u32>(),
        wrong in 1u32..,
        ts in any::<bool>(),
    ) {
        let k = key();
        let tuple = Tuple { client_port: port, ..TUPLE };
        let s = completing(tuple, isn, ts, b"");
        let r = recover(&k, &tuple, &s, None).unwrap();
        prop_assert_eq!(r.syn.seq, isn);
        prop_assert_eq!(r.ack.seq, isn.wrapping_add(1));
        prop_assert_eq!(r.ack.ack, cluster_isn(&k, &tuple, isn).wrapping_add(1));
        let mut bad = s;
        bad.ack = bad.ack.map(|a| a.wrapping_add(wrong));
        prop_assert!(recover(&k, &tuple, &bad, None).is_none());
    }

    /// Every segment the module builds is marked as played, whatever its
    /// connection, numbers and flags; with any other identification, it
    /// is not.
    #[test]
    fn built_segments_are_marked(
        addr in any::<[u8; 4]>(),
        port in any::<u16>(),
        seq in any::<u32>(),
        ack in any::<u32>(),
        flags in prop_oneof![Just(SYN), Just(ACK), Just(ACK | PSH), Just(ACK | FIN)],
        ts in proptest::option::of(any::<(u32, u32)>()),
        other in 1u16..,
    ) {
        let tuple = Tuple { client: addr, client_port: port, ..TUPLE };
        let (mut pkt, _) = client(tuple, seq, ack, flags, ts, b"x");
        prop_assert!(is_played(&pkt));
        prop_assert_ne!(u16::from_be_bytes([pkt[4], pkt[5]]), 0);
        pkt[4] ^= (other >> 8) as u8;
        pkt[5] ^= other as u8;
        prop_assert!(!is_played(&pkt));
    }
}

/// A client's SYN offering `o`, as it arrives.
fn syn_offering(tuple: Tuple, isn: u32, o: SynOptions) -> Vec<u8> {
    let s = Segment {
        tuple,
        seq: isn,
        ack: 0,
        flags: SYN,
        window: 64_240,
        timestamps: Some((1, 0)),
        syn_options: Some(o),
        payload: &[],
    };
    let mut out = vec![0u8; 200];
    let n = build_segment(&mut out, &s).unwrap();
    out.truncate(n);
    out
}

const OFFERED: SynOptions = SynOptions {
    mss: 1460,
    wscale: Some(7),
    sack_permitted: true,
};

#[test]
fn a_syn_s_options_are_read_as_offered() {
    let pkt = syn_offering(TUPLE, 4242, OFFERED);
    assert_eq!(parse_syn(&pkt), Some((4242, OFFERED)));
    let bare = SynOptions {
        mss: 1200,
        wscale: None,
        sack_permitted: false,
    };
    assert_eq!(parse_syn(&syn_offering(TUPLE, 1, bare)), Some((1, bare)));
    // Not a SYN: a SYN-ACK, or the handshake's ACK.
    let mut synack = pkt.clone();
    synack[20 + 13] |= ACK;
    assert_eq!(parse_syn(&synack), None);
    let (ack, _) = client(TUPLE, 4243, 1, ACK, None, b"");
    assert_eq!(parse_syn(&ack), None);
}

fn slots() -> Vec<AtomicU64> {
    (0..syn_cache::SLOTS).map(|_| AtomicU64::new(0)).collect()
}

#[test]
fn remembered_options_are_recalled_for_that_handshake_only() {
    let (k, table) = (key(), slots());
    assert_eq!(syn_cache::recall(&table, &k, &TUPLE, 10), None, "empty");
    syn_cache::remember(&table, &k, &TUPLE, 10, &OFFERED);
    assert_eq!(syn_cache::recall(&table, &k, &TUPLE, 10), Some(OFFERED));
    // Another handshake on the same ports, another connection, another
    // key: not theirs.
    assert_eq!(syn_cache::recall(&table, &k, &TUPLE, 11), None);
    let other = Tuple {
        client_port: 40001,
        ..TUPLE
    };
    assert_eq!(syn_cache::recall(&table, &k, &other, 10), None);
    assert_eq!(
        syn_cache::recall(&table, &Key::new(&[1; 16]), &TUPLE, 10),
        None
    );
}

#[test]
fn a_recovery_offers_the_remembered_options_else_the_safe_ones() {
    let (k, table) = (key(), slots());
    let isn = 0x0bad_cafe;
    let seg = completing(TUPLE, isn, true, b"");
    let played = |offered| recover(&k, &TUPLE, &seg, offered).unwrap().syn.syn_options;
    assert_eq!(played(None), Some(SAFE_OPTIONS));
    syn_cache::remember(&table, &k, &TUPLE, isn, &OFFERED);
    let recalled = syn_cache::recall(&table, &k, &TUPLE, isn);
    assert_eq!(played(recalled), Some(OFFERED));
}

proptest! {
    /// Every option set survives the table's packing, and a slot holds the
    /// last handshake written to it: an earlier one that shared it is
    /// gone, never mistaken for the later.
    #[test]
    fn the_table_keeps_the_last_word_of_each_slot(
        writes in prop::collection::vec((any::<u16>(), any::<u32>(), 1u16.., prop::option::of(0u8..15), any::<bool>()), 1..200),
    ) {
        let (k, table) = (key(), slots());
        let mut model = std::collections::HashMap::new();
        for &(port, isn, mss, wscale, sack_permitted) in &writes {
            let t = Tuple { client_port: port, ..TUPLE };
            let o = SynOptions { mss, wscale, sack_permitted };
            syn_cache::remember(&table, &k, &t, isn, &o);
            model.insert((port, isn), o);
        }
        for (&(port, isn), o) in &model {
            let t = Tuple { client_port: port, ..TUPLE };
            if let Some(got) = syn_cache::recall(&table, &k, &t, isn) {
                prop_assert_eq!(got, *o);
            }
        }
        // The last write is always there.
        let &(port, isn, ..) = writes.last().unwrap();
        let t = Tuple { client_port: port, ..TUPLE };
        prop_assert_eq!(syn_cache::recall(&table, &k, &t, isn), model.get(&(port, isn)).copied());
    }
}

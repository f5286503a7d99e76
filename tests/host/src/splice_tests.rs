use crate::csum::{fold, pseudo_header, sum};
use crate::splice::{
    ack_and_window, build_segment, client_segment, parse_syn_ack, replay_budget, syn_of,
    tcp_header, translate_inbound, translate_outbound, Assembly, Checksum, Inbound, Outbound,
    Phase, Ports, Segment, SynAck, SynOptions, Translation, ACK, PSH, SYN,
};
use crate::wire::{TcpState, Tuple, REPLAY_CHUNK, REPLAY_MAX};
use proptest::{collection::vec, prelude::*};

const TUPLE: Tuple = Tuple {
    client: [192, 0, 2, 7],
    client_port: 40000,
    vip: [198, 51, 100, 1],
    port: 80,
};

fn seg(seq: u32, ack: u32, window: u16, ts: Option<(u32, u32)>, payload: &[u8]) -> Vec<u8> {
    seg_of(TUPLE, seq, ack, window, ts, payload)
}

/// The same on `tuple` (from its `client` side to its `vip` side).
fn seg_of(
    tuple: Tuple,
    seq: u32,
    ack: u32,
    window: u16,
    ts: Option<(u32, u32)>,
    payload: &[u8],
) -> Vec<u8> {
    let s = Segment {
        tuple,
        seq,
        ack,
        flags: ACK | PSH,
        window,
        timestamps: ts,
        syn_options: None,
        payload,
    };
    let mut out = vec![0u8; 1600];
    let n = build_segment(&mut out, &s).unwrap();
    out.truncate(n);
    out
}

/// Whether the IPv4 and TCP checksums of `pkt` verify.
fn checksums_verify(pkt: &[u8]) -> bool {
    let (ihl, _) = tcp_header(pkt).unwrap();
    let ip_ok = fold(sum(&pkt[..ihl], 0)) == 0xffff;
    let tcp = &pkt[ihl..];
    let pseudo = pseudo_header(
        pkt[12..16].try_into().unwrap(),
        pkt[16..20].try_into().unwrap(),
        6,
        tcp.len() as u16,
    );
    ip_ok && fold(sum(tcp, 0) + pseudo) == 0xffff
}

/// `pkt` with its TCP checksum zeroed: packets that differ only there are
/// equal but for the representation of a zero sum (0 or 0xffff), once both
/// checksums verify. Its IP identification and checksum are zeroed too:
/// `build_segment` marks what it builds with an identification of the
/// source's address and port, which a translated port changes when the
/// tests build the VIP's side with it.
fn without_tcp_checksum(pkt: &[u8]) -> Vec<u8> {
    let (ihl, _) = tcp_header(pkt).unwrap();
    let mut p = pkt.to_vec();
    p[ihl + 16..ihl + 18].fill(0);
    p[4..6].fill(0);
    p[10..12].fill(0);
    p
}

fn be32(p: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(p[at..at + 4].try_into().unwrap())
}

/// Inserts a SACK option (NOP NOP SACK) with `blocks` into `pkt`,
/// recomputing lengths and checksums from scratch.
fn with_sack(pkt: &[u8], blocks: &[(u32, u32)]) -> Vec<u8> {
    let (ihl, tlen) = tcp_header(pkt).unwrap();
    let mut opt = vec![1, 1, 5, (2 + 8 * blocks.len()) as u8];
    for (l, r) in blocks {
        opt.extend_from_slice(&l.to_be_bytes());
        opt.extend_from_slice(&r.to_be_bytes());
    }
    let mut out = pkt[..ihl + tlen].to_vec();
    out.extend_from_slice(&opt);
    out.extend_from_slice(&pkt[ihl + tlen..]);
    let new_tlen = tlen + opt.len();
    out[ihl + 12] = ((new_tlen / 4) as u8) << 4;
    let total = out.len() as u16;
    out[2..4].copy_from_slice(&total.to_be_bytes());
    out[10..12].fill(0);
    let c = !fold(sum(&out[..ihl], 0));
    out[10..12].copy_from_slice(&c.to_be_bytes());
    out[ihl + 16..ihl + 18].fill(0);
    let pseudo = pseudo_header(TUPLE.client, TUPLE.vip, 6, (out.len() - ihl) as u16);
    let c = !fold(sum(&out[ihl..], 0) + pseudo);
    out[ihl + 16..ihl + 18].copy_from_slice(&c.to_be_bytes());
    out
}

#[test]
fn built_segments_have_valid_checksums_and_fields() {
    let p = seg(1000, 2000, 512, Some((7, 9)), b"hello");
    assert!(checksums_verify(&p));
    let (ihl, _) = tcp_header(&p).unwrap();
    assert_eq!(p[ihl + 13], ACK | PSH);
    assert_eq!(ack_and_window(&p), Some((2000, 512)));
    assert_eq!(&p[p.len() - 5..], b"hello");
}

#[test]
fn syn_carries_the_clients_negotiated_options() {
    let state = TcpState {
        client_seq: 5000,
        server_seq: 9000,
        client_window: 64240,
        ts_recent: 111,
        server_tsval: 222,
        mss: 1460,
        client_wscale: 7,
        server_wscale: 9,
        options: TcpState::TIMESTAMPS | TcpState::SACK | TcpState::WINDOW_SCALING,
    };
    let s = syn_of(&state, TUPLE);
    assert_eq!(s.seq, 4999);
    assert_eq!(s.flags, SYN);
    let mut out = [0u8; 100];
    let n = build_segment(&mut out, &s).unwrap();
    let p = &out[..n];
    assert!(checksums_verify(p));
    // MSS, SACK-permitted, window scale and timestamps are all there.
    let (ihl, tlen) = tcp_header(p).unwrap();
    let opts = &p[ihl + 20..ihl + tlen];
    assert!(opts.windows(4).any(|w| w == [2, 4, 0x05, 0xb4]));
    assert!(opts.windows(2).any(|w| w == [4, 2]));
    assert!(opts.windows(3).any(|w| w == [3, 3, 7]));
    assert!(opts.windows(2).any(|w| w == [8, 10]));
}

#[test]
fn syn_ack_is_parsed_and_fixes_the_translation() {
    // A SYN-ACK as the holder would send it, built with the same code.
    let mut out = [0u8; 100];
    let s = Segment {
        tuple: TUPLE,
        seq: 77_000,
        ack: 5000,
        flags: SYN | ACK,
        window: 65160,
        timestamps: Some((1_000_000, 111)),
        syn_options: Some(SynOptions {
            mss: 1460,
            wscale: Some(6),
            sack_permitted: true,
        }),
        payload: &[],
    };
    let n = build_segment(&mut out, &s).unwrap();
    let sa = parse_syn_ack(&out[..n]).unwrap();
    assert_eq!(
        sa,
        SynAck {
            isn: 77_000,
            wscale: Some(6),
            tsval: Some(1_000_000),
            window: 65160
        }
    );
    let state = TcpState {
        server_seq: 10,
        server_tsval: 5,
        server_wscale: 9,
        options: TcpState::TIMESTAMPS | TcpState::WINDOW_SCALING,
        ..TcpState::default()
    };
    let tr = Translation::of(&state, &sa);
    // The holder's first byte (isn + 1) is the client's next (10).
    assert_eq!(77_001u32.wrapping_add(tr.seq_delta), 10);
    assert_eq!(1_000_000u32.wrapping_add(tr.ts_delta), 5);
    assert_eq!((tr.local_wscale, tr.client_view_wscale), (6, 9));
    // A plain ACK is no SYN-ACK.
    assert!(parse_syn_ack(&seg(1, 2, 3, None, b"")).is_none());
}

#[test]
fn windows_are_rescaled_and_capped() {
    let tr = |local, view| Translation {
        seq_delta: 0,
        ts_delta: 0,
        client_view_wscale: view,
        local_wscale: local,
        ports: Default::default(),
    };
    assert_eq!(tr(7, 7).window_to_client(1000), 1000);
    assert_eq!(tr(7, 9).window_to_client(1000), 250);
    assert_eq!(tr(9, 7).window_to_client(1000), 4000);
    assert_eq!(tr(14, 0).window_to_client(4), u16::MAX);
}

#[test]
fn sack_edges_ack_and_tsecr_are_translated_inbound() {
    let tr = Translation {
        seq_delta: 1_000_000,
        ts_delta: 50,
        client_view_wscale: 7,
        local_wscale: 7,
        ports: Default::default(),
    };
    let base = seg(5, 1_000_100, 100, Some((9, 70)), b"x");
    let mut p = with_sack(&base, &[(1_000_200, 1_000_300), (1_000_400, 1_000_500)]);
    translate_inbound(&mut p, &tr, Checksum::Full).unwrap();
    let (ihl, tlen) = tcp_header(&p).unwrap();
    assert_eq!(be32(&p, ihl + 4), 5, "client sequence untouched");
    assert_eq!(be32(&p, ihl + 8), 100);
    let opts = &p[ihl + 20..ihl + tlen];
    let sack_at = opts.windows(2).position(|w| w == [5, 18]).unwrap() + ihl + 22;
    let edges: Vec<u32> = (0..4).map(|k| be32(&p, sack_at + 4 * k)).collect();
    assert_eq!(edges, [200, 300, 400, 500]);
    let ts_at = opts.windows(2).position(|w| w == [8, 10]).unwrap() + ihl + 22;
    assert_eq!((be32(&p, ts_at), be32(&p, ts_at + 4)), (9, 20));
    assert!(checksums_verify(&p));
}

#[test]
fn partial_checksums_are_left_alone() {
    let tr = Translation {
        seq_delta: 3,
        ts_delta: 4,
        client_view_wscale: 0,
        local_wscale: 0,
        ports: Default::default(),
    };
    let mut p = seg(10, 20, 30, Some((40, 50)), b"abc");
    let (ihl, _) = tcp_header(&p).unwrap();
    let before = p[ihl + 16..ihl + 18].to_vec();
    translate_outbound(&mut p, &tr, Checksum::Partial).unwrap();
    assert_eq!(p[ihl + 16..ihl + 18], before[..]);
    assert_eq!(be32(&p, ihl + 4), 13);
}

#[test]
fn a_truncated_header_is_refused_untouched() {
    let p = seg(10, 20, 30, Some((40, 50)), b"");
    let tr = Translation {
        seq_delta: 3,
        ts_delta: 4,
        client_view_wscale: 0,
        local_wscale: 0,
        ports: Default::default(),
    };
    let mut short = p[..p.len() - 4].to_vec();
    let copy = short.clone();
    assert!(translate_outbound(&mut short, &tr, Checksum::Full).is_none());
    assert_eq!(short, copy);
}

#[test]
fn assembly_takes_chunks_in_any_order_once_whole() {
    let data: Vec<u8> = (0..2500u32).map(|i| i as u8).collect();
    let mut a = Assembly::new(data.len()).unwrap();
    let mut buf = vec![0u8; data.len()];
    assert!(!a.complete());
    a.add(&mut buf, 2048, &data[2048..]).unwrap();
    a.add(&mut buf, 0, &data[..1024]).unwrap();
    assert!(!a.complete());
    a.add(&mut buf, 0, &data[..1024]).unwrap();
    a.add(&mut buf, 1024, &data[1024..2048]).unwrap();
    assert!(a.complete());
    assert_eq!(buf, data);
    // Misaligned, short, or past the end: refused.
    assert!(a.add(&mut buf, 1, &data[1..1025]).is_none());
    assert!(a.add(&mut buf, 1024, &data[1024..2000]).is_none());
    assert!(a.add(&mut buf, 3072, &[1]).is_none());
    assert!(Assembly::new(REPLAY_MAX + 1).is_none());
}

#[test]
fn an_empty_replay_is_complete_at_once() {
    assert!(Assembly::new(0).unwrap().complete());
}

#[test]
fn phases_route_segments() {
    let tr = Translation {
        seq_delta: 1,
        ts_delta: 2,
        client_view_wscale: 3,
        local_wscale: 4,
        ports: Default::default(),
    };
    assert_eq!(Phase::Frozen.inbound(ACK, None), Inbound::Drop);
    assert_eq!(Phase::Frozen.inbound(ACK, Some(tr)), Inbound::Drop);
    assert_eq!(Phase::Frozen.outbound(None), Outbound::Pass);
    // A dispatcher holding the connection by an earlier handover keeps
    // rewriting what it sends until it lets go.
    assert_eq!(Phase::Frozen.outbound(Some(tr)), Outbound::Translate(tr));
    assert_eq!(
        Phase::Gone { confirmed: false }.outbound(Some(tr)),
        Outbound::Drop
    );
    assert_eq!(Phase::SynPlayed.inbound(SYN, None), Inbound::Pass);
    assert_eq!(Phase::SynPlayed.inbound(ACK, None), Inbound::Drop);
    assert_eq!(Phase::SynPlayed.outbound(None), Outbound::CaptureSynAck);
    assert_eq!(Phase::Offered.inbound(ACK, None), Inbound::Default);
    assert_eq!(Phase::TargetRefusing(1).outbound(None), Outbound::Pass);
    assert_eq!(
        Phase::Spliced.inbound(ACK, Some(tr)),
        Inbound::Translate(tr)
    );
    assert_eq!(Phase::Spliced.outbound(Some(tr)), Outbound::Translate(tr));
}

#[test]
fn replay_is_played_within_the_holders_window() {
    let state = TcpState {
        client_seq: u32::MAX - 10,
        ..TcpState::default()
    };
    let len = 10_000;
    // Nothing acknowledged yet, 4000 bytes of window.
    assert_eq!(replay_budget(&state, len, 0, state.client_seq, 4000), 4000);
    assert_eq!(replay_budget(&state, len, 4000, state.client_seq, 4000), 0);
    // 3000 acknowledged (across the wrap): 3000 more.
    let ack = state.client_seq.wrapping_add(3000);
    assert_eq!(replay_budget(&state, len, 4000, ack, 4000), 3000);
    assert_eq!(replay_budget(&state, len, 9000, ack, 1 << 30), 1000);
    // An acknowledgment from before the replay plays nothing.
    assert_eq!(
        replay_budget(&state, len, 0, state.client_seq.wrapping_sub(1), 4000),
        0
    );
    let seg = client_segment(&state, TUPLE, 4000, b"abc");
    assert_eq!(seg.seq, state.client_seq.wrapping_add(4000));
}

proptest! {
    /// Translating a segment gives exactly the segment built with the
    /// translated numbers: every field right, every checksum valid.
    #[test]
    fn outbound_translation_equals_building_translated(
        seq in any::<u32>(), ack in any::<u32>(), window in any::<u16>(),
        tsval in any::<u32>(), tsecr in any::<u32>(),
        seq_delta in any::<u32>(), ts_delta in any::<u32>(),
        local in 0u8..15, view in 0u8..15,
        payload in vec(any::<u8>(), 0..64),
    ) {
        let tr = Translation { seq_delta, ts_delta, client_view_wscale: view, local_wscale: local, ports: Default::default() };
        let mut p = seg(seq, ack, window, Some((tsval, tsecr)), &payload);
        translate_outbound(&mut p, &tr, Checksum::Full).unwrap();
        let want = seg(
            seq.wrapping_add(seq_delta), ack, tr.window_to_client(window),
            Some((tsval.wrapping_add(ts_delta), tsecr)), &payload,
        );
        prop_assert!(checksums_verify(&p));
        prop_assert_eq!(without_tcp_checksum(&p), without_tcp_checksum(&want));
    }

    /// Inbound undoes outbound on the numbers both share (a segment's own
    /// seq going out is the peer's ack coming in).
    #[test]
    fn inbound_translation_equals_building_translated(
        seq in any::<u32>(), ack in any::<u32>(), window in any::<u16>(),
        tsval in any::<u32>(), tsecr in any::<u32>(),
        seq_delta in any::<u32>(), ts_delta in any::<u32>(),
        payload in vec(any::<u8>(), 0..64),
    ) {
        let tr = Translation { seq_delta, ts_delta, client_view_wscale: 0, local_wscale: 0, ports: Default::default() };
        let mut p = seg(seq, ack, window, Some((tsval, tsecr)), &payload);
        translate_inbound(&mut p, &tr, Checksum::Full).unwrap();
        let want = seg(
            seq, ack.wrapping_sub(seq_delta), window,
            Some((tsval, tsecr.wrapping_sub(ts_delta))), &payload,
        );
        prop_assert!(checksums_verify(&p));
        prop_assert_eq!(without_tcp_checksum(&p), without_tcp_checksum(&want));
    }

    /// A connection served on a backend port: the client's segments reach
    /// the holder's stack on the local port, the holder's reach the client
    /// from the client's port, with the numbers translated and every
    /// checksum valid; a segment on another port keeps its port.
    #[test]
    fn the_server_port_translates_both_ways(
        seq in any::<u32>(), ack in any::<u32>(), window in any::<u16>(),
        seq_delta in any::<u32>(), client in 1u16.., local in 1u16..,
        payload in vec(any::<u8>(), 0..64),
    ) {
        let ports = Ports { client, local };
        let tr = Translation { seq_delta, ts_delta: 0, client_view_wscale: 0, local_wscale: 0, ports };
        // In: client -> VIP:client becomes client -> VIP:local.
        let to = |port| Tuple { port, ..TUPLE };
        let mut p = seg_of(to(client), seq, ack, window, None, &payload);
        translate_inbound(&mut p, &tr, Checksum::Full).unwrap();
        let want = seg_of(to(local), seq, ack.wrapping_sub(seq_delta), window, None, &payload);
        prop_assert!(checksums_verify(&p));
        prop_assert_eq!(without_tcp_checksum(&p), without_tcp_checksum(&want));
        // Out: VIP:local -> client becomes VIP:client -> client.
        let from = |port| Tuple {
            client: TUPLE.vip,
            client_port: port,
            vip: TUPLE.client,
            port: TUPLE.client_port,
        };
        let mut p = seg_of(from(local), seq, ack, window, None, &payload);
        translate_outbound(&mut p, &tr, Checksum::Full).unwrap();
        let want = seg_of(from(client), seq.wrapping_add(seq_delta), ack, window, None, &payload);
        prop_assert!(checksums_verify(&p));
        prop_assert_eq!(without_tcp_checksum(&p), without_tcp_checksum(&want));
        // Another port (the local one, coming in) is left as it is.
        if client != local {
            let mut p = seg_of(to(local), seq, ack, window, None, &payload);
            translate_inbound(&mut p, &tr, Checksum::Full).unwrap();
            let want = seg_of(to(local), seq, ack.wrapping_sub(seq_delta), window, None, &payload);
            prop_assert_eq!(without_tcp_checksum(&p), without_tcp_checksum(&want));
        }
    }

    /// Whatever bytes arrive, rewriting neither panics nor changes a packet
    /// it refuses (the fuzz target `splice_translate` explores further).
    #[test]
    fn arbitrary_bytes_are_rewritten_or_left_alone(
        mut pkt in vec(any::<u8>(), 0..120),
        valid_head in any::<bool>(),
        seq_delta in any::<u32>(), ts_delta in any::<u32>(),
    ) {
        if valid_head && pkt.len() > 34 {
            // Often enough an IPv4/TCP head, to get past the first checks.
            pkt[0] = 0x45;
            pkt[9] = 6;
            pkt[32] = (pkt[32] & 0xf0).max(0x50);
        }
        let tr = Translation { seq_delta, ts_delta, client_view_wscale: 7, local_wscale: 3, ports: Default::default() };
        for inbound in [true, false] {
            let mut p = pkt.clone();
            let done = if inbound {
                translate_inbound(&mut p, &tr, Checksum::Full)
            } else {
                translate_outbound(&mut p, &tr, Checksum::Full)
            };
            if done.is_none() {
                prop_assert_eq!(&p, &pkt);
            }
        }
        let _ = parse_syn_ack(&pkt);
    }

    #[test]
    fn assembly_is_whole_exactly_when_every_chunk_came(len in 0usize..REPLAY_MAX, order in vec(any::<u16>(), 0..40)) {
        let data: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
        let mut a = Assembly::new(len).unwrap();
        let mut buf = vec![0u8; len];
        let chunks = len.div_ceil(REPLAY_CHUNK);
        let mut seen = vec![false; chunks];
        for k in order {
            if chunks == 0 { break; }
            let i = usize::from(k) % chunks;
            let off = i * REPLAY_CHUNK;
            let end = (off + REPLAY_CHUNK).min(len);
            a.add(&mut buf, off, &data[off..end]).unwrap();
            seen[i] = true;
        }
        prop_assert_eq!(a.complete(), seen.iter().all(|&s| s));
        if a.complete() { prop_assert_eq!(buf, data); }
    }
}

/// A SYN on the ports of a tracked connection: its own SYN again keeps
/// the entry, as does any SYN while the stack holds the connection live
/// (RFC 5961: the stack answers with a challenge ACK); only a SYN once the
/// connection is over opens a new one.
#[test]
fn a_syn_forgets_a_tracked_connection_only_once_it_is_over() {
    use crate::splice::syn_forgets_entry;
    assert!(!syn_forgets_entry(true, || panic!(
        "its own SYN needs no socket lookup"
    )));
    assert!(
        !syn_forgets_entry(false, || true),
        "forged SYN on a live connection"
    );
    assert!(
        syn_forgets_entry(false, || false),
        "new connection on reused ports"
    );
}

/// What the target does when it looks at a handed-over connection's stack:
/// nothing once every replayed byte is there or the socket is gone; after
/// `PLAY_AGAIN_MS` without them, the handshake's end (no full socket) and
/// the replayed bytes from the first one the stack lacks.
#[test]
fn a_dropped_handshake_or_replay_is_played_again() {
    use crate::splice::{delivery, Delivery, PLAY_AGAIN_MS};
    for client_seq in [1000u32, u32::MAX - 10] {
        let state = TcpState {
            client_seq,
            ..TcpState::default()
        };
        let at = |n: u32| Some(client_seq.wrapping_add(n));
        let late = PLAY_AGAIN_MS;
        assert_eq!(delivery(&state, 86, at(86), true, 0), Delivery::Delivered);
        assert_eq!(
            delivery(&state, 86, at(500), true, late),
            Delivery::Delivered
        );
        // No socket at all: over; an ACK played now would draw a reset.
        assert_eq!(delivery(&state, 86, None, false, late), Delivery::Delivered);
        // A request socket only: its handshake's ACK was dropped.
        assert_eq!(
            delivery(&state, 86, None, true, late - 1),
            Delivery::Waiting
        );
        assert_eq!(
            delivery(&state, 86, None, true, late),
            Delivery::PlayAgain {
                handshake: true,
                offset: 0
            }
        );
        assert_eq!(
            delivery(&state, 0, None, true, late),
            Delivery::PlayAgain {
                handshake: true,
                offset: 0
            }
        );
        // A full socket without all of them.
        for got in [0, 40, 85] {
            assert_eq!(
                delivery(&state, 86, at(got), true, late - 1),
                Delivery::Waiting
            );
            assert_eq!(
                delivery(&state, 86, at(got), true, late),
                Delivery::PlayAgain {
                    handshake: false,
                    offset: got as usize
                }
            );
        }
    }
}

/// A primary whose acknowledgment the backups hold back must not SACK
/// what lies beyond it: the client would not send it again.
#[test]
fn sack_beyond_a_held_acknowledgment_is_taken_out() {
    use crate::replica::strip_sack_above;
    let base = seg(7, 1000, 500, Some((1, 2)), b"");
    // A duplicate SACK of the client's retransmission, above the held ack.
    let mut p = with_sack(&base, &[(1000, 2448)]);
    let before = p.clone();
    assert_eq!(strip_sack_above(&mut p, 1000, Checksum::Full), Some(true));
    assert!(checksums_verify(&p));
    let (ihl, tlen) = tcp_header(&p).unwrap();
    let at = ihl + tlen - 12;
    assert_eq!(&p[at..ihl + tlen], &[1u8; 12][..], "the option is no-ops");
    assert_eq!(p.len(), before.len());
    assert_eq!(p[..ihl + 16], before[..ihl + 16], "header fields untouched");
    // Blocks at or below the acknowledgment: every replica has them.
    let mut p = with_sack(&base, &[(500, 900), (900, 1000)]);
    let before = p.clone();
    assert_eq!(strip_sack_above(&mut p, 1000, Checksum::Full), Some(false));
    assert_eq!(p, before);
    // One block beyond is enough to take the option out.
    let mut p = with_sack(&base, &[(500, 900), (1200, 1300)]);
    assert_eq!(strip_sack_above(&mut p, 1000, Checksum::Full), Some(true));
    assert!(checksums_verify(&p));
    // No option: nothing to do.
    let mut p = base.clone();
    assert_eq!(strip_sack_above(&mut p, 1000, Checksum::Full), Some(false));
    assert_eq!(p, base);
}

/// A primary whose acknowledgment the backups hold back echoes at least
/// the client's last TSval: its stack's older echo would tell the client
/// its retransmission was needless (Eifel detection), and it would undo
/// its loss recovery.
#[test]
fn a_held_acknowledgment_echoes_the_clients_last_tsval() {
    use crate::replica::echo_at_least;
    let tsecr_of = |p: &[u8]| {
        let (ihl, _) = tcp_header(p).unwrap();
        // nop, nop, kind, length, TSval, then TSecr.
        u32::from_be_bytes(p[ihl + 28..ihl + 32].try_into().unwrap())
    };
    let base = seg(7, 1000, 500, Some((1, 2)), b"");
    assert_eq!(tsecr_of(&base), 2);
    let mut p = base.clone();
    assert_eq!(echo_at_least(&mut p, 10, Checksum::Full), Some(true));
    assert_eq!(tsecr_of(&p), 10);
    assert!(checksums_verify(&p));
    let (ihl, _) = tcp_header(&p).unwrap();
    assert_eq!(
        (&p[..ihl + 16], &p[ihl + 18..p.len() - 4]),
        (&base[..ihl + 16], &base[ihl + 18..base.len() - 4]),
        "nothing else changed but the checksum"
    );
    // An echo already as new, or newer (across the wrap too), stays.
    for (echo, tsval) in [(10u32, 10u32), (10, 3), (5, u32::MAX - 5)] {
        let mut p = seg(7, 1000, 500, Some((1, echo)), b"");
        let before = p.clone();
        assert_eq!(echo_at_least(&mut p, tsval, Checksum::Full), Some(false));
        assert_eq!(p, before);
    }
    let mut p = seg(7, 1000, 500, Some((1, u32::MAX - 5)), b"");
    assert_eq!(echo_at_least(&mut p, 5, Checksum::Full), Some(true));
    assert_eq!(tsecr_of(&p), 5);
    // No timestamps: nothing to do.
    let base = seg(7, 1000, 500, None, b"");
    let mut p = base.clone();
    assert_eq!(echo_at_least(&mut p, 10, Checksum::Full), Some(false));
    assert_eq!(p, base);
}

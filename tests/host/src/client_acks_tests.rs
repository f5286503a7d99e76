use crate::client_acks::ClientAcks;
use crate::replica::{segment_of, FIN};
use crate::splice::{build_segment, ACK, PSH, RST, SEGMENT_HEADERS_MAX, SYN};
use crate::wire::Tuple;
use proptest::prelude::*;

fn tuple() -> Tuple {
    Tuple {
        client: [10, 0, 0, 4],
        client_port: 52370,
        vip: [10, 0, 0, 100],
        port: 83,
    }
}

const CLIENT_NEXT: u32 = 4_096_268_608;
const SERVER_NEXT: u32 = 1_968_881_539;

/// The client's ISN + 1, the cluster's ISN + 1, the SYN-ACK's TSval
/// (cluster space) and its TSecr (the client's SYN TSval).
fn acks() -> ClientAcks {
    ClientAcks::new(
        CLIENT_NEXT,
        SERVER_NEXT,
        Some((4_208_729_705, 3_513_310_544)),
    )
}

#[test]
fn no_handshake_ack_until_the_client_is_known_to_have_sent_it() {
    let mut a = acks();
    assert!(!a.handshake_done());
    assert!(a.handshake_ack(tuple()).is_none());
    // Its SYN again, a reset, a SYN-ACK's worth of flags, no ACK at all:
    // none completes the handshake.
    for (flags, ack) in [
        (SYN, None),
        (SYN | ACK, Some(SERVER_NEXT)),
        (RST, None),
        (RST | ACK, Some(SERVER_NEXT)),
        (0, None),
        (ACK, None),
    ] {
        a.saw(flags, CLIENT_NEXT, ack, 100, Some((1, 2)));
        assert!(!a.handshake_done(), "flags {flags:#x}");
    }
    assert!(a.handshake_ack(tuple()).is_none());
    assert!(a.covering(tuple(), SERVER_NEXT, SERVER_NEXT + 1).is_none());
}

#[test]
fn a_replica_that_only_heard_of_it_plays_the_handshake_ack_the_client_sent() {
    // Lost on the way to this node: another replica reports it.
    let mut a = acks();
    a.handshake_reported();
    assert!(a.handshake_done());
    let seg = a.handshake_ack(tuple()).unwrap();
    assert_eq!(seg.tuple, tuple());
    assert_eq!(
        (seg.seq, seg.ack, seg.flags),
        (CLIENT_NEXT, SERVER_NEXT, ACK)
    );
    // The client's SYN TSval, echoing the SYN-ACK's: what it sent.
    assert_eq!(seg.timestamps, Some((3_513_310_544, 4_208_729_705)));
    // Its window not known: the largest.
    assert_eq!(seg.window, u16::MAX);
    assert!(seg.payload.is_empty() && seg.syn_options.is_none());
}

#[test]
fn a_replica_that_saw_it_plays_the_handshake_ack_as_the_client_sent_it() {
    // Seen here but dropped by the stack (its accept queue was full).
    let mut a = acks();
    let ts = |v, e| Some((v, e));
    a.saw(
        ACK,
        CLIENT_NEXT,
        Some(SERVER_NEXT),
        1004,
        ts(3_513_310_552, 4_208_729_705),
    );
    let seg = a.handshake_ack(tuple()).unwrap();
    assert_eq!(seg.window, 1004);
    assert_eq!(seg.timestamps, ts(3_513_310_552, 4_208_729_705));
    // Later segments (data, FIN) keep window and timestamps current; the
    // handshake's numbers stay.
    let data_end = CLIENT_NEXT + 100;
    a.saw(
        ACK | PSH,
        data_end,
        Some(SERVER_NEXT + 10),
        1092,
        ts(3_513_310_600, 4_208_729_800),
    );
    a.saw(
        ACK | FIN,
        data_end + 1,
        Some(SERVER_NEXT + 20),
        1100,
        ts(3_513_310_700, 4_208_729_900),
    );
    let seg = a.handshake_ack(tuple()).unwrap();
    assert_eq!(seg.window, 1100);
    assert_eq!(seg.timestamps, ts(3_513_310_700, 4_208_729_900));
    assert_eq!((seg.seq, seg.ack), (CLIENT_NEXT, SERVER_NEXT));
}

#[test]
fn a_fin_the_client_acknowledged_before_the_backup_sent_it_is_acknowledged() {
    let mut a = acks();
    // The client sent 1000 bytes and its FIN, and acknowledged the 87
    // bytes of the answer and the primary's FIN.
    let fin_end = SERVER_NEXT + 88;
    let client_fin_end = CLIENT_NEXT + 1001;
    a.saw(
        ACK | FIN,
        client_fin_end,
        Some(fin_end),
        900,
        Some((50, 60)),
    );
    // A late segment, reordered: the highest acknowledgment and the
    // furthest end stay.
    a.saw(
        ACK,
        CLIENT_NEXT + 500,
        Some(SERVER_NEXT + 10),
        901,
        Some((51, 61)),
    );
    // The backup's stack sends the bytes, then its FIN: each is covered,
    // by an ACK past the client's FIN.
    let seg = a.covering(tuple(), SERVER_NEXT, SERVER_NEXT + 87).unwrap();
    assert_eq!(
        (seg.seq, seg.ack, seg.flags),
        (client_fin_end, SERVER_NEXT + 87, ACK)
    );
    let seg = a.covering(tuple(), SERVER_NEXT + 87, fin_end).unwrap();
    assert_eq!(seg.ack, fin_end);
    assert_eq!(seg.window, 901);
    assert_eq!(seg.timestamps, Some((51, 61)));
    // A pure ACK carries nothing to acknowledge.
    assert!(a.covering(tuple(), fin_end, fin_end).is_none());
    // Beyond what the client acknowledged: its own ACK will come.
    assert!(a.covering(tuple(), fin_end, fin_end + 1).is_none());
    assert!(a.covering(tuple(), SERVER_NEXT, fin_end + 100).is_none());
}

#[test]
fn a_fin_of_the_client_is_noted_only_when_seen() {
    let mut a = acks();
    a.saw(ACK, CLIENT_NEXT + 10, Some(SERVER_NEXT), 100, None);
    assert!(!a.fin_seen());
    // A FIN without an acknowledgment is no segment a client sends.
    a.saw(FIN, CLIENT_NEXT + 11, None, 100, None);
    assert!(!a.fin_seen());
    a.saw(ACK | FIN, CLIENT_NEXT + 11, Some(SERVER_NEXT), 100, None);
    assert!(a.fin_seen());
}

#[test]
fn a_connection_without_timestamps_plays_none() {
    let mut a = ClientAcks::new(1, 2, None);
    a.saw(ACK, 1, Some(2), 512, Some((5, 6)));
    let seg = a.handshake_ack(tuple()).unwrap();
    assert_eq!(seg.timestamps, None);
    assert_eq!(seg.window, 512);
}

proptest! {
    /// The played acknowledgment, built into a packet, reads back as the
    /// segment the client would have sent: a pure ACK with its numbers.
    #[test]
    fn the_played_acknowledgment_is_the_clients(
        client_next in any::<u32>(),
        server_next in any::<u32>(),
        window in any::<u16>(),
        ts in proptest::option::of((any::<u32>(), any::<u32>())),
        tsval in any::<u32>(),
        tsecr in any::<u32>(),
    ) {
        let mut a = ClientAcks::new(client_next, server_next, ts);
        a.saw(ACK, client_next, Some(server_next), window, Some((tsval, tsecr)));
        let seg = a.handshake_ack(tuple()).unwrap();
        let mut pkt = [0u8; SEGMENT_HEADERS_MAX];
        let n = build_segment(&mut pkt, &seg).unwrap();
        prop_assert_eq!(n, if ts.is_some() { 52 } else { 40 });
        let back = segment_of(&pkt[..n], n).unwrap();
        prop_assert_eq!(back.seq, client_next);
        prop_assert_eq!(back.end, client_next);
        prop_assert_eq!(back.ack, Some(server_next));
        prop_assert_eq!(back.flags, ACK);
        prop_assert_eq!(back.window, window);
        prop_assert_eq!(back.timestamps, ts.map(|_| (tsval, tsecr)));
    }

    /// A segment is covered exactly when it carries something and the
    /// client's highest acknowledgment reaches its end, across wrap-around;
    /// the played ACK acknowledges its end, no more.
    #[test]
    fn covered_exactly_up_to_the_clients_highest_ack(
        base in any::<u32>(),
        acked in 0u32..100_000,
        seq_off in 0u32..100_000,
        len in 0u32..70_000,
    ) {
        let mut a = ClientAcks::new(7, base, None);
        a.saw(ACK, 7, Some(base.wrapping_add(acked)), 100, None);
        let seq = base.wrapping_add(seq_off);
        let end = seq.wrapping_add(len);
        let got = a.covering(tuple(), seq, end);
        prop_assert_eq!(got.is_some(), len > 0 && seq_off + len <= acked);
        if let Some(seg) = got {
            prop_assert_eq!(seg.ack, end);
        }
    }
}

/// A forged ACK from the client's address, with an acknowledgment before
/// the SYN-ACK's end (every replica's stack in SYN-RECV rejects it), must
/// not make a replica play the handshake to its stack.
#[test]
fn an_ack_before_the_syn_ack_completes_no_handshake() {
    let mut a = acks();
    for ack in [
        SERVER_NEXT - 1,
        SERVER_NEXT - 100_000,
        SERVER_NEXT.wrapping_sub(1 << 30),
    ] {
        a.saw(ACK, CLIENT_NEXT, Some(ack), 100, None);
        assert!(!a.handshake_done(), "ack {ack}");
    }
    assert!(a.handshake_ack(tuple()).is_none());
    a.saw(ACK, CLIENT_NEXT, Some(SERVER_NEXT), 100, None);
    assert!(a.handshake_done());
    // Once done, an old acknowledgment (reordered) is still taken.
    a.saw(
        ACK | PSH,
        CLIENT_NEXT + 10,
        Some(SERVER_NEXT - 1),
        100,
        None,
    );
    assert!(a.handshake_done());
}

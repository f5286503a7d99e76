use crate::handshake::ClientHandshake;
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

/// The client's ISN + 1, the cluster's ISN + 1, the SYN-ACK's TSval
/// (cluster space) and its TSecr (the client's SYN TSval).
fn handshake() -> ClientHandshake {
    ClientHandshake::new(
        4_096_268_608,
        1_968_881_539,
        Some((4_208_729_705, 3_513_310_544)),
    )
}

#[test]
fn nothing_to_play_until_the_client_is_known_to_have_acknowledged() {
    let mut h = handshake();
    assert!(!h.acked());
    assert!(h.ack_to_play(tuple()).is_none());
    // Its SYN again, a reset, a SYN-ACK's worth of flags: none completes
    // the handshake.
    for flags in [SYN, SYN | ACK, RST, RST | ACK, 0] {
        h.saw(flags, 100, Some((1, 2)));
        assert!(!h.acked(), "flags {flags:#x}");
    }
    assert!(h.ack_to_play(tuple()).is_none());
}

#[test]
fn a_replica_that_only_heard_of_it_plays_the_acknowledgment_the_client_sent() {
    // Lost on the way to this node: another replica reports it.
    let mut h = handshake();
    h.reported();
    assert!(h.acked());
    let seg = h.ack_to_play(tuple()).unwrap();
    assert_eq!(seg.tuple, tuple());
    assert_eq!(
        (seg.seq, seg.ack, seg.flags),
        (4_096_268_608, 1_968_881_539, ACK)
    );
    // The client's SYN TSval, echoing the SYN-ACK's: what it sent.
    assert_eq!(seg.timestamps, Some((3_513_310_544, 4_208_729_705)));
    // Its window not known: the largest.
    assert_eq!(seg.window, u16::MAX);
    assert!(seg.payload.is_empty() && seg.syn_options.is_none());
}

#[test]
fn a_replica_that_saw_it_plays_it_as_the_client_sent_it() {
    // Seen here but dropped by the stack (its accept queue was full).
    let mut h = handshake();
    h.saw(ACK, 1004, Some((3_513_310_552, 4_208_729_705)));
    let seg = h.ack_to_play(tuple()).unwrap();
    assert_eq!(seg.window, 1004);
    assert_eq!(seg.timestamps, Some((3_513_310_552, 4_208_729_705)));
    // Later segments (data, FIN) keep it current.
    h.saw(ACK | PSH, 1092, Some((3_513_310_600, 4_208_729_800)));
    h.saw(ACK | FIN, 1100, Some((3_513_310_700, 4_208_729_900)));
    let seg = h.ack_to_play(tuple()).unwrap();
    assert_eq!(seg.window, 1100);
    assert_eq!(seg.timestamps, Some((3_513_310_700, 4_208_729_900)));
    assert_eq!((seg.seq, seg.ack), (4_096_268_608, 1_968_881_539));
}

#[test]
fn a_connection_without_timestamps_plays_none() {
    let mut h = ClientHandshake::new(1, 2, None);
    h.saw(ACK, 512, Some((5, 6)));
    let seg = h.ack_to_play(tuple()).unwrap();
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
        let mut h = ClientHandshake::new(client_next, server_next, ts);
        h.saw(ACK, window, Some((tsval, tsecr)));
        let seg = h.ack_to_play(tuple()).unwrap();
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
}

//! The hooks' decisions for a replicated connection (`replicate/entry.rs`):
//! what leaves, what is held back, what a forged acknowledgment changes.

use crate::client_acks::ClientAcks;
use crate::entry::{Entry, Inbound};
use crate::replica::{Ends, Replication, Role, Segment, Wrapped, FIN};
use crate::splice::{Ports, Translation, ACK, RST, SYN};
use crate::wire::Tuple;
use proptest::prelude::*;

const TUPLE: Tuple = Tuple {
    client: [10, 0, 0, 4],
    client_port: 40000,
    vip: [10, 0, 0, 100],
    port: 80,
};
/// Cluster space: the client's next sequence number after its SYN, the
/// server's after the SYN-ACK.
const CLIENT_NEXT: u32 = 1_001;
const SERVER_NEXT: u32 = 50_001;
/// This node's stack's sequence numbers are the cluster's minus this.
const SEQ_DELTA: u32 = 7_000;
const WINDOW: u16 = 1_000;

/// Node `self_id`'s entry for a connection replicated on nodes 1 then 2
/// (1 primary), handshake done.
fn entry(self_id: u32) -> Entry {
    let rep = Replication::new(&[1, 2], self_id, CLIENT_NEXT, SERVER_NEXT, WINDOW, 0).unwrap();
    let tr = Translation {
        seq_delta: SEQ_DELTA,
        ts_delta: 0,
        client_view_wscale: 0,
        local_wscale: 0,
        ports: Ports {
            client: 80,
            local: 80,
        },
    };
    let mut e = Entry::new(
        TUPLE,
        rep,
        tr,
        ClientAcks::new(CLIENT_NEXT, SERVER_NEXT, None),
        0,
        0,
    );
    // The client's acknowledgment of the SYN-ACK.
    assert!(matches!(
        e.inbound(&client(CLIENT_NEXT, 0, SERVER_NEXT, ACK), 1),
        Inbound::Take {
            handshake_done: true,
            ..
        }
    ));
    e
}

/// A segment at `seq` with `len` bytes acknowledging `ack`.
fn segment(seq: u32, len: u32, ack: u32, flags: u8) -> Segment {
    Segment {
        seq,
        end: seq
            .wrapping_add(len)
            .wrapping_add(u32::from(flags & FIN != 0)),
        ack: Some(ack),
        flags,
        window: WINDOW,
        timestamps: None,
    }
}

/// A client's segment (cluster space).
fn client(seq: u32, len: u32, ack: u32, flags: u8) -> Segment {
    segment(seq, len, ack, flags)
}

/// A segment of this node's stack: `len` bytes at cluster offset `at`
/// (its own space is the cluster's minus `SEQ_DELTA`), acknowledging
/// `ack` (client space, untranslated).
fn stack(at: u32, len: u32, ack: u32, flags: u8) -> Segment {
    segment(at.wrapping_sub(SEQ_DELTA), len, ack, flags)
}

/// The other replica reports `received`/`sent`.
fn report(e: &mut Entry, from: u32, received: u32, sent: u32) {
    let word = Ends {
        received,
        sent,
        window_end: received.wrapping_add(u32::from(WINDOW)),
    };
    e.rep.heard(from, &word, 2);
}

#[test]
fn a_backup_never_emits_and_digests_at_the_cluster_offset() {
    let mut e = entry(2);
    assert_eq!(e.rep.role(), Role::Backup);
    let mut digested_at = None;
    let out = e.outbound(
        &stack(SERVER_NEXT, 100, CLIENT_NEXT, ACK),
        5,
        true,
        |_, at| {
            digested_at = Some(at);
            0
        },
    );
    assert!(out.emit.is_none(), "a backup's segment is suppressed");
    assert!(out.moved, "its progress moved: a report is due");
    assert_eq!(digested_at, Some(SERVER_NEXT), "digested in cluster space");
    assert_eq!(e.rep.me().sent, SERVER_NEXT + 100);
}

#[test]
fn the_primary_emits_with_its_ack_held_to_the_backups() {
    let mut e = entry(1);
    assert_eq!(e.rep.role(), Role::Primary);
    // The backup has received 10 bytes of the client's, the primary 50.
    report(&mut e, 2, CLIENT_NEXT + 10, SERVER_NEXT);
    let out = e.outbound(
        &stack(SERVER_NEXT, 0, CLIENT_NEXT + 50, ACK),
        5,
        true,
        |_, _| 0,
    );
    let clamp = out.emit.expect("the primary emits").expect("clamped");
    assert_eq!(
        clamp.ack,
        CLIENT_NEXT + 10,
        "no further than the backup received"
    );
    assert!(clamp.ack_held);
    assert!(e.held.is_some_and(|h| h.ack_held));
    // Once the backup has it all, nothing is held.
    report(&mut e, 2, CLIENT_NEXT + 50, SERVER_NEXT);
    let out = e.outbound(
        &stack(SERVER_NEXT, 0, CLIENT_NEXT + 50, ACK),
        6,
        true,
        |_, _| 0,
    );
    assert_eq!(out.emit, Some(None));
    assert!(e.held.is_none());
}

#[test]
fn a_primary_without_a_fresh_majority_falls_silent_until_vouched_for() {
    let mut e = entry(1);
    let seg = stack(SERVER_NEXT, 10, CLIENT_NEXT, ACK);
    let out = e.outbound(&seg, 5, false, |_, _| 0);
    assert!(out.emit.is_none());
    assert!(e.rep.in_doubt());
    // A fresh majority again is not enough: the backup must vouch.
    assert!(e.outbound(&seg, 6, true, |_, _| 0).emit.is_none());
}

#[test]
fn the_fin_is_recorded_and_a_late_reset_after_both_fins_is_known() {
    let mut e = entry(1);
    e.outbound(
        &stack(SERVER_NEXT, 0, CLIENT_NEXT, ACK | FIN),
        5,
        true,
        |_, _| 0,
    );
    assert_eq!(e.fin_end, Some(SERVER_NEXT + 1));
    assert!(!e.closed_both_ways(), "the client has not closed yet");
    e.inbound(&client(CLIENT_NEXT, 0, SERVER_NEXT + 1, ACK | FIN), 6);
    assert!(e.closed_both_ways());
    // A reset carries no progress.
    let out = e.outbound(&stack(SERVER_NEXT + 1, 0, 0, RST), 7, true, |_, _| 0);
    assert!(!out.moved);
}

/// A primary's FIN that acknowledges the client's FIN leaves without the
/// FIN while the backups hold that acknowledgment back: a client told of
/// it would acknowledge it on its FIN sent again, and close the stacks
/// (LAST_ACK) of every replica that could still tell it its FIN arrived.
/// Once the clamp lifts, the FIN leaves as it is.
#[test]
fn a_fin_leaves_only_with_the_acknowledgment_of_the_clients_fin() {
    let mut e = entry(1);
    e.inbound(&client(CLIENT_NEXT, 0, SERVER_NEXT, ACK | FIN), 5);
    // The backup has not reported the client's FIN yet.
    report(&mut e, 2, CLIENT_NEXT, SERVER_NEXT);
    let fin = stack(SERVER_NEXT, 0, CLIENT_NEXT + 1, ACK | FIN);
    let clamp = e
        .outbound(&fin, 6, true, |_, _| 0)
        .emit
        .expect("the primary emits")
        .expect("clamped");
    assert_eq!(clamp.ack, CLIENT_NEXT);
    assert!(
        clamp.withhold_fin,
        "no FIN before the client's is acknowledged"
    );
    assert_eq!(e.fin_end, Some(SERVER_NEXT + 1), "the stack did send it");
    // The backup has the FIN: the stack's FIN sent again leaves whole.
    report(&mut e, 2, CLIENT_NEXT + 1, SERVER_NEXT + 1);
    assert_eq!(e.outbound(&fin, 7, true, |_, _| 0).emit, Some(None));
    // A FIN before the client's leaves even with the acknowledgment held:
    // the client's FIN, to come, is not acknowledged by it.
    let mut e = entry(1);
    e.inbound(&client(CLIENT_NEXT, 10, SERVER_NEXT, ACK), 5);
    report(&mut e, 2, CLIENT_NEXT, SERVER_NEXT);
    let clamp = e
        .outbound(
            &stack(SERVER_NEXT, 0, CLIENT_NEXT + 10, ACK | FIN),
            6,
            true,
            |_, _| 0,
        )
        .emit
        .expect("the primary emits")
        .expect("clamped");
    assert!(clamp.ack_held);
    assert!(!clamp.withhold_fin);
}

/// The client's acknowledgment of a primary's last bytes and FIN can
/// reach a backup before the primary's report that it sent them: the
/// backup drops it (it acknowledges what no replica sent, as far as it
/// knows), and the client, done, sends no other. The primary's report
/// that the client acknowledged all it sent gives the backup's stack the
/// acknowledgment instead, which closes it.
#[test]
fn a_backup_is_given_the_acknowledgment_it_dropped_on_the_primarys_word() {
    let mut b = entry(2);
    // The SYN-ACK acknowledged is not this path's to give.
    let mut fresh = ClientAcks::new(CLIENT_NEXT, SERVER_NEXT, None);
    assert!(fresh
        .acked_reported(TUPLE, SERVER_NEXT, SERVER_NEXT)
        .is_none());
    // Nor when the primary is past it and this node's stack is not.
    let mut fresh = ClientAcks::new(CLIENT_NEXT, SERVER_NEXT, None);
    assert!(fresh
        .acked_reported(TUPLE, SERVER_NEXT + 1, SERVER_NEXT)
        .is_none());
    let end = SERVER_NEXT + 87;
    assert_eq!(
        b.inbound(&client(CLIENT_NEXT, 0, end, ACK), 5),
        Inbound::AckUnsent
    );
    // Its stack sends its 86 bytes and FIN later: nothing known to cover.
    let out = b.outbound(
        &stack(SERVER_NEXT, 86, CLIENT_NEXT, ACK | FIN),
        6,
        true,
        |_, _| 0,
    );
    assert!(out.catch_up.is_none());
    assert!(!b.all_acked());
    // The primary's word.
    let ack = b
        .acks
        .acked_reported(TUPLE, end, b.rep.me().sent)
        .expect("an acknowledgment to play");
    assert_eq!(ack.ack, end);
    assert_eq!(ack.seq, CLIENT_NEXT, "at the client's next byte");
    assert!(b.all_acked());
    // Said again, it plays nothing more.
    assert!(b.acks.acked_reported(TUPLE, end, b.rep.me().sent).is_none());
    // A stack behind the primary is given no more than it sent; what it
    // sends later is covered as it goes.
    let mut b = entry(2);
    b.outbound(&stack(SERVER_NEXT, 40, CLIENT_NEXT, ACK), 6, true, |_, _| 0);
    let ack = b
        .acks
        .acked_reported(TUPLE, end, b.rep.me().sent)
        .expect("an acknowledgment to play");
    assert_eq!(ack.ack, SERVER_NEXT + 40);
    let out = b.outbound(
        &stack(SERVER_NEXT + 40, 46, CLIENT_NEXT, ACK | FIN),
        7,
        true,
        |_, _| 0,
    );
    assert_eq!(out.catch_up.map(|a| a.ack), Some(end));
}

/// The client acknowledging a primary's FIN makes a report due at once:
/// the backups learn from it that the client has everything.
#[test]
fn a_primary_reports_at_once_that_the_client_acknowledged_its_fin() {
    let mut e = entry(1);
    report(&mut e, 2, CLIENT_NEXT, SERVER_NEXT + 11);
    e.outbound(
        &stack(SERVER_NEXT, 10, CLIENT_NEXT, ACK | FIN),
        5,
        true,
        |_, _| 0,
    );
    e.dirty = false;
    e.inbound(&client(CLIENT_NEXT, 0, SERVER_NEXT + 10, ACK), 6);
    assert!(
        !e.dirty,
        "data acknowledged, not the FIN: nothing new to say"
    );
    assert!(!e.all_acked());
    e.inbound(&client(CLIENT_NEXT, 0, SERVER_NEXT + 11, ACK), 7);
    assert!(e.all_acked());
    assert!(e.dirty, "a report is due");
}

/// A primary whose stack sends bytes the client has acknowledged (a
/// replica brought in late, its output replayed, that took over before
/// its stack caught up) keeps them and gives its stack the acknowledgment;
/// new bytes, and a FIN, leave.
#[test]
fn a_primary_behind_the_client_keeps_old_bytes_to_itself() {
    let mut e = entry(1);
    report(&mut e, 2, CLIENT_NEXT, SERVER_NEXT + 500);
    // The client has 500 bytes (sent by a primary before this one).
    e.acks
        .saw(ACK, CLIENT_NEXT, Some(SERVER_NEXT + 500), WINDOW, None);
    let out = e.outbound(
        &stack(SERVER_NEXT, 100, CLIENT_NEXT, ACK),
        5,
        true,
        |_, _| 0,
    );
    assert!(out.emit.is_none(), "old bytes stay here");
    assert_eq!(out.catch_up.map(|a| a.ack), Some(SERVER_NEXT + 100));
    // Bytes past what the client has leave.
    let out = e.outbound(
        &stack(SERVER_NEXT + 400, 200, CLIENT_NEXT, ACK),
        6,
        true,
        |_, _| 0,
    );
    assert!(out.emit.is_some());
    assert!(out.catch_up.is_none());
    // A FIN the client acknowledged leaves all the same.
    let mut e = entry(1);
    e.acks
        .saw(ACK, CLIENT_NEXT, Some(SERVER_NEXT + 1), WINDOW, None);
    let out = e.outbound(
        &stack(SERVER_NEXT, 0, CLIENT_NEXT, ACK | FIN),
        5,
        true,
        |_, _| 0,
    );
    assert!(out.emit.is_some());
    assert!(out.catch_up.is_none());
}

#[test]
fn a_forged_ack_changes_nothing_on_a_backup() {
    let mut e = entry(2);
    // Nobody sent beyond SERVER_NEXT: an acknowledgment of more is forged.
    e.dirty = false;
    let forged = client(CLIENT_NEXT, 100, SERVER_NEXT + 5_000, ACK);
    assert_eq!(e.inbound(&forged, 5), Inbound::AckUnsent);
    assert!(!e.dirty, "its data is not progress");
    assert_eq!(e.last_ms, Wrapped::of(1), "not even the idle clock moved");
    // The primary sent 100 bytes this backup's stack has not: the
    // client's acknowledgment of them reaches the stack clamped.
    report(&mut e, 1, CLIENT_NEXT, SERVER_NEXT + 100);
    let ack = client(CLIENT_NEXT, 0, SERVER_NEXT + 100, ACK);
    assert_eq!(
        e.inbound(&ack, 6),
        Inbound::Take {
            held: Some(SERVER_NEXT),
            moved: false,
            handshake_done: true
        }
    );
}

#[test]
fn a_fenced_node_takes_nothing() {
    let mut e = entry(2);
    e.rep.fence();
    assert_eq!(
        e.inbound(&client(CLIENT_NEXT, 10, SERVER_NEXT, ACK), 5),
        Inbound::Fenced
    );
    assert!(e
        .outbound(&stack(SERVER_NEXT, 10, CLIENT_NEXT, ACK), 5, true, |_, _| 0)
        .emit
        .is_none());
}

#[test]
fn a_backup_whose_stack_repeats_what_the_client_acknowledged_is_caught_up() {
    let mut e = entry(2);
    // The primary's FIN, acknowledged by the client.
    report(&mut e, 1, CLIENT_NEXT, SERVER_NEXT + 1);
    e.inbound(&client(CLIENT_NEXT, 0, SERVER_NEXT + 1, ACK), 5);
    // This backup's stack sends its FIN now: the client will not
    // acknowledge it again, so the hook plays the acknowledgment.
    let out = e.outbound(
        &stack(SERVER_NEXT, 0, CLIENT_NEXT, ACK | FIN),
        6,
        true,
        |_, _| 0,
    );
    let ack = out.catch_up.expect("the client's acknowledgment is played");
    assert_eq!(ack.ack, SERVER_NEXT + 1);
    assert_eq!(ack.flags, ACK);
}

#[test]
fn what_the_stack_acknowledges_is_what_it_received_even_once_it_is_gone() {
    // A backup's stack takes the client's data and FIN, answers with its
    // own FIN (held back) and is done before the replica work reads its
    // socket: its segments alone tell the primary it has the FIN.
    let mut e = entry(2);
    e.inbound(&client(CLIENT_NEXT, 20, SERVER_NEXT, ACK | FIN), 5);
    assert_eq!(
        e.rep.me().received,
        CLIENT_NEXT,
        "the hook counts nothing it passes"
    );
    e.dirty = false;
    let out = e.outbound(
        &stack(SERVER_NEXT, 0, CLIENT_NEXT + 21, ACK | FIN),
        6,
        true,
        |_, _| 0,
    );
    assert!(out.moved && e.dirty, "a report is due");
    assert_eq!(
        e.rep.me().received,
        CLIENT_NEXT + 21,
        "the client's bytes and FIN"
    );
    // An older acknowledgment (a retransmission) moves nothing back, and a
    // reset's acknowledgment field says nothing.
    e.outbound(
        &stack(SERVER_NEXT, 0, CLIENT_NEXT + 5, ACK),
        7,
        true,
        |_, _| 0,
    );
    let out = e.outbound(
        &stack(SERVER_NEXT + 1, 0, CLIENT_NEXT + 900, ACK | RST),
        8,
        true,
        |_, _| 0,
    );
    assert!(!out.moved);
    assert_eq!(e.rep.me().received, CLIENT_NEXT + 21);
}

proptest! {
    /// Whatever the stack sends, only a primary with a fresh majority and
    /// not in doubt lets it leave, and the digest sees every segment once.
    #[test]
    fn only_a_fresh_primary_emits(
        primary in any::<bool>(),
        steps in prop::collection::vec((0u32..2000, 0u32..1500, any::<bool>(), 0u8..4), 1..40),
    ) {
        let mut e = entry(if primary { 1 } else { 2 });
        let mut doubt = false;
        for (i, (at, len, fresh, kind)) in steps.into_iter().enumerate() {
            let flags = match kind {
                0 => ACK,
                1 => ACK | FIN,
                2 => ACK | SYN,
                _ => ACK | RST,
            };
            let mut calls = 0;
            let out = e.outbound(
                &stack(SERVER_NEXT.wrapping_add(at), len, CLIENT_NEXT, flags),
                10 + i as u64,
                fresh,
                |_, _| {
                    calls += 1;
                    0
                },
            );
            prop_assert_eq!(calls, 1);
            doubt |= primary && !fresh;
            prop_assert_eq!(out.emit.is_some(), primary && fresh && !doubt);
            // The client acknowledged none of it: nothing is old news.
            prop_assert!(out.catch_up.is_none());
        }
    }
}

/// A held acknowledgment carries the client's last TSval to echo
/// (`replica::echo_at_least`); without timestamps, none.
#[test]
fn a_held_acknowledgment_echoes_the_clients_last_segment() {
    let mut e = entry(1);
    // The SYN-ACK's TSval 900, echoing the client's SYN's 100.
    e.acks = ClientAcks::new(CLIENT_NEXT, SERVER_NEXT, Some((900, 100)));
    let seg = Segment {
        timestamps: Some((5_000, 900)),
        ..client(CLIENT_NEXT, 50, SERVER_NEXT, ACK)
    };
    assert!(matches!(e.inbound(&seg, 1), Inbound::Take { .. }));
    report(&mut e, 2, CLIENT_NEXT + 10, SERVER_NEXT);
    let out = e.outbound(
        &stack(SERVER_NEXT, 0, CLIENT_NEXT + 50, ACK),
        5,
        true,
        |_, _| 0,
    );
    let clamp = out.emit.expect("the primary emits").expect("clamped");
    assert!(clamp.ack_held);
    assert_eq!(clamp.echo, Some(5_000));
    // Without timestamps nothing to echo.
    let mut e = entry(1);
    assert!(matches!(
        e.inbound(&client(CLIENT_NEXT, 50, SERVER_NEXT, ACK), 1),
        Inbound::Take { .. }
    ));
    report(&mut e, 2, CLIENT_NEXT + 10, SERVER_NEXT);
    let out = e.outbound(
        &stack(SERVER_NEXT, 0, CLIENT_NEXT + 50, ACK),
        5,
        true,
        |_, _| 0,
    );
    assert_eq!(out.emit.expect("emits").expect("clamped").echo, None);
}

use crate::config::{Ipv4, Peer};
use crate::membership::{Membership, Refusal};
use crate::policy::NodePolicy;
use crate::replay::Rejection;
use proptest::prelude::*;

const DEAD_MS: u32 = 200;

fn peer(id: u32) -> Peer {
    Peer {
        id,
        addr: Ipv4([10, 0, 0, id as u8]),
    }
}

fn membership(ids: &[u32]) -> Membership {
    let mut m = Membership::new();
    let peers: Vec<Peer> = ids.iter().map(|&id| peer(id)).collect();
    m.set_peers(&peers);
    m
}

fn live(m: &Membership) -> Vec<u32> {
    let mut v: Vec<u32> = m.live_ids().collect();
    v.sort();
    v
}

/// Runs `update` and returns the (id, live) changes it reported.
fn update(m: &mut Membership, now: u64) -> Vec<(u32, bool)> {
    let mut changes = Vec::new();
    let any = m.update(now, DEAD_MS, |p| changes.push((p.id, p.live)));
    assert_eq!(any, !changes.is_empty());
    changes
}

#[test]
fn peers_start_dead_and_come_up_when_heard() {
    let mut m = membership(&[2, 3]);
    assert_eq!(update(&mut m, 0), []);
    assert!(live(&m).is_empty());
    m.heard(
        2,
        peer(2).addr,
        100,
        1,
        0,
        true,
        &[1],
        &NodePolicy::UNREPORTED,
        None,
        1,
        10,
    )
    .unwrap();
    assert!(live(&m).is_empty(), "liveness changes only in update");
    assert_eq!(update(&mut m, 20), [(2, true)]);
    assert_eq!(live(&m), [2]);
    assert_eq!(update(&mut m, 30), [], "a change is reported once");
}

#[test]
fn silence_of_the_timeout_kills_and_a_heartbeat_revives() {
    let mut m = membership(&[2]);
    m.heard(
        2,
        peer(2).addr,
        1,
        1,
        0,
        true,
        &[1],
        &NodePolicy::UNREPORTED,
        None,
        1,
        1000,
    )
    .unwrap();
    update(&mut m, 1000);
    assert_eq!(update(&mut m, 1000 + u64::from(DEAD_MS) - 1), []);
    assert_eq!(update(&mut m, 1000 + u64::from(DEAD_MS)), [(2, false)]);
    m.heard(
        2,
        peer(2).addr,
        2,
        1,
        0,
        true,
        &[1],
        &NodePolicy::UNREPORTED,
        None,
        1,
        5000,
    )
    .unwrap();
    assert_eq!(update(&mut m, 5000), [(2, true)]);
}

#[test]
fn refuses_strangers_wrong_addresses_and_replays() {
    let mut m = membership(&[2]);
    assert_eq!(
        m.heard(
            9,
            peer(2).addr,
            1,
            1,
            0,
            true,
            &[1],
            &NodePolicy::UNREPORTED,
            None,
            1,
            0
        ),
        Err(Refusal::UnknownSender)
    );
    assert_eq!(
        m.heard(
            2,
            Ipv4([10, 0, 0, 9]),
            1,
            1,
            0,
            true,
            &[1],
            &NodePolicy::UNREPORTED,
            None,
            1,
            0
        ),
        Err(Refusal::WrongAddress)
    );
    m.heard(
        2,
        peer(2).addr,
        5000,
        1,
        0,
        true,
        &[1],
        &NodePolicy::UNREPORTED,
        None,
        1,
        0,
    )
    .unwrap();
    assert_eq!(
        m.heard(
            2,
            peer(2).addr,
            5000,
            1,
            0,
            true,
            &[1],
            &NodePolicy::UNREPORTED,
            None,
            1,
            1
        ),
        Err(Refusal::Replay(Rejection::Duplicate))
    );
    assert_eq!(
        m.heard(
            2,
            peer(2).addr,
            1,
            1,
            0,
            true,
            &[1],
            &NodePolicy::UNREPORTED,
            None,
            1,
            1
        ),
        Err(Refusal::Replay(Rejection::TooOld))
    );
    // None of the refused ones counted as heard: the peer dies one timeout
    // after the accepted heartbeat at 0, not after the refused ones at 1.
    assert_eq!(update(&mut m, u64::from(DEAD_MS) - 1), [(2, true)]);
    assert_eq!(update(&mut m, u64::from(DEAD_MS)), [(2, false)]);
}

/// A dead peer's replayed heartbeats do not bring it back.
#[test]
fn replayed_heartbeats_keep_a_dead_peer_dead() {
    let mut m = membership(&[2]);
    for c in 0..10 {
        m.heard(
            2,
            peer(2).addr,
            c,
            1,
            0,
            true,
            &[1],
            &NodePolicy::UNREPORTED,
            None,
            1,
            c * 50,
        )
        .unwrap();
    }
    update(&mut m, 450);
    assert_eq!(update(&mut m, 450 + u64::from(DEAD_MS) + 50), [(2, false)]);
    for c in 0..10 {
        assert!(m
            .heard(
                2,
                peer(2).addr,
                c,
                1,
                0,
                true,
                &[1],
                &NodePolicy::UNREPORTED,
                None,
                1,
                2000
            )
            .is_err());
    }
    assert_eq!(update(&mut m, 2000), []);
    assert!(live(&m).is_empty());
}

#[test]
fn reconfiguring_keeps_the_state_of_unchanged_peers() {
    let mut m = membership(&[2, 3]);
    m.heard(
        2,
        peer(2).addr,
        7,
        1,
        0,
        true,
        &[1],
        &NodePolicy::UNREPORTED,
        None,
        1,
        0,
    )
    .unwrap();
    m.heard(
        3,
        peer(3).addr,
        7,
        1,
        0,
        true,
        &[1],
        &NodePolicy::UNREPORTED,
        None,
        1,
        0,
    )
    .unwrap();
    update(&mut m, 0);
    // Peer 3 re-addressed, peer 4 added, peer 2 unchanged.
    m.set_peers(&[
        peer(2),
        Peer {
            id: 3,
            addr: Ipv4([10, 0, 1, 3]),
        },
        peer(4),
    ]);
    assert_eq!(live(&m), [2]);
    // Peer 2's replay window survived.
    assert!(m
        .heard(
            2,
            peer(2).addr,
            7,
            1,
            0,
            true,
            &[1],
            &NodePolicy::UNREPORTED,
            None,
            1,
            1
        )
        .is_err());
    let ids: Vec<u32> = m.members().map(|p| p.id).collect();
    assert_eq!(ids.len(), 3);
    m.set_peers(&[]);
    assert_eq!(m.members().count(), 0);
}

proptest! {
    /// Whatever the order of events, a peer is live after an update exactly
    /// when its last accepted heartbeat is younger than the timeout.
    #[test]
    fn liveness_matches_the_last_heartbeat(events in proptest::collection::vec((1u32..=4, 0u64..3, 0u64..400), 0..100)) {
        let mut m = membership(&[1, 2, 3, 4]);
        let mut last = [None::<u64>; 5];
        let mut now = 0u64;
        let mut counter = 0u64;
        for (id, kind, dt) in events {
            now += dt;
            match kind {
                0 | 1 => {
                    counter += 1;
                    m.heard(id, peer(id).addr, counter, 1, 0, true, &[1], &NodePolicy::UNREPORTED, None, 1, now).unwrap();
                    last[id as usize] = Some(now);
                }
                _ => {
                    update(&mut m, now);
                    for p in m.members() {
                        let want = last[p.id as usize].is_some_and(|t| now - t < u64::from(DEAD_MS));
                        prop_assert_eq!(p.live, want);
                    }
                }
            }
        }
    }
}

/// Three nodes: a node needs two of three live, and every live peer to
/// report exactly its own view of who is live.
#[test]
fn full_membership_needs_a_majority_and_agreement() {
    let mut m = membership(&[2, 3]);
    update(&mut m, 0);
    assert!(!m.full_member(1), "alone among three");
    m.heard(
        2,
        peer(2).addr,
        1,
        1,
        0,
        true,
        &[2],
        &NodePolicy::UNREPORTED,
        None,
        1,
        10,
    )
    .unwrap();
    update(&mut m, 10);
    assert!(!m.full_member(1), "peer 2 does not count us in yet");
    assert_eq!(
        m.heard(
            2,
            peer(2).addr,
            2,
            1,
            0,
            true,
            &[2, 1],
            &NodePolicy::UNREPORTED,
            None,
            1,
            20
        ),
        Ok(true)
    );
    update(&mut m, 20);
    assert!(m.full_member(1), "two of three, same view");
    m.heard(
        3,
        peer(3).addr,
        1,
        1,
        0,
        true,
        &[3, 1, 2],
        &NodePolicy::UNREPORTED,
        None,
        1,
        30,
    )
    .unwrap();
    update(&mut m, 30);
    assert!(!m.full_member(1), "peer 2 does not see peer 3 yet");
    assert_eq!(
        m.heard(
            2,
            peer(2).addr,
            3,
            1,
            0,
            true,
            &[2, 1],
            &NodePolicy::UNREPORTED,
            None,
            1,
            31
        ),
        Ok(false)
    );
    assert_eq!(
        m.heard(
            2,
            peer(2).addr,
            4,
            1,
            0,
            true,
            &[2, 1, 3],
            &NodePolicy::UNREPORTED,
            None,
            1,
            40
        ),
        Ok(true)
    );
    update(&mut m, 40);
    assert!(m.full_member(1));
    // Peer 3 now reports a node we do not know: views differ.
    assert_eq!(
        m.heard(
            3,
            peer(3).addr,
            2,
            1,
            0,
            true,
            &[3, 1, 2, 9],
            &NodePolicy::UNREPORTED,
            None,
            1,
            45
        ),
        Ok(false)
    );
    assert!(!m.full_member(1));
}

/// Two nodes that disagree on a third are never both full members with
/// different views: whatever each has heard, the full members' live sets
/// are the same.
#[test]
fn full_members_share_one_view() {
    // Node 1 sees 3 dead, node 2 still sees it live.
    let mut n1 = membership(&[2, 3]);
    let mut n2 = Membership::new();
    n2.set_peers(&[peer(1), peer(3)]);
    n1.heard(
        2,
        peer(2).addr,
        1,
        1,
        0,
        true,
        &[2, 1, 3],
        &NodePolicy::UNREPORTED,
        None,
        1,
        0,
    )
    .unwrap();
    n2.heard(
        1,
        peer(1).addr,
        1,
        1,
        0,
        true,
        &[1, 2],
        &NodePolicy::UNREPORTED,
        None,
        2,
        0,
    )
    .unwrap();
    n2.heard(
        3,
        peer(3).addr,
        1,
        1,
        0,
        true,
        &[3, 1, 2],
        &NodePolicy::UNREPORTED,
        None,
        2,
        0,
    )
    .unwrap();
    update(&mut n1, 0);
    update(&mut n2, 0);
    assert!(!(n1.full_member(1) && n2.full_member(2)));
}
/// Two nodes: exactly half continues only if it holds the lowest id.
#[test]
fn an_even_split_goes_to_the_half_with_the_lowest_id() {
    let mut low = membership(&[2]);
    update(&mut low, 0);
    assert!(low.full_member(1));
    let mut high = Membership::new();
    high.set_peers(&[peer(1)]);
    update(&mut high, 0);
    assert!(!high.full_member(2));
    // A node without peers is a cluster of one.
    assert!(Membership::new().full_member(7));
}

/// The table's documented invariant: all-zero bytes are an empty table (the
/// module allocates it zeroed). Compared through the public view, since the
/// type has no byte-level equality.
#[test]
fn zeroed_table_is_empty() {
    let zeroed: Membership = unsafe { std::mem::zeroed() };
    assert_eq!(zeroed.members().count(), 0);
    let mut m = zeroed;
    m.set_peers(&[peer(2)]);
    m.heard(
        2,
        peer(2).addr,
        0,
        1,
        0,
        true,
        &[1],
        &NodePolicy::UNREPORTED,
        None,
        1,
        0,
    )
    .unwrap();
    assert_eq!(update(&mut m, 1), [(2, true)]);
}

/// A heartbeat of peer `id` at `now`, counter `counter`, naming node 1
/// (this node) live.
fn hear(m: &mut Membership, id: u32, counter: u64, now: u64) {
    hear_by(m, 1, id, counter, now, true);
}

/// A heartbeat of peer `id` taken by node `me` at `now`, counter
/// `counter`, naming `me` live or not.
fn hear_by(m: &mut Membership, me: u32, id: u32, counter: u64, now: u64, names_me: bool) {
    let view = if names_me { vec![id, me] } else { vec![id] };
    m.heard(
        id,
        Ipv4([10, 0, 0, id as u8]),
        counter,
        1,
        0,
        true,
        &view,
        &NodePolicy::UNREPORTED,
        None,
        me,
        now,
    )
    .unwrap();
}

#[test]
fn fresh_quorum_lasts_while_a_majority_was_heard_recently() {
    // Alone: a majority of one, for ever.
    assert_eq!(membership(&[]).quorum_until(1, 100), u64::MAX);
    let mut m = membership(&[2, 3]);
    assert_eq!(m.quorum_until(1, 100), 0, "nobody heard");
    hear(&mut m, 2, 1, 1000);
    assert_eq!(m.quorum_until(1, 100), 1100);
    hear(&mut m, 3, 1, 1050);
    assert_eq!(
        m.quorum_until(1, 100),
        1150,
        "one peer is enough: the latest"
    );
    // Four nodes: two peers needed (half without the lowest id), or one
    // with the lowest id's half.
    // Node 1 (the lowest id) with one peer is half and holds the tie.
    let mut m = membership(&[2, 3, 4]);
    hear(&mut m, 3, 1, 1000);
    hear(&mut m, 4, 1, 1200);
    assert_eq!(
        m.quorum_until(1, 100),
        1300,
        "1 with 4 alone is half, with the lowest id"
    );
    let mut m = membership(&[1, 3, 4]);
    hear_by(&mut m, 2, 1, 1, 1000, true);
    hear_by(&mut m, 2, 3, 1, 2000, true);
    // Node 2 with node 1 (the lowest id) is half, enough; 2 and 3 without
    // 1 are half without the lowest id: too few.
    assert_eq!(m.quorum_until(2, 100), 1100);
}

/// The one-way cut: a node that still hears its peers while they no longer
/// hear it (their heartbeats leave it out) has no majority, from the first
/// heartbeat that leaves it out, whatever came before.
#[test]
fn fresh_quorum_counts_only_peers_that_name_this_node() {
    let mut m = membership(&[2, 3]);
    hear_by(&mut m, 1, 2, 1, 1000, false);
    hear_by(&mut m, 1, 3, 1, 1000, false);
    assert_eq!(m.quorum_until(1, 100), 0, "heard, but nobody hears us");
    hear_by(&mut m, 1, 2, 2, 1050, true);
    assert_eq!(m.quorum_until(1, 100), 1150);
    hear_by(&mut m, 1, 3, 2, 1060, true);
    assert_eq!(m.quorum_until(1, 100), 1160);
    // Node 3 counts us dead: node 2 still names us.
    hear_by(&mut m, 1, 3, 3, 1070, false);
    assert_eq!(m.quorum_until(1, 100), 1150);
    // And node 2 too: the majority is gone at once, though both were
    // heard a moment ago.
    hear_by(&mut m, 1, 2, 3, 1080, false);
    assert_eq!(m.quorum_until(1, 100), 0);
    // Alone a majority (two nodes, this one the lowest id): still for ever.
    let mut m = membership(&[2]);
    hear_by(&mut m, 1, 2, 1, 1000, false);
    assert_eq!(m.quorum_until(1, 100), u64::MAX);
}

#[test]
fn quorum_is_a_live_majority() {
    let mut m = membership(&[2, 3]);
    assert!(!m.has_quorum(1));
    hear(&mut m, 3, 1, 10);
    update(&mut m, 20);
    assert!(m.has_quorum(1));
    update(&mut m, 20 + u64::from(DEAD_MS));
    assert!(!m.has_quorum(1));
    // Two nodes: the one with the lowest id holds the tie.
    let m = membership(&[2]);
    assert!(m.has_quorum(1));
    let m = membership(&[1]);
    assert!(!m.has_quorum(2));
}

/// A peer one node stopped hearing is dead for taking over only once a
/// majority says so: the others' heartbeats must leave it out too.
#[test]
fn dead_by_majority_needs_the_others_word() {
    let mut m = membership(&[2, 3]);
    // Node 3 hears 2 and says so; node 1 stopped hearing 2.
    m.heard(
        2,
        peer(2).addr,
        1,
        1,
        0,
        true,
        &[2, 1, 3],
        &NodePolicy::UNREPORTED,
        None,
        1,
        0,
    )
    .unwrap();
    m.heard(
        3,
        peer(3).addr,
        1,
        1,
        0,
        true,
        &[3, 1, 2],
        &NodePolicy::UNREPORTED,
        None,
        1,
        900,
    )
    .unwrap();
    update(&mut m, 1000);
    assert_eq!(m.is_live(2), Some(false));
    assert!(!m.dead_by_majority(1, 2), "3 still hears 2");
    m.heard(
        3,
        peer(3).addr,
        2,
        1,
        0,
        true,
        &[3, 1],
        &NodePolicy::UNREPORTED,
        None,
        1,
        950,
    )
    .unwrap();
    assert!(m.dead_by_majority(1, 2), "3 no longer does: 1 and 3 agree");
    assert!(!m.dead_by_majority(1, 3), "3 is live");
    assert!(!m.dead_by_majority(1, 9), "no such peer");
    // Two nodes: the one holding the lowest id decides alone.
    let mut low = membership(&[2]);
    update(&mut low, 0);
    assert!(low.dead_by_majority(1, 2));
    let mut high = Membership::new();
    high.set_peers(&[peer(1)]);
    update(&mut high, 0);
    assert!(!high.dead_by_majority(2, 1));
}

/// A heartbeat not bound to this node's channel epoch (its sender has not
/// heard of the epoch yet, or it was recorded before the channel opened)
/// teaches the sender's epoch, which this node's datagrams to it are then
/// bound to, and nothing of its liveness; a bound one makes it live.
#[test]
fn only_a_bound_heartbeat_says_a_peer_is_live() {
    let mut m = Membership::new();
    m.set_peers(&[peer(2)]);
    assert_eq!(
        m.recipient(2).map(|r| r.epoch),
        Some(0),
        "no epoch heard yet"
    );
    m.heard(
        2,
        peer(2).addr,
        1,
        1,
        77,
        false,
        &[2],
        &NodePolicy::UNREPORTED,
        None,
        1,
        10,
    )
    .unwrap();
    assert_eq!(m.recipient(2).map(|r| r.epoch), Some(77));
    m.update(20, 200, |_| {});
    assert_eq!(
        m.is_live(2),
        Some(false),
        "an unbound heartbeat is no sign of life"
    );
    m.heard(
        2,
        peer(2).addr,
        2,
        1,
        77,
        true,
        &[2, 1],
        &NodePolicy::UNREPORTED,
        None,
        1,
        30,
    )
    .unwrap();
    m.update(40, 200, |_| {});
    assert_eq!(m.is_live(2), Some(true));
}

/// Handover and progress datagrams must be bound to this node's epoch: one
/// that is not is refused without touching the replay window, so that the
/// same counter bound is still taken.
#[test]
fn unbound_datagrams_other_than_heartbeats_are_refused() {
    let mut m = Membership::new();
    m.set_peers(&[peer(2)]);
    assert_eq!(m.admit(2, peer(2).addr, 5, false), Err(Refusal::StaleEpoch));
    assert_eq!(m.admit(2, peer(2).addr, 5, true), Ok(()));
    assert!(m.admit(2, peer(2).addr, 5, true).is_err(), "replay");
}

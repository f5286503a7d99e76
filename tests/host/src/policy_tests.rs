use crate::balance::{Decision, Plane};
use crate::config::{Affinity, Config, Ipv4, Mode, NodeChange, Peer, Vip};
use crate::membership::Membership;
use crate::packet::{Ipv4Packet, TcpPorts, IPPROTO_TCP};
use crate::policy::{
    affinity_digest, candidates, service_id, view_digest, Candidacy, Members, NodePolicy,
};
use crate::rendezvous::{neg_log2, owner, owner_weighted, Candidate, FiveTuple, Key};
use proptest::prelude::*;

const VIP: [u8; 4] = [10, 0, 0, 100];

fn key() -> Key {
    Key::new(&[3; 16])
}

fn tuple(n: u64) -> FiveTuple {
    FiveTuple {
        saddr: 0x0a00_0000 | (n as u32 & 0xffff),
        daddr: 0x0a00_0064,
        sport: (n >> 16) as u16 ^ 0x8000,
        dport: 80,
        proto: 6,
    }
}

fn weighted(pairs: &[(u32, u16)]) -> Vec<Candidate> {
    pairs
        .iter()
        .map(|&(id, weight)| Candidate { id, weight })
        .collect()
}

/// The fixed-point logarithm follows the real one to its last bit, and
/// never increases with the hash.
#[test]
fn neg_log2_is_accurate_and_monotone() {
    assert_eq!(neg_log2(0), 64 << 16);
    assert_eq!(neg_log2(1), 64 << 16);
    assert_eq!(neg_log2(1 << 63), 1 << 16);
    assert!(neg_log2(u64::MAX) > 0);
    let mut prev = u64::MAX;
    let mut h = 1u64;
    while h < u64::MAX / 3 {
        let got = neg_log2(h) as f64 / 65536.0;
        let want = -(h as f64 / 2f64.powi(64)).log2();
        assert!((got - want).abs() < 2.0 / 65536.0, "{h}: {got} vs {want}");
        assert!(neg_log2(h) <= prev);
        prev = neg_log2(h);
        h = h * 3 + 1;
    }
}

/// With equal weights, whatever the weight, the owner is the plain
/// rendezvous owner: a cluster that sets no weight hashes as before.
#[test]
fn equal_weights_hash_as_unweighted() {
    for w in [1u16, 7, 65535] {
        for n in 0..5000 {
            let t = tuple(n);
            let c = weighted(&[(1, w), (2, w), (3, w)]);
            assert_eq!(
                owner_weighted(&key(), &t, c.into_iter()),
                owner(&key(), &t, &[1, 2, 3])
            );
        }
    }
}

/// Weights 1:2:3 give shares within 3% of 1/6, 2/6, 3/6.
#[test]
fn shares_follow_the_weights() {
    let c = weighted(&[(1, 1), (2, 2), (3, 3)]);
    let mut counts = [0u32; 4];
    let n = 60_000;
    for i in 0..n {
        let o = owner_weighted(&key(), &tuple(i), c.iter().copied()).unwrap();
        counts[o as usize] += 1;
    }
    for id in 1..=3u32 {
        let want = f64::from(n as u32) * f64::from(id) / 6.0;
        let got = f64::from(counts[id as usize]);
        assert!((got - want).abs() < want * 0.03, "{counts:?}");
    }
}

proptest! {
    /// Changing one node's weight moves connections only to it (raised) or
    /// from it (lowered): the others keep every connection they had.
    #[test]
    fn a_weight_change_moves_only_that_nodes_connections(
        weights in prop::collection::vec(1u16..100, 2..6),
        which in any::<prop::sample::Index>(),
        new_weight in 0u16..200,
        seed in any::<u64>(),
    ) {
        let before: Vec<Candidate> = weights.iter().enumerate()
            .map(|(i, &w)| Candidate { id: i as u32 + 1, weight: w }).collect();
        let changed = which.index(before.len());
        let mut after = before.clone();
        after[changed].weight = new_weight;
        let moved_id = after[changed].id;
        for i in 0..200 {
            let t = tuple(seed.wrapping_add(i));
            let a = owner_weighted(&key(), &t, before.iter().copied()).unwrap();
            let b = owner_weighted(&key(), &t, after.iter().copied().filter(|c| c.weight > 0));
            if a != moved_id && b != Some(moved_id) {
                prop_assert_eq!(Some(a), b);
            }
        }
    }
}

fn candidacy(id: u32, weight: u16, ready: u64) -> Candidacy {
    Candidacy { id, weight, ready }
}

fn ids(it: impl Iterator<Item = Candidate>) -> Vec<u32> {
    it.map(|c| c.id).collect()
}

#[test]
fn candidates_are_the_ready_members_of_weight() {
    let members = [
        candidacy(1, 1, 0b01),
        candidacy(2, 0, 0b11),
        candidacy(3, 5, 0b10),
    ];
    // Service 0: node 1 only (2 drains, 3 is not ready).
    assert_eq!(ids(candidates(&members, Some(0))), [1]);
    // Service 1: node 3 (2 drains).
    assert_eq!(ids(candidates(&members, Some(1))), [3]);
    // Service 2: no one is ready, so every member of weight stands in.
    assert_eq!(ids(candidates(&members, Some(2))), [1, 3]);
    // A port that is no service: every member of weight.
    assert_eq!(ids(candidates(&members, None)), [1, 3]);
    // Everyone drains: no one.
    let drained = [candidacy(1, 0, 1), candidacy(2, 0, 1)];
    assert!(ids(candidates(&drained, Some(0))).is_empty());
}

#[test]
fn digests_ignore_order_and_see_every_change() {
    let a = service_id(VIP, 80);
    let b = service_id(VIP, 81);
    let p = NodePolicy::new(1, [a, b]);
    assert_eq!(p.digest(1), NodePolicy::new(1, [b, a]).digest(1));
    assert_ne!(p.digest(1), NodePolicy::new(2, [a, b]).digest(1));
    assert_ne!(p.digest(1), NodePolicy::new(1, [a]).digest(1));
    assert_ne!(p.digest(1), p.digest(2));
    assert_ne!(p.digest(1), NodePolicy::UNREPORTED.digest(1));
    assert_eq!(view_digest([1, 2, 3]), view_digest([3, 1, 2]));
    assert!(p.is_ready(&a) && !NodePolicy::new(1, [b]).is_ready(&a));
    assert!(NodePolicy::UNREPORTED.is_ready(&a));
}

fn config(id: u32, n: u32) -> Config {
    let mut c = Config::new();
    c.set_node(&NodeChange {
        id: Some(id),
        addr: Some(Ipv4([10, 0, 0, id as u8])),
        port: Some(7000),
        key: Some([9; 32]),
        ..Default::default()
    })
    .unwrap();
    for peer in (1..=n).filter(|&p| p != id) {
        c.add_peer(Peer {
            id: peer,
            addr: Ipv4([10, 0, 0, peer as u8]),
        })
        .unwrap();
    }
    c.add_vip(Vip {
        addr: Ipv4(VIP),
        mac: [1, 0, 0x5e, 0, 0, 100],
        ifindex: 2,
    })
    .unwrap();
    c.add_service(Ipv4(VIP), 80, Mode::Balance, None).unwrap();
    c.add_service(Ipv4(VIP), 81, Mode::Balance, None).unwrap();
    c.add_service(Ipv4(VIP), 90, Mode::Replicate, Some(2))
        .unwrap();
    c
}

/// The planes of nodes 1..=3 when each node's policy is `policy(id)` and
/// `edit(id, config)` changes each one's configuration.
fn planes(policy: impl Fn(u32) -> NodePolicy, edit: impl Fn(u32, &mut Config)) -> Vec<Plane> {
    let policies: Vec<NodePolicy> = (1..=3).map(&policy).collect();
    (1..=3)
        .map(|id| {
            let mut c = config(id, 3);
            edit(id, &mut c);
            let mut members = Members::new();
            let own = (id, &policies[id as usize - 1]);
            let live = (1..=3u32)
                .filter(|&p| p != id)
                .map(|p| (p, &policies[p as usize - 1]));
            members.set(core::iter::once(own).chain(live));
            let mut plane = Plane::empty();
            plane.rebuild(&c, &members, true, 0);
            plane
        })
        .collect()
}

fn syn(saddr: [u8; 4], sport: u16, dport: u16) -> Ipv4Packet {
    Ipv4Packet {
        saddr,
        daddr: VIP,
        proto: IPPROTO_TCP,
        fragment: false,
        icmp_about: None,
        tcp: Some(TcpPorts {
            sport,
            dport,
            syn: true,
            ack: false,
        }),
    }
}

/// Which nodes take `pkt`.
fn takers(planes: &[Plane], pkt: &Ipv4Packet) -> Vec<u32> {
    planes
        .iter()
        .filter(|p| p.decide(pkt, |_| unreachable!()) == Decision::NewConnection)
        .map(|p| p.self_id())
        .collect()
}

/// Node 2 does not listen on port 80: it takes none of its connections,
/// while it keeps its share of port 81; every SYN is taken exactly once.
#[test]
fn a_node_not_ready_takes_none_of_that_service() {
    let p = planes(
        |id| {
            let ready = [service_id(VIP, 81), service_id(VIP, 90)];
            if id == 2 {
                NodePolicy::new(1, ready)
            } else {
                NodePolicy::new(1, ready.into_iter().chain([service_id(VIP, 80)]))
            }
        },
        |_, _| {},
    );
    let mut on_81 = [0; 4];
    for port in 1000..2000u16 {
        let t = takers(&p, &syn([10, 0, 0, 4], port, 80));
        assert_eq!(t.len(), 1);
        assert_ne!(t[0], 2);
        let t = takers(&p, &syn([10, 0, 0, 4], port, 81));
        assert_eq!(t.len(), 1);
        on_81[t[0] as usize] += 1;
    }
    assert!(on_81[1..].iter().all(|&n| n > 250), "{on_81:?}");
}

/// A draining node (weight 0) takes no new connection of any service, nor
/// is it in a new replica set; when all drain, no one takes a SYN.
#[test]
fn a_draining_node_takes_nothing_new() {
    let ready = || [80u16, 81, 90].map(|port| service_id(VIP, port));
    let p = planes(|id| NodePolicy::new(u16::from(id != 3), ready()), |_, _| {});
    for port in 1000..1500u16 {
        for dport in [80, 81, 4444] {
            let t = takers(&p, &syn([10, 0, 0, 4], port, dport));
            assert_eq!(t.len(), 1);
            assert_ne!(t[0], 3);
        }
        let mut t = takers(&p, &syn([10, 0, 0, 4], port, 90));
        t.sort();
        assert_eq!(t, [1, 2], "the replica set of 2 avoids the draining node");
    }
    let p = planes(|_| NodePolicy::new(0, ready()), |_, _| {});
    assert_eq!(
        p[0].decide(&syn([10, 0, 0, 4], 1000, 80), |_| unreachable!()),
        Decision::NoCandidate
    );
}

/// Source affinity: every connection of one client to the service lands on
/// one node; different clients spread.
#[test]
fn source_affinity_keeps_a_client_on_one_node() {
    let p = planes(
        |_| NodePolicy::UNREPORTED,
        |_, c| {
            c.set_service_affinity(Ipv4(VIP), 80, Affinity::Source)
                .unwrap()
        },
    );
    let mut seen = [0u32; 4];
    for client in 1..=60u8 {
        let first = takers(&p, &syn([10, 1, 0, client], 1000, 80));
        for port in 1001..1100u16 {
            assert_eq!(takers(&p, &syn([10, 1, 0, client], port, 80)), first);
        }
        seen[first[0] as usize] += 1;
    }
    assert!(seen[1..].iter().all(|&n| n > 5), "{seen:?}");
    // Port 81 has no affinity: one client's connections spread.
    let mut nodes: Vec<u32> = (1000..1100u16)
        .flat_map(|port| takers(&p, &syn([10, 1, 0, 1], port, 81)))
        .collect();
    nodes.sort();
    nodes.dedup();
    assert_eq!(nodes, [1, 2, 3]);
}

/// A peer that reports another policy view (it saw a change this node has
/// not, or the other way round) keeps this node from taking new
/// connections until the views agree.
#[test]
fn differing_policy_views_stop_new_connections() {
    let peers = [
        Peer {
            id: 2,
            addr: Ipv4([10, 0, 0, 2]),
        },
        Peer {
            id: 3,
            addr: Ipv4([10, 0, 0, 3]),
        },
    ];
    let mut m = Membership::new();
    m.set_peers(&peers);
    let me = NodePolicy::new(1, [service_id(VIP, 80)]);
    m.set_own_policy(1, &me, 0);
    let p2 = NodePolicy::new(2, [service_id(VIP, 80)]);
    let p3 = NodePolicy::new(1, []);
    // Every node's view, as each would compute it.
    let view = view_digest([me.digest(1), p2.digest(2), p3.digest(3)]);
    let hear = |m: &mut Membership, id: u32, counter: u64, p: &NodePolicy, v: u64, now: u64| {
        m.heard(
            id,
            Ipv4([10, 0, 0, id as u8]),
            counter,
            1,
            0,
            true,
            &[1, 2, 3],
            p,
            Some(v),
            1,
            now,
        )
    };
    hear(&mut m, 2, 1, &p2, view, 10).unwrap();
    hear(&mut m, 3, 1, &p3, view, 10).unwrap();
    m.update(10, 200, |_| {});
    assert_eq!(m.policy_view(), view);
    assert!(m.full_member(1));
    // Node 3 starts listening on port 80; node 2 has not heard it yet.
    let p3 = NodePolicy::new(1, [service_id(VIP, 80)]);
    let new_view = view_digest([me.digest(1), p2.digest(2), p3.digest(3)]);
    assert_eq!(hear(&mut m, 3, 2, &p3, new_view, 20), Ok(true));
    assert!(!m.full_member(1), "node 2 still reports the old view");
    assert_eq!(hear(&mut m, 2, 2, &p2, new_view, 30), Ok(true));
    assert!(m.full_member(1));
    // This node's own policy changes: no peer reports it yet.
    assert!(m.set_own_policy(1, &NodePolicy::new(0, [service_id(VIP, 80)]), 0));
    assert!(!m.full_member(1));
    let members: Vec<_> = m.live_policies(1).map(|(id, p)| (id, p.weight())).collect();
    assert_eq!(members, [(1, 0), (2, 2), (3, 1)]);
    // Back as it was, but with a service of source affinity the others
    // do not have: the views differ.
    assert!(m.set_own_policy(1, &me, 77));
    assert!(!m.full_member(1));
    assert!(m.set_own_policy(1, &me, 0));
    assert!(m.full_member(1));
}

/// Node 3 lacks service 81 (not yet added there) while an application
/// listens on port 81 on every node: nodes 1 and 2 report it ready, node 3
/// cannot. Every node still hashes port 81's connections over nodes 1 and
/// 2, from what they all know, and each SYN is taken exactly once.
#[test]
fn a_service_missing_on_one_node_is_hashed_alike() {
    let p = planes(
        |id| {
            let mut ready = vec![service_id(VIP, 80), service_id(VIP, 90)];
            if id != 3 {
                ready.push(service_id(VIP, 81));
            }
            NodePolicy::new(1, ready)
        },
        |id, c| {
            if id == 3 {
                c.del_service(Ipv4(VIP), 81).unwrap();
            }
        },
    );
    for port in 1000..2000u16 {
        let t = takers(&p, &syn([10, 0, 0, 4], port, 81));
        assert_eq!(t.len(), 1, "port {port}: {t:?}");
        assert_ne!(t[0], 3);
    }
}

#[test]
fn affinity_digests_see_the_source_services_only() {
    let c1 = config(1, 3);
    let mut c2 = config(1, 3);
    assert_eq!(
        affinity_digest(c1.services().as_slice()),
        affinity_digest(c2.services().as_slice())
    );
    c2.set_service_affinity(Ipv4(VIP), 81, Affinity::Source)
        .unwrap();
    assert_ne!(
        affinity_digest(c1.services().as_slice()),
        affinity_digest(c2.services().as_slice())
    );
}

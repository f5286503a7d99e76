use crate::balance::{Decision, Plane};
use crate::config::{Config, Ipv4, NodeChange, Peer, Vip};
use crate::packet::{parse_arp_request, parse_ipv4, Ipv4Packet, TcpPorts, IPPROTO_TCP};
use proptest::prelude::*;

const VIP: [u8; 4] = [10, 0, 0, 100];
const KEY: [u8; 32] = [7; 32];

/// The plane of node `id` of a cluster of nodes 1..=n, all with the same
/// key and VIP, all live.
fn plane(id: u32, n: u32) -> Plane {
    plane_live(id, n, &(1..=n).collect::<Vec<_>>())
}

/// The same with only the peers in `live` live.
fn plane_live(id: u32, n: u32, live: &[u32]) -> Plane {
    let c = config(id, n);
    Plane::of(&c, live.iter().copied().filter(|&p| p != id), true)
}

/// The configuration of node `id` of a cluster of nodes 1..=n, all with
/// the same key and VIP.
fn config(id: u32, n: u32) -> Config {
    let mut c = Config::new();
    c.set_node(&NodeChange {
        id: Some(id),
        addr: Some(Ipv4([10, 0, 0, id as u8])),
        port: Some(7000),
        key: Some(KEY),
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
    c
}

/// Decides as for a node that holds no socket.
fn decide(p: &Plane, pkt: &Ipv4Packet) -> Decision {
    p.decide(pkt, |_| {
        panic!("a SYN or non-TCP packet needs no socket lookup")
    })
}

/// A segment of an established connection (ACK, no SYN).
fn ack(saddr: [u8; 4], sport: u16, dport: u16) -> Ipv4Packet {
    let mut pkt = syn(saddr, sport, dport);
    pkt.tcp = Some(TcpPorts {
        sport,
        dport,
        syn: false,
        ack: true,
    });
    pkt
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

proptest! {
    /// Whatever the packet, exactly one node of the cluster keeps it.
    #[test]
    fn exactly_one_node_owns_each_packet(saddr in any::<[u8; 4]>(), sport in any::<u16>(), dport in any::<u16>(),
                                         proto in prop_oneof![Just(6u8), Just(1u8), Just(17u8)]) {
        let planes: Vec<Plane> = (1..=3).map(|id| plane(id, 3)).collect();
        let mut pkt = syn(saddr, sport, dport);
        pkt.proto = proto;
        if proto != IPPROTO_TCP {
            pkt.tcp = None;
        }
        let taken = if proto == IPPROTO_TCP { Decision::NewConnection } else { Decision::Owned };
        let owned = planes.iter().filter(|p| decide(p, &pkt) == taken).count();
        prop_assert_eq!(owned, 1);
        prop_assert!(planes.iter().all(|p| matches!(decide(p, &pkt), Decision::NotOwner) || decide(p, &pkt) == taken));
    }

    /// A later segment is kept exactly by the nodes that hold its socket,
    /// whoever would own a new connection of that tuple.
    #[test]
    fn later_segments_go_to_the_socket_holder(saddr in any::<[u8; 4]>(), sport in any::<u16>(),
                                              holder in 1u32..=3, flags in 0u8..3) {
        let mut pkt = ack(saddr, sport, 80);
        if let Some(t) = pkt.tcp.as_mut() {
            // ACK, FIN|ACK, SYN|ACK: anything but a bare SYN.
            t.syn = flags == 2;
            t.ack = true;
        }
        for id in 1..=3 {
            let p = plane(id, 3);
            let want = if id == holder { Decision::Held } else { Decision::NotHeld };
            prop_assert_eq!(p.decide(&pkt, |_| id == holder), want);
        }
    }

    /// When a member dies, the new connections the survivors owned stay
    /// theirs (rendezvous hashing moves only the dead node's share), and the
    /// dead node's share is spread over the survivors.
    #[test]
    fn a_death_moves_only_the_dead_nodes_share(saddr in any::<[u8; 4]>(), sport in any::<u16>(), dead in 1u32..=3) {
        let pkt = syn(saddr, sport, 80);
        let owner = |planes: &[Plane]| {
            planes.iter().position(|p| decide(p, &pkt) == Decision::NewConnection).map(|i| i as u32 + 1)
        };
        let before = owner(&(1..=3).map(|id| plane(id, 3)).collect::<Vec<_>>());
        let survivors: Vec<u32> = (1..=3).filter(|&id| id != dead).collect();
        let after_planes: Vec<Plane> = (1..=3)
            .map(|id| if id == dead { Plane::empty() } else { plane_live(id, 3, &survivors) })
            .collect();
        let after = owner(&after_planes);
        prop_assert!(after.is_some() && after != Some(dead));
        if before != Some(dead) {
            prop_assert_eq!(after, before);
        }
    }

    /// The parser never panics and rejects what is not IPv4.
    #[test]
    fn parsers_take_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        if let Some(p) = parse_ipv4(&bytes) {
            prop_assert_eq!(bytes[0] >> 4, 4);
            prop_assert!(p.tcp.is_none() || p.proto == IPPROTO_TCP);
        }
        let _ = parse_arp_request(&bytes);
    }
}

#[test]
fn connections_spread_evenly() {
    let planes: Vec<Plane> = (1..=3).map(|id| plane(id, 3)).collect();
    let mut per_node = [0u32; 3];
    for i in 0..3000u32 {
        let pkt = syn([10, 0, 0, 4], 32768 + i as u16, 80);
        for (n, p) in planes.iter().enumerate() {
            if decide(p, &pkt) == Decision::NewConnection {
                per_node[n] += 1;
            }
        }
    }
    assert_eq!(per_node.iter().sum::<u32>(), 3000);
    assert!(
        per_node.iter().all(|&c| (850..=1150).contains(&c)),
        "{per_node:?}"
    );
}

#[test]
fn other_traffic_and_fragments() {
    let p = plane(1, 3);
    let mut pkt = syn([10, 0, 0, 4], 1000, 80);
    pkt.daddr = [10, 0, 0, 1];
    assert_eq!(decide(&p, &pkt), Decision::NotVip);
    let mut frag = syn([10, 0, 0, 4], 1000, 80);
    frag.fragment = true;
    frag.tcp = None;
    assert_eq!(decide(&p, &frag), Decision::Fragment);
    assert_eq!(
        decide(&Plane::empty(), &syn([10, 0, 0, 4], 1000, 80)),
        Decision::NotVip
    );
    assert_eq!(p.vip_mac(VIP, 2), Some([1, 0, 0x5e, 0, 0, 100]));
    assert_eq!(p.vip_mac(VIP, 3), None);
}

/// A configuration with the VIP only (no node id, no peers).
fn config_with_vip() -> Config {
    let mut c = Config::new();
    c.add_vip(Vip {
        addr: Ipv4(VIP),
        mac: [1, 0, 0x5e, 0, 0, 100],
        ifindex: 2,
    })
    .unwrap();
    c
}

#[test]
fn unconfigured_node_keeps_nothing_for_a_vip() {
    let c = config_with_vip();
    assert_eq!(
        decide(&Plane::of(&c, [], true), &syn([10, 0, 0, 4], 1, 80)),
        Decision::Unconfigured
    );
}

#[test]
fn parses_a_syn_and_an_arp_request() {
    // IPv4 (ihl 5, DF) TCP 10.0.0.4:40000 -> 10.0.0.100:80, SYN.
    let mut b = vec![
        0x45, 0, 0, 60, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 4, 10, 0, 0, 100,
    ];
    b.extend_from_slice(&[0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0xa0, 0x02]);
    let p = parse_ipv4(&b).unwrap();
    assert_eq!(
        (p.saddr, p.daddr, p.proto, p.fragment),
        ([10, 0, 0, 4], VIP, 6, false)
    );
    assert_eq!(
        p.tcp,
        Some(TcpPorts {
            sport: 40000,
            dport: 80,
            syn: true,
            ack: false
        })
    );
    // More fragments set: no ports.
    b[6] = 0x20;
    assert_eq!(
        parse_ipv4(&b).map(|p| (p.fragment, p.tcp)),
        Some((true, None))
    );
    assert_eq!(parse_ipv4(&b[..19]), None);
    let arp = [
        0, 1, 8, 0, 6, 4, 0, 1, 0x52, 0x54, 0, 0, 0, 4, 10, 0, 0, 4, 0, 0, 0, 0, 0, 0, 10, 0, 0,
        100,
    ];
    let r = parse_arp_request(&arp).unwrap();
    assert_eq!(
        (r.sender_mac, r.sender_ip, r.target_ip),
        ([0x52, 0x54, 0, 0, 0, 4], [10, 0, 0, 4], VIP)
    );
    let mut reply = arp;
    reply[7] = 2;
    assert_eq!(parse_arp_request(&reply), None);
}

/// Only configured peers count as members, whatever the live list says.
#[test]
fn unknown_live_ids_are_ignored() {
    let alone = plane_live(1, 1, &[]);
    let with_stranger = plane_live(1, 1, &[99]);
    for i in 0..200u16 {
        let pkt = syn([10, 0, 0, 4], 1000 + i, 80);
        assert_eq!(decide(&alone, &pkt), Decision::NewConnection);
        assert_eq!(decide(&with_stranger, &pkt), Decision::NewConnection);
    }
}

/// A dead peer owns nothing: its survivors take every new connection.
#[test]
fn dead_peers_own_nothing() {
    let planes: Vec<Plane> = (1..=2).map(|id| plane_live(id, 3, &[1, 2])).collect();
    for i in 0..1000u16 {
        let pkt = syn([10, 0, 0, 4], 1000 + i, 80);
        let taken = planes
            .iter()
            .filter(|p| decide(p, &pkt) == Decision::NewConnection)
            .count();
        assert_eq!(taken, 1);
    }
}

/// A node that is no full member takes no new connection and no ping, but
/// keeps serving the connections it holds.
#[test]
fn a_node_that_is_no_full_member_takes_nothing_new() {
    let mut c = Config::new();
    c.set_node(&NodeChange {
        id: Some(1),
        key: Some(KEY),
        ..Default::default()
    })
    .unwrap();
    c.add_vip(Vip {
        addr: Ipv4(VIP),
        mac: [1, 0, 0x5e, 0, 0, 100],
        ifindex: 2,
    })
    .unwrap();
    let p = Plane::of(&c, [], false);
    let mut ping = syn([10, 0, 0, 4], 0, 0);
    ping.proto = 1;
    ping.tcp = None;
    assert_eq!(decide(&p, &syn([10, 0, 0, 4], 1, 80)), Decision::NotMember);
    assert_eq!(decide(&p, &ping), Decision::NotMember);
    assert_eq!(
        p.decide(&ack([10, 0, 0, 4], 1, 80), |_| true),
        Decision::Held
    );
}

/// A published plane stopped by the receive path (views differ) takes no
/// new connection, and still delivers what this node holds; the next plane
/// built in the same memory (the spare the module reuses) takes them again.
#[test]
fn a_stopped_plane_takes_new_connections_again_once_rebuilt() {
    let mut p = plane(1, 1);
    let mine = syn([10, 0, 0, 4], 1, 80);
    assert_eq!(decide(&p, &mine), Decision::NewConnection);
    p.stop_new_connections();
    assert!(!p.takes_new_connections());
    assert_eq!(decide(&p, &mine), Decision::NotMember);
    assert_eq!(
        p.decide(&ack([10, 0, 0, 4], 1, 80), |_| true),
        Decision::Held
    );
    let mut members = crate::policy::Members::new();
    members.set_unweighted(core::iter::once(1));
    p.rebuild(&config(1, 1), &members, true, 0);
    assert!(p.takes_new_connections());
    assert_eq!(decide(&p, &mine), Decision::NewConnection);
}

/// The listeners that keep the socket gate: those bound to a replicate
/// service's VIP and port, or to the wildcard and that port; no other.
#[test]
fn gated_listeners_follow_the_replicate_services() {
    let mut c = config_with_vip();
    c.add_service(Ipv4(VIP), 80, crate::config::Mode::Replicate, Some(2))
        .unwrap();
    c.add_service(Ipv4(VIP), 81, crate::config::Mode::Balance, None)
        .unwrap();
    let services = Plane::of(&c, [], true).listener_services();
    assert!(services.gates(VIP, 80));
    assert!(
        services.gates([0; 4], 80),
        "the wildcard takes the VIP's SYNs"
    );
    assert!(!services.gates([10, 0, 0, 1], 80), "another address");
    assert!(!services.gates(VIP, 81), "a balance service");
    assert!(!services.gates([0; 4], 82), "no service");
    // The service goes, and so does every reason to keep the gate.
    c.del_service(Ipv4(VIP), 80).unwrap();
    let services = Plane::of(&c, [], true).listener_services();
    assert!(!services.gates(VIP, 80) && !services.gates([0; 4], 80));
    // So it does when the VIP goes with its services.
    c.add_service(Ipv4(VIP), 80, crate::config::Mode::Replicate, Some(2))
        .unwrap();
    c.del_vip(Ipv4(VIP)).unwrap();
    let services = Plane::of(&c, [], true).listener_services();
    assert!(!services.gates(VIP, 80) && !services.gates([0; 4], 80));
}

/// An ICMP "fragmentation needed" from a router at `from` about the
/// segment `VIP:80 -> 10.0.0.4:40000` (the VIP's side sent it).
fn frag_needed(from: [u8; 4], quoted_src: [u8; 4]) -> Vec<u8> {
    let mut b = vec![0x45, 0, 0, 56, 0, 1, 0, 0, 64, 1, 0, 0];
    b.extend_from_slice(&from);
    b.extend_from_slice(&VIP);
    // Type 3 code 4, checksum, unused, next-hop MTU 1400.
    b.extend_from_slice(&[3, 4, 0, 0, 0, 0, 0x05, 0x78]);
    b.extend_from_slice(&[0x45, 0, 5, 0xdc, 0, 2, 0x40, 0, 63, 6, 0, 0]);
    b.extend_from_slice(&quoted_src);
    b.extend_from_slice(&[10, 0, 0, 4]);
    b.extend_from_slice(&[0, 80, 0x9c, 0x40, 0, 0, 0, 7]);
    b
}

/// An ICMP error about a VIP's connection goes to the node that holds the
/// connection (whoever sent the error), and only to it; other ICMP goes to
/// one owner by the outer addresses, as before.
#[test]
fn icmp_errors_follow_the_connection_they_quote() {
    let b = frag_needed([192, 168, 1, 1], VIP);
    let pkt = parse_ipv4(&b).unwrap();
    let about = pkt.icmp_about.unwrap();
    assert_eq!(
        (about.saddr, about.sport, about.daddr, about.dport),
        (VIP, 80, [10, 0, 0, 4], 40000)
    );
    let want = crate::wire::Tuple {
        client: [10, 0, 0, 4],
        client_port: 40000,
        vip: VIP,
        port: 80,
    };
    for id in 1..=3 {
        let p = plane(id, 3);
        let holder = 2;
        let decision = p.decide(&pkt, |t| {
            assert_eq!(*t, want, "asked about the quoted connection");
            id == holder
        });
        let expected = if id == holder {
            Decision::Held
        } else {
            Decision::NotHeld
        };
        assert_eq!(decision, expected, "node {id}");
    }
    // Quoting a segment the VIP did not send: plain ICMP, one owner.
    let other = parse_ipv4(&frag_needed([192, 168, 1, 1], [10, 0, 0, 9])).unwrap();
    let owners = (1..=3)
        .filter(|&id| decide(&plane(id, 3), &other) == Decision::Owned)
        .count();
    assert_eq!(owners, 1);
    // Too short to hold the quoted ports: plain ICMP too.
    assert_eq!(parse_ipv4(&b[..b.len() - 6]).unwrap().icmp_about, None);
    // An echo request quotes nothing.
    let mut echo = b.clone();
    echo[20] = 8;
    assert_eq!(parse_ipv4(&echo).unwrap().icmp_about, None);
}

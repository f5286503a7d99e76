use crate::balance::{Decision, Plane};
use crate::config::{Config, Ipv4, NodeChange, Peer, Vip};
use crate::packet::{parse_arp_request, parse_ipv4, Ipv4Packet, TcpPorts, IPPROTO_TCP};
use proptest::prelude::*;

const VIP: [u8; 4] = [10, 0, 0, 100];
const KEY: [u8; 32] = [7; 32];

/// The plane of node `id` of a cluster of nodes 1..=n, all with the same key and VIP.
fn plane(id: u32, n: u32) -> Plane {
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
    Plane::of(&c)
}

fn syn(saddr: [u8; 4], sport: u16, dport: u16) -> Ipv4Packet {
    Ipv4Packet {
        saddr,
        daddr: VIP,
        proto: IPPROTO_TCP,
        fragment: false,
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
        let owned = planes.iter().filter(|p| p.decide(&pkt) == Decision::Owned).count();
        prop_assert_eq!(owned, 1);
        prop_assert!(planes.iter().all(|p| matches!(p.decide(&pkt), Decision::Owned | Decision::NotOwner)));
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
            if p.decide(&pkt) == Decision::Owned {
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
    assert_eq!(p.decide(&pkt), Decision::NotVip);
    let mut frag = syn([10, 0, 0, 4], 1000, 80);
    frag.fragment = true;
    frag.tcp = None;
    assert_eq!(p.decide(&frag), Decision::Fragment);
    assert_eq!(
        Plane::empty().decide(&syn([10, 0, 0, 4], 1000, 80)),
        Decision::NotVip
    );
    assert_eq!(p.vip_mac(VIP, 2), Some([1, 0, 0x5e, 0, 0, 100]));
    assert_eq!(p.vip_mac(VIP, 3), None);
}

#[test]
fn unconfigured_node_keeps_nothing_for_a_vip() {
    let mut c = Config::new();
    c.add_vip(Vip {
        addr: Ipv4(VIP),
        mac: [1, 0, 0x5e, 0, 0, 100],
        ifindex: 2,
    })
    .unwrap();
    assert_eq!(
        Plane::of(&c).decide(&syn([10, 0, 0, 4], 1, 80)),
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

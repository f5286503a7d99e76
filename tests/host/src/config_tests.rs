use crate::config::*;
use proptest::prelude::*;

const A: Ipv4 = Ipv4([10, 0, 0, 1]);
const B: Ipv4 = Ipv4([10, 0, 0, 2]);
const VIP: Ipv4 = Ipv4([10, 0, 0, 100]);
const MAC: [u8; 6] = [0x01, 0x00, 0x5e, 0x7f, 0x00, 0x64];

fn configured() -> Config {
    let mut c = Config::new();
    c.set_node(&NodeChange {
        id: Some(1),
        addr: Some(A),
        port: Some(7000),
        ..Default::default()
    })
    .unwrap();
    c
}

fn vip() -> Vip {
    Vip {
        addr: VIP,
        mac: MAC,
        ifindex: 2,
    }
}

#[test]
fn defaults_notice_a_dead_node_within_300_ms() {
    let t = Config::new().node().timers(DEFAULTS);
    assert!(t.dead_ms + t.heartbeat_ms <= 300);
    assert!(t.dead_ms >= 2 * t.heartbeat_ms);
}

#[test]
fn node_change_is_all_or_nothing() {
    let mut c = configured();
    let before = *c.node();
    let bad = NodeChange {
        port: Some(9),
        heartbeat_ms: Some(200),
        dead_ms: Some(300),
        ..Default::default()
    };
    assert!(matches!(c.set_node(&bad), Err(ConfigError::Invalid(_))));
    assert_eq!(*c.node(), before);
    let good = NodeChange {
        heartbeat_ms: Some(100),
        dead_ms: Some(400),
        ..Default::default()
    };
    c.set_node(&good).unwrap();
    assert_eq!(
        (c.node().port, c.node().heartbeat_ms, c.node().dead_ms),
        (7000, Some(100), Some(400))
    );
}

const DEFAULTS: Timers = Timers {
    heartbeat_ms: DEFAULT_HEARTBEAT_MS,
    dead_ms: DEFAULT_DEAD_MS,
};

/// Unset timers follow the defaults; set ones win; the timeout is never
/// below two intervals, whatever the mix.
#[test]
fn timers_follow_defaults_until_set() {
    let mut c = configured();
    assert_eq!(c.node().timers(DEFAULTS), DEFAULTS);
    c.set_node(&NodeChange {
        heartbeat_ms: Some(150),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        c.node().timers(DEFAULTS),
        Timers {
            heartbeat_ms: 150,
            dead_ms: 300
        }
    );
    c.set_node(&NodeChange {
        dead_ms: Some(1000),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(
        c.node().timers(DEFAULTS),
        Timers {
            heartbeat_ms: 150,
            dead_ms: 1000
        }
    );
}

#[test]
fn peers_are_unique_and_never_self() {
    let mut c = configured();
    assert!(matches!(
        c.add_peer(Peer { id: 1, addr: B }),
        Err(ConfigError::Invalid(_))
    ));
    assert!(matches!(
        c.add_peer(Peer { id: 2, addr: A }),
        Err(ConfigError::Invalid(_))
    ));
    assert!(matches!(
        c.add_peer(Peer {
            id: 2,
            addr: Ipv4([0; 4])
        }),
        Err(ConfigError::Invalid(_))
    ));
    c.add_peer(Peer { id: 2, addr: B }).unwrap();
    assert!(matches!(
        c.add_peer(Peer {
            id: 2,
            addr: Ipv4([10, 0, 0, 3])
        }),
        Err(ConfigError::Exists(_))
    ));
    assert!(matches!(
        c.add_peer(Peer { id: 3, addr: B }),
        Err(ConfigError::Exists(_))
    ));
    assert!(matches!(
        c.set_node(&NodeChange {
            id: Some(2),
            ..Default::default()
        }),
        Err(ConfigError::Exists(_))
    ));
    c.del_peer(2).unwrap();
    assert!(matches!(c.del_peer(2), Err(ConfigError::NotFound(_))));
    assert!(c.peers().as_slice().is_empty());
}

#[test]
fn vips_need_a_unicast_address_and_a_multicast_mac() {
    let mut c = configured();
    for bad in [
        Vip {
            addr: Ipv4([224, 0, 0, 1]),
            ..vip()
        },
        Vip {
            addr: Ipv4([255; 4]),
            ..vip()
        },
        Vip {
            mac: [0x02, 0, 0, 0, 0, 1],
            ..vip()
        },
        Vip {
            mac: [0xff; 6],
            ..vip()
        },
        Vip {
            ifindex: 0,
            ..vip()
        },
    ] {
        assert!(
            matches!(c.add_vip(bad), Err(ConfigError::Invalid(_))),
            "{bad:?}"
        );
    }
    c.add_vip(vip()).unwrap();
    assert!(matches!(c.add_vip(vip()), Err(ConfigError::Exists(_))));
}

#[test]
fn services_belong_to_a_known_vip_and_go_with_it() {
    let mut c = configured();
    assert!(matches!(
        c.add_service(VIP, 80, Mode::Balance, None),
        Err(ConfigError::NotFound(_))
    ));
    c.add_vip(vip()).unwrap();
    c.add_service(VIP, 80, Mode::Balance, None).unwrap();
    assert!(matches!(
        c.add_service(VIP, 80, Mode::Splice, None),
        Err(ConfigError::Exists(_))
    ));
    assert!(matches!(
        c.add_service(VIP, 81, Mode::Balance, Some(2)),
        Err(ConfigError::Invalid(_))
    ));
    assert!(matches!(
        c.add_service(VIP, 82, Mode::Replicate, Some(1)),
        Err(ConfigError::Invalid(_))
    ));
    c.add_service(VIP, 83, Mode::Replicate, None).unwrap();
    assert_eq!(c.services().get(1).map(|s| s.replicas), Some(2));
    assert!(matches!(
        c.del_service(VIP, 81),
        Err(ConfigError::NotFound(_))
    ));
    c.del_vip(VIP).unwrap();
    assert!(c.services().as_slice().is_empty());
}

/// A backend port: splice services only, never the service's own port,
/// never a port or backend port of another service of the VIP; a service
/// on a port that is another's backend port is refused too.
#[test]
fn backend_ports_are_for_splice_and_collide_with_no_port() {
    let mut c = configured();
    c.add_vip(vip()).unwrap();
    c.add_service(VIP, 80, Mode::Splice, None).unwrap();
    c.add_service(VIP, 81, Mode::Balance, None).unwrap();
    c.add_service(VIP, 90, Mode::Splice, None).unwrap();
    let err = |c: &mut Config, port, backend| c.set_service_backend(VIP, port, backend);
    assert!(matches!(
        err(&mut c, 81, 8081),
        Err(ConfigError::Invalid(_))
    ));
    assert!(matches!(err(&mut c, 80, 80), Err(ConfigError::Invalid(_))));
    assert!(matches!(err(&mut c, 80, 81), Err(ConfigError::Exists(_))));
    assert!(matches!(
        err(&mut c, 85, 8085),
        Err(ConfigError::NotFound(_))
    ));
    c.set_service_backend(VIP, 80, 8080).unwrap();
    assert_eq!(c.service(VIP, 80).map(|s| s.backend_port), Some(8080));
    assert!(matches!(err(&mut c, 90, 8080), Err(ConfigError::Exists(_))));
    assert!(matches!(
        c.add_service(VIP, 8080, Mode::Balance, None),
        Err(ConfigError::Exists(_))
    ));
    // Its own backend port again, or none: fine.
    c.set_service_backend(VIP, 80, 8080).unwrap();
    c.set_service_backend(VIP, 80, 0).unwrap();
    c.add_service(VIP, 8080, Mode::Balance, None).unwrap();
}

#[test]
fn full_tables_refuse_and_keep_their_entries() {
    let mut c = configured();
    for id in 0..MAX_PEERS as u32 {
        c.add_peer(Peer {
            id: id + 2,
            addr: Ipv4([10, 1, (id >> 8) as u8, id as u8 + 1]),
        })
        .unwrap();
    }
    assert!(matches!(
        c.add_peer(Peer {
            id: 999,
            addr: Ipv4([10, 2, 0, 1])
        }),
        Err(ConfigError::Full(_))
    ));
    assert_eq!(c.peers().as_slice().len(), MAX_PEERS);
}

proptest! {
    /// Any sequence of peer additions and removals leaves a table that holds
    /// exactly the ids added and not removed since, each once.
    #[test]
    fn peer_table_matches_a_model(ops in proptest::collection::vec((any::<bool>(), 2u32..12), 0..200)) {
        let mut c = configured();
        let mut model = std::collections::BTreeSet::new();
        for (add, id) in ops {
            if add {
                let r = c.add_peer(Peer { id, addr: Ipv4([10, 9, 0, id as u8]) });
                prop_assert_eq!(r.is_ok(), model.insert(id));
            } else {
                prop_assert_eq!(c.del_peer(id).is_ok(), model.remove(&id));
            }
        }
        let mut ids: Vec<u32> = c.peers().as_slice().iter().map(|p| p.id).collect();
        ids.sort();
        prop_assert_eq!(ids, model.into_iter().collect::<Vec<_>>());
    }
}

/// Each service has its own counter slot while it exists; a deleted
/// service's slot goes to the next one added.
#[test]
fn services_get_distinct_counter_slots() {
    let mut c = configured();
    c.add_vip(vip()).unwrap();
    for port in 1..=5 {
        c.add_service(VIP, port, Mode::Balance, None).unwrap();
    }
    let slots = |c: &Config| {
        c.services()
            .as_slice()
            .iter()
            .map(|s| (s.port, s.slot))
            .collect::<Vec<_>>()
    };
    assert_eq!(slots(&c), [(1, 0), (2, 1), (3, 2), (4, 3), (5, 4)]);
    c.del_service(VIP, 2).unwrap();
    c.del_service(VIP, 4).unwrap();
    c.add_service(VIP, 6, Mode::Balance, None).unwrap();
    c.add_service(VIP, 7, Mode::Balance, None).unwrap();
    c.add_service(VIP, 8, Mode::Balance, None).unwrap();
    assert_eq!(slots(&c), [(1, 0), (3, 2), (5, 4), (6, 1), (7, 3), (8, 5)]);
    // Full: every slot distinct.
    let mut port = 100;
    while c.add_service(VIP, port, Mode::Balance, None).is_ok() {
        port += 1;
    }
    let mut all: Vec<u8> = c.services().as_slice().iter().map(|s| s.slot).collect();
    all.sort_unstable();
    assert_eq!(all, (0..MAX_SERVICES as u8).collect::<Vec<_>>());
}

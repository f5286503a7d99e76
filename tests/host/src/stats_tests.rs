use crate::balance::Decision;
use crate::membership::Refusal;
use crate::replay::Rejection;
use crate::stats::{Counter, Counters};
use crate::wire::DecodeError;

use proptest::prelude::*;

/// The text of every counter after the first two (hook packets and bytes) at 0.
fn rest() -> String {
    Counter::ALL[2..]
        .iter()
        .map(|c| format!("{} 0\n", c.name()))
        .collect()
}

fn text(c: &Counters) -> String {
    let mut s = String::new();
    c.write(&mut s).unwrap();
    s
}

#[test]
fn starts_at_zero() {
    assert_eq!(
        text(&Counters::new().unwrap()),
        format!("hook_packets 0\nhook_bytes 0\n{}", rest())
    );
}

proptest! {
    /// Packets and bytes add up exactly, whatever the lengths.
    #[test]
    fn counts_every_packet(lens in proptest::collection::vec(any::<u32>(), 0..200)) {
        let c = Counters::new().unwrap();
        for &len in &lens {
            c.count_hook_packet(len);
        }
        let bytes: u64 = lens.iter().map(|&l| u64::from(l)).sum();
        prop_assert_eq!(text(&c), format!("hook_packets {}\nhook_bytes {}\n{}", lens.len(), bytes, rest()));
    }
}

/// Counting from several threads at once loses nothing (the hook runs on
/// every CPU concurrently).
#[test]
fn concurrent_counting_is_exact() {
    let c = Counters::new().unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..10_000 {
                    c.count_hook_packet(3);
                }
            });
        }
    });
    assert_eq!(
        text(&c),
        format!("hook_packets 40000\nhook_bytes 120000\n{}", rest())
    );
}

#[test]
fn decisions_have_a_counter_each() {
    let c = Counters::new().unwrap();
    for d in [
        Decision::NotVip,
        Decision::NewConnection,
        Decision::Held,
        Decision::Owned,
        Decision::NotOwner,
        Decision::NotOwner,
        Decision::NotHeld,
        Decision::Fragment,
        Decision::Unconfigured,
    ] {
        c.count_decision(d);
    }
    c.bump(Counter::ArpReplies);
    let t = text(&c);
    for line in [
        "vip_new_connections 1",
        "vip_held 1",
        "vip_owned 1",
        "vip_drop_not_owner 2",
        "vip_drop_not_held 1",
        "vip_drop_fragment 1",
        "vip_drop_unconfigured 1",
        "arp_replies 1",
        "hook_packets 0",
    ] {
        assert!(t.lines().any(|l| l == line), "{line} missing from\n{t}");
    }
}

/// Every rejection of a datagram has a counter of its own, and every
/// counter has a distinct name.
#[test]
fn every_drop_reason_has_its_own_counter() {
    let mut seen = std::collections::HashSet::new();
    let mut seen_insert = |c: Counter| seen.insert(c.name());
    for e in DecodeError::ALL {
        assert!(seen_insert(Counter::of_decode_error(e)));
    }
    for r in [
        Refusal::UnknownSender,
        Refusal::WrongAddress,
        Refusal::Replay(Rejection::Duplicate),
        Refusal::Replay(Rejection::TooOld),
    ] {
        assert!(seen_insert(Counter::of_refusal(r)));
    }
    let names: std::collections::HashSet<&str> = Counter::ALL.iter().map(|c| c.name()).collect();
    assert_eq!(names.len(), Counter::ALL.len());
    assert!(names
        .iter()
        .all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
}

/// Operators read the counters' meaning in the admin guide: every counter
/// has its row there (a table row starts with the name).
#[test]
fn every_counter_is_documented() {
    let guide = include_str!("../../../Documentation/admin-guide.rst");
    let undocumented: Vec<&str> = Counter::ALL
        .iter()
        .map(|c| c.name())
        .chain(crate::stats::Gauge::ALL.iter().map(|g| g.name()))
        .filter(|n| {
            !guide
                .lines()
                .any(|l| l.split_whitespace().next() == Some(n))
        })
        .collect();
    assert!(
        undocumented.is_empty(),
        "not in admin-guide.rst: {undocumented:?}"
    );
}

/// A service's count starts at zero when it is added, though its slot
/// counted for a service before it.
#[test]
fn a_service_counts_from_its_start() {
    use crate::stats::ServiceCounters;
    let c = ServiceCounters::new().unwrap();
    c.connection(3);
    c.connection(3);
    c.connection(4);
    assert_eq!((c.connections(3), c.connections(4)), (2, 1));
    c.start(3);
    assert_eq!(c.connections(3), 0, "a new service in slot 3");
    c.connection(3);
    assert_eq!((c.connections(3), c.connections(4)), (1, 1));
    // Slots past the last are ignored.
    c.connection(200);
    c.start(200);
    assert_eq!(c.connections(200), 0);
}

use crate::balance::Decision;
use crate::stats::Counters;

const REST: &str = "vip_owned 0\nvip_drop_not_owner 0\nvip_drop_fragment 0\nvip_drop_unconfigured 0\narp_replies 0\n";
use proptest::prelude::*;

fn text(c: &Counters) -> String {
    let mut s = String::new();
    c.write(&mut s).unwrap();
    s
}

#[test]
fn starts_at_zero() {
    assert_eq!(
        text(&Counters::default()),
        format!("hook_packets 0\nhook_bytes 0\n{REST}")
    );
}

proptest! {
    /// Packets and bytes add up exactly, whatever the lengths.
    #[test]
    fn counts_every_packet(lens in proptest::collection::vec(any::<u32>(), 0..200)) {
        let c = Counters::default();
        for &len in &lens {
            c.count_hook_packet(len);
        }
        let bytes: u64 = lens.iter().map(|&l| u64::from(l)).sum();
        prop_assert_eq!(text(&c), format!("hook_packets {}\nhook_bytes {}\n{REST}", lens.len(), bytes));
    }
}

/// Counting from several threads at once loses nothing (the hook runs on
/// every CPU concurrently).
#[test]
fn concurrent_counting_is_exact() {
    let c = Counters::default();
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
        format!("hook_packets 40000\nhook_bytes 120000\n{REST}")
    );
}

#[test]
fn decisions_have_a_counter_each() {
    let c = Counters::default();
    for d in [
        Decision::NotVip,
        Decision::Owned,
        Decision::NotOwner,
        Decision::NotOwner,
        Decision::Fragment,
        Decision::Unconfigured,
    ] {
        c.count_decision(d);
    }
    c.count_arp_reply();
    assert_eq!(
        text(&c),
        "hook_packets 0\nhook_bytes 0\nvip_owned 1\nvip_drop_not_owner 2\nvip_drop_fragment 1\nvip_drop_unconfigured 1\narp_replies 1\n"
    );
}

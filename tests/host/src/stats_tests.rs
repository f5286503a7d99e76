use crate::stats::Counters;
use proptest::prelude::*;

fn text(c: &Counters) -> String {
    let mut s = String::new();
    c.write(&mut s).unwrap();
    s
}

#[test]
fn starts_at_zero() {
    assert_eq!(text(&Counters::default()), "hook_packets 0\nhook_bytes 0\n");
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
        prop_assert_eq!(text(&c), format!("hook_packets {}\nhook_bytes {}\n", lens.len(), bytes));
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
    assert_eq!(text(&c), "hook_packets 40000\nhook_bytes 120000\n");
}

use crate::output_digest::{Checkpoint, OutputCheck};
use proptest::prelude::*;

const START: u32 = u32::MAX - 100; // the stream wraps the sequence space

/// `data` fed in pieces of the given lengths (cycled), each sent once.
fn fed(data: &[u8], cuts: &[usize]) -> OutputCheck {
    let mut c = OutputCheck::new(START);
    let mut at = 0;
    let mut i = 0;
    while at < data.len() {
        let len = cuts[i % cuts.len()].max(1).min(data.len() - at);
        assert_eq!(
            c.take(START.wrapping_add(at as u32), &data[at..at + len]),
            0
        );
        at += len;
        i += 1;
    }
    c
}

fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn a_checkpoint_at_this_nodes_point_is_checked_at_once() {
    let data = bytes(1000, 1);
    let mut a = fed(&data, &[100]);
    let b = fed(&data, &[7, 300]);
    assert_eq!(a.checkpoint(), b.checkpoint());
    assert_eq!(a.heard(1, b.checkpoint().unwrap()), Some(false));
    let mut other = data.clone();
    other[999] ^= 1;
    let c = fed(&other, &[1000]);
    assert_eq!(a.heard(2, c.checkpoint().unwrap()), Some(true));
}

#[test]
fn a_checkpoint_ahead_is_checked_where_this_node_gets_to() {
    let data = bytes(5000, 2);
    let mut other = data.clone();
    other[10] ^= 0x80;
    let same = fed(&data[..3001], &[1448]).checkpoint().unwrap();
    let differs = fed(&other[..2222], &[512]).checkpoint().unwrap();
    let mut me = OutputCheck::new(START);
    assert_eq!(me.take(START, &data[..1000]), 0);
    // The one that comes sooner is kept.
    assert_eq!(me.heard(1, same), None);
    assert_eq!(me.heard(2, differs), None);
    assert_eq!(me.heard(1, same), None);
    // One piece across its point: checked exactly there.
    assert_eq!(me.take(START.wrapping_add(1000), &data[1000..4000]), 1 << 2);
    // Dropped once checked: more output reports nothing more.
    assert_eq!(me.take(START.wrapping_add(4000), &data[4000..]), 0);
    // A matching one, reached exactly at a piece's end.
    let mut me = OutputCheck::new(START);
    me.heard(3, same);
    assert_eq!(me.take(START, &data[..3001]), 0);
    assert_eq!(me.checkpoint(), Some(same));
}

#[test]
fn a_checkpoint_behind_cannot_be_checked() {
    let data = bytes(300, 3);
    let mut me = fed(&data, &[300]);
    let behind = fed(&bytes(100, 9), &[100]).checkpoint().unwrap();
    assert_eq!(me.heard(1, behind), None);
}

#[test]
fn retransmitted_bytes_are_taken_once() {
    let data = bytes(3000, 4);
    let mut me = OutputCheck::new(START);
    me.take(START, &data[..2000]);
    // A retransmission overlapping what was sent, then new bytes.
    me.take(START.wrapping_add(1500), &data[1500..2500]);
    me.take(START.wrapping_add(500), &data[500..1000]);
    assert_eq!(me.unread(START.wrapping_add(500), 500), None);
    assert_eq!(me.unread(START.wrapping_add(2000), 1000), Some(500));
    assert_eq!(me.unread(START.wrapping_add(1500), 1000), None);
    me.take(START.wrapping_add(2500), &data[2500..]);
    assert_eq!(me.unread(START.wrapping_add(2900), 200), Some(100));
    assert_eq!(me.checkpoint(), fed(&data, &[3000]).checkpoint());
}

#[test]
fn a_gap_loses_the_digest_and_checks_nothing_after() {
    let data = bytes(3000, 5);
    let mut me = OutputCheck::new(START);
    me.take(START, &data[..1000]);
    let ahead = Checkpoint {
        end: START.wrapping_add(2500),
        digest: 0,
    };
    assert_eq!(me.heard(1, ahead), None);
    assert!(!me.is_lost());
    me.take(START.wrapping_add(1500), &data[1500..]);
    assert!(me.is_lost());
    assert_eq!(me.checkpoint(), None);
    assert_eq!(me.take(START.wrapping_add(1000), &data[1000..]), 0);
    assert_eq!(me.heard(1, ahead), None);
}

#[test]
fn a_trailing_zero_byte_changes_the_digest() {
    let data = bytes(16, 7);
    let mut longer = data.clone();
    longer.push(0);
    assert_ne!(
        fed(&data, &[16]).checkpoint().unwrap().digest,
        fed(&longer, &[17]).checkpoint().unwrap().digest
    );
}

proptest! {
    /// However the stream is cut, the digest is the same; one flipped
    /// bit anywhere changes it, at the end and at a checkpoint kept ahead.
    #[test]
    fn the_digest_follows_the_bytes_not_the_segments(
        data in proptest::collection::vec(any::<u8>(), 1..4000),
        cuts_a in proptest::collection::vec(1usize..1500, 1..8),
        cuts_b in proptest::collection::vec(1usize..1500, 1..8),
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let a = fed(&data, &cuts_a);
        let b = fed(&data, &cuts_b);
        prop_assert_eq!(a.checkpoint(), b.checkpoint());
        let mut other = data.clone();
        let at = flip.index(data.len());
        other[at] ^= 1 << bit;
        let c = fed(&other, &cuts_b);
        prop_assert_ne!(a.checkpoint().unwrap().digest, c.checkpoint().unwrap().digest);
        // Checked ahead: a node that has sent nothing yet keeps the
        // other's checkpoint and finds the difference when it gets there.
        let mut me = OutputCheck::new(START);
        prop_assert_eq!(me.heard(0, c.checkpoint().unwrap()), None);
        let mut differ = 0;
        let mut pos = 0;
        for (i, len) in cuts_a.iter().cycle().enumerate() {
            if pos >= data.len() || i > data.len() { break; }
            let len = (*len).min(data.len() - pos);
            differ |= me.take(START.wrapping_add(pos as u32), &data[pos..pos + len]);
            pos += len;
        }
        prop_assert_eq!(differ, 1);
        // The other's checkpoint kept while this node's output is behind,
        // arriving in the middle of it.
        let half = data.len() / 2;
        let mut me = fed(&data[..half], &cuts_a);
        if half < data.len() {
            prop_assert_eq!(me.heard(1, c.checkpoint().unwrap()), None);
            prop_assert_eq!(me.take(START.wrapping_add(half as u32), &data[half..]), 1 << 1);
        }
    }
}

/// A replicated connection's entry must stay within 256 bytes: the check
/// may take 32 of them.
#[test]
fn the_check_fits_its_share_of_an_entry() {
    assert!(std::mem::size_of::<OutputCheck>() <= 32);
}

/// The digest's cost per byte of output, on the host (the replicate
/// hook's added work per byte sent; `BENCH=digest make bench`):
/// `cargo test --release -p tpcluster-host-tests output_digest_cost -- --ignored --nocapture`.
#[test]
#[ignore]
fn output_digest_cost() {
    use std::time::Instant;
    const TOTAL: usize = 256 << 20;
    let data = bytes(1 << 20, 11);
    for piece in [1448usize, 65_536] {
        let mut c = OutputCheck::new(START);
        let start = Instant::now();
        let mut at = 0usize;
        while at < TOTAL {
            let off = at % data.len();
            let len = piece.min(data.len() - off);
            c.take(START.wrapping_add(at as u32), &data[off..off + len]);
            at += len;
        }
        let ns = start.elapsed().as_nanos() as f64;
        assert!(c.checkpoint().is_some());
        // As the VM benchmarks print their figures (tools/bench_report.py).
        println!(
            ">> DATA METRIC digest.ns_per_kib.piece_{piece} ns {:.1}",
            ns / (TOTAL as f64 / 1024.0)
        );
        println!(
            ">> DATA METRIC digest.throughput.piece_{piece} MiB/s {:.0}",
            TOTAL as f64 / (1 << 20) as f64 / (ns / 1e9)
        );
    }
}

/// Outputs of different lengths: once this node's stack sent its FIN, a
/// checkpoint beyond its end is of a replica that wrote more, kept or
/// heard after.
#[test]
fn a_replica_that_wrote_more_is_found_at_the_fin() {
    let data = bytes(100, 8);
    let mut me = fed(&data[..90], &[90]);
    let longer = fed(&data, &[100]).checkpoint().unwrap();
    assert_eq!(me.heard(2, longer), None, "kept: more may come");
    me.finish();
    // The kept one is dropped, not judged: it comes again.
    assert_eq!(
        me.take(START.wrapping_add(90), &data[90..]),
        0,
        "nothing kept"
    );
    let mut me = fed(&data[..90], &[90]);
    me.heard(2, longer);
    me.finish();
    assert_eq!(me.heard(2, longer), Some(true));
    assert_eq!(me.heard(1, longer), Some(true));
    // Level, and behind, as before.
    let level = fed(&data[..90], &[7]).checkpoint().unwrap();
    assert_eq!(me.heard(1, level), Some(false));
    assert_eq!(
        me.heard(1, fed(&data[..50], &[50]).checkpoint().unwrap()),
        None
    );
    // The other way: a replica that wrote less finds nothing to say, the
    // one that wrote more finds it when that one finishes... or, with its
    // own FIN sent first, at once.
    let mut short = fed(&data[..90], &[90]);
    short.finish();
    assert_eq!(short.heard(0, longer), Some(true));
}

/// With one checkpoint kept at a time, a replica other than the one
/// checked last goes first: a backup whose reports always come first
/// does not keep the other from ever being checked.
#[test]
fn every_replica_has_its_turn() {
    let data = bytes(4000, 9);
    let at = |n: usize| fed(&data[..n], &[n]).checkpoint().unwrap();
    let mut me = OutputCheck::new(START);
    assert_eq!(me.heard(1, at(1000)), None);
    assert_eq!(me.take(START, &data[..1000]), 0); // 1 checked last
    assert_eq!(me.heard(1, at(1500)), None);
    assert_eq!(me.heard(2, at(2500)), None, "2's turn, though later");
    assert_eq!(me.heard(1, at(1200)), None, "1 waits");
    let mut other = data.clone();
    other[2400] ^= 1;
    // 2 is kept: checked at 2500 (matching), then 1 again may be kept.
    assert_eq!(me.take(START.wrapping_add(1000), &data[1000..3000]), 0);
    let wrong = fed(&other[..3500], &[3500]).checkpoint().unwrap();
    assert_eq!(me.heard(2, at(3200)), None);
    assert_eq!(me.heard(1, wrong), None, "1's turn now");
    assert_eq!(me.take(START.wrapping_add(3000), &data[3000..]), 1 << 1);
}

use crate::replay::{Rejection, ReplayWindow, WINDOW};
use proptest::{collection::vec, prelude::*};
use std::collections::HashSet;

#[test]
fn first_counter_is_accepted_whatever_it_is() {
    for first in [0, 1, WINDOW, u64::MAX] {
        let mut w = ReplayWindow::new();
        assert_eq!(w.highest(), None);
        assert_eq!(w.accept(first), Ok(()));
        assert_eq!(w.highest(), Some(first));
        assert_eq!(w.accept(first), Err(Rejection::Duplicate));
    }
}

#[test]
fn in_order_then_replayed() {
    let mut w = ReplayWindow::new();
    for c in 0..5000 {
        assert_eq!(w.accept(c), Ok(()), "{c}");
    }
    for c in 5000 - WINDOW..5000 {
        assert_eq!(w.accept(c), Err(Rejection::Duplicate), "{c}");
    }
    for c in 0..5000 - WINDOW {
        assert_eq!(w.accept(c), Err(Rejection::TooOld), "{c}");
    }
}

#[test]
fn window_edge() {
    let mut w = ReplayWindow::new();
    w.accept(10_000).unwrap();
    assert_eq!(w.accept(10_000 - WINDOW), Err(Rejection::TooOld));
    assert_eq!(w.accept(10_000 - WINDOW + 1), Ok(()));
    assert_eq!(w.accept(10_000 - 1), Ok(()));
    // Sliding by one pushes the oldest counter out.
    w.accept(10_001).unwrap();
    assert_eq!(w.accept(10_001 - WINDOW), Err(Rejection::TooOld));
}

/// Counters near u64::MAX neither overflow nor wrap around.
#[test]
fn near_u64_max() {
    let mut w = ReplayWindow::new();
    w.accept(u64::MAX - 2 * WINDOW).unwrap();
    assert_eq!(w.accept(u64::MAX), Ok(()));
    assert_eq!(w.accept(u64::MAX - 1), Ok(()));
    assert_eq!(w.accept(u64::MAX - (WINDOW - 1)), Ok(()));
    assert_eq!(w.accept(u64::MAX - WINDOW), Err(Rejection::TooOld));
    assert_eq!(w.accept(u64::MAX), Err(Rejection::Duplicate));
    assert_eq!(w.accept(0), Err(Rejection::TooOld));
    assert_eq!(w.highest(), Some(u64::MAX));
}

/// A jump far ahead forgets everything older, and bits left by old counters
/// in reused bitmap words do not mark new counters as seen.
#[test]
fn jump_clears_stale_bits() {
    let mut w = ReplayWindow::new();
    for c in 0..WINDOW {
        w.accept(c).unwrap();
    }
    for jump in [WINDOW, WINDOW + 64, 3 * WINDOW + 5, 1 << 40] {
        let mut v = w.clone();
        v.accept(jump + WINDOW - 1).unwrap();
        for c in jump..jump + WINDOW - 1 {
            assert_eq!(v.accept(c), Ok(()), "jump {jump} counter {c}");
        }
    }
}

/// The channel's counter scheme: each opening starts at the real-time
/// clock in nanoseconds and counts up by one. A restart's counters are above
/// all of the previous incarnation's, so no reset is needed and the old
/// incarnation's datagrams are rejected.
#[test]
fn restart_counters_start_above_the_previous_incarnation() {
    let first_start: u64 = 1_700_000_000_000_000_000;
    let mut w = ReplayWindow::new();
    for seq in 0..3000 {
        w.accept(first_start + seq).unwrap();
    }
    // Restarted one second later.
    let second_start = first_start + 1_000_000_000;
    assert_eq!(w.accept(second_start), Ok(()));
    for seq in 0..3000 {
        assert_eq!(w.accept(first_start + seq), Err(Rejection::TooOld));
    }
    assert_eq!(w.accept(second_start + 1), Ok(()));
}

/// Reference semantics: a counter is too old if it is `WINDOW` or more
/// behind the highest accepted, else a duplicate if accepted before.
#[derive(Default)]
struct Model {
    seen: HashSet<u64>,
    top: Option<u64>,
}

impl Model {
    fn accept(&mut self, c: u64) -> Result<(), Rejection> {
        if let Some(top) = self.top {
            if c <= top && top - c >= WINDOW {
                return Err(Rejection::TooOld);
            }
        }
        if !self.seen.insert(c) {
            return Err(Rejection::Duplicate);
        }
        self.top = Some(self.top.map_or(c, |t| t.max(c)));
        Ok(())
    }
}

fn base() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0),
        Just(u64::MAX - 4 * WINDOW),
        any::<u64>().prop_map(|b| b >> 1)
    ]
}

proptest! {
    /// The window agrees with the model on any sequence, so each counter is
    /// accepted at most once and never when too old.
    #[test]
    fn agrees_with_model(base in base(), offsets in vec(0..4 * WINDOW, 0..600)) {
        let mut w = ReplayWindow::new();
        let mut m = Model::default();
        let mut accepted = HashSet::new();
        for off in offsets {
            let c = base.saturating_add(off);
            let got = w.accept(c);
            prop_assert_eq!(got, m.accept(c), "counter {}", c);
            if got.is_ok() {
                prop_assert!(accepted.insert(c), "{} accepted twice", c);
            }
        }
    }

    /// Any permutation of `WINDOW` consecutive counters is accepted, each
    /// exactly once.
    #[test]
    fn permutation_within_window(
        base in base(),
        perm in Just((0..WINDOW).collect::<Vec<_>>()).prop_shuffle(),
    ) {
        let mut w = ReplayWindow::new();
        for &off in &perm {
            prop_assert_eq!(w.accept(base + off), Ok(()));
        }
        for &off in &perm {
            prop_assert_eq!(w.accept(base + off), Err(Rejection::Duplicate));
        }
    }
}

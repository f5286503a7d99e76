//! The client's stream kept for a replica brought in later
//! (`replicate/client_log.rs`).

use crate::client_log::{ClientLog, LogBytes, Lost};
use proptest::prelude::*;

/// A store with a memory limit, as the kernel's may fail.
#[derive(Default)]
struct Store {
    bytes: Vec<u8>,
    memory: usize,
}

impl LogBytes for Store {
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn try_append(&mut self, more: &[u8]) -> bool {
        if self.bytes.len() + more.len() > self.memory {
            return false;
        }
        self.bytes.extend_from_slice(more);
        true
    }

    fn release(&mut self) {
        self.bytes = Vec::new();
    }
}

#[test]
fn a_lent_log_is_a_shell_until_given_back_recorded_into_or_lost() {
    let mut l = log(1000, 8);
    assert_eq!(l.record(1000, b"ab"), None);
    let mut out = l.lend().expect("lent");
    assert!(l.is_lent() && !out.is_lent());
    assert!(l.lend().is_none(), "lent once at a time");
    assert_eq!(l.bytes_from(1000, 10), b"", "the shell holds nothing");
    assert_eq!(out.record(1002, b"cd"), None);
    l.give_back(out);
    assert!(!l.is_lent());
    assert_eq!(l.bytes_from(1000, 10), b"abcd");
    // Lost while lent: given back lost, and never lent again.
    let mut out = l.lend().unwrap();
    assert_eq!(out.record(1004, b"efghi"), Some(Lost::Bound));
    l.give_back(out);
    assert!(!l.is_whole() && l.lend().is_none());
    // A log not lent takes nothing back, nor one of another stream (an
    // entry replaced by a new connection on the same tuple meanwhile).
    let mut m = log(1000, 8);
    m.give_back(log(1000, 8));
    assert!(!m.is_lent());
    let mut other = log(5000, 8);
    let out = m.lend().unwrap();
    let _ = other.lend().unwrap();
    other.give_back(out);
    assert!(other.is_lent(), "not the same stream");
}

fn log(start: u32, bound: usize) -> ClientLog<Store> {
    ClientLog::new(
        start,
        None,
        Store {
            bytes: Vec::new(),
            memory: usize::MAX,
        },
        bound,
    )
}

#[test]
fn reads_recorded_in_order_are_the_stream_across_the_wrap() {
    let start = u32::MAX - 2;
    let mut l = log(start, 100);
    assert_eq!(l.record(start, b"hello"), None);
    // A read again of what is held, and beyond it.
    assert_eq!(l.record(start.wrapping_add(3), b"lo, world"), None);
    assert_eq!(l.end(), start.wrapping_add(12));
    assert_eq!(l.bytes_from(start, 100), b"hello, world");
    assert_eq!(l.bytes_from(start.wrapping_add(7), 3), b"wor");
    assert_eq!(
        l.bytes_from(start.wrapping_add(12), 10),
        b"",
        "none past the end"
    );
    assert_eq!(
        l.bytes_from(start.wrapping_sub(1), 10),
        b"",
        "none before the start"
    );
    assert!(l.is_whole());
}

#[test]
fn a_gap_the_bound_or_no_memory_ends_the_log_for_good() {
    let mut l = log(1000, 100);
    assert_eq!(
        l.record(1005, b"x"),
        Some(Lost::Gap),
        "bytes read unrecorded"
    );
    assert!(!l.is_whole());
    assert_eq!(l.record(1000, b"late"), None, "nothing more once lost");
    assert_eq!(l.bytes_from(1000, 10), b"");

    let mut l = log(1000, 8);
    assert_eq!(l.record(1000, b"12345678"), None, "exactly the bound");
    assert_eq!(l.record(1008, b"9"), Some(Lost::Bound));
    assert!(!l.is_whole());

    let mut l = ClientLog::new(
        1000,
        None,
        Store {
            bytes: Vec::new(),
            memory: 4,
        },
        100,
    );
    assert_eq!(l.record(1000, b"12345"), Some(Lost::Gap), "no memory");
    assert!(!l.is_whole());
}

proptest! {
    /// However the application's reads cut the stream (each may repeat
    /// some of what the one before read), the log holds the stream read so
    /// far, byte for byte, up to its bound.
    #[test]
    fn any_reads_rebuild_the_stream(
        start in any::<u32>(),
        stream in proptest::collection::vec(any::<u8>(), 0..400),
        cuts in proptest::collection::vec((1usize..64, 0usize..8), 0..40),
        bound in 0usize..500,
    ) {
        let mut l = log(start, bound);
        let mut at = 0usize;
        for (len, back) in cuts {
            let from = at.saturating_sub(back);
            let to = (at + len).min(stream.len());
            if from >= to {
                break;
            }
            l.record(start.wrapping_add(from as u32), &stream[from..to]);
            at = to;
        }
        if at <= bound {
            prop_assert!(l.is_whole());
            prop_assert_eq!(l.bytes_from(start, usize::MAX), &stream[..at]);
        } else {
            prop_assert!(!l.is_whole());
        }
    }
}

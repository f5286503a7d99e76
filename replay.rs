// SPDX-License-Identifier: GPL-2.0

//! Anti-replay window of one sender's datagram counters, a sliding bitmap
//! after WireGuard's and RFC 6479's.
//!
//! Kernel-independent: built into the module and into the host test crate.
//!
//! Every datagram's header carries a counter that its sender increases
//! strictly. A receiver keeps one [`ReplayWindow`] per sender and feeds it
//! each counter only after the datagram's MAC has verified (otherwise a
//! forger could slide the window and make genuine datagrams look old). The
//! window accepts each counter at most once, accepts counters that arrive
//! out of order as long as they are less than [`WINDOW`] behind the highest
//! accepted, and rejects older ones.
//!
//! Counter space: a sender's counters must also increase across its
//! restarts, or its first datagrams after a restart would be taken for
//! replays. The channel starts each opening's counters at the real-time
//! clock in nanoseconds (`membership.rs`), so the window never needs a reset
//! and an earlier incarnation's datagrams are never accepted again.

/// How many counters, counting down from the highest accepted, the window
/// remembers: a counter `WINDOW` or more behind the highest is rejected.
pub(crate) const WINDOW: u64 = 1024;

/// Bits per bitmap word.
const WORD_BITS: u64 = u64::BITS as u64;

/// Words in the bitmap ring: the [`WINDOW`] counters span at most this many
/// words when they do not start on a word boundary.
const WORDS: usize = (WINDOW / WORD_BITS) as usize + 1;

/// Why a counter was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// Accepted before: a replay, or a duplicate from the network.
    Duplicate,
    /// [`WINDOW`] or more behind the highest counter accepted.
    TooOld,
}

/// The counters accepted from one sender.
///
/// # Invariants
///
/// All-zero bytes are a valid, empty window (what [`ReplayWindow::new`]
/// returns), so that tables of windows can be allocated zeroed.
///
/// Bit `c % 64` of word `(c / 64) % WORDS` records counter `c`, for the
/// counters of the words from `top / 64 - (WORDS - 1)` to `top / 64`.
/// Advancing `top` clears the words it enters, so a word never holds bits of
/// a counter it no longer stands for.
#[derive(Clone, Debug)]
pub(crate) struct ReplayWindow {
    /// Highest counter accepted; meaningless until `started`.
    top: u64,
    /// Something was accepted since creation.
    started: bool,
    /// The bitmap ring.
    bits: [u64; WORDS],
}

impl Default for ReplayWindow {
    fn default() -> Self {
        Self::new()
    }
}

impl ReplayWindow {
    /// A window that has accepted nothing: the first counter is accepted,
    /// whatever its value.
    pub(crate) const fn new() -> Self {
        ReplayWindow {
            top: 0,
            started: false,
            bits: [0; WORDS],
        }
    }

    /// Highest counter accepted, if any.
    #[cfg(test)]
    pub(crate) fn highest(&self) -> Option<u64> {
        if !self.started {
            None
        } else {
            Some(self.top)
        }
    }

    /// Accepts `counter` if it was not accepted before and is less than
    /// [`WINDOW`] behind the highest accepted, and records it. Call only
    /// for authenticated datagrams.
    pub(crate) fn accept(&mut self, counter: u64) -> Result<(), Rejection> {
        if !self.started || counter > self.top {
            let old = self.top / WORD_BITS;
            let new = counter / WORD_BITS;
            // Clear the words the window slides into, at most all of them
            // (a jump of WORDS words or more leaves nothing in the window).
            // `old + i <= new`: no overflow, even near u64::MAX.
            let clear = if !self.started {
                WORDS as u64
            } else {
                (new - old).min(WORDS as u64)
            };
            for i in 1..=clear {
                self.bits[slot(old + i)] = 0;
            }
            self.top = counter;
            self.started = true;
        } else if self.top - counter >= WINDOW {
            return Err(Rejection::TooOld);
        }
        let word = &mut self.bits[slot(counter / WORD_BITS)];
        let bit = 1u64 << (counter % WORD_BITS);
        if *word & bit != 0 {
            return Err(Rejection::Duplicate);
        }
        *word |= bit;
        Ok(())
    }
}

/// Index in the ring of bitmap word `word` (a counter divided by 64); always
/// less than `WORDS`, so indexing with it cannot panic.
fn slot(word: u64) -> usize {
    (word % WORDS as u64) as usize
}

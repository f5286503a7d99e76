// SPDX-License-Identifier: GPL-2.0

//! Replicas compare what their applications wrote.
//!
//! Every replica's stack sends the connection's output; only the primary's
//! leaves. A backup whose application wrote other bytes (it read the
//! clock, a random number, its host name) would serve the client another
//! conversation the moment it took over. So each replica keeps a running
//! digest of the bytes its stack sent, by offset in the cluster's sequence
//! space, and its progress reports carry a checkpoint: the digest of every
//! byte up to where it has sent. A replica that receives a checkpoint of a
//! point it has passed cannot check it (it keeps no history); one that has
//! not reached it yet keeps it, and checks it when its own output gets
//! there — exactly there, whatever the segments' sizes. Of two replicas one
//! is always behind, or both are level, so every stretch of output is
//! checked by someone, and a difference anywhere changes every later
//! checkpoint (the digest runs from the first byte).
//!
//! The digest is a 64-bit mix of 8-byte words, folded to 32 bits on the
//! wire: an accidental difference goes unnoticed with odds of 2^-32 per
//! check. It is not a MAC: replicas trust each other (the channel
//! authenticates them); it catches applications that differ, not forgers.
//! Kernel-independent, tested on the host.

use crate::replica::{after, MAX_SET};
pub(crate) use crate::wire::Checkpoint;

/// Mixes a 64-bit word (SplitMix64's finalizer: every input bit moves
/// about half the output bits).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A running digest of a byte stream, independent of how it is cut into
/// pieces: 4-byte words, each mixed into a 64-bit state.
///
/// # Invariants
///
/// `fill < 4`, and the bytes of `word` above its low `fill` are zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Running {
    /// Every whole word taken so far, mixed in.
    state: u64,
    /// The bytes of a word not yet whole, little-endian.
    word: u32,
    fill: u8,
}

impl Running {
    const fn new() -> Self {
        Self {
            state: 0x6a09_e667_f3bc_c908,
            word: 0,
            fill: 0,
        }
    }

    fn take(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.word |= u32::from(b) << (8 * self.fill);
            self.fill += 1;
            if self.fill == 4 {
                self.state = mix(self.state ^ u64::from(self.word));
                self.word = 0;
                self.fill = 0;
            }
        }
    }

    /// The digest of what was taken, the pending bytes and their count
    /// included (a stream and the same with a zero byte more differ).
    fn value(&self) -> u32 {
        let last = mix(self.state ^ mix(u64::from(self.word) | (u64::from(self.fill) << 32)));
        (last ^ (last >> 32)) as u32
    }
}

/// No replica's checkpoint is kept.
const NONE: u8 = u8::MAX;

/// One replica's output digest and the one checkpoint of another replica
/// it still has to check. (One: an entry must stay small, and a
/// checkpoint dropped for another comes again with a later report; every
/// replica's last one is checked once the output stops.)
///
/// # Invariants
///
/// `running` covers exactly the bytes before `next`. If `kept_index` is
/// not [`NONE`], `kept` (of replica `kept_index` in the set) ends after
/// `next`. Once `lost`, nothing is kept and nothing checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OutputCheck {
    next: u32,
    running: Running,
    lost: bool,
    kept_index: u8,
    kept: Checkpoint,
}

impl OutputCheck {
    /// A connection whose output starts at server sequence number `start`
    /// (cluster space: the cluster ISN plus one).
    pub(crate) const fn new(start: u32) -> Self {
        Self {
            next: start,
            running: Running::new(),
            lost: false,
            kept_index: NONE,
            kept: Checkpoint { end: 0, digest: 0 },
        }
    }

    /// This node's checkpoint: its digest up to where its output has come.
    /// `None` once the digest was lost (see [`OutputCheck::take`]).
    pub(crate) fn checkpoint(&self) -> Option<Checkpoint> {
        (!self.lost).then(|| Checkpoint {
            end: self.next,
            digest: self.running.value(),
        })
    }

    fn kept(&self) -> Option<(usize, Checkpoint)> {
        (self.kept_index != NONE).then_some((usize::from(self.kept_index), self.kept))
    }

    /// Takes the checkpoint replica `index` (of the set) reported. Returns
    /// `Some(true)` if it differs from this node's output there,
    /// `Some(false)` if it matches; `None` if it cannot be checked now:
    /// beyond this node's output, it is kept and checked there
    /// ([`OutputCheck::take`]) unless one that comes sooner is kept
    /// already; behind it, or with the digest lost, it is dropped.
    pub(crate) fn heard(&mut self, index: usize, c: Checkpoint) -> Option<bool> {
        if self.lost || index >= MAX_SET {
            return None;
        }
        if c.end == self.next {
            return Some(c.digest != self.running.value());
        }
        let sooner = match self.kept() {
            Some((_, k)) => after(k.end, c.end),
            None => true,
        };
        if after(c.end, self.next) && sooner {
            // Below MAX_SET, checked above.
            self.kept_index = index as u8;
            self.kept = c;
        }
        None
    }

    /// Where a piece of `len` bytes sent from server sequence number `at`
    /// starts to be new: the offset in it past what was taken already;
    /// `None` if none of it is new (a retransmission) or the digest is
    /// lost. Lets a caller read only those bytes of a packet.
    pub(crate) fn unread(&self, at: u32, len: usize) -> Option<usize> {
        if self.lost {
            return None;
        }
        if !after(self.next, at) {
            return Some(0);
        }
        let skip = self.next.wrapping_sub(at) as usize;
        (skip < len).then_some(skip)
    }

    /// Takes `bytes`, which this node's stack sent from server sequence
    /// number `at` (cluster space): the part not taken before, if it
    /// continues this node's output. A piece that starts beyond it (bytes
    /// this node never saw go out) loses the digest for the rest of the
    /// connection. Returns the replicas (bit i: index i) whose kept
    /// checkpoint this output reached and found different; a matching one
    /// is dropped as well.
    pub(crate) fn take(&mut self, at: u32, bytes: &[u8]) -> u32 {
        if self.lost {
            return 0;
        }
        if after(at, self.next) {
            self.lost = true;
            self.kept_index = NONE;
            return 0;
        }
        let skip = self.next.wrapping_sub(at) as usize;
        let Some(rest) = bytes.get(skip..) else {
            return 0;
        };
        let len = u32::try_from(rest.len()).unwrap_or(u32::MAX);
        let Some((index, kept)) = self
            .kept()
            .filter(|(_, k)| k.end.wrapping_sub(self.next) <= len)
        else {
            self.running.take(rest);
            self.next = self.next.wrapping_add(len);
            return 0;
        };
        // Up to the kept checkpoint, checked there, then the rest.
        let (now, later) = rest.split_at(kept.end.wrapping_sub(self.next) as usize);
        self.running.take(now);
        self.next = kept.end;
        self.kept_index = NONE;
        let differ = if kept.digest != self.running.value() {
            1 << index
        } else {
            0
        };
        self.running.take(later);
        self.next = self.next.wrapping_add(later.len() as u32);
        differ
    }
}

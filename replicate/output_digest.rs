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
//! checked by someone while output flows, and a difference anywhere changes
//! every later checkpoint (the digest runs from the first byte). Once a
//! replica's stack has sent its FIN, a checkpoint beyond its end is of a
//! replica that wrote more.
//!
//! The digest steps 8-byte words into a 64-bit state, a bijection of the
//! state per word (so one differing word always shows), mixed in full and
//! folded to 32 bits on the wire: an accidental difference goes unnoticed
//! with odds of about 2^-32 per check. It is not a MAC: replicas trust each
//! other (the channel authenticates them); it catches applications that
//! differ, not forgers. Kernel-independent, tested on the host.

use crate::replica::{after, MAX_SET};
pub(crate) use crate::wire::Checkpoint;

/// Mixes a 64-bit word (SplitMix64's finalizer: every input bit moves
/// about half the output bits).
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Takes one 8-byte word into the state. For a given word this is a
/// bijection of the state (an xor, a multiplication by an odd number, a
/// rotation), so two streams that differ in one word keep different states
/// to the end; the full mix is left to [`Running::value`].
fn step(state: u64, word: u64) -> u64 {
    (state ^ word)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .rotate_left(29)
}

/// A running digest of a byte stream, independent of how it is cut into
/// pieces: 8-byte words, each stepped into a 64-bit state.
///
/// # Invariants
///
/// `pending` holds the bytes of a word not yet whole, little-endian, in
/// its low 7 bytes, and their count (below 8) in its top byte; the bytes
/// above the count are zero. (One field, not two: an entry must stay
/// small.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Running {
    /// Every whole word taken so far.
    state: u64,
    pending: u64,
}

impl Running {
    const fn new() -> Self {
        Self {
            state: 0x6a09_e667_f3bc_c908,
            pending: 0,
        }
    }

    fn fill(&self) -> u64 {
        self.pending >> 56
    }

    fn take(&mut self, bytes: &[u8]) {
        let mut bytes = bytes;
        // Complete a word begun before, a byte at a time.
        while self.fill() != 0 {
            let Some((&b, rest)) = bytes.split_first() else {
                return;
            };
            self.take_byte(b);
            bytes = rest;
        }
        // Whole words, as they come.
        let mut words = bytes.chunks_exact(8);
        for w in &mut words {
            let mut le = [0u8; 8];
            le.copy_from_slice(w);
            self.state = step(self.state, u64::from_le_bytes(le));
        }
        for &b in words.remainder() {
            self.take_byte(b);
        }
    }

    fn take_byte(&mut self, b: u8) {
        let fill = self.fill();
        if fill == 7 {
            let word = (self.pending & ((1 << 56) - 1)) | (u64::from(b) << 56);
            self.state = step(self.state, word);
            self.pending = 0;
        } else {
            let bytes = self.pending & ((1 << 56) - 1);
            self.pending = bytes | (u64::from(b) << (8 * fill)) | ((fill + 1) << 56);
        }
    }

    /// The digest of what was taken, the pending bytes and their count
    /// included (a stream and the same with a zero byte more differ).
    fn value(&self) -> u32 {
        let last = mix(self.state ^ mix(self.pending));
        (last ^ (last >> 32)) as u32
    }
}

/// No replica's checkpoint is kept, or none was checked yet.
const NONE: u8 = u8::MAX;

/// Where this node's output stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Output {
    /// More may come.
    Open,
    /// This node's stack sent its FIN: nothing more will come, so a
    /// checkpoint beyond it is of a replica that wrote more.
    Finished,
    /// A piece came that started beyond what was taken: nothing is checked
    /// any more.
    Lost,
}

/// One replica's output digest and the one checkpoint of another replica
/// it still has to check. (One: an entry must stay small. A checkpoint
/// dropped for another comes again with a later report, and a replica
/// other than the one checked last is kept first, so that every replica
/// has its turn.)
///
/// # Invariants
///
/// `running` covers exactly the bytes before `next`. If `kept_index` is
/// not [`NONE`], `kept` (of replica `kept_index` in the set) ends after
/// `next`, and the output is [`Output::Open`]. Once [`Output::Lost`],
/// nothing is kept and nothing checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OutputCheck {
    next: u32,
    running: Running,
    output: Output,
    kept_index: u8,
    /// The replica whose checkpoint was checked last.
    last_checked: u8,
    kept: Checkpoint,
}

impl OutputCheck {
    /// A connection whose output starts at server sequence number `start`
    /// (cluster space: the cluster ISN plus one).
    pub(crate) const fn new(start: u32) -> Self {
        Self {
            next: start,
            running: Running::new(),
            output: Output::Open,
            kept_index: NONE,
            last_checked: NONE,
            kept: Checkpoint { end: 0, digest: 0 },
        }
    }

    /// Whether the digest was lost: a piece came that started beyond what
    /// was taken, and nothing of this output is checked any more.
    pub(crate) fn is_lost(&self) -> bool {
        self.output == Output::Lost
    }

    /// This node's checkpoint: its digest up to where its output has come.
    /// `None` once the digest was lost (see [`OutputCheck::take`]).
    pub(crate) fn checkpoint(&self) -> Option<Checkpoint> {
        (self.output != Output::Lost).then(|| Checkpoint {
            end: self.next,
            digest: self.running.value(),
        })
    }

    fn kept(&self) -> Option<(usize, Checkpoint)> {
        (self.kept_index != NONE).then_some((usize::from(self.kept_index), self.kept))
    }

    /// Takes the checkpoint replica `index` (of the set) reported. Returns
    /// `Some(true)` if it differs from this node's output there (or lies
    /// beyond this node's finished output), `Some(false)` if it matches;
    /// `None` if it cannot be checked now: beyond this node's open output,
    /// it is kept and checked there ([`OutputCheck::take`]), unless one
    /// kept already goes first; behind it, or with the digest lost, it is
    /// dropped.
    pub(crate) fn heard(&mut self, index: usize, c: Checkpoint) -> Option<bool> {
        if self.output == Output::Lost || index >= MAX_SET {
            return None;
        }
        if c.end == self.next {
            self.last_checked = index as u8;
            return Some(c.digest != self.running.value());
        }
        if !after(c.end, self.next) {
            return None;
        }
        if self.output == Output::Finished {
            self.last_checked = index as u8;
            return Some(true);
        }
        // Below MAX_SET, checked above.
        let index = index as u8;
        let first = match self.kept() {
            None => true,
            // Another replica than the one checked last goes first, then
            // the sooner checkpoint.
            Some((k, kept)) => {
                let turn = |i: u8| i != self.last_checked;
                match (turn(index), turn(k as u8)) {
                    (true, false) => true,
                    (false, true) => false,
                    _ => after(kept.end, c.end),
                }
            }
        };
        if first {
            self.kept_index = index;
            self.kept = c;
        }
        None
    }

    /// Where a piece of `len` bytes sent from server sequence number `at`
    /// starts to be new: the offset in it past what was taken already;
    /// `None` if none of it is new (a retransmission) or the digest is
    /// lost. Lets a caller read only those bytes of a packet.
    pub(crate) fn unread(&self, at: u32, len: usize) -> Option<usize> {
        if self.output == Output::Lost {
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
        if self.output == Output::Lost {
            return 0;
        }
        if after(at, self.next) {
            self.output = Output::Lost;
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
        self.last_checked = index as u8;
        let differ = if kept.digest != self.running.value() {
            1 << index
        } else {
            0
        };
        self.running.take(later);
        self.next = self.next.wrapping_add(later.len() as u32);
        differ
    }

    /// This node's stack sent its FIN (after every byte taken): its output
    /// is complete, and from now on a checkpoint heard beyond it is of a
    /// replica that wrote more ([`OutputCheck::heard`]). A checkpoint kept
    /// from before is dropped, not judged: that replica reports again
    /// (every few hundred ms while the connection is tracked), and a kept
    /// one might be a late report of an earlier connection on the same
    /// tuple.
    pub(crate) fn finish(&mut self) {
        if self.output == Output::Open {
            self.output = Output::Finished;
            self.kept_index = NONE;
        }
    }
}

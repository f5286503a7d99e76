// SPDX-License-Identifier: GPL-2.0

//! The client's bytes of one replicated connection, from its first, as
//! this node's application read them: what a replica brought into the set
//! later (catch-up, `Documentation/replicate.rst`) must be given before it
//! can take the live stream. The socket gate records each read before it
//! is made, so the log and the stack's unread bytes are the whole stream.
//!
//! Bounded: a connection whose client sent more than the bound (or whose
//! reads could not all be recorded) is no longer re-protectable, and its
//! log is freed.
//!
//! Kernel-independent: built into the module and into the host test crate,
//! over the byte store the caller gives it ([`LogBytes`]).

use crate::replica::after;
use crate::splice::SynOptions;

/// Where a log keeps its bytes: a growable buffer, empty by default.
pub(crate) trait LogBytes: Default {
    /// The bytes held.
    fn bytes(&self) -> &[u8];
    /// Appends `more`; false if there is no memory for it (nothing
    /// appended then).
    fn try_append(&mut self, more: &[u8]) -> bool;
    /// Gives the memory back: holds nothing after.
    fn release(&mut self);
}

/// The client's SYN options and its stream from its first byte, up to a
/// bound.
///
/// # Invariants
///
/// While whole and not lent, `store` holds the client's bytes from
/// sequence number `start` on, in order and without a gap, at most `bound`
/// of them; once not whole, it holds nothing and never will again. While
/// lent ([`ClientLog::lend`]), it holds nothing and the borrower holds
/// the log.
pub(crate) struct ClientLog<B: LogBytes> {
    /// The options of the client's SYN, if this node still knew them when
    /// it began the log (`replicate/syn_cache.rs`).
    pub(crate) syn: Option<SynOptions>,
    start: u32,
    store: B,
    bound: usize,
    /// Why it is no longer whole, if it is not.
    lost: Option<Lost>,
    lent: bool,
}

/// Why a log stopped being whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lost {
    /// The client sent more than the bound.
    Bound,
    /// A read began past the log's end (bytes read unrecorded), or
    /// memory ran out.
    Gap,
}

impl<B: LogBytes> ClientLog<B> {
    /// An empty log of the stream whose first byte is `start` (the
    /// client's ISN plus one), with the options of its SYN, keeping at
    /// most `bound` bytes in `store`.
    pub(crate) fn new(start: u32, syn: Option<SynOptions>, store: B, bound: usize) -> Self {
        Self {
            syn,
            start,
            store,
            bound,
            lost: None,
            lent: false,
        }
    }

    /// Lends the log out, to record into it with no lock held (growing
    /// it allocates): this one stays an empty shell, [`ClientLog::is_lent`],
    /// until [`ClientLog::give_back`]. `None` if it is lent already or no
    /// longer whole.
    pub(crate) fn lend(&mut self) -> Option<Self> {
        if self.lent || self.lost.is_some() {
            return None;
        }
        let shell = Self {
            syn: self.syn,
            start: self.start,
            store: B::default(),
            bound: self.bound,
            lost: None,
            lent: true,
        };
        Some(core::mem::replace(self, shell))
    }

    /// Whether it is lent out.
    pub(crate) fn is_lent(&self) -> bool {
        self.lent
    }

    /// Takes back the log this one lent ([`ClientLog::lend`]), recorded
    /// into or lost meanwhile.
    pub(crate) fn give_back(&mut self, log: Self) {
        // The same stream: not a log lent by an entry since replaced by a
        // new connection on the same tuple.
        if self.lent && self.start == log.start {
            *self = log;
        }
    }

    /// Whether it still holds the whole stream read so far.
    pub(crate) fn is_whole(&self) -> bool {
        self.lost.is_none()
    }

    /// Why it is no longer whole, if it is not.
    pub(crate) fn lost(&self) -> Option<Lost> {
        self.lost
    }

    /// How many bytes it holds.
    pub(crate) fn len(&self) -> usize {
        self.store.bytes().len()
    }

    /// The sequence number just past the last byte held.
    pub(crate) fn end(&self) -> u32 {
        self.start.wrapping_add(self.store.bytes().len() as u32)
    }

    /// Records `data`, client bytes from sequence number `seq` that the
    /// application is about to read. What the log holds already is skipped
    /// (a read again after a partial one); a start past its end, more than
    /// the bound or no memory end the log. Returns why it ended, if it did
    /// now.
    pub(crate) fn record(&mut self, seq: u32, data: &[u8]) -> Option<Lost> {
        if self.lost.is_some() {
            return None;
        }
        let end = self.end();
        if after(seq, end) {
            return Some(self.lose(Lost::Gap));
        }
        let skip = end.wrapping_sub(seq) as usize;
        let new = data.get(skip..)?;
        if new.is_empty() {
            return None;
        }
        if self.store.bytes().len() + new.len() > self.bound {
            return Some(self.lose(Lost::Bound));
        }
        if !self.store.try_append(new) {
            return Some(self.lose(Lost::Gap));
        }
        None
    }

    /// Ends the log: bytes are about to be read that it cannot record
    /// (no memory to copy them). Returns why it ended, if it did now.
    pub(crate) fn abandon(&mut self) -> Option<Lost> {
        self.is_whole().then(|| self.lose(Lost::Gap))
    }

    fn lose(&mut self, why: Lost) -> Lost {
        self.lost = Some(why);
        self.store.release();
        why
    }

    /// Up to `max` bytes held from sequence number `seq` on; empty if it
    /// holds none from there (past the end, before the start, or not
    /// whole).
    pub(crate) fn bytes_from(&self, seq: u32, max: usize) -> &[u8] {
        let held = self.store.bytes();
        let at = seq.wrapping_sub(self.start) as usize;
        if !self.is_whole() || after(self.start, seq) || at >= held.len() {
            return &[];
        }
        &held[at..held.len().min(at + max)]
    }
}

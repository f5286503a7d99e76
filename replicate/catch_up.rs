// SPDX-License-Identifier: GPL-2.0

//! The catch-ups a node runs, as a connection's primary bringing a replica
//! in, and those it takes part in, as the replica brought in
//! (`Documentation/replicate.rst`, *Restoring redundancy*).
//!
//! A few at a time on each side: a catch-up copies a connection's client
//! stream to another node, and a node that comes back after a failure may
//! be owed thousands. The rest wait for a slot (the primary's next sweep
//! looks again); a slot is freed when the catch-up ends, or after a bound
//! however it went, so that one that stalls (the new node's application
//! does not accept) never holds it for good.
//!
//! Kernel-independent: built into the module and into the host test crate.

use crate::fixed_vec::FixedVec;
use crate::replica::{after, SetChange};
use crate::wire::{CatchUpSyn, Tuple};

/// Most catch-ups a node leads at a time.
pub(crate) const MAX_LEADING: usize = 16;
/// Most joins a node expects at a time (its stack has not answered the
/// played SYN yet).
pub(crate) const MAX_JOINING: usize = 16;
/// How long a catch-up may last before its slot is given up, ms: a replica
/// brought in that has not caught up by then is slower than the client
/// (or its application does not read): it leaves the set, and the slot
/// goes to another.
pub(crate) const LEAD_MS: u64 = 30_000;
/// How long the primary keeps sending the new set after the replica
/// caught up, ms: to any replica that missed it (a lost datagram).
pub(crate) const LINGER_MS: u64 = 1_000;
/// How long a played SYN waits for its stack's answer, ms.
pub(crate) const JOIN_MS: u64 = 5_000;
/// Most client bytes sent to a replica brought in per run of the work (a
/// run is at most 50 ms apart): what its reports have not confirmed is
/// sent again from there.
pub(crate) const BURST_BYTES: usize = 32 * 1024;

/// One catch-up this node leads, as the connection's primary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Leading {
    /// The connection.
    pub(crate) tuple: Tuple,
    /// The node brought in.
    pub(crate) joiner: u32,
    /// How far the node brought in reported it received (client sequence
    /// number): the client's bytes are sent to it from there.
    pub(crate) cursor: u32,
    /// It reported on the connection: its stack holds it.
    pub(crate) heard: bool,
    /// When it began, ms.
    pub(crate) since_ms: u64,
    /// When the node brought in caught up, ms, if it did.
    pub(crate) caught_up_ms: Option<u64>,
}

/// One join this node expects, as the replica brought in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Joining {
    /// The connection.
    pub(crate) tuple: Tuple,
    /// The new set, as its primary sent it.
    pub(crate) set: SetChange,
    /// The client's handshake, played to this node's stack.
    pub(crate) syn: CatchUpSyn,
    /// When it was played, ms.
    pub(crate) since_ms: u64,
}

/// The catch-ups of one node, on the heap (a few KiB).
pub(crate) struct CatchUps {
    leading: FixedVec<Option<Leading>>,
    joining: FixedVec<Option<Joining>>,
}

/// What became of a catch-up that [`CatchUps::end_leading`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// The node brought in caught up.
    CaughtUp,
    /// It did not, within [`LEAD_MS`], or the connection or the role went.
    GaveUp,
}

impl CatchUps {
    /// None yet; `None` without memory. Process context.
    pub(crate) fn new() -> Option<Self> {
        Some(Self {
            leading: FixedVec::from_fn(MAX_LEADING, |_| None)?,
            joining: FixedVec::from_fn(MAX_JOINING, |_| None)?,
        })
    }

    /// How many more this node may lead now.
    pub(crate) fn free_to_lead(&self) -> usize {
        self.leading.iter().filter(|l| l.is_none()).count()
    }

    /// Whether this node leads any.
    pub(crate) fn leads_any(&self) -> bool {
        self.leading.iter().any(Option::is_some)
    }

    /// Begins leading the catch-up of `joiner` on `tuple`, whose client's
    /// stream starts at `client_next`; false if there is no free slot or
    /// this node leads one on `tuple` already.
    pub(crate) fn lead(
        &mut self,
        tuple: Tuple,
        joiner: u32,
        client_next: u32,
        now_ms: u64,
    ) -> bool {
        if self.leading.iter().flatten().any(|l| l.tuple == tuple) {
            return false;
        }
        let Some(slot) = self.leading.iter_mut().find(|l| l.is_none()) else {
            return false;
        };
        *slot = Some(Leading {
            tuple,
            joiner,
            cursor: client_next,
            heard: false,
            since_ms: now_ms,
            caught_up_ms: None,
        });
        true
    }

    /// Takes a report of node `sender` on `tuple`: if it is the node being
    /// brought in, it holds the connection and has received up to
    /// `received` (the cursor only moves forward).
    pub(crate) fn heard(&mut self, tuple: &Tuple, sender: u32, received: u32) {
        for l in self.leading.iter_mut().flatten() {
            if l.tuple == *tuple && l.joiner == sender {
                l.heard = true;
                if after(received, l.cursor) {
                    l.cursor = received;
                }
            }
        }
    }

    /// The `i`-th catch-up led now, if any (the work runs them one at a
    /// time, each copied out).
    pub(crate) fn led(&self, i: usize) -> Option<Leading> {
        self.leading.get(i).copied().flatten()
    }

    /// Notes that the node brought in on `tuple` caught up at `now_ms`
    /// (once): its slot lingers for [`LINGER_MS`] more. Returns whether
    /// this is news.
    pub(crate) fn caught_up(&mut self, tuple: &Tuple, now_ms: u64) -> bool {
        for l in self.leading.iter_mut().flatten() {
            if l.tuple == *tuple && l.caught_up_ms.is_none() {
                l.caught_up_ms = Some(now_ms);
                return true;
            }
        }
        false
    }

    /// Whether the catch-up on `tuple` is over by time at `now_ms`: its
    /// lingering done, or it lasted too long.
    pub(crate) fn expired(l: &Leading, now_ms: u64) -> bool {
        match l.caught_up_ms {
            Some(at) => now_ms.saturating_sub(at) >= LINGER_MS,
            None => now_ms.saturating_sub(l.since_ms) >= LEAD_MS,
        }
    }

    /// Ends the catch-up on `tuple`; what became of it, if there was one.
    pub(crate) fn end_leading(&mut self, tuple: &Tuple) -> Option<Ended> {
        let slot = self
            .leading
            .iter_mut()
            .find(|l| l.is_some_and(|l| l.tuple == *tuple))?;
        let l = slot.take()?;
        Some(if l.caught_up_ms.is_some() {
            Ended::CaughtUp
        } else {
            Ended::GaveUp
        })
    }

    /// Expects the SYN-ACK of this node's stack to the handshake `syn`
    /// played on `tuple`, to make the connection's entry in `set`; false if
    /// there is no free slot (the oldest past [`JOIN_MS`] is reused) or
    /// one waits on `tuple` already (its SYN played, not again).
    pub(crate) fn expect(
        &mut self,
        tuple: Tuple,
        set: SetChange,
        syn: CatchUpSyn,
        now_ms: u64,
    ) -> bool {
        for slot in self.joining.iter_mut() {
            if slot.is_some_and(|j| now_ms.saturating_sub(j.since_ms) >= JOIN_MS) {
                *slot = None;
            }
        }
        if self.joining.iter().flatten().any(|j| j.tuple == tuple) {
            return false;
        }
        let Some(slot) = self.joining.iter_mut().find(|j| j.is_none()) else {
            return false;
        };
        *slot = Some(Joining {
            tuple,
            set,
            syn,
            since_ms: now_ms,
        });
        true
    }

    /// The join expected on `tuple` for a stack that answered the client
    /// ISN `client_isn`, taken out.
    pub(crate) fn take_joining(&mut self, tuple: &Tuple, client_isn: u32) -> Option<Joining> {
        let slot = self
            .joining
            .iter_mut()
            .find(|j| j.is_some_and(|j| j.tuple == *tuple && j.syn.isn == client_isn))?;
        slot.take()
    }

    /// Whether any join is expected.
    pub(crate) fn joins_any(&self) -> bool {
        self.joining.iter().any(Option::is_some)
    }
}

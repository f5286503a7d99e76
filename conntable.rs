// SPDX-License-Identifier: GPL-2.0

//! A node's table of per-connection entries, keyed by the connection: the
//! splice handover's (`handover.rs`) and replicate mode's (`sync.rs`).
//!
//! Its slots are allocated once, in process context, so that the hooks
//! (softirq) never allocate; a lookup is a linear scan over them, skipped
//! while the table is empty, which is what most nodes see most of the time.

use crate::{
    sys::sync::{SpinLockBh, SpinLockBhBackend},
    wire::Tuple,
};
use core::{
    ops::{Deref, DerefMut},
    sync::atomic::{AtomicUsize, Ordering},
};
use kernel::{prelude::*, sync::lock::Guard};

/// An entry of a [`ConnTable`]: one connection's.
pub(crate) trait Keyed {
    /// The connection, from the client's side.
    fn tuple(&self) -> &Tuple;
}

/// A fixed number of slots for per-connection entries.
///
/// # Invariants
///
/// `slots` keeps the length it was allocated with, holds at most one entry
/// per tuple, and `used` of its slots are `Some`.
pub(crate) struct ConnTable<E> {
    slots: KVec<Option<E>>,
    used: usize,
}

impl<E: Keyed> ConnTable<E> {
    /// An empty table of `capacity` slots. Process context.
    pub(crate) fn new(capacity: usize) -> Result<Self> {
        let mut slots = KVec::with_capacity(capacity, GFP_KERNEL)?;
        for _ in 0..capacity {
            slots.push(None, GFP_KERNEL)?;
        }
        Ok(Self { slots, used: 0 })
    }

    /// Whether no connection is tracked.
    pub(crate) fn is_empty(&self) -> bool {
        self.used == 0
    }

    /// The entry of `tuple`.
    pub(crate) fn find(&mut self, tuple: &Tuple) -> Option<&mut E> {
        self.find_slot(tuple).map(|(_, e)| e)
    }

    /// The entry of `tuple` and its slot, which stays its own while it is
    /// in the table.
    pub(crate) fn find_slot(&mut self, tuple: &Tuple) -> Option<(usize, &mut E)> {
        if self.is_empty() {
            return None;
        }
        self.slots
            .iter_mut()
            .enumerate()
            .find_map(|(i, s)| s.as_mut().filter(|e| e.tuple() == tuple).map(|e| (i, e)))
    }

    /// The entry of `tuple` if it is in slot `slot` (a slot
    /// [`ConnTable::find_slot`] gave), else as [`ConnTable::find_slot`].
    pub(crate) fn find_at(&mut self, slot: usize, tuple: &Tuple) -> Option<(usize, &mut E)> {
        let hit = self
            .slots
            .get(slot)
            .is_some_and(|s| s.as_ref().is_some_and(|e| e.tuple() == tuple));
        if hit {
            return self
                .slots
                .get_mut(slot)
                .and_then(Option::as_mut)
                .map(|e| (slot, e));
        }
        self.find_slot(tuple)
    }

    /// Forgets the entry of `tuple`, if there is one.
    pub(crate) fn remove(&mut self, tuple: &Tuple) {
        self.retain(|e| e.tuple() != tuple);
    }

    /// Puts `entry` in, replacing the entry of its tuple if there is one;
    /// `ENOSPC` if every slot is taken.
    pub(crate) fn insert(&mut self, entry: E) -> Result {
        self.remove(entry.tuple());
        let free = self.slots.iter_mut().find(|s| s.is_none()).ok_or(ENOSPC)?;
        *free = Some(entry);
        self.used += 1;
        Ok(())
    }

    /// The entries.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &E> {
        self.slots.iter().flatten()
    }

    /// The entries, to change.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut E> {
        self.slots.iter_mut().flatten()
    }

    /// The entries with their slots, to change.
    pub(crate) fn slots_mut(&mut self) -> impl Iterator<Item = (usize, &mut E)> {
        self.slots
            .iter_mut()
            .enumerate()
            .filter_map(|(i, s)| s.as_mut().map(|e| (i, e)))
    }

    /// Keeps only the entries `keep` says to keep (it may change them).
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&mut E) -> bool) {
        for slot in self.slots.iter_mut() {
            if slot.as_mut().is_some_and(|e| !keep(e)) {
                *slot = None;
                self.used -= 1;
            }
        }
    }
}

/// What a [`Counted`] lock counts: the entries of the table it guards.
pub(crate) trait Len {
    /// How many entries there are.
    fn len(&self) -> usize;
}

impl<E: Keyed> Len for ConnTable<E> {
    fn len(&self) -> usize {
        self.used
    }
}

/// A table behind a [`SpinLockBh`] whose number of entries can be read
/// without taking the lock, so that the hooks of a node that tracks no
/// connection (most nodes, most of the time) take no lock at all.
///
/// A hook that finds the table empty goes on as if it had taken the lock
/// just before whoever is adding an entry: the count is stored (release)
/// as every critical section ends and loaded (acquire) by the hook, so the
/// hook sees either the table before that section or after it, as it would
/// with the lock.
///
/// # Invariants
///
/// Outside a critical section, `count` is the table's [`Len::len`]: every
/// [`CountedGuard`] stores it as it drops, and only guards change the
/// table.
#[pin_data]
pub(crate) struct Counted<T: Len> {
    #[pin]
    lock: SpinLockBh<T>,
    count: AtomicUsize,
}

impl<T: Len> Counted<T> {
    /// A counted lock around the empty table that `lock` initialises.
    pub(crate) fn new(lock: impl PinInit<SpinLockBh<T>>) -> impl PinInit<Self> {
        pin_init!(Self {
            lock <- lock,
            count: AtomicUsize::new(0),
        })
    }

    /// Whether the table was empty when last let go of. Any context.
    pub(crate) fn is_empty(&self) -> bool {
        self.count.load(Ordering::Acquire) == 0
    }

    /// Takes the lock.
    pub(crate) fn lock(&self) -> CountedGuard<'_, T> {
        CountedGuard {
            guard: self.lock.lock(),
            count: &self.count,
        }
    }
}

/// The lock of a [`Counted`] table, held: the table's count is brought up
/// to date when it drops.
pub(crate) struct CountedGuard<'a, T: Len> {
    guard: Guard<'a, T, SpinLockBhBackend>,
    count: &'a AtomicUsize,
}

impl<T: Len> Deref for CountedGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: Len> DerefMut for CountedGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T: Len> Drop for CountedGuard<'_, T> {
    fn drop(&mut self) {
        self.count.store(self.guard.len(), Ordering::Release);
    }
}

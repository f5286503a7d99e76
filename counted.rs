// SPDX-License-Identifier: GPL-2.0

//! A lock whose table's number of entries can be read without it: what
//! lets the hooks of a node that tracks no connection take no lock.

use crate::{
    conntable::{ConnTable, Keyed},
    sys::sync::{SpinLockBh, SpinLockBhBackend},
};
use core::{
    ops::{Deref, DerefMut},
    sync::atomic::{AtomicUsize, Ordering},
};
use kernel::{prelude::*, sync::lock::Guard};

/// A fresh key for a table's hash: its chains are unknown outside.
pub(crate) fn table_key() -> crate::rendezvous::Key {
    let mut bytes = [0u8; 16];
    for chunk in bytes.chunks_exact_mut(4) {
        chunk.copy_from_slice(&crate::sys::crypto::random_u32().to_ne_bytes());
    }
    crate::rendezvous::Key::new(&bytes)
}

/// What a [`Counted`] lock counts: the entries of the table it guards.
pub(crate) trait Len {
    /// How many entries there are.
    fn len(&self) -> usize;
}

impl<B: core::ops::DerefMut> Len for ConnTable<B>
where
    B::Target: Keyed,
{
    fn len(&self) -> usize {
        ConnTable::len(self)
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

    /// How many entries the table had when last let go of. Any context.
    pub(crate) fn len(&self) -> usize {
        self.count.load(Ordering::Acquire)
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

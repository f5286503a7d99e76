// SPDX-License-Identifier: GPL-2.0

//! Read-copy-update: a value that softirq readers see without a lock while
//! process context replaces it whole, as the kernel's `rcu_assign_pointer`
//! and `rcu_dereference` give C code (the kernel crate of 6.12 has none).
//!
//! Readers hold a [`ReadGuard`] (`rcu_read_lock`), which costs nothing on a
//! kernel without preemptible RCU beyond a preemption count. A writer
//! publishes a new value with one atomic exchange and gets the old one back
//! [`Retired`]: usable again only after a grace period, once every reader
//! that might still see it has left its read-side section. A writer that
//! keeps the retired value as the spare for its next publication rarely
//! waits at all (one grace period has long passed by then).

use super::bindings;
use core::{
    marker::PhantomData,
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::prelude::*;

/// An RCU read-side critical section, held until the guard drops.
///
/// Not `Send`: `rcu_read_unlock` must run on the task or CPU context that
/// took the lock.
pub(crate) struct ReadGuard(PhantomData<*mut ()>);

impl ReadGuard {
    /// Enters a read-side critical section. Any context.
    pub(crate) fn new() -> Self {
        // SAFETY: no precondition; the guard's drop leaves the section in
        // the same context (the guard is not `Send`), so the calls pair.
        unsafe { bindings::tpc_rcu_read_lock() };
        Self(PhantomData)
    }
}

impl Drop for ReadGuard {
    fn drop(&mut self) {
        // SAFETY: `new` entered the section in this context (not `Send`).
        unsafe { bindings::tpc_rcu_read_unlock() };
    }
}

/// A boxed `T` published for readers under RCU.
///
/// # Invariants
///
/// `ptr` always comes from [`KBox::into_raw`] and is owned by this value:
/// the object it points at is freed (or handed back) only after it has
/// been exchanged out and a grace period has passed, so a reference a
/// reader took under a [`ReadGuard`] stays valid until that guard drops.
pub(crate) struct RcuBox<T> {
    ptr: AtomicPtr<T>,
}

// SAFETY: readers in any context get `&T` (hence `T: Sync`); a writer hands
// the old `T` back to whichever thread replaced it (hence `T: Send`).
unsafe impl<T: Send + Sync> Send for RcuBox<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for RcuBox<T> {}

impl<T> RcuBox<T> {
    /// Publishes `value`.
    pub(crate) fn new(value: KBox<T>) -> Self {
        Self {
            ptr: AtomicPtr::new(KBox::into_raw(value)),
        }
    }

    /// The value published now, for as long as `guard` holds. Any context.
    pub(crate) fn get<'a>(&'a self, _guard: &'a ReadGuard) -> &'a T {
        // Acquire: whatever the writer wrote into the value before it
        // published it is seen (`rcu_dereference` asks less of the CPU).
        let ptr = self.ptr.load(Ordering::Acquire);
        // SAFETY: `ptr` is a live box (the invariant); it is freed only a
        // grace period after it is exchanged out, and `guard` keeps this
        // reader's section open, hence the grace period from ending, for
        // the lifetime `'a` of the reference.
        unsafe { &*ptr }
    }

    /// Publishes `value` and gives back the value it replaces, retired:
    /// usable again once no reader can see it ([`Retired::reclaim`]). Any
    /// context; never sleeps.
    pub(crate) fn replace(&self, value: KBox<T>) -> Retired<T> {
        // The release publishes `value`'s contents to readers (as
        // `rcu_assign_pointer`), the acquire gives this thread the old
        // one's as its writer left them.
        // Sequentially consistent besides, so that writers can order a
        // publication with flags of their own (`fence(SeqCst)`).
        let old = self.ptr.swap(KBox::into_raw(value), Ordering::SeqCst);
        // SAFETY: no precondition; it reads the grace-period state.
        let state = unsafe { bindings::get_state_synchronize_rcu() };
        // `old` is no longer published, but readers may still hold it: it
        // stays a raw pointer (no `KBox`, which would claim it alone) until
        // a grace period has passed.
        Retired { ptr: old, state }
    }
}

/// A value that an [`RcuBox`] no longer publishes, which readers that
/// loaded it before may still be reading.
///
/// # Invariants
///
/// `ptr` came from [`KBox::into_raw`] and is owned by this value, no longer
/// published; `state` is the grace-period state taken after it stopped
/// being published, so once a grace period has passed since `state`, no
/// reader holds it.
pub(crate) struct Retired<T> {
    ptr: *mut T,
    state: kernel::ffi::c_ulong,
}

// SAFETY: the value is owned (the invariant); only its reclaimer uses it.
unsafe impl<T: Send> Send for Retired<T> {}

impl<T> Retired<T> {
    /// A value never published: a spare for a writer's first publication,
    /// reclaimable at once.
    pub(crate) fn unpublished(value: KBox<T>) -> Self {
        Self {
            ptr: KBox::into_raw(value),
            // SAFETY: no precondition; a state whose grace period is over.
            state: unsafe { bindings::get_completed_synchronize_rcu() },
        }
    }

    /// The value, once no reader can see it: waits for the rest of a grace
    /// period if one has not passed since it was retired (usually it has,
    /// and this costs nothing). Process context: it may sleep.
    pub(crate) fn reclaim(self) -> KBox<T> {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: process context (the caller's contract); `state` came
        // from `get_state_synchronize_rcu` (the invariant).
        unsafe { bindings::cond_synchronize_rcu(this.state) };
        // SAFETY: `ptr` came from `KBox::into_raw` and is owned by this
        // value, whose drop will not run (`ManuallyDrop`); the grace period
        // above ended every read-side section that could hold it, so this
        // is its only reference.
        unsafe { KBox::from_raw(this.ptr) }
    }
}

impl<T> Drop for Retired<T> {
    fn drop(&mut self) {
        // SAFETY: as in `reclaim`; a `Retired` that is not reclaimed drops
        // in process context (its owner's contract).
        unsafe { bindings::cond_synchronize_rcu(self.state) };
        // SAFETY: as in `reclaim`: owned, and no reader is left.
        drop(unsafe { KBox::from_raw(self.ptr) });
    }
}

impl<T> Drop for RcuBox<T> {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: no reader holds a reference from `get`,
        // whose lifetime borrows `self`; the box is ours (the invariant).
        drop(unsafe { KBox::from_raw(*self.ptr.get_mut()) });
    }
}

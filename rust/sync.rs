// SPDX-License-Identifier: GPL-2.0

//! A spinlock that disables bottom halves: for data shared between process
//! context and softirq context (netfilter hooks, packet handlers).
//!
//! The kernel crate's `SpinLock` takes a plain `spin_lock`; if process
//! context held it when a softirq on the same CPU tried to take it, the CPU
//! would deadlock (lockdep reports this as an inconsistent lock state).
//! `SpinLockBh` takes `spin_lock_bh`, which is correct in both contexts.

use super::bindings;
use kernel::sync::lock::{Backend, Lock};

/// Creates a [`SpinLockBh`] initialiser with a lockdep class of its own.
macro_rules! new_spinlock_bh {
    ($inner:expr, $name:literal) => {
        kernel::sync::lock::Lock::new($inner, kernel::c_str!($name), kernel::static_lock_class!())
    };
}
pub(crate) use new_spinlock_bh;

/// A spinlock taken with bottom halves disabled.
pub(crate) type SpinLockBh<T> = Lock<T, SpinLockBhBackend>;

/// The [`Backend`] of [`SpinLockBh`].
pub(crate) struct SpinLockBhBackend;

// SAFETY: `spin_lock_bh` gives mutual exclusion between every context that
// takes the lock, softirq included; `init` initialises the spinlock with the
// given lockdep class before any use (the `Lock` initialiser calls it).
unsafe impl Backend for SpinLockBhBackend {
    type State = bindings::spinlock_t;
    type GuardState = ();

    unsafe fn init(
        ptr: *mut Self::State,
        name: *const kernel::ffi::c_char,
        key: *mut bindings::lock_class_key,
    ) {
        // SAFETY: `ptr` is valid for writes, `name` and `key` live for ever
        // (the trait's contract).
        unsafe { bindings::__spin_lock_init(ptr, name, key) }
    }

    unsafe fn lock(ptr: *mut Self::State) -> Self::GuardState {
        // SAFETY: initialised before (the trait's contract).
        unsafe { bindings::tpc_spin_lock_bh(ptr) }
    }

    unsafe fn unlock(ptr: *mut Self::State, _guard_state: &Self::GuardState) {
        // SAFETY: the caller owns the lock (the trait's contract).
        unsafe { bindings::tpc_spin_unlock_bh(ptr) }
    }
}

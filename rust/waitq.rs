// SPDX-License-Identifier: GPL-2.0

//! A wait queue with a generation counter: process context sleeps until
//! something (softirq included) says that what it waits for may have
//! changed. Unlike polling with short sleeps, it does not depend on the
//! timer resolution (a tick, without high-resolution timers).

use super::bindings;
use kernel::prelude::*;

/// A wait queue owned by its creator.
///
/// # Invariants
///
/// `q` was allocated by `tpc_waitq_new` and is freed only by `drop`.
pub(crate) struct WaitQueue {
    q: *mut bindings::tpc_waitq,
}

// SAFETY: the queue's own lock serialises waking and waiting from any CPU.
unsafe impl Send for WaitQueue {}
// SAFETY: as above: every method takes `&self` and is safe concurrently.
unsafe impl Sync for WaitQueue {}

impl WaitQueue {
    /// A new queue. Process context.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: no precondition.
        let q = unsafe { bindings::tpc_waitq_new() };
        if q.is_null() {
            return Err(ENOMEM);
        }
        Ok(Self { q })
    }

    /// The current generation, to pass to [`WaitQueue::wait`] after
    /// checking the condition.
    pub(crate) fn generation(&self) -> u32 {
        // SAFETY: `q` is live (type invariant).
        unsafe { bindings::tpc_waitq_gen(self.q) }
    }

    /// Wakes every waiter. Any context.
    pub(crate) fn wake(&self) {
        // SAFETY: `q` is live (type invariant).
        unsafe { bindings::tpc_waitq_wake(self.q) }
    }

    /// Sleeps until the generation is no longer `seen` (a wake since it
    /// was read) or `ms` milliseconds have passed. Process context.
    pub(crate) fn wait(&self, seen: u32, ms: u32) {
        // SAFETY: `q` is live (type invariant); process context (the
        // caller's contract).
        unsafe { bindings::tpc_waitq_wait(self.q, seen, ms) }
    }
}

impl Drop for WaitQueue {
    fn drop(&mut self) {
        // SAFETY: allocated by `new`, not used after this; its owner has no
        // waiter or waker left when it drops it.
        unsafe { bindings::tpc_waitq_free(self.q) }
    }
}

impl WaitQueue {
    /// Like [`WaitQueue::wait`], but a signal ends the wait:
    /// `ERESTARTSYS`. Process context.
    pub(crate) fn wait_interruptible(&self, seen: u32, ms: u32) -> Result {
        // SAFETY: `q` is live (type invariant); process context (the
        // caller's contract).
        kernel::error::to_result(unsafe {
            bindings::tpc_waitq_wait_interruptible(self.q, seen, ms)
        })
    }
}

// SPDX-License-Identifier: GPL-2.0

//! A periodic function in process context: a delayed work item that
//! re-arms itself with the delay its function returns.

use super::bindings;
use core::marker::PhantomData;
use kernel::{ffi::c_void, prelude::*};

/// What a [`Ticker`] calls.
pub(crate) trait Tick: Sync {
    /// Does one round of periodic work (process context, may sleep) and
    /// returns the delay until the next, in milliseconds.
    fn tick(&self) -> u32;
}

/// A running periodic call of `T::tick`.
///
/// # Invariants
///
/// `ticker` was allocated by `tpc_ticker_new` for `T` and is freed (after
/// its last run has returned) only by `drop`; the `T` it calls outlives it.
pub(crate) struct Ticker<T: Tick> {
    ticker: *mut bindings::tpc_ticker,
    _target: PhantomData<*const T>,
}

// SAFETY: the work item runs on any CPU; the handle only cancels it.
unsafe impl<T: Tick> Send for Ticker<T> {}
// SAFETY: as above; `&Ticker` exposes nothing.
unsafe impl<T: Tick> Sync for Ticker<T> {}

/// The work item's function.
///
/// # Safety
///
/// `arg` is the `&T` given to [`Ticker::start`], live until the ticker is
/// dropped, which waits for this call to return.
unsafe extern "C" fn run<T: Tick>(arg: *mut c_void) -> u32 {
    // SAFETY: see the function's contract.
    unsafe { &*arg.cast::<T>() }.tick()
}

impl<T: Tick> Ticker<T> {
    /// Starts calling `target.tick()` in `first_ms` milliseconds.
    ///
    /// # Safety
    ///
    /// `target` must outlive the ticker: the caller drops the ticker first.
    pub(crate) unsafe fn start(target: &T, first_ms: u32) -> Result<Self> {
        // SAFETY: `run::<T>` matches `target`, which outlives the ticker
        // (the caller's contract).
        let ticker = unsafe {
            bindings::tpc_ticker_new(
                Some(run::<T>),
                core::ptr::from_ref(target).cast_mut().cast(),
            )
        };
        if ticker.is_null() {
            return Err(ENOMEM);
        }
        // SAFETY: just allocated.
        unsafe { bindings::tpc_ticker_arm(ticker, first_ms) };
        Ok(Self {
            ticker,
            _target: PhantomData,
        })
    }
}

impl<T: Tick> Drop for Ticker<T> {
    fn drop(&mut self) {
        // SAFETY: allocated by `start`; this cancels the work, waits for a
        // running call and frees it.
        unsafe { bindings::tpc_ticker_free(self.ticker) };
    }
}

// SPDX-License-Identifier: GPL-2.0

//! A periodic function in process context: a delayed work item that
//! re-arms itself with the delay its function returns.

use super::bindings;
use core::{
    marker::PhantomData,
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{ffi::c_void, prelude::*};

/// What a [`Ticker`] calls. `W` tells apart the periodic works of one
/// type.
pub(crate) trait Tick<W = ()>: Sync {
    /// Does one round of periodic work (process context, may sleep) and
    /// returns the delay until the next, in milliseconds.
    fn tick(&self) -> u32;
}

/// The workqueue urgent [`Ticker`]s run on: high priority, so that a busy
/// machine still sends its heartbeats on time (see `tpc_tickers_init`).
/// Other tickers run on the kernel's `system_wq`.
///
/// # Invariants
///
/// While a `TickerQueue` lives, the shims' workqueue exists; there is at
/// most one, owned by the module.
pub(crate) struct TickerQueue(());

impl TickerQueue {
    /// Creates the workqueue. Module init only.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: no ticker exists yet (the module's nodes come later) and
        // nothing else creates the workqueue.
        let err = unsafe { bindings::tpc_tickers_init() };
        if err != 0 {
            return Err(Error::from_errno(err));
        }
        Ok(Self(()))
    }
}

impl Drop for TickerQueue {
    fn drop(&mut self) {
        // SAFETY: created by `new`; the module drops it after its nodes, so
        // every ticker has been freed.
        unsafe { bindings::tpc_tickers_exit() };
    }
}

/// A running periodic call of `T::tick`.
///
/// # Invariants
///
/// `ticker` was allocated by `tpc_ticker_new` for `T` and is freed (after
/// its last run has returned) only by `drop`; the `T` it calls outlives it.
pub(crate) struct Ticker<T: Tick<W>, W = ()> {
    ticker: *mut bindings::tpc_ticker,
    _target: PhantomData<(*const T, W)>,
}

// SAFETY: the work item runs on any CPU; the handle only cancels it.
unsafe impl<T: Tick<W>, W> Send for Ticker<T, W> {}
// SAFETY: as above; `&Ticker` exposes nothing.
unsafe impl<T: Tick<W>, W> Sync for Ticker<T, W> {}

/// The work item's function.
///
/// # Safety
///
/// `arg` is the `&T` given to [`Ticker::start`], live until the ticker is
/// dropped, which waits for this call to return.
unsafe extern "C" fn run<T: Tick<W>, W>(arg: *mut c_void) -> u32 {
    // SAFETY: see the function's contract.
    <T as Tick<W>>::tick(unsafe { &*arg.cast::<T>() })
}

impl<T: Tick<W>, W> Ticker<T, W> {
    /// Starts calling `target.tick()` in `first_ms` milliseconds.
    ///
    /// # Safety
    ///
    /// `target` must outlive the ticker: the caller drops the ticker first.
    pub(crate) unsafe fn start(target: &T, first_ms: u32) -> Result<Self> {
        // SAFETY: the caller's contract; not urgent, so no `TickerQueue`.
        unsafe { Self::start_on(target, first_ms, false) }
    }

    /// Like [`Ticker::start`], on the high-priority workqueue: for work
    /// that must run on time on a busy machine (heartbeats).
    ///
    /// # Safety
    ///
    /// As [`Ticker::start`]; the [`TickerQueue`] must outlive the ticker
    /// too.
    pub(crate) unsafe fn start_urgent(target: &T, first_ms: u32) -> Result<Self> {
        // SAFETY: the caller's contract.
        unsafe { Self::start_on(target, first_ms, true) }
    }

    /// # Safety
    ///
    /// As [`Ticker::start_urgent`] if `urgent`, else as [`Ticker::start`].
    unsafe fn start_on(target: &T, first_ms: u32, urgent: bool) -> Result<Self> {
        // SAFETY: `run::<T>` matches `target`, which outlives the ticker
        // (the caller's contract), as does the workqueue it names.
        let ticker = unsafe {
            bindings::tpc_ticker_new(
                Some(run::<T, W>),
                core::ptr::from_ref(target).cast_mut().cast(),
                urgent,
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

impl<T: Tick<W>, W> Drop for Ticker<T, W> {
    fn drop(&mut self) {
        // SAFETY: allocated by `start`; this cancels the work, waits for a
        // running call and frees it.
        unsafe { bindings::tpc_ticker_free(self.ticker) };
    }
}

/// Runs a [`Ticker`]'s function now, from any context, through a shared
/// reference that does not own the ticker.
///
/// # Invariants
///
/// `ticker` is null or points at a live ticker (see [`Kicker::arm`]).
pub(crate) struct Kicker {
    ticker: AtomicPtr<bindings::tpc_ticker>,
}

impl Kicker {
    /// A kicker that kicks nothing.
    pub(crate) const fn new() -> Self {
        Self {
            ticker: AtomicPtr::new(core::ptr::null_mut()),
        }
    }

    /// Makes [`Kicker::kick`] run `ticker`.
    ///
    /// # Safety
    ///
    /// `ticker` must not be dropped before [`Kicker::disarm`] has been
    /// called and every [`Kicker::kick`] then running has returned.
    pub(crate) unsafe fn arm<T: Tick<W>, W>(&self, ticker: &Ticker<T, W>) {
        self.ticker.store(ticker.ticker, Ordering::Release);
    }

    /// Makes [`Kicker::kick`] do nothing.
    pub(crate) fn disarm(&self) {
        self.ticker.store(core::ptr::null_mut(), Ordering::Release);
    }

    /// Runs the armed ticker's function as soon as possible.
    pub(crate) fn kick(&self) {
        let t = self.ticker.load(Ordering::Acquire);
        if !t.is_null() {
            // SAFETY: armed with a ticker that lives until disarmed and
            // every running kick has returned (the contract of `arm`).
            unsafe { bindings::tpc_ticker_kick(t) };
        }
    }
}

// SPDX-License-Identifier: GPL-2.0

//! Per-CPU counters: a block of `u64` cells on every CPU, added to on the
//! local CPU (`this_cpu_add`: no lock, no atomic read-modify-write, no
//! cache line shared with another CPU) and summed over every possible CPU
//! when read, as the kernel's own SNMP counters are.

use super::bindings;

/// `N` counters, one cell of each per CPU.
///
/// # Invariants
///
/// `cells` is a per-CPU allocation of `N` zero-initialised `u64` per CPU
/// that this value owns: it is freed when this value drops, not before.
pub(crate) struct PerCpuCounters<const N: usize> {
    cells: *mut kernel::ffi::c_void,
}

// SAFETY: the cells are only ever added to with `this_cpu_add` (safe from
// any context: the kernel makes it atomic against preemption and
// interrupts on the local CPU) and read whole per `u64` (one aligned load
// each on a 64-bit machine); the pointer itself never changes.
unsafe impl<const N: usize> Send for PerCpuCounters<N> {}
// SAFETY: as above.
unsafe impl<const N: usize> Sync for PerCpuCounters<N> {}

impl<const N: usize> PerCpuCounters<N> {
    /// `N` counters at zero; `None` if the per-CPU memory cannot be had.
    /// Process context.
    pub(crate) fn new() -> Option<Self> {
        let n = u32::try_from(N).ok()?;
        // SAFETY: a plain allocation; it may sleep, as process context may.
        let cells = unsafe { bindings::tpc_percpu_alloc(n) };
        (!cells.is_null()).then_some(Self { cells })
    }

    /// Adds `n` to counter `i` (ignored past `N`). Any context.
    pub(crate) fn add(&self, i: usize, n: u64) {
        if i < N {
            // SAFETY: `cells` is live (the invariant) and `i` within it.
            unsafe { bindings::tpc_percpu_add(self.cells, i as u32, n) }
        }
    }

    /// Counter `i` summed over every CPU (0 past `N`). Any context; a sum
    /// taken while others add may miss what they add meanwhile.
    pub(crate) fn sum(&self, i: usize) -> u64 {
        if i >= N {
            return 0;
        }
        // SAFETY: as in `add`.
        unsafe { bindings::tpc_percpu_sum(self.cells, i as u32) }
    }
}

impl<const N: usize> Drop for PerCpuCounters<N> {
    fn drop(&mut self) {
        // SAFETY: owned by this value (the invariant); nothing uses it after.
        unsafe { bindings::tpc_percpu_free(self.cells) }
    }
}

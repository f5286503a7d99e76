// SPDX-License-Identifier: GPL-2.0

//! Clocks and the module's parameters.

use super::bindings;
use crate::config::{
    Timers, DEFAULT_DEAD_MS, DEFAULT_HEARTBEAT_MS, DEFAULT_REPLICA_CONNS,
    DEFAULT_REPLICA_HALF_OPEN, DEFAULT_SPLICE_CONNS,
};

/// Milliseconds of the monotonic clock: for timeouts.
pub(crate) fn now_ms() -> u64 {
    // SAFETY: reads a clock; callable in any context.
    unsafe { bindings::tpc_now_ms() }
}

/// Nanoseconds of the real-time clock: survives a reboot, unlike the
/// monotonic clock, so it orders a node's incarnations.
pub(crate) fn real_ns() -> u64 {
    // SAFETY: reads a clock; callable in any context.
    unsafe { bindings::tpc_real_ns() }
}

/// Gives the module parameters their defaults, unless set on the module's
/// command line. Call once, at module init, before any node exists.
pub(crate) fn init_default_timers() {
    // SAFETY: plain writes of module parameters.
    unsafe {
        bindings::tpc_params_default(
            DEFAULT_HEARTBEAT_MS,
            DEFAULT_DEAD_MS,
            DEFAULT_REPLICA_CONNS,
            DEFAULT_REPLICA_HALF_OPEN,
            DEFAULT_SPLICE_CONNS,
        )
    }
}

/// Most replicated connections a node created from now on tracks: module
/// parameter `replica_conns` (read-only once loaded).
pub(crate) fn replica_conns() -> u32 {
    // SAFETY: a plain read of a module parameter.
    unsafe { bindings::tpc_param_replica_conns() }
}

/// Most half-open replicated connections a node created from now on
/// tracks: module parameter `replica_half_open` (read-only once loaded).
pub(crate) fn replica_half_open() -> u32 {
    // SAFETY: a plain read of a module parameter.
    unsafe { bindings::tpc_param_replica_half_open() }
}

/// Most connections in or after a handover a node created from now on
/// tracks: module parameter `splice_conns` (read-only once loaded).
pub(crate) fn splice_conns() -> u32 {
    // SAFETY: a plain read of a module parameter.
    unsafe { bindings::tpc_param_splice_conns() }
}

/// The timers of nodes that set none: module parameters `heartbeat_ms` and
/// `dead_ms` (`/sys/module/tpcluster/parameters/`), writable at any time.
pub(crate) fn default_timers() -> Timers {
    // SAFETY: plain reads of module parameters.
    unsafe {
        Timers {
            heartbeat_ms: bindings::tpc_param_heartbeat_ms(),
            dead_ms: bindings::tpc_param_dead_ms(),
        }
    }
}

// SPDX-License-Identifier: GPL-2.0

//! Clocks and the module's parameters.

use super::bindings;

/// Milliseconds of the monotonic clock: for timeouts.
pub(crate) fn now_ms() -> u64 {
    // SAFETY: reads a clock; callable in any context.
    unsafe { bindings::tpc_now_ms() }
}

/// Nanoseconds of the monotonic clock: for timing the hooks.
pub(crate) fn now_ns() -> u64 {
    // SAFETY: reads a clock; callable in any context.
    unsafe { bindings::tpc_now_ns() }
}

/// Nanoseconds of the real-time clock: survives a reboot, unlike the
/// monotonic clock, so it orders a node's incarnations.
pub(crate) fn real_ns() -> u64 {
    // SAFETY: reads a clock; callable in any context.
    unsafe { bindings::tpc_real_ns() }
}

/// Gives the module parameters these defaults, unless set on the module's
/// command line. Call once, at module init, before any node exists.
pub(crate) fn set_param_defaults(
    heartbeat_ms: u32,
    dead_ms: u32,
    replica_conns: u32,
    replica_half_open: u32,
    splice_conns: u32,
    ready_hold_ms: u32,
    replica_log_bytes: u32,
) {
    // SAFETY: plain writes of module parameters.
    unsafe {
        bindings::tpc_params_default(
            heartbeat_ms,
            dead_ms,
            replica_conns,
            replica_half_open,
            splice_conns,
            ready_hold_ms,
            replica_log_bytes,
        )
    }
}

/// Most client bytes a replicated connection keeps to bring a replica in
/// later: module parameter `replica_log_bytes` (for connections whose log
/// begins from now on; 0: none kept).
pub(crate) fn replica_log_bytes() -> u32 {
    // SAFETY: a plain read of a module parameter.
    unsafe { bindings::tpc_param_replica_log_bytes() }
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

/// The timers of nodes that set none, heartbeat and dead timeout in ms:
/// module parameters `heartbeat_ms` and `dead_ms`
/// (`/sys/module/tpcluster/parameters/`), writable at any time.
pub(crate) fn timer_params() -> (u32, u32) {
    // SAFETY: plain reads of module parameters.
    unsafe {
        (
            bindings::tpc_param_heartbeat_ms(),
            bindings::tpc_param_dead_ms(),
        )
    }
}

/// How long a service whose application stopped listening must listen
/// again, without a break, before the node is ready for it: module
/// parameter `ready_hold_ms`, writable at any time.
pub(crate) fn ready_hold_ms() -> u32 {
    // SAFETY: a plain read of a module parameter.
    unsafe { bindings::tpc_param_ready_hold_ms() }
}

/// Whether the packet hooks time themselves: module parameter
/// `hook_timing`, writable at any time (off by default: two clock reads a
/// packet).
pub(crate) fn hook_timing() -> bool {
    // SAFETY: a plain read of a module parameter.
    unsafe { bindings::tpc_param_hook_timing() }
}

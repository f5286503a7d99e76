// SPDX-License-Identifier: GPL-2.0

//! The socket-layer hook of replicate mode: a module-owned copy of
//! `tcp_prot` whose `recvmsg` and `sendmsg` ask the node how many bytes
//! they may move before the stack moves them (`shims.c` holds the copy and
//! the two wrappers). Listeners of replicate services are given the copy;
//! the connections they accept inherit it, and each pins the module until
//! it is freed, so the copy outlives every socket that points at it.

use super::{bindings, netdev::NetNs, pernet, pernet::PerNet};
use crate::wire::Tuple;
use kernel::{ffi::c_long, prelude::*};

/// What a gated socket call asks of its node.
pub(crate) trait SocketGate: PerNet {
    /// How many of `want` bytes (more than 0) the call on `sk` may move
    /// now, at most `want`: waits as long as none may (unless `nonblock`:
    /// `EAGAIN`), and gives up on a signal (`ERESTARTSYS`). `send` for
    /// `sendmsg`, else `recvmsg`. Process context, socket lock not held.
    fn budget(&self, sk: &GatedSocket, want: usize, nonblock: bool, send: bool) -> Result<usize>;
}

/// A socket in one of its own `recvmsg` or `sendmsg` calls.
///
/// # Invariants
///
/// `sk` is a full TCP socket kept alive by the running call.
pub(crate) struct GatedSocket {
    sk: *mut bindings::sock,
}

/// What a gate reads of its socket's sequence state.
pub(crate) struct Progress {
    /// Where the stack has received up to.
    pub(crate) rcv_nxt: u32,
    /// Where the receive window the stack offered ends.
    pub(crate) window_end: u32,
    /// Where the application has read up to.
    pub(crate) copied_seq: u32,
    /// Where the application has written up to.
    pub(crate) write_seq: u32,
    /// The TSval the socket would send now.
    pub(crate) tsval_now: u32,
    /// Errored, shut down or closing: the stack, not the gate, answers.
    pub(crate) done: bool,
}

impl From<bindings::tpc_tcp_progress> for Progress {
    fn from(p: bindings::tpc_tcp_progress) -> Self {
        Self {
            rcv_nxt: p.rcv_nxt,
            window_end: p.window_end,
            copied_seq: p.copied_seq,
            write_seq: p.write_seq,
            tsval_now: p.tsval_now,
            done: p.done,
        }
    }
}

impl GatedSocket {
    /// Its connection, from the client's side.
    pub(crate) fn tuple(&self) -> Tuple {
        // SAFETY: `sk` is alive (type invariant).
        unsafe { super::tcp::tuple_of(self.sk) }
    }

    /// Its sequence state now.
    pub(crate) fn progress(&self) -> Progress {
        let mut p = bindings::tpc_tcp_progress::default();
        // SAFETY: `sk` is alive (type invariant); the fields are read once each.
        unsafe { bindings::tpc_tcp_progress_of(self.sk, &mut p) };
        p.into()
    }
}

/// Makes the wrappers call `T::budget`. Call once, at module init, before
/// any listener is attached.
pub(crate) fn init<T: SocketGate>() {
    // SAFETY: stores the callback and fills the proto copy; no socket uses
    // the copy yet.
    unsafe { bindings::tpc_replica_init(Some(budget::<T>)) }
}

/// The wrappers' callback.
///
/// # Safety
///
/// Called by the wrappers of `shims.c` with the socket of a running
/// `recvmsg` or `sendmsg` call.
unsafe extern "C" fn budget<T: SocketGate>(
    sk: *mut bindings::sock,
    want: usize,
    nonblock: bool,
    send: bool,
) -> c_long {
    // SAFETY: the socket is alive during its own call, and so is its
    // namespace (a user socket holds a reference on it); the module, and so
    // the registration of `T`, is pinned by the socket (its proto's owner).
    let node = unsafe { pernet::state::<T>(bindings::tpc_sock_net(sk)) };
    let sk = GatedSocket { sk };
    match node.budget(&sk, want, nonblock, send) {
        Ok(n) => c_long::try_from(n.min(want)).unwrap_or(c_long::MAX),
        Err(e) => e.to_errno() as c_long,
    }
}

/// Gives the listener of `vip:port` in `net` the gated proto; whether a
/// listener has it now. Any context.
pub(crate) fn attach(net: NetNs, vip: [u8; 4], port: u16) -> bool {
    // SAFETY: `net` is live; `vip` is 4 bytes.
    unsafe { bindings::tpc_replica_attach(net.as_ptr(), vip.as_ptr(), port) }
}

/// Gives the listener of `vip:port` in `net` `tcp_prot` back (the
/// connections it accepted keep the gate). Any context.
pub(crate) fn detach(net: NetNs, vip: [u8; 4], port: u16) {
    // SAFETY: `net` is live; `vip` is 4 bytes.
    unsafe { bindings::tpc_replica_detach(net.as_ptr(), vip.as_ptr(), port) }
}

/// Whether a signal is pending for the current task.
pub(crate) fn signal_pending() -> bool {
    // SAFETY: reads the current task's flags.
    unsafe { bindings::tpc_signal_pending() }
}

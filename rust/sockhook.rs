// SPDX-License-Identifier: GPL-2.0

//! The socket-layer hook of replicate mode: a module-owned copy of
//! `tcp_prot` whose `recvmsg` and `sendmsg` ask the node how many bytes
//! they may move before the stack moves them (`shims.c` holds the copy and
//! the two wrappers). Listeners of replicate services are given the copy
//! (every listener the stack may pick for the service: bound or wildcard,
//! IPv4 or dual-stack IPv6, each member of a reuseport group); the
//! connections they accept inherit it. A gated listener is held, with a
//! module reference, until the node gives it TCP's proto back (the service
//! or the node is gone, or it stopped listening); each accepted connection
//! pins the module until it is freed. So the copy outlives every socket
//! that points at it, and `rmmod` waits for (refuses while) any does.

use super::{bindings, netdev::NetNs, pernet, pernet::PerNet};
use crate::types::Tuple;
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
    /// Errored, or this side closed: the stack, not the gate, answers a
    /// write. (The peer's FIN alone ends the reads, not the writes.)
    pub(crate) send_done: bool,
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
            send_done: p.send_done,
        }
    }
}

impl GatedSocket {
    /// Its connection, from the client's side.
    pub(crate) fn tuple(&self) -> Tuple {
        // SAFETY: `sk` is alive (type invariant).
        unsafe { super::tcp::tuple_of(self.sk) }
    }

    /// Copies what the stack has received from client sequence number
    /// `seq` on, unread yet, into `buf`, as far as it goes; returns how
    /// many bytes. Process context; takes the socket lock.
    pub(crate) fn peek_received(&self, seq: u32, buf: &mut [u8]) -> usize {
        let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
        // SAFETY: `sk` is alive (type invariant) and the caller is in
        // process context, not holding the socket lock (the gate is called
        // before the stack's recvmsg takes it); `buf` is valid for `len`
        // bytes, and at most that many are written.
        let n = unsafe { bindings::tpc_tcp_peek_received(self.sk, seq, buf.as_mut_ptr(), len) };
        (n as usize).min(buf.len())
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

/// Most listeners one `vip:port` is looked up for at a time: beyond that
/// many (a reuseport group of more than 32 sockets on both the VIP and the
/// wildcard), the lookup says so and the service's SYNs are dropped.
const LISTENERS_PER_LOOKUP: usize = 32;

/// A listener given the gated proto, which it may pass on to the
/// connections it accepts.
///
/// # Invariants
///
/// `sk` is a listening (or once listening) TCP socket of the namespace
/// whose [`GatedListeners`] holds this, with one socket reference and one
/// module reference held by this value: the module stays loaded while
/// the listener may have the gated proto, which lives in the module.
struct GatedListener {
    sk: *mut bindings::sock,
}

// SAFETY: the socket is reference-counted and its fields read here are
// read with `READ_ONCE` or fixed while it is bound; any context may drop
// the references.
unsafe impl Send for GatedListener {}

impl GatedListener {
    /// Whether it listens still.
    fn listening(&self) -> bool {
        // SAFETY: `sk` is alive (type invariant).
        unsafe { bindings::tpc_sock_listening(self.sk) }
    }

    /// The address (`[0; 4]`: the wildcard) and port it is bound to.
    fn bound(&self) -> ([u8; 4], u16) {
        let (mut addr, mut port) = ([0u8; 4], 0u16);
        // SAFETY: `sk` is alive (type invariant); the outputs are 4 bytes
        // and a u16.
        unsafe { bindings::tpc_sock_bound(self.sk, addr.as_mut_ptr(), &mut port) };
        (addr, port)
    }
}

impl Drop for GatedListener {
    fn drop(&mut self) {
        // SAFETY: `sk` is alive (type invariant). Ungating first, then
        // letting the module go: a connection cloned meanwhile has taken
        // its own module reference (`sk_prot_alloc`), and a clone that read
        // the gated proto and has not yet taken it runs in an RCU read-side
        // section, which the module loader waits for before freeing.
        unsafe {
            bindings::tpc_replica_ungate(self.sk);
            bindings::tpc_sock_put(self.sk);
            bindings::tpc_module_put();
        }
    }
}

/// What [`GatedListeners::gate`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gating {
    /// Every listener of the address has the gate (at least one).
    Gated,
    /// Nothing listens there.
    NoListener,
    /// A listener has a proto other than TCP's (a ULP, a BPF sockmap): the
    /// gate cannot be added to it.
    Foreign,
    /// More listeners than the node can track.
    Full,
}

/// The listeners a node gave the gated proto: every one it gave it to,
/// until it gives TCP's back, which [`GatedListeners::release_unless`]
/// and dropping do.
///
/// # Invariants
///
/// `slots` keeps the length it was allocated with; each listener is in it
/// at most once; `used` of them are `Some`. A listener of the node's
/// namespace has the gated proto if and only if it is in `slots` (both
/// change together, under the node's lock of this value).
pub(crate) struct GatedListeners {
    slots: KVec<Option<GatedListener>>,
    used: usize,
}

impl GatedListeners {
    /// Room for `capacity` listeners. Process context.
    pub(crate) fn new(capacity: usize) -> Result<Self> {
        let mut slots = KVec::with_capacity(capacity, GFP_KERNEL)?;
        for _ in 0..capacity {
            slots.push(None, GFP_KERNEL)?;
        }
        Ok(Self { slots, used: 0 })
    }

    /// Whether no listener has the gate.
    pub(crate) fn is_empty(&self) -> bool {
        self.used == 0
    }

    /// Gives every listener of `vip:port` in `net` the gate: those bound
    /// to it and to the wildcard, IPv4 and dual-stack IPv6, every member
    /// of a reuseport group, so that whichever the stack picks for a SYN
    /// has it. Any context; allocates nothing.
    pub(crate) fn gate(&mut self, net: NetNs, vip: [u8; 4], port: u16) -> Gating {
        let mut found = [core::ptr::null_mut::<bindings::sock>(); LISTENERS_PER_LOOKUP];
        // SAFETY: `net` is live; `vip` is 4 bytes; `found` has room for
        // `LISTENERS_PER_LOOKUP` pointers.
        let n = unsafe {
            bindings::tpc_tcp_listeners(
                net.as_ptr(),
                vip.as_ptr(),
                port,
                found.as_mut_ptr(),
                LISTENERS_PER_LOOKUP as i32,
            )
        };
        let n = usize::try_from(n).unwrap_or(0);
        let mut outcome = match n {
            0 => Gating::NoListener,
            n if n > LISTENERS_PER_LOOKUP => Gating::Full,
            _ => Gating::Gated,
        };
        for &sk in &found[..n.min(LISTENERS_PER_LOOKUP)] {
            // SAFETY: `sk` is alive: we hold the reference the lookup took.
            // One with the gated proto is in `slots` already (invariant).
            if outcome == Gating::Gated && !unsafe { bindings::tpc_replica_gated(sk) } {
                outcome = self.add(sk);
            }
            // SAFETY: `tpc_tcp_listeners` gave us this reference; `add`
            // took one of its own.
            unsafe { bindings::tpc_sock_put(sk) };
        }
        outcome
    }

    /// Gives listener `sk` the gate and keeps it.
    fn add(&mut self, sk: *mut bindings::sock) -> Gating {
        let Some(slot) = self.slots.iter_mut().find(|s| s.is_none()) else {
            return Gating::Full;
        };
        // SAFETY: takes a reference on this module, which is running.
        if !unsafe { bindings::tpc_module_get() } {
            // Being unloaded: no new gate.
            return Gating::Foreign;
        }
        // SAFETY: `sk` is alive: the caller holds a reference.
        if !unsafe { bindings::tpc_replica_gate(sk) } {
            // SAFETY: the reference taken above.
            unsafe { bindings::tpc_module_put() };
            return Gating::Foreign;
        }
        // SAFETY: as above; this reference is the `GatedListener`'s.
        unsafe { bindings::tpc_sock_hold(sk) };
        // INVARIANT: a listener of `net`, now gated, with a socket and a
        // module reference; not in `slots` before, as it did not have the
        // gated proto (the caller checked).
        *slot = Some(GatedListener { sk });
        self.used += 1;
        Gating::Gated
    }

    /// Gives TCP's proto back to every listener that no longer listens,
    /// and to those bound to an address and port (`[0; 4]`: the
    /// wildcard) for which `keep` is false; returns how many.
    pub(crate) fn release_unless(&mut self, keep: impl Fn([u8; 4], u16) -> bool) -> usize {
        let mut released = 0;
        for slot in self.slots.iter_mut() {
            let Some(l) = slot else { continue };
            let (addr, port) = l.bound();
            if !l.listening() || !keep(addr, port) {
                *slot = None;
                released += 1;
            }
        }
        self.used -= released;
        released
    }

    /// Gives every listener TCP's proto back.
    pub(crate) fn release_all(&mut self) {
        self.release_unless(|_, _| false);
    }
}

/// Whether a signal is pending for the current task.
pub(crate) fn signal_pending() -> bool {
    // SAFETY: reads the current task's flags.
    unsafe { bindings::tpc_signal_pending() }
}

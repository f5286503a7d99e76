// SPDX-License-Identifier: GPL-2.0

//! Netfilter hook registration for one network namespace.

use super::{bindings, skbuff::SkBuff};
use core::ffi::c_void;
use kernel::{error::to_result, prelude::*, types::Opaque};

/// What a hook decides for a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Verdict {
    /// Let the packet continue through the stack.
    Accept = bindings::NF_ACCEPT,
    /// Free the packet here.
    Drop = bindings::NF_DROP,
}

/// Receives the IPv4 packets of one namespace at PRE_ROUTING.
pub(crate) trait Ipv4PreRouting: Sync {
    /// Called in softirq context (or with bottom halves disabled), under the
    /// RCU read lock, once for every IPv4 packet the namespace receives
    /// (every fragment, before reassembly). Must not sleep.
    fn pre_routing(&self, skb: &SkBuff) -> Verdict;
}

/// Priority of tpcluster's hook: before defragmentation and connection
/// tracking, so that a packet this node does not own costs as little as
/// possible and conntrack never sees it.
const PRIORITY: i32 = bindings::nf_ip_hook_priorities_NF_IP_PRI_RAW_BEFORE_DEFRAG;

/// A netfilter hook registration, embedded in per-namespace state.
///
/// # Invariants
///
/// While `registered` is true, the `nf_hook_ops` are registered in `net`
/// with `priv` pointing at a handler that outlives the registration, and
/// this value does not move (it is only reachable pinned).
pub(crate) struct Hook {
    ops: Opaque<bindings::nf_hook_ops>,
    net: *mut bindings::net,
    registered: bool,
}

// SAFETY: `Hook` only holds pointers that the netfilter core owns the
// synchronisation of; registration and unregistration take `&mut` (pinned).
unsafe impl Send for Hook {}
// SAFETY: shared references give no access to the pointers.
unsafe impl Sync for Hook {}

impl Hook {
    /// An unregistered hook.
    pub(crate) fn new() -> Self {
        Self {
            ops: Opaque::new(bindings::nf_hook_ops::default()),
            net: core::ptr::null_mut(),
            registered: false,
        }
    }

    /// Registers `handler` for IPv4 PRE_ROUTING in `net`.
    ///
    /// # Safety
    ///
    /// `net` must be a live namespace that outlives the registration, and
    /// `handler` must stay valid at its address until [`Hook::unregister`]
    /// has returned (or `self` is dropped).
    pub(crate) unsafe fn register<H: Ipv4PreRouting>(
        self: Pin<&mut Self>,
        net: *mut bindings::net,
        handler: *const H,
    ) -> Result {
        // SAFETY: we never move out of the pinned `Hook`.
        let this = unsafe { self.get_unchecked_mut() };
        if this.registered {
            return Err(EBUSY);
        }
        // SAFETY: `ops` is not registered, so we are its only user.
        let ops = unsafe { &mut *this.ops.get() };
        ops.hook = Some(trampoline::<H>);
        ops.priv_ = handler.cast_mut().cast::<c_void>();
        ops.pf = bindings::NFPROTO_IPV4 as u8;
        ops.hooknum = bindings::nf_inet_hooks_NF_INET_PRE_ROUTING;
        ops.priority = PRIORITY;
        // SAFETY: `net` is live (caller); `ops` is pinned and stays valid
        // until unregistered (type invariant upheld by `unregister`/`drop`).
        to_result(unsafe { bindings::nf_register_net_hook(net, this.ops.get()) })?;
        this.net = net;
        this.registered = true;
        Ok(())
    }

    /// Unregisters the hook. On return no call of the handler is running
    /// or will start (the netfilter core waits for an RCU grace period).
    pub(crate) fn unregister(self: Pin<&mut Self>) {
        // SAFETY: we never move out of the pinned `Hook`.
        let this = unsafe { self.get_unchecked_mut() };
        if core::mem::take(&mut this.registered) {
            // SAFETY: registered in `this.net` (type invariant), which is
            // still live (contract of `register`).
            unsafe { bindings::nf_unregister_net_hook(this.net, this.ops.get()) };
        }
    }
}

impl Drop for Hook {
    fn drop(&mut self) {
        // SAFETY: `Hook` is only used pinned, and `drop` is the last use.
        unsafe { Pin::new_unchecked(self) }.unregister();
    }
}

/// The C entry point netfilter calls; forwards to the handler.
///
/// # Safety
///
/// Called by the netfilter core with `priv_` as registered by
/// [`Hook::register`] and a valid `skb`.
unsafe extern "C" fn trampoline<H: Ipv4PreRouting>(
    priv_: *mut c_void,
    skb: *mut bindings::sk_buff,
    _state: *const bindings::nf_hook_state,
) -> kernel::ffi::c_uint {
    // SAFETY: `priv_` is the handler registered with this trampoline, valid
    // until unregistration, which waits for running hooks.
    let handler = unsafe { &*priv_.cast_const().cast::<H>() };
    // SAFETY: the netfilter core owns `skb` for the duration of the call.
    let skb = unsafe { SkBuff::from_raw(skb) };
    handler.pre_routing(skb) as kernel::ffi::c_uint
}

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
    /// Free the packet here, and tell its sender it went out: what a
    /// backup's output needs, for its stack must go on as if it had sent
    /// it (`NF_DROP` would make TCP stop and try again).
    Sent = bindings::NF_STOLEN,
}

/// Receives the IPv4 packets of one namespace as they come in and go out.
pub(crate) trait Ipv4Hooks: Sync {
    /// Called in softirq context (or with bottom halves disabled), under the
    /// RCU read lock, once for every IPv4 packet the namespace receives
    /// (every fragment, before reassembly). Must not sleep.
    fn pre_routing(&self, skb: &mut SkBuff) -> Verdict;

    /// Called with bottom halves disabled, under the RCU read lock, once
    /// for every IPv4 packet the namespace sends or forwards, as the last
    /// hook before the device (GSO packets still whole). Must not sleep.
    fn post_routing(&self, skb: &mut SkBuff) -> Verdict;
}

/// Where a hook sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Point {
    /// PRE_ROUTING, before defragmentation and connection tracking, so that
    /// a packet this node does not own costs as little as possible and
    /// conntrack never sees it (nor anything the hook rewrites).
    PreRouting,
    /// POST_ROUTING, after everything else (connection tracking included,
    /// which so sees the stack's own view of what the hook rewrites).
    PostRouting,
}

impl Point {
    fn hooknum(self) -> u32 {
        match self {
            Point::PreRouting => bindings::nf_inet_hooks_NF_INET_PRE_ROUTING,
            Point::PostRouting => bindings::nf_inet_hooks_NF_INET_POST_ROUTING,
        }
    }

    fn priority(self) -> i32 {
        match self {
            Point::PreRouting => bindings::nf_ip_hook_priorities_NF_IP_PRI_RAW_BEFORE_DEFRAG,
            Point::PostRouting => bindings::nf_ip_hook_priorities_NF_IP_PRI_LAST - 1,
        }
    }
}

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

    /// Registers `handler` for IPv4 at `point` in `net`.
    ///
    /// # Safety
    ///
    /// `net` must be a live namespace that outlives the registration, and
    /// `handler` must stay valid at its address until [`Hook::unregister`]
    /// has returned (or `self` is dropped).
    pub(crate) unsafe fn register<H: Ipv4Hooks>(
        self: Pin<&mut Self>,
        net: *mut bindings::net,
        point: Point,
        handler: *const H,
    ) -> Result {
        // SAFETY: we never move out of the pinned `Hook`.
        let this = unsafe { self.get_unchecked_mut() };
        if this.registered {
            return Err(EBUSY);
        }
        // SAFETY: `ops` is not registered, so we are its only user.
        let ops = unsafe { &mut *this.ops.get() };
        ops.hook = Some(match point {
            Point::PreRouting => trampoline::<H, false>,
            Point::PostRouting => trampoline::<H, true>,
        });
        ops.priv_ = handler.cast_mut().cast::<c_void>();
        ops.pf = bindings::NFPROTO_IPV4 as u8;
        ops.hooknum = point.hooknum();
        ops.priority = point.priority();
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

/// The C entry point of the hooks: forwards to the handler's PRE_ROUTING
/// method, or its POST_ROUTING one if `OUT`.
///
/// # Safety
///
/// Called by the netfilter core with `priv_` as registered by
/// [`Hook::register`] and a valid `skb`.
unsafe extern "C" fn trampoline<H: Ipv4Hooks, const OUT: bool>(
    priv_: *mut c_void,
    raw_skb: *mut bindings::sk_buff,
    _state: *const bindings::nf_hook_state,
) -> kernel::ffi::c_uint {
    // SAFETY: `priv_` is the handler registered with this trampoline, valid
    // until unregistration, which waits for running hooks.
    let handler = unsafe { &*priv_.cast_const().cast::<H>() };
    // SAFETY: the netfilter core gives the hook `skb` for the call alone.
    let skb = unsafe { SkBuff::from_raw(raw_skb) };
    let verdict = if OUT {
        handler.post_routing(skb)
    } else {
        handler.pre_routing(skb)
    };
    if verdict == Verdict::Sent {
        // SAFETY: the hook owns `skb` and, returning NF_STOLEN, must free it.
        unsafe { bindings::consume_skb(raw_skb) };
    }
    verdict as kernel::ffi::c_uint
}

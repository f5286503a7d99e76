// SPDX-License-Identifier: GPL-2.0

//! The ARP tap: every ARP packet any interface receives, handed to the
//! node of the interface's namespace, which may answer for its VIPs.

use super::{
    bindings,
    pernet::{self, PerNet},
    skbuff::{NetDevice, SkBuff},
};
use crate::types::ARP_LEN;
use core::{
    marker::PhantomData,
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::{ffi::c_int, prelude::*};

/// A node that answers ARP requests.
pub(crate) trait ArpResponder: PerNet {
    /// Called in softirq context for every ARP packet `dev` receives, with
    /// its first bytes from the ARP header on. Must not sleep.
    fn arp_received(&self, dev: &NetDevice, arp: &[u8]);
}

/// Only one tap exists (it is one static `packet_type` in `shims.c`).
static TAPPED: AtomicBool = AtomicBool::new(false);

/// The registration of the ARP tap.
///
/// # Invariants
///
/// The tap is registered from construction until drop, calling
/// [`receive::<T>`], and the per-namespace registration of `T` outlives it.
pub(crate) struct ArpTap<T: ArpResponder>(PhantomData<T>);

impl<T: ArpResponder> ArpTap<T> {
    /// Registers the tap. `_nodes` is the registration of the nodes it
    /// hands packets to; the tap must be dropped before it.
    pub(crate) fn register(_nodes: &pernet::Registration<T>) -> Result<Self> {
        if TAPPED.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        // SAFETY: the static packet_type is not registered (checked above);
        // `receive::<T>` is valid for the whole life of the module.
        unsafe { bindings::tpc_arp_tap_register(Some(receive::<T>)) };
        Ok(Self(PhantomData))
    }
}

impl<T: ArpResponder> Drop for ArpTap<T> {
    fn drop(&mut self) {
        // SAFETY: registered (type invariant); returns once no `receive` runs.
        unsafe { bindings::tpc_arp_tap_unregister() };
        TAPPED.store(false, Ordering::Release);
    }
}

/// The tap's `packet_type.func`.
///
/// # Safety
///
/// Called by the networking core with a packet it hands over to us and the
/// device that received it.
unsafe extern "C" fn receive<T: ArpResponder>(
    skb: *mut bindings::sk_buff,
    dev: *mut bindings::net_device,
    _pt: *mut bindings::packet_type,
    _orig_dev: *mut bindings::net_device,
) -> c_int {
    {
        // SAFETY: the core passes a valid device and a packet that is ours
        // until we free it below.
        let (dev, packet) = unsafe { (NetDevice::from_raw(dev), SkBuff::from_raw(skb)) };
        // SAFETY: a device's namespace has its node: nodes are built when a
        // namespace is set up, before any device can be in it, and dropped
        // after its devices are gone; the tap is unregistered before the
        // nodes on module unload.
        let node = unsafe { pernet::state::<T>(dev.net()) };
        let mut buf = [0u8; ARP_LEN];
        node.arp_received(dev, packet.head(&mut buf));
    }
    // SAFETY: the packet is ours (a tap's copy) and no longer used.
    unsafe { bindings::consume_skb(skb) };
    bindings::NET_RX_SUCCESS as c_int
}

// SPDX-License-Identifier: GPL-2.0

//! Socket buffers and devices, as packet handlers receive them.

use super::bindings;
use kernel::types::Opaque;

/// A socket buffer borrowed for the duration of a handler call.
///
/// # Invariants
///
/// The wrapped `sk_buff` is valid, and owned by the running handler call,
/// for the lifetime of the reference.
#[repr(transparent)]
pub(crate) struct SkBuff(Opaque<bindings::sk_buff>);

impl SkBuff {
    /// Borrows `ptr` as an `SkBuff`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `sk_buff` that the caller's handler owns
    /// for the lifetime `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::sk_buff) -> &'a mut Self {
        // SAFETY: `SkBuff` is a transparent wrapper of `sk_buff`, and the
        // caller guarantees validity and exclusive ownership for `'a`.
        unsafe { &mut *ptr.cast::<Self>() }
    }

    /// Length of the packet's data from `skb->data` (for IPv4 at
    /// PRE_ROUTING: the IP total length).
    pub(crate) fn len(&self) -> u32 {
        // SAFETY: by the type invariant the `sk_buff` is valid.
        unsafe { bindings::tpc_skb_len(self.0.get()) }
    }

    /// Index of the device the packet arrived on, 0 if none.
    pub(crate) fn ifindex(&self) -> i32 {
        // SAFETY: by the type invariant the `sk_buff` is valid.
        unsafe { bindings::tpc_skb_iif(self.0.get()) }
    }

    /// The first bytes from `skb->data` (the network header, in the
    /// handlers we register), as many as fit in `buf` and the packet holds,
    /// copied into `buf` where they are not linear.
    pub(crate) fn head<'b>(&'b self, buf: &'b mut [u8]) -> &'b [u8] {
        self.bytes_at(0, buf)
    }

    /// The bytes from `offset` past `skb->data`, as many as fit in `buf`
    /// and the packet holds, copied into `buf` where they are not linear
    /// (paged fragments of a large packet).
    pub(crate) fn bytes_at<'b>(&'b self, offset: usize, buf: &'b mut [u8]) -> &'b [u8] {
        let Some(left) = (self.len() as usize).checked_sub(offset) else {
            return &[];
        };
        let want = buf.len().min(left);
        let (Ok(len), Ok(offset)) = (i32::try_from(want), i32::try_from(offset)) else {
            return &[];
        };
        // SAFETY: the `sk_buff` is valid (type invariant); `buf` has room
        // for `len` bytes, and `offset + len` is within the packet. The
        // result points into the packet or `buf`, both valid for `'b`, and
        // is `len` bytes long when not null.
        unsafe {
            let p = bindings::tpc_skb_header_pointer(
                self.0.get(),
                offset,
                len,
                buf.as_mut_ptr().cast(),
            );
            if p.is_null() {
                &[]
            } else {
                core::slice::from_raw_parts(p.cast::<u8>(), want)
            }
        }
    }

    /// The first `len` bytes from `skb->data`, linear and writable (the
    /// header is copied first if it is shared with a clone); `None` if the
    /// packet is shorter or memory is short.
    pub(crate) fn head_mut(&mut self, len: usize) -> Option<&mut [u8]> {
        let len32 = u32::try_from(len).ok()?;
        // SAFETY: the handler owns the packet (type invariant), so it may
        // make its head private and writable; on success the first `len`
        // bytes at the returned pointer are linear, writable, and stay so
        // while `self` is borrowed mutably.
        unsafe {
            let p = bindings::tpc_skb_writable(self.0.get(), len32);
            if p.is_null() {
                None
            } else {
                Some(core::slice::from_raw_parts_mut(p, len))
            }
        }
    }

    /// Whether the TCP/UDP checksum is left for the device to complete
    /// (`CHECKSUM_PARTIAL`): the field then holds only the pseudo-header.
    pub(crate) fn checksum_partial(&self) -> bool {
        // SAFETY: by the type invariant the `sk_buff` is valid.
        unsafe { bindings::tpc_skb_csum_partial(self.0.get()) }
    }

    /// Marks the packet as addressed to this host, so that the stack
    /// delivers a unicast datagram that came in a multicast frame.
    pub(crate) fn set_pkt_type_host(&self) {
        // SAFETY: the handler owns the packet (type invariant); a netfilter
        // hook at PRE_ROUTING may change `pkt_type`, as CLUSTERIP did.
        unsafe { bindings::tpc_skb_set_pkt_type_host(self.0.get()) }
    }
}

/// A network device borrowed for the duration of a handler call.
///
/// # Invariants
///
/// The wrapped `net_device` is valid for the lifetime of the reference.
#[repr(transparent)]
pub(crate) struct NetDevice(Opaque<bindings::net_device>);

impl NetDevice {
    /// Borrows `ptr` as a `NetDevice`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `net_device` for the lifetime `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::net_device) -> &'a Self {
        // SAFETY: transparent wrapper; validity guaranteed by the caller.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// The device's namespace.
    pub(crate) fn net(&self) -> *mut bindings::net {
        // SAFETY: the device is valid (type invariant).
        unsafe { bindings::tpc_dev_net(self.0.get()) }
    }

    /// The device's interface index.
    pub(crate) fn ifindex(&self) -> u32 {
        // SAFETY: the device is valid (type invariant).
        unsafe { bindings::tpc_dev_ifindex(self.0.get()) as u32 }
    }

    /// Sends an ARP reply: `ip` is at `mac`, to `to_ip` at `to_mac`. The
    /// frame's source is the device's own address.
    pub(crate) fn send_arp_reply(
        &self,
        ip: [u8; 4],
        mac: &[u8; 6],
        to_ip: [u8; 4],
        to_mac: &[u8; 6],
    ) {
        // SAFETY: the device is valid (type invariant), an Ethernet device
        // (we only answer on interfaces given for a VIP); the addresses are
        // 4 and 6 bytes, as the shim reads them. It allocates with GFP_ATOMIC.
        unsafe {
            bindings::tpc_arp_reply(
                self.0.get(),
                ip.as_ptr(),
                mac.as_ptr(),
                to_ip.as_ptr(),
                to_mac.as_ptr(),
            )
        }
    }
}

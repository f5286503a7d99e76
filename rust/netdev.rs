// SPDX-License-Identifier: GPL-2.0

//! Network namespaces and devices, as the control plane and the packet
//! handlers use them.

use super::bindings;
use kernel::{error::to_result, prelude::*};

/// A network namespace, as its node sees it.
///
/// # Invariants
///
/// The namespace is live while the node holding this value exists: nodes
/// are built in the namespace's pernet `init` and dropped in its `exit`.
#[derive(Clone, Copy)]
pub(crate) struct NetNs(*mut bindings::net);

// SAFETY: a `struct net` is shared by every CPU; this is only a pointer to it.
unsafe impl Send for NetNs {}
// SAFETY: as above.
unsafe impl Sync for NetNs {}

/// The errno [`NetNs::set_multicast`] gives for a device that is not
/// Ethernet (`EOPNOTSUPP`, which the kernel crate does not name), negated.
pub(crate) const NOT_ETHERNET: i32 = -(bindings::EOPNOTSUPP as i32);

impl NetNs {
    /// The namespace `net`.
    ///
    /// # Safety
    ///
    /// `net` must be live for as long as the value (and its copies) exist.
    pub(crate) unsafe fn from_raw(net: *mut bindings::net) -> Self {
        Self(net)
    }

    /// Adds (`join`) or removes the multicast `mac` to the receive filter of
    /// interface `ifindex`. `ENODEV` if there is no such interface,
    /// `EOPNOTSUPP` if it is no Ethernet device (its hardware addresses
    /// are not 6 bytes, or it does not resolve addresses with ARP).
    pub(crate) fn set_multicast(self, ifindex: u32, mac: &[u8; 6], join: bool) -> Result {
        let ifindex = i32::try_from(ifindex).map_err(|_| ENODEV)?;
        // SAFETY: the namespace is live (type invariant); the device, if
        // found, is returned with a reference that we drop below.
        let dev = unsafe { bindings::dev_get_by_index(self.0, ifindex) };
        if dev.is_null() {
            return Err(ENODEV);
        }
        // SAFETY: `dev` is held. `dev_mc_add` reads `dev->addr_len` bytes
        // of `mac`, which is 6 bytes long: only an Ethernet device's
        // addresses are that long.
        let ret = unsafe {
            if !bindings::tpc_dev_is_ethernet(dev) {
                NOT_ETHERNET
            } else if join {
                bindings::dev_mc_add(dev, mac.as_ptr())
            } else {
                bindings::dev_mc_del(dev, mac.as_ptr())
            }
        };
        // SAFETY: drops the reference `dev_get_by_index` took.
        unsafe { bindings::tpc_dev_put(dev) };
        to_result(ret)
    }
}

impl NetNs {
    /// Whether this namespace holds a TCP socket for a segment from
    /// `saddr:sport` to `daddr:dport` received on `ifindex`: a connection in
    /// handshake, established or closing, but not in TIME_WAIT (the client
    /// may have reused the port for a connection another node owns).
    ///
    /// Call from the packet path, which runs under the RCU read lock.
    pub(crate) fn holds_tcp_socket(
        self,
        saddr: [u8; 4],
        sport: u16,
        daddr: [u8; 4],
        dport: u16,
        ifindex: i32,
    ) -> bool {
        // SAFETY: the namespace is live (type invariant); the lookup takes
        // and drops its own reference on what it finds. Addresses and ports
        // are passed in network byte order, as the hash tables hold them.
        unsafe {
            bindings::tpc_tcp_socket_held(
                self.0,
                u32::from_ne_bytes(saddr),
                sport.to_be(),
                u32::from_ne_bytes(daddr),
                dport.to_be(),
                ifindex,
            )
        }
    }

    /// Whether the TCP segment whose IPv4 header `head` starts with
    /// completes a handshake this namespace's stack answered with a SYN
    /// cookie (`head`: the IPv4 header and at least 14 bytes of TCP's).
    /// Such a segment has no socket anywhere yet, and only the node that
    /// made the cookie can tell it is one.
    ///
    /// Call from the packet path, which runs under the RCU read lock.
    pub(crate) fn completes_cookie_handshake(self, head: &[u8]) -> bool {
        let Ok(len) = u32::try_from(head.len()) else {
            return false;
        };
        // SAFETY: the namespace is live (type invariant); `head` is `len`
        // readable bytes; the listener lookup runs under the caller's RCU
        // read lock and keeps no reference.
        unsafe { bindings::tpc_tcp_cookie_ack(self.0, head.as_ptr(), len) }
    }

    /// Whether the listener the TCP segment whose IPv4 header `head`
    /// starts with would reach sent SYN cookies lately (within the two
    /// minutes a cookie stays good): only then can the stack have kept
    /// nothing of a handshake it answered (`head`: the IPv4 header and at
    /// least the ports of TCP's).
    ///
    /// Call from the packet path, which runs under the RCU read lock.
    pub(crate) fn listener_sent_cookies(self, head: &[u8]) -> bool {
        let Ok(len) = u32::try_from(head.len()) else {
            return false;
        };
        // SAFETY: the namespace is live (type invariant); `head` is `len`
        // readable bytes; the listener lookup runs under the caller's RCU
        // read lock and keeps no reference.
        unsafe { bindings::tpc_tcp_listener_sent_cookies(self.0, head.as_ptr(), len) }
    }

    /// The raw namespace, for the binding layer.
    pub(crate) fn as_ptr(self) -> *mut bindings::net {
        self.0
    }
}

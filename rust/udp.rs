// SPDX-License-Identifier: GPL-2.0

//! A kernel UDP socket whose datagrams are handed to a receiver in softirq
//! context, as WireGuard's: the socket is an encapsulation socket, so the
//! UDP layer calls us from its receive path (checksum verified) instead of
//! queueing for a reader.

use super::{bindings, netdev::NetNs};
use crate::types::Ipv4;
use kernel::{error::to_result, ffi::c_void, prelude::*};

/// What receives a [`UdpSocket`]'s datagrams.
pub(crate) trait UdpReceiver: Sync {
    /// A datagram from `from:port` with payload `data`. Runs in softirq
    /// context, so it must not sleep.
    fn datagram_received(&self, from: Ipv4, port: u16, data: &[u8]);
}

/// A bound UDP socket of one namespace.
///
/// # Invariants
///
/// `sock` is a live kernel socket, set up by `tpc_udp_open` with a receiver
/// that outlives it; it is closed only by `drop`.
pub(crate) struct UdpSocket {
    sock: *mut bindings::socket,
}

// SAFETY: the socket is used from process context on any CPU; sending is
// serialised by the socket's own lock.
unsafe impl Send for UdpSocket {}
// SAFETY: as above; `&UdpSocket` only sends.
unsafe impl Sync for UdpSocket {}

/// The socket's encap receive function, through `tpc_udp_open`.
///
/// # Safety
///
/// `owner` is the `&R` given to [`UdpSocket::open`], still live (the socket
/// is closed before it goes); `saddr` points at 4 bytes and `data` at `len`.
unsafe extern "C" fn received<R: UdpReceiver>(
    owner: *mut c_void,
    saddr: *const u8,
    sport: u16,
    data: *const u8,
    len: usize,
) {
    // SAFETY: see the function's contract.
    let (receiver, from, data) = unsafe {
        (
            &*owner.cast::<R>(),
            Ipv4(core::ptr::read_unaligned(saddr.cast::<[u8; 4]>())),
            core::slice::from_raw_parts(data, len),
        )
    };
    receiver.datagram_received(from, sport, data);
}

impl UdpSocket {
    /// Opens a socket of `net` bound to `addr:port` whose datagrams go to
    /// `receiver`.
    ///
    /// # Safety
    ///
    /// `receiver` must outlive the socket: the caller drops the socket
    /// first.
    pub(crate) unsafe fn open<R: UdpReceiver>(
        net: NetNs,
        addr: Ipv4,
        port: u16,
        receiver: &R,
    ) -> Result<Self> {
        let mut sock = core::ptr::null_mut();
        // SAFETY: `net` is live (its type's invariant); `addr` is 4 bytes;
        // `receiver` outlives the socket (the caller's contract) and
        // `received::<R>` matches it.
        to_result(unsafe {
            bindings::tpc_udp_open(
                net.as_ptr(),
                addr.0.as_ptr(),
                port,
                core::ptr::from_ref(receiver).cast_mut().cast(),
                Some(received::<R>),
                &mut sock,
            )
        })?;
        Ok(Self { sock })
    }

    /// Sends `data` to `to:port`, without blocking. Process context.
    pub(crate) fn send(&self, to: Ipv4, port: u16, data: &[u8]) -> Result {
        // SAFETY: the socket is live (type invariant); `to` is 4 bytes and
        // `data` is valid for its length.
        to_result(unsafe {
            bindings::tpc_udp_send(self.sock, to.0.as_ptr(), port, data.as_ptr(), data.len())
        })
    }
}

impl Drop for UdpSocket {
    fn drop(&mut self) {
        // SAFETY: the socket is live and not used after this; the close
        // waits until no receive call can still reach the receiver.
        unsafe { bindings::tpc_udp_close(self.sock) };
    }
}

// SPDX-License-Identifier: GPL-2.0

//! TCP sockets and packets as the splice handover needs them: finding an
//! accepted connection, taking its state, letting it go without a word to
//! the client, and playing segments into the stack as if received.

use super::{bindings, netdev::NetNs};
use crate::types::Tuple;
use kernel::{error::to_result, prelude::*};

/// A counted reference to an established TCP socket.
///
/// # Invariants
///
/// `sk` is a socket on which this value holds one reference, dropped by
/// `drop`.
pub(crate) struct TcpSocket {
    sk: *mut bindings::sock,
}

// SAFETY: a socket reference may be used and dropped on any CPU; the
// socket's own lock serialises what the methods do with it.
unsafe impl Send for TcpSocket {}

/// What a handover takes of the dispatcher's socket.
pub(crate) struct Snapshot {
    /// The socket's state (`tpc_tcp_snapshot`).
    pub(crate) state: bindings::tpc_tcp_snapshot,
}

impl TcpSocket {
    /// The established socket of `tuple` in `net`.
    pub(crate) fn lookup(net: NetNs, tuple: &Tuple) -> Option<Self> {
        Self::lookup_in(net, tuple, false)
    }

    /// The socket of `tuple` in `net` in any state but `TIME_WAIT`: closing
    /// ones (`FIN_WAIT*`, `CLOSE_WAIT`, `LAST_ACK`) too.
    pub(crate) fn lookup_full(net: NetNs, tuple: &Tuple) -> Option<Self> {
        Self::lookup_in(net, tuple, true)
    }

    fn lookup_in(net: NetNs, tuple: &Tuple, any_state: bool) -> Option<Self> {
        // SAFETY: `net` is live (its type's invariant); the addresses are 4
        // bytes. The result, if not null, carries a reference.
        let sk = unsafe {
            bindings::tpc_tcp_lookup(
                net.as_ptr(),
                tuple.client.as_ptr(),
                tuple.client_port,
                tuple.vip.as_ptr(),
                tuple.port,
                any_state,
            )
        };
        // `then`, not `then_some`: no `TcpSocket` (whose drop puts a
        // reference) may exist for a null result.
        (!sk.is_null()).then(|| Self { sk })
    }

    /// The established socket of `net` whose `SO_COOKIE` is `cookie`.
    /// Walks the namespace's whole established hash.
    pub(crate) fn lookup_cookie(net: NetNs, cookie: u64) -> Option<Self> {
        // SAFETY: `net` is live; the result, if not null, carries a reference.
        let sk = unsafe { bindings::tpc_tcp_lookup_cookie(net.as_ptr(), cookie) };
        // `then`, not `then_some`: no `TcpSocket` (whose drop puts a
        // reference) may exist for a null result.
        (!sk.is_null()).then(|| Self { sk })
    }

    /// Its `SO_COOKIE`, 0 if it never had one.
    pub(crate) fn cookie(&self) -> u64 {
        // SAFETY: we hold a reference (type invariant).
        unsafe { bindings::tpc_sock_cookie(self.sk) }
    }

    /// Its connection, from the client's side.
    pub(crate) fn tuple(&self) -> Tuple {
        // SAFETY: we hold a reference (type invariant).
        unsafe { tuple_of(self.sk) }
    }

    /// Takes its state and copies the bytes received but not read into
    /// `unread`. `EBUSY` while data is in flight or out of order,
    /// `ENOTCONN` unless established, `E2BIG` if `unread` is too short.
    /// Process context (takes the socket lock).
    pub(crate) fn snapshot(&self, unread: &mut [u8]) -> Result<Snapshot> {
        let mut state = bindings::tpc_tcp_snapshot::default();
        let cap = u32::try_from(unread.len()).unwrap_or(u32::MAX);
        // SAFETY: we hold a reference; `state` and `unread` (`cap` bytes)
        // are valid for writing. Process context (the caller's contract).
        to_result(unsafe {
            bindings::tpc_tcp_snapshot(self.sk, &mut state, unread.as_mut_ptr(), cap)
        })?;
        Ok(Snapshot { state })
    }

    /// The TSval it would send now (its timestamp clock plus its offset).
    pub(crate) fn tsval(&self) -> u32 {
        // SAFETY: we hold a reference; reading the clock needs no lock.
        unsafe { bindings::tpc_tcp_tsval(self.sk) }
    }

    /// Closes it without sending anything: no FIN, no RST, ever. Its owner
    /// reads end-of-file. Process context.
    pub(crate) fn release_silently(&self) {
        // SAFETY: we hold a reference; process context.
        unsafe { bindings::tpc_tcp_release_silently(self.sk) }
    }
}

/// The connection of `sk`, from the client's side.
///
/// # Safety
///
/// `sk` must be a TCP socket kept alive for the call.
pub(super) unsafe fn tuple_of(sk: *mut bindings::sock) -> Tuple {
    let mut t = Tuple::default();
    // SAFETY: `sk` is alive (the caller's contract); the outputs are 4-byte
    // arrays and u16s.
    unsafe {
        bindings::tpc_sock_tuple(
            sk,
            t.client.as_mut_ptr(),
            &mut t.client_port,
            t.vip.as_mut_ptr(),
            &mut t.port,
        )
    };
    t
}

impl Drop for TcpSocket {
    fn drop(&mut self) {
        // SAFETY: we hold one reference (type invariant) and give it back.
        unsafe { bindings::tpc_sock_put(self.sk) }
    }
}

/// Whether a TCP socket of `net` listens on `vip:port`. Any context.
pub(crate) fn listening(net: NetNs, vip: [u8; 4], port: u16) -> bool {
    // SAFETY: `net` is live; `vip` is 4 bytes.
    unsafe { bindings::tpc_tcp_listening(net.as_ptr(), vip.as_ptr(), port) }
}

/// Whether `net` holds the connection `tuple` live, as the packet path
/// asks for a segment received on `ifindex`: in handshake, established or
/// closing, but not in TIME_WAIT ([`NetNs::holds_tcp_socket`]). Packet
/// path (RCU read lock held).
pub(crate) fn socket_held(net: NetNs, tuple: &Tuple, ifindex: i32) -> bool {
    net.holds_tcp_socket(
        tuple.client,
        tuple.client_port,
        tuple.vip,
        tuple.port,
        ifindex,
    )
}

/// Whether `net` has a TCP socket of any state, TIME_WAIT included, for the
/// connection `tuple`. Any context.
pub(crate) fn socket_exists(net: NetNs, tuple: &Tuple) -> bool {
    // SAFETY: `net` is live; the addresses are 4 bytes.
    unsafe {
        bindings::tpc_tcp_socket_exists(
            net.as_ptr(),
            tuple.client.as_ptr(),
            tuple.client_port,
            tuple.vip.as_ptr(),
            tuple.port,
        )
    }
}

/// Ends the TIME_WAIT socket of the connection `tuple` in `net`, if it has
/// one (a socket in FIN_WAIT2 is left alone), as the stack does when a new
/// SYN reuses a tuple: whether there was one. Any context.
pub(crate) fn end_time_wait(net: NetNs, tuple: &Tuple) -> bool {
    // SAFETY: `net` is live; the addresses are 4 bytes.
    unsafe {
        bindings::tpc_tcp_end_time_wait(
            net.as_ptr(),
            tuple.client.as_ptr(),
            tuple.client_port,
            tuple.vip.as_ptr(),
            tuple.port,
        )
    }
}

/// Delivers the IPv4 packet `pkt` to `net` as if it had been received on
/// interface `ifindex`: it goes through PRE_ROUTING like any other. Any
/// context.
pub(crate) fn play_ipv4(net: NetNs, ifindex: u32, pkt: &[u8]) -> Result {
    let len = u32::try_from(pkt.len()).map_err(|_| EINVAL)?;
    let ifindex = i32::try_from(ifindex).map_err(|_| EINVAL)?;
    // SAFETY: `net` is live; `pkt` is valid for `len` bytes (copied).
    to_result(unsafe { bindings::tpc_inject_ipv4(net.as_ptr(), ifindex, pkt.as_ptr(), len) })
}

/// Waits until every packet handler already running, on every CPU, has
/// returned (`synchronize_net`). Process context.
pub(crate) fn synchronize_net() {
    // SAFETY: no precondition beyond process context.
    unsafe { bindings::tpc_synchronize_net() }
}

/// Sleeps about `us` microseconds (up to twice that, so that wake-ups can
/// be grouped), on a high-resolution timer. Process context.
pub(crate) fn sleep_us(us: u32) {
    let us = us as kernel::ffi::c_ulong;
    // SAFETY: no precondition beyond process context.
    unsafe { bindings::tpc_usleep(us, 2 * us) }
}

/// The sequence state of the socket of `tuple` in `net`, if it has a full
/// one or one in TIME_WAIT (which has received everything, the peer's FIN
/// included). Any context.
pub(crate) fn progress(net: NetNs, tuple: &Tuple) -> Option<super::sockhook::Progress> {
    let mut p = bindings::tpc_tcp_progress::default();
    // SAFETY: `net` is live; the addresses are 4 bytes; `p` is writable.
    let found = unsafe {
        bindings::tpc_tcp_progress(
            net.as_ptr(),
            tuple.client.as_ptr(),
            tuple.client_port,
            tuple.vip.as_ptr(),
            tuple.port,
            &mut p,
        )
    };
    found.then(|| p.into())
}

/// Makes the socket of `tuple` in `net` send an ACK now and, with
/// `retransmit`, its first unacknowledged segment. Whether it has one.
/// Process context.
pub(crate) fn ack_now(net: NetNs, tuple: &Tuple, retransmit: bool) -> bool {
    // SAFETY: `net` is live; the addresses are 4 bytes; process context.
    unsafe {
        bindings::tpc_tcp_ack_now(
            net.as_ptr(),
            tuple.client.as_ptr(),
            tuple.client_port,
            tuple.vip.as_ptr(),
            tuple.port,
            retransmit,
        )
    }
}

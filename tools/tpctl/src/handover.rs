//! Handing a connection of a splice service to another node: the
//! `handover` netlink request, for `tpctl conn handover` and for
//! applications, which call [`handover_stream`] with the accepted stream,
//! the target node and the bytes they read and want the target's
//! application to read first.

use crate::{
    netlink::{Attr, Client},
    uapi,
};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::fd::AsRawFd;

/// A connection of this node, as the kernel names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Connection {
    /// The client's address and port.
    pub client: (Ipv4Addr, u16),
    /// The VIP and the service's port.
    pub service: (Ipv4Addr, u16),
    /// The socket's `SO_COOKIE`, if known: guards against naming a tuple
    /// that was reused.
    pub cookie: Option<u64>,
}

impl Connection {
    /// The connection of an accepted stream.
    pub fn of(stream: &TcpStream) -> std::io::Result<Self> {
        let v4 = |a: SocketAddr| match a {
            SocketAddr::V4(a) => Ok((*a.ip(), a.port())),
            SocketAddr::V6(_) => Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "IPv6 connections cannot be handed over",
            )),
        };
        let mut cookie = 0u64;
        let mut len = std::mem::size_of::<u64>() as libc::socklen_t;
        // SAFETY: getsockopt writes at most `len` bytes into `cookie`.
        let rc = unsafe {
            libc::getsockopt(
                stream.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_COOKIE,
                (&mut cookie as *mut u64).cast(),
                &mut len,
            )
        };
        Ok(Self {
            client: v4(stream.peer_addr()?)?,
            service: v4(stream.local_addr()?)?,
            cookie: (rc == 0).then_some(cookie),
        })
    }
}

/// Hands `conn` to node `target`; its application reads `replay` first,
/// then whatever the client sends. On success the connection has left this
/// node: close the local socket (nothing reaches the client from it). On
/// error the connection is still here and works; the message says why.
pub fn handover(conn: &Connection, target: u32, replay: &[u8]) -> Result<(), String> {
    let mut attrs = vec![
        Attr::ipv4(uapi::A_HANDOVER_CLIENT_ADDR, conn.client.0),
        Attr::u16(uapi::A_HANDOVER_CLIENT_PORT, conn.client.1),
        Attr::ipv4(uapi::A_HANDOVER_VIP, conn.service.0),
        Attr::u16(uapi::A_HANDOVER_PORT, conn.service.1),
        Attr::u32(uapi::A_HANDOVER_TARGET, target),
        Attr::bytes(uapi::A_HANDOVER_REPLAY, replay.to_vec()),
    ];
    if let Some(c) = conn.cookie {
        attrs.push(Attr::u64(uapi::A_HANDOVER_COOKIE, c));
    }
    request(attrs)
}

/// Hands the connection named by its `cookie` alone to node `target`.
pub fn handover_cookie(cookie: u64, target: u32, replay: &[u8]) -> Result<(), String> {
    request(vec![
        Attr::u64(uapi::A_HANDOVER_COOKIE, cookie),
        Attr::u32(uapi::A_HANDOVER_TARGET, target),
        Attr::bytes(uapi::A_HANDOVER_REPLAY, replay.to_vec()),
    ])
}

/// Hands the connection of the accepted `stream` to node `target`, in one
/// call: `consumed` are the bytes read from it that the target's
/// application must read first. On success `stream` is closed.
pub fn handover_stream(
    stream: TcpStream,
    target: u32,
    consumed: &[u8],
) -> Result<(), (TcpStream, String)> {
    let conn = match Connection::of(&stream) {
        Ok(c) => c,
        Err(e) => return Err((stream, e.to_string())),
    };
    match handover(&conn, target, consumed) {
        Ok(()) => Ok(()),
        Err(e) => Err((stream, e)),
    }
}

fn request(attrs: Vec<Attr>) -> Result<(), String> {
    let mut client = Client::connect().map_err(|e| e.text)?;
    client
        .request(uapi::CMD_HANDOVER, attrs)
        .map(|_| ())
        .map_err(|e| e.text)
}

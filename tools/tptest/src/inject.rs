//! `inject`: blind data injection into a live connection (RFC 5961,
//! section 5), as an attacker on the segment tries it.
//!
//! A connection to a `hash` server gets the first half of a stream. Then a
//! forged segment from the client's address and port sits exactly at the
//! connection's next sequence number, so any stack would take its payload,
//! but acknowledges far beyond anything the server has sent: a plain stack
//! drops it whole (an acknowledgment of unsent data). Then the real rest,
//! over the same sequence numbers. The server must hash the real stream
//! alone, and so must every replica of it.
//!
//! The connection's numbers are read with `TCP_REPAIR` (root only), as an
//! attacker who sees the segment's traffic knows them.

use crate::icmp;
use std::{
    io::{self, Read, Write},
    net::{IpAddr, Shutdown, TcpStream},
    os::fd::AsRawFd,
    time::{Duration, Instant},
};

// From the kernel's uapi <linux/tcp.h>.
const TCP_REPAIR: libc::c_int = 19;
const TCP_REPAIR_QUEUE: libc::c_int = 20;
const TCP_QUEUE_SEQ: libc::c_int = 21;
const TCP_RECV_QUEUE: libc::c_int = 1;
const TCP_SEND_QUEUE: libc::c_int = 2;

fn setsockopt(conn: &TcpStream, opt: libc::c_int, val: libc::c_int) -> io::Result<()> {
    // SAFETY: a plain system call on a socket `conn` owns, with a pointer
    // to an int that lives across the call and its correct size.
    let r = unsafe {
        libc::setsockopt(
            conn.as_raw_fd(),
            libc::IPPROTO_TCP,
            opt,
            (&val as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn queue_seq(conn: &TcpStream, queue: libc::c_int) -> io::Result<u32> {
    setsockopt(conn, TCP_REPAIR_QUEUE, queue)?;
    let mut val: u32 = 0;
    let mut len = std::mem::size_of::<u32>() as libc::socklen_t;
    // SAFETY: as above; `val` and `len` outlive the call, `len` its size.
    let r = unsafe {
        libc::getsockopt(
            conn.as_raw_fd(),
            libc::IPPROTO_TCP,
            TCP_QUEUE_SEQ,
            (&mut val as *mut u32).cast(),
            &mut len,
        )
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(val)
}

/// The connection's next sequence number each way: (what it sends next,
/// what it expects next).
fn numbers(conn: &TcpStream) -> io::Result<(u32, u32)> {
    setsockopt(conn, TCP_REPAIR, 1)?;
    let got =
        queue_seq(conn, TCP_SEND_QUEUE).and_then(|s| Ok((s, queue_seq(conn, TCP_RECV_QUEUE)?)));
    setsockopt(conn, TCP_REPAIR, 0)?;
    got
}

/// Bytes sent on `conn` and not yet acknowledged.
fn unacked(conn: &TcpStream) -> io::Result<libc::c_int> {
    let mut n: libc::c_int = 0;
    // SAFETY: TIOCOUTQ writes one int through the pointer, which outlives
    // the call.
    if unsafe { libc::ioctl(conn.as_raw_fd(), libc::TIOCOUTQ, &mut n) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(n)
}

/// The attack on a connection to the `hash` server at `host:port` that
/// sends the stream of `bytes` and `seed`; the server's answer.
pub fn inject(host: &str, port: u16, bytes: u64, seed: u64) -> io::Result<String> {
    let mut data = Vec::with_capacity(bytes as usize);
    crate::generate(bytes, seed, |c| {
        data.extend_from_slice(c);
        Ok(())
    })?;
    let (first, rest) = data.split_at(data.len() / 2);
    let mut conn = TcpStream::connect((host, port))?;
    conn.set_nodelay(true)?;
    conn.set_read_timeout(Some(Duration::from_secs(60)))?;
    conn.write_all(first)?;
    let since = Instant::now();
    while unacked(&conn)? > 0 {
        if since.elapsed() > Duration::from_secs(20) {
            return Err(io::Error::other("the first half was never acknowledged"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let (snd_nxt, rcv_nxt) = numbers(&conn)?;
    let (IpAddr::V4(src), IpAddr::V4(dst)) = (conn.local_addr()?.ip(), conn.peer_addr()?.ip())
    else {
        return Err(io::Error::other("IPv4 only"));
    };
    let forged = icmp::tcp_segment(
        src,
        conn.local_addr()?.port(),
        dst,
        port,
        snd_nxt,
        rcv_nxt.wrapping_add(1_000_000),
        0x18, // ACK | PSH
        &[b'X'; 512],
    );
    icmp::send_tcp_from(src, dst, &forged)?;
    std::thread::sleep(Duration::from_millis(300));
    conn.write_all(rest)?;
    conn.shutdown(Shutdown::Write)?;
    let mut answer = String::new();
    conn.read_to_string(&mut answer)?;
    Ok(answer)
}

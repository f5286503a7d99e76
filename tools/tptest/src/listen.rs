//! The listening sockets of `tptest serve`, in the shapes real servers
//! use: IPv4 or dual-stack IPv6 (`[::]` without IPV6_V6ONLY, as Go, Java,
//! busybox httpd and nginx with `ipv6only=off` listen), alone or several
//! in one SO_REUSEPORT group (as nginx's `reuseport` and multi-process
//! servers do).

use std::{
    io,
    net::{IpAddr, SocketAddr, TcpListener},
    os::fd::{FromRawFd, OwnedFd},
};

/// The listeners `TPTEST_LISTEN` (an address, default `0.0.0.0`) and
/// `TPTEST_REUSEPORT` (how many, default 1) ask for, on `port`.
pub fn from_env(port: u16) -> io::Result<Vec<TcpListener>> {
    let addr: IpAddr = std::env::var("TPTEST_LISTEN")
        .unwrap_or_else(|_| "0.0.0.0".into())
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("TPTEST_LISTEN: {e}")))?;
    let count: usize = match std::env::var("TPTEST_REUSEPORT") {
        Ok(v) => v.parse().map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("TPTEST_REUSEPORT: {e}"),
            )
        })?,
        Err(_) => 1,
    };
    if count <= 1 {
        let listener = TcpListener::bind(SocketAddr::new(addr, port))?;
        if std::env::var_os("TPTEST_BACKLOG").is_some() {
            // listen(2) again sets the backlog of a listening socket.
            let raw = std::os::fd::AsRawFd::as_raw_fd(&listener);
            // SAFETY: listen(2) on a descriptor `listener` owns.
            if unsafe { libc::listen(raw, backlog()) } < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        return Ok(vec![listener]);
    }
    (0..count)
        .map(|_| reuseport(SocketAddr::new(addr, port)))
        .collect()
}

/// The listen backlog: a burst of connections above it is dropped by a
/// busy server's stack. `TPTEST_BACKLOG` sets it (default 128).
fn backlog() -> libc::c_int {
    std::env::var("TPTEST_BACKLOG")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(128)
}

/// One member of the SO_REUSEPORT group on `addr`.
fn reuseport(addr: SocketAddr) -> io::Result<TcpListener> {
    let family = if addr.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    // SAFETY: plain socket(2); the descriptor is owned at once.
    let fd = unsafe { libc::socket(family, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
    let one: libc::c_int = 1;
    let zero: libc::c_int = 0;
    let set = |level, name, value: &libc::c_int| {
        // SAFETY: `value` is a live c_int and its size is passed.
        let r = unsafe {
            libc::setsockopt(
                raw,
                level,
                name,
                (value as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if r < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    };
    set(libc::SOL_SOCKET, libc::SO_REUSEADDR, &one)?;
    set(libc::SOL_SOCKET, libc::SO_REUSEPORT, &one)?;
    if addr.is_ipv6() {
        set(libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, &zero)?;
    }
    let r = match addr {
        SocketAddr::V4(a) => {
            let sa = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(*a.ip()).to_be(),
                },
                sin_zero: [0; 8],
            };
            // SAFETY: `sa` is a valid sockaddr_in of the size passed.
            unsafe {
                libc::bind(
                    raw,
                    (&sa as *const libc::sockaddr_in).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
                )
            }
        }
        SocketAddr::V6(a) => {
            let sa = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr {
                    s6_addr: a.ip().octets(),
                },
                sin6_scope_id: 0,
            };
            // SAFETY: `sa` is a valid sockaddr_in6 of the size passed.
            unsafe {
                libc::bind(
                    raw,
                    (&sa as *const libc::sockaddr_in6).cast(),
                    std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                )
            }
        }
    };
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: listen(2) on the descriptor we own.
    if unsafe { libc::listen(raw, backlog()) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(TcpListener::from(fd))
}

//! `tpctl cluster show` and `tpctl monitor`: the members of the cluster as
//! this node sees them, and their changes (and replicas found diverging)
//! as they happen.

use crate::{
    conns::role_name,
    netlink::{Attrs, Client, Error},
    output::{self, Diverged, Member},
    uapi::*,
    Failure,
};
use std::net::SocketAddrV4;

/// A member, from a `member-get` or `member-ntf` message.
pub(crate) fn member(a: &Attrs) -> Option<Member> {
    let state = a
        .u32(A_MEMBER_STATE)
        .and_then(|s| MEMBER_STATES.get(s as usize))
        .copied()
        .unwrap_or("unknown");
    Some(Member {
        id: a.u32(A_MEMBER_ID)?,
        addr: a.ipv4(A_MEMBER_ADDR)?,
        state: state.to_string(),
        incarnation: a.u32(A_MEMBER_INCARNATION)?,
        last_heard_ms: match a.u32(A_MEMBER_LAST_HEARD_MS)? {
            u32::MAX => None,
            ms => Some(ms),
        },
        weight: a.u16(A_MEMBER_WEIGHT),
        ready_services: a.u32(A_MEMBER_READY_SERVICES),
    })
}

/// A diverging replica, from a `replica-ntf` message.
pub(crate) fn diverged(a: &Attrs) -> Option<Diverged> {
    let client = SocketAddrV4::new(
        a.ipv4(A_REPLICA_CONN_CLIENT_ADDR)?,
        a.u16(A_REPLICA_CONN_CLIENT_PORT)?,
    );
    let service = SocketAddrV4::new(a.ipv4(A_REPLICA_CONN_VIP)?, a.u16(A_REPLICA_CONN_PORT)?);
    Some(Diverged {
        event: "replica-diverged".into(),
        client: client.to_string(),
        service: service.to_string(),
        role: role_name(&CONN_ROLES, a.u32(A_REPLICA_CONN_ROLE)).to_string(),
        diverged: a.u32(A_REPLICA_CONN_DIVERGED)?,
    })
}

/// `tpctl cluster show`.
pub(crate) fn show(json: bool) -> Result<String, Failure> {
    let mut client = Client::connect()?;
    let members = client
        .dump(CMD_MEMBER_GET)?
        .iter()
        .map(|a| {
            member(a).ok_or_else(|| Error {
                errno: 0,
                text: "malformed member in the kernel's reply".into(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(output::list(&members, json))
}

/// Waits until the socket `fd` has something to read. Returns false if
/// standard output went away meanwhile (its reader closed the pipe, or it
/// is closed): then nobody reads what `monitor` would print.
fn wait(fd: std::os::fd::RawFd) -> Result<bool, Failure> {
    let mut fds = [
        libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: libc::STDOUT_FILENO,
            events: 0,
            revents: 0,
        },
    ];
    loop {
        // SAFETY: `fds` is an array of two initialised pollfds.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(Failure::Failed(format!("waiting for notifications: {e}")));
        }
        if fds[1].revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
            return Ok(false);
        }
        if fds[0].revents != 0 {
            return Ok(true);
        }
    }
}

/// `tpctl monitor [node ID] [count N]`: prints each membership change and
/// each diverging replica as it happens (of node ID only, if given), a line
/// (or JSON object) each; with `count`, exits after N. Ends quietly once
/// nobody reads its output.
pub(crate) fn monitor(node: Option<u32>, count: Option<u64>, json: bool) -> Result<(), Failure> {
    let mut client = Client::connect()?;
    client.subscribe(MCGRP_MONITOR)?;
    let mut seen = 0u64;
    while count.is_none_or(|n| seen < n) {
        if !wait(client.fd())? {
            return Err(Failure::Closed);
        }
        for msg in client.notifications()? {
            let (id, line) = match msg.cmd {
                CMD_MEMBER_NTF => match member(&msg.attrs) {
                    Some(m) => (m.id, output::one(&m, json)),
                    None => continue,
                },
                CMD_REPLICA_NTF => match diverged(&msg.attrs) {
                    Some(d) => (d.diverged, output::one(&d, json)),
                    None => continue,
                },
                _ => continue,
            };
            if node.is_some_and(|want| id != want) {
                continue;
            }
            crate::print(&line)?;
            seen += 1;
            if count.is_some_and(|n| seen >= n) {
                break;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::Attr;
    use std::net::Ipv4Addr;

    #[test]
    fn never_heard_is_none() {
        let mut a = Attrs(vec![
            Attr::u32(A_MEMBER_ID, 2),
            Attr::ipv4(A_MEMBER_ADDR, Ipv4Addr::new(10, 0, 0, 2)),
            Attr::u32(A_MEMBER_STATE, 2),
            Attr::u32(A_MEMBER_INCARNATION, 0),
            Attr::u32(A_MEMBER_LAST_HEARD_MS, u32::MAX),
        ]);
        let m = member(&a).unwrap();
        assert_eq!((m.state.as_str(), m.last_heard_ms), ("dead", None));
        a.0[2] = Attr::u32(A_MEMBER_STATE, 9);
        a.0[4] = Attr::u32(A_MEMBER_LAST_HEARD_MS, 212);
        let m = member(&a).unwrap();
        assert_eq!((m.state.as_str(), m.last_heard_ms), ("unknown", Some(212)));
        a.0.remove(0);
        assert_eq!(member(&a), None);
    }

    #[test]
    fn a_diverged_replica_reads_as_its_event() {
        let a = Attrs(vec![
            Attr::ipv4(A_REPLICA_CONN_CLIENT_ADDR, Ipv4Addr::new(10, 0, 0, 4)),
            Attr::u16(A_REPLICA_CONN_CLIENT_PORT, 40000),
            Attr::ipv4(A_REPLICA_CONN_VIP, Ipv4Addr::new(10, 0, 0, 100)),
            Attr::u16(A_REPLICA_CONN_PORT, 8080),
            Attr::u32(A_REPLICA_CONN_ROLE, 0),
            Attr::u32(A_REPLICA_CONN_DIVERGED, 2),
        ]);
        let d = diverged(&a).unwrap();
        assert_eq!(
            output::one(&d, false),
            "event replica-diverged  client 10.0.0.4:40000  service 10.0.0.100:8080  \
             role primary  diverged 2\n"
        );
        assert_eq!(
            output::one(&d, true),
            "{\"event\":\"replica-diverged\",\"client\":\"10.0.0.4:40000\",\
             \"service\":\"10.0.0.100:8080\",\"role\":\"primary\",\"diverged\":2}\n"
        );
        let mut short = a;
        short.0.pop();
        assert_eq!(diverged(&short), None);
    }
}

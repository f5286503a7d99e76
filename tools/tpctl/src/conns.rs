//! `tpctl conn show`: the TCP connections to a VIP that this node holds
//! (the kernel's `/proc/net/tcp` of this namespace, filtered by the node's
//! VIPs). In balance mode a connection lives on exactly one node, so each
//! node lists its own share. A replicated connection (replicate mode) is
//! on every replica of its set: it also shows this node's role and the
//! set, each replica with its role and confirmed offsets (`replica-get`).

use crate::{
    cli::SetPrimary,
    netlink::{Attr, Attrs, Client},
    objects::{self, Handover, Target},
    output::{self, Replica},
    uapi::*,
    Failure,
};
use std::net::{Ipv4Addr, SocketAddrV4};

/// The stack's IPv4 sockets, and its IPv6 ones: a dual-stack listener's
/// connections from IPv4 clients are there, with v4-mapped addresses.
const PROC_TCP: [&str; 2] = ["/proc/net/tcp", "/proc/net/tcp6"];

/// TCP states as `/proc/net/tcp` numbers them (include/net/tcp_states.h).
const STATES: [&str; 12] = [
    "",
    "established",
    "syn-sent",
    "syn-recv",
    "fin-wait1",
    "fin-wait2",
    "time-wait",
    "close",
    "close-wait",
    "last-ack",
    "listen",
    "closing",
];

/// One connection: local address and port, remote address and port, state.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Conn {
    pub(crate) local: SocketAddrV4,
    pub(crate) remote: SocketAddrV4,
    pub(crate) state: &'static str,
}

/// `0100000A:0050` as printed by the kernel: the address as a native-endian
/// u32 in hex, the port in hex; or an IPv6 socket's v4-mapped address
/// (`::ffff:a.b.c.d`, `0000000000000000FFFF00000100000A:0050`). Other IPv6
/// addresses are none of a VIP's.
fn endpoint(s: &str) -> Option<SocketAddrV4> {
    let (addr, port) = s.split_once(':')?;
    // The third word of a v4-mapped address, as the kernel prints it:
    // bytes 00 00 ff ff read as a native-endian u32.
    let mapped = format!(
        "0000000000000000{:08X}",
        u32::from_ne_bytes([0, 0, 0xff, 0xff])
    );
    let addr = match addr.len() {
        8 => addr,
        32 => addr.strip_prefix(mapped.as_str())?,
        _ => return None,
    };
    let addr = u32::from_str_radix(addr, 16).ok()?.to_ne_bytes();
    Some(SocketAddrV4::new(
        addr.into(),
        u16::from_str_radix(port, 16).ok()?,
    ))
}

/// The connections of `/proc/net/tcp` text whose local address is in `vips`
/// (listening sockets left out).
pub(crate) fn parse(text: &str, vips: &[Ipv4Addr]) -> Vec<Conn> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut f = line.split_whitespace().skip(1);
            let local = endpoint(f.next()?)?;
            let remote = endpoint(f.next()?)?;
            let state = *STATES.get(usize::from_str_radix(f.next()?, 16).ok()?)?;
            (vips.contains(local.ip()) && state != "listen").then_some(Conn {
                local,
                remote,
                state,
            })
        })
        .collect()
}

/// A replicated connection on this node (one `replica-get` message).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Replicated {
    pub(crate) client: SocketAddrV4,
    pub(crate) vip: SocketAddrV4,
    /// This node's role: primary, backup or fenced.
    pub(crate) role: &'static str,
    /// The replica set in rendezvous order, this node included.
    pub(crate) set: Vec<Replica>,
    /// The client log this node keeps of it (`none`, `kept`, `past-bound`,
    /// `lost`) and its bytes; `None` from a module that does not say.
    pub(crate) log: Option<(&'static str, u32)>,
}

pub(crate) fn role_name(names: &'static [&'static str], v: Option<u32>) -> &'static str {
    v.and_then(|v| names.get(v as usize))
        .copied()
        .unwrap_or("unknown")
}

/// Parses one `replica-get` message; `None` if the connection's tuple is
/// incomplete.
pub(crate) fn replicated(a: &Attrs) -> Option<Replicated> {
    let set = a
        .nested(A_REPLICA_CONN_REPLICA)
        .filter_map(|r| {
            Some(Replica {
                id: r.u32(A_REPLICA_ID)?,
                role: role_name(&REPLICA_ROLES, r.u32(A_REPLICA_ROLE)).to_string(),
                received: r.u32(A_REPLICA_RECEIVED)?,
                sent: r.u32(A_REPLICA_SENT)?,
            })
        })
        .collect();
    Some(Replicated {
        client: SocketAddrV4::new(
            a.ipv4(A_REPLICA_CONN_CLIENT_ADDR)?,
            a.u16(A_REPLICA_CONN_CLIENT_PORT)?,
        ),
        vip: SocketAddrV4::new(a.ipv4(A_REPLICA_CONN_VIP)?, a.u16(A_REPLICA_CONN_PORT)?),
        role: role_name(&CONN_ROLES, a.u32(A_REPLICA_CONN_ROLE)),
        set,
        log: a.u32(A_REPLICA_CONN_LOG).map(|s| {
            (
                role_name(&LOG_STATES, Some(s)),
                a.u32(A_REPLICA_CONN_LOG_BYTES).unwrap_or(0),
            )
        }),
    })
}

/// The rows of `conn show`: each connection of `conns` (from
/// `/proc/net/tcp`), and for one that is replicated, this node's role
/// (`replicate`) and the replica set (`set`); then the replicated
/// connections of `reps` with no socket here, with state `-`.
pub(crate) fn rows(conns: &[Conn], reps: &[Replicated]) -> Vec<output::Conn> {
    let row = |vip, client, state: &str, rep: Option<&Replicated>| output::Conn {
        vip,
        client,
        state: state.to_string(),
        replicate: rep.map(|r| r.role.to_string()),
        set: rep.map(|r| r.set.clone()),
        log: rep.and_then(|r| r.log).map(|(state, bytes)| output::Log {
            state: state.to_string(),
            bytes,
        }),
    };
    let same = |r: &Replicated, c: &Conn| r.vip == c.local && r.client == c.remote;
    let mut out: Vec<output::Conn> = conns
        .iter()
        .map(|c| row(c.local, c.remote, c.state, reps.iter().find(|r| same(r, c))))
        .collect();
    for rep in reps.iter().filter(|r| !conns.iter().any(|c| same(r, c))) {
        out.push(row(rep.vip, rep.client, "-", Some(rep)));
    }
    out
}

/// `conn handover`: through the library, as applications do it.
pub(crate) fn handover(h: &Handover) -> Result<(), Failure> {
    let replay = match &h.replay {
        Some(file) => std::fs::read(file)
            .map_err(|e| Failure::Failed(format!("reading {file}: {}", crate::io_text(&e))))?,
        None => Vec::new(),
    };
    match h.target {
        Target::Tuple(client, service) => tpctl::handover(
            &tpctl::Connection {
                client,
                service,
                cookie: None,
            },
            h.to,
            &replay,
        ),
        Target::Cookie(cookie) => tpctl::handover_cookie(cookie, h.to, &replay),
    }
    .map_err(Failure::Failed)
}

/// `conn primary`: hands the sender role of a replicated connection this
/// node is the primary of to its next replica `to`.
pub(crate) fn set_primary(c: &mut Client, p: &SetPrimary) -> Result<(), Failure> {
    c.request(
        CMD_REPLICA_SET_PRIMARY,
        vec![
            Attr::ipv4(A_REPLICA_CONN_CLIENT_ADDR, p.client.0),
            Attr::u16(A_REPLICA_CONN_CLIENT_PORT, p.client.1),
            Attr::ipv4(A_REPLICA_CONN_VIP, p.service.0),
            Attr::u16(A_REPLICA_CONN_PORT, p.service.1),
            Attr::u32(A_REPLICA_CONN_PRIMARY_TO, p.to),
        ],
    )?;
    Ok(())
}

/// The connections to `vips` this node's stack has, IPv4 and v4-mapped
/// (listening sockets left out). A kernel without IPv6 has no `tcp6`.
fn proc_conns(vips: &[Ipv4Addr]) -> Result<Vec<Conn>, Failure> {
    let mut conns = Vec::new();
    for path in PROC_TCP {
        match std::fs::read_to_string(path) {
            Ok(text) => conns.extend(parse(&text, vips)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && path.ends_with('6') => {}
            Err(e) => {
                return Err(Failure::Failed(format!(
                    "reading {path}: {}",
                    crate::io_text(&e)
                )))
            }
        }
    }
    Ok(conns)
}

/// How many connections to `vips` still hold this node: those its stack
/// has in any state but TIME_WAIT (which needs no application) and CLOSE.
pub(crate) fn held(vips: &[Ipv4Addr]) -> Result<u64, Failure> {
    let conns = proc_conns(vips)?;
    Ok(conns
        .iter()
        .filter(|c| c.state != "time-wait" && c.state != "close")
        .count() as u64)
}

/// `conn show`.
pub(crate) fn show(json: bool) -> Result<String, Failure> {
    let mut client = Client::connect()?;
    let vips: Vec<Ipv4Addr> = objects::vips(&mut client)?.iter().map(|v| v.addr).collect();
    // Without CAP_NET_ADMIN (the offsets are live sequence numbers), or
    // from a module without replica-get, the sockets alone.
    let reps: Vec<Replicated> = client
        .dump(CMD_REPLICA_GET)
        .map(|msgs| msgs.iter().filter_map(replicated).collect())
        .unwrap_or_default();
    Ok(output::list(&rows(&proc_conns(&vips)?, &reps), json))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::{decode, encode, Attr, Message, Reply};
    use netlink_packet_core::Emitable;

    const NLA_F_NESTED: u16 = 0x8000;

    fn replica(id: u32, role: u32, received: u32, sent: u32) -> Attr {
        let inner = [
            Attr::u32(A_REPLICA_ID, id),
            Attr::u32(A_REPLICA_ROLE, role),
            Attr::u32(A_REPLICA_RECEIVED, received),
            Attr::u32(A_REPLICA_SENT, sent),
        ];
        let mut value = vec![0; inner.as_slice().buffer_len()];
        inner.as_slice().emit(&mut value);
        Attr::bytes(A_REPLICA_CONN_REPLICA | NLA_F_NESTED, value)
    }

    /// A `replica-get` message of connection 10.0.0.4:`port` ->
    /// 10.0.0.100:80 with this node's `role` and replicas `set`, as bytes
    /// on the wire.
    fn message(port: u16, role: u32, set: Vec<Attr>) -> Vec<u8> {
        let mut attrs = vec![
            Attr::ipv4(A_REPLICA_CONN_CLIENT_ADDR, Ipv4Addr::new(10, 0, 0, 4)),
            Attr::u16(A_REPLICA_CONN_CLIENT_PORT, port),
            Attr::ipv4(A_REPLICA_CONN_VIP, Ipv4Addr::new(10, 0, 0, 100)),
            Attr::u16(A_REPLICA_CONN_PORT, 80),
            Attr::u32(A_REPLICA_CONN_ROLE, role),
        ];
        attrs.extend(set);
        let msg = Message {
            cmd: CMD_REPLICA_GET,
            attrs: Attrs(attrs),
        };
        encode(msg, 0x20, 0, 1)
    }

    fn parsed(msg: &[u8]) -> Option<Replicated> {
        match decode::<Message>(msg).ok()?.pop()? {
            (_, Reply::Data(m)) => replicated(&m.attrs),
            _ => None,
        }
    }

    fn at(a: [u8; 4], port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(a.into(), port)
    }

    fn sample() -> Replicated {
        Replicated {
            client: at([10, 0, 0, 4], 40000),
            vip: at([10, 0, 0, 100], 80),
            role: "primary",
            set: vec![
                Replica {
                    id: 1,
                    role: "primary".into(),
                    received: 1000,
                    sent: 4000000000,
                },
                Replica {
                    id: 3,
                    role: "backup".into(),
                    received: 990,
                    sent: 3999999000,
                },
            ],
            log: None,
        }
    }

    #[test]
    fn parses_replica_get_messages() {
        let msg = message(
            40000,
            0,
            vec![
                replica(1, 0, 1000, 4000000000),
                replica(3, 1, 990, 3999999000),
            ],
        );
        assert_eq!(parsed(&msg), Some(sample()));
        // Roles this tpctl does not know, an excluded replica, a fenced node.
        let msg = message(40001, 9, vec![replica(2, 2, 5, 6), replica(4, 7, 5, 6)]);
        let r = parsed(&msg).unwrap();
        assert_eq!(r.role, "unknown");
        assert_eq!(
            (r.set[0].role.as_str(), r.set[1].role.as_str()),
            ("excluded", "unknown")
        );
        assert_eq!(parsed(&message(40001, 2, vec![])).unwrap().role, "fenced");
        // A connection without its tuple is left out.
        assert_eq!(
            replicated(&Attrs(vec![Attr::u32(A_REPLICA_CONN_ROLE, 0)])),
            None
        );
    }

    #[test]
    fn shows_the_client_log_and_a_joining_replica() {
        // The log's state and bytes after the set, as the module puts them.
        let msg = {
            let attrs = vec![
                Attr::ipv4(A_REPLICA_CONN_CLIENT_ADDR, Ipv4Addr::new(10, 0, 0, 4)),
                Attr::u16(A_REPLICA_CONN_CLIENT_PORT, 40000),
                Attr::ipv4(A_REPLICA_CONN_VIP, Ipv4Addr::new(10, 0, 0, 100)),
                Attr::u16(A_REPLICA_CONN_PORT, 80),
                Attr::u32(A_REPLICA_CONN_ROLE, 0),
                replica(1, 0, 1000, 4000000000),
                replica(3, 3, 900, 100),
                Attr::u32(A_REPLICA_CONN_LOG, 1),
                Attr::u32(A_REPLICA_CONN_LOG_BYTES, 4321),
            ];
            encode(
                Message {
                    cmd: CMD_REPLICA_GET,
                    attrs: Attrs(attrs),
                },
                0x20,
                0,
                1,
            )
        };
        let r = parsed(&msg).unwrap();
        assert_eq!(r.log, Some(("kept", 4321)));
        assert_eq!(r.set[1].role, "joining");
        let conns = [conn(40000, "established")];
        assert_eq!(
            output::list(&rows(&conns, &[r]), false),
            "vip 10.0.0.100:80  client 10.0.0.4:40000  state established  replicate primary  \
             set 1(primary rcv=1000 snd=4000000000) 3(joining rcv=900 snd=100)  log kept 4321\n"
        );
        let mut past = parsed(&msg).unwrap();
        past.log = Some(("past-bound", 0));
        let text = output::list(&rows(&conns, &[past]), false);
        assert!(text.ends_with("  log past-bound\n"), "{text}");
        let j = output::list(&rows(&conns, &[parsed(&msg).unwrap()]), true);
        assert!(
            j.contains("\"log\":{\"state\":\"kept\",\"bytes\":4321}"),
            "{j}"
        );
        parses_back(&j, &rows(&conns, &[parsed(&msg).unwrap()]));
    }

    fn conn(port: u16, state: &'static str) -> Conn {
        Conn {
            local: at([10, 0, 0, 100], 80),
            remote: at([10, 0, 0, 4], port),
            state,
        }
    }

    /// Each JSON text parses back with serde_json into the same rows.
    fn parses_back(text: &str, rows: &[output::Conn]) {
        let back: Vec<output::Conn> = serde_json::from_str(text).expect(text);
        assert_eq!(back, rows);
    }

    #[test]
    fn shows_replicated_connections_with_their_set() {
        let mut orphan = sample();
        orphan.client.set_port(40005);
        orphan.role = "fenced";
        orphan.set.truncate(1);
        orphan.set[0].role = "excluded".into();
        let conns = [conn(40000, "established"), conn(40002, "time-wait")];
        let reps = [sample(), orphan];
        assert_eq!(
            output::list(&rows(&conns, &reps), false),
            "vip 10.0.0.100:80  client 10.0.0.4:40000  state established  replicate primary  \
             set 1(primary rcv=1000 snd=4000000000) 3(backup rcv=990 snd=3999999000)\n\
             vip 10.0.0.100:80  client 10.0.0.4:40002  state time-wait\n\
             vip 10.0.0.100:80  client 10.0.0.4:40005  state -  replicate fenced  \
             set 1(excluded rcv=1000 snd=4000000000)\n"
        );
        let r = rows(&conns, &reps[..1]);
        let j = output::list(&r, true);
        assert_eq!(
            j,
            "[{\"vip\":\"10.0.0.100:80\",\"client\":\"10.0.0.4:40000\",\"state\":\"established\",\
             \"replicate\":\"primary\",\"set\":[\
             {\"id\":1,\"role\":\"primary\",\"received\":1000,\"sent\":4000000000},\
             {\"id\":3,\"role\":\"backup\",\"received\":990,\"sent\":3999999000}]},\
             {\"vip\":\"10.0.0.100:80\",\"client\":\"10.0.0.4:40002\",\"state\":\"time-wait\"}]\n"
        );
        parses_back(&j, &r);
    }

    #[test]
    fn other_connections_show_as_before() {
        let conns = [conn(40000, "established")];
        assert_eq!(
            output::list(&rows(&conns, &[]), false),
            "vip 10.0.0.100:80  client 10.0.0.4:40000  state established\n"
        );
        let j = output::list(&rows(&conns, &[]), true);
        assert_eq!(
            j,
            "[{\"vip\":\"10.0.0.100:80\",\"client\":\"10.0.0.4:40000\",\"state\":\"established\"}]\n"
        );
        parses_back(&j, &rows(&conns, &[]));
    }

    #[test]
    fn keeps_the_vips_connections_only() {
        let vip = Ipv4Addr::new(10, 0, 0, 100);
        let t = "  sl  local_address rem_address   st tx_queue rx_queue\n\
                 0: 00000000:0050 00000000:0000 0A 00000000:00000000\n\
                 1: 6400000A:0050 0400000A:9C40 01 00000000:00000000\n\
                 2: 0100000A:1B58 0200000A:1B58 01 00000000:00000000\n\
                 3: 6400000A:0051 0400000A:9C41 06 00000000:00000000\n";
        let native = |b: [u8; 4]| u32::from_ne_bytes(b);
        // The sample is little-endian; on a big-endian host the addresses
        // would be printed the other way round.
        if native([1, 0, 0, 0]) != 1 {
            return;
        }
        assert_eq!(
            parse(t, &[vip]),
            vec![
                Conn {
                    local: SocketAddrV4::new(vip, 80),
                    remote: at([10, 0, 0, 4], 40000),
                    state: "established"
                },
                Conn {
                    local: SocketAddrV4::new(vip, 81),
                    remote: at([10, 0, 0, 4], 40001),
                    state: "time-wait"
                },
            ]
        );
        // A dual-stack listener's connection from an IPv4 client, in
        // tcp6: v4-mapped; a real IPv6 one is left out.
        let t6 = "  sl  local_address                         remote_address                        st\n\
                  0: 0000000000000000FFFF00006400000A:0050 0000000000000000FFFF00000400000A:9C42 01\n\
                  1: 000080FE00000000FF00000001000000:0050 000080FE00000000FF00000002000000:9C43 01\n";
        assert_eq!(
            parse(t6, &[vip]),
            vec![Conn {
                local: SocketAddrV4::new(vip, 80),
                remote: at([10, 0, 0, 4], 40002),
                state: "established"
            }]
        );
    }
}

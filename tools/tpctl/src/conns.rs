//! `tpctl conn show`: the TCP connections to a VIP that this node holds
//! (the kernel's `/proc/net/tcp` of this namespace, filtered by the node's
//! VIPs). In balance mode a connection lives on exactly one node, so each
//! node lists its own share. A replicated connection (replicate mode) is
//! on every replica of its set: it also shows this node's role and the
//! set, each replica with its role and confirmed offsets (`replica-get`).

use crate::client::Client;
use crate::genl::{self, Attr};
use crate::uapi::*;
use crate::{objects::render, Failure};

const PROC_TCP: &str = "/proc/net/tcp";

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
    pub(crate) local: ([u8; 4], u16),
    pub(crate) remote: ([u8; 4], u16),
    pub(crate) state: &'static str,
}

/// `0100000A:0050` as printed by the kernel: the address as a native-endian
/// u32 in hex, the port in hex.
fn endpoint(s: &str) -> Option<([u8; 4], u16)> {
    let (addr, port) = s.split_once(':')?;
    let addr = u32::from_str_radix(addr, 16).ok()?.to_ne_bytes();
    Some((addr, u16::from_str_radix(port, 16).ok()?))
}

/// The connections of `/proc/net/tcp` text whose local address is in `vips`
/// (listening sockets left out).
pub(crate) fn parse(text: &str, vips: &[[u8; 4]]) -> Vec<Conn> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let mut f = line.split_whitespace().skip(1);
            let local = endpoint(f.next()?)?;
            let remote = endpoint(f.next()?)?;
            let state = *STATES.get(usize::from_str_radix(f.next()?, 16).ok()?)?;
            (vips.contains(&local.0) && state != "listen").then_some(Conn {
                local,
                remote,
                state,
            })
        })
        .collect()
}

fn text((a, p): ([u8; 4], u16)) -> String {
    format!("{}.{}.{}.{}:{p}", a[0], a[1], a[2], a[3])
}

/// One replica of a replicated connection, as this node knows it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Replica {
    pub(crate) id: u32,
    /// Its role in the set: primary, backup or excluded.
    pub(crate) role: &'static str,
    /// The client sequence number it has received up to.
    pub(crate) received: u32,
    /// The server sequence number (the client's view) it has sent up to.
    pub(crate) sent: u32,
}

/// A replicated connection on this node (one `replica-get` message).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Replicated {
    pub(crate) client: ([u8; 4], u16),
    pub(crate) vip: ([u8; 4], u16),
    /// This node's role: primary, backup or fenced.
    pub(crate) role: &'static str,
    /// The replica set in rendezvous order, this node included.
    pub(crate) set: Vec<Replica>,
}

fn role_name(names: &'static [&'static str], v: Option<u32>) -> &'static str {
    v.and_then(|v| names.get(v as usize))
        .copied()
        .unwrap_or("unknown")
}

fn addr_attr(a: &[Attr], ty: u16) -> Option<[u8; 4]> {
    genl::get(a, ty)?.try_into().ok()
}

/// Parses one `replica-get` message; `None` if the connection's tuple is
/// incomplete.
pub(crate) fn replicated(a: &[Attr]) -> Option<Replicated> {
    let set = genl::get_all(a, A_REPLICA_CONN_REPLICA)
        .filter_map(|nested| {
            let r = genl::attrs(nested).ok()?;
            Some(Replica {
                id: genl::get_u32(&r, A_REPLICA_ID)?,
                role: role_name(&REPLICA_ROLES, genl::get_u32(&r, A_REPLICA_ROLE)),
                received: genl::get_u32(&r, A_REPLICA_RECEIVED)?,
                sent: genl::get_u32(&r, A_REPLICA_SENT)?,
            })
        })
        .collect();
    Some(Replicated {
        client: (
            addr_attr(a, A_REPLICA_CONN_CLIENT_ADDR)?,
            genl::get_u16(a, A_REPLICA_CONN_CLIENT_PORT)?,
        ),
        vip: (
            addr_attr(a, A_REPLICA_CONN_VIP)?,
            genl::get_u16(a, A_REPLICA_CONN_PORT)?,
        ),
        role: role_name(&CONN_ROLES, genl::get_u32(a, A_REPLICA_CONN_ROLE)),
        set,
    })
}

/// The replica set as text, `1(primary rcv=R snd=S) 3(backup ...)`, or as
/// a JSON array of objects.
fn set_text(set: &[Replica], json: bool) -> String {
    let each = set.iter().map(|r| {
        if json {
            format!(
                "{{\"id\":{},\"role\":\"{}\",\"received\":{},\"sent\":{}}}",
                r.id, r.role, r.received, r.sent
            )
        } else {
            format!("{}({} rcv={} snd={})", r.id, r.role, r.received, r.sent)
        }
    });
    if json {
        format!("[{}]", each.collect::<Vec<_>>().join(","))
    } else {
        each.collect::<Vec<_>>().join(" ")
    }
}

/// A row of `conn show`: `(field, value, unquoted in JSON)`.
type Row = Vec<(&'static str, String, bool)>;

/// The rows of `conn show`: each connection of `conns` (from
/// `/proc/net/tcp`), and for one that is replicated, this node's role
/// (`replicate`) and the replica set (`set`); then the replicated
/// connections of `reps` with no socket here, with state `-`.
pub(crate) fn rows(conns: &[Conn], reps: &[Replicated], json: bool) -> Vec<Row> {
    let row = |vip, client, state: &str, rep: Option<&Replicated>| {
        let mut r: Row = vec![
            ("vip", text(vip), false),
            ("client", text(client), false),
            ("state", state.to_string(), false),
        ];
        if let Some(rep) = rep {
            r.push(("replicate", rep.role.to_string(), false));
            r.push(("set", set_text(&rep.set, json), json));
        }
        r
    };
    let same = |r: &Replicated, c: &Conn| r.vip == c.local && r.client == c.remote;
    let mut out: Vec<Row> = conns
        .iter()
        .map(|c| row(c.local, c.remote, c.state, reps.iter().find(|r| same(r, c))))
        .collect();
    for rep in reps.iter().filter(|r| !conns.iter().any(|c| same(r, c))) {
        out.push(row(rep.vip, rep.client, "-", Some(rep)));
    }
    out
}

/// An `A.B.C.D:PORT` argument.
fn endpoint_arg(arg: &str) -> Result<(std::net::Ipv4Addr, u16), Failure> {
    let bad = || Failure::Usage(format!("'{arg}' is no ADDR:PORT"));
    let (a, p) = arg.rsplit_once(':').ok_or_else(bad)?;
    Ok((a.parse().map_err(|_| bad())?, p.parse().map_err(|_| bad())?))
}

/// `conn handover CLIENT:PORT VIP:PORT to N [replay FILE]` or
/// `conn handover cookie C to N [replay FILE]`.
fn handover(args: &[&str]) -> Result<String, Failure> {
    let usage = || {
        Failure::Usage(
            "usage: tpctl conn handover CLIENT:PORT VIP:PORT | cookie C, then to N [replay FILE]"
                .into(),
        )
    };
    let (named, rest) = match args {
        ["cookie", c, rest @ ..] => (Err(c.parse::<u64>().map_err(|_| usage())?), rest),
        [client, vip, rest @ ..] => (Ok((endpoint_arg(client)?, endpoint_arg(vip)?)), rest),
        _ => return Err(usage()),
    };
    let (target, replay) = match rest {
        ["to", n] => (n, Vec::new()),
        ["to", n, "replay", file] => (
            n,
            std::fs::read(file).map_err(|e| Failure::Failed(format!("reading {file}: {e}")))?,
        ),
        _ => return Err(usage()),
    };
    let target: u32 = target.parse().map_err(|_| usage())?;
    let done = match named {
        Ok((client, service)) => tpctl::handover(
            &tpctl::Connection {
                client,
                service,
                cookie: None,
            },
            target,
            &replay,
        ),
        Err(cookie) => tpctl::handover_cookie(cookie, target, &replay),
    };
    done.map(|()| String::new()).map_err(Failure::Failed)
}

pub(crate) fn run(args: &[&str], json: bool) -> Result<String, Failure> {
    if let ["handover", rest @ ..] = args {
        return handover(rest);
    }
    if !matches!(args, [] | ["show"]) {
        return Err(Failure::Usage(
            "usage: tpctl conn [show] | conn handover ...".into(),
        ));
    }
    let mut client = Client::connect()?;
    let vips: Vec<[u8; 4]> = client
        .dump(CMD_VIP_GET)?
        .iter()
        .filter_map(|a| genl::get(a, A_VIP_ADDR)?.try_into().ok())
        .collect();
    let proc_text = std::fs::read_to_string(PROC_TCP)
        .map_err(|e| Failure::Failed(format!("reading {PROC_TCP}: {e}")))?;
    // Without CAP_NET_ADMIN (the offsets are live sequence numbers), or
    // from a module without replica-get, the sockets alone.
    let reps: Vec<Replicated> = client
        .dump(CMD_REPLICA_GET)
        .map(|msgs| msgs.iter().filter_map(|a| replicated(a)).collect())
        .unwrap_or_default();
    Ok(render(
        &rows(&parse(&proc_text, &vips), &reps, json),
        json,
        true,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NLA_F_NESTED: u16 = 0x8000;

    /// Attributes as the kernel lays them out, in a message.
    fn encoded(attrs: &[Attr]) -> Vec<u8> {
        genl::request(0x20, CMD_REPLICA_GET, 1, 0, 1, attrs)[20..].to_vec()
    }

    fn replica(id: u32, role: u32, received: u32, sent: u32) -> Attr {
        (
            A_REPLICA_CONN_REPLICA | NLA_F_NESTED,
            encoded(&[
                (A_REPLICA_ID, id.to_ne_bytes().to_vec()),
                (A_REPLICA_ROLE, role.to_ne_bytes().to_vec()),
                (A_REPLICA_RECEIVED, received.to_ne_bytes().to_vec()),
                (A_REPLICA_SENT, sent.to_ne_bytes().to_vec()),
            ]),
        )
    }

    /// A `replica-get` message of connection 10.0.0.4:`port` ->
    /// 10.0.0.100:80 with this node's `role` and replicas `set`.
    fn message(port: u16, role: u32, set: Vec<Attr>) -> Vec<u8> {
        let mut attrs = vec![
            (A_REPLICA_CONN_CLIENT_ADDR, vec![10, 0, 0, 4]),
            (A_REPLICA_CONN_CLIENT_PORT, port.to_ne_bytes().to_vec()),
            (A_REPLICA_CONN_VIP, vec![10, 0, 0, 100]),
            (A_REPLICA_CONN_PORT, 80u16.to_ne_bytes().to_vec()),
            (A_REPLICA_CONN_ROLE, role.to_ne_bytes().to_vec()),
        ];
        attrs.extend(set);
        genl::request(0x20, CMD_REPLICA_GET, 1, 0, 1, &attrs)
    }

    fn parsed(msg: &[u8]) -> Option<Replicated> {
        match genl::parse(msg).ok()?.pop()? {
            genl::Reply::Data { attrs, .. } => replicated(&attrs),
            _ => None,
        }
    }

    fn sample() -> Replicated {
        Replicated {
            client: ([10, 0, 0, 4], 40000),
            vip: ([10, 0, 0, 100], 80),
            role: "primary",
            set: vec![
                Replica {
                    id: 1,
                    role: "primary",
                    received: 1000,
                    sent: 4000000000,
                },
                Replica {
                    id: 3,
                    role: "backup",
                    received: 990,
                    sent: 3999999000,
                },
            ],
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
        assert_eq!((r.set[0].role, r.set[1].role), ("excluded", "unknown"));
        assert_eq!(parsed(&message(40001, 2, vec![])).unwrap().role, "fenced");
        // A connection without its tuple is left out.
        assert_eq!(replicated(&[(A_REPLICA_CONN_ROLE, vec![0; 4])]), None);
    }

    fn conn(port: u16, state: &'static str) -> Conn {
        Conn {
            local: ([10, 0, 0, 100], 80),
            remote: ([10, 0, 0, 4], port),
            state,
        }
    }

    #[test]
    fn shows_replicated_connections_with_their_set() {
        let mut orphan = sample();
        orphan.client.1 = 40005;
        orphan.role = "fenced";
        orphan.set.truncate(1);
        orphan.set[0].role = "excluded";
        let conns = [conn(40000, "established"), conn(40002, "time-wait")];
        let reps = [sample(), orphan];
        assert_eq!(
            render(&rows(&conns, &reps, false), false, true),
            "vip 10.0.0.100:80  client 10.0.0.4:40000  state established  replicate primary  \
             set 1(primary rcv=1000 snd=4000000000) 3(backup rcv=990 snd=3999999000)\n\
             vip 10.0.0.100:80  client 10.0.0.4:40002  state time-wait\n\
             vip 10.0.0.100:80  client 10.0.0.4:40005  state -  replicate fenced  \
             set 1(excluded rcv=1000 snd=4000000000)\n"
        );
        assert_eq!(
            render(&rows(&conns, &reps[..1], true), true, true),
            "[{\"vip\":\"10.0.0.100:80\",\"client\":\"10.0.0.4:40000\",\"state\":\"established\",\
             \"replicate\":\"primary\",\"set\":[\
             {\"id\":1,\"role\":\"primary\",\"received\":1000,\"sent\":4000000000},\
             {\"id\":3,\"role\":\"backup\",\"received\":990,\"sent\":3999999000}]},\
             {\"vip\":\"10.0.0.100:80\",\"client\":\"10.0.0.4:40002\",\"state\":\"time-wait\"}]\n"
        );
    }

    #[test]
    fn other_connections_show_as_before() {
        let conns = [conn(40000, "established")];
        assert_eq!(
            render(&rows(&conns, &[], false), false, true),
            "vip 10.0.0.100:80  client 10.0.0.4:40000  state established\n"
        );
        assert_eq!(
            render(&rows(&conns, &[], true), true, true),
            "[{\"vip\":\"10.0.0.100:80\",\"client\":\"10.0.0.4:40000\",\"state\":\"established\"}]\n"
        );
    }

    #[test]
    fn keeps_the_vips_connections_only() {
        let vip = [10, 0, 0, 100];
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
                    local: (vip, 80),
                    remote: ([10, 0, 0, 4], 40000),
                    state: "established"
                },
                Conn {
                    local: (vip, 81),
                    remote: ([10, 0, 0, 4], 40001),
                    state: "time-wait"
                },
            ]
        );
    }
}

//! `tpctl conn show`: the TCP connections to a VIP that this node holds
//! (the kernel's `/proc/net/tcp` of this namespace, filtered by the node's
//! VIPs). In balance mode a connection lives on exactly one node, so each
//! node lists its own share.

use crate::client::Client;
use crate::uapi::{A_VIP_ADDR, CMD_VIP_GET};
use crate::{genl, objects::render, Failure};

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
    let rows: Vec<_> = parse(&proc_text, &vips)
        .into_iter()
        .map(|c| {
            vec![
                ("vip", text(c.local), false),
                ("client", text(c.remote), false),
                ("state", c.state.to_string(), false),
            ]
        })
        .collect();
    Ok(render(&rows, json, true))
}

#[cfg(test)]
mod tests {
    use super::*;

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

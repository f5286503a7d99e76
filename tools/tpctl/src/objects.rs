//! `tpctl node|peer|vip|service`: the node's configuration over netlink.

use crate::{
    client::{Client, NlError},
    genl::{self, Attr},
    uapi::*,
    Failure,
};
use std::{fmt::Write as _, net::Ipv4Addr};

impl From<NlError> for Failure {
    fn from(e: NlError) -> Self {
        Failure::Failed(e.0)
    }
}

fn usage(msg: impl Into<String>) -> Failure {
    Failure::Usage(msg.into())
}

fn ipv4(s: &str) -> Result<[u8; 4], Failure> {
    s.parse::<Ipv4Addr>()
        .map(|a| a.octets())
        .map_err(|_| usage(format!("not an IPv4 address: '{s}'")))
}

fn number<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, Failure> {
    s.parse().map_err(|_| usage(format!("bad {what}: '{s}'")))
}

fn mac(s: &str) -> Result<Vec<u8>, Failure> {
    let bytes: Vec<u8> = s
        .split(':')
        .filter_map(|b| u8::from_str_radix(b, 16).ok())
        .collect();
    if bytes.len() == 6 && s.split(':').count() == 6 {
        Ok(bytes)
    } else {
        Err(usage(format!("not a MAC address: '{s}'")))
    }
}

fn hex_key(s: &str) -> Result<Vec<u8>, Failure> {
    let bad = || usage("the key is 64 hexadecimal digits (32 bytes)");
    if s.len() != 64 {
        return Err(bad());
    }
    (0..32)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| bad()))
        .collect()
}

fn ifindex(name: &str) -> Result<u32, Failure> {
    let path = format!("/sys/class/net/{name}/ifindex");
    let text = std::fs::read_to_string(&path)
        .map_err(|_| Failure::Failed(format!("no interface '{name}'")))?;
    number("ifindex", text.trim())
}

/// `VIP:PORT`.
fn vip_port(s: &str) -> Result<([u8; 4], u16), Failure> {
    let (a, p) = s
        .rsplit_once(':')
        .ok_or_else(|| usage(format!("expected VIP:PORT, got '{s}'")))?;
    Ok((ipv4(a)?, number("port", p)?))
}

/// Parses `key value` pairs, each key allowed once, all keys known.
fn pairs<'a>(args: &[&'a str], known: &[&str]) -> Result<Vec<(&'a str, &'a str)>, Failure> {
    if args.len() % 2 != 0 {
        return Err(usage(format!("'{}' needs a value", args[args.len() - 1])));
    }
    let mut out: Vec<(&str, &str)> = Vec::new();
    for kv in args.chunks(2) {
        if !known.contains(&kv[0]) {
            return Err(usage(format!(
                "unknown argument '{}' (expected one of: {})",
                kv[0],
                known.join(", ")
            )));
        }
        if out.iter().any(|(k, _)| *k == kv[0]) {
            return Err(usage(format!("'{}' given twice", kv[0])));
        }
        out.push((kv[0], kv[1]));
    }
    Ok(out)
}

fn addr_text(v: Option<&[u8]>) -> String {
    match v.and_then(|b| <[u8; 4]>::try_from(b).ok()) {
        Some(a) => Ipv4Addr::from(a).to_string(),
        None => "-".into(),
    }
}

fn mac_text(v: Option<&[u8]>) -> String {
    v.map(|b| {
        b.iter()
            .map(|x| format!("{x:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    })
    .unwrap_or_else(|| "-".into())
}

/// Renders rows of (field, value) as aligned text lines or JSON objects.
pub(crate) fn render(rows: &[Vec<(&str, String, bool)>], json: bool, list: bool) -> String {
    let mut out = String::new();
    if json {
        let objs: Vec<String> = rows
            .iter()
            .map(|r| {
                let fields: Vec<String> = r
                    .iter()
                    .map(|(k, v, num)| {
                        if *num {
                            format!("\"{k}\":{v}")
                        } else {
                            format!("\"{k}\":\"{v}\"")
                        }
                    })
                    .collect();
                format!("{{{}}}", fields.join(","))
            })
            .collect();
        if list {
            let _ = writeln!(out, "[{}]", objs.join(","));
        } else {
            let _ = writeln!(out, "{}", objs.first().cloned().unwrap_or_default());
        }
    } else {
        for r in rows {
            let line: Vec<String> = r.iter().map(|(k, v, _)| format!("{k} {v}")).collect();
            let _ = writeln!(out, "{}", line.join("  "));
        }
    }
    out
}

fn node(client: &mut Client, args: &[&str], json: bool) -> Result<String, Failure> {
    match args {
        [] | ["show"] => {
            let reply = client.request(CMD_NODE_GET, &[])?;
            let a = reply.first().ok_or_else(|| Failure::Failed("empty reply".into()))?;
            let n = |t| genl::get_u32(a, t).unwrap_or(0).to_string();
            let row = vec![
                ("id", n(A_NODE_ID), true),
                ("addr", addr_text(genl::get(a, A_NODE_ADDR)), false),
                ("port", genl::get_u16(a, A_NODE_PORT).unwrap_or(0).to_string(), true),
                ("key", if genl::get(a, A_NODE_KEY_SET) == Some(&[1]) { "set" } else { "unset" }.into(), false),
                ("heartbeat_ms", n(A_NODE_HEARTBEAT_MS), true),
                ("dead_ms", n(A_NODE_DEAD_MS), true),
                ("full_member", (genl::get(a, A_NODE_FULL_MEMBER) == Some(&[1])).to_string(), true),
            ];
            Ok(render(&[row], json, false))
        }
        ["set", rest @ ..] => {
            let mut attrs: Vec<Attr> = Vec::new();
            for (k, v) in pairs(rest, &["id", "addr", "port", "key", "heartbeat", "dead"])? {
                attrs.push(match k {
                    "id" => (A_NODE_ID, number::<u32>("id", v)?.to_ne_bytes().to_vec()),
                    "addr" => (A_NODE_ADDR, ipv4(v)?.to_vec()),
                    "port" => (A_NODE_PORT, number::<u16>("port", v)?.to_ne_bytes().to_vec()),
                    "key" => (A_NODE_KEY, hex_key(v)?),
                    "heartbeat" => (A_NODE_HEARTBEAT_MS, number::<u32>("heartbeat", v)?.to_ne_bytes().to_vec()),
                    _ => (A_NODE_DEAD_MS, number::<u32>("dead", v)?.to_ne_bytes().to_vec()),
                });
            }
            client.request(CMD_NODE_SET, &attrs)?;
            Ok(String::new())
        }
        _ => Err(usage("usage: tpctl node [show | set [id N] [addr A] [port P] [key HEX] [heartbeat MS] [dead MS]]")),
    }
}

fn peer(client: &mut Client, args: &[&str], json: bool) -> Result<String, Failure> {
    match args {
        [] | ["show"] => {
            let rows: Vec<_> = client
                .dump(CMD_PEER_GET)?
                .iter()
                .map(|a| {
                    vec![
                        (
                            "id",
                            genl::get_u32(a, A_PEER_ID).unwrap_or(0).to_string(),
                            true,
                        ),
                        ("addr", addr_text(genl::get(a, A_PEER_ADDR)), false),
                    ]
                })
                .collect();
            Ok(render(&rows, json, true))
        }
        ["add", rest @ ..] => {
            let mut attrs: Vec<Attr> = Vec::new();
            for (k, v) in pairs(rest, &["id", "addr"])? {
                attrs.push(match k {
                    "id" => (A_PEER_ID, number::<u32>("id", v)?.to_ne_bytes().to_vec()),
                    _ => (A_PEER_ADDR, ipv4(v)?.to_vec()),
                });
            }
            client.request(CMD_PEER_ADD, &attrs)?;
            Ok(String::new())
        }
        ["del", "id", id] => {
            client.request(
                CMD_PEER_DEL,
                &[(A_PEER_ID, number::<u32>("id", id)?.to_ne_bytes().to_vec())],
            )?;
            Ok(String::new())
        }
        _ => Err(usage(
            "usage: tpctl peer [show | add id N addr A | del id N]",
        )),
    }
}

fn vip(client: &mut Client, args: &[&str], json: bool) -> Result<String, Failure> {
    match args {
        [] | ["show"] => {
            let rows: Vec<_> = client
                .dump(CMD_VIP_GET)?
                .iter()
                .map(|a| {
                    vec![
                        ("addr", addr_text(genl::get(a, A_VIP_ADDR)), false),
                        ("mac", mac_text(genl::get(a, A_VIP_MAC)), false),
                        (
                            "ifindex",
                            genl::get_u32(a, A_VIP_IFINDEX).unwrap_or(0).to_string(),
                            true,
                        ),
                    ]
                })
                .collect();
            Ok(render(&rows, json, true))
        }
        ["add", addr, rest @ ..] => {
            let mut attrs: Vec<Attr> = vec![(A_VIP_ADDR, ipv4(addr)?.to_vec())];
            for (k, v) in pairs(rest, &["mac", "dev"])? {
                attrs.push(match k {
                    "mac" => (A_VIP_MAC, mac(v)?),
                    _ => (A_VIP_IFINDEX, ifindex(v)?.to_ne_bytes().to_vec()),
                });
            }
            client.request(CMD_VIP_ADD, &attrs)?;
            Ok(String::new())
        }
        ["del", addr] => {
            client.request(CMD_VIP_DEL, &[(A_VIP_ADDR, ipv4(addr)?.to_vec())])?;
            Ok(String::new())
        }
        _ => Err(usage(
            "usage: tpctl vip [show | add ADDR mac MAC dev IFNAME | del ADDR]",
        )),
    }
}

fn service(client: &mut Client, args: &[&str], json: bool) -> Result<String, Failure> {
    match args {
        [] | ["show"] => {
            let rows: Vec<_> = client
                .dump(CMD_SERVICE_GET)?
                .iter()
                .map(|a| {
                    let mode = genl::get_u32(a, A_SERVICE_MODE).unwrap_or(u32::MAX);
                    vec![
                        ("vip", addr_text(genl::get(a, A_SERVICE_VIP)), false),
                        (
                            "port",
                            genl::get_u16(a, A_SERVICE_PORT).unwrap_or(0).to_string(),
                            true,
                        ),
                        (
                            "mode",
                            MODES.get(mode as usize).copied().unwrap_or("?").to_string(),
                            false,
                        ),
                        (
                            "replicas",
                            genl::get_u32(a, A_SERVICE_REPLICAS)
                                .unwrap_or(0)
                                .to_string(),
                            true,
                        ),
                    ]
                })
                .collect();
            Ok(render(&rows, json, true))
        }
        ["add", key, rest @ ..] => {
            let (vip, port) = vip_port(key)?;
            let mut attrs: Vec<Attr> = vec![
                (A_SERVICE_VIP, vip.to_vec()),
                (A_SERVICE_PORT, port.to_ne_bytes().to_vec()),
            ];
            for (k, v) in pairs(rest, &["mode", "replicas"])? {
                attrs.push(match k {
                    "mode" => {
                        let m = MODES.iter().position(|m| *m == v).ok_or_else(|| {
                            usage(format!(
                                "unknown mode '{v}' (expected one of: {})",
                                MODES.join(", ")
                            ))
                        })?;
                        (A_SERVICE_MODE, (m as u32).to_ne_bytes().to_vec())
                    }
                    _ => (
                        A_SERVICE_REPLICAS,
                        number::<u32>("replicas", v)?.to_ne_bytes().to_vec(),
                    ),
                });
            }
            client.request(CMD_SERVICE_ADD, &attrs)?;
            Ok(String::new())
        }
        ["del", key] => {
            let (vip, port) = vip_port(key)?;
            client.request(
                CMD_SERVICE_DEL,
                &[
                    (A_SERVICE_VIP, vip.to_vec()),
                    (A_SERVICE_PORT, port.to_ne_bytes().to_vec()),
                ],
            )?;
            Ok(String::new())
        }
        _ => Err(usage(
            "usage: tpctl service [show | add VIP:PORT [mode M] [replicas R] | del VIP:PORT]",
        )),
    }
}

/// Runs `object args...` against the kernel.
pub(crate) fn run(object: &str, args: &[&str], json: bool) -> Result<String, Failure> {
    let handler = match object {
        "node" => node,
        "peer" => peer,
        "vip" => vip,
        "service" => service,
        _ => return Err(usage(format!("unknown object '{object}'"))),
    };
    let mut client = Client::connect()?;
    handler(&mut client, args, json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arguments() {
        assert_eq!(ipv4("10.0.0.1").ok(), Some([10, 0, 0, 1]));
        assert!(ipv4("10.0.0").is_err());
        assert_eq!(
            mac("01:00:5e:00:00:64").ok(),
            Some(vec![1, 0, 0x5e, 0, 0, 0x64])
        );
        assert!(mac("01:00:5e:00:00").is_err());
        assert!(mac("01:00:5e:00:00:zz").is_err());
        assert_eq!(hex_key(&"ab".repeat(32)).ok(), Some(vec![0xab; 32]));
        assert!(hex_key("abc").is_err());
        assert_eq!(vip_port("10.0.0.100:80").ok(), Some(([10, 0, 0, 100], 80)));
        assert!(vip_port("10.0.0.100").is_err());
        assert!(pairs(&["id", "1", "id", "2"], &["id"]).is_err());
        assert!(pairs(&["id"], &["id"]).is_err());
        assert!(pairs(&["x", "1"], &["id"]).is_err());
    }

    #[test]
    fn renders_json() {
        let rows = vec![vec![
            ("id", "2".to_string(), true),
            ("addr", "10.0.0.2".to_string(), false),
        ]];
        assert_eq!(
            render(&rows, true, true),
            "[{\"id\":2,\"addr\":\"10.0.0.2\"}]\n"
        );
        assert_eq!(render(&[], true, true), "[]\n");
        assert_eq!(render(&rows, false, true), "id 2  addr 10.0.0.2\n");
    }
}

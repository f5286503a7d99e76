//! The node's configuration over netlink: its settings, peers, VIPs and
//! services, as typed requests and records.

use crate::{
    args::{self, Affinity, Mode, KEY_LEN},
    netlink::{Attr, Attrs, Client, Error},
    output::{self, KeyState, Mac},
    uapi::*,
    Failure,
};
use std::{ffi::CString, io::Read as _, net::Ipv4Addr, os::unix::fs::PermissionsExt as _};

/// Where `node set` takes the key from.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum KeyArg {
    /// `key HEX64`, given on the command line.
    Hex([u8; KEY_LEN]),
    /// `key-file FILE`: read from FILE, or standard input for `-`.
    File(String),
}

impl std::fmt::Debug for KeyArg {
    // Never the key itself, not even in a debugging message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyArg::Hex(_) => f.write_str("Hex(..)"),
            KeyArg::File(path) => f.debug_tuple("File").field(path).finish(),
        }
    }
}

/// `node set`: the settings to change, the others kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct NodeSet {
    pub(crate) id: Option<u32>,
    pub(crate) addr: Option<Ipv4Addr>,
    pub(crate) port: Option<u16>,
    pub(crate) key: Option<KeyArg>,
    pub(crate) heartbeat: Option<u32>,
    pub(crate) dead: Option<u32>,
    pub(crate) weight: Option<u16>,
    pub(crate) drain: Option<bool>,
}

impl NodeSet {
    /// The words of a `node set` line for these settings (never a key).
    pub(crate) fn words(&self) -> String {
        let mut out = String::from("node set");
        let mut add = |k: &str, v: Option<String>| {
            if let Some(v) = v {
                out += &format!(" {k} {v}");
            }
        };
        add("id", self.id.map(|v| v.to_string()));
        add("addr", self.addr.map(|v| v.to_string()));
        add("port", self.port.map(|v| v.to_string()));
        if let Some(KeyArg::File(path)) = &self.key {
            add("key-file", Some(path.clone()));
        }
        add("heartbeat", self.heartbeat.map(|v| v.to_string()));
        add("dead", self.dead.map(|v| v.to_string()));
        add("weight", self.weight.map(|v| v.to_string()));
        add(
            "drain",
            self.drain.map(|v| if v { "on" } else { "off" }.into()),
        );
        out
    }
}

/// `node set` ready to send: the key read.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct NodeChange {
    pub(crate) id: Option<u32>,
    pub(crate) addr: Option<Ipv4Addr>,
    pub(crate) port: Option<u16>,
    pub(crate) key: Option<[u8; KEY_LEN]>,
    pub(crate) heartbeat: Option<u32>,
    pub(crate) dead: Option<u32>,
    pub(crate) weight: Option<u16>,
    pub(crate) drain: Option<bool>,
}

impl std::fmt::Debug for NodeChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeChange")
            .field("id", &self.id)
            .field("addr", &self.addr)
            .field("port", &self.port)
            .field("key", &self.key.map(|_| ".."))
            .field("heartbeat", &self.heartbeat)
            .field("dead", &self.dead)
            .field("weight", &self.weight)
            .field("drain", &self.drain)
            .finish()
    }
}

/// `vip add ADDR mac MAC dev IFNAME`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VipAdd {
    pub(crate) addr: Ipv4Addr,
    pub(crate) mac: [u8; 6],
    pub(crate) dev: String,
}

/// `service add VIP:PORT [mode M] [replicas R] [affinity A] [backend-port
/// P]`; the kernel's defaults for what is not given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServiceAdd {
    pub(crate) vip: Ipv4Addr,
    pub(crate) port: u16,
    pub(crate) mode: Option<Mode>,
    pub(crate) replicas: Option<u32>,
    pub(crate) affinity: Option<Affinity>,
    pub(crate) backend_port: Option<u16>,
}

/// `service set VIP:PORT [affinity A] [health up|down]`: what is given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServiceSet {
    pub(crate) vip: Ipv4Addr,
    pub(crate) port: u16,
    pub(crate) affinity: Option<Affinity>,
    pub(crate) healthy: Option<bool>,
}

/// The connection `conn handover` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// The client's address and port, the VIP and port.
    Tuple((Ipv4Addr, u16), (Ipv4Addr, u16)),
    /// The socket's cookie.
    Cookie(u64),
}

/// `conn handover ... to N [replay FILE]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Handover {
    pub(crate) target: Target,
    pub(crate) to: u32,
    pub(crate) replay: Option<String>,
}

/// Reads the key of `key-file PATH` (`-`: standard input): 64 hex digits,
/// whitespace around them allowed. Like `wg`, warns on standard error if
/// the file is open to group or others, and uses it all the same.
pub(crate) fn read_key_file(path: &str) -> Result<[u8; KEY_LEN], Failure> {
    let failed = |e: std::io::Error| {
        Failure::Failed(format!("reading key file {path}: {}", crate::io_text(&e)))
    };
    let mut text = Vec::new();
    if path == "-" {
        std::io::stdin().read_to_end(&mut text).map_err(failed)?;
    } else {
        let file = std::fs::File::open(path).map_err(failed)?;
        let meta = file.metadata().map_err(failed)?;
        let mode = meta.permissions().mode();
        if meta.is_file() && mode & 0o077 != 0 {
            crate::warn(&format!(
                "key file {path} is accessible by group or others (mode {:04o}): chmod 600 it",
                mode & 0o7777
            ));
        }
        // A key file is 65 bytes; a few more for whitespace. Anything
        // longer is no key file, and not read whole.
        file.take(4096).read_to_end(&mut text).map_err(failed)?;
    }
    let text = std::str::from_utf8(&text).unwrap_or("");
    args::key(text.trim()).map_err(|e| {
        Failure::Usage(crate::cli::usage_error(
            &["node", "set"],
            format!("key file {path}: {e}"),
        ))
    })
}

impl NodeSet {
    /// The change to send: the key read from its file, if it comes from
    /// one.
    pub(crate) fn resolve(&self) -> Result<NodeChange, Failure> {
        let key = match &self.key {
            None => None,
            Some(KeyArg::Hex(k)) => Some(*k),
            Some(KeyArg::File(path)) => Some(read_key_file(path)?),
        };
        Ok(NodeChange {
            id: self.id,
            addr: self.addr,
            port: self.port,
            key,
            heartbeat: self.heartbeat,
            dead: self.dead,
            weight: self.weight,
            drain: self.drain,
        })
    }
}

/// The index of interface `name` in this network namespace (sysfs shows
/// the namespace it was mounted in, which `-n` does not change).
pub(crate) fn ifindex(name: &str) -> Result<u32, Failure> {
    let no = || Failure::Failed(format!("no interface '{name}'"));
    let c = CString::new(name).map_err(|_| no())?;
    // SAFETY: `c` is a valid NUL-terminated string.
    match unsafe { libc::if_nametoindex(c.as_ptr()) } {
        0 => Err(no()),
        i => Ok(i),
    }
}

/// The name of interface `index` in this network namespace.
pub(crate) fn ifname(index: u32) -> Option<String> {
    let mut buf = [0u8; libc::IF_NAMESIZE];
    // SAFETY: `buf` holds IF_NAMESIZE bytes, as if_indextoname(3) needs.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr().cast()) };
    if p.is_null() {
        return None;
    }
    let len = buf.iter().position(|&b| b == 0)?;
    String::from_utf8(buf[..len].to_vec()).ok()
}

impl VipAdd {
    /// The VIP to add: its interface looked up.
    pub(crate) fn resolve(&self) -> Result<output::Vip, Failure> {
        Ok(output::Vip {
            addr: self.addr,
            mac: Mac(self.mac),
            ifindex: ifindex(&self.dev)?,
        })
    }
}

/// A reply without an attribute the spec says it has.
fn malformed(what: &str) -> Error {
    Error {
        errno: 0,
        text: format!("malformed {what} in the kernel's reply"),
    }
}

pub(crate) fn node_get(c: &mut Client) -> Result<output::Node, Error> {
    let reply = c.request(CMD_NODE_GET, vec![])?;
    let a = reply.first().ok_or_else(|| malformed("node"))?;
    node_of(a).ok_or_else(|| malformed("node"))
}

fn node_of(a: &Attrs) -> Option<output::Node> {
    Some(output::Node {
        id: a.u32(A_NODE_ID)?,
        addr: a.ipv4(A_NODE_ADDR)?,
        port: a.u16(A_NODE_PORT)?,
        key: match a.u8(A_NODE_KEY_SET)? {
            0 => KeyState::Unset,
            _ => KeyState::Set,
        },
        heartbeat_ms: a.u32(A_NODE_HEARTBEAT_MS)?,
        dead_ms: a.u32(A_NODE_DEAD_MS)?,
        full_member: a.u8(A_NODE_FULL_MEMBER)? != 0,
        // A module without traffic policy: every node of weight 1.
        weight: a.u16(A_NODE_WEIGHT).unwrap_or(1),
        drain: a.u8(A_NODE_DRAIN).is_some_and(|v| v != 0),
        // Counted from the stack by `node show`, not by the kernel.
        held_connections: 0,
    })
}

pub(crate) fn node_set(c: &mut Client, n: &NodeChange) -> Result<(), Error> {
    let mut attrs = Vec::new();
    attrs.extend(n.id.map(|v| Attr::u32(A_NODE_ID, v)));
    attrs.extend(n.addr.map(|v| Attr::ipv4(A_NODE_ADDR, v)));
    attrs.extend(n.port.map(|v| Attr::u16(A_NODE_PORT, v)));
    attrs.extend(n.key.map(|v| Attr::bytes(A_NODE_KEY, v.to_vec())));
    attrs.extend(n.heartbeat.map(|v| Attr::u32(A_NODE_HEARTBEAT_MS, v)));
    attrs.extend(n.dead.map(|v| Attr::u32(A_NODE_DEAD_MS, v)));
    attrs.extend(n.weight.map(|v| Attr::u16(A_NODE_WEIGHT, v)));
    attrs.extend(
        n.drain
            .map(|v| Attr::bytes(A_NODE_DRAIN, vec![u8::from(v)])),
    );
    c.request(CMD_NODE_SET, attrs).map(drop)
}

/// Each entry of dump `cmd`, decoded by `of`.
fn dump<T>(
    c: &mut Client,
    cmd: u8,
    what: &str,
    of: impl Fn(&Attrs) -> Option<T>,
) -> Result<Vec<T>, Error> {
    c.dump(cmd)?
        .iter()
        .map(|a| of(a).ok_or_else(|| malformed(what)))
        .collect()
}

pub(crate) fn peers(c: &mut Client) -> Result<Vec<output::Peer>, Error> {
    dump(c, CMD_PEER_GET, "peer", |a| {
        Some(output::Peer {
            id: a.u32(A_PEER_ID)?,
            addr: a.ipv4(A_PEER_ADDR)?,
        })
    })
}

pub(crate) fn peer_add(c: &mut Client, p: &output::Peer) -> Result<(), Error> {
    c.request(
        CMD_PEER_ADD,
        vec![Attr::u32(A_PEER_ID, p.id), Attr::ipv4(A_PEER_ADDR, p.addr)],
    )
    .map(drop)
}

pub(crate) fn peer_del(c: &mut Client, id: u32) -> Result<(), Error> {
    c.request(CMD_PEER_DEL, vec![Attr::u32(A_PEER_ID, id)])
        .map(drop)
}

pub(crate) fn vips(c: &mut Client) -> Result<Vec<output::Vip>, Error> {
    dump(c, CMD_VIP_GET, "VIP", |a| {
        Some(output::Vip {
            addr: a.ipv4(A_VIP_ADDR)?,
            mac: Mac(a.get(A_VIP_MAC)?.try_into().ok()?),
            ifindex: a.u32(A_VIP_IFINDEX)?,
        })
    })
}

pub(crate) fn vip_add(c: &mut Client, v: &output::Vip) -> Result<(), Error> {
    c.request(
        CMD_VIP_ADD,
        vec![
            Attr::ipv4(A_VIP_ADDR, v.addr),
            Attr::bytes(A_VIP_MAC, v.mac.0.to_vec()),
            Attr::u32(A_VIP_IFINDEX, v.ifindex),
        ],
    )
    .map(drop)
}

pub(crate) fn vip_del(c: &mut Client, addr: Ipv4Addr) -> Result<(), Error> {
    c.request(CMD_VIP_DEL, vec![Attr::ipv4(A_VIP_ADDR, addr)])
        .map(drop)
}

pub(crate) fn services(c: &mut Client) -> Result<Vec<output::Service>, Error> {
    dump(c, CMD_SERVICE_GET, "service", |a| {
        Some(output::Service {
            vip: a.ipv4(A_SERVICE_VIP)?,
            port: a.u16(A_SERVICE_PORT)?,
            mode: Mode::from_u32(a.u32(A_SERVICE_MODE)?)
                .map_or("unknown", Mode::name)
                .to_string(),
            replicas: a.u32(A_SERVICE_REPLICAS)?,
            // A module without per-service counters: none counted.
            connections: a.u64(A_SERVICE_CONNECTIONS).unwrap_or(0),
            affinity: Affinity::from_u32(a.u32(A_SERVICE_AFFINITY).unwrap_or(0))
                .map_or("unknown", Affinity::name)
                .to_string(),
            healthy: a.u8(A_SERVICE_HEALTHY).map(|v| v != 0),
            backend_port: a.u16(A_SERVICE_BACKEND_PORT),
            ready: a.u8(A_SERVICE_READY).map(|v| v != 0),
            candidates: a.u32(A_SERVICE_CANDIDATES),
        })
    })
}

pub(crate) fn service_add(c: &mut Client, s: &ServiceAdd) -> Result<(), Error> {
    let mut attrs = vec![
        Attr::ipv4(A_SERVICE_VIP, s.vip),
        Attr::u16(A_SERVICE_PORT, s.port),
    ];
    attrs.extend(s.mode.map(|m| Attr::u32(A_SERVICE_MODE, m as u32)));
    attrs.extend(s.replicas.map(|r| Attr::u32(A_SERVICE_REPLICAS, r)));
    attrs.extend(s.affinity.map(|a| Attr::u32(A_SERVICE_AFFINITY, a as u32)));
    attrs.extend(s.backend_port.map(|p| Attr::u16(A_SERVICE_BACKEND_PORT, p)));
    c.request(CMD_SERVICE_ADD, attrs).map(drop)
}

pub(crate) fn service_set(c: &mut Client, s: &ServiceSet) -> Result<(), Error> {
    let mut attrs = vec![
        Attr::ipv4(A_SERVICE_VIP, s.vip),
        Attr::u16(A_SERVICE_PORT, s.port),
    ];
    attrs.extend(s.affinity.map(|a| Attr::u32(A_SERVICE_AFFINITY, a as u32)));
    attrs.extend(s.healthy.map(|h| Attr::u8(A_SERVICE_HEALTHY, h.into())));
    c.request(CMD_SERVICE_SET, attrs).map(drop)
}

/// Tells the module this node's health verdict of service `vip:port`.
pub(crate) fn service_health(
    c: &mut Client,
    vip: Ipv4Addr,
    port: u16,
    healthy: bool,
) -> Result<(), Error> {
    service_set(
        c,
        &ServiceSet {
            vip,
            port,
            affinity: None,
            healthy: Some(healthy),
        },
    )
}

pub(crate) fn service_del(c: &mut Client, vip: Ipv4Addr, port: u16) -> Result<(), Error> {
    c.request(
        CMD_SERVICE_DEL,
        vec![
            Attr::ipv4(A_SERVICE_VIP, vip),
            Attr::u16(A_SERVICE_PORT, port),
        ],
    )
    .map(drop)
}

impl output::Service {
    /// The `service add` that makes this service again: the mode always,
    /// the replicas for replicate (the only mode that takes them), the
    /// affinity unless it is the default, the backend port if any.
    pub(crate) fn to_add(&self) -> Option<ServiceAdd> {
        let mode = Mode::ALL.into_iter().find(|m| m.name() == self.mode)?;
        let affinity = Affinity::parse(&self.affinity).ok()?;
        Some(ServiceAdd {
            vip: self.vip,
            port: self.port,
            mode: Some(mode),
            replicas: (mode == Mode::Replicate).then_some(self.replicas),
            affinity: (affinity != Affinity::None).then_some(affinity),
            backend_port: self.backend_port,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_node_get() {
        let a = Attrs(vec![
            Attr::u32(A_NODE_ID, 1),
            Attr::ipv4(A_NODE_ADDR, Ipv4Addr::new(10, 0, 0, 1)),
            Attr::u16(A_NODE_PORT, 7000),
            Attr::bytes(A_NODE_KEY_SET, vec![1]),
            Attr::u32(A_NODE_HEARTBEAT_MS, 100),
            Attr::u32(A_NODE_DEAD_MS, 300),
            Attr::bytes(A_NODE_FULL_MEMBER, vec![0]),
            Attr::u16(A_NODE_WEIGHT, 1),
            Attr::bytes(A_NODE_DRAIN, vec![0]),
        ]);
        assert_eq!(node_of(&a), Some(output::tests::node()));
        let mut short = a.clone();
        short.0.truncate(6);
        assert_eq!(node_of(&short), None);
    }

    #[test]
    fn key_files() {
        let dir = std::env::temp_dir().join(format!("tpctl-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key");
        std::fs::write(&path, format!("  {}\n", "0f".repeat(32))).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let p = path.to_str().unwrap();
        assert_eq!(read_key_file(p).ok(), Some([0x0f; 32]));
        std::fs::write(&path, "not a key\n").unwrap();
        match read_key_file(p) {
            Err(Failure::Usage(e)) => {
                let text = e.to_string();
                assert!(text.contains("64 hexadecimal digits"), "{text}");
                assert!(!text.contains("not a key"), "{text}");
            }
            _ => panic!("a bad key file is a usage error"),
        }
        std::fs::write(&path, [0xff, 0xfe, b'\n']).unwrap();
        assert!(matches!(read_key_file(p), Err(Failure::Usage(_))));
        match read_key_file(dir.join("none").to_str().unwrap()) {
            Err(Failure::Failed(m)) => assert!(m.contains("reading key file"), "{m}"),
            _ => panic!("a missing key file is a failure"),
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn saved_services_add_back() {
        let s = output::Service {
            vip: Ipv4Addr::new(10, 0, 0, 100),
            port: 81,
            mode: "replicate".into(),
            replicas: 3,
            connections: 7,
            affinity: "none".into(),
            healthy: Some(true),
            backend_port: None,
            ready: Some(true),
            candidates: Some(3),
        };
        assert_eq!(s.to_add().unwrap().replicas, Some(3));
        let b = output::Service {
            mode: "balance".into(),
            replicas: 1,
            ..s.clone()
        };
        assert_eq!(
            b.to_add(),
            Some(ServiceAdd {
                vip: s.vip,
                port: 81,
                mode: Some(Mode::Balance),
                replicas: None,
                affinity: None,
                backend_port: None,
            })
        );
        let p = output::Service {
            mode: "splice".into(),
            backend_port: Some(8080),
            ..b.clone()
        };
        assert_eq!(p.to_add().unwrap().backend_port, Some(8080));
        let a = output::Service {
            affinity: "source".into(),
            ..b.clone()
        };
        assert_eq!(a.to_add().unwrap().affinity, Some(Affinity::Source));
        let u = output::Service {
            mode: "unknown".into(),
            ..s
        };
        assert_eq!(u.to_add(), None);
    }

    #[test]
    fn interfaces() {
        let lo = ifindex("lo").unwrap();
        assert_eq!(ifname(lo).as_deref(), Some("lo"));
        match ifindex("nosuchif0") {
            Err(Failure::Failed(m)) => assert_eq!(m, "no interface 'nosuchif0'"),
            _ => panic!(),
        }
    }
}

//! What tpctl prints: each object as a typed record, serialised with serde
//! for `-j` (field names and order are the interface scripts rely on) and
//! as `name value` pairs for people.

use serde::{ser::SerializeMap, Deserialize, Serialize, Serializer};
use std::{
    fmt::{Display, Write as _},
    net::{Ipv4Addr, SocketAddrV4},
};

/// One record as a text line: `name value` pairs, two spaces apart.
pub(crate) trait Text {
    fn text(&self) -> String;
}

fn fields(pairs: &[(&str, &dyn Display)]) -> String {
    let mut out = String::new();
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push_str("  ");
        }
        let _ = write!(out, "{name} {value}");
    }
    out
}

/// An optional value as text: `-` when the module did not say.
fn opt<T: Display>(v: &Option<T>) -> String {
    v.as_ref().map_or_else(|| "-".to_string(), T::to_string)
}

fn json<T: Serialize + ?Sized>(value: &T) -> String {
    // Plain data with string keys: serialising cannot fail.
    serde_json::to_string(value).unwrap_or_default() + "\n"
}

/// One record: a JSON object, or a text line.
pub(crate) fn one<T: Serialize + Text>(item: &T, as_json: bool) -> String {
    if as_json {
        json(item)
    } else {
        item.text() + "\n"
    }
}

/// A list: a JSON array, or a text line each.
pub(crate) fn list<T: Serialize + Text>(items: &[T], as_json: bool) -> String {
    if as_json {
        json(items)
    } else {
        items.iter().map(|i| i.text() + "\n").collect()
    }
}

/// Whether the node has a cluster key; the key itself is never shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum KeyState {
    Set,
    Unset,
}

impl Display for KeyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KeyState::Set => "set",
            KeyState::Unset => "unset",
        })
    }
}

/// This node's settings (`node show`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Node {
    /// The node's id in the cluster; 0 until set.
    pub(crate) id: u32,
    /// The node's own address, where its cluster channel listens;
    /// 0.0.0.0 until set.
    pub(crate) addr: Ipv4Addr,
    /// The cluster channel's UDP port; 0 until set.
    pub(crate) port: u16,
    /// Whether a cluster key is set (`set` or `unset`).
    pub(crate) key: KeyState,
    /// The heartbeat interval in force, in milliseconds.
    pub(crate) heartbeat_ms: u32,
    /// The dead-node timeout in force, in milliseconds.
    pub(crate) dead_ms: u32,
    /// Whether the node takes new connections: it sees a majority live and
    /// every live peer reports the same live set, weights and ready
    /// services.
    pub(crate) full_member: bool,
    /// Its share of new connections relative to the others' (0: none).
    pub(crate) weight: u16,
    /// Whether it drains: it takes no new connection, whatever its weight.
    pub(crate) drain: bool,
    /// TCP connections to the VIPs its stack holds (any state but
    /// TIME_WAIT): what a draining node still serves.
    pub(crate) held_connections: u64,
}

impl Text for Node {
    fn text(&self) -> String {
        fields(&[
            ("id", &self.id),
            ("addr", &self.addr),
            ("port", &self.port),
            ("key", &self.key),
            ("heartbeat_ms", &self.heartbeat_ms),
            ("dead_ms", &self.dead_ms),
            ("full_member", &self.full_member),
            ("weight", &self.weight),
            ("drain", &self.drain),
            ("held_connections", &self.held_connections),
        ])
    }
}

/// A peer node (`peer show`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Peer {
    /// The peer's id.
    pub(crate) id: u32,
    /// The peer's channel address.
    pub(crate) addr: Ipv4Addr,
}

impl Text for Peer {
    fn text(&self) -> String {
        fields(&[("id", &self.id), ("addr", &self.addr)])
    }
}

/// A MAC address, printed `01:00:5e:00:00:64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mac(pub(crate) [u8; 6]);

impl Display for Mac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl Serialize for Mac {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Mac {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        crate::args::mac(&s)
            .map(Mac)
            .map_err(serde::de::Error::custom)
    }
}

/// A virtual IP address (`vip show`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Vip {
    /// The VIP.
    pub(crate) addr: Ipv4Addr,
    /// Its cluster MAC, answered in ARP for it.
    pub(crate) mac: Mac,
    /// The interface it is served on (see `ip link`).
    pub(crate) ifindex: u32,
}

impl Text for Vip {
    fn text(&self) -> String {
        fields(&[
            ("addr", &self.addr),
            ("mac", &self.mac),
            ("ifindex", &self.ifindex),
        ])
    }
}

/// A service, a TCP port of a VIP (`service show`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Service {
    /// The VIP.
    pub(crate) vip: Ipv4Addr,
    /// The TCP port.
    pub(crate) port: u16,
    /// `balance`, `splice` or `replicate` (`unknown` from a newer module).
    pub(crate) mode: String,
    /// Replicas per connection: 1, or 2 to 4 for replicate.
    pub(crate) replicas: u32,
    /// New connections (SYNs) this node took for the service since it was
    /// added.
    pub(crate) connections: u64,
    /// `none` or `source`: every connection of one client to one node.
    pub(crate) affinity: String,
    /// This node's own health verdict of it (`service check`, `service
    /// set ... health`; null from a module that does not say).
    pub(crate) healthy: Option<bool>,
    /// Whether this node takes its new connections: an application
    /// listens for it here and its health verdict is good (null from a
    /// module that does not say).
    pub(crate) ready: Option<bool>,
    /// How many members take its new connections now, as this node sees
    /// them (null from a module that does not say).
    pub(crate) candidates: Option<u32>,
    /// Splice: the port its handed-over connections are served on (a
    /// stock server's); absent for the service's own port, so that the
    /// output of a service without one reads as it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) backend_port: Option<u16>,
}

impl Text for Service {
    /// The backend port only when the service has one.
    fn text(&self) -> String {
        let health = self.healthy.map_or("-", |h| if h { "up" } else { "down" });
        let (ready, candidates) = (opt(&self.ready), opt(&self.candidates));
        let mut pairs: Vec<(&str, &dyn Display)> = vec![
            ("vip", &self.vip),
            ("port", &self.port),
            ("mode", &self.mode),
            ("replicas", &self.replicas),
            ("connections", &self.connections),
            ("affinity", &self.affinity),
        ];
        if let Some(p) = &self.backend_port {
            pairs.push(("backend-port", p));
        }
        pairs.extend([
            ("health", &health as &dyn Display),
            ("ready", &ready),
            ("candidates", &candidates),
        ]);
        fields(&pairs)
    }
}

/// A member of the cluster as this node sees it (`cluster show`, and each
/// change `monitor` prints).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Member {
    /// The member's id.
    pub(crate) id: u32,
    /// Its channel address.
    pub(crate) addr: Ipv4Addr,
    /// `self`, `live` or `dead`.
    pub(crate) state: String,
    /// Its incarnation (start time), 0 if never heard.
    pub(crate) incarnation: u32,
    /// Milliseconds since it was last heard from, 0 for this node, null
    /// (text: `never`) if never. In a `monitor` report of a death: the
    /// silence after which it was declared dead.
    pub(crate) last_heard_ms: Option<u32>,
    /// The weight it announces (0 while it drains).
    pub(crate) weight: Option<u16>,
    /// How many services it announced an application listening for.
    pub(crate) ready_services: Option<u32>,
}

impl Text for Member {
    fn text(&self) -> String {
        let last: &dyn Display = match &self.last_heard_ms {
            Some(ms) => ms,
            None => &"never",
        };
        fields(&[
            ("id", &self.id),
            ("addr", &self.addr),
            ("state", &self.state),
            ("incarnation", &self.incarnation),
            ("last_heard_ms", last),
            ("weight", &opt(&self.weight)),
            ("ready_services", &opt(&self.ready_services)),
        ])
    }
}

/// A replica of a replicated connection found to write other bytes than
/// this node (each such finding `monitor` prints).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Diverged {
    /// Always `replica-diverged`: tells these lines from members'.
    pub(crate) event: String,
    /// The client, `address:port`.
    pub(crate) client: String,
    /// The service, `VIP:port`.
    pub(crate) service: String,
    /// This node's role on the connection since.
    pub(crate) role: String,
    /// The node whose replica's output differs from this node's.
    pub(crate) diverged: u32,
}

impl Text for Diverged {
    fn text(&self) -> String {
        fields(&[
            ("event", &self.event),
            ("client", &self.client),
            ("service", &self.service),
            ("role", &self.role),
            ("diverged", &self.diverged),
        ])
    }
}

/// One replica of a replicated connection, as this node knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Replica {
    /// Its node id.
    pub(crate) id: u32,
    /// Its role in the set: `primary`, `backup`, `excluded` or `joining`
    /// (brought in after a failure, catching up).
    pub(crate) role: String,
    /// The client sequence number it has received up to.
    pub(crate) received: u32,
    /// The server sequence number (as the client sees it) it has sent up to.
    pub(crate) sent: u32,
}

/// A TCP connection to a VIP on this node (`conn show`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Conn {
    /// The VIP and port the client connected to.
    pub(crate) vip: SocketAddrV4,
    /// The client's address and port.
    pub(crate) client: SocketAddrV4,
    /// The socket's TCP state, `-` for a replicated connection whose socket
    /// is gone.
    pub(crate) state: String,
    /// This node's role on a replicated connection: `primary`, `backup` or
    /// `fenced`; absent for other connections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) replicate: Option<String>,
    /// The replica set of a replicated connection, in rendezvous order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) set: Option<Vec<Replica>>,
    /// The client log this node keeps of a replicated connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) log: Option<Log>,
}

/// The client log a node keeps of a replicated connection, to bring a
/// replica into its set later.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Log {
    /// `kept` (the connection can be re-protected), `past-bound` or `lost`
    /// (it cannot), `none` (not begun).
    pub(crate) state: String,
    /// The client bytes it holds.
    pub(crate) bytes: u32,
}

impl Text for Conn {
    fn text(&self) -> String {
        let mut line = fields(&[
            ("vip", &self.vip),
            ("client", &self.client),
            ("state", &self.state),
        ]);
        if let Some(role) = &self.replicate {
            let set: Vec<String> = self
                .set
                .iter()
                .flatten()
                .map(|r| format!("{}({} rcv={} snd={})", r.id, r.role, r.received, r.sent))
                .collect();
            let set = set.join(" ");
            line = line + "  " + &fields(&[("replicate", role), ("set", &set)]);
            if let Some(log) = &self.log {
                let log = match log.state.as_str() {
                    "kept" => format!("kept {}", log.bytes),
                    state => state.to_string(),
                };
                line = line + "  " + &fields(&[("log", &log)]);
            }
        }
        line
    }
}

/// The node's counters, in the kernel's order (`stats show`): one JSON
/// object of `name: value`, or aligned `name  value` lines.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counters(pub(crate) Vec<(String, u64)>);

impl Serialize for Counters {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl Counters {
    pub(crate) fn render(&self, as_json: bool) -> String {
        if as_json {
            return json(self);
        }
        let width = self.0.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        self.0
            .iter()
            .map(|(name, value)| format!("{name:<width$}  {value}\n"))
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn node() -> Node {
        Node {
            id: 1,
            addr: Ipv4Addr::new(10, 0, 0, 1),
            port: 7000,
            key: KeyState::Set,
            heartbeat_ms: 100,
            dead_ms: 300,
            full_member: false,
            weight: 1,
            drain: false,
            held_connections: 0,
        }
    }

    /// Parses `text` back with serde_json, as a script would.
    fn parses<'a, T: Deserialize<'a> + PartialEq + std::fmt::Debug>(text: &'a str, want: &T) {
        let back: T = serde_json::from_str(text).expect(text);
        assert_eq!(&back, want);
    }

    #[test]
    fn node_as_before() {
        let n = node();
        let j = one(&n, true);
        assert_eq!(
            j,
            "{\"id\":1,\"addr\":\"10.0.0.1\",\"port\":7000,\"key\":\"set\",\"heartbeat_ms\":100,\"dead_ms\":300,\"full_member\":false,\"weight\":1,\"drain\":false,\"held_connections\":0}\n"
        );
        parses(&j, &n);
        assert_eq!(
            one(&n, false),
            "id 1  addr 10.0.0.1  port 7000  key set  heartbeat_ms 100  dead_ms 300  full_member false  weight 1  drain false  held_connections 0\n"
        );
    }

    #[test]
    fn peers_vips_services_as_before() {
        let peers = vec![
            Peer {
                id: 2,
                addr: Ipv4Addr::new(10, 0, 0, 2),
            },
            Peer {
                id: 3,
                addr: Ipv4Addr::new(10, 0, 0, 3),
            },
        ];
        let j = list(&peers, true);
        assert_eq!(
            j,
            "[{\"id\":2,\"addr\":\"10.0.0.2\"},{\"id\":3,\"addr\":\"10.0.0.3\"}]\n"
        );
        parses(&j, &peers);
        assert_eq!(
            list(&peers, false),
            "id 2  addr 10.0.0.2\nid 3  addr 10.0.0.3\n"
        );
        assert_eq!(list::<Peer>(&[], true), "[]\n");
        assert_eq!(list::<Peer>(&[], false), "");

        let vips = vec![Vip {
            addr: Ipv4Addr::new(10, 0, 0, 100),
            mac: Mac([1, 0, 0x5e, 0, 0, 0x64]),
            ifindex: 2,
        }];
        let j = list(&vips, true);
        assert_eq!(
            j,
            "[{\"addr\":\"10.0.0.100\",\"mac\":\"01:00:5e:00:00:64\",\"ifindex\":2}]\n"
        );
        parses(&j, &vips);
        assert_eq!(
            list(&vips, false),
            "addr 10.0.0.100  mac 01:00:5e:00:00:64  ifindex 2\n"
        );

        let services = vec![
            Service {
                vip: Ipv4Addr::new(10, 0, 0, 100),
                port: 80,
                mode: "balance".into(),
                replicas: 1,
                connections: 12,
                affinity: "source".into(),
                healthy: Some(false),
                backend_port: None,
                ready: Some(true),
                candidates: Some(2),
            },
            Service {
                vip: Ipv4Addr::new(10, 0, 0, 100),
                port: 81,
                mode: "replicate".into(),
                replicas: 3,
                connections: 0,
                affinity: "none".into(),
                healthy: None,
                backend_port: None,
                ready: None,
                candidates: None,
            },
        ];
        let j = list(&services, true);
        assert_eq!(
            j,
            "[{\"vip\":\"10.0.0.100\",\"port\":80,\"mode\":\"balance\",\"replicas\":1,\"connections\":12,\"affinity\":\"source\",\"healthy\":false,\"ready\":true,\"candidates\":2},\
             {\"vip\":\"10.0.0.100\",\"port\":81,\"mode\":\"replicate\",\"replicas\":3,\"connections\":0,\"affinity\":\"none\",\"healthy\":null,\"ready\":null,\"candidates\":null}]\n"
        );
        parses(&j, &services);
        assert_eq!(
            list(&services, false),
            "vip 10.0.0.100  port 80  mode balance  replicas 1  connections 12  affinity source  health down  ready true  candidates 2\n\
             vip 10.0.0.100  port 81  mode replicate  replicas 3  connections 0  affinity none  health -  ready -  candidates -\n"
        );
        // A backend port shows where there is one, and only there.
        let spliced = vec![Service {
            mode: "splice".into(),
            backend_port: Some(8080),
            ..services[0].clone()
        }];
        let j = list(&spliced, true);
        assert!(
            j.ends_with(",\"candidates\":2,\"backend_port\":8080}]\n"),
            "{j}"
        );
        parses(&j, &spliced);
        assert!(list(&spliced, false).contains("  affinity source  backend-port 8080  health down"));
    }

    #[test]
    fn members_never_heard_are_null() {
        let members = vec![
            Member {
                id: 1,
                addr: Ipv4Addr::new(10, 0, 0, 1),
                state: "self".into(),
                incarnation: 0,
                last_heard_ms: Some(0),
                weight: Some(2),
                ready_services: Some(1),
            },
            Member {
                id: 2,
                addr: Ipv4Addr::new(10, 0, 0, 2),
                state: "dead".into(),
                incarnation: 0,
                last_heard_ms: None,
                weight: None,
                ready_services: None,
            },
        ];
        let j = list(&members, true);
        assert_eq!(
            j,
            "[{\"id\":1,\"addr\":\"10.0.0.1\",\"state\":\"self\",\"incarnation\":0,\"last_heard_ms\":0,\"weight\":2,\"ready_services\":1},\
             {\"id\":2,\"addr\":\"10.0.0.2\",\"state\":\"dead\",\"incarnation\":0,\"last_heard_ms\":null,\"weight\":null,\"ready_services\":null}]\n"
        );
        parses(&j, &members);
        assert_eq!(
            list(&members, false),
            "id 1  addr 10.0.0.1  state self  incarnation 0  last_heard_ms 0  weight 2  ready_services 1\n\
             id 2  addr 10.0.0.2  state dead  incarnation 0  last_heard_ms never  weight -  ready_services -\n"
        );
        assert_eq!(
            one(&members[1], true),
            "{\"id\":2,\"addr\":\"10.0.0.2\",\"state\":\"dead\",\"incarnation\":0,\"last_heard_ms\":null,\"weight\":null,\"ready_services\":null}\n"
        );
    }

    #[test]
    fn counters_as_before() {
        let c = Counters(vec![
            ("hook_packets".into(), 12),
            ("hook_bytes".into(), 1008),
        ]);
        let j = c.render(true);
        assert_eq!(j, "{\"hook_packets\":12,\"hook_bytes\":1008}\n");
        let back: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&j).unwrap();
        assert_eq!(back["hook_bytes"], 1008);
        assert_eq!(c.render(false), "hook_packets  12\nhook_bytes    1008\n");
        assert_eq!(Counters::default().render(true), "{}\n");
    }

    #[test]
    fn strings_are_escaped() {
        // A name from a newer module, say, with characters JSON escapes.
        let c = Counters(vec![("a\"b\\c\n".into(), 1)]);
        let j = c.render(true);
        assert_eq!(j, "{\"a\\\"b\\\\c\\n\":1}\n");
        let back: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&j).unwrap();
        assert_eq!(back["a\"b\\c\n"], 1);
    }
}

// SPDX-License-Identifier: GPL-2.0

//! The configuration of one node: its own settings, its peers, the cluster's
//! virtual IPs and their services, and the rules every change must pass.
//!
//! Kernel-independent: the netlink handlers parse requests into the types
//! here and turn a [`ConfigError`] into an errno and an extack message. The
//! tables have fixed capacities, so a change never allocates and a full
//! table is an error the caller sees, not a failed allocation.

use core::ffi::CStr;

/// Most peers a node knows (64 nodes in a cluster).
pub(crate) const MAX_PEERS: usize = 63;
/// Most virtual IPs per node.
pub(crate) const MAX_VIPS: usize = 16;
/// Most services per node.
pub(crate) const MAX_SERVICES: usize = 64;
/// Length of the cluster key.
pub(crate) const KEY_LEN: usize = 32;
/// Default heartbeat interval: with the default timeout a dead peer is
/// noticed within 300 ms (one timeout plus one interval). The module's
/// `heartbeat_ms` parameter starts at this value.
pub(crate) const DEFAULT_HEARTBEAT_MS: u32 = 50;
/// Default silence after which a peer is dead (module parameter `dead_ms`).
pub(crate) const DEFAULT_DEAD_MS: u32 = 200;
/// Default number of replicated connections a node tracks (module
/// parameter `replica_conns`, up to 2^20).
pub(crate) const DEFAULT_REPLICA_CONNS: u32 = 65_536;
/// Default number of them whose client has not completed its handshake
/// (module parameter `replica_half_open`): a SYN flood takes at most these.
pub(crate) const DEFAULT_REPLICA_HALF_OPEN: u32 = 16_384;
/// Default number of connections a node tracks in or after a handover
/// (module parameter `splice_conns`, up to 2^20).
pub(crate) const DEFAULT_SPLICE_CONNS: u32 = 65_536;
/// Default time a service whose application stopped must listen again
/// before its node is ready for it (module parameter `ready_hold_ms`;
/// `ready_hold.rs`): long enough that a server crashing in a loop is not
/// counted back in at each start.
pub(crate) const DEFAULT_READY_HOLD_MS: u32 = 1000;
/// Default number of client bytes a replicated connection keeps, from its
/// first, to bring a replica in later (module parameter
/// `replica_log_bytes`; `replicate/client_log.rs`): 1 MiB, what a
/// request/response or database session sends in a good while, at a cost
/// of at most that per connection while its client is within it; 0 turns
/// catch-up off.
pub(crate) const DEFAULT_REPLICA_LOG_BYTES: u32 = 1 << 20;
/// Most replicas of a replicated connection: each costs every replica 24
/// bytes of the connection's entry, which stays within 256 bytes with 4
/// (and a connection that survives three failures is ample).
pub(crate) const MAX_REPLICAS: u32 = 4;

pub(crate) use crate::types::Ipv4;

impl Ipv4 {
    /// Whether the address can be a node's or a VIP's: not 0.0.0.0, not
    /// loopback, multicast, or the limited broadcast address.
    pub(crate) fn is_unicast(self) -> bool {
        let [a, ..] = self.0;
        self.0 != [0; 4] && a != 127 && !(224..=239).contains(&a) && self.0 != [255; 4]
    }
}

/// How the connections of a service are served (`enum tpcluster_service_mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Each new connection is owned by one live node.
    #[default]
    Balance = 0,
    /// Balance, and connections can be handed to another node.
    Splice = 1,
    /// Connections are served by a primary and backups.
    Replicate = 2,
}

impl Mode {
    /// The mode of a netlink value (the policy has checked the range).
    pub(crate) fn from_u32(v: u32) -> Option<Self> {
        match v {
            0 => Some(Self::Balance),
            1 => Some(Self::Splice),
            2 => Some(Self::Replicate),
            _ => None,
        }
    }
}

/// Which connections of a service go to one node (`enum
/// tpcluster_service_affinity`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Affinity {
    /// Each connection on its own, hashed by its whole 5-tuple.
    #[default]
    None = 0,
    /// Every connection of one client address to one node, while the
    /// members and their policies stay as they are.
    Source = 1,
}

impl Affinity {
    /// The affinity of a netlink value (the policy has checked the range).
    pub(crate) fn from_u32(v: u32) -> Option<Self> {
        match v {
            0 => Some(Self::None),
            1 => Some(Self::Source),
            _ => None,
        }
    }
}

/// This node's own settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NodeSettings {
    /// Node id, unique in the cluster; 0 until set.
    pub(crate) id: u32,
    /// Address of the node's cluster channel.
    pub(crate) addr: Ipv4,
    /// UDP port of the cluster channel; 0 until set.
    pub(crate) port: u16,
    /// The cluster key, once set.
    pub(crate) key: Option<[u8; KEY_LEN]>,
    /// Heartbeat interval; `None` follows the module parameter.
    pub(crate) heartbeat_ms: Option<u32>,
    /// Silence after which a peer is dead; `None` follows the module
    /// parameter.
    pub(crate) dead_ms: Option<u32>,
    /// Its share of new connections (`policy.rs`).
    pub(crate) weight: u16,
    /// Draining: it takes no new connection, whatever its weight, and
    /// serves those it has.
    pub(crate) drain: bool,
}

/// The timers a node runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timers {
    /// Heartbeat interval, ms.
    pub(crate) heartbeat_ms: u32,
    /// Dead-peer timeout, ms; at least twice the interval.
    pub(crate) dead_ms: u32,
}

impl NodeSettings {
    /// The weight it announces: 0 while it drains.
    pub(crate) fn effective_weight(&self) -> u16 {
        if self.drain {
            0
        } else {
            self.weight
        }
    }

    /// The timers in force: this node's own, or `defaults` (the module
    /// parameters) for those it has not set. The timeout is raised to twice
    /// the interval if a mix of the two would make it shorter, so that one
    /// late heartbeat never kills a peer.
    pub(crate) fn timers(&self, defaults: Timers) -> Timers {
        let heartbeat_ms = self.heartbeat_ms.unwrap_or(defaults.heartbeat_ms);
        let dead_ms = self.dead_ms.unwrap_or(defaults.dead_ms);
        Timers {
            heartbeat_ms,
            dead_ms: dead_ms.max(heartbeat_ms.saturating_mul(2)),
        }
    }
}

/// A change to [`NodeSettings`]: `None` keeps the current value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct NodeChange {
    /// New node id.
    pub(crate) id: Option<u32>,
    /// New channel address.
    pub(crate) addr: Option<Ipv4>,
    /// New channel port.
    pub(crate) port: Option<u16>,
    /// New cluster key.
    pub(crate) key: Option<[u8; KEY_LEN]>,
    /// New heartbeat interval.
    pub(crate) heartbeat_ms: Option<u32>,
    /// New dead-peer timeout.
    pub(crate) dead_ms: Option<u32>,
    /// New weight.
    pub(crate) weight: Option<u16>,
    /// Start (`true`) or end draining.
    pub(crate) drain: Option<bool>,
}

/// Another node of the cluster.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Peer {
    /// Its node id.
    pub(crate) id: u32,
    /// Its channel address.
    pub(crate) addr: Ipv4,
}

/// A virtual IP address of the cluster.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Vip {
    /// The address.
    pub(crate) addr: Ipv4,
    /// The multicast cluster MAC answered in ARP for it.
    pub(crate) mac: [u8; 6],
    /// The interface it is served on.
    pub(crate) ifindex: u32,
}

/// A service: a TCP port of a VIP and how its connections are served.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Service {
    /// The VIP.
    pub(crate) vip: Ipv4,
    /// The TCP port.
    pub(crate) port: u16,
    /// The mode.
    pub(crate) mode: Mode,
    /// Replication factor: 1 unless the mode is [`Mode::Replicate`].
    pub(crate) replicas: u32,
    /// Where its counters are (`stats::ServiceCounters`): below
    /// [`MAX_SERVICES`], no other service's while it exists.
    pub(crate) slot: u8,
    /// Which of its connections go to one node.
    pub(crate) affinity: Affinity,
    /// A health check of this node's own (`tpctl service check`, or the
    /// admin by hand) says it must not take the service's new
    /// connections, whatever listens.
    pub(crate) unhealthy: bool,
    /// Splice only: the port the service's connections are served on once
    /// handed over (a stock server's), 0 for the service's own port.
    pub(crate) backend_port: u16,
}

/// Why a change was refused. Each reason has an errno class and a message
/// for the netlink extended ack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConfigError {
    /// The value is not acceptable (the message says why).
    Invalid(&'static CStr),
    /// The object already exists.
    Exists(&'static CStr),
    /// The object does not exist.
    NotFound(&'static CStr),
    /// The table is full.
    Full(&'static CStr),
}

impl ConfigError {
    /// The extended-ack message.
    pub(crate) fn message(self) -> &'static CStr {
        match self {
            Self::Invalid(m) | Self::Exists(m) | Self::NotFound(m) | Self::Full(m) => m,
        }
    }
}

/// A table of at most `N` entries, in insertion order.
///
/// # Invariants
///
/// `len <= N`; `items[..len]` are the entries.
pub(crate) struct Table<T, const N: usize> {
    items: [T; N],
    len: usize,
}

impl<T: Copy + Default, const N: usize> Table<T, N> {
    fn new() -> Self {
        Self {
            items: [T::default(); N],
            len: 0,
        }
    }

    /// The entries.
    pub(crate) fn as_slice(&self) -> &[T] {
        &self.items[..self.len]
    }

    /// The entry at `index`, for dumps that resume at an index.
    pub(crate) fn get(&self, index: usize) -> Option<&T> {
        self.as_slice().get(index)
    }

    fn push(&mut self, item: T, full: ConfigError) -> Result<(), ConfigError> {
        let slot = self.items.get_mut(self.len).ok_or(full)?;
        *slot = item;
        self.len += 1;
        Ok(())
    }

    /// Removes every entry `keep` rejects; returns how many.
    fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) -> usize {
        let mut kept = 0;
        for i in 0..self.len {
            if keep(&self.items[i]) {
                self.items[kept] = self.items[i];
                kept += 1;
            }
        }
        let removed = self.len - kept;
        self.len = kept;
        removed
    }
}

/// The configuration of one node.
pub(crate) struct Config {
    node: NodeSettings,
    peers: Table<Peer, MAX_PEERS>,
    vips: Table<Vip, MAX_VIPS>,
    services: Table<Service, MAX_SERVICES>,
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

impl Config {
    /// An unconfigured node: no id, no peers, default timers.
    pub(crate) fn new() -> Self {
        Self {
            node: NodeSettings {
                id: 0,
                addr: Ipv4::default(),
                port: 0,
                key: None,
                heartbeat_ms: None,
                dead_ms: None,
                weight: crate::policy::DEFAULT_WEIGHT,
                drain: false,
            },
            peers: Table::new(),
            vips: Table::new(),
            services: Table::new(),
        }
    }

    /// This node's settings.
    pub(crate) fn node(&self) -> &NodeSettings {
        &self.node
    }

    /// The peers.
    pub(crate) fn peers(&self) -> &Table<Peer, MAX_PEERS> {
        &self.peers
    }

    /// The virtual IPs.
    pub(crate) fn vips(&self) -> &Table<Vip, MAX_VIPS> {
        &self.vips
    }

    /// The services.
    pub(crate) fn services(&self) -> &Table<Service, MAX_SERVICES> {
        &self.services
    }

    /// Applies `change` to this node's settings, all of it or nothing.
    pub(crate) fn set_node(&mut self, change: &NodeChange) -> Result<(), ConfigError> {
        let mut next = self.node;
        next.id = change.id.unwrap_or(next.id);
        next.addr = change.addr.unwrap_or(next.addr);
        next.port = change.port.unwrap_or(next.port);
        next.key = change.key.or(next.key);
        next.heartbeat_ms = change.heartbeat_ms.or(next.heartbeat_ms);
        next.dead_ms = change.dead_ms.or(next.dead_ms);
        next.weight = change.weight.unwrap_or(next.weight);
        next.drain = change.drain.unwrap_or(next.drain);
        if change.id == Some(0) {
            return Err(ConfigError::Invalid(c"node id 0 is reserved"));
        }
        if change.addr.is_some() && !next.addr.is_unicast() {
            return Err(ConfigError::Invalid(
                c"node address must be a unicast IPv4 address",
            ));
        }
        if self.peers.as_slice().iter().any(|p| p.id == next.id) {
            return Err(ConfigError::Exists(c"node id is a peer's id"));
        }
        if change.addr.is_some() && self.peers.as_slice().iter().any(|p| p.addr == next.addr) {
            return Err(ConfigError::Exists(c"node address is a peer's address"));
        }
        if let (Some(hb), Some(dead)) = (next.heartbeat_ms, next.dead_ms) {
            if dead < hb.saturating_mul(2) {
                return Err(ConfigError::Invalid(
                    c"dead-ms must be at least twice heartbeat-ms",
                ));
            }
        }
        self.node = next;
        Ok(())
    }

    /// Puts back settings that [`Config::node`] returned, undoing a
    /// [`Config::set_node`] that could not take effect.
    pub(crate) fn restore_node(&mut self, settings: NodeSettings) {
        self.node = settings;
    }

    /// Adds a peer.
    pub(crate) fn add_peer(&mut self, peer: Peer) -> Result<(), ConfigError> {
        if !peer.addr.is_unicast() {
            return Err(ConfigError::Invalid(
                c"peer address must be a unicast IPv4 address",
            ));
        }
        if peer.id == self.node.id {
            return Err(ConfigError::Invalid(c"peer id is this node's id"));
        }
        if self.node.id != 0 && peer.addr == self.node.addr {
            return Err(ConfigError::Invalid(c"peer address is this node's address"));
        }
        if self.peers.as_slice().iter().any(|p| p.id == peer.id) {
            return Err(ConfigError::Exists(c"a peer with this id exists"));
        }
        if self.peers.as_slice().iter().any(|p| p.addr == peer.addr) {
            return Err(ConfigError::Exists(c"a peer with this address exists"));
        }
        self.peers.push(peer, ConfigError::Full(c"too many peers"))
    }

    /// Removes the peer `id`.
    pub(crate) fn del_peer(&mut self, id: u32) -> Result<(), ConfigError> {
        match self.peers.retain(|p| p.id != id) {
            0 => Err(ConfigError::NotFound(c"no peer with this id")),
            _ => Ok(()),
        }
    }

    /// Adds a virtual IP.
    pub(crate) fn add_vip(&mut self, vip: Vip) -> Result<(), ConfigError> {
        if !vip.addr.is_unicast() {
            return Err(ConfigError::Invalid(c"VIP must be a unicast IPv4 address"));
        }
        if vip.mac[0] & 1 == 0 {
            return Err(ConfigError::Invalid(
                c"cluster MAC must be a multicast Ethernet address",
            ));
        }
        if vip.mac == [0xff; 6] {
            return Err(ConfigError::Invalid(
                c"cluster MAC must not be the broadcast address",
            ));
        }
        if vip.ifindex == 0 {
            return Err(ConfigError::Invalid(c"ifindex 0 is no interface"));
        }
        if self.vips.as_slice().iter().any(|v| v.addr == vip.addr) {
            return Err(ConfigError::Exists(c"VIP exists"));
        }
        self.vips.push(vip, ConfigError::Full(c"too many VIPs"))
    }

    /// Removes a virtual IP and its services.
    pub(crate) fn del_vip(&mut self, addr: Ipv4) -> Result<(), ConfigError> {
        if self.vips.retain(|v| v.addr != addr) == 0 {
            return Err(ConfigError::NotFound(c"unknown VIP"));
        }
        self.services.retain(|s| s.vip != addr);
        Ok(())
    }

    /// Adds a service. `replicas` is only for [`Mode::Replicate`], where it
    /// defaults to 2.
    pub(crate) fn add_service(
        &mut self,
        vip: Ipv4,
        port: u16,
        mode: Mode,
        replicas: Option<u32>,
    ) -> Result<(), ConfigError> {
        if !self.vips.as_slice().iter().any(|v| v.addr == vip) {
            return Err(ConfigError::NotFound(c"unknown VIP: add it first"));
        }
        if port == 0 {
            return Err(ConfigError::Invalid(c"port 0 is no service"));
        }
        let replicas = match (mode, replicas) {
            (Mode::Replicate, None) => 2,
            (Mode::Replicate, Some(r)) if (2..=MAX_REPLICAS).contains(&r) => r,
            (Mode::Replicate, Some(_)) => {
                return Err(ConfigError::Invalid(c"replicas must be 2 to 4"));
            }
            (_, None | Some(1)) => 1,
            (_, Some(_)) => {
                return Err(ConfigError::Invalid(
                    c"replicas is only for replicate services",
                ));
            }
        };
        if self
            .services
            .as_slice()
            .iter()
            .any(|s| s.vip == vip && s.port == port)
        {
            return Err(ConfigError::Exists(c"service exists"));
        }
        if self
            .services
            .as_slice()
            .iter()
            .any(|s| s.vip == vip && s.backend_port == port)
        {
            return Err(ConfigError::Exists(
                c"port is another service's backend port",
            ));
        }
        // The lowest counter slot no service holds (there is one: fewer
        // services than slots, or `push` refuses it below).
        let slot = (0..MAX_SERVICES as u8)
            .find(|&i| self.services.as_slice().iter().all(|s| s.slot != i))
            .unwrap_or(0);
        let service = Service {
            vip,
            port,
            mode,
            replicas,
            slot,
            affinity: Affinity::None,
            unhealthy: false,
            backend_port: 0,
        };
        self.services
            .push(service, ConfigError::Full(c"too many services"))
    }

    /// Sets the backend port of splice service `vip:port` (0: none). Only
    /// as the service is added: its connections' entries are keyed by the
    /// port they are served on.
    pub(crate) fn set_service_backend(
        &mut self,
        vip: Ipv4,
        port: u16,
        backend_port: u16,
    ) -> Result<(), ConfigError> {
        let taken = self.services.as_slice().iter().any(|s| {
            s.vip == vip
                && s.port != port
                && (s.port == backend_port || s.backend_port == backend_port)
        });
        let service = self.service_mut(vip, port)?;
        if backend_port == 0 {
            service.backend_port = 0;
            return Ok(());
        }
        if service.mode != Mode::Splice {
            return Err(ConfigError::Invalid(
                c"backend-port is only for splice services",
            ));
        }
        if backend_port == port {
            return Err(ConfigError::Invalid(
                c"backend-port must differ from the service's port",
            ));
        }
        if taken {
            return Err(ConfigError::Exists(
                c"backend-port is another service's port or backend port",
            ));
        }
        service.backend_port = backend_port;
        Ok(())
    }

    /// Sets the affinity of service `vip:port`.
    pub(crate) fn set_service_affinity(
        &mut self,
        vip: Ipv4,
        port: u16,
        affinity: Affinity,
    ) -> Result<(), ConfigError> {
        self.service_mut(vip, port)?.affinity = affinity;
        Ok(())
    }

    /// Sets whether this node's own health check of service `vip:port`
    /// passes.
    pub(crate) fn set_service_health(
        &mut self,
        vip: Ipv4,
        port: u16,
        healthy: bool,
    ) -> Result<(), ConfigError> {
        self.service_mut(vip, port)?.unhealthy = !healthy;
        Ok(())
    }

    /// Service `vip:port`, if there is one.
    pub(crate) fn service(&self, vip: Ipv4, port: u16) -> Option<&Service> {
        self.services
            .as_slice()
            .iter()
            .find(|s| s.vip == vip && s.port == port)
    }

    fn service_mut(&mut self, vip: Ipv4, port: u16) -> Result<&mut Service, ConfigError> {
        let n = self.services.len;
        self.services.items[..n]
            .iter_mut()
            .find(|s| s.vip == vip && s.port == port)
            .ok_or(ConfigError::NotFound(c"unknown service"))
    }

    /// Removes a service.
    pub(crate) fn del_service(&mut self, vip: Ipv4, port: u16) -> Result<(), ConfigError> {
        match self.services.retain(|s| !(s.vip == vip && s.port == port)) {
            0 => Err(ConfigError::NotFound(c"unknown service")),
            _ => Ok(()),
        }
    }
}

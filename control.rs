// SPDX-License-Identifier: GPL-2.0

//! The control plane: the `tpcluster` generic netlink operations, from a
//! validated request to a change of the node's configuration and a reply.
//!
//! The family's policies (generated from the YNL spec) have checked types,
//! lengths and ranges before these run; what is left is presence and the
//! rules of [`crate::config`], each refusal with an extended-ack message.
//! Handlers run in process context and take the node's configuration mutex.

use crate::{
    client_log::{ClientLog, Lost},
    config::{Affinity, ConfigError, Ipv4, Mode, NodeChange, Peer, Vip},
    log_store::LogVec,
    replica::{Replication, Role, MAX_SET},
    stats::{Counter, Gauge},
    sys::{
        bindings as b,
        genetlink::{self, Dump, Message, Request},
    },
    wire::Tuple,
    Node,
};
use core::ffi::CStr;
use kernel::prelude::*;

/// Refuses `req` for a configuration rule.
fn refuse(req: &Request<'_>, e: ConfigError) -> Error {
    let errno = match e {
        ConfigError::Invalid(_) => EINVAL,
        ConfigError::Exists(_) => EEXIST,
        ConfigError::NotFound(_) => ENOENT,
        ConfigError::Full(_) => ENOSPC,
    };
    req.refuse(errno, e.message(), None)
}

/// The value of a required attribute, or a refusal naming it.
fn required<T>(req: &Request<'_>, value: Option<T>, ty: u32, msg: &'static CStr) -> Result<T> {
    value.ok_or_else(|| req.refuse(EINVAL, msg, Some(ty)))
}

/// Publishes a change that leaves the channel's settings as they were, so
/// the channel (already open, or not openable before either) is not at
/// stake.
fn republish(node: &Node, config: &crate::config::Config) {
    let _ = node.publish(config);
}

/// `node-get`: this node's settings (never the key itself).
pub(crate) fn node_get(node: &Node, req: &Request<'_>) -> Result {
    let n = *node.config.lock().node();
    let timers = n.timers(crate::default_timers());
    let full_member = node.is_full_member();
    req.reply(b::TPCLUSTER_CMD_NODE_GET as u8, |m| {
        m.put_u32(b::TPCLUSTER_A_NODE_ID, n.id)?;
        m.put_ipv4(b::TPCLUSTER_A_NODE_ADDR, n.addr)?;
        m.put_u16(b::TPCLUSTER_A_NODE_PORT, n.port)?;
        m.put_u8(b::TPCLUSTER_A_NODE_KEY_SET, n.key.is_some().into())?;
        m.put_u32(b::TPCLUSTER_A_NODE_HEARTBEAT_MS, timers.heartbeat_ms)?;
        m.put_u32(b::TPCLUSTER_A_NODE_DEAD_MS, timers.dead_ms)?;
        m.put_u8(b::TPCLUSTER_A_NODE_FULL_MEMBER, full_member.into())?;
        m.put_u16(b::TPCLUSTER_A_NODE_WEIGHT, n.weight)?;
        m.put_u8(b::TPCLUSTER_A_NODE_DRAIN, n.drain.into())
    })
}

/// `node-set`: change the attributes given, all or nothing.
pub(crate) fn node_set(node: &Node, req: &Request<'_>) -> Result {
    let change = NodeChange {
        id: req.u32(b::TPCLUSTER_A_NODE_ID),
        addr: req.ipv4(b::TPCLUSTER_A_NODE_ADDR),
        port: req.u16(b::TPCLUSTER_A_NODE_PORT),
        key: req.bytes(b::TPCLUSTER_A_NODE_KEY),
        heartbeat_ms: req.u32(b::TPCLUSTER_A_NODE_HEARTBEAT_MS),
        dead_ms: req.u32(b::TPCLUSTER_A_NODE_DEAD_MS),
        weight: req.u16(b::TPCLUSTER_A_NODE_WEIGHT),
        drain: req.u8(b::TPCLUSTER_A_NODE_DRAIN).map(|v| v != 0),
    };
    if change == NodeChange::default() {
        return Err(req.refuse(EINVAL, c"nothing to change", None));
    }
    let mut config = node.config.lock();
    let before = *config.node();
    config.set_node(&change).map_err(|e| refuse(req, e))?;
    if let Err(e) = node.publish(&config) {
        // The channel cannot open with the new settings (typically: the
        // address is not one of this namespace's). Keep the old ones.
        config.restore_node(before);
        let _ = node.publish(&config);
        return Err(req.refuse(
            e,
            c"cannot open the cluster channel: is the address local and the port free?",
            None,
        ));
    }
    Ok(())
}

/// `peer-add`.
pub(crate) fn peer_add(node: &Node, req: &Request<'_>) -> Result {
    let peer = Peer {
        id: required(
            req,
            req.u32(b::TPCLUSTER_A_PEER_ID),
            b::TPCLUSTER_A_PEER_ID,
            c"missing peer id",
        )?,
        addr: required(
            req,
            req.ipv4(b::TPCLUSTER_A_PEER_ADDR),
            b::TPCLUSTER_A_PEER_ADDR,
            c"missing peer address",
        )?,
    };
    let mut config = node.config.lock();
    config.add_peer(peer).map_err(|e| refuse(req, e))?;
    republish(node, &config);
    Ok(())
}

/// `peer-del`.
pub(crate) fn peer_del(node: &Node, req: &Request<'_>) -> Result {
    let id = required(
        req,
        req.u32(b::TPCLUSTER_A_PEER_ID),
        b::TPCLUSTER_A_PEER_ID,
        c"missing peer id",
    )?;
    let mut config = node.config.lock();
    config.del_peer(id).map_err(|e| refuse(req, e))?;
    republish(node, &config);
    Ok(())
}

/// `peer-get` dump.
pub(crate) fn peer_dump(node: &Node, dump: &mut Dump<'_>) -> i32 {
    dump.entries(
        b::TPCLUSTER_CMD_PEER_GET as u8,
        |i| node.config.lock().peers().get(i).copied(),
        |m: &mut Message, p: &Peer| {
            m.put_u32(b::TPCLUSTER_A_PEER_ID, p.id)?;
            m.put_ipv4(b::TPCLUSTER_A_PEER_ADDR, p.addr)
        },
    )
}

/// `vip-add`.
pub(crate) fn vip_add(node: &Node, req: &Request<'_>) -> Result {
    let vip = Vip {
        addr: required(
            req,
            req.ipv4(b::TPCLUSTER_A_VIP_ADDR),
            b::TPCLUSTER_A_VIP_ADDR,
            c"missing VIP address",
        )?,
        mac: required(
            req,
            req.bytes(b::TPCLUSTER_A_VIP_MAC),
            b::TPCLUSTER_A_VIP_MAC,
            c"missing cluster MAC",
        )?,
        ifindex: required(
            req,
            req.u32(b::TPCLUSTER_A_VIP_IFINDEX),
            b::TPCLUSTER_A_VIP_IFINDEX,
            c"missing ifindex",
        )?,
    };
    let mut config = node.config.lock();
    config.add_vip(vip).map_err(|e| refuse(req, e))?;
    // Receive the cluster MAC's frames from now on.
    if let Err(e) = node.net.set_multicast(vip.ifindex, &vip.mac, true) {
        let _ = config.del_vip(vip.addr);
        return Err(if e == ENODEV {
            req.refuse(e, c"no interface with this ifindex", None)
        } else if e.to_errno() == crate::sys::netdev::NOT_ETHERNET {
            req.refuse(
                e,
                c"not an Ethernet interface: a cluster MAC needs 6-byte hardware addresses and ARP",
                None,
            )
        } else {
            req.refuse(e, c"cannot join the cluster MAC on this interface", None)
        });
    }
    republish(node, &config);
    Ok(())
}

/// `vip-del`: the VIP and its services.
pub(crate) fn vip_del(node: &Node, req: &Request<'_>) -> Result {
    let addr = required(
        req,
        req.ipv4(b::TPCLUSTER_A_VIP_ADDR),
        b::TPCLUSTER_A_VIP_ADDR,
        c"missing VIP address",
    )?;
    let mut config = node.config.lock();
    let vip = config
        .vips()
        .as_slice()
        .iter()
        .find(|v| v.addr == addr)
        .copied();
    config.del_vip(addr).map_err(|e| refuse(req, e))?;
    republish(node, &config);
    if let Some(vip) = vip {
        // The interface may be gone already: then so is its filter.
        let _ = node.net.set_multicast(vip.ifindex, &vip.mac, false);
    }
    Ok(())
}

/// `vip-get` dump.
pub(crate) fn vip_dump(node: &Node, dump: &mut Dump<'_>) -> i32 {
    dump.entries(
        b::TPCLUSTER_CMD_VIP_GET as u8,
        |i| node.config.lock().vips().get(i).copied(),
        |m: &mut Message, v: &Vip| {
            m.put_ipv4(b::TPCLUSTER_A_VIP_ADDR, v.addr)?;
            m.put(b::TPCLUSTER_A_VIP_MAC, &v.mac)?;
            m.put_u32(b::TPCLUSTER_A_VIP_IFINDEX, v.ifindex)
        },
    )
}

/// The service named by a request's VIP and port.
fn service_key(req: &Request<'_>) -> Result<(Ipv4, u16)> {
    Ok((
        required(
            req,
            req.ipv4(b::TPCLUSTER_A_SERVICE_VIP),
            b::TPCLUSTER_A_SERVICE_VIP,
            c"missing service VIP",
        )?,
        required(
            req,
            req.u16(b::TPCLUSTER_A_SERVICE_PORT),
            b::TPCLUSTER_A_SERVICE_PORT,
            c"missing service port",
        )?,
    ))
}

/// `service-add`: mode defaults to balance.
pub(crate) fn service_add(node: &Node, req: &Request<'_>) -> Result {
    let (vip, port) = service_key(req)?;
    let mode = match req.u32(b::TPCLUSTER_A_SERVICE_MODE) {
        None => Mode::Balance,
        Some(v) => {
            Mode::from_u32(v).ok_or_else(|| req.refuse(EINVAL, c"unknown service mode", None))?
        }
    };
    let replicas = req.u32(b::TPCLUSTER_A_SERVICE_REPLICAS);
    let affinity = affinity_of(req)?.unwrap_or_default();
    let backend_port = req.u16(b::TPCLUSTER_A_SERVICE_BACKEND_PORT).unwrap_or(0);
    let mut config = node.config.lock();
    config
        .add_service(vip, port, mode, replicas)
        .map_err(|e| refuse(req, e))?;
    // Refused after all (not a splice service, a port taken): the service
    // goes again, so that the request changes nothing.
    if let Err(e) = config.set_service_backend(vip, port, backend_port) {
        let _ = config.del_service(vip, port);
        return Err(refuse(req, e));
    }
    // The service exists now: this cannot fail.
    config
        .set_service_affinity(vip, port, affinity)
        .map_err(|e| refuse(req, e))?;
    // Its counters start at zero before the hook can see it (published
    // below), whatever service had its slot before.
    if let Some(s) = config.service(vip, port) {
        node.service_counters.start(s.slot);
    }
    republish(node, &config);
    Ok(())
}

/// The affinity a request asks for, if any.
fn affinity_of(req: &Request<'_>) -> Result<Option<Affinity>> {
    req.u32(b::TPCLUSTER_A_SERVICE_AFFINITY)
        .map(|v| Affinity::from_u32(v).ok_or_else(|| req.refuse(EINVAL, c"unknown affinity", None)))
        .transpose()
}

/// `service-set`: change the settings given (the affinity, this node's
/// health verdict); all or none.
pub(crate) fn service_set(node: &Node, req: &Request<'_>) -> Result {
    let (vip, port) = service_key(req)?;
    let affinity = affinity_of(req)?;
    let healthy = req.u8(b::TPCLUSTER_A_SERVICE_HEALTHY).map(|v| v != 0);
    if affinity.is_none() && healthy.is_none() {
        return Err(req.refuse(EINVAL, c"nothing to change", None));
    }
    let mut config = node.config.lock();
    let before = config.service(vip, port).copied();
    // Both name the same service: the first fails as the second would, and
    // changes nothing.
    if let Some(affinity) = affinity {
        config
            .set_service_affinity(vip, port, affinity)
            .map_err(|e| refuse(req, e))?;
    }
    if let Some(healthy) = healthy {
        config
            .set_service_health(vip, port, healthy)
            .map_err(|e| refuse(req, e))?;
    }
    // A health checker repeats its verdict after every probe: one that
    // changes nothing costs no publication.
    if config.service(vip, port).copied() != before {
        republish(node, &config);
    }
    Ok(())
}

/// `replica-set-primary`: a planned switchover of one replicated
/// connection to its next replica.
pub(crate) fn replica_set_primary(node: &Node, req: &Request<'_>) -> Result {
    let tuple = match (
        req.ipv4(b::TPCLUSTER_A_REPLICA_CONN_CLIENT_ADDR),
        req.u16(b::TPCLUSTER_A_REPLICA_CONN_CLIENT_PORT),
        req.ipv4(b::TPCLUSTER_A_REPLICA_CONN_VIP),
        req.u16(b::TPCLUSTER_A_REPLICA_CONN_PORT),
    ) {
        (Some(c), Some(cp), Some(v), Some(p)) => Tuple {
            client: c.0,
            client_port: cp,
            vip: v.0,
            port: p,
        },
        _ => return Err(req.refuse(EINVAL, c"give client-addr, client-port, vip and port", None)),
    };
    let to = req
        .u32(b::TPCLUSTER_A_REPLICA_CONN_PRIMARY_TO)
        .ok_or_else(|| {
            req.refuse(
                EINVAL,
                c"missing primary-to",
                Some(b::TPCLUSTER_A_REPLICA_CONN_PRIMARY_TO),
            )
        })?;
    node.replica_set_primary(&tuple, to)
        .map_err(|(err, why)| req.refuse(err, why, None))
}

/// `service-del`.
pub(crate) fn service_del(node: &Node, req: &Request<'_>) -> Result {
    let (vip, port) = service_key(req)?;
    let mut config = node.config.lock();
    config.del_service(vip, port).map_err(|e| refuse(req, e))?;
    // Its listeners get tcp_prot back (if it was a replicate service).
    republish(node, &config);
    Ok(())
}

/// `service-get` dump.
pub(crate) fn service_dump(node: &Node, dump: &mut Dump<'_>) -> i32 {
    dump.entries(
        b::TPCLUSTER_CMD_SERVICE_GET as u8,
        |i| node.config.lock().services().get(i).copied(),
        |m: &mut Message, s: &crate::config::Service| {
            let (ready, candidates) = node.readiness(s);
            m.put_ipv4(b::TPCLUSTER_A_SERVICE_VIP, s.vip)?;
            m.put_u16(b::TPCLUSTER_A_SERVICE_PORT, s.port)?;
            m.put_u32(b::TPCLUSTER_A_SERVICE_MODE, s.mode as u32)?;
            m.put_u32(b::TPCLUSTER_A_SERVICE_REPLICAS, s.replicas)?;
            m.put_u64(
                b::TPCLUSTER_A_SERVICE_CONNECTIONS,
                node.service_counters.connections(s.slot),
            )?;
            m.put_u32(b::TPCLUSTER_A_SERVICE_AFFINITY, s.affinity as u32)?;
            m.put_u8(b::TPCLUSTER_A_SERVICE_READY, ready.into())?;
            m.put_u8(b::TPCLUSTER_A_SERVICE_HEALTHY, (!s.unhealthy).into())?;
            if s.backend_port != 0 {
                m.put_u16(b::TPCLUSTER_A_SERVICE_BACKEND_PORT, s.backend_port)?;
            }
            m.put_u32(b::TPCLUSTER_A_SERVICE_CANDIDATES, candidates)
        },
    )
}

/// `member-state` values (the UAPI enum).
pub(crate) mod member_state {
    use super::b;
    /// This node.
    pub(crate) const SELF: u32 = b::tpcluster_member_state_TPCLUSTER_MEMBER_STATE_SELF;
    /// A live peer.
    pub(crate) const LIVE: u32 = b::tpcluster_member_state_TPCLUSTER_MEMBER_STATE_LIVE;
    /// A dead peer.
    pub(crate) const DEAD: u32 = b::tpcluster_member_state_TPCLUSTER_MEMBER_STATE_DEAD;
}

/// A member as `member-get` and `member-ntf` show it.
#[derive(Clone, Copy)]
pub(crate) struct MemberView {
    pub(crate) id: u32,
    pub(crate) addr: Ipv4,
    pub(crate) state: u32,
    pub(crate) incarnation: u32,
    pub(crate) last_heard_ms: u32,
    /// Its policy, once known (this node's, or a peer's last heartbeat's).
    pub(crate) weight: Option<u16>,
    pub(crate) ready_services: Option<u32>,
}

/// Writes a member's attributes.
pub(crate) fn put_member(m: &mut Message, v: &MemberView) -> Result {
    m.put_u32(b::TPCLUSTER_A_MEMBER_ID, v.id)?;
    m.put_ipv4(b::TPCLUSTER_A_MEMBER_ADDR, v.addr)?;
    m.put_u32(b::TPCLUSTER_A_MEMBER_STATE, v.state)?;
    m.put_u32(b::TPCLUSTER_A_MEMBER_INCARNATION, v.incarnation)?;
    m.put_u32(b::TPCLUSTER_A_MEMBER_LAST_HEARD_MS, v.last_heard_ms)?;
    if let Some(w) = v.weight {
        m.put_u16(b::TPCLUSTER_A_MEMBER_WEIGHT, w)?;
    }
    if let Some(n) = v.ready_services {
        m.put_u32(b::TPCLUSTER_A_MEMBER_READY_SERVICES, n)?;
    }
    Ok(())
}

/// `member-get` dump: this node first (if it has an id), then its peers.
pub(crate) fn member_dump(node: &Node, dump: &mut Dump<'_>) -> i32 {
    dump.entries(
        b::TPCLUSTER_CMD_MEMBER_GET as u8,
        |i| node.member_view(i),
        put_member,
    )
}

/// `stats-get` dump: every counter.
pub(crate) fn stats_dump(node: &Node, dump: &mut Dump<'_>) -> i32 {
    // The counters, then the gauges, as name and value pairs alike.
    let gauges = node.gauges();
    let pair = |i: usize| match Counter::ALL.get(i) {
        Some(&c) => Some((c.name(), node.counters.get(c))),
        None => {
            let g = i - Counter::ALL.len();
            Some((Gauge::ALL.get(g)?.name(), *gauges.get(g)?))
        }
    };
    dump.entries(
        b::TPCLUSTER_CMD_STATS_GET as u8,
        pair,
        |m: &mut Message, &(name, value): &(&str, u64)| {
            m.put_str(b::TPCLUSTER_A_COUNTER_NAME, name)?;
            m.put_u64(b::TPCLUSTER_A_COUNTER_VALUE, value)
        },
    )
}

/// `conn-role` values (the UAPI enum): this node's role on a replicated
/// connection.
mod conn_role {
    use super::b;
    pub(super) const PRIMARY: u32 = b::tpcluster_conn_role_TPCLUSTER_CONN_ROLE_PRIMARY;
    pub(super) const BACKUP: u32 = b::tpcluster_conn_role_TPCLUSTER_CONN_ROLE_BACKUP;
    pub(super) const FENCED: u32 = b::tpcluster_conn_role_TPCLUSTER_CONN_ROLE_FENCED;
}

/// `replica-role` values (the UAPI enum): a replica's role in the set.
mod replica_role {
    use super::b;
    pub(super) const PRIMARY: u32 = b::tpcluster_replica_role_TPCLUSTER_REPLICA_ROLE_PRIMARY;
    pub(super) const BACKUP: u32 = b::tpcluster_replica_role_TPCLUSTER_REPLICA_ROLE_BACKUP;
    pub(super) const EXCLUDED: u32 = b::tpcluster_replica_role_TPCLUSTER_REPLICA_ROLE_EXCLUDED;
    pub(super) const JOINING: u32 = b::tpcluster_replica_role_TPCLUSTER_REPLICA_ROLE_JOINING;
}

/// `log-state` values (the UAPI enum): the client log a node keeps.
mod log_state {
    use super::b;
    pub(super) const NONE: u32 = b::tpcluster_log_state_TPCLUSTER_LOG_STATE_NONE;
    pub(super) const KEPT: u32 = b::tpcluster_log_state_TPCLUSTER_LOG_STATE_KEPT;
    pub(super) const PAST_BOUND: u32 = b::tpcluster_log_state_TPCLUSTER_LOG_STATE_PAST_BOUND;
    pub(super) const LOST: u32 = b::tpcluster_log_state_TPCLUSTER_LOG_STATE_LOST;
}

/// One replica of a connection as `replica-get` shows it.
#[derive(Clone, Copy, Default)]
struct ReplicaView {
    id: u32,
    role: u32,
    received: u32,
    sent: u32,
}

/// A replicated connection as `replica-get` shows it: copied out of the
/// table under its lock, written into messages after.
#[derive(Clone, Copy)]
struct ReplicaConnView {
    tuple: Tuple,
    role: u32,
    replicas: [ReplicaView; MAX_SET],
    len: usize,
    /// The client log's state and size.
    log: (u32, u32),
}

impl ReplicaConnView {
    /// The view of connection `tuple`, replicated as `rep`. Copies only:
    /// runs under the table's lock.
    fn of(tuple: &Tuple, rep: &Replication, log: Option<&ClientLog<LogVec>>) -> Self {
        let primary = rep.primary();
        let mut replicas = [ReplicaView::default(); MAX_SET];
        let mut len = 0;
        for (slot, r) in replicas.iter_mut().zip(rep.replicas()) {
            let role = if r.excluded {
                replica_role::EXCLUDED
            } else if primary == Some(r.id) {
                replica_role::PRIMARY
            } else if r.joining {
                replica_role::JOINING
            } else {
                replica_role::BACKUP
            };
            *slot = ReplicaView {
                id: r.id,
                role,
                received: r.received,
                sent: r.sent,
            };
            len += 1;
        }
        let log = match log.map(|l| (l.lost(), l.len())) {
            None => (log_state::NONE, 0),
            Some((None, n)) => (log_state::KEPT, u32::try_from(n).unwrap_or(u32::MAX)),
            Some((Some(Lost::Bound), _)) => (log_state::PAST_BOUND, 0),
            Some((Some(Lost::Gap), _)) => (log_state::LOST, 0),
        };
        Self {
            tuple: *tuple,
            role: conn_role_of(rep.role()),
            replicas,
            len,
            log,
        }
    }
}

/// This node's role on a replicated connection, as `replica-get` and
/// `replica-ntf` say it.
fn conn_role_of(role: Role) -> u32 {
    match role {
        Role::Primary => conn_role::PRIMARY,
        Role::Backup => conn_role::BACKUP,
        Role::Fenced => conn_role::FENCED,
    }
}

/// Multicasts a `replica-ntf` to the monitor group: replica `other` of
/// connection `tuple` wrote other bytes than this node, whose role on it
/// is now `role`. Process context.
pub(crate) fn notify_diverged(node: &Node, tuple: &Tuple, role: Role, other: u32) {
    let _ = genetlink::notify_monitor(node.net.as_ptr(), b::TPCLUSTER_CMD_REPLICA_NTF as u8, |m| {
        put_replica_tuple(m, tuple)?;
        m.put_u32(b::TPCLUSTER_A_REPLICA_CONN_ROLE, conn_role_of(role))?;
        m.put_u32(b::TPCLUSTER_A_REPLICA_CONN_DIVERGED, other)
    });
}

/// Writes a replicated connection's tuple, as `replica-get` and
/// `replica-ntf` carry it.
fn put_replica_tuple(m: &mut Message, t: &Tuple) -> Result {
    m.put_ipv4(b::TPCLUSTER_A_REPLICA_CONN_CLIENT_ADDR, Ipv4(t.client))?;
    m.put_u16(b::TPCLUSTER_A_REPLICA_CONN_CLIENT_PORT, t.client_port)?;
    m.put_ipv4(b::TPCLUSTER_A_REPLICA_CONN_VIP, Ipv4(t.vip))?;
    m.put_u16(b::TPCLUSTER_A_REPLICA_CONN_PORT, t.port)
}

/// Writes a replicated connection's attributes: the tuple, this node's
/// role, then one nest per replica in rendezvous order.
fn put_replica_conn(m: &mut Message, v: &ReplicaConnView) -> Result {
    put_replica_tuple(m, &v.tuple)?;
    m.put_u32(b::TPCLUSTER_A_REPLICA_CONN_ROLE, v.role)?;
    for r in v.replicas.iter().take(v.len) {
        m.nest(b::TPCLUSTER_A_REPLICA_CONN_REPLICA, |m| {
            m.put_u32(b::TPCLUSTER_A_REPLICA_ID, r.id)?;
            m.put_u32(b::TPCLUSTER_A_REPLICA_ROLE, r.role)?;
            m.put_u32(b::TPCLUSTER_A_REPLICA_RECEIVED, r.received)?;
            m.put_u32(b::TPCLUSTER_A_REPLICA_SENT, r.sent)
        })?;
    }
    m.put_u32(b::TPCLUSTER_A_REPLICA_CONN_LOG, v.log.0)?;
    m.put_u32(b::TPCLUSTER_A_REPLICA_CONN_LOG_BYTES, v.log.1)
}

/// `replica-get` dump: the node's replicated connections, each with its
/// replica set and each replica's confirmed progress.
///
/// The table is under a spinlock that softirq takes too, so each call
/// allocates room for the whole table first, copies the rows under the
/// lock (no allocation there), and writes messages after it is released,
/// resuming at the dump's cursor. A connection set up or forgotten between
/// two calls of one dump may be missed or shown twice, as in the other
/// dumps.
pub(crate) fn replica_dump(node: &Node, dump: &mut Dump<'_>) -> i32 {
    // Room for those counted now and a few more set up meanwhile.
    let room = node.replica_count() + 64;
    let Ok(mut rows) = KVVec::<ReplicaConnView>::with_capacity(room, GFP_KERNEL) else {
        return ENOMEM.to_errno();
    };
    node.replica_each(|tuple, rep, log| {
        if rows.len() < rows.capacity() {
            // Within capacity: never allocates.
            let _ = rows.push(ReplicaConnView::of(tuple, rep, log), GFP_ATOMIC);
        }
    });
    dump.entries(
        b::TPCLUSTER_CMD_REPLICA_GET as u8,
        |i| rows.get(i).copied(),
        put_replica_conn,
    )
}

// The family's operations: the C entry points `rust/netlink_gen.c` names,
// each with its handler above.
crate::sys::netlink::doit_entry! {
    Node;
    tpcluster_nl_node_get_doit => node_get;
    tpcluster_nl_node_set_doit => node_set;
    tpcluster_nl_peer_add_doit => peer_add;
    tpcluster_nl_peer_del_doit => peer_del;
    tpcluster_nl_vip_add_doit => vip_add;
    tpcluster_nl_vip_del_doit => vip_del;
    tpcluster_nl_service_add_doit => service_add;
    tpcluster_nl_service_del_doit => service_del;
    tpcluster_nl_service_set_doit => service_set;
    tpcluster_nl_handover_doit => crate::handover::handover;
    tpcluster_nl_replica_set_primary_doit => replica_set_primary;
}

crate::sys::netlink::dumpit_entry! {
    Node;
    tpcluster_nl_peer_get_dumpit => peer_dump;
    tpcluster_nl_vip_get_dumpit => vip_dump;
    tpcluster_nl_service_get_dumpit => service_dump;
    tpcluster_nl_member_get_dumpit => member_dump;
    tpcluster_nl_stats_get_dumpit => stats_dump;
    tpcluster_nl_replica_get_dumpit => replica_dump;
}

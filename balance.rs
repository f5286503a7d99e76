// SPDX-License-Identifier: GPL-2.0

//! Broadcast acceptance: which packets for a virtual IP this node keeps.
//!
//! Every node receives every frame for a VIP (its cluster MAC is multicast).
//! A new connection (a SYN) is kept by one node only: every node computes
//! the same owner from the same inputs — the 5-tuple and the live members —
//! by rendezvous hashing. Every later segment is kept by the node that holds
//! the connection's socket, and dropped by all others, so an established
//! connection stays where it is when members die or return, and no node
//! answers a segment of a connection it does not have (no RST). Packets for
//! other addresses are not ours to judge.
//!
//! Kernel-independent. The module publishes a [`Plane`] under RCU that the
//! hook reads in softirq context without a lock, and builds a new one from
//! the configuration whenever that changes.

use crate::config::{Affinity, Config, Ipv4, Mode, Service, MAX_SERVICES, MAX_VIPS};
use crate::packet::Ipv4Packet;
use crate::policy::{self, Candidacy, Members};
use crate::rendezvous::{self, FiveTuple, Key};
use crate::replica::{self, MAX_SET};
use crate::wire::Tuple;
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// What the hook does with a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Not for a VIP: let it through untouched.
    NotVip,
    /// A SYN for a VIP, and this node owns the new connection: deliver it
    /// as addressed to us.
    NewConnection,
    /// A later TCP segment of a connection whose socket this node holds:
    /// deliver it.
    Held,
    /// Not TCP, for a VIP, and this node owns its flow: deliver it.
    Owned,
    /// For a VIP, owned by another node: drop it here.
    NotOwner,
    /// A SYN or other packet for a VIP that this node would own, but it is
    /// no full member (minority, or not yet counted in by its peers): drop
    /// it, another node or a retransmission will take it.
    NotMember,
    /// A later TCP segment of a connection this node does not hold: drop.
    NotHeld,
    /// A SYN for a VIP that no member takes: every one drains (weight 0).
    NoCandidate,
    /// A fragment for a VIP: the owner cannot be known, drop it (TCP sets
    /// Don't Fragment).
    Fragment,
    /// For a VIP, but this node has no id yet: drop it.
    Unconfigured,
}

/// What the data path needs of the configuration, copied out of it so the
/// hook never waits for a netlink request.
///
/// Read-only once published, but for [`Plane::stop_new_connections`]: the
/// channel's receive path (softirq) stops the published plane taking new
/// connections the moment views differ, without building another.
pub(crate) struct Plane {
    self_id: u32,
    full_member: bool,
    /// Set by [`Plane::stop_new_connections`], until the next plane.
    stopped: AtomicBool,
    key: Key,
    /// This node first, then its live peers, with their weights and
    /// readiness (`policy.rs`).
    members: Members,
    /// A digest of the members' policies, to tell when to publish again.
    policy_view: u64,
    vips: [(Ipv4, [u8; 6], u32); MAX_VIPS],
    n_vips: usize,
    /// Address, port, mode and replication factor.
    services: [Service; MAX_SERVICES],
    n_services: usize,
}

/// The VIPs of the published plane, in a few words of their own: the hook
/// sends everything else (most of a node's traffic) on without reading the
/// plane. 0.0.0.0, never a VIP, marks a free slot.
///
/// Updated as each plane is published, before it: a packet that races a
/// change sees the VIPs before it or after it, as it would the plane.
pub(crate) struct VipSet {
    addrs: [AtomicU32; MAX_VIPS],
}

impl VipSet {
    /// No VIP.
    pub(crate) const fn new() -> Self {
        Self {
            addrs: [const { AtomicU32::new(0) }; MAX_VIPS],
        }
    }

    /// Takes the VIPs of `plane`.
    pub(crate) fn publish(&self, plane: &Plane) {
        let vips = &plane.vips[..plane.n_vips];
        for (i, slot) in self.addrs.iter().enumerate() {
            let addr = vips.get(i).map_or(0, |(a, _, _)| u32::from_ne_bytes(a.0));
            slot.store(addr, Ordering::Relaxed);
        }
    }

    /// Whether `addr` may be a VIP (the plane decides): any context.
    pub(crate) fn contains(&self, addr: [u8; 4]) -> bool {
        let addr = u32::from_ne_bytes(addr);
        addr != 0 && self.addrs.iter().any(|a| a.load(Ordering::Relaxed) == addr)
    }
}

/// The rendezvous key of a cluster key: a keyed hash of each half, so the
/// connection hash and the channel MAC never use the same key bytes as such.
pub(crate) fn derive_key(cluster_key: Option<&[u8; 32]>) -> Key {
    let Some(k) = cluster_key else {
        return Key::new(&[0; 16]);
    };
    let (lo, hi) = k.split_at(16);
    let lo: [u8; 16] = lo.try_into().unwrap_or([0; 16]);
    let outer = Key::new(&lo);
    let mut msg = [0u8; 17];
    msg[1..].copy_from_slice(hi);
    let h0 = rendezvous::siphash24(&outer, &msg);
    msg[0] = 1;
    let h1 = rendezvous::siphash24(&outer, &msg);
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&h0.to_le_bytes());
    out[8..].copy_from_slice(&h1.to_le_bytes());
    Key::new(&out)
}

impl Plane {
    /// A plane that accepts nothing for no VIP.
    pub(crate) const fn empty() -> Self {
        Self {
            self_id: 0,
            full_member: false,
            stopped: AtomicBool::new(false),
            key: Key::ZERO,
            members: Members::new(),
            policy_view: 0,
            vips: [(Ipv4([0; 4]), [0; 6], 0); MAX_VIPS],
            n_vips: 0,
            services: [Service {
                vip: Ipv4([0; 4]),
                port: 0,
                mode: Mode::Balance,
                replicas: 1,
                slot: 0,
                affinity: Affinity::None,
                unhealthy: false,
                backend_port: 0,
            }; MAX_SERVICES],
            n_services: 0,
        }
    }

    /// The plane of `config` with the live peers `live` (ids of configured
    /// peers), every node of the default weight and ready for every
    /// service: see [`Plane::rebuild`].
    #[cfg(test)]
    pub(crate) fn of(
        config: &Config,
        live: impl IntoIterator<Item = u32>,
        full_member: bool,
    ) -> Self {
        let node = config.node().id;
        let peers = config.peers().as_slice();
        let live = live
            .into_iter()
            .filter(|id| peers.iter().any(|p| p.id == *id));
        let mut members = Members::new();
        members.set_unweighted(core::iter::once(node).filter(|&id| id != 0).chain(live));
        let mut p = Self::empty();
        p.rebuild(config, &members, full_member, 0);
        p
    }

    /// Makes this the plane of `config` over `members` (this node first,
    /// then its live peers, with their policies), whose policies digest to
    /// `policy_view`; in place, for the plane is too large to build on a
    /// kernel stack. This node takes new connections only if it is a
    /// `full_member` (`membership.rs`) and the members' ready services fit
    /// the table ([`Members::overflow`]).
    pub(crate) fn rebuild(
        &mut self,
        config: &Config,
        members: &Members,
        full_member: bool,
        policy_view: u64,
    ) {
        let node = config.node();
        self.self_id = node.id;
        self.full_member = full_member && !members.overflow();
        self.stopped.store(false, Ordering::Relaxed);
        self.key = derive_key(node.key.as_ref());
        self.policy_view = policy_view;
        self.members = *members;
        self.n_vips = 0;
        for (slot, v) in self.vips.iter_mut().zip(config.vips().as_slice()) {
            *slot = (v.addr, v.mac, v.ifindex);
            self.n_vips += 1;
        }
        self.n_services = 0;
        for (slot, v) in self.services.iter_mut().zip(config.services().as_slice()) {
            *slot = *v;
            self.n_services += 1;
        }
    }

    /// The digest of the members' policies it was built with.
    pub(crate) fn policy_view(&self) -> u64 {
        self.policy_view
    }

    /// The members, this node first.
    pub(crate) fn members(&self) -> &[Candidacy] {
        self.members.as_slice()
    }

    /// The members that take new connections to `vip:port` now
    /// ([`Members::candidates`]).
    pub(crate) fn candidates(
        &self,
        vip: [u8; 4],
        port: u16,
    ) -> impl Iterator<Item = rendezvous::Candidate> + Clone + '_ {
        self.members.candidates(&policy::service_id(vip, port))
    }

    /// The 5-tuple a new connection to `vip:port` is hashed by: the whole
    /// tuple, or, for a service with source affinity, the client's and the
    /// VIP's addresses only, so that every connection of one client lands
    /// on one node.
    pub(crate) fn hashed_tuple(&self, tuple: FiveTuple) -> FiveTuple {
        let vip = tuple.daddr.to_be_bytes();
        match self.service(vip, tuple.dport).map(|s| s.affinity) {
            Some(Affinity::Source) => FiveTuple {
                sport: 0,
                dport: 0,
                ..tuple
            },
            _ => tuple,
        }
    }

    /// Service `vip:port`, if it is one.
    pub(crate) fn service(&self, vip: [u8; 4], port: u16) -> Option<&Service> {
        self.services[..self.n_services]
            .iter()
            .find(|s| s.vip.0 == vip && s.port == port)
    }

    /// The mode of service `vip:port`, if it is one.
    pub(crate) fn service_mode(&self, vip: [u8; 4], port: u16) -> Option<Mode> {
        self.service(vip, port).map(|s| s.mode)
    }

    /// The backend port of splice service `vip:port`, if it has one: the
    /// port its handed-over connections are served on.
    pub(crate) fn backend_port(&self, vip: [u8; 4], port: u16) -> Option<u16> {
        self.service(vip, port)
            .map(|s| s.backend_port)
            .filter(|&p| p != 0)
    }

    /// The replication factor of replicate service `vip:port`.
    pub(crate) fn replication_factor(&self, vip: [u8; 4], port: u16) -> Option<u32> {
        self.service(vip, port)
            .filter(|s| s.mode == Mode::Replicate)
            .map(|s| s.replicas)
    }

    /// The replicate services, as the listeners given the socket gate
    /// need them.
    pub(crate) fn listener_services(&self) -> ListenerServices {
        let mut l = ListenerServices {
            list: [([0; 4], 0); MAX_SERVICES],
            n: 0,
        };
        for s in self.services[..self.n_services]
            .iter()
            .filter(|s| s.mode == Mode::Replicate)
        {
            l.list[l.n] = (s.vip.0, s.port);
            l.n += 1;
        }
        l
    }

    /// Whether any service is a replicate one.
    pub(crate) fn replicates(&self) -> bool {
        self.services[..self.n_services]
            .iter()
            .any(|s| s.mode == Mode::Replicate)
    }

    /// The replica set of a connection to replicate service `tuple.vip:
    /// tuple.port` over the current members, primary first.
    pub(crate) fn replica_set(&self, tuple: &Tuple, out: &mut [u32; MAX_SET]) -> usize {
        let Some(r) = self.replication_factor(tuple.vip, tuple.port) else {
            return 0;
        };
        let hashed = self.hashed_tuple(replica::five_tuple(tuple));
        replica::replica_set(
            &self.key,
            &hashed,
            self.candidates(tuple.vip, tuple.port),
            r,
            out,
        )
    }

    /// The rendezvous key (the replicas' cluster sequence space derives
    /// from it too).
    pub(crate) fn key(&self) -> &Key {
        &self.key
    }

    /// The interface VIP `addr` is served on.
    pub(crate) fn vip_ifindex(&self, addr: [u8; 4]) -> Option<u32> {
        self.vips[..self.n_vips]
            .iter()
            .find(|(a, _, _)| a.0 == addr)
            .map(|(_, _, i)| *i)
    }

    /// This node's id (0 until configured).
    pub(crate) fn self_id(&self) -> u32 {
        self.self_id
    }

    /// Whether this node takes new connections.
    pub(crate) fn takes_new_connections(&self) -> bool {
        self.full_member && !self.stopped.load(Ordering::Relaxed)
    }

    /// Stops taking new connections until the next plane is published. Any
    /// context. Sequentially consistent: the caller's word that views
    /// differ (stored before) and the next plane's publication (loaded
    /// after) are ordered with it (`Node::install_plane`).
    pub(crate) fn stop_new_connections(&self) {
        self.stopped.store(true, Ordering::SeqCst);
    }

    /// The cluster MAC of `addr` if it is a VIP served on `ifindex`.
    pub(crate) fn vip_mac(&self, addr: [u8; 4], ifindex: u32) -> Option<[u8; 6]> {
        self.vips[..self.n_vips]
            .iter()
            .find(|(a, _, i)| a.0 == addr && *i == ifindex)
            .map(|(_, mac, _)| *mac)
    }

    /// Whether `addr` is a VIP.
    pub(crate) fn is_vip(&self, addr: [u8; 4]) -> bool {
        self.vips[..self.n_vips].iter().any(|(a, _, _)| a.0 == addr)
    }

    /// The owner of a new connection by its 5-tuple: among the service's
    /// candidates, by weight, and by the client's address alone for a
    /// service with source affinity.
    pub(crate) fn owner(&self, tuple: &FiveTuple) -> Option<u32> {
        let vip = tuple.daddr.to_be_bytes();
        rendezvous::owner_weighted(
            &self.key,
            &self.hashed_tuple(*tuple),
            self.candidates(vip, tuple.dport),
        )
    }

    /// The owner of a flow that is no TCP connection (a ping, UDP) by its
    /// 5-tuple, among all members: one node answers it.
    fn flow_owner(&self, tuple: &FiveTuple) -> Option<u32> {
        let ids = self.members().iter().map(|m| rendezvous::Candidate {
            id: m.id,
            weight: 1,
        });
        rendezvous::owner_weighted(&self.key, tuple, ids)
    }

    /// Decides for one received IPv4 packet. `held_here` tells whether
    /// this node's stack takes what comes for a connection: it holds the
    /// connection's socket, or (a TCP segment) the segment completes a
    /// handshake the stack answered with a SYN cookie. It is asked for TCP
    /// segments other than a SYN, and for ICMP errors about a connection
    /// of a VIP, which go to the connection's holder whatever their outer
    /// addresses (path MTU discovery among them).
    ///
    /// A SYN goes to the owner of its 5-tuple (every port: a port that is
    /// no service is refused by one node, not all); other traffic for a VIP
    /// (ICMP, UDP) to the owner of its addresses and protocol, so that one
    /// node answers a ping.
    pub(crate) fn decide(
        &self,
        pkt: &Ipv4Packet,
        held_here: impl FnOnce(&Tuple) -> bool,
    ) -> Decision {
        if !self.is_vip(pkt.daddr) {
            return Decision::NotVip;
        }
        if pkt.fragment {
            return Decision::Fragment;
        }
        if self.self_id == 0 {
            return Decision::Unconfigured;
        }
        let held = |t: Tuple| {
            if held_here(&t) {
                Decision::Held
            } else {
                Decision::NotHeld
            }
        };
        let (sport, dport, new) = match (pkt.tcp, pkt.icmp_about) {
            (Some(t), _) if t.syn && !t.ack => (t.sport, t.dport, true),
            (Some(t), _) => {
                return held(Tuple {
                    client: pkt.saddr,
                    client_port: t.sport,
                    vip: pkt.daddr,
                    port: t.dport,
                });
            }
            // An error about a segment the VIP sent.
            (None, Some(q)) if q.saddr == pkt.daddr => {
                return held(Tuple {
                    client: q.daddr,
                    client_port: q.dport,
                    vip: q.saddr,
                    port: q.sport,
                });
            }
            (None, _) => (0, 0, false),
        };
        let tuple = FiveTuple {
            saddr: u32::from_be_bytes(pkt.saddr),
            daddr: u32::from_be_bytes(pkt.daddr),
            sport,
            dport,
            proto: pkt.proto,
        };
        let replicas = new
            .then(|| self.replication_factor(pkt.daddr, dport))
            .flatten();
        let ours = match replicas {
            // A replicate service: every replica of the set takes the SYN.
            Some(_) => {
                let mut set = [0; MAX_SET];
                let t = Tuple {
                    client: pkt.saddr,
                    client_port: sport,
                    vip: pkt.daddr,
                    port: dport,
                };
                let n = self.replica_set(&t, &mut set);
                set[..n].contains(&self.self_id)
            }
            None if new => match self.owner(&tuple) {
                Some(owner) => owner == self.self_id,
                None => return Decision::NoCandidate,
            },
            None => self.flow_owner(&tuple) == Some(self.self_id),
        };
        if !ours {
            Decision::NotOwner
        } else if !self.takes_new_connections() {
            Decision::NotMember
        } else if new {
            Decision::NewConnection
        } else {
            Decision::Owned
        }
    }
}

/// The replicate services of a plane, copied out of it so that the gated
/// listeners can be checked against them without holding the plane.
pub(crate) struct ListenerServices {
    list: [([u8; 4], u16); MAX_SERVICES],
    n: usize,
}

impl ListenerServices {
    /// Whether a listener bound to `addr` (`[0; 4]`: the wildcard) and
    /// `port` is one the stack may pick for a connection of a replicate
    /// service, and so must keep the socket gate.
    pub(crate) fn gates(&self, addr: [u8; 4], port: u16) -> bool {
        self.list[..self.n]
            .iter()
            .any(|&(vip, p)| p == port && (addr == vip || addr == [0; 4]))
    }
}

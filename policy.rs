// SPDX-License-Identifier: GPL-2.0

//! Traffic policy: which members take a service's new connections.
//!
//! Kernel-independent: built into the module and into the host test crate.
//!
//! Each node announces, in its heartbeats, its *weight* (its share of new
//! connections; 0 while it drains) and the services it is *ready* for (an
//! application listens for them on its own stack). A service's new
//! connections are hashed over its candidates: the members of weight above
//! 0 that are ready for it, by weighted rendezvous hashing
//! (`rendezvous.rs`). If no member is ready, the members of weight above 0
//! stand in, so that a connection nothing serves is refused by one stack
//! (an RST, at once) rather than dropped by all; if every member drains,
//! no node takes it.
//!
//! Every node must hash over the same candidates, or two nodes may answer
//! one SYN. Each heartbeat therefore also carries the sender's *policy
//! view*: a digest of the policy of every node it sees live, itself
//! included ([`view_digest`]). A node takes new connections only while
//! every live peer reports the same view as its own (`membership.rs`), as it
//! does for the live set: a change of weight or readiness stops new
//! connections for about one heartbeat round trip, in which a SYN is
//! dropped and retransmitted, never answered twice.

use crate::config::Service;
use crate::rendezvous::{self, Key};
use crate::wire::MAX_READY;

/// A node's weight unless set (`tpctl node set weight`).
pub(crate) const DEFAULT_WEIGHT: u16 = 1;

/// A service as the policy names it across nodes: VIP and port, in
/// network byte order (the nodes' own service tables may differ in order).
pub(crate) type ServiceId = [u8; 6];

/// The service id of `vip:port`.
pub(crate) fn service_id(vip: [u8; 4], port: u16) -> ServiceId {
    let [p0, p1] = port.to_be_bytes();
    let [a, b, c, d] = vip;
    [a, b, c, d, p0, p1]
}

/// What one node announces: its weight and the services it is ready for.
///
/// # Invariants
///
/// `ready[..n_ready]` are the ready services; `n_ready <= MAX_READY`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct NodePolicy {
    weight: u16,
    ready: [ServiceId; MAX_READY],
    n_ready: usize,
    /// Whether `ready` is what the node reported; `false`: it reported
    /// nothing (a node of an earlier version), and is ready for everything.
    reported: bool,
}

impl Default for NodePolicy {
    fn default() -> Self {
        Self::UNREPORTED
    }
}

impl NodePolicy {
    /// A node that said nothing of its policy: default weight, ready for
    /// every service.
    pub(crate) const UNREPORTED: Self = Self {
        weight: DEFAULT_WEIGHT,
        ready: [[0; 6]; MAX_READY],
        n_ready: 0,
        reported: false,
    };

    /// A policy of `weight` and the `ready` services (the first
    /// [`MAX_READY`] of them).
    pub(crate) fn new(weight: u16, ready: impl IntoIterator<Item = ServiceId>) -> Self {
        let mut p = Self {
            weight,
            reported: true,
            ..Self::UNREPORTED
        };
        for (slot, id) in p.ready.iter_mut().zip(ready) {
            *slot = id;
            p.n_ready += 1;
        }
        p
    }

    /// No policy yet (all-zero bytes): weight 0, until the node's first
    /// heartbeat interval sets its own.
    pub(crate) const UNSET: Self = Self {
        weight: 0,
        ready: [[0; 6]; MAX_READY],
        n_ready: 0,
        reported: false,
    };

    /// The policy a heartbeat carries: `None` (not reported) is
    /// [`NodePolicy::UNREPORTED`].
    pub(crate) fn of_heartbeat(weight: u16, ready: Option<&[ServiceId]>) -> Self {
        match ready {
            Some(ready) => Self::new(weight, ready.iter().copied()),
            None => Self::UNREPORTED,
        }
    }

    /// Its weight.
    pub(crate) fn weight(&self) -> u16 {
        self.weight
    }

    /// The services it is ready for (empty if it did not report them).
    pub(crate) fn ready(&self) -> &[ServiceId] {
        &self.ready[..self.n_ready]
    }

    /// Whether it is ready for service `id`.
    pub(crate) fn is_ready(&self, id: &ServiceId) -> bool {
        !self.reported || self.ready().contains(id)
    }

    /// A digest of node `node_id`'s policy, the same on every node: a sum
    /// of one hash per fact, so that the order of its ready services does
    /// not matter.
    pub(crate) fn digest(&self, node_id: u32) -> u64 {
        let fact = |kind: u8, value: &[u8]| {
            let mut msg = [0u8; 11];
            msg[0] = kind;
            msg[1..5].copy_from_slice(&node_id.to_be_bytes());
            msg[5..5 + value.len()].copy_from_slice(value);
            rendezvous::siphash24(&Key::ZERO, &msg)
        };
        let head = if self.reported {
            fact(1, &self.weight.to_be_bytes())
        } else {
            fact(0, &[])
        };
        self.ready()
            .iter()
            .fold(head, |sum, id| sum.wrapping_add(fact(2, id)))
    }
}

/// The policy view of a set of nodes, from each one's
/// [`NodePolicy::digest`]: the same for the same nodes and policies,
/// whatever their order.
pub(crate) fn view_digest(digests: impl IntoIterator<Item = u64>) -> u64 {
    digests.into_iter().fold(0, u64::wrapping_add)
}

/// A member as the data path hashes over it: its id, its weight and the
/// services it is ready for, as bits over [`Members::ready_ids`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Candidacy {
    /// Node id.
    pub(crate) id: u32,
    /// Its weight.
    pub(crate) weight: u16,
    /// Bit `i`: ready for the `i`-th service id of the members' table.
    pub(crate) ready: u64,
}

/// Most distinct services the members' ready reports may name together:
/// one bit each in [`Candidacy::ready`].
pub(crate) const MAX_READY_IDS: usize = 64;

/// The members as the data path hashes over them: this node first, then its
/// live peers, each with its weight and readiness, and the table of the
/// services any of them reported ready for.
///
/// Built from what every node agrees on (the members' reported policies),
/// never from this node's own service table: a node that lacks a service
/// others have, or has one they lack, still hashes that service's
/// connections as they do. A port no member reported ready for is hashed
/// over every member of weight above 0.
///
/// # Invariants
///
/// `members[..len]` are the members, `ready_ids[..n_ready_ids]` the
/// distinct services they reported ready for, in the order of first
/// report. `overflow`: they reported more than [`MAX_READY_IDS`] distinct
/// services, and the table is incomplete.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Members {
    members: [Candidacy; MAX_MEMBERS],
    len: usize,
    ready_ids: [ServiceId; MAX_READY_IDS],
    n_ready_ids: usize,
    overflow: bool,
}

/// Most members: this node and its peers.
const MAX_MEMBERS: usize = crate::config::MAX_PEERS + 1;

impl Members {
    /// No member.
    pub(crate) const fn new() -> Self {
        Self {
            members: [Candidacy {
                id: 0,
                weight: 0,
                ready: 0,
            }; MAX_MEMBERS],
            len: 0,
            ready_ids: [[0; 6]; MAX_READY_IDS],
            n_ready_ids: 0,
            overflow: false,
        }
    }

    /// Sets the members to `members` (id and policy; the first
    /// [`MAX_MEMBERS`]), in place.
    pub(crate) fn set<'a>(&mut self, members: impl Iterator<Item = (u32, &'a NodePolicy)> + Clone) {
        self.n_ready_ids = 0;
        self.overflow = false;
        for (_, policy) in members.clone() {
            for id in policy.ready() {
                if self.ready_ids[..self.n_ready_ids].contains(id) {
                    continue;
                }
                match self.ready_ids.get_mut(self.n_ready_ids) {
                    Some(slot) => {
                        *slot = *id;
                        self.n_ready_ids += 1;
                    }
                    None => self.overflow = true,
                }
            }
        }
        self.len = 0;
        for ((id, policy), slot) in members.zip(self.members.iter_mut()) {
            let ready = if policy.reported {
                self.ready_ids[..self.n_ready_ids]
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| policy.ready().contains(s))
                    .fold(0u64, |mask, (i, _)| mask | (1 << i))
            } else {
                u64::MAX
            };
            *slot = Candidacy {
                id,
                weight: policy.weight,
                ready,
            };
            self.len += 1;
        }
    }

    /// Sets the members to `ids`, each of the default weight and ready for
    /// every service (a cluster that reports no policy).
    #[cfg(test)]
    pub(crate) fn set_unweighted(&mut self, ids: impl Iterator<Item = u32>) {
        self.n_ready_ids = 0;
        self.overflow = false;
        self.len = 0;
        for (id, slot) in ids.zip(self.members.iter_mut()) {
            *slot = Candidacy {
                id,
                weight: DEFAULT_WEIGHT,
                ready: u64::MAX,
            };
            self.len += 1;
        }
    }

    /// The members.
    pub(crate) fn as_slice(&self) -> &[Candidacy] {
        &self.members[..self.len]
    }

    /// Whether the members reported more services than the table holds:
    /// nodes could then hash differently, and this one takes no new
    /// connection.
    pub(crate) fn overflow(&self) -> bool {
        self.overflow
    }

    /// The candidates for a new connection to service `id`: the members of
    /// weight above 0 that reported it ready; if none did, every member of
    /// weight above 0.
    pub(crate) fn candidates(
        &self,
        id: &ServiceId,
    ) -> impl Iterator<Item = rendezvous::Candidate> + Clone + '_ {
        let index = self.ready_ids[..self.n_ready_ids]
            .iter()
            .position(|s| s == id);
        candidates(self.as_slice(), index)
    }
}

impl Default for Members {
    fn default() -> Self {
        Self::new()
    }
}

/// The candidates among `members` for the service of bit `service` in their
/// [`Candidacy::ready`] (`None`: one no member reported ready for): those of
/// weight above 0 that are ready for it; if none is, those of weight above 0.
pub(crate) fn candidates(
    members: &[Candidacy],
    service: Option<usize>,
) -> impl Iterator<Item = rendezvous::Candidate> + Clone + '_ {
    let weighted = |m: &&Candidacy| m.weight > 0;
    let is_ready = move |m: &&Candidacy| !matches!(service, Some(i) if m.ready & (1 << i) == 0);
    let any_ready = members.iter().filter(weighted).any(|m| is_ready(&m));
    members
        .iter()
        .filter(weighted)
        .filter(move |m| !any_ready || is_ready(m))
        .map(|m| rendezvous::Candidate {
            id: m.id,
            weight: m.weight,
        })
}

/// A digest of the services of `services` with source affinity: part of a
/// node's policy view, so that nodes that hash a service's connections
/// differently (one by the whole tuple, one by the client's address) do
/// not both take new connections.
pub(crate) fn affinity_digest(services: &[Service]) -> u64 {
    services
        .iter()
        .filter(|s| s.affinity == crate::config::Affinity::Source)
        .map(|s| {
            let mut msg = [0u8; 7];
            msg[0] = 3;
            msg[1..].copy_from_slice(&service_id(s.vip.0, s.port));
            rendezvous::siphash24(&Key::ZERO, &msg)
        })
        .fold(0, u64::wrapping_add)
}

// SPDX-License-Identifier: GPL-2.0

//! Membership: which peers are live, from the heartbeats they send.
//!
//! Kernel-independent: built into the module and into the host test crate.
//!
//! Every node sends a heartbeat to every peer each heartbeat interval. A
//! peer is live while its last authenticated, fresh heartbeat is less than
//! the dead-node timeout old, and dead otherwise (a peer never heard from is
//! dead). Receiving only records the time ([`Membership::heard`], softirq);
//! liveness is decided in one place, [`Membership::update`], which the
//! node's periodic work calls every interval, so that a change is reported
//! exactly once and in process context. A dead peer is therefore noticed at
//! most one timeout plus one interval after it fell silent.
//!
//! Taking new connections: a node owns new connections only while it is a
//! full member ([`Membership::full_member`]): it sees a majority of the
//! configured nodes live (itself included; with exactly half, the half that
//! holds the lowest node id), and every peer it sees live reported, in its
//! last heartbeat, exactly the same live set (agreement). The majority keeps
//! an isolated node from taking connections the others also take; agreement
//! makes every node that takes new connections hash over the same members,
//! so that two nodes never both answer one SYN: while views differ (a death
//! or a return being noticed, a heartbeat late one way), nodes whose views
//! differ take no new connection, and a SYN is dropped and retransmitted
//! rather than answered twice. A node that is not a full member still serves
//! the connections it holds.
//!
//! Replay: each peer has a [`ReplayWindow`] over the counters of its
//! datagrams. A sender's counters start at its clock's reading in
//! nanoseconds when its channel opens and go up by one per datagram, so the
//! counters of a restarted node are above all those of its earlier
//! incarnation (it sent fewer datagrams than nanoseconds passed), and the
//! window never needs a reset.

use crate::config::{Ipv4, Peer, MAX_PEERS};
use crate::policy::{self, NodePolicy};
use crate::replay::{Rejection, ReplayWindow};

const _: () = assert!(MAX_PEERS < 64);

/// Why an authenticated heartbeat was not taken, one variant per counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// The sender's id is no configured peer.
    UnknownSender,
    /// The datagram came from another address than the peer's.
    WrongAddress,
    /// The counter was seen before or is too old.
    Replay(Rejection),
    /// Bound to another epoch of this node's channel than the current one
    /// (recorded before it opened, or sent before its sender heard of
    /// it), and no heartbeat.
    StaleEpoch,
}

/// The recipient of a datagram: a peer, its address and its channel epoch
/// as last heard (0: none heard yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Recipient {
    /// Its node id.
    pub(crate) id: u32,
    /// Its channel address.
    pub(crate) addr: Ipv4,
    /// Its channel epoch.
    pub(crate) epoch: u32,
}

/// A peer as membership sees it; a slot with id 0 is free.
#[derive(Clone, Debug)]
pub(crate) struct Member {
    /// Node id; 0 marks a free slot (node ids start at 1).
    pub(crate) id: u32,
    /// Channel address.
    pub(crate) addr: Ipv4,
    /// Incarnation from its last heartbeat, 0 before the first.
    pub(crate) incarnation: u32,
    /// Its channel's epoch from its last heartbeat, 0 before the first:
    /// what this node binds its datagrams to it to.
    pub(crate) epoch: u32,
    /// A heartbeat of it was taken, at `last_heard_ms`.
    pub(crate) heard: bool,
    /// When its last heartbeat was taken, in ms of the caller's clock.
    pub(crate) last_heard_ms: u64,
    /// Live as of the last [`Membership::update`].
    pub(crate) live: bool,
    /// Its last heartbeat named this node live.
    pub(crate) lists_us: bool,
    /// The other peers its last heartbeat named live, by our slot index.
    reported: u64,
    /// Its last heartbeat named live a node that is no peer of ours.
    reported_stranger: bool,
    /// Its weight and ready services, from its last heartbeat.
    pub(crate) policy: NodePolicy,
    /// The digest of `policy`.
    policy_digest: u64,
    /// The policy view its last heartbeat reported, if any.
    reported_view: Option<u64>,
    window: ReplayWindow,
}

impl Member {
    const FREE: Member = Member {
        id: 0,
        addr: Ipv4([0; 4]),
        incarnation: 0,
        epoch: 0,
        heard: false,
        last_heard_ms: 0,
        live: false,
        lists_us: false,
        reported: 0,
        reported_stranger: false,
        policy: NodePolicy::UNSET,
        policy_digest: 0,
        reported_view: None,
        window: ReplayWindow::new(),
    };

    fn new(peer: &Peer) -> Self {
        Self {
            id: peer.id,
            addr: peer.addr,
            ..Self::FREE
        }
    }

    fn is_free(&self) -> bool {
        self.id == 0
    }
}

/// The peers of one node and their liveness. Slot indexes fit in a `u64`
/// bit mask ([`MAX_PEERS`] < 64).
///
/// # Invariants
///
/// All-zero bytes are a valid, empty table (what [`Membership::new`]
/// returns): every slot is free. At several kilobytes it is too large for a
/// kernel stack, so the module allocates it zeroed in place.
pub(crate) struct Membership {
    members: [Member; MAX_PEERS],
    /// This node's own policy, as its heartbeats announce it.
    own: NodePolicy,
    /// The digest of `own` under this node's id.
    own_digest: u64,
    /// The digest of this node's services with source affinity
    /// (`policy::affinity_digest`).
    own_affinity: u64,
}

impl Default for Membership {
    fn default() -> Self {
        Self::new()
    }
}

impl Membership {
    /// No peers.
    pub(crate) const fn new() -> Self {
        Self {
            members: [Member::FREE; MAX_PEERS],
            own: NodePolicy::UNSET,
            own_digest: 0,
            own_affinity: 0,
        }
    }

    /// The peers.
    pub(crate) fn members(&self) -> impl Iterator<Item = &Member> {
        self.members.iter().filter(|m| !m.is_free())
    }

    fn members_mut(&mut self) -> impl Iterator<Item = &mut Member> {
        self.members.iter_mut().filter(|m| !m.is_free())
    }

    /// The live peers' ids.
    #[cfg(test)]
    pub(crate) fn live_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.members().filter(|m| m.live).map(|m| m.id)
    }

    /// Takes the configured peer list (at most [`MAX_PEERS`]). A peer that
    /// stays (same id and address) keeps its state; a new or re-addressed
    /// one starts dead.
    pub(crate) fn set_peers(&mut self, peers: &[Peer]) {
        // In place: a copy of the table would not fit on a kernel stack.
        for slot in self.members_mut() {
            if !peers.iter().any(|p| p.id == slot.id && p.addr == slot.addr) {
                *slot = Member::FREE;
            }
        }
        for peer in peers {
            if self.members().any(|m| m.id == peer.id) {
                continue;
            }
            if let Some(free) = self.members.iter_mut().find(|m| m.is_free()) {
                *free = Member::new(peer);
            }
        }
    }

    /// Takes this node's own policy (its id is `self_id`) and the digest
    /// of its services with source affinity; returns whether either
    /// changed.
    pub(crate) fn set_own_policy(
        &mut self,
        self_id: u32,
        policy: &NodePolicy,
        affinity: u64,
    ) -> bool {
        let digest = policy.digest(self_id);
        let changed =
            self.own != *policy || self.own_digest != digest || self.own_affinity != affinity;
        self.own = *policy;
        self.own_digest = digest;
        self.own_affinity = affinity;
        changed
    }

    /// This node's own policy.
    pub(crate) fn own_policy(&self) -> &NodePolicy {
        &self.own
    }

    /// This node's policy view: the digest of its own policy and those of
    /// the peers it sees live (`policy::view_digest`), and of its services
    /// with source affinity (which every node configures alike, or their
    /// views differ).
    pub(crate) fn policy_view(&self) -> u64 {
        let peers = self.members().filter(|m| m.live).map(|m| m.policy_digest);
        let nodes = core::iter::once(self.own_digest).chain(peers);
        policy::view_digest(nodes.chain(core::iter::once(self.own_affinity)))
    }

    /// This node (id `self_id`) and its live peers, each with its policy:
    /// what the data path hashes over (`policy::Members`).
    pub(crate) fn live_policies(
        &self,
        self_id: u32,
    ) -> impl Iterator<Item = (u32, &NodePolicy)> + Clone + '_ {
        let peers = self
            .members
            .iter()
            .filter(|m| !m.is_free() && m.live)
            .map(|m| (m.id, &m.policy));
        core::iter::once((self_id, &self.own)).chain(peers)
    }

    /// Records a heartbeat whose MAC has verified: from node `sender` at
    /// address `from`, with datagram counter `counter`, the sender's
    /// channel `epoch`, live view `view`, `policy` and `policy_view`, at
    /// `now_ms`; `self_id` is this node's id. Returns whether the sender
    /// agrees with this node's current view.
    ///
    /// A heartbeat that is not `bound` to this node's current channel
    /// epoch (its sender has not heard of it yet, or it was recorded
    /// before this channel opened) only teaches the sender's epoch, so
    /// that this node's datagrams to it are bound to it; it says nothing
    /// of the sender's liveness, which only a heartbeat bound to this
    /// node's epoch does (one the sender made after hearing this node).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn heard(
        &mut self,
        sender: u32,
        from: Ipv4,
        counter: u64,
        incarnation: u32,
        epoch: u32,
        bound: bool,
        view: &[u32],
        policy: &NodePolicy,
        policy_view: Option<u64>,
        self_id: u32,
        now_ms: u64,
    ) -> Result<bool, Refusal> {
        let slot = self
            .members
            .iter()
            .position(|m| !m.is_free() && m.id == sender)
            .ok_or(Refusal::UnknownSender)?;
        let (mut reported, mut stranger, mut lists_us) = (0u64, false, false);
        for &id in view {
            if id == self_id {
                lists_us = true;
            } else if id != sender {
                match self.slot_of(id) {
                    Some(i) => reported |= 1 << i,
                    None => stranger = true,
                }
            }
        }
        let member = &mut self.members[slot];
        if member.addr != from {
            return Err(Refusal::WrongAddress);
        }
        member.window.accept(counter).map_err(Refusal::Replay)?;
        member.epoch = epoch;
        if !bound {
            return Ok(true);
        }
        member.incarnation = incarnation;
        member.lists_us = lists_us;
        member.reported = reported;
        member.reported_stranger = stranger;
        member.policy = *policy;
        member.policy_digest = policy.digest(sender);
        member.reported_view = policy_view;
        member.heard = true;
        member.last_heard_ms = now_ms;
        Ok(self.agrees(slot))
    }

    /// Admits a datagram other than a heartbeat whose MAC has verified:
    /// from node `sender` at `from` with counter `counter`, `bound` to this
    /// node's current channel epoch or not. It must come from a configured
    /// peer at its address, be bound and fresh; it says nothing about
    /// liveness.
    pub(crate) fn admit(
        &mut self,
        sender: u32,
        from: Ipv4,
        counter: u64,
        bound: bool,
    ) -> Result<(), Refusal> {
        let slot = self.slot_of(sender).ok_or(Refusal::UnknownSender)?;
        let member = &mut self.members[slot];
        if member.addr != from {
            return Err(Refusal::WrongAddress);
        }
        if !bound {
            return Err(Refusal::StaleEpoch);
        }
        member.window.accept(counter).map_err(Refusal::Replay)
    }

    /// Whether peer `id` is live; `None` if it is no peer.
    pub(crate) fn is_live(&self, id: u32) -> Option<bool> {
        self.members().find(|m| m.id == id).map(|m| m.live)
    }

    /// Where a datagram to peer `id` goes, and the epoch it is bound to.
    pub(crate) fn recipient(&self, id: u32) -> Option<Recipient> {
        self.members().find(|m| m.id == id).map(|m| Recipient {
            id: m.id,
            addr: m.addr,
            epoch: m.epoch,
        })
    }

    /// The slot of peer `id`.
    fn slot_of(&self, id: u32) -> Option<usize> {
        self.members.iter().position(|m| !m.is_free() && m.id == id)
    }

    /// Our live peers, by slot index.
    fn live_mask(&self) -> u64 {
        self.members
            .iter()
            .enumerate()
            .filter(|(_, m)| !m.is_free() && m.live)
            .fold(0, |mask, (i, _)| mask | (1 << i))
    }

    /// Whether the peer in `slot` reported our view: us, and exactly our
    /// other live peers (itself aside, which it always names), and the
    /// same policy view as ours if it reported one.
    fn agrees(&self, slot: usize) -> bool {
        let m = &self.members[slot];
        let ours = self.live_mask() & !(1 << slot);
        let same_policy = !matches!(m.reported_view, Some(v) if v != self.policy_view());
        m.lists_us && !m.reported_stranger && m.reported == ours && same_policy
    }

    /// Decides every peer's liveness at `now_ms` with timeout `dead_ms` and
    /// calls `changed` for each peer whose liveness changed. Returns whether
    /// any did.
    pub(crate) fn update(
        &mut self,
        now_ms: u64,
        dead_ms: u32,
        mut changed: impl FnMut(&Member),
    ) -> bool {
        let mut any = false;
        for m in self.members_mut() {
            let live = m.heard && now_ms.saturating_sub(m.last_heard_ms) < u64::from(dead_ms);
            if live != m.live {
                m.live = live;
                any = true;
                changed(m);
            }
        }
        any
    }

    /// Whether node `self_id` and the peers `counted` make a majority of
    /// the configured nodes (with exactly half: the half that holds the
    /// lowest node id).
    fn is_majority(&self, self_id: u32, counted: impl Fn(&Member) -> bool) -> bool {
        let total = self.members().count() + 1;
        let up = self.members().filter(|m| counted(m)).count() + 1;
        let lowest = self.members().map(|m| m.id).fold(self_id, u32::min);
        let holds_lowest =
            lowest == self_id || self.members().any(|m| counted(m) && m.id == lowest);
        2 * up > total || (2 * up == total && holds_lowest)
    }

    /// Whether node `self_id` sees a majority live (itself included), as of
    /// the last [`Membership::update`]: the side of a partition that may
    /// declare the others dead and take their replicated connections.
    pub(crate) fn has_quorum(&self, self_id: u32) -> bool {
        self.is_majority(self_id, |m| m.live)
    }

    /// Until when node `self_id` keeps a *fresh* majority if it hears no
    /// more heartbeats: the latest time, in ms of the caller's clock, at
    /// which the peers heard within the last `within_ms` *and whose last
    /// heartbeat named it live* still make a majority with it; 0 if they do
    /// not even now; `u64::MAX` if it is a majority alone. A replicated
    /// connection's primary sends only before that time, and `within_ms` is
    /// shorter than the dead-node timeout: so a primary cut off from the
    /// majority falls silent before the majority declares it dead and a
    /// backup takes over. Counting only the peers that still name it covers
    /// the one-way cut too: a primary that hears the others while they no
    /// longer hear it loses its majority with the heartbeat that completes
    /// the majority counting it dead, the same heartbeat the backup waits
    /// for to take over ([`Membership::dead_by_majority`]).
    pub(crate) fn quorum_until(&self, self_id: u32, within_ms: u32) -> u64 {
        if self.is_majority(self_id, |_| false) {
            return u64::MAX;
        }
        let counts = |m: &Member| m.heard && m.lists_us;
        // The latest deadline `d` such that the peers heard after
        // `d - within_ms` still make a majority: try each peer's deadline,
        // latest first.
        let mut best = 0;
        for m in self.members().filter(|m| counts(m)) {
            let deadline = m.last_heard_ms.saturating_add(u64::from(within_ms));
            if deadline > best
                && self.is_majority(self_id, |p| {
                    counts(p) && p.last_heard_ms.saturating_add(u64::from(within_ms)) >= deadline
                })
            {
                best = deadline;
            }
        }
        best
    }

    /// Whether peer `id` is dead by a majority, as of the last
    /// [`Membership::update`]: this node `self_id` sees it dead, and so do
    /// enough of its live peers (their last heartbeats leave it out) to make
    /// a majority with it. A replicated connection's backup takes over from
    /// a dead primary only then: one lossy path from the primary to one
    /// backup must not make a second sender.
    pub(crate) fn dead_by_majority(&self, self_id: u32, id: u32) -> bool {
        let Some(slot) = self.slot_of(id) else {
            return false;
        };
        if self.members[slot].live {
            return false;
        }
        self.is_majority(self_id, |p| {
            p.live && p.id != id && p.reported & (1 << slot) == 0
        })
    }

    /// Whether node `self_id` may take new connections, as of the last
    /// [`Membership::update`]: see the module documentation.
    pub(crate) fn full_member(&self, self_id: u32) -> bool {
        let quorum = self.is_majority(self_id, |m| m.live);
        let agreed = (0..MAX_PEERS)
            .filter(|&i| !self.members[i].is_free() && self.members[i].live)
            .all(|i| self.agrees(i));
        quorum && agreed
    }
}

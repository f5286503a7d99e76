// SPDX-License-Identifier: GPL-2.0

//! Replicate mode: who serves a replicated connection and how far each of
//! its replicas has come. See `Documentation/replicate.rst`.
//!
//! A connection to a replicate service with replication factor R is served
//! by its *replica set*: the first R live nodes in rendezvous order of its
//! 5-tuple (the first is the balance owner). Every replica's own stack
//! takes the client's segments; only the *primary*, the first replica not
//! excluded, sends to the client. Each stack chooses its own initial
//! sequence number and timestamp clock, so every replica translates
//! between its own server space and a *cluster* space that all replicas
//! derive from the tuple, the client's initial sequence number and the
//! cluster key alone ([`cluster_isn`], [`cluster_tsval`]): no message is
//! needed to agree on it, a backup that takes over already speaks the
//! client's numbers, and a new connection on the same ports (the client
//! picks a new ISN for it) gets new server numbers (RFC 6528).
//!
//! Replicas tell each other, over the channel, how far they have come
//! ([`crate::wire::Progress`]): the client byte they have received up to
//! and the server byte (in cluster space) they have sent up to. From those:
//!
//! * an application reads only bytes every replica still in the set has
//!   received ([`Replication::readable_end`]);
//! * the primary's application writes only bytes every backup has already
//!   sent ([`Replication::sendable_end`]), so a backup that takes over holds
//!   every byte the client may have seen;
//! * the primary never acknowledges to the client a byte a backup lacks
//!   ([`Replication::advertise`]), nor offers a window beyond a backup's,
//!   so the client still holds every byte a
//!   backup that takes over may need.
//!
//! A replica declared dead by a majority leaves the set of that connection
//! for good ([`Replication::exclude`]): a node that comes back has lost the
//! connection's state. A draining primary leaves it on its own word
//! ([`Replication::step_down`]), and the next replica takes over at once.
//! A primary that goes without a fresh majority is in
//! doubt and silent until every backup left vouches for it
//! ([`Replication::doubt`]); a node a replica counts out is fenced: it never
//! sends on the connection again ([`Replication::fence`]).
//!
//! Kernel-independent: built into the module and into the host test crate.

use crate::rendezvous::{self, Candidate, FiveTuple, Key};
use crate::splice::Translation;
use crate::wire::Tuple;

/// Most replicas of one connection.
pub(crate) const MAX_SET: usize = crate::config::MAX_REPLICAS as usize;

/// Whether sequence number `a` is after `b` (RFC 1982 serial arithmetic,
/// as the stack's `after()`).
pub(crate) fn after(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) > 0
}

/// The earlier of two sequence numbers.
pub(crate) fn seq_min(a: u32, b: u32) -> u32 {
    if after(a, b) {
        b
    } else {
        a
    }
}

/// The later of two sequence numbers.
pub(crate) fn seq_max(a: u32, b: u32) -> u32 {
    if after(a, b) {
        a
    } else {
        b
    }
}

/// The 5-tuple of TCP connection `t`.
pub(crate) fn five_tuple(t: &Tuple) -> FiveTuple {
    FiveTuple {
        saddr: u32::from_be_bytes(t.client),
        daddr: u32::from_be_bytes(t.vip),
        sport: t.client_port,
        dport: t.port,
        proto: 6,
    }
}

/// The replica set of a connection hashed as `hashed` among `candidates`
/// (this node and its live peers that take the service's connections): the
/// first `replicas` (at most [`MAX_SET`]) in weighted rendezvous order,
/// primary first. Returns how many were written to `out`.
pub(crate) fn replica_set(
    key: &Key,
    hashed: &FiveTuple,
    candidates: impl Iterator<Item = Candidate> + Clone,
    replicas: u32,
    out: &mut [u32; MAX_SET],
) -> usize {
    let n = usize::try_from(replicas).unwrap_or(MAX_SET).min(MAX_SET);
    rendezvous::rank_weighted(key, hashed, candidates, &mut out[..n])
}

/// A keyed hash of the connection `tuple` that the client opened with
/// initial sequence number `client_isn`, for `purpose` (each use its own:
/// 1 and 2 here, 3 `syn_cache.rs`): the same on every node of the
/// cluster, unpredictable without the key.
pub(crate) fn tuple_hash(key: &Key, tuple: &Tuple, client_isn: u32, purpose: u8) -> u32 {
    let mut msg = [0u8; 17];
    msg[0] = purpose;
    msg[1..5].copy_from_slice(&tuple.client);
    msg[5..7].copy_from_slice(&tuple.client_port.to_be_bytes());
    msg[7..11].copy_from_slice(&tuple.vip);
    msg[11..13].copy_from_slice(&tuple.port.to_be_bytes());
    msg[13..17].copy_from_slice(&client_isn.to_be_bytes());
    rendezvous::siphash24(key, &msg) as u32
}

/// The initial sequence number the client sees for connection `tuple`
/// that it opened with `client_isn`, whichever replica is primary. The
/// client's ISN is in it so that a new connection on the same ports gets
/// a new one (RFC 6528), as every replica's stack does for itself.
pub(crate) fn cluster_isn(key: &Key, tuple: &Tuple, client_isn: u32) -> u32 {
    tuple_hash(key, tuple, client_isn, 1)
}

/// The TSval the client sees on the SYN-ACK of that connection; later
/// TSvals follow each replica's own clock from there.
pub(crate) fn cluster_tsval(key: &Key, tuple: &Tuple, client_isn: u32) -> u32 {
    tuple_hash(key, tuple, client_isn, 2)
}

/// What a replica's answer to the client's SYN says of its stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OwnSynAck {
    /// Its initial sequence number.
    pub(crate) isn: u32,
    /// The client's initial sequence number plus one (its ack).
    pub(crate) client_next: u32,
    /// Its TSval, if it sends timestamps.
    pub(crate) tsval: Option<u32>,
    /// Its window scale, if it offers one.
    pub(crate) wscale: Option<u8>,
}

/// The translation from this replica's server space to the cluster's. The
/// window scale is the replica's own on both sides: replicas with the same
/// TCP buffer settings choose the same one (`Documentation/replicate.rst`).
pub(crate) fn translation_of(key: &Key, tuple: &Tuple, own: &OwnSynAck) -> Translation {
    let wscale = own.wscale.unwrap_or(0).min(crate::splice::MAX_WSCALE);
    let client_isn = own.client_next.wrapping_sub(1);
    Translation {
        seq_delta: cluster_isn(key, tuple, client_isn).wrapping_sub(own.isn),
        ts_delta: own.tsval.map_or(0, |ts| {
            cluster_tsval(key, tuple, client_isn).wrapping_sub(ts)
        }),
        client_view_wscale: wscale,
        local_wscale: wscale,
        ports: crate::splice::Ports::default(),
    }
}

/// A time in ms (`clock::now_ms`) wrapped to 32 bits, as jiffies are, to
/// keep a replica small: differences are right while under 24 days, and a
/// replica is heard from every few hundred ms or dropped after seconds of
/// silence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Wrapped(u32);

impl Wrapped {
    /// `now_ms`, wrapped.
    pub(crate) fn of(now_ms: u64) -> Self {
        Self(now_ms as u32)
    }

    /// How long before `now_ms` this was; 0 if not before (a time taken
    /// a little earlier than one stored meanwhile).
    pub(crate) fn before(self, now_ms: u64) -> u64 {
        let d = Self::of(now_ms).0.wrapping_sub(self.0);
        if d > i32::MAX as u32 {
            0
        } else {
            u64::from(d)
        }
    }

    /// The later of this and `now_ms`.
    pub(crate) fn latest(self, now_ms: u64) -> Self {
        if self.before(now_ms) > 0 {
            Self::of(now_ms)
        } else {
            self
        }
    }
}

/// One replica of a connection as this node knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Replica {
    /// Its node id.
    pub(crate) id: u32,
    /// The client sequence number it has received up to.
    pub(crate) received: u32,
    /// The server sequence number (cluster space) it has sent up to.
    pub(crate) sent: u32,
    /// The client sequence number its stack takes data up to: the right
    /// edge of the receive window it offered. Data beyond it the stack
    /// drops, so the primary never offers the client more.
    pub(crate) window_end: u32,
    /// Declared dead: out of the set for good.
    pub(crate) excluded: bool,
    /// It reported, since this node's doubt began, that it still counts
    /// this node.
    pub(crate) vouched: bool,
    /// When its last report was taken (or the connection was set up), ms,
    /// wrapped to 32 bits ([`Wrapped`]).
    pub(crate) heard_ms: Wrapped,
    /// It has reported at least once: its node holds the connection.
    pub(crate) reported: bool,
    /// Brought in after the connection began ([`Replication::admit`]) and
    /// not yet reported as far as the primary had come then (the floors
    /// its progress starts at) nor as far as the primary's client log
    /// holds the stream: it chases the connection on what the primary
    /// feeds it from that log, so nobody waits for it. The primary's
    /// acknowledgment goes no further than the log holds
    /// ([`Replication::acknowledgeable_end`]), which the replica is given;
    /// the window, the reads' gate and the primary's writes leave it out.
    pub(crate) joining: bool,
}

impl Replica {
    /// How far it has come, as its reports say it.
    pub(crate) fn ends(&self) -> Ends {
        Ends {
            received: self.received,
            sent: self.sent,
            window_end: self.window_end,
        }
    }
}

/// A replicated connection's set and progress on one node.
///
/// # Invariants
///
/// `set[..len]` are distinct node ids in rendezvous order, `len >= 1`, and
/// `set[me]` is this node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Replication {
    set: [Replica; MAX_SET],
    len: u8,
    me: u8,
    fenced: bool,
    /// This node, as primary, went without a fresh majority and has not
    /// yet heard from every other replica that it still counts it: it may
    /// have been counted out meanwhile, so it stays silent.
    doubt: bool,
    /// The set's generation: the primary moves it each time it brings a
    /// replica in ([`Replication::admit`]), so that a view of the set
    /// (`take_view`) is taken only from a report about the same set.
    gen: u8,
    /// The replicas (bit i: the i-th) this node, primary, took out of the
    /// set because their output differed from its own: never brought in
    /// again ([`Replication::admit`]), for they would differ again.
    diverged: u8,
    /// How far this node's client log holds the client's stream
    /// (`replicate/client_log.rs`, kept by the socket gate): on the
    /// primary, what a replica being brought in can be fed.
    log_end: u32,
}

/// A node's role on one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Sends to the client.
    Primary,
    /// Processes the client's segments silently, ready to take over.
    Backup,
    /// Counted out of the set by a replica: silent for good.
    Fenced,
}

impl Replication {
    /// The connection whose set is `ids` (rendezvous order), seen from
    /// node `self_id`, which must be one of them; every replica starts at
    /// the first byte each way (`client_next`, and the cluster ISN plus one
    /// as `server_next`) with the window this node's SYN-ACK offered
    /// (`window`, unscaled): replicas are configured alike.
    pub(crate) fn new(
        ids: &[u32],
        self_id: u32,
        client_next: u32,
        server_next: u32,
        window: u16,
        now_ms: u64,
    ) -> Option<Self> {
        let me = ids.iter().position(|&id| id == self_id)?;
        if ids.len() > MAX_SET {
            return None;
        }
        let blank = Replica {
            id: 0,
            received: client_next,
            sent: server_next,
            window_end: client_next.wrapping_add(u32::from(window)),
            excluded: false,
            vouched: false,
            heard_ms: Wrapped::of(now_ms),
            reported: false,
            joining: false,
        };
        let mut set = [blank; MAX_SET];
        for (slot, &id) in set.iter_mut().zip(ids) {
            if ids.iter().filter(|&&other| other == id).count() != 1 {
                return None;
            }
            slot.id = id;
        }
        Some(Self {
            set,
            // Both below MAX_SET, checked above.
            len: ids.len() as u8,
            me: me as u8,
            fenced: false,
            doubt: false,
            gen: 0,
            diverged: 0,
            log_end: client_next,
        })
    }

    /// The replicas, in rendezvous order, this node included.
    pub(crate) fn replicas(&self) -> &[Replica] {
        &self.set[..usize::from(self.len)]
    }

    /// This node's replica.
    pub(crate) fn me(&self) -> &Replica {
        &self.set[usize::from(self.me)]
    }

    /// The primary: the first replica not excluded.
    pub(crate) fn primary(&self) -> Option<u32> {
        self.replicas().iter().find(|r| !r.excluded).map(|r| r.id)
    }

    /// This node's role.
    pub(crate) fn role(&self) -> Role {
        if self.fenced {
            Role::Fenced
        } else if self.primary() == Some(self.me().id) {
            Role::Primary
        } else {
            Role::Backup
        }
    }

    /// The other replicas still in the set.
    fn others(&self) -> impl Iterator<Item = &Replica> {
        let me = usize::from(self.me);
        self.set[..usize::from(self.len)]
            .iter()
            .enumerate()
            .filter(move |&(i, r)| i != me && !r.excluded)
            .map(|(_, r)| r)
    }

    /// The ids of every other replica, excluded ones too: where progress
    /// reports go, so that a replica counted out while it was cut off
    /// learns it when it is back (and falls silent for good).
    pub(crate) fn report_to(&self) -> impl Iterator<Item = u32> + '_ {
        let me = usize::from(self.me);
        self.set[..usize::from(self.len)]
            .iter()
            .enumerate()
            .filter(move |&(i, _)| i != me)
            .map(|(_, r)| r.id)
    }

    /// The ids of the other replicas still in the set: those whose word
    /// on the connection keeps it alive here.
    pub(crate) fn others_in_set(&self) -> impl Iterator<Item = u32> + '_ {
        self.others().map(|r| r.id)
    }

    /// What replica `id`, another one still in the set, last reported, if
    /// it has (a summary of its then vouches for that word: `summary.rs`).
    pub(crate) fn heard_from(&self, id: u32) -> Option<Ends> {
        let me = usize::from(self.me);
        self.set[..usize::from(self.len)]
            .iter()
            .enumerate()
            .find(|&(i, r)| i != me && r.id == id && r.reported && !r.excluded)
            .map(|(_, r)| r.ends())
    }

    /// Whether this node may leave the connection to the summaries
    /// (`summary.rs`) rather than report it now and then: every other
    /// replica still in the set is on a node that sends summaries
    /// (`speaks`) and has sent as far as this one (a replica behind or
    /// ahead still has an output checkpoint to give or take, and only
    /// reports carry those); every replica out of the set, on a live node,
    /// speaks too (it learns it is out from a report, which a summary
    /// makes it ask for); and this node is no primary in doubt (its
    /// reports ask its backups to vouch).
    pub(crate) fn summarisable(
        &self,
        speaks: impl Fn(u32) -> bool,
        live: impl Fn(u32) -> bool,
    ) -> bool {
        let me = usize::from(self.me);
        let sent = self.me().sent;
        !self.doubt
            && self.set[..usize::from(self.len)]
                .iter()
                .enumerate()
                .filter(|&(i, _)| i != me)
                .all(|(_, r)| {
                    if r.excluded {
                        !live(r.id) || speaks(r.id)
                    } else {
                        speaks(r.id) && r.sent == sent
                    }
                })
    }

    /// Takes replica `id` out of the set for good (its node was declared
    /// dead by a majority, or it stepped down as primary). Returns whether
    /// this made this node primary.
    pub(crate) fn exclude(&mut self, id: u32) -> bool {
        let was = self.role();
        let me = self.me().id;
        if id == me {
            return false;
        }
        for r in self.set[..usize::from(self.len)]
            .iter_mut()
            .filter(|r| r.id == id)
        {
            r.excluded = true;
        }
        // A node that stepped down waits for a replica left to take the
        // connection; with none left, nobody will.
        if self.stepped_down() && self.others().next().is_none() {
            self.fence();
        }
        was == Role::Backup && self.role() == Role::Primary
    }

    /// On a node that just became the connection's primary: the replicas
    /// still joining leave the set, for nobody feeds them the client's
    /// stream any more (the primary before led their catch-up); and if
    /// this node is one (every replica before it went before it caught
    /// up), its stack lacks part of the stream and cannot carry the
    /// connection on: it is fenced. Returns how many replicas left.
    pub(crate) fn settle_joining(&mut self) -> usize {
        if self.role() != Role::Primary {
            return 0;
        }
        if self.me().joining {
            self.fence();
            return 0;
        }
        let mut n = 0;
        for r in self.set[..usize::from(self.len)].iter_mut() {
            if r.joining && !r.excluded {
                r.excluded = true;
                n += 1;
            }
        }
        n
    }

    /// This node, primary, hands the sender role to the next replica left
    /// in the set: a planned switchover (its node drains), not a failover.
    /// It leaves the set as if a majority had declared it dead, so its own
    /// next report takes it out of every other replica's view and makes
    /// the next one primary at once; until then it is silent, as a backup.
    /// The new primary holds every byte the client may have seen (the
    /// gates, as for a failover), and its report, which no longer counts
    /// this node, fences it here: the socket is then released. Refused
    /// (false) if this node is not the primary, is in doubt (another may
    /// have taken over already), or if the next replica (the heir) has not
    /// reported within `heard_within_ms` of `now_ms`, or never: it may not
    /// hold the connection (its SYN dropped, its entry forgotten), and
    /// once this node has stepped down nobody could count it out for its
    /// silence. Then this node stays primary, and drops the silent heir
    /// in time ([`Replication::exclude_silent`]).
    pub(crate) fn step_down(&mut self, now_ms: u64, heard_within_ms: u64) -> bool {
        if self.role() != Role::Primary || self.doubt {
            return false;
        }
        let Some(heir) = self.others().next() else {
            return false;
        };
        // A replica still joining lacks part of the stream: it cannot take
        // over until it caught up.
        if heir.joining || !heir.reported || heir.heard_ms.before(now_ms) > heard_within_ms {
            return false;
        }
        self.set[usize::from(self.me)].excluded = true;
        true
    }

    /// The replica that takes over if this node, primary, steps down: the
    /// next one still in the set.
    pub(crate) fn heir(&self) -> Option<u32> {
        if self.role() != Role::Primary {
            return None;
        }
        self.others().next().map(|r| r.id)
    }

    /// Whether this node stepped down and still waits for the next
    /// primary's word (see [`Replication::step_down`]).
    pub(crate) fn stepped_down(&self) -> bool {
        !self.fenced && self.me().excluded
    }

    /// Silences this node on the connection for good.
    pub(crate) fn fence(&mut self) {
        self.fenced = true;
    }

    /// This node, primary, went without a fresh majority: the others may
    /// have declared it dead and one of them taken over. Until every other
    /// replica still in the set has said since that it still counts this
    /// node ([`Replication::take_view`]), it must not send.
    pub(crate) fn doubt(&mut self) {
        if self.fenced || self.doubt {
            return;
        }
        self.doubt = true;
        for r in self.set[..usize::from(self.len)].iter_mut() {
            r.vouched = false;
        }
    }

    /// Whether this node is in doubt (see [`Replication::doubt`]).
    pub(crate) fn in_doubt(&self) -> bool {
        self.doubt
    }

    /// Ends the doubt if every other replica still in the set has vouched
    /// for this node since it began (at once if none is left: whoever was
    /// excluded was declared dead by a majority, dropped by this node for
    /// its silence, or stepped down and fell silent itself). A replica
    /// still joining is not waited for: it never takes over, so its word
    /// cannot matter, and it may not hold the connection yet to give it
    /// (waiting for it, a primary in doubt stayed silent for good, for
    /// silence counts nobody out in doubt). Returns whether it ended.
    pub(crate) fn settle_doubt(&mut self) -> bool {
        if !self.doubt || self.others().any(|r| !r.vouched && !r.joining) {
            return false;
        }
        self.doubt = false;
        true
    }

    /// The index in the set of replica `id` if this node checks that
    /// replica's output against its own (`replicate/output_digest.rs`):
    /// the primary checks every backup still in the set, a backup the
    /// primary (what the client got), nobody the others.
    pub(crate) fn output_checked(&self, id: u32) -> Option<usize> {
        let at = self.replicas().iter().position(|r| r.id == id)?;
        // Nothing more once either is out (this node too: it stepped down
        // or found itself different), nor from a primary in doubt: another
        // may have taken over meanwhile, and it drops nobody then (see
        // `Replication::doubt`).
        if at == usize::from(self.me) || self.set[at].excluded || self.me().excluded || self.doubt {
            return None;
        }
        match self.role() {
            Role::Primary => Some(at),
            Role::Backup => (self.primary() == Some(id)).then_some(at),
            Role::Fenced => None,
        }
    }

    /// The replica at `index`, checked as [`Replication::output_checked`]
    /// allows, wrote other bytes than this node. The primary's are what
    /// the client got: a primary takes that backup out of the set, and a
    /// backup takes itself out, as a primary stepping down does — its next
    /// report says so, every other replica follows, and the primary's
    /// answer, which no longer counts it, fences it. Until then it is
    /// silent and can no longer become primary. Returns whether it acted.
    pub(crate) fn diverged(&mut self, index: usize) -> bool {
        let Some(id) = self.replicas().get(index).map(|r| r.id) else {
            return false;
        };
        if self.output_checked(id) != Some(index) {
            return false;
        }
        let out = if self.role() == Role::Primary {
            self.diverged |= 1 << index;
            index
        } else {
            usize::from(self.me)
        };
        self.set[out].excluded = true;
        true
    }

    /// Whether node `id` is a replica this node, primary, found writing
    /// other bytes than its own.
    pub(crate) fn found_diverged(&self, id: u32) -> bool {
        self.replicas()
            .iter()
            .enumerate()
            .any(|(i, r)| r.id == id && self.diverged & (1 << i) != 0)
    }

    /// Which replicas this node still counts: bit i for the i-th, the
    /// set's generation in bits 8 to 15 (the indices are those of that
    /// generation's set), and bit 16 + i for the i-th still joining.
    pub(crate) fn members_mask(&self) -> u32 {
        self.replicas()
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.excluded)
            .fold(u32::from(self.gen) << 8, |m, (i, r)| {
                m | (1 << i) | (u32::from(r.joining) << (16 + i))
            })
    }

    /// Takes the view of the set that replica `id` reports (`mask`, as
    /// [`Replication::members_mask`]). Every exclusion was decided with a
    /// majority (a death declared by one) or by the primary (a silent
    /// backup, or itself as it stepped down), so this node follows each:
    /// whoever `id` counts out, this node counts out too. If that is this
    /// node, it is fenced: it may have been taken over from,
    /// or no longer be waited for. If `id` is still in the set, it vouches
    /// for this node (see [`Replication::doubt`]). Returns whether this
    /// made this node primary.
    pub(crate) fn take_view(&mut self, id: u32, mask: u32) -> bool {
        // A view of another generation's set speaks of other indices: the
        // primary's set change comes first (`adopt`), then views of it.
        if self.fenced || id == self.me().id || (mask >> 8) as u8 != self.gen {
            return false;
        }
        let Some(at) = self.replicas().iter().position(|r| r.id == id) else {
            return false;
        };
        if mask & (1 << self.me) == 0 {
            self.fence();
            return false;
        }
        if !self.set[at].excluded {
            self.set[at].vouched = true;
        }
        // The primary says who has caught up (its reports are the ones
        // that count, [`Replication::heard`]): a replica brought in learns
        // so of itself, which it has no report of.
        if self.primary() == Some(id) {
            let len = usize::from(self.len);
            for (i, r) in self.set[..len].iter_mut().enumerate() {
                if mask & (1 << (16 + i)) == 0 {
                    r.joining = false;
                }
            }
        }
        let out: [Option<u32>; MAX_SET] = core::array::from_fn(|i| {
            (i < usize::from(self.len) && mask & (1 << i) == 0).then(|| self.set[i].id)
        });
        let mut became = false;
        for &gone in out.iter().flatten() {
            became |= self.exclude(gone);
        }
        became
    }

    /// On the primary: takes out of the set the backups not heard from
    /// for `silence_ms` (their node is up, but their connection is not:
    /// never set up, or gone). Returns how many. Not in doubt: then the
    /// silence may be a cut that made them count this node out.
    pub(crate) fn exclude_silent(&mut self, now_ms: u64, silence_ms: u64) -> usize {
        if self.role() != Role::Primary || self.doubt {
            return 0;
        }
        let me = usize::from(self.me);
        let mut n = 0;
        for (i, r) in self.set[..usize::from(self.len)].iter_mut().enumerate() {
            if i != me && !r.excluded && r.heard_ms.before(now_ms) > silence_ms {
                r.excluded = true;
                n += 1;
            }
        }
        n
    }

    /// Counts every replica as heard from at `now_ms`: the client just
    /// completed its handshake, and until then the replicas were not
    /// judged by their silence (a backup whose stack still waits for the
    /// handshake may have had nothing to say).
    pub(crate) fn grace(&mut self, now_ms: u64) {
        for r in self.set[..usize::from(self.len)].iter_mut() {
            r.heard_ms = r.heard_ms.latest(now_ms);
        }
    }

    /// Records what replica `id` reports at `now_ms`; progress only ever
    /// moves forward (a late or repeated report changes nothing). Returns
    /// whether it moved.
    pub(crate) fn heard(&mut self, id: u32, report: &Ends, now_ms: u64) -> bool {
        let Ends {
            received,
            sent,
            window_end,
        } = *report;
        let me = usize::from(self.me);
        let log_end = self.log_end;
        let Some((_, r)) = self.set[..usize::from(self.len)]
            .iter_mut()
            .enumerate()
            .find(|(i, r)| *i != me && r.id == id)
        else {
            return false;
        };
        let mut moved =
            after(received, r.received) || after(sent, r.sent) || after(window_end, r.window_end);
        // Its progress starts at the floors it was brought in at: a report
        // that reaches both, and the end of what the primary's log holds
        // (everything the primary may have acknowledged while it joined),
        // says it has caught up. The primary's clamps and writes wait for
        // it from now on, and it takes the live stream like any backup.
        if r.joining
            && !after(r.received, received)
            && !after(log_end, received)
            && !after(r.sent, sent)
        {
            r.joining = false;
            moved = true;
        }
        r.heard_ms = r.heard_ms.latest(now_ms);
        if r.reported {
            r.received = seq_max(r.received, received);
            r.sent = seq_max(r.sent, sent);
            r.window_end = seq_max(r.window_end, window_end);
        } else {
            // Its first word replaces the guess made at the start (this
            // node's own SYN-ACK's window): its stack may offer less.
            r.received = seq_max(r.received, received);
            r.sent = seq_max(r.sent, sent);
            r.window_end = window_end;
            r.reported = true;
        }
        moved
    }

    /// Records this node's own progress (what of it is known); returns
    /// whether it moved.
    pub(crate) fn advance_own(
        &mut self,
        received: Option<u32>,
        sent: Option<u32>,
        window_end: Option<u32>,
    ) -> bool {
        let r = &mut self.set[usize::from(self.me)];
        let mut moved = false;
        for (field, v) in [
            (&mut r.received, received),
            (&mut r.sent, sent),
            (&mut r.window_end, window_end),
        ] {
            if let Some(v) = v {
                moved |= after(v, *field);
                *field = seq_max(*field, v);
            }
        }
        moved
    }

    /// The set's generation ([`Replication::admit`]): 0 until a replica
    /// is brought in.
    pub(crate) fn generation(&self) -> u8 {
        self.gen
    }

    /// Whether the set lacks replicas: fewer than `wanted` are left in it.
    pub(crate) fn short_of(&self, wanted: usize) -> bool {
        self.replicas().iter().filter(|r| !r.excluded).count() < wanted
    }

    /// On the primary: brings node `id` in as a replica of the connection
    /// (catch-up, `Documentation/replicate.rst`). The new set keeps the
    /// replicas still in it in their order, then `id`, *joining*, last to
    /// take over; then those excluded, as many as fit (they still learn
    /// from reports that they are out). `id` starts where this node is
    /// (its floors) and joins until it reports them and all this node's
    /// client log holds reached: the primary gives it the client's stream
    /// from that log, and meanwhile acknowledges no further than the log
    /// holds, but neither its window nor its reads nor its writes wait for
    /// `id` ([`Replica::joining`]). The generation moves, so that a view of
    /// the old set (by index) is never taken for one of the new. Refused
    /// (`None`) unless this node is the primary and not in doubt, `id` is
    /// not a replica still in the set, and there is room.
    pub(crate) fn admit(&mut self, id: u32, now_ms: u64) -> Option<SetChange> {
        if self.role() != Role::Primary
            || self.doubt
            || self.replicas().iter().any(|r| r.id == id && !r.excluded)
            || self.found_diverged(id)
            || !self.short_of(MAX_SET)
        {
            return None;
        }
        let floors = *self.me();
        let joiner = Replica {
            id,
            excluded: false,
            vouched: false,
            heard_ms: Wrapped::of(now_ms),
            reported: true,
            joining: true,
            ..floors
        };
        let kept = self.replicas().iter().filter(|r| !r.excluded);
        let out = self.replicas().iter().filter(|r| r.excluded && r.id != id);
        let mut set = [joiner; MAX_SET];
        let mut len = 0;
        for r in kept
            .copied()
            .chain(core::iter::once(joiner))
            .chain(out.copied())
            .take(MAX_SET)
        {
            set[len] = r;
            len += 1;
        }
        let me = set[..len].iter().position(|r| r.id == floors.id)?;
        // The replicas found diverged keep their mark in their new places.
        let diverged = set[..len]
            .iter()
            .enumerate()
            .filter(|(_, r)| self.found_diverged(r.id))
            .fold(0u8, |m, (i, _)| m | (1 << i));
        self.set = set;
        self.len = len as u8;
        self.me = me as u8;
        self.diverged = diverged;
        self.gen = self.gen.wrapping_add(1);
        Some(self.change())
    }

    /// The connection as node `self_id`, brought in by `change`, holds it:
    /// its own progress starts at the first byte each way (`client_next`,
    /// `server_next`, the window its stack's SYN-ACK offered), the other
    /// replicas' at the change's floors. `None` if the change does not
    /// make `self_id` a joining replica.
    pub(crate) fn joined(
        change: &SetChange,
        self_id: u32,
        (client_next, server_next, window): (u32, u32, u16),
        now_ms: u64,
    ) -> Option<Self> {
        let ids = change.ids.get(..usize::from(change.len))?;
        let mut rep = Self::new(ids, self_id, client_next, server_next, window, now_ms)?;
        let me = usize::from(rep.me);
        if change.joining & (1 << me) == 0 || change.excluded & (1 << me) != 0 {
            return None;
        }
        for (i, r) in rep.set[..usize::from(rep.len)].iter_mut().enumerate() {
            r.excluded = change.excluded & (1 << i) != 0;
            if i == me {
                r.joining = true;
            } else {
                r.received = change.floors.received;
                r.sent = change.floors.sent;
                r.window_end = change.floors.window_end;
                r.reported = true;
            }
        }
        rep.gen = change.gen;
        Some(rep)
    }

    /// The set as a [`SetChange`] to send the other replicas.
    pub(crate) fn change(&self) -> SetChange {
        let mut ids = [0u32; MAX_SET];
        let (mut excluded, mut joining) = (0u8, 0u8);
        for (i, r) in self.replicas().iter().enumerate() {
            ids[i] = r.id;
            excluded |= u8::from(r.excluded) << i;
            joining |= u8::from(r.joining) << i;
        }
        let floors = self
            .replicas()
            .iter()
            .find(|r| r.joining)
            .map_or(self.me().ends(), Replica::ends);
        SetChange {
            gen: self.gen,
            len: self.len,
            ids,
            excluded,
            joining,
            floors,
        }
    }

    /// Takes the set `change` that the primary `from` sent, if it is a
    /// newer generation than this node's: replicas it already knows keep
    /// their progress (and stay out if this node counted them out), new
    /// ones start at the change's floors. A change that leaves this node
    /// out, or in no set at all, fences it. Returns whether it took it.
    pub(crate) fn adopt(&mut self, from: u32, change: &SetChange, now_ms: u64) -> bool {
        if self.fenced || !newer(change.gen, self.gen) {
            return false;
        }
        let Some(ids) = change.ids.get(..usize::from(change.len)) else {
            return false;
        };
        let me = ids.iter().position(|&id| id == self.me().id);
        // A newer set that counts this node out says what a view would
        // (`take_view`): a majority, or the primary, took it out; from any
        // replica of this node's set. So learns a primary that was cut off
        // while another took over and changed the set: views of the new
        // set speak of other places, which it cannot read.
        let counted_out = match me {
            None => true,
            Some(i) => change.excluded & (1 << i) != 0,
        };
        if counted_out {
            if !self.replicas().iter().any(|r| r.id == from) {
                return false;
            }
            self.fence();
            return true;
        }
        let Some(me) = me else {
            return false;
        };
        if self.primary() != Some(from) {
            return false;
        }
        let mut set = [self.set[0]; MAX_SET];
        for (i, &id) in ids.iter().enumerate() {
            // A replica brought in starts afresh at the floors, though this
            // node knew it before: it counted it out when it failed, and
            // it is back.
            let joining = change.joining & (1 << i) != 0;
            let known = self
                .replicas()
                .iter()
                .find(|r| r.id == id && !joining)
                .copied();
            let excluded = change.excluded & (1 << i) != 0;
            set[i] = match known {
                Some(r) => Replica {
                    excluded: r.excluded || excluded,
                    joining: r.joining && change.joining & (1 << i) != 0,
                    ..r
                },
                None => Replica {
                    id,
                    received: change.floors.received,
                    sent: change.floors.sent,
                    window_end: change.floors.window_end,
                    excluded,
                    vouched: false,
                    heard_ms: Wrapped::of(now_ms),
                    reported: true,
                    joining: change.joining & (1 << i) != 0,
                },
            };
        }
        self.set = set;
        self.len = change.len;
        self.me = me as u8;
        self.gen = change.gen;
        true
    }

    /// What this node does with a client segment that acknowledges `ack`
    /// (cluster space), before anything of it is taken (RFC 5961, section
    /// 5.2: an acknowledgment of bytes never sent is not acceptable, and
    /// the segment, data included, is dropped).
    ///
    /// The client can only acknowledge what the primary sent. The primary
    /// writes only what every backup has already sent, so a backup has sent
    /// at least every byte the client can acknowledge — but for the
    /// primary's FIN (closing is not a write: one more) and for a primary
    /// that took over ahead of this backup, whose reports say how far it
    /// sent. Beyond that bound the acknowledgment is forged (or of another
    /// connection): the primary's stack drops the segment, so a backup must
    /// not take it either, or its stream would hold bytes the primary's
    /// does not. Within it, but beyond what this backup's own stack sent,
    /// the backup's stack sees the acknowledgment only up to that (it would
    /// drop the whole segment otherwise).
    ///
    /// The primary's own stack judges the segment exactly; the hook only
    /// learns nothing from one it will reject. The lower bound (an
    /// acknowledgment too old) each replica's stack applies itself.
    pub(crate) fn check_ack(&self, ack: u32) -> AckCheck {
        let own = self.me().sent;
        if self.role() == Role::Primary {
            return if after(ack, own) {
                AckCheck::Unsent
            } else {
                AckCheck::Accept
            };
        }
        let bound = self
            .others()
            .map(|r| r.sent)
            .fold(own.wrapping_add(1), seq_max);
        if after(ack, bound) {
            AckCheck::Drop
        } else if after(ack, own) {
            AckCheck::Clamp(own)
        } else {
            AckCheck::Accept
        }
    }

    /// Where the application may read up to, its stack having received up
    /// to `own_received`: the least that every replica still in the set
    /// has received, but those joining, which are fed what the primary's
    /// application read.
    pub(crate) fn readable_end(&self, own_received: u32) -> u32 {
        self.others()
            .filter(|r| !r.joining)
            .fold(own_received, |end, r| seq_min(end, r.received))
    }

    /// Where the primary's application may write up to: the least that
    /// every backup still in the set has sent; `None` if there is no backup
    /// left (nothing to wait for).
    pub(crate) fn sendable_end(&self) -> Option<u32> {
        self.others()
            .filter(|r| !r.joining)
            .map(|r| r.sent)
            .reduce(seq_min)
    }

    /// How far the primary may acknowledge: the least that every backup
    /// still in the set has received; `None` if there is no backup left.
    /// A replica joining counts as having what this node's log holds: it
    /// is fed that, and must have it all before it stops joining
    /// ([`Replication::heard`]).
    pub(crate) fn acknowledgeable_end(&self) -> Option<u32> {
        self.others()
            .map(|r| {
                if r.joining {
                    seq_max(r.received, self.log_end)
                } else {
                    r.received
                }
            })
            .reduce(seq_min)
    }

    /// The least right edge of the windows the backups still in the set
    /// offered; `None` if there is no backup left. A replica joining
    /// offers none yet: its stack's window is far behind the live stream,
    /// whose bytes it is fed from the log.
    fn offerable_end(&self) -> Option<u32> {
        self.others()
            .filter(|r| !r.joining)
            .map(|r| r.window_end)
            .reduce(seq_min)
    }

    /// Notes that this node's client log holds the stream up to `end`;
    /// returns whether that moved. A primary with a replica joining may
    /// acknowledge further then ([`Replication::acknowledgeable_end`]).
    pub(crate) fn logged(&mut self, end: u32) -> bool {
        let moved = after(end, self.log_end);
        self.log_end = seq_max(self.log_end, end);
        moved
    }

    /// What the primary may tell the client when its stack acknowledges
    /// `stack.ack` and offers a window up to `stack.window_end`: an
    /// acknowledgment no further than every backup still in the set has
    /// received, a window that ends no further than every one of them
    /// takes data (each drops what lies beyond its own window), and which
    /// of the two the backups held back.
    pub(crate) fn advertise(&self, stack: Advert) -> Advertised {
        let ack = self
            .acknowledgeable_end()
            .map_or(stack.ack, |end| seq_min(stack.ack, end));
        let window_end = self
            .offerable_end()
            .map_or(stack.window_end, |end| seq_min(stack.window_end, end));
        Advertised {
            ack,
            window_end,
            ack_held: ack != stack.ack,
            window_held: window_end != stack.window_end,
        }
    }

    /// Whether the backups have moved past what the primary advertised
    /// held back (`held`): the client should hear of it now, not at the
    /// stack's next segment.
    pub(crate) fn lifts(&self, held: &Advertised) -> bool {
        // No backup left: nothing holds the stack back any more.
        let past = |end: Option<u32>, told: u32| match end {
            Some(end) => after(end, told),
            None => true,
        };
        (held.ack_held && past(self.acknowledgeable_end(), held.ack))
            || (held.window_held && past(self.offerable_end(), held.window_end))
    }
}

/// What the inbound hook does with a client segment's acknowledgment
/// ([`Replication::check_ack`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AckCheck {
    /// Acceptable: take it as it is.
    Accept,
    /// Acceptable, but beyond what this backup's stack has sent: take it
    /// with the acknowledgment rewritten to this.
    Clamp(u32),
    /// On the primary, of bytes its stack never sent: its stack drops the
    /// segment (or, in SYN-RECV, answers with a reset) as for any
    /// connection, and the hook learns nothing from it.
    Unsent,
    /// On a backup, of bytes no replica has sent: the primary's stack drops
    /// it, so this one must too.
    Drop,
}

/// How far a replica has come, as it reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ends {
    /// The client sequence number it has received up to.
    pub(crate) received: u32,
    /// The server sequence number (cluster space) it has sent up to.
    pub(crate) sent: u32,
    /// The client sequence number its window ends at.
    pub(crate) window_end: u32,
}

/// A replica set as the primary sends it to the others when it brings a
/// replica in ([`Replication::admit`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SetChange {
    /// The set's generation.
    pub(crate) gen: u8,
    /// How many of `ids` are the set.
    pub(crate) len: u8,
    /// The replicas' node ids, the order in which they take over.
    pub(crate) ids: [u32; MAX_SET],
    /// Bit i: the i-th is out of the set.
    pub(crate) excluded: u8,
    /// Bit i: the i-th is joining.
    pub(crate) joining: u8,
    /// Where a joining replica's progress starts: the primary's when it
    /// brought it in.
    pub(crate) floors: Ends,
}

/// Whether generation `a` is newer than `b` (they wrap).
pub(crate) fn newer(a: u8, b: u8) -> bool {
    (a.wrapping_sub(b) as i8) > 0
}

/// An acknowledgment and the right edge of the window offered with it
/// (client sequence numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Advert {
    /// The acknowledgment number.
    pub(crate) ack: u32,
    /// `ack` plus the window, in bytes.
    pub(crate) window_end: u32,
}

/// What a primary advertises for its stack's [`Advert`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Advertised {
    /// The acknowledgment number to send.
    pub(crate) ack: u32,
    /// Where the window sent with it ends.
    pub(crate) window_end: u32,
    /// Whether `ack` is below the stack's.
    pub(crate) ack_held: bool,
    /// Whether `window_end` is below the stack's.
    pub(crate) window_held: bool,
}

impl Advertised {
    /// The window field (scaled by `wscale`) that offers up to
    /// `window_end` from `ack`, rounded down so it never offers more; 0 if
    /// the window ends before the acknowledgment.
    pub(crate) fn window_field(&self, wscale: u8) -> u16 {
        if after(self.ack, self.window_end) {
            return 0;
        }
        let bytes = self.window_end.wrapping_sub(self.ack);
        u16::try_from(bytes >> wscale.min(14)).unwrap_or(u16::MAX)
    }
}

/// The right edge of the window a segment offers: its acknowledgment
/// `ack` plus its window `field` scaled by `wscale` (not for a SYN, whose
/// window is never scaled).
pub(crate) fn window_end_of(ack: u32, field: u16, wscale: u8) -> u32 {
    ack.wrapping_add(u32::from(field) << wscale.min(14))
}

/// The timestamp delta a taking-over primary uses: its own unless that
/// would send a TSval at or before `latest_seen` (the newest TSval of the
/// old primary the client echoed, cluster space) at `own_now` (its own
/// clock): the client's PAWS check drops segments whose TSval goes back.
pub(crate) fn takeover_ts_delta(ts_delta: u32, own_now: u32, latest_seen: u32) -> u32 {
    let ours = own_now.wrapping_add(ts_delta);
    if after(ours, latest_seen) {
        ts_delta
    } else {
        latest_seen.wrapping_add(1).wrapping_sub(own_now)
    }
}

/// What the replicate hooks read of a TCP segment. Sequence numbers are
/// as on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Segment {
    /// Its sequence number.
    pub(crate) seq: u32,
    /// The sequence number just past it: payload, SYN and FIN counted.
    pub(crate) end: u32,
    /// Its acknowledgment number, if it has an ACK.
    pub(crate) ack: Option<u32>,
    /// Its flags.
    pub(crate) flags: u8,
    /// Its window field.
    pub(crate) window: u16,
    /// Its timestamps option, (TSval, TSecr).
    pub(crate) timestamps: Option<(u32, u32)>,
}

/// The segment in `pkt` (IPv4 from its first byte, at least both headers),
/// whose IP datagram is `total_len` bytes (a GSO packet's whole length).
pub(crate) fn segment_of(pkt: &[u8], total_len: usize) -> Option<Segment> {
    use crate::splice::{be16, be32, for_each_option, tcp_header, ACK, OPT_TIMESTAMP, SYN};
    let (t, len) = tcp_header(pkt)?;
    let flags = *pkt.get(t + 13)?;
    let payload = total_len.checked_sub(t + len)?;
    let seq = be32(pkt, t + 4)?;
    let mut timestamps = None;
    for_each_option(pkt, t, len, |kind, at, vlen| {
        if kind == OPT_TIMESTAMP && vlen == 8 {
            timestamps = be32(pkt, at).zip(be32(pkt, at + 4));
        }
    });
    let extra = u32::from(flags & SYN != 0) + u32::from(flags & FIN != 0);
    Some(Segment {
        seq,
        end: seq
            .wrapping_add(u32::try_from(payload).ok()?)
            .wrapping_add(extra),
        ack: if flags & ACK != 0 {
            be32(pkt, t + 8)
        } else {
            None
        },
        flags,
        window: be16(pkt, t + 14)?,
        timestamps,
    })
}

/// TCP flag FIN.
pub(crate) const FIN: u8 = 0x01;

/// Takes out the SACK option of the segment in `pkt` (its bytes become
/// no-operation options, the checksum kept under `cs`) if a block of it
/// ends after `ack`, the acknowledgment the primary lets the client see
/// when the backups hold it back. Such a block tells the client that
/// bytes a backup lacks arrived (the primary's stack has them, or answers
/// the client's retransmission of them with a duplicate SACK): the client
/// would not send them again, and the backup, short of them, would hold
/// the acknowledgment back for good, the client retransmitting one
/// segment per timeout. Without the option the client recovers as from
/// plain duplicate acknowledgments. Blocks at or below `ack` (duplicate
/// SACKs of what every replica has) alone are left. Returns whether it
/// took the option out; `None` if the segment is not TCP.
pub(crate) fn strip_sack_above(
    pkt: &mut [u8],
    ack: u32,
    cs: crate::splice::Checksum,
) -> Option<bool> {
    use crate::splice::{be32, for_each_option, tcp_header, OPT_SACK};
    let (t, len) = tcp_header(pkt)?;
    let mut option = None;
    for_each_option(pkt, t, len, |kind, at, vlen| {
        if kind == OPT_SACK && vlen % 8 == 0 && option.is_none() {
            option = Some((at, vlen));
        }
    });
    let Some((at, vlen)) = option else {
        return Some(false);
    };
    let beyond = (at..at + vlen)
        .step_by(8)
        .any(|b| be32(pkt, b + 4).is_some_and(|right| after(right, ack)));
    if !beyond {
        return Some(false);
    }
    // Kind and length bytes too: at most 2 + 4 x 8 bytes.
    let nops = [1u8; 40];
    let check = crate::splice::check_field(t, cs);
    crate::csum::patch(pkt, at - 2, nops.get(..vlen + 2)?, check)?;
    Some(true)
}

/// Makes the TSecr of the segment in `pkt` no older than `tsval` (the
/// client's last), keeping its checksum under `cs`; whether it changed.
/// `None` if the segment is malformed.
///
/// For an acknowledgment the backups hold back (RFC 7323, 4.3, echoes the
/// TSval of the segment that filled a hole): the primary's stack, which
/// has every byte, takes the client's retransmissions as duplicates and
/// echoes the TSval of a segment sent before them. The client, seeing its
/// retransmission acknowledged with an echo older than it, takes the
/// timeout for spurious (Eifel detection, RFC 3522) and undoes its loss
/// recovery: with no SACK beyond the acknowledgment to go on, it then
/// sends the next missing segment only at its next timeout. The backup
/// whose acknowledgment this is received the retransmission in order,
/// and would have echoed it.
pub(crate) fn echo_at_least(
    pkt: &mut [u8],
    tsval: u32,
    cs: crate::splice::Checksum,
) -> Option<bool> {
    use crate::splice::{be32, for_each_option, tcp_header, OPT_TIMESTAMP};
    let (t, len) = tcp_header(pkt)?;
    let mut tsecr = None;
    for_each_option(pkt, t, len, |kind, at, vlen| {
        if kind == OPT_TIMESTAMP && vlen == 8 {
            tsecr = Some(at + 4);
        }
    });
    let Some(at) = tsecr else {
        return Some(false);
    };
    if !after(tsval, be32(pkt, at)?) {
        return Some(false);
    }
    let check = crate::splice::check_field(t, cs);
    crate::csum::patch(pkt, at, &tsval.to_be_bytes(), check)?;
    Some(true)
}

/// Takes the FIN flag off the segment in `pkt`, keeping its checksum
/// under `cs`: its bytes leave, the FIN does not ([`Clamp::withhold_fin`]
/// in `replicate/entry.rs` says why). The stack still counts the FIN sent
/// and sends it again unacknowledged. `None` if the segment is malformed.
pub(crate) fn clear_fin(pkt: &mut [u8], cs: crate::splice::Checksum) -> Option<()> {
    let (t, _) = crate::splice::tcp_header(pkt)?;
    let flags = *pkt.get(t + 13)?;
    let check = crate::splice::check_field(t, cs);
    crate::csum::patch(pkt, t + 13, &[flags & !FIN], check)
}

/// Sets the acknowledgment number of the segment in `pkt` to `ack` and,
/// if given, its window field to `window`, keeping its checksum under
/// `cs`.
pub(crate) fn set_ack(
    pkt: &mut [u8],
    ack: u32,
    window: Option<u16>,
    cs: crate::splice::Checksum,
) -> Option<()> {
    let (t, _) = crate::splice::tcp_header(pkt)?;
    let check = crate::splice::check_field(t, cs);
    crate::csum::patch(pkt, t + 8, &ack.to_be_bytes(), check)?;
    if let Some(w) = window {
        crate::csum::patch(pkt, t + 14, &w.to_be_bytes(), check)?;
    }
    Some(())
}

// SPDX-License-Identifier: GPL-2.0

//! Replicate mode on one node: its replicated connections, what the packet
//! hooks do for them, the progress its replicas exchange over the channel,
//! the socket-layer gate that keeps the replicas' applications in step,
//! and taking a connection over when its primary dies. `replicate/replica.rs` has
//! the rules; `Documentation/replicate.rst` the design.
//!
//! Contexts: the hooks and the channel's receive path run in softirq and
//! only change the table (under a bottom-half-safe lock) and kick the
//! node's replica work, which reads the sockets' progress, sends the
//! reports and acts on sockets from process context. The gate runs in the
//! application's `recvmsg`/`sendmsg`, in process context without the
//! socket lock, and sleeps on its connection's wait queue (one per table
//! slot: progress on one connection wakes no caller of another).

use crate::{
    balance::Plane,
    catch_up::{CatchUps, MAX_LEADING},
    catch_up_work::joined_acks,
    client_acks::ClientAcks,
    client_log::{ClientLog, Lost},
    config::MAX_PEERS,
    conntable::{ConnTable, Keyed, Sharding},
    entry::{Entry, Inbound, Outbound},
    handover::SegmentHead,
    log_store::{self, LogVec},
    lost_handshake,
    output_digest::OutputCheck,
    replica::{
        self, after, set_ack, takeover_ts_delta, translation_of, Ends, OwnSynAck, Replication,
        Role, Segment, Wrapped, MAX_SET,
    },
    sharded::Sharded,
    splice::{self, ACK, RST, SYN},
    stats::Counter,
    summary::{self, Summary, SUMMARY_MS, SUMMARY_STALE_MS},
    syn_cache,
    sys::{
        clock,
        netfilter::Verdict,
        skbuff::SkBuff,
        sockhook::{self, GatedListeners, GatedSocket, Gating, SocketGate},
        sync::{new_spinlock_bh, SpinLockBh},
        tcp::{self, TcpSocket},
        ticker::Kicker,
        waitq::WaitQueue,
    },
    wire::{Progress, ProgressList, SummaryBody, Tuple, PROGRESS_MAX_ENTRIES},
    Node,
};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use kernel::{c_str, prelude::*};

/// The gate's wait queues: a connection waits on the one its slot hashes
/// to (as the kernel's `wait_var_event` does), so a wake reaches its own
/// callers and, rarely, a few of another connection, who look again.
const WAIT_QUEUES: usize = 1024;
/// How often every connection's progress is reported even if it did not
/// move: reports are datagrams, and any may be lost.
const REPORT_MS: u64 = 50;
/// A connection's progress that does not move is reported again after
/// [`REPORT_MS`], then twice, four times... as long, up to this: a lost
/// report is repeated soon, and an idle connection costs a few entries a
/// second, not twenty (its replicas still hear of it well within
/// [`SILENCE_MS`]).
const IDLE_REPORT_MS: u64 = 400;
/// Reports of a connection's progress that did not move after it last
/// did, at [`REPORT_MS`], twice and four times that: past them, a peer
/// that sends summaries hears of the connection through them
/// (`replicate/summary.rs`), and it is reported again only when it moves
/// or that peer asks.
const QUIET_REPEATS: u8 = 3;
/// A backup the primary has not heard from for this long is taken out of
/// the connection's set: its node is up, but the connection is not there.
const SILENCE_MS: u64 = 3_000;
/// A connection whose socket is gone (TIME_WAIT included) is forgotten
/// after this long without a segment.
const FORGET_MS: u64 = 5_000;
/// Longest sleep of a gated call between two looks at its condition. A
/// safety net only: every move of the condition wakes the call, and a wake
/// between the look and the sleep is not missed (the queue's generation).
/// Each blocked call of an idle connection wakes this often.
const WAIT_SLICE_MS: u32 = 1000;
/// Connections whose reports are gathered, and sent per peer, together:
/// 256 of them, to up to three other replicas each (a 36 KiB buffer); at
/// most one datagram per peer of each part is not full.
const REPORT_CHUNK: usize = 256;
const _: () = assert!(
    REPORT_CHUNK * (MAX_SET - 1) * core::mem::size_of::<(u32, Progress)>() <= 48 * 1024,
    "the report buffer outgrew 48 KiB"
);
/// Period of the replica work when nothing kicks it.
const WORK_MS: u32 = 50;
/// Most listeners a node gives the socket gate: those of every replicate
/// service, IPv4 and IPv6, every member of their reuseport groups.
pub(crate) const MAX_GATED_LISTENERS: usize = 256;

/// Marks the node's replica work among its periodic works.
pub(crate) struct Work;

/// One shard of the node's replicated connections.
pub(crate) type Table = ConnTable<KBox<Entry>>;

/// The node's replicated connections, in shards.
pub(crate) type Tables = Sharded<Table>;

/// Replicate on one node: the mode's part of [`Node`].
#[pin_data]
pub(crate) struct Replicate {
    /// Replicated connections: written by the hooks and the channel's
    /// receive path (softirq) and the replica work and gate (process
    /// context).
    pub(crate) tables: Tables,
    /// The listeners of replicate services given the socket gate: by the
    /// hook (softirq) when a SYN comes for one, released when the service
    /// goes or the listener stops listening (process context).
    #[pin]
    pub(crate) gated: SpinLockBh<GatedListeners>,
    /// Runs the replica work now.
    pub(crate) kick: Kicker,
    /// Wakes gated `recvmsg`/`sendmsg` calls when their connection's
    /// progress moves.
    pub(crate) waits: Waits,
    /// Until when, in ms of `clock::now_ms`, this node has a fresh majority
    /// (`Membership::quorum_until`): a primary sends only before then.
    pub(crate) quorum_until: AtomicU64,
    /// When the replica work last went over every replicated connection.
    pub(crate) swept_ms: AtomicU64,
    /// The freshness `quorum_until` asks for, ms.
    pub(crate) fresh_ms: AtomicU32,
    /// Whether any service replicates: the outbound hook's fast path.
    pub(crate) active: AtomicBool,
    /// The peers' summaries as heard, and what to ask of them.
    #[pin]
    pub(crate) summaries: SpinLockBh<PeerSummaries>,
    /// When this node last sent its summaries, ms.
    pub(crate) summary_sent_ms: AtomicU64,
    /// The options of the clients' SYNs, lossily remembered for a
    /// handshake played again (`replicate/syn_cache.rs`): written by the
    /// inbound hook, read by the recovery, one atomic word a slot.
    pub(crate) syn_options: KVec<AtomicU64>,
    /// The catch-ups this node leads or takes part in
    /// (`replicate/catch_up.rs`): the replica work, the progress and
    /// catch-up messages (softirq) and the SYN-ACK hook.
    #[pin]
    pub(crate) catch_ups: SpinLockBh<CatchUps>,
    /// Whether this node leads any catch-up: the progress handler's fast
    /// path.
    pub(crate) leading: AtomicBool,
    /// Whether this node expects any join: the SYN-ACK hook's fast path.
    pub(crate) joins: AtomicBool,
    /// The replica work's next sweep looks for connections to bring a
    /// replica into: a new plane (the live nodes, or those ready for a
    /// service, changed), a replica left a set, or a sweep could not bring
    /// one in yet.
    pub(crate) admit_due: AtomicBool,
    /// When the replica work looks again for connections it could not
    /// re-protect yet, ms; 0: not due.
    pub(crate) admit_retry_ms: AtomicU64,
}

/// What this node knows of one peer's progress summaries.
#[derive(Clone, Copy, Default)]
struct PeerSummary {
    /// The peer's node id; 0: a free slot.
    id: u32,
    /// When its last summary came, ms.
    heard_ms: u64,
    /// Buckets whose connections to ask it to report again, with the next
    /// summary to it.
    ask: u32,
    /// Buckets whose connections it asked this node to report again.
    refresh: u32,
    /// Buckets of connections its last summary vouched for (its last word
    /// on each, as this node heard it, matched), and when: the next run
    /// of the replica work counts them heard then, as it walks every
    /// connection anyway, rather than the receive path walking them all
    /// a second time in softirq.
    vouched: u32,
    vouched_ms: u64,
}

/// A peer's summary vouched, at `at_ms`, for the connections in
/// `buckets` (see [`PeerSummary::vouched`]).
#[derive(Clone, Copy, Default)]
struct Vouch {
    id: u32,
    at_ms: u64,
    buckets: u32,
}

/// The peers' summaries: written by the channel's receive path (softirq),
/// read by the replica work.
///
/// # Invariants
///
/// `peers` has [`MAX_PEERS`] slots.
pub(crate) struct PeerSummaries {
    /// On the heap: the node's initialisation already fills much of the
    /// stack it runs on.
    peers: KVec<PeerSummary>,
}

/// Node ids, sorted, of a bounded number of peers.
struct PeerIds {
    ids: [u32; MAX_PEERS],
    n: usize,
}

impl PeerIds {
    fn new() -> Self {
        Self {
            ids: [0; MAX_PEERS],
            n: 0,
        }
    }

    /// Adds `id`, in order (by insertion: a few dozen at most, and
    /// `core`'s sort trips objtool).
    fn insert(&mut self, id: u32) {
        if self.n == MAX_PEERS {
            return;
        }
        let mut i = self.n;
        while i > 0 && self.ids[i - 1] > id {
            self.ids[i] = self.ids[i - 1];
            i -= 1;
        }
        self.ids[i] = id;
        self.n += 1;
    }

    fn index(&self, id: u32) -> Option<usize> {
        self.ids[..self.n].binary_search(&id).ok()
    }

    fn contains(&self, id: u32) -> bool {
        self.index(id).is_some()
    }

    fn as_slice(&self) -> &[u32] {
        &self.ids[..self.n]
    }
}

impl PeerSummaries {
    fn new() -> Result<Self> {
        Ok(Self {
            peers: KVec::from_elem(PeerSummary::default(), MAX_PEERS, GFP_KERNEL)?,
        })
    }

    /// Peer `id`'s slot: its own, else a free one, else the one heard
    /// from longest ago (a peer no longer configured).
    fn slot(&mut self, id: u32) -> &mut PeerSummary {
        let at = self
            .peers
            .iter()
            .position(|p| p.id == id)
            .or_else(|| self.peers.iter().position(|p| p.id == 0))
            .unwrap_or_else(|| {
                (0..self.peers.len())
                    .min_by_key(|&i| self.peers[i].heard_ms)
                    .unwrap_or(0)
            });
        let p = &mut self.peers[at];
        if p.id != id {
            *p = PeerSummary {
                id,
                ..PeerSummary::default()
            };
        }
        p
    }

    /// The peers whose summaries this node hears (one came within
    /// [`SUMMARY_STALE_MS`] of `now`), the buckets each asked to be
    /// reported again, and what the peers vouched for since the last run
    /// (in `vouches`, the first of them; returns how many), the last two
    /// taken.
    fn for_run(
        &mut self,
        now: u64,
        vouches: &mut [Vouch; MAX_PEERS],
    ) -> (PeerIds, [(u32, u32); MAX_PEERS], usize) {
        let mut speaking = PeerIds::new();
        let mut refresh = [(0, 0); MAX_PEERS];
        let mut n_vouches = 0;
        for (p, r) in self.peers.iter_mut().zip(refresh.iter_mut()) {
            if p.id == 0 {
                continue;
            }
            if now.saturating_sub(p.heard_ms) <= SUMMARY_STALE_MS {
                speaking.insert(p.id);
            }
            *r = (p.id, core::mem::take(&mut p.refresh));
            let buckets = core::mem::take(&mut p.vouched);
            if let (true, Some(v)) = (buckets != 0, vouches.get_mut(n_vouches)) {
                *v = Vouch {
                    id: p.id,
                    at_ms: p.vouched_ms,
                    buckets,
                };
                n_vouches += 1;
            }
        }
        (speaking, refresh, n_vouches)
    }
}

impl Replicate {
    /// Replicate with no connection and no gated listener. Process
    /// context.
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            tables: new_tables()?,
            gated <- new_spinlock_bh!(
                GatedListeners::new(MAX_GATED_LISTENERS)?,
                "tpcluster_gated"
            ),
            kick: Kicker::new(),
            waits: Waits::new()?,
            quorum_until: AtomicU64::new(0),
            swept_ms: AtomicU64::new(0),
            fresh_ms: AtomicU32::new(0),
            active: AtomicBool::new(false),
            summaries <- new_spinlock_bh!(PeerSummaries::new()?, "tpcluster_summaries"),
            summary_sent_ms: AtomicU64::new(0),
            syn_options: syn_slots()?,
            catch_ups <- new_spinlock_bh!(CatchUps::new().ok_or(ENOMEM)?, "tpcluster_catch_ups"),
            leading: AtomicBool::new(false),
            joins: AtomicBool::new(false),
            admit_due: AtomicBool::new(false),
            admit_retry_ms: AtomicU64::new(0),
        }? Error)
    }
}

/// The zeroed slots of `replicate/syn_cache.rs`. Process context.
fn syn_slots() -> Result<KVec<AtomicU64>> {
    let mut slots = KVec::with_capacity(syn_cache::SLOTS, GFP_KERNEL)?;
    for _ in 0..syn_cache::SLOTS {
        // Within the capacity: allocates nothing.
        slots.push(AtomicU64::new(0), GFP_KERNEL)?;
    }
    Ok(slots)
}

/// The node's empty tables of `replica_conns` slots, at most
/// `replica_half_open` of them half-open. Process context.
fn new_tables() -> Result<Tables> {
    let sharding = Sharding::new(
        clock::replica_conns() as usize,
        clock::replica_half_open() as usize,
        crate::sharded::table_key(),
    );
    Sharded::new(
        sharding,
        c_str!("tpcluster_replicas"),
        kernel::static_lock_class!(),
        |part| ConnTable::part(part, crate::sharded::table_key()).ok_or(ENOMEM),
    )
}

/// The gate's wait queues, [`WAIT_QUEUES`] of them: a gated call sleeps
/// on its connection's, and what moves a connection wakes only the
/// callers on that queue (with every connection's callers on one queue,
/// each report woke all of them: hundreds of threads per datagram).
pub(crate) struct Waits {
    queues: KVec<WaitQueue>,
}

impl Waits {
    /// Process context.
    pub(crate) fn new() -> Result<Self> {
        let mut queues = KVec::with_capacity(WAIT_QUEUES, GFP_KERNEL)?;
        for _ in 0..WAIT_QUEUES {
            queues.push(WaitQueue::new()?, GFP_KERNEL)?;
        }
        Ok(Self { queues })
    }

    /// The queue of slot `slot`'s connection.
    fn queue(&self, slot: usize) -> Option<&WaitQueue> {
        self.queues.get(slot % WAIT_QUEUES)
    }

    /// Wakes the callers waiting on slot `slot`'s connection (and those of
    /// the queue's other connections). Any context.
    pub(crate) fn wake(&self, slot: usize) {
        if let Some(q) = self.queue(slot) {
            q.wake();
        }
    }

    /// Wakes the queues in `set`. Any context.
    fn wake_all(&self, set: &QueueSet) {
        for (i, q) in self.queues.iter().enumerate() {
            if set.contains(i) {
                q.wake();
            }
        }
    }
}

/// A set of wait queues (by the slots hashed to them), on the stack.
#[derive(Default)]
struct QueueSet {
    bits: [u64; WAIT_QUEUES / 64],
}

impl QueueSet {
    fn insert(&mut self, slot: usize) {
        let q = slot % WAIT_QUEUES;
        if let Some(word) = self.bits.get_mut(q / 64) {
            *word |= 1 << (q % 64);
        }
    }

    fn contains(&self, q: usize) -> bool {
        self.bits
            .get(q / 64)
            .is_some_and(|w| w & (1 << (q % 64)) != 0)
    }
}

impl Node {
    /// Whether this node has a fresh majority now (it may send as a
    /// primary). Any context.
    pub(crate) fn may_send(&self) -> bool {
        clock::now_ms() < self.replicate.quorum_until.load(Ordering::Relaxed)
    }

    /// The PRE_ROUTING hook's part for replicated connections, given the
    /// segment's headers as the hook parsed them: `None` if the segment is
    /// not of one. Softirq.
    pub(crate) fn replica_inbound(
        &self,
        skb: &mut SkBuff,
        head: &SegmentHead,
        seg: &Segment,
    ) -> Option<Verdict> {
        // No replicated connection here: no lock to take.
        if self.replicate.tables.is_empty() {
            return None;
        }
        let SegmentHead { tuple, hdr_len, .. } = *head;
        let mut table = self.replicate.tables.lock(&tuple);
        let (slot, entry) = table.find_slot(&tuple)?;
        if seg.flags & (SYN | ACK) == SYN {
            // The client opens a new connection on the same ports once
            // the old one is over: the old one's entry no longer applies
            // (the SYN-ACK makes anew). Its SYN again (a SYN-ACK slow to
            // arrive, or lost), or any SYN while this replica's stack
            // holds the connection live (a forged one: the stack answers
            // it with a challenge ACK), goes through as any segment of it.
            let live = || tcp::socket_held(self.net, &tuple, skb.ifindex());
            if splice::syn_forgets_entry(seg.seq == entry.client_isn(), live) {
                table.remove(&tuple);
                return None;
            }
        }
        let tr = entry.tr;
        let (held, moved, done) = match entry.inbound(seg, clock::now_ms()) {
            Inbound::Fenced => {
                drop(table);
                self.counters.bump(Counter::ReplicaSuppressed);
                return Some(Verdict::Drop);
            }
            Inbound::AckUnsent => {
                drop(table);
                self.counters.bump(Counter::ReplicaDropAckUnsent);
                return Some(Verdict::Drop);
            }
            Inbound::Take {
                held,
                moved,
                handshake_done,
            } => (held, moved, handshake_done),
        };
        if done && table.settle(slot) {
            if let Some((_, e)) = table.find_at(slot, &tuple) {
                e.rep.grace(clock::now_ms());
                // The others hear of it (`client_acked`) with a report.
                e.dirty = true;
            }
        }
        drop(table);
        let rewritten = self.rewrite(
            skb,
            hdr_len,
            |p, cs| {
                if let Some(ack) = held {
                    set_ack(p, ack, None, cs)?;
                }
                splice::translate_inbound(p, &tr, cs)
            },
            Counter::ReplicaIn,
        );
        if moved {
            self.replicate.kick.kick();
        }
        if !rewritten {
            return Some(Verdict::Drop);
        }
        skb.set_pkt_type_host();
        Some(Verdict::Accept)
    }

    /// The POST_ROUTING hook's part for replicated connections, given the
    /// segment's headers as the hook parsed them: `None` if the segment is
    /// not of one. Softirq (or bottom halves disabled).
    pub(crate) fn replica_outbound(
        &self,
        skb: &mut SkBuff,
        head: &SegmentHead,
        seg: &Segment,
    ) -> Option<Verdict> {
        let SegmentHead { tuple, hdr_len, .. } = *head;
        if seg.flags & (SYN | ACK | RST) == SYN | ACK {
            // Its options, read only for a SYN-ACK.
            let mut buf = [0u8; 120];
            if let Some(synack) = splice::parse_syn_ack(skb.head(&mut buf)) {
                self.replica_synack(&tuple, seg, synack.wscale);
            }
        }
        let now = clock::now_ms();
        // A reset with no socket behind it, on a connection both sides have
        // closed (each FIN sent), is the stack's answer to a segment that
        // came after the close — the client acknowledging a FIN sent twice.
        // It does not leave, as none does once the entry is gone
        // (`replica_untracked`): the client has had the whole connection,
        // and a reset would only cut its TIME_WAIT short. Looked up outside
        // the table's lock; resets are rare.
        let reset_without_socket = seg.flags & RST != 0 && !tcp::socket_exists(self.net, &tuple);
        let mut table = self.replicate.tables.lock(&tuple);
        let Some((slot, entry)) = table.find_slot(&tuple) else {
            drop(table);
            return self.replica_untracked(&tuple);
        };
        if reset_without_socket && entry.closed_both_ways() {
            drop(table);
            self.counters.bump(Counter::ReplicaDropUntracked);
            return Some(Verdict::Drop);
        }
        let tr = entry.tr;
        let Outbound {
            emit,
            moved,
            diverged,
            output_unchecked,
            catch_up,
        } = entry.outbound(seg, now, self.may_send(), |output, at| {
            take_output(skb, hdr_len, at, output)
        });
        drop(table);
        if output_unchecked {
            self.counters.bump(Counter::ReplicaOutputUnchecked);
        }
        if diverged > 0 {
            self.counters.add(Counter::ReplicaDiverged, diverged);
            // The set changed: the gate's callers look again.
            self.replicate.waits.wake(slot);
        }
        if moved || diverged > 0 {
            self.replicate.kick.kick();
        }
        if let Some(ack) = catch_up {
            self.replica_play(&ack, Counter::ReplicaAckPlayed);
        }
        let Some(clamp) = emit else {
            self.counters.bump(Counter::ReplicaSuppressed);
            return Some(Verdict::Sent);
        };
        let rewritten = self.rewrite(
            skb,
            hdr_len,
            |p, cs| {
                if let Some(c) = clamp {
                    set_ack(p, c.ack, Some(c.window), cs)?;
                    if c.ack_held {
                        replica::strip_sack_above(p, c.ack, cs)?;
                    }
                    if let Some(tsval) = c.echo {
                        replica::echo_at_least(p, tsval, cs)?;
                    }
                    if c.withhold_fin {
                        replica::clear_fin(p, cs)?;
                    }
                }
                splice::translate_outbound(p, &tr, cs)
            },
            Counter::ReplicaOut,
        );
        if !rewritten {
            return Some(Verdict::Drop);
        }
        if clamp.is_some() {
            self.counters.bump(Counter::ReplicaAckClamped);
        }
        Some(Verdict::Accept)
    }

    /// A segment of this node's stack from a replicate service's port on a
    /// connection it does not track: this node is in no replica set of it
    /// (membership moved between the SYN and the SYN-ACK), or the table was
    /// full. It must not leave: an answer in this node's own sequence space
    /// would compete with the replicas' (a SYN-ACK) or reset the client (the
    /// listener's RST to the replicas' handshake ACK). A connection
    /// established before the service became a replicate one is left alone.
    /// `None` if the segment is not for this part to judge. Softirq.
    fn replica_untracked(&self, tuple: &Tuple) -> Option<Verdict> {
        self.read_plane(|p| p.replication_factor(tuple.vip, tuple.port))?;
        if TcpSocket::lookup(self.net, tuple).is_some() {
            return None;
        }
        self.counters.bump(Counter::ReplicaDropUntracked);
        Some(Verdict::Drop)
    }

    /// A client's SYN `pkt` (IPv4) for a replicate service that this node
    /// takes: its options are remembered, in case the handshake has to be
    /// played again (`replicate/syn_cache.rs`). Softirq.
    pub(crate) fn replica_syn(&self, pkt: &[u8]) {
        let (Some(head), Some((client_isn, offered))) =
            (crate::handover::head_of(pkt, true), splice::parse_syn(pkt))
        else {
            return;
        };
        let key = self.read_plane(|plane| *plane.key());
        syn_cache::remember(
            &self.replicate.syn_options,
            &key,
            &head.tuple,
            client_isn,
            &offered,
        );
    }

    /// A client's segment `pkt` (IPv4, `total_len` bytes) of a connection
    /// no socket here holds, to a VIP: if it completes a handshake of a
    /// replicated connection this node is a replica of, but whose entry it
    /// forgot before (`replicate/lost_handshake.rs`), plays the handshake
    /// to the stack again and drops `pkt` (the client sends its data
    /// again). `None` if it is not for this part to judge. Softirq.
    pub(crate) fn replica_recover(&self, pkt: &[u8], total_len: usize) -> Option<Verdict> {
        let head = crate::handover::head_of(pkt, true)?;
        let seg = replica::segment_of(pkt, total_len)?;
        // `recover` judges the flags too; judged here first, most segments
        // (a SYN, a reset) cost no look at the plane.
        if seg.flags & ACK == 0 || seg.flags & (SYN | RST) != 0 {
            return None;
        }
        let tuple = head.tuple;
        // Every node sees every client segment, and one out of the set
        // holds no socket for it: one keyed hash tells the few that
        // complete a handshake from the rest.
        let key = self.read_plane(|plane| {
            plane
                .replication_factor(tuple.vip, tuple.port)
                .map(|_| *plane.key())
        })?;
        let offered = syn_cache::recall(
            &self.replicate.syn_options,
            &key,
            &tuple,
            seg.seq.wrapping_sub(1),
        );
        let recovery = lost_handshake::recover(&key, &tuple, &seg, offered)?;
        // What this part played itself, come back (the stack would not
        // answer the SYN): once is enough.
        if splice::is_played(pkt) {
            return None;
        }
        // A stack that kept a request socket holds the connection (the
        // segment would not be here); one that sent no cookie lately kept
        // nothing it could have answered: the segment is old (replayed, or
        // a duplicate of a connection since closed), and the stack would
        // not take it either. The same bound as its own cookies'.
        if !self.net.listener_sent_cookies(pkt) {
            return None;
        }
        // A replica in the connection's set as the plane has it now (as
        // for the SYN-ACK that makes the entry): a node that takes no new
        // connections (not yet a full member, or it stopped) does not join
        // a connection by its first segment.
        let replica = self.read_plane(|plane| {
            let mut set = [0u32; MAX_SET];
            let n = plane.replica_set(&tuple, &mut set);
            plane.takes_new_connections() && set[..n].contains(&plane.self_id())
        });
        if !replica {
            return None;
        }
        if offered.is_none() {
            self.counters.bump(Counter::ReplicaHandshakeNoOptions);
        }
        self.replica_play(&recovery.syn, Counter::ReplicaHandshakeRecovered);
        self.replica_play(&recovery.ack, Counter::ReplicaHandshakePlayed);
        Some(Verdict::Drop)
    }

    /// This node's stack answered a client's SYN: if it is for a replicate
    /// service, (re)sets up the connection's entry. Softirq.
    fn replica_synack(&self, tuple: &Tuple, seg: &replica::Segment, wscale: Option<u8>) {
        let (set, n, self_id, key) = self.read_plane(|plane| {
            let mut set = [0u32; MAX_SET];
            let n = plane.replica_set(tuple, &mut set);
            (set, n, plane.self_id(), *plane.key())
        });
        let Some(client_next) = seg.ack else { return };
        if n == 0 {
            return;
        }
        let own = OwnSynAck {
            isn: seg.seq,
            client_next,
            tsval: seg.timestamps.map(|(val, _)| val),
            wscale,
        };
        let tr = translation_of(&key, tuple, &own);
        let server_next =
            replica::cluster_isn(&key, tuple, client_next.wrapping_sub(1)).wrapping_add(1);
        let acks = ClientAcks::new(
            client_next,
            server_next,
            seg.timestamps
                .map(|(tsval, ecr)| (tsval.wrapping_add(tr.ts_delta), ecr)),
        );
        let now = clock::now_ms();
        // A connection a catch-up brings this node into, or a new one.
        let joined = self.joined_entry(tuple, client_next, server_next, seg.window, self_id, now);
        let joined_here = joined.is_some();
        let acks = if joined_here { joined_acks(acks) } else { acks };
        let Some(rep) = joined.or_else(|| {
            Replication::new(
                &set[..n],
                self_id,
                client_next,
                server_next,
                seg.window,
                now,
            )
        }) else {
            // Not a replica (membership moved since the SYN): no entry,
            // and the SYN-ACK is dropped (`replica_untracked`).
            return;
        };
        // Allocated before the lock; softirq, so it must not sleep.
        let entry = KBox::new(
            Entry::new(
                *tuple,
                rep,
                tr,
                acks,
                tr.ts_delta.wrapping_add(own.tsval.unwrap_or(0)),
                now,
            ),
            GFP_ATOMIC,
        );
        let Ok(entry) = entry else {
            self.counters.bump(Counter::ReplicaAllocFailed);
            return;
        };
        let joined_ack = if joined_here {
            entry.acks.handshake_ack(*tuple)
        } else {
            None
        };
        let mut table = self.replicate.tables.lock(tuple);
        if let Some(e) = table.find(tuple) {
            if e.client_isn() == client_next.wrapping_sub(1) && e.tr.seq_delta == tr.seq_delta {
                // A retransmitted SYN-ACK of the same connection: the
                // stack still waits for the client's acknowledgment. If
                // the client sent it, the stack missed it, and a backup's
                // retransmission never reaches the client to ask again (a
                // primary's does: the client answers it).
                let play = match e.rep.role() {
                    Role::Backup => e.acks.handshake_ack(*tuple),
                    Role::Primary | Role::Fenced => None,
                };
                drop(table);
                if let Some(ack) = play {
                    self.replica_play(&ack, Counter::ReplicaHandshakePlayed);
                }
                return;
            }
        }
        let inserted = table.insert(entry);
        drop(table);
        // Entries given back are freed here, out of the lock.
        match inserted {
            Ok(evicted) => {
                self.counters.bump(Counter::ReplicaConnections);
                if evicted.is_some() {
                    self.counters.bump(Counter::ReplicaHalfOpenEvicted);
                }
                // Brought in by a catch-up: the client completed its
                // handshake long ago; its acknowledgment is played now.
                if let Some(ack) = joined_ack {
                    self.replica_play(&ack, Counter::ReplicaHandshakePlayed);
                }
            }
            Err(_) => self.counters.bump(Counter::ReplicaTableFull),
        }
    }

    /// Plays `seg`, a segment in the client's view, to this node's stack
    /// as if the client had sent it: it goes through the inbound hook's
    /// translation like the client's own. Counts it under `counter`.
    /// Softirq.
    pub(crate) fn replica_play(&self, seg: &splice::Segment<'_>, counter: Counter) {
        let Some(ifindex) = self.read_plane(|p| p.vip_ifindex(seg.tuple.vip)) else {
            return;
        };
        let mut pkt = [0u8; splice::SEGMENT_HEADERS_MAX];
        let Some(n) = splice::build_segment(&mut pkt, seg) else {
            return;
        };
        if tcp::play_ipv4(self.net, ifindex, &pkt[..n]).is_ok() {
            self.counters.bump(counter);
        }
    }

    /// Takes a peer's progress report. Softirq.
    pub(crate) fn replica_progress(&self, sender: u32, list: &ProgressList<'_>) {
        let now = clock::now_ms();
        let mut kick = false;
        let mut wake = QueueSet::default();
        for p in list.iter() {
            self.counters.bump(Counter::ReplicaProgressRx);
            let mut table = self.replicate.tables.lock(&p.tuple);
            let Some((slot, e)) = table.find_slot(&p.tuple) else {
                continue;
            };
            let ends = Ends {
                received: p.received,
                sent: p.sent,
                window_end: p.window_end,
            };
            let moved = e.rep.heard(sender, &ends, now);
            self.catch_up_heard(&p.tuple, sender, p.received);
            if p.client_acked {
                e.acks.handshake_reported();
            }
            // The primary's word that the client acknowledged all it sent:
            // this node's stack may wait for an acknowledgment it was
            // never given (dropped as acknowledging what no replica had
            // sent yet, as far as this node knew then).
            let ack =
                (p.output_acked && e.rep.role() == Role::Backup && e.rep.primary() == Some(sender))
                    .then(|| e.acks.acked_reported(p.tuple, p.sent, e.rep.me().sent))
                    .flatten();
            let settled = e.acks.handshake_done();
            let was = e.rep.role();
            let set_was = e.rep.members_mask();
            if e.rep.take_view(sender, p.members) {
                e.takeover = true;
                kick = true;
            }
            if e.rep.role() == Role::Primary && e.rep.settle_doubt() {
                e.resume = true;
                kick = true;
            }
            // The sender's output, checked here now if this node's has
            // come exactly as far, or kept until it does.
            if let (Some(c), Some(i)) = (p.checkpoint, e.rep.output_checked(sender)) {
                if e.output.heard(i, c) == Some(true) {
                    let n = e.output_differs(1 << i);
                    self.counters.add(Counter::ReplicaDiverged, n);
                    kick |= n > 0;
                }
            }
            if was != Role::Fenced && e.rep.role() == Role::Fenced {
                e.release = true;
                kick = true;
            }
            // A clamp the backups have moved past: the client must hear.
            if e.held.is_some_and(|h| e.rep.lifts(&h)) {
                e.need_ack = true;
                kick = true;
            }
            // What the gate waits for: the others' offsets, the set, the
            // role. A report that only repeats moves none of them.
            let changed = e.rep.role() != was || e.rep.members_mask() != set_was;
            if moved || changed {
                wake.insert(slot);
            }
            // This node's new view goes out with its next report, now.
            e.dirty |= changed;
            // A backup answers each report of its primary in doubt with
            // one of its own, even on a connection it no longer reports
            // (idle, summarised): the primary stays silent until every
            // backup has vouched for it (`Replication::settle_doubt`).
            if p.in_doubt && e.rep.role() == Role::Backup && e.rep.primary() == Some(sender) {
                e.answer = true;
                kick = true;
            }
            if settled && table.settle(slot) {
                if let Some((_, e)) = table.find_at(slot, &p.tuple) {
                    e.rep.grace(now);
                    e.dirty = true;
                }
            }
            drop(table);
            if let Some(ack) = ack {
                self.replica_play(&ack, Counter::ReplicaAckPlayed);
            }
        }
        self.replicate.waits.wake_all(&wake);
        if kick {
            self.replicate.kick.kick();
        }
    }

    /// Hands connection `tuple`, which this node sends on, to its next
    /// replica `to` (`replica-set-primary`): as a draining node does with
    /// all of them. Process context. The error says why not.
    pub(crate) fn replica_set_primary(
        &self,
        tuple: &Tuple,
        to: u32,
    ) -> core::result::Result<(), (Error, &'static core::ffi::CStr)> {
        let now = clock::now_ms();
        // Without a fresh majority the tick puts the primary in doubt, and
        // another may be about to take over.
        let fresh = self.may_send();
        let mut table = self.replicate.tables.lock(tuple);
        let Some((slot, e)) = table.find_slot(tuple) else {
            return Err((ENOENT, c"no replicated connection by that name here"));
        };
        if e.rep.role() != Role::Primary {
            return Err((EINVAL, c"this node is not the connection's primary"));
        }
        match e.rep.heir() {
            None => return Err((EINVAL, c"the connection has no other replica left")),
            Some(heir) if heir != to => {
                return Err((EINVAL, c"the target is not the connection's next replica"))
            }
            Some(_) => {}
        }
        if e.half_open() || e.fin_end.is_some() {
            return Err((EBUSY, c"the connection is opening or closing"));
        }
        if e.rep.replicas().iter().any(|r| r.id == to && r.joining) {
            return Err((EAGAIN, c"the next replica is still catching up"));
        }
        if !fresh {
            return Err((EAGAIN, c"this node has no fresh majority"));
        }
        if !e.step_down(now) {
            return Err((
                EAGAIN,
                c"the next replica has not reported within the last second, or this node is in doubt",
            ));
        }
        self.counters.bump(Counter::ReplicaSteppedDown);
        // Its report goes out with the work's next run, now.
        e.dirty = true;
        drop(table);
        self.replicate.waits.wake(slot);
        self.replicate.kick.kick();
        Ok(())
    }

    /// Gives every listener of replicate service `vip:port` the gate;
    /// whether they have it (and one listens). Any context.
    pub(crate) fn replica_listener(&self, vip: [u8; 4], port: u16) -> bool {
        let gating = self.replicate.gated.lock().gate(self.net, vip, port);
        match gating {
            Gating::Gated => return true,
            Gating::NoListener => self.counters.bump(Counter::ReplicaDropNoListener),
            Gating::Foreign => self.counters.bump(Counter::ReplicaDropForeignListener),
            Gating::Full => self.counters.bump(Counter::ReplicaDropListenersFull),
        }
        false
    }

    /// Gives TCP's proto back to the gated listeners that stopped
    /// listening or whose service is gone. Process context.
    pub(crate) fn release_gated_listeners(&self) {
        if self.replicate.gated.lock().is_empty() {
            return;
        }
        let services = self.read_plane(Plane::listener_services);
        self.replicate
            .gated
            .lock()
            .release_unless(|addr, port| services.gates(addr, port));
    }
}

/// What the work does for one connection, decided under the table lock.
#[derive(Clone, Copy)]
struct Chore {
    tuple: Tuple,
    /// Its slot in the table.
    slot: usize,
    /// The set or the role changed: the gate's callers must look again.
    wake: bool,
    need_ack: bool,
    /// With `need_ack`: both sides sent their FIN and the client has
    /// acknowledged everything of this node's but the FIN, which the clamp
    /// that lifted may have kept from it (`Clamp::withhold_fin`): the
    /// stack sends it again now rather than at its next, backed-off
    /// timeout. With more unacknowledged, the stack's own retransmissions
    /// carry the FIN in time, and a forced timeout would cost them their
    /// congestion window.
    resend_fin: bool,
    takeover: bool,
    resume: bool,
    release: bool,
    report: bool,
    /// The replicas whose output was found to differ from this node's,
    /// and this node's role since.
    diverged: Option<([Option<u32>; MAX_SET], Role)>,
    /// The node this run brought into the set, and where the client's
    /// stream starts: a catch-up to lead (`replicate/catch_up_work.rs`).
    lead: Option<(u32, u32)>,
}

/// The ids of the replicas of `rep` in `mask` (bit i: the i-th), with
/// this node's role, if any.
fn diverged_of(rep: &Replication, mask: u8) -> Option<([Option<u32>; MAX_SET], Role)> {
    (mask != 0).then(|| {
        let ids = core::array::from_fn(|i| {
            rep.replicas()
                .get(i)
                .filter(|_| mask & (1 << i) != 0)
                .map(|r| r.id)
        });
        (ids, rep.role())
    })
}

impl crate::sys::ticker::Tick<Work> for Node {
    /// Reads the sockets' progress and reports it, applies membership
    /// changes to the sets, takes connections over, lifts clamps, closes
    /// fenced connections, forgets closed ones. Runs when kicked and every
    /// [`WORK_MS`].
    fn tick(&self) -> u32 {
        let now = clock::now_ms();
        // A gated listener its application closed holds its socket, its
        // namespace and the module until it is given back.
        self.release_gated_listeners();
        let (timers, draining) = {
            let config = self.config.lock();
            let node = config.node();
            (
                node.timers(crate::default_timers()),
                node.effective_weight() == 0,
            )
        };
        // A replica silent on a connection this long is taken out of its
        // set: never sooner than a peer would be counted dead three times
        // over, so that nodes given a long dead timeout (they stall, as
        // emulated guests do) are not fenced connection by connection in
        // the meantime.
        let silence_ms = SILENCE_MS.max(3 * u64::from(timers.dead_ms));
        // A peer dead by a majority is taken out of the sets only half a
        // heartbeat interval after this node counted it dead: that long
        // after this node's heartbeat saying so went out. If that word
        // completed the majority, the peer — alive but cut off one way —
        // loses its fresh majority with it and must have fallen silent
        // before a connection of it is taken over here.
        let takeover_after = u64::from(timers.dead_ms) + u64::from(timers.heartbeat_ms / 2);
        let mut next = WORK_MS;
        let mut dead = [0u32; MAX_PEERS];
        let mut n_dead = 0;
        // The peers this node counts live: one out of a set must learn it
        // from a report, unless it is gone.
        let mut live = PeerIds::new();
        let quorum = {
            let cluster = self.cluster.lock();
            let membership = &cluster.membership;
            let self_id = cluster.self_id;
            for m in membership.members().filter(|m| m.live) {
                live.insert(m.id);
            }
            for m in membership
                .members()
                .filter(|m| membership.dead_by_majority(self_id, m.id))
            {
                let silent = now.saturating_sub(m.last_heard_ms);
                if silent < takeover_after {
                    let wait = u32::try_from(takeover_after - silent).unwrap_or(WORK_MS);
                    next = next.min(wait.max(1));
                    continue;
                }
                if let Some(slot) = dead.get_mut(n_dead) {
                    *slot = m.id;
                    n_dead += 1;
                }
            }
            cluster.membership.has_quorum(cluster.self_id)
        };
        let dead = &dead[..n_dead];
        let fresh = self.may_send();
        // Kicks come with every segment that moves a connection: between
        // two sweeps of every connection (each WORK_MS: its socket read, a
        // report due), a kicked run does only the connections that moved
        // or have something to do.
        // The peers that send summaries, and the buckets of connections
        // any asked to be reported again: a sweep.
        let mut vouches = [Vouch::default(); MAX_PEERS];
        let (speaking, refresh, n_vouches) =
            self.replicate.summaries.lock().for_run(now, &mut vouches);
        let vouches = &vouches[..n_vouches];
        let refreshing = refresh.iter().any(|&(_, mask)| mask != 0);
        let mut vouched = 0u64;
        let sweep = refreshing
            || now.saturating_sub(self.replicate.swept_ms.load(Ordering::Relaxed))
                >= WORK_MS.into();
        if sweep {
            self.replicate.swept_ms.store(now, Ordering::Relaxed);
        }
        // Room for every connection as last counted, and some. Any beyond
        // wait for the next run: growing the buffer under the table's lock
        // would reallocate a vmalloc'ed one, whose lock is not taken with
        // bottom halves off (lockdep says so at 100,000 connections).
        let counted = self.replicate.tables.len();
        let room = if counted == 0 {
            0
        } else {
            counted + counted / 16 + 64
        };
        let Ok(mut chores) = KVVec::<Chore>::with_capacity(room, GFP_KERNEL) else {
            return WORK_MS;
        };
        // Entries left for the next run (no room for their chores), and
        // the queues to wake for them.
        let mut again = false;
        let mut woken = QueueSet::default();
        // Catch-ups: only in a sweep that looks for them, as many as there
        // are free slots to lead them.
        let admitting = sweep && fresh && quorum && {
            let retry = self.replicate.admit_retry_ms.load(Ordering::Relaxed);
            let due = self.replicate.admit_due.swap(false, Ordering::Relaxed)
                || (retry != 0 && now >= retry);
            if due {
                self.replicate.admit_retry_ms.store(0, Ordering::Relaxed);
            }
            due
        };
        let mut admit_room = if admitting { self.catch_up_room() } else { 0 };
        let mut admit_again = false;
        // A set that changed (a replica left it) may be short now.
        let mut set_changed = false;
        self.replicate.tables.for_each_shard(|table| {
            table.for_each_mut(|slot, e| {
                // What the peers' summaries vouched for counts as heard
                // when they came: before the silent are counted out.
                if !vouches.is_empty() {
                    let bucket = 1 << summary::bucket_of(&e.tuple);
                    for v in vouches.iter().filter(|v| v.buckets & bucket != 0) {
                        if let Some(w) = e.rep.heard_from(v.id) {
                            // The same word again: only the time moves.
                            e.rep.heard(v.id, &w, v.at_ms);
                            vouched += 1;
                        }
                    }
                }
                let was = e.rep.role();
                let set_was = e.rep.members_mask();
                if was == Role::Primary && !fresh {
                    e.rep.doubt();
                }
                if quorum {
                    for &id in dead {
                        if e.rep.replicas().iter().any(|r| r.id == id && !r.excluded) {
                            e.takeover |= e.rep.exclude(id);
                            self.counters.bump(Counter::ReplicaExcluded);
                        }
                    }
                    // Nothing is due from the others before the client
                    // completed its handshake (`Replication::grace`).
                    if !e.half_open() {
                        let silent = e.rep.exclude_silent(now, silence_ms);
                        self.counters.add(Counter::ReplicaExcluded, silent as u64);
                    }
                    // With every backup left vouching or gone, a doubt
                    // ends; the stack must then send what it held back.
                    e.resume |= e.rep.role() == Role::Primary && e.rep.settle_doubt();
                    // A draining node hands every connection it sends on to
                    // its next replica (a planned switchover, not a
                    // failover); one whose client has not completed its
                    // handshake, once it has.
                    if draining && e.step_down(now) {
                        self.counters.bump(Counter::ReplicaSteppedDown);
                    }
                    // Backups gone may have freed what the clamp held.
                    e.need_ack |= e.held.is_some_and(|h| e.rep.lifts(&h));
                }
                // A node that just became primary: replicas still joining
                // leave (their catch-up was the old primary's), or it is
                // one itself and cannot go on.
                if e.takeover {
                    let n = e.rep.settle_joining();
                    self.counters.add(Counter::ReplicaExcluded, n as u64);
                }
                let mut lead = None;
                // Not when the run's chores are full: the catch-up to lead
                // would be lost with the chore.
                if admitting && chores.len() < chores.capacity() {
                    match self.admission_due(e) {
                        Ok(Some(id)) if admit_room > 0 => {
                            if e.rep.admit(id, now).is_some() {
                                lead = Some((id, e.acks.client_next()));
                                admit_room -= 1;
                            }
                        }
                        Ok(Some(_)) | Err(()) => admit_again = true,
                        Ok(None) => {}
                    }
                }
                if was != Role::Fenced && e.rep.role() == Role::Fenced {
                    e.release = true;
                }
                let wake = e.rep.role() != was || e.rep.members_mask() != set_was;
                set_changed |= wake && lead.is_none();
                // A new set or role is news for the others too.
                e.dirty |= wake;
                // A connection that stopped moving is reported a few times
                // more; then, if every other replica's node sends
                // summaries, only when it moves again or one asks
                // (`replicate/summary.rs`). A primary in doubt reports on:
                // its backups answer each report, and so vouch for it.
                let summarised = e.quiet_reports >= QUIET_REPEATS
                    && e.rep
                        .summarisable(|id| speaking.contains(id), |id| live.contains(id));
                let asked = refreshing
                    && refresh.iter().any(|&(id, mask)| {
                        summary::in_buckets(mask, &e.tuple) && e.rep.report_to().any(|r| r == id)
                    });
                let due = (REPORT_MS << e.quiet_reports.min(8)).min(IDLE_REPORT_MS);
                let report = e.dirty
                    || e.answer
                    || asked
                    || (!summarised
                        && (e.reported_digest == 0 || e.reported_ms.before(now) >= due));
                let busy = e.dirty
                    || e.answer
                    || e.need_ack
                    || e.takeover
                    || e.resume
                    || e.release
                    || e.diverged != 0;
                if !(sweep || busy || wake) {
                    return;
                }
                if e.half_open() && !(busy || wake || report) {
                    // Nothing moves on a connection whose client has not
                    // completed its handshake (a SYN flood makes them by
                    // the thousand): between its reports, its socket is
                    // looked at only to forget it, once idle that long.
                    if e.last_ms.before(now) <= FORGET_MS {
                        return;
                    }
                }
                if chores.len() == chores.capacity() {
                    // No room (a connection added since the count above):
                    // the entry keeps what it has to do, and the work runs
                    // again at once. A set or role that changed is woken
                    // for here: nothing else remembers it.
                    if wake {
                        woken.insert(slot);
                    }
                    again = true;
                    return;
                }
                let need_ack = core::mem::take(&mut e.need_ack);
                // Within the capacity, `push` allocates nothing and cannot
                // fail.
                let _ = chores.push(
                    Chore {
                        tuple: e.tuple,
                        slot,
                        wake,
                        need_ack,
                        resend_fin: need_ack
                            && e.acks.fin_seen()
                            && e.fin_end
                                .is_some_and(|f| e.acks.highest() == f.wrapping_sub(1)),
                        takeover: core::mem::take(&mut e.takeover),
                        resume: core::mem::take(&mut e.resume),
                        release: core::mem::take(&mut e.release),
                        report,
                        diverged: diverged_of(&e.rep, core::mem::take(&mut e.diverged)),
                        lead,
                    },
                    GFP_ATOMIC,
                );
            });
        });
        self.counters.add(Counter::ReplicaSummaryHeard, vouched);
        if set_changed {
            self.replicate.admit_due.store(true, Ordering::Relaxed);
        }
        // A connection to re-protect that could not be yet (its
        // application has not read all its client sent): looked at again in
        // a second, not at every sweep.
        if admit_again {
            self.replicate
                .admit_retry_ms
                .store(now + 1000, Ordering::Relaxed);
        }
        {
            let mut admitted = [(Tuple::default(), 0u32, 0u32); MAX_LEADING];
            let mut n = 0;
            for c in chores.iter() {
                if let (Some((joiner, client_next)), Some(slot)) = (c.lead, admitted.get_mut(n)) {
                    *slot = (c.tuple, joiner, client_next);
                    n += 1;
                }
            }
            self.lead_catch_ups(&admitted[..n], now);
        }
        for c in chores.iter() {
            let mut woke = c.wake;
            self.replica_chore(c, now, &mut woke);
            if woke {
                self.replicate.waits.wake(c.slot);
            }
        }
        self.send_progress(&chores, now);
        // Once per sweep: what a catch-up sends again is paced by it.
        if sweep {
            self.run_catch_ups(now);
        }
        if now.saturating_sub(self.replicate.summary_sent_ms.load(Ordering::Relaxed)) >= SUMMARY_MS
        {
            self.replicate.summary_sent_ms.store(now, Ordering::Relaxed);
            self.send_summaries(&live);
        }
        if again {
            self.replicate.waits.wake_all(&woken);
            // At once, and a sweep: what the entries left out are due for
            // may be a sweep's (their socket read, a report due by time).
            self.replicate.swept_ms.store(0, Ordering::Relaxed);
            next = 1;
        }
        next
    }
}

impl Node {
    /// Does one connection's chores. Process context.
    fn replica_chore(&self, c: &Chore, now: u64, woke: &mut bool) {
        if let Some((others, role)) = c.diverged {
            for &other in others.iter().flatten() {
                if crate::sys::log::ratelimited() {
                    pr_info!(
                        "{}: the output of node {other}'s replica differs from this node's: \
                         the backup of the two left the set\n",
                        c.tuple
                    );
                }
                crate::control::notify_diverged(self, &c.tuple, role, other);
            }
        }
        if c.release {
            // In whatever state its stack is: a socket left closing (its
            // FIN or the client's not yet acknowledged) would otherwise
            // send on into the drop of untracked segments until it gives
            // up, minutes later.
            if let Some(sk) = TcpSocket::lookup_full(self.net, &c.tuple) {
                sk.release_silently();
            }
            self.counters.bump(Counter::ReplicaFenced);
            if crate::sys::log::ratelimited() {
                pr_info!(
                    "{}: replicated connection fenced: this node no longer serves it\n",
                    c.tuple
                );
            }
            self.replicate.tables.lock(&c.tuple).remove(&c.tuple);
            return;
        }
        let progress = tcp::progress(self.net, &c.tuple);
        let mut table = self.replicate.tables.lock(&c.tuple);
        let Some((_, e)) = table.find_at(c.slot, &c.tuple) else {
            return;
        };
        match &progress {
            Some(p) => {
                if e.rep.advance_own(Some(p.rcv_nxt), None, Some(p.window_end)) {
                    e.dirty = true;
                    *woke = true;
                }
            }
            None => {
                if e.last_ms.before(now) > FORGET_MS && !tcp::socket_exists(self.net, &c.tuple) {
                    table.remove(&c.tuple);
                    return;
                }
            }
        }
        if c.takeover {
            if let Some(p) = &progress {
                e.tr.ts_delta = takeover_ts_delta(e.tr.ts_delta, p.tsval_now, e.latest_echo);
            }
        }
        drop(table);
        if c.takeover {
            self.counters.bump(Counter::ReplicaTakeovers);
            if crate::sys::log::ratelimited() {
                pr_info!(
                    "{}: took over the replicated connection as its primary\n",
                    c.tuple
                );
            }
        }
        if c.takeover || c.resume {
            tcp::ack_now(self.net, &c.tuple, true);
            *woke = true;
        } else if c.need_ack {
            tcp::ack_now(self.net, &c.tuple, c.resend_fin);
        }
    }

    /// Reports the progress of the connections due to each of their other
    /// replicas, in as few datagrams as fit. Process context.
    fn send_progress(&self, chores: &[Chore], now: u64) {
        // A bounded part of the connections at a time, gathered in one
        // buffer of a few tens of KiB however many are tracked (one for all
        // of them would take megabytes at 100,000, more than kmalloc gives).
        // Room for every entry of a part to every other replica: nothing
        // allocates under the lock. kvmalloc: a fragmented memory cannot
        // make a run fail to report.
        let reporting = chores.iter().filter(|c| c.report).count();
        if reporting == 0 {
            return;
        }
        let Ok(mut out) = KVVec::from_elem(
            (0u32, Progress::default()),
            reporting.min(REPORT_CHUNK) * (MAX_SET - 1),
            GFP_KERNEL,
        ) else {
            return;
        };
        // The sets to send replicas counted out (below): as many.
        let Ok(mut sets) = KVVec::from_elem(None, out.len(), GFP_KERNEL) else {
            return;
        };
        for part in chores.chunks(REPORT_CHUNK) {
            let mut n = 0;
            let mut n_sets = 0;
            for c in part.iter().filter(|c| c.report) {
                let mut table = self.replicate.tables.lock(&c.tuple);
                let Some((_, e)) = table.find_at(c.slot, &c.tuple) else {
                    continue;
                };
                if e.rep.role() == Role::Fenced {
                    continue;
                }
                e.quiet_reports = if e.dirty {
                    0
                } else {
                    e.quiet_reports.saturating_add(1)
                };
                e.dirty = false;
                e.answer = false;
                e.reported_ms = Wrapped::of(now);
                let me = *e.rep.me();
                e.reported_digest = e.digest(&me.ends());
                let p = Progress {
                    tuple: e.tuple,
                    received: me.received,
                    sent: me.sent,
                    members: e.rep.members_mask(),
                    client_acked: e.acks.handshake_done(),
                    window_end: me.window_end,
                    checkpoint: e.output.checkpoint(),
                    in_doubt: e.rep.role() == Role::Primary && e.rep.in_doubt(),
                    output_acked: e.rep.role() == Role::Primary && e.all_acked(),
                };
                for peer in e.rep.report_to() {
                    if let Some(slot) = out.get_mut(n) {
                        *slot = (peer, p);
                        n += 1;
                    }
                }
                // A replica counted out of a set that changed since cannot
                // read the new set's views: it is sent the set with the
                // reports, which fences it (`Replication::adopt`).
                if e.rep.role() == Role::Primary && e.rep.generation() != 0 {
                    for r in e.rep.replicas().iter().filter(|r| r.excluded) {
                        if let Some(slot) = sets.get_mut(n_sets) {
                            *slot = Some((r.id, e.tuple, e.rep.change()));
                            n_sets += 1;
                        }
                    }
                }
            }
            self.send_gathered(&out[..n]);
            for &(to, tuple, set) in sets[..n_sets].iter().flatten() {
                self.send_catch_up_set(to, &tuple, &set);
            }
        }
    }

    /// Sends `out`'s entries, each to its peer: one peer at a time, in as
    /// few datagrams as fit (no sort: a connection has at most MAX_SET
    /// replicas, a node MAX_PEERS peers).
    fn send_gathered(&self, out: &[(u32, Progress)]) {
        let mut batch = [Progress::default(); PROGRESS_MAX_ENTRIES];
        let mut done = [0u32; MAX_PEERS];
        let mut n_done = 0;
        for &(peer, _) in out.iter() {
            if done[..n_done].contains(&peer) {
                continue;
            }
            if let Some(slot) = done.get_mut(n_done) {
                *slot = peer;
                n_done += 1;
            }
            let mut n = 0;
            for (_, p) in out.iter().filter(|(to, _)| *to == peer) {
                batch[n] = *p;
                n += 1;
                if n == PROGRESS_MAX_ENTRIES {
                    self.send_batch(peer, &batch[..n]);
                    n = 0;
                }
            }
            if n > 0 {
                self.send_batch(peer, &batch[..n]);
            }
        }
    }

    fn send_batch(&self, peer: u32, entries: &[Progress]) {
        if self.send_progress_to(peer, entries).is_ok() {
            self.counters
                .add(Counter::ReplicaProgressTx, entries.len() as u64);
        }
    }

    /// Sends every live peer (`peers`, as the run found them) the summary
    /// of the connections the two share
    /// (`replicate/summary.rs`): the digest of this node's last report of
    /// each, by bucket, and the buckets it asks that peer to report again.
    /// Process context.
    fn send_summaries(&self, peers: &PeerIds) {
        if peers.n == 0 {
            return;
        }
        // A few KiB per peer, up to 63 of them: on the heap.
        let Ok(mut sums) = KVVec::from_elem(Summary::default(), peers.n, GFP_KERNEL) else {
            return;
        };
        self.replicate.tables.for_each_shard(|table| {
            for e in table.iter() {
                // Reported at least once: the peer may have heard it.
                if e.reported_digest == 0 || e.rep.role() == Role::Fenced {
                    continue;
                }
                // Replicas out of the set are out of the sums on both
                // sides (`Replication::heard_from`): one fenced forgets
                // the connection, the others keep it.
                for i in e.rep.others_in_set().filter_map(|id| peers.index(id)) {
                    if let Some(sum) = sums.get_mut(i) {
                        sum.add(&e.tuple, e.reported_digest);
                    }
                }
            }
        });
        for (&id, sum) in peers.as_slice().iter().zip(sums.iter()) {
            let refresh = core::mem::take(&mut self.replicate.summaries.lock().slot(id).ask);
            let body = SummaryBody {
                summary: *sum,
                refresh,
            };
            let sent = self.send_to(id, |channel, to| {
                channel.send_summary(to, &body, &self.counters)
            });
            if sent.is_ok() {
                self.counters.bump(Counter::ReplicaSummaryTx);
            }
        }
    }

    /// Takes peer `sender`'s summary: if a bucket's connections are those
    /// this node heard `sender` report, each as last heard, every one of
    /// them counts as heard from it now (the replica work's next run says
    /// so); the others are asked for again with this node's next summary.
    /// Softirq: one walk of the table.
    pub(crate) fn replica_summary(&self, sender: u32, body: &SummaryBody) {
        let now = clock::now_ms();
        self.counters.bump(Counter::ReplicaSummaryRx);
        let mut heard = Summary::default();
        self.replicate.tables.for_each_shard(|table| {
            for e in table.iter() {
                if let Some(w) = e.rep.heard_from(sender) {
                    heard.add(&e.tuple, e.digest(&w));
                }
            }
        });
        let differing = body.summary.differing(&heard);
        self.counters.add(
            Counter::ReplicaSummaryDiffering,
            u64::from(differing.count_ones()),
        );
        {
            let mut peers = self.replicate.summaries.lock();
            let peer = peers.slot(sender);
            peer.heard_ms = now;
            // The connections of the buckets that matched count as heard
            // now; the replica work, which walks them all anyway, says so
            // at its next run (within `WORK_MS`, against seconds of
            // silence before a replica is counted out).
            peer.vouched = !differing;
            peer.vouched_ms = now;
            peer.ask |= differing;
            peer.refresh |= body.refresh;
        }
        if body.refresh != 0 {
            self.replicate.kick.kick();
        }
    }

    fn send_progress_to(&self, to: u32, entries: &[Progress]) -> Result {
        self.send_to(to, |channel, to| {
            channel.send_progress(to, entries, &self.counters)
        })
    }
}

/// Most client bytes one read records in the connection's log (and so
/// may read, while the log is kept): the copy goes through a buffer of
/// this size at most.
const RECORD_MAX: usize = 64 * 1024;

impl Node {
    /// Begins the client log of connection `tuple` (`client_log.rs`)
    /// unless it has one, or it is not to keep one (`replica_log_bytes` is
    /// 0). Process context: the socket gate's first call on it.
    fn begin_log(&self, tuple: &Tuple) {
        let bound = clock::replica_log_bytes() as usize;
        if bound == 0 {
            return;
        }
        let client_next = {
            let mut table = self.replicate.tables.lock(tuple);
            match table.find(tuple) {
                Some(e) if e.log.is_none() && e.rep.role() != Role::Fenced => e.acks.client_next(),
                _ => return,
            }
        };
        let key = self.read_plane(|plane| *plane.key());
        let syn = syn_cache::recall(
            &self.replicate.syn_options,
            &key,
            tuple,
            client_next.wrapping_sub(1),
        );
        let Some(log) = log_store::new_log(client_next, syn, bound) else {
            self.counters.bump(Counter::ReplicaLogLost);
            return;
        };
        let mut log = Some(log);
        {
            let mut table = self.replicate.tables.lock(tuple);
            if let Some(e) = table.find(tuple) {
                if e.log.is_none() {
                    e.log = log.take();
                }
            }
        }
        // One made meanwhile by another call, or the entry gone: freed
        // here, out of the lock.
        drop(log);
    }

    /// Records client bytes `at..at + room` (client sequence numbers),
    /// which the application of `sk` may read now, in the connection's
    /// log before it reads them; returns how many of them it may read (at
    /// least one): those recorded while the log is kept, all once it is
    /// not. Process context.
    fn record_read(&self, sk: &GatedSocket, tuple: &Tuple, at: u32, room: usize) -> usize {
        // The log, lent out of the entry: recording allocates, which it
        // must not under the table's lock. Another read of the same
        // socket recording meanwhile (two threads reading one stream)
        // takes microseconds.
        let mut log = loop {
            {
                let mut table = self.replicate.tables.lock(tuple);
                let Some(log) = table.find(tuple).and_then(|e| e.log.as_mut()) else {
                    return room;
                };
                if !log.is_lent() {
                    match log.lend() {
                        Some(log) => break log,
                        None => return room,
                    }
                }
            }
            tcp::sleep_us(50);
        };
        let room = room.min(RECORD_MAX);
        let upto = at.wrapping_add(room as u32);
        // What the log holds already is not copied again; a start past
        // its end is a gap, which `record` finds.
        let from = if after(at, log.end()) { at } else { log.end() };
        let mut may = room;
        let mut lost = None;
        if after(upto, from) {
            let n = upto.wrapping_sub(from) as usize;
            match KVVec::from_elem(0u8, n, GFP_KERNEL) {
                Ok(mut buf) => {
                    let got = sk.peek_received(from, &mut buf);
                    lost = log.record(from, &buf[..got]);
                    // Fewer than asked: the client's FIN ends the queue
                    // (a read after it), or what the stack holds moved.
                    // The application reads only what the log holds; with
                    // nothing more queued, the read finds the end of the
                    // stream or waits in the stack.
                    if got < n && log.is_whole() && after(log.end(), at) {
                        may = log.end().wrapping_sub(at) as usize;
                    }
                }
                Err(_) => lost = log.abandon(),
            }
        }
        let mut log = Some(log);
        let mut lifted = false;
        {
            let mut table = self.replicate.tables.lock(tuple);
            if let Some(e) = table.find(tuple) {
                if let Some(shell) = e.log.as_mut() {
                    if let Some(log) = log.take() {
                        shell.give_back(log);
                    }
                }
                // A replica joining is fed what the log holds: the
                // primary may acknowledge that much further now.
                let end = e.log.as_ref().filter(|l| l.is_whole()).map(|l| l.end());
                if end.is_some_and(|end| e.rep.logged(end))
                    && e.held.is_some_and(|h| e.rep.lifts(&h))
                {
                    e.need_ack = true;
                    lifted = true;
                }
            }
        }
        if lifted {
            self.replicate.kick.kick();
        }
        // The entry went meanwhile: its log goes here, out of the lock.
        drop(log);
        if let Some(why) = lost {
            self.counters.bump(match why {
                Lost::Bound => Counter::ReplicaLogBound,
                Lost::Gap => Counter::ReplicaLogLost,
            });
        }
        may
    }
}

impl SocketGate for Node {
    fn budget(&self, sk: &GatedSocket, want: usize, nonblock: bool, send: bool) -> Result<usize> {
        let tuple = sk.tuple();
        let (mut slot, has_log) = {
            let mut table = self.replicate.tables.lock(&tuple);
            let Some((slot, e)) = table.find_slot(&tuple) else {
                return Ok(want);
            };
            (slot, e.log.is_some())
        };
        if !has_log {
            self.begin_log(&tuple);
        }
        loop {
            // Read before the condition: a wake after it is not missed.
            let Some(queue) = self.replicate.waits.queue(slot) else {
                return Ok(want);
            };
            let seen = queue.generation();
            let p = sk.progress();
            let end = {
                let mut table = self.replicate.tables.lock(&tuple);
                let Some((now_at, e)) = table.find_at(slot, &tuple) else {
                    return Ok(want);
                };
                if now_at != slot {
                    // Forgotten and tracked anew meanwhile: its queue is
                    // another one.
                    slot = now_at;
                    continue;
                }
                match (send, e.rep.role()) {
                    (_, Role::Fenced) => return Ok(want),
                    (true, Role::Backup) => return Ok(want),
                    (true, Role::Primary) => {
                        let Some(end) = e.rep.sendable_end() else {
                            return Ok(want);
                        };
                        // Both in cluster space.
                        Some((end, p.write_seq.wrapping_add(e.tr.seq_delta)))
                    }
                    (false, _) => Some((e.rep.readable_end(p.rcv_nxt), p.copied_seq)),
                }
            };
            if let Some((end, at)) = end {
                if after(end, at) {
                    let room = (end.wrapping_sub(at) as usize).min(want);
                    if send {
                        return Ok(room);
                    }
                    return Ok(self.record_read(sk, &tuple, at, room));
                }
            }
            // Errors, end of file and closing are the stack's to tell. A
            // write after the client's FIN (the answer to a half-closed
            // request) still waits for the backups: only this side's own
            // close ends the writes' gate. What such a read takes still
            // goes into the client log first.
            if send && p.send_done {
                return Ok(want);
            }
            if !send && p.done {
                if after(p.rcv_nxt, p.copied_seq) {
                    let room = (p.rcv_nxt.wrapping_sub(p.copied_seq) as usize).min(want);
                    return Ok(self.record_read(sk, &tuple, p.copied_seq, room));
                }
                return Ok(want);
            }
            if nonblock {
                return Err(EAGAIN);
            }
            if sockhook::signal_pending() {
                return Err(ERESTARTSYS);
            }
            queue.wait_interruptible(seen, WAIT_SLICE_MS)?;
        }
    }
}

/// A read-only view of the table, for the control plane (`replica-get`).
impl Node {
    /// How many replicated connections there were when last counted. Any
    /// context.
    pub(crate) fn replica_count(&self) -> usize {
        self.replicate.tables.len()
    }

    /// Calls `f` with the tuple, replication state and client log of each
    /// replicated connection, under the table's lock: `f` must neither
    /// sleep nor allocate. Process context or softirq.
    pub(crate) fn replica_each(
        &self,
        mut f: impl FnMut(&Tuple, &Replication, Option<&ClientLog<LogVec>>),
    ) {
        self.replicate.tables.for_each_shard(|table| {
            for e in table.iter() {
                f(&e.tuple, &e.rep, e.log.as_deref());
            }
        });
    }
}

/// Feeds the payload of `skb`, a segment this node's stack sent (past
/// `hdr_len` bytes of headers), which starts at server sequence number
/// `at` (cluster space), to `output`: only the bytes it has not taken, in
/// pieces copied from paged data where the packet is not linear. Returns
/// what [`OutputCheck::take`] found. Softirq.
fn take_output(skb: &SkBuff, hdr_len: usize, at: u32, output: &mut OutputCheck) -> u32 {
    let Some(len) = (skb.len() as usize).checked_sub(hdr_len) else {
        return 0;
    };
    let Some(mut done) = output.unread(at, len) else {
        return 0;
    };
    let mut differ = 0;
    let mut buf = [0u8; 256];
    while done < len {
        let piece = skb.bytes_at(hdr_len + done, &mut buf);
        if piece.is_empty() {
            break;
        }
        differ |= output.take(at.wrapping_add(done as u32), piece);
        done += piece.len();
    }
    differ
}

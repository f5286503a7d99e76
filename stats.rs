// SPDX-License-Identifier: GPL-2.0

//! Counters of one node and their text form, `/proc/net/tpcluster`.
//!
//! Kernel-independent: built into the module and into the host test crate.
//! The text form is one `name value` pair per line, names in `snake_case`,
//! values unsigned decimal; readers must ignore names they do not know, so
//! that counters can be added without breaking them. The netlink
//! `stats-get` dump carries the same pairs.

use crate::balance::Decision;
use crate::config::MAX_SERVICES;
use crate::counter_cells::Cells;
use crate::membership::Refusal;
use crate::replay::Rejection;
use crate::wire::DecodeError;
use core::{
    fmt,
    sync::atomic::{AtomicU64, Ordering},
};

/// Defines an enum of named values (`Counter`, `Gauge`): one variant per
/// value, `ALL` of them in the order they are shown, and their names.
macro_rules! named_values {
    ($(#[$ty_doc:meta])* $ty:ident {
        $($(#[$doc:meta])* $variant:ident => $name:literal,)*
    }) => {
        $(#[$ty_doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum $ty {
            $($(#[$doc])* $variant,)*
        }

        impl $ty {
            /// Every one, in the order they are shown.
            pub(crate) const ALL: &'static [$ty] = &[$($ty::$variant,)*];

            /// Its name, `snake_case`.
            pub(crate) const fn name(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)*
                }
            }
        }
    };
}

named_values! {
    /// A counter of the node.
    Counter {
        /// IPv4 packets (fragments counted one by one) seen by the PRE_ROUTING hook.
        HookPackets => "hook_packets",
        /// Bytes of those packets, IP headers included.
        HookBytes => "hook_bytes",
        /// Packets the PRE_ROUTING hook timed (module parameter `hook_timing`).
        HookInTimedPackets => "hook_in_timed_packets",
        /// Nanoseconds the PRE_ROUTING hook took over them.
        HookInTimedNs => "hook_in_timed_ns",
        /// Packets the POST_ROUTING hook timed (module parameter `hook_timing`).
        HookOutTimedPackets => "hook_out_timed_packets",
        /// Nanoseconds the POST_ROUTING hook took over them.
        HookOutTimedNs => "hook_out_timed_ns",
        /// SYNs for a VIP this node owns: new connections taken.
        VipNewConnections => "vip_new_connections",
        /// Later TCP segments for a VIP whose socket this node holds, delivered.
        VipHeld => "vip_held",
        /// Other packets for a VIP (ICMP, UDP) this node owns, delivered.
        VipOwned => "vip_owned",
        /// SYNs and other packets for a VIP another node owns, dropped.
        VipDropNotOwner => "vip_drop_not_owner",
        /// SYNs and other packets for a VIP this node would own while it is no
        /// full member (minority, or not yet counted in by its peers), dropped.
        VipDropNotMember => "vip_drop_not_member",
        /// Later TCP segments of connections this node does not hold, dropped.
        VipDropNotHeld => "vip_drop_not_held",
        /// Fragments for a VIP, dropped (their owner cannot be known).
        VipDropFragment => "vip_drop_fragment",
        /// Packets for a VIP while this node has no id, dropped.
        VipDropUnconfigured => "vip_drop_unconfigured",
        /// SYNs for a VIP that no member takes (every one drains), dropped.
        VipDropNoCandidate => "vip_drop_no_candidate",
        /// Times this node's answer to "does an application listen for
        /// this service here" changed; after a stop, the answer is yes only
        /// once it has listened for `ready_hold_ms` (`ready_hold.rs`).
        ServiceReadyChanges => "service_ready_changes",
        /// ARP requests for a VIP answered with its cluster MAC.
        ArpReplies => "arp_replies",
        /// Channel datagrams sent.
        ChannelTx => "channel_tx",
        /// Channel datagrams the socket refused to send.
        ChannelTxErrors => "channel_tx_errors",
        /// Channel datagrams authenticated and acted on.
        ChannelRxGood => "channel_rx_good",
        /// Channel datagrams shorter than a header and a MAC.
        ChannelDropTooShort => "channel_drop_too_short",
        /// Channel datagrams with a wrong magic.
        ChannelDropBadMagic => "channel_drop_bad_magic",
        /// Channel datagrams of another format version.
        ChannelDropBadVersion => "channel_drop_bad_version",
        /// Channel datagrams with reserved bits set.
        ChannelDropBadReserved => "channel_drop_bad_reserved",
        /// Channel datagrams whose length disagrees with their header.
        ChannelDropBadLength => "channel_drop_bad_length",
        /// Channel datagrams of another cluster (another key).
        ChannelDropWrongCluster => "channel_drop_wrong_cluster",
        /// Channel datagrams whose MAC does not verify: forged or corrupted.
        ChannelDropBadMac => "channel_drop_bad_mac",
        /// Authenticated channel datagrams whose body does not parse.
        ChannelDropMalformed => "channel_drop_malformed",
        /// Authenticated channel datagrams of a kind this node does not know.
        ChannelDropUnknownKind => "channel_drop_unknown_kind",
        /// Authenticated channel datagrams from an id that is no peer.
        ChannelDropUnknownSender => "channel_drop_unknown_sender",
        /// Authenticated channel datagrams from another address than the peer's.
        ChannelDropWrongAddress => "channel_drop_wrong_address",
        /// Channel datagrams whose counter was seen before: replays.
        ChannelDropReplay => "channel_drop_replay",
        /// Channel datagrams whose counter is too far behind the sender's latest.
        ChannelDropTooOld => "channel_drop_too_old",
        /// Channel datagrams received while the channel is not configured.
        ChannelDropUnconfigured => "channel_drop_unconfigured",
        /// Peers that became live.
        MemberUp => "member_up",
        /// Peers that became dead.
        MemberDown => "member_down",
        /// Heartbeat rounds of this node that ran more than half the dead
        /// timeout after the one before: the machine is too busy for the
        /// timers, and peers may count it out though it works.
        HeartbeatLate => "heartbeat_late",
        /// Connections this node handed to another (the target confirmed).
        HandoverOut => "handover_out",
        /// Connections handed to this node and now held here.
        HandoverIn => "handover_in",
        /// Handovers asked of this node that failed; the connection stayed.
        HandoverFailed => "handover_failed",
        /// Offers this node refused as a target.
        HandoverRefused => "handover_refused",
        /// Segments from clients rewritten into this node's sequence space.
        SpliceRewrittenIn => "splice_rewritten_in",
        /// Segments to clients rewritten into the client's sequence space.
        SpliceRewrittenOut => "splice_rewritten_out",
        /// Segments of a connection in handover held back (the client resends).
        SpliceHeldBack => "splice_held_back",
        /// Segments this node's stack sent on a connection it has handed away,
        /// dropped.
        SpliceDropOut => "splice_drop_out",
        /// Segments that could not be rewritten (headers not writable), dropped.
        SpliceDropUnwritable => "splice_drop_unwritable",
        /// Replayed bytes played to this node's stack.
        SpliceReplayedBytes => "splice_replayed_bytes",
        /// Handed-over connections whose handshake end or replayed bytes
        /// this node's stack had dropped (its accept queue full), played
        /// to it again.
        SplicePlayedAgain => "splice_played_again",
        /// Replicated connections set up on this node (one per replica).
        ReplicaConnections => "replica_connections",
        /// Client segments of replicated connections translated to this
        /// node's stack.
        ReplicaIn => "replica_in",
        /// Segments this node sent to clients as a primary.
        ReplicaOut => "replica_out",
        /// Segments of this node's stack held back as a backup (or fenced).
        ReplicaSuppressed => "replica_suppressed",
        /// Segments a primary sent with its acknowledgment held back to what
        /// every backup has received.
        ReplicaAckClamped => "replica_ack_clamped",
        /// Connections this node took over as primary.
        ReplicaTakeovers => "replica_takeovers",
        /// Replicas taken out of a connection's set (dead, or silent).
        ReplicaExcluded => "replica_excluded",
        /// Connections this node fenced: it lost its majority, or the primary
        /// stopped counting it.
        ReplicaFenced => "replica_fenced",
        /// SYNs for a replicate service dropped: nothing listens on it here.
        ReplicaDropNoListener => "replica_drop_no_listener",
        /// Progress entries sent to peers.
        ReplicaProgressTx => "replica_progress_tx",
        /// Progress entries taken from peers.
        ReplicaProgressRx => "replica_progress_rx",
        /// Progress summaries sent to peers (`replicate/summary.rs`): one
        /// per live peer every 400 ms.
        ReplicaSummaryTx => "replica_summary_tx",
        /// Progress summaries taken from peers.
        ReplicaSummaryRx => "replica_summary_rx",
        /// Connections counted heard from a peer by its summary, without a
        /// report of their own.
        ReplicaSummaryHeard => "replica_summary_heard",
        /// Buckets of a peer's summary that differed from what this node
        /// heard (a report lost, a connection one side has and the other
        /// not yet or no longer): their connections are asked for again.
        ReplicaSummaryDiffering => "replica_summary_differing",
        /// Replicated connections not tracked: the table was full.
        ReplicaTableFull => "replica_table_full",
        /// Segments this node's stack sent from a replicate service's port on
        /// a connection it does not track (table full, or not in its set),
        /// dropped: such a connection is answered by its replicas only.
        ReplicaDropUntracked => "replica_drop_untracked",
        /// The client's acknowledgment of the SYN-ACK played to this node's
        /// stack, which still waited for it (lost on the way here, or dropped
        /// by the stack) when the client had sent it, or after a forgotten
        /// handshake's SYN (`ReplicaHandshakeRecovered`).
        ReplicaHandshakePlayed => "replica_handshake_played",
        /// The client's acknowledgment played to this node's stack, a backup's,
        /// of what the stack sent only after the client had acknowledged it
        /// (its FIN, after the primary's was acknowledged).
        ReplicaAckPlayed => "replica_ack_played",
        /// Client segments dropped by a backup: they acknowledge bytes no
        /// replica has sent, so the primary's stack drops them too (RFC 5961,
        /// section 5.2), and a backup that took them would hold bytes, or a
        /// handshake, the primary does not. A forged segment, or one of an
        /// earlier connection on the same ports.
        ReplicaDropAckUnsent => "replica_drop_ack_unsent",
        /// SYNs for a replicate service dropped: a listener of it has a proto
        /// other than TCP's (a ULP or a BPF sockmap replaced it), so the socket
        /// gate cannot be added to it.
        ReplicaDropForeignListener => "replica_drop_foreign_listener",
        /// SYNs for a replicate service dropped: its listeners are more than
        /// the node can give the socket gate.
        ReplicaDropListenersFull => "replica_drop_listeners_full",
        /// Authentic channel datagrams for another node, dropped: recorded on
        /// the way to it and replayed here.
        ChannelDropWrongRecipient => "channel_drop_wrong_recipient",
        /// Authentic datagrams bound to an earlier epoch of this node's
        /// channel (recorded before it opened, and replayed; or sent before the
        /// sender heard of the current one), and handover or progress
        /// datagrams bound to no epoch, dropped.
        ChannelDropStaleEpoch => "channel_drop_stale_epoch",
        /// Heartbeats not bound to this node's current channel epoch (the
        /// sender had not heard of it yet): they only taught the sender's own
        /// epoch, not its liveness.
        ChannelRxUnbound => "channel_rx_unbound",
        /// Replicated connections not tracked: no memory for their entry
        /// (allocated in softirq, so it cannot wait for memory).
        ReplicaAllocFailed => "replica_alloc_failed",
        /// Half-open replicated connections (the client has not completed its
        /// handshake) forgotten, oldest first, to make room for a new one:
        /// at most `replica_half_open` are tracked. A SYN flood shows here.
        ReplicaHalfOpenEvicted => "replica_half_open_evicted",
        /// Replicated connections this node, their primary, handed to their
        /// next replica (a planned switchover: it drains, or `tpctl conn
        /// primary`): it falls silent on them, and lets them go once the
        /// new primary has taken over.
        ReplicaSteppedDown => "replica_stepped_down",
        /// Replicated connections on which this node found a replica's
        /// output different from its own (`replicate/output_digest.rs`):
        /// this node as primary took that backup out of the set, or, as a
        /// backup, took itself out; the replica left is fenced before it
        /// could ever take over.
        ReplicaDiverged => "replica_diverged",
        /// Connections whose output digest this node lost (its stack sent a
        /// segment starting beyond what the hook saw go out): the rest of
        /// their output is not checked.
        ReplicaOutputUnchecked => "replica_output_unchecked",
        /// Connections whose client sent more than `replica_log_bytes`
        /// before this node's log of it could be given to a replica brought
        /// in: the log is freed, and the connection is no longer
        /// re-protected (`replicate/client_log.rs`).
        ReplicaLogBound => "replica_log_bound",
        /// Connections whose client log this node could not keep (no
        /// memory, or bytes read that it could not record): not
        /// re-protected either.
        ReplicaLogLost => "replica_log_lost",
        /// Replicas this node, a connection's primary, brought into its set
        /// (catch-up, `Documentation/replicate.rst`): the set was short of
        /// R and a live node serving the service was out of it.
        ReplicaCatchUps => "replica_catch_ups",
        /// Of those, the replicas that caught up: reported as far as this
        /// node had come when it brought them in.
        ReplicaCaughtUp => "replica_caught_up",
        /// Catch-ups this node gave up leading: the connection, its
        /// primaryship or the replica brought in went, or it did not catch
        /// up within 30 s.
        ReplicaCatchUpAbandoned => "replica_catch_up_abandoned",
        /// Catch-up messages this node sent (the set, the handshake, the
        /// client's bytes a chunk at a time).
        ReplicaCatchUpTx => "replica_catch_up_tx",
        /// Catch-up messages this node received.
        ReplicaCatchUpRx => "replica_catch_up_rx",
        /// Connections this node was brought into: the client's handshake
        /// played to its stack, answered, and the entry made.
        ReplicaJoined => "replica_joined",
        /// Client handshakes played to this node's stack for a catch-up.
        ReplicaJoinPlayed => "replica_join_played",
        /// Chunks of a client's stream played to this node's stack for a
        /// catch-up.
        ReplicaCatchUpPlayed => "replica_catch_up_played",
        /// Handshakes this node's replica entry was lost for (forgotten
        /// half-open) before the client completed them, played again to its
        /// stack when the client's acknowledgment came
        /// (`replicate/lost_handshake.rs`).
        ReplicaHandshakeRecovered => "replica_handshake_recovered",
        /// Of those, the ones whose client's SYN options this node no longer
        /// remembered (`replicate/syn_cache.rs`): played with the options
        /// any client accepts (MSS 536, no window scaling for the client,
        /// no SACK), the connection slower for it.
        ReplicaHandshakeNoOptions => "replica_handshake_no_options",
    }
}

// Gauges below this line (tpctl tells counters from gauges by it).
named_values! {
    /// A value of the node that goes up and down (a counter only goes up):
    /// shown after the counters, in the same `name value` form.
    Gauge {
        /// Replicated connections tracked now.
        ReplicaEntries => "replica_entries",
        /// Of them, half-open: the client has not completed its handshake.
        ReplicaHalfOpen => "replica_half_open",
        /// Replicated connections the node can track (module parameter
        /// `replica_conns`).
        ReplicaCapacity => "replica_capacity",
        /// Bytes the module holds for replicated connections: the table's
        /// index (allocated whole, whatever is tracked) and each tracked
        /// connection's entry.
        ReplicaBytes => "replica_bytes",
        /// Connections tracked now in or after a handover.
        SpliceEntries => "splice_entries",
        /// Connections the node can track in or after a handover (module
        /// parameter `splice_conns`).
        SpliceCapacity => "splice_capacity",
        /// Bytes the module holds for them: the table's index and each
        /// entry, the bytes a handover replays apart.
        SpliceBytes => "splice_bytes",
    }
}

impl Counter {
    /// The counter of a rejected datagram.
    pub(crate) fn of_decode_error(e: DecodeError) -> Self {
        match e {
            DecodeError::TooShort => Counter::ChannelDropTooShort,
            DecodeError::BadMagic => Counter::ChannelDropBadMagic,
            DecodeError::BadVersion => Counter::ChannelDropBadVersion,
            DecodeError::BadReserved => Counter::ChannelDropBadReserved,
            DecodeError::BadLength => Counter::ChannelDropBadLength,
            DecodeError::WrongCluster => Counter::ChannelDropWrongCluster,
            DecodeError::BadMac => Counter::ChannelDropBadMac,
            DecodeError::Malformed => Counter::ChannelDropMalformed,
        }
    }

    /// The counter of a refused heartbeat.
    pub(crate) fn of_refusal(r: Refusal) -> Self {
        match r {
            Refusal::UnknownSender => Counter::ChannelDropUnknownSender,
            Refusal::WrongAddress => Counter::ChannelDropWrongAddress,
            Refusal::Replay(Rejection::Duplicate) => Counter::ChannelDropReplay,
            Refusal::Replay(Rejection::TooOld) => Counter::ChannelDropTooOld,
            Refusal::StaleEpoch => Counter::ChannelDropStaleEpoch,
        }
    }

    /// The counter of the hook's decision, if it has one.
    pub(crate) fn of_decision(d: Decision) -> Option<Self> {
        Some(match d {
            Decision::NotVip => return None,
            Decision::NewConnection => Counter::VipNewConnections,
            Decision::Held => Counter::VipHeld,
            Decision::Owned => Counter::VipOwned,
            Decision::NotOwner => Counter::VipDropNotOwner,
            Decision::NotMember => Counter::VipDropNotMember,
            Decision::NotHeld => Counter::VipDropNotHeld,
            Decision::Fragment => Counter::VipDropFragment,
            Decision::Unconfigured => Counter::VipDropUnconfigured,
            Decision::NoCandidate => Counter::VipDropNoCandidate,
        })
    }
}

/// Number of counters.
const N: usize = Counter::ALL.len();

/// Counters updated from any context without locks.
///
/// The cells are per CPU in the module (`rust/percpu.rs`: an update touches
/// no cache line another CPU writes) and atomics in the host tests
/// (`counter_cells`, provided by each crate). Each counter is individually
/// exact; a reader while packets flow may see one counter updated and
/// another not yet.
pub(crate) struct Counters {
    cells: Cells<N>,
}

impl Counters {
    /// Every counter at zero; `None` if the memory for them cannot be had.
    /// Process context.
    pub(crate) fn new() -> Option<Self> {
        Some(Self {
            cells: Cells::new()?,
        })
    }

    /// Adds `n` to `counter`.
    pub(crate) fn add(&self, counter: Counter, n: u64) {
        self.cells.add(counter as usize, n);
    }

    /// Adds one to `counter`.
    pub(crate) fn bump(&self, counter: Counter) {
        self.add(counter, 1);
    }

    /// Accounts one packet of `len` bytes seen by the hook.
    pub(crate) fn count_hook_packet(&self, len: u32) {
        self.bump(Counter::HookPackets);
        self.add(Counter::HookBytes, u64::from(len));
    }

    /// Accounts the hook's decision for one packet.
    pub(crate) fn count_decision(&self, decision: Decision) {
        if let Some(c) = Counter::of_decision(decision) {
            self.bump(c);
        }
    }

    /// The current value of `counter`.
    pub(crate) fn get(&self, counter: Counter) -> u64 {
        self.cells.sum(counter as usize)
    }

    /// Writes the text form.
    pub(crate) fn write(&self, out: &mut impl fmt::Write) -> fmt::Result {
        for &c in Counter::ALL {
            writeln!(out, "{} {}", c.name(), self.get(c))?;
        }
        Ok(())
    }
}

/// Per-service counters, by the service's counter slot
/// (`config::Service::slot`): how many new connections this node took for
/// each service since it was added.
///
/// # Invariants
///
/// `since[i]` is what `connections` summed to for slot `i` when its
/// service was added: the service's count is the difference.
pub(crate) struct ServiceCounters {
    connections: Cells<MAX_SERVICES>,
    since: [AtomicU64; MAX_SERVICES],
}

impl ServiceCounters {
    /// Every slot at zero; `None` if the memory for them cannot be had.
    /// Process context.
    pub(crate) fn new() -> Option<Self> {
        Some(Self {
            connections: Cells::new()?,
            since: [const { AtomicU64::new(0) }; MAX_SERVICES],
        })
    }

    /// The service in `slot` starts counting from zero (it was just added).
    pub(crate) fn start(&self, slot: u8) {
        if let Some(since) = self.since.get(usize::from(slot)) {
            since.store(self.connections.sum(usize::from(slot)), Ordering::Relaxed);
        }
    }

    /// This node took a new connection for the service in `slot`.
    pub(crate) fn connection(&self, slot: u8) {
        self.connections.add(usize::from(slot), 1);
    }

    /// How many new connections this node took for the service in `slot`.
    pub(crate) fn connections(&self, slot: u8) -> u64 {
        let since = self
            .since
            .get(usize::from(slot))
            .map_or(0, |s| s.load(Ordering::Relaxed));
        self.connections.sum(usize::from(slot)).wrapping_sub(since)
    }
}

// SPDX-License-Identifier: GPL-2.0

//! The splice handover on one node: the connections it is handing away or
//! has been handed, the netlink request that starts a handover, the
//! channel messages that carry it, and what the packet hooks do for such
//! connections. `splice.rs` has the rules; `Documentation/splice.rst` the
//! protocol and its state machine.
//!
//! Contexts: the request runs in process context and sleeps while it waits
//! for the target; the channel's receive path and the hooks run in softirq
//! and only change the table (under a bottom-half-safe lock), play
//! segments into the stack, and kick the node's handover work, which sends
//! the replies from process context.

use crate::{
    config::Mode,
    conntable::{ConnTable, Keyed, Part, Sharding},
    sharded::{Len, Sharded},
    splice::{
        self, ack_and_window, client_segment, parse_syn_ack, replay_budget, syn_of, Assembly,
        Checksum, Delivery, Inbound, Outbound, Phase, Ports, Translation, SEGMENT_HEADERS_MAX, SYN,
    },
    stats::Counter,
    sys::{
        bindings as b, clock,
        genetlink::Request,
        skbuff::SkBuff,
        tcp::{self, TcpSocket},
        ticker::Kicker,
        waitq::WaitQueue,
    },
    wire::{Handover, Step, TcpState, Tuple, REPLAY_CHUNK, REPLAY_MAX},
    Node,
};
use kernel::{c_str, prelude::*};

/// A connection held here by a handover is forgotten once its socket is
/// gone (TIME_WAIT included) and it has seen no segment this long; an idle
/// connection is never forgotten while its socket lives.
const FORGET_CLOSED_MS: u64 = 60_000;
/// Any other entry (a connection handed away, an offer never committed) is
/// forgotten after this long without a segment or message.
const FORGET_IDLE_MS: u64 = 10_000;
/// How long a handover waits for the dispatcher's socket to have every
/// byte it sent acknowledged.
const QUIET_WAIT_MS: u64 = 3_000;
/// How often an unanswered offer or commit is sent again.
const RESEND_MS: u64 = 100;
/// How long the dispatcher waits for the target's answer to an offer, at
/// least (twice the failure-detection time if that is longer).
const ANSWER_WAIT_MS: u64 = 1_000;
/// The longest a dispatcher waits for that answer, whatever the timers.
const ANSWER_WAIT_MAX_MS: u64 = 10_000;
/// How long the dispatcher waits for the target's confirmation of a commit.
const CONFIRM_WAIT_MS: u64 = 2_000;
/// Largest segment payload played to the new holder.
const PLAY_MSS: usize = 1400;
/// How often the SYN is played again while the new holder's stack has not
/// answered it (its listen queue was full, say).
const SYN_REPLAY_MS: u64 = 200;
/// Most replies the handover work sends per run (it runs again at once if
/// more are due).
const REPLIES_PER_RUN: usize = 16;

/// Marks the node's handover work among its periodic works.
pub(crate) struct Work;

/// A reply the target owes the dispatcher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reply {
    Ready,
    Done,
    Refused(u32),
}

/// One connection in handover, or handed over, on this node.
struct Entry {
    /// The dispatcher's id of the handover.
    id: u64,
    /// The connection as this node's stack has it: on a target, the port is
    /// the service's backend port if it has one.
    tuple: Tuple,
    /// The server port the client knows (`tuple.port` but on a target of
    /// a service with a backend port).
    client_port: u16,
    /// The other side: the target on the dispatcher, the dispatcher on the
    /// target.
    peer: u32,
    phase: Phase,
    /// How this node's stack's view of the server space maps to the
    /// client's, if the connection came here by a handover.
    translation: Option<Translation>,
    /// Target: the offered state.
    state: TcpState,
    /// Target: the interface the VIP is served on.
    ifindex: u32,
    /// Target: the offered bytes to replay.
    assembly: Assembly,
    replay: KVec<u8>,
    /// Target: replayed bytes played to the stack so far.
    played: usize,
    /// Target: when the SYN, or what follows it, was last played, ms.
    syn_ms: u64,
    /// Target: the stack has been seen holding every replayed byte.
    delivered: bool,
    /// Target: a reply the handover work must send.
    reply: Option<Reply>,
    /// When the connection last saw a segment or message, ms.
    last_ms: u64,
}

// What a connection in or after a handover costs the module, its index
// slot and replayed bytes apart.
const _: () = assert!(
    core::mem::size_of::<Entry>() <= 256,
    "handover entry over 256 bytes"
);

impl Keyed for Entry {
    fn tuple(&self) -> &Tuple {
        &self.tuple
    }
}

/// The node's handover table: its entries, and where played segments are
/// built.
pub(crate) struct Table {
    entries: ConnTable<KBox<Entry>>,
    scratch: KVec<u8>,
}

impl Table {
    /// An empty shard of the node's table: its `part`. Process context.
    fn new(part: Part) -> Result<Self> {
        Ok(Self {
            entries: ConnTable::part(part, crate::sharded::table_key()).ok_or(ENOMEM)?,
            scratch: KVec::from_elem(0u8, SEGMENT_HEADERS_MAX + PLAY_MSS, GFP_KERNEL)?,
        })
    }
}

/// The node's handover entries, in shards.
pub(crate) type Tables = Sharded<Table>;

/// Splice on one node: the mode's part of [`Node`].
pub(crate) struct Splice {
    /// Connections in handover or handed over: written by the hooks and
    /// the channel's receive path (softirq), the handover request and the
    /// handover work (process context).
    pub(crate) tables: Tables,
    /// Runs the handover work now (it sends what softirq cannot).
    pub(crate) kick: Kicker,
    /// Wakes handover requests waiting for their target's answer.
    pub(crate) answered: WaitQueue,
}

impl Splice {
    /// Splice with nothing in handover. Process context.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            tables: new_tables()?,
            kick: Kicker::new(),
            answered: WaitQueue::new()?,
        })
    }
}

/// The node's empty handover tables, of `splice_conns` slots. Handover
/// entries are never half-open: no room for any. Process context.
fn new_tables() -> Result<Tables> {
    let sharding = Sharding::new(
        clock::splice_conns() as usize,
        0,
        crate::sharded::table_key(),
    );
    Sharded::new(
        sharding,
        c_str!("tpcluster_splice"),
        kernel::static_lock_class!(),
        Table::new,
    )
}

/// How many entries, how many slots, and the bytes the tables take.
/// Process context.
pub(crate) fn usage(tables: &Tables) -> (usize, usize, usize) {
    let (mut len, mut bytes) = (0, 0);
    tables.for_each_shard(|t| {
        len += t.entries.len();
        bytes += t.entries.bytes() + t.scratch.len();
    });
    (len, tables.capacity(), bytes)
}

impl Len for Table {
    fn len(&self) -> usize {
        self.entries.len()
    }
}

impl Table {
    fn find(&mut self, tuple: &Tuple) -> Option<&mut Entry> {
        self.entries.find(tuple)
    }

    /// The entry of handover `h` from peer `sender`: `tuple`'s (the
    /// handover's connection as this node keys it), if it is of that
    /// handover and that peer (anything else is stale or not ours).
    fn find_handover(
        &mut self,
        tuple: &Tuple,
        h: &Handover<'_>,
        sender: u32,
    ) -> Option<&mut Entry> {
        self.find(tuple)
            .filter(|e| e.id == h.id && e.peer == sender)
    }

    /// The tuple's entry and the scratch buffer, borrowed together.
    fn find_with_scratch(&mut self, tuple: &Tuple) -> Option<(&mut Entry, &mut KVec<u8>)> {
        let Table { entries, scratch } = self;
        entries.find(tuple).map(|e| (e, scratch))
    }

    fn remove(&mut self, tuple: &Tuple) {
        drop(self.entries.remove(tuple));
    }

    /// Puts `entry` in: `ENOMEM` if no memory for it (under the table's
    /// lock, so it cannot wait), `ENOSPC` if the table is full.
    fn insert(&mut self, entry: Entry) -> Result {
        let entry = KBox::new(entry, GFP_ATOMIC)?;
        match self.entries.insert(entry) {
            Ok(_) => Ok(()),
            Err(_) => Err(ENOSPC),
        }
    }
}

/// What the hooks read of a TCP segment's headers: parsed once per packet
/// by the hook, read by both modes' parts.
#[derive(Clone, Copy)]
pub(crate) struct SegmentHead {
    /// Its connection, from the client's side.
    pub(crate) tuple: Tuple,
    /// Its TCP flags.
    pub(crate) flags: u8,
    /// Length of its IP and TCP headers, options included.
    pub(crate) hdr_len: usize,
    /// Its acknowledgment number and window field, if it has an ACK.
    pub(crate) ack_and_window: Option<(u32, u16)>,
}

/// The head of a segment, if `pkt` (IPv4 from `skb->data`) is TCP;
/// `inbound` if it comes from the client.
pub(crate) fn head_of(pkt: &[u8], inbound: bool) -> Option<SegmentHead> {
    let (ihl, doff) = splice::tcp_header(pkt)?;
    let addr = |at: usize| -> Option<[u8; 4]> { pkt.get(at..at + 4)?.try_into().ok() };
    let port = |at: usize| -> Option<u16> {
        Some(u16::from_be_bytes(pkt.get(at..at + 2)?.try_into().ok()?))
    };
    let (src, dst) = (addr(12)?, addr(16)?);
    let (sport, dport) = (port(ihl)?, port(ihl + 2)?);
    let flags = *pkt.get(ihl + 13)?;
    let tuple = if inbound {
        Tuple {
            client: src,
            client_port: sport,
            vip: dst,
            port: dport,
        }
    } else {
        Tuple {
            client: dst,
            client_port: dport,
            vip: src,
            port: sport,
        }
    };
    Some(SegmentHead {
        tuple,
        flags,
        hdr_len: ihl + doff,
        ack_and_window: ack_and_window(pkt),
    })
}

/// What the PRE_ROUTING hook does with a segment for a VIP.
pub(crate) enum InboundVerdict {
    /// Not a connection in handover: decide as usual.
    Default,
    /// Deliver it (rewritten if need be).
    Deliver,
    /// Drop it.
    Drop,
}

impl Node {
    /// The PRE_ROUTING hook's part for connections in handover. Softirq.
    pub(crate) fn splice_inbound(&self, skb: &mut SkBuff, head: &SegmentHead) -> InboundVerdict {
        // Most nodes most of the time: nothing in handover, no lock to
        // take.
        if self.splice.tables.is_empty() {
            return InboundVerdict::Default;
        }
        let SegmentHead {
            tuple: client_view,
            flags,
            hdr_len,
            ..
        } = *head;
        // A connection handed here for a service with a backend port is
        // this stack's on that port: it is looked up there first, so that
        // on a node that handed a connection to itself the handed-over
        // connection, not the dispatcher's gone one, gets the segment. Not
        // while the handover leaves the segment to others (an offer not
        // yet committed): then the dispatcher's frozen entry holds it back.
        let backend = self.read_plane(|p| p.backend_port(client_view.vip, client_view.port));
        // The entries on the service's port and on the backend port are
        // in one shard (`Sharding::shard_of`).
        let mut table = self.splice.tables.lock(&client_view);
        let tuple = backend
            .map(|port| Tuple {
                port,
                ..client_view
            })
            .filter(|t| {
                table
                    .find(t)
                    .is_some_and(|e| e.phase.inbound(flags, e.translation) != Inbound::Default)
            })
            .unwrap_or(client_view);
        let Some(entry) = table.find(&tuple) else {
            return InboundVerdict::Default;
        };
        entry.last_ms = clock::now_ms();
        let fresh_syn = flags & (SYN | splice::ACK) == SYN;
        if fresh_syn && matches!(entry.phase, Phase::Gone { .. } | Phase::Spliced) {
            // The client opens a new connection on the same ports once
            // the old one is over: what was kept of it no longer applies.
            // While this node's stack holds it live (it was spliced here),
            // the SYN is forged or stray: the stack answers it with a
            // challenge ACK, translated as any segment of the connection.
            let live = || {
                entry.phase == Phase::Spliced && tcp::socket_held(self.net, &tuple, skb.ifindex())
            };
            if splice::syn_forgets_entry(false, live) {
                table.remove(&tuple);
                // Handed to this node's own backend, the connection left
                // the router's entry on the client's port too, gone: it
                // goes as well, or it would drop the stack's answer to
                // this SYN (the client would wait a second to send again).
                if tuple != client_view
                    && table
                        .find(&client_view)
                        .is_some_and(|e| matches!(e.phase, Phase::Gone { .. }))
                {
                    table.remove(&client_view);
                }
                return InboundVerdict::Default;
            }
        }
        match entry.phase.inbound(flags, entry.translation) {
            Inbound::Default => InboundVerdict::Default,
            Inbound::Pass => InboundVerdict::Deliver,
            Inbound::Drop => {
                self.counters.bump(Counter::SpliceHeldBack);
                InboundVerdict::Drop
            }
            Inbound::Translate(tr) => {
                let rewritten = self.rewrite(
                    skb,
                    hdr_len,
                    |p, cs| splice::translate_inbound(p, &tr, cs),
                    Counter::SpliceRewrittenIn,
                );
                if rewritten {
                    InboundVerdict::Deliver
                } else {
                    InboundVerdict::Drop
                }
            }
        }
    }

    /// The POST_ROUTING hook's part for connections in handover: whether
    /// to send the packet. Softirq (or bottom halves disabled).
    pub(crate) fn splice_outbound(&self, skb: &mut SkBuff, head: &SegmentHead) -> bool {
        if self.splice.tables.is_empty() {
            return true;
        }
        let SegmentHead {
            tuple,
            flags,
            hdr_len,
            ack_and_window,
        } = *head;
        let mut table = self.splice.tables.lock(&tuple);
        let Some((entry, scratch)) = table.find_with_scratch(&tuple) else {
            return true;
        };
        match entry.phase.outbound(entry.translation) {
            Outbound::Pass => true,
            Outbound::Drop => {
                self.counters.bump(Counter::SpliceDropOut);
                false
            }
            Outbound::CaptureSynAck => {
                let synack = skb.head_mut(hdr_len).and_then(|p| parse_syn_ack(p));
                if let Some(synack) = synack {
                    let mut tr = Translation::of(&entry.state, &synack);
                    tr.ports = Ports {
                        client: entry.client_port,
                        local: entry.tuple.port,
                    };
                    entry.translation = Some(tr);
                    entry.phase = Phase::Spliced;
                    entry.reply = Some(Reply::Done);
                    self.play_to_stack(entry, scratch, None, u64::from(synack.window));
                    entry.syn_ms = clock::now_ms();
                    self.counters.bump(Counter::HandoverIn);
                    drop(table);
                    self.splice.kick.kick();
                }
                // The client must never see this answer: it knows the
                // connection already.
                false
            }
            Outbound::Translate(tr) => {
                if flags & SYN != 0 {
                    // A retransmitted answer to the played SYN: the ACK
                    // that ended the handshake, and the replayed bytes
                    // after it, never reached the stack (a full accept
                    // queue drops them). Played again now that it asks;
                    // the client, which had them acknowledged by the
                    // dispatcher, never sends them again.
                    if !entry.delivered {
                        if let Some((_, field)) = ack_and_window {
                            let now = clock::now_ms();
                            self.play_again(entry, scratch, 0, None, u64::from(field), now);
                        }
                    }
                    self.counters.bump(Counter::SpliceDropOut);
                    return false;
                }
                entry.last_ms = clock::now_ms();
                if entry.played < entry.replay.len() {
                    if let Some((ack, field)) = ack_and_window {
                        let window = u64::from(field) << tr.local_wscale;
                        self.play_to_stack(entry, scratch, Some(ack), window);
                    }
                }
                drop(table);
                self.rewrite(
                    skb,
                    hdr_len,
                    |p, cs| splice::translate_outbound(p, &tr, cs),
                    Counter::SpliceRewrittenOut,
                )
            }
        }
    }

    /// Rewrites the first `hdr_len` bytes of `skb` (its IP and TCP headers)
    /// with `translate`, keeping its checksum as its state requires, and
    /// counts it in `done`; `false` (counted too) if the headers could not
    /// be made writable or did not parse, and the packet must be dropped.
    pub(crate) fn rewrite(
        &self,
        skb: &mut SkBuff,
        hdr_len: usize,
        translate: impl FnOnce(&mut [u8], Checksum) -> Option<()>,
        done: Counter,
    ) -> bool {
        let cs = checksum_of(skb);
        let rewritten = skb
            .head_mut(hdr_len)
            .and_then(|p| translate(p, cs))
            .is_some();
        self.counters.bump(if rewritten {
            done
        } else {
            Counter::SpliceDropUnwritable
        });
        rewritten
    }

    /// Plays to this node's stack, as from the client, what the new holder
    /// needs next: with no `ack` yet, the ACK completing the handshake and
    /// the replayed bytes the stack's first `window` takes; later, more
    /// replayed bytes as the stack acknowledges up to `ack` and opens
    /// `window`. Softirq; the caller holds the table lock.
    fn play_to_stack(
        &self,
        entry: &mut Entry,
        scratch: &mut KVec<u8>,
        ack: Option<u32>,
        window: u64,
    ) {
        let state = entry.state;
        if ack.is_none() {
            let seg = client_segment(&state, entry.tuple, 0, &[]);
            if let Some(n) = splice::build_segment(scratch, &seg) {
                let _ = tcp::play_ipv4(self.net, entry.ifindex, &scratch[..n]);
            }
        }
        let ack = ack.unwrap_or(state.client_seq);
        let budget = replay_budget(&state, entry.replay.len(), entry.played, ack, window);
        let end = entry.played + budget;
        while entry.played < end {
            let from = entry.played;
            let to = (from + PLAY_MSS).min(end);
            let seg = client_segment(&state, entry.tuple, from, &entry.replay[from..to]);
            let Some(n) = splice::build_segment(scratch, &seg) else {
                return;
            };
            if tcp::play_ipv4(self.net, entry.ifindex, &scratch[..n]).is_err() {
                return;
            }
            self.counters
                .add(Counter::SpliceReplayedBytes, (to - from) as u64);
            entry.played = to;
        }
    }

    /// Looks whether the stack of a connection handed here holds what was
    /// played to it, and plays again what it dropped; whether it must be
    /// looked at again. Any context; the caller holds the table lock.
    fn see_delivered(&self, e: &mut Entry, scratch: &mut KVec<u8>, now: u64) -> bool {
        let progress = tcp::progress(self.net, &e.tuple);
        let socket = progress.is_some() || tcp::socket_exists(self.net, &e.tuple);
        let since = now.saturating_sub(e.syn_ms);
        let rcv_nxt = progress.as_ref().map(|p| p.rcv_nxt);
        match splice::delivery(&e.state, e.replay.len(), rcv_nxt, socket, since) {
            Delivery::Delivered => {
                e.delivered = true;
                // Never played again: the memory goes back now.
                e.replay = KVec::new();
                e.played = 0;
                false
            }
            Delivery::Waiting => true,
            Delivery::PlayAgain { handshake, offset } => {
                // The window the stack offers, or (no full socket yet) the
                // most an unscaled SYN-ACK can: beyond it, the stack drops
                // the excess, which is played again next time.
                let (ack, window) = match (handshake, &progress) {
                    (false, Some(p)) => (
                        Some(p.rcv_nxt),
                        u64::from(p.window_end.wrapping_sub(p.rcv_nxt)),
                    ),
                    _ => (None, u64::from(u16::MAX)),
                };
                self.play_again(e, scratch, offset, ack, window, now);
                true
            }
        }
    }

    /// Plays to the stack again what it dropped of a connection handed
    /// here: with no `ack`, the handshake's ACK too; the replayed bytes
    /// from `offset` on, as `window` allows. The caller holds the table
    /// lock.
    fn play_again(
        &self,
        e: &mut Entry,
        scratch: &mut KVec<u8>,
        offset: usize,
        ack: Option<u32>,
        window: u64,
        now: u64,
    ) {
        e.played = offset.min(e.replay.len());
        self.play_to_stack(e, scratch, ack, window);
        e.syn_ms = now;
        self.counters.bump(Counter::SplicePlayedAgain);
    }

    /// Plays the SYN that gives the new holder's stack the connection.
    /// Any context; `netif_rx` only queues, so the table lock may be held.
    fn play_syn(&self, e: &mut Entry, now: u64) {
        let mut pkt = [0u8; SEGMENT_HEADERS_MAX];
        if let Some(n) = splice::build_segment(&mut pkt, &syn_of(&e.state, e.tuple)) {
            let _ = tcp::play_ipv4(self.net, e.ifindex, &pkt[..n]);
        }
        e.syn_ms = now;
    }

    /// A handover message from peer `sender`. Softirq.
    pub(crate) fn handover_received(&self, sender: u32, h: &Handover<'_>) {
        let now = clock::now_ms();
        let (mode, ifindex, backend) = self.read_plane(|plane| {
            (
                plane.service_mode(h.tuple.vip, h.tuple.port),
                plane.vip_ifindex(h.tuple.vip),
                plane.backend_port(h.tuple.vip, h.tuple.port),
            )
        });
        // The target's entry is keyed by the connection as its stack will
        // have it; the dispatcher's by the client's view, as the messages.
        let local = Tuple {
            port: backend.unwrap_or(h.tuple.port),
            ..h.tuple
        };
        let mut table = self.splice.tables.lock(&local);
        match h.step {
            Step::Offer {
                state,
                replay_len,
                chunk_offset,
                chunk,
            } => {
                // A new offer replaces what is left of an earlier handover
                // of the tuple, never a connection this node holds or is
                // handing away.
                let fresh = match table.find(&local) {
                    None => true,
                    Some(e) => {
                        e.id != h.id
                            && matches!(
                                e.phase,
                                Phase::Gone { .. }
                                    | Phase::Assembling
                                    | Phase::Offered
                                    | Phase::TargetRefusing(_)
                            )
                    }
                };
                if fresh {
                    let Some(assembly) = Assembly::new(replay_len as usize) else {
                        return;
                    };
                    let Ok(replay) = KVec::from_elem(0u8, assembly.len(), GFP_ATOMIC) else {
                        return;
                    };
                    let entry = Entry {
                        id: h.id,
                        tuple: local,
                        client_port: h.tuple.port,
                        peer: sender,
                        phase: Phase::Assembling,
                        translation: None,
                        state,
                        ifindex: ifindex.unwrap_or(0),
                        assembly,
                        replay,
                        played: 0,
                        syn_ms: 0,
                        delivered: false,
                        reply: None,
                        last_ms: now,
                    };
                    if table.insert(entry).is_err() {
                        return;
                    }
                }
                let Some(e) = table.find_handover(&local, h, sender) else {
                    return;
                };
                e.last_ms = now;
                match e.phase {
                    Phase::Assembling => {
                        let Entry {
                            assembly, replay, ..
                        } = e;
                        let _ = assembly.add(replay, chunk_offset as usize, chunk);
                        if !e.assembly.complete() {
                            return;
                        }
                        let verdict = self.check_offer(&local, mode, ifindex);
                        e.phase = match verdict {
                            Ok(()) => Phase::Offered,
                            Err(errno) => Phase::TargetRefusing(errno),
                        };
                        e.reply = Some(match verdict {
                            Ok(()) => Reply::Ready,
                            Err(errno) => Reply::Refused(errno),
                        });
                    }
                    // The dispatcher did not hear the answer: say it again.
                    Phase::Offered => e.reply = Some(Reply::Ready),
                    Phase::TargetRefusing(errno) => e.reply = Some(Reply::Refused(errno)),
                    _ => return,
                }
            }
            Step::Commit { server_tsval } => {
                let Some(e) = table.find_handover(&local, h, sender) else {
                    return;
                };
                e.last_ms = now;
                match e.phase {
                    Phase::Offered => {
                        // The dispatcher may have sent segments after its
                        // offer: start the new holder's clock after them,
                        // or the client would drop its first segments as
                        // old (PAWS).
                        if server_tsval.wrapping_sub(e.state.server_tsval) < 1 << 31 {
                            e.state.server_tsval = server_tsval;
                        }
                        e.phase = Phase::SynPlayed;
                        // What a server that closed first kept of the
                        // client's last connection on these ports goes,
                        // as for any new SYN on them (`check_offer`).
                        tcp::end_time_wait(self.net, &e.tuple);
                        // The stack answers through the POST_ROUTING hook,
                        // which completes the handover.
                        self.play_syn(e, now);
                        return;
                    }
                    Phase::Spliced => e.reply = Some(Reply::Done),
                    _ => return,
                }
            }
            Step::Ready | Step::Refused(_) | Step::Done => {
                let Some(e) = table.find_handover(&h.tuple, h, sender) else {
                    return;
                };
                match (e.phase, h.step) {
                    (Phase::Frozen, Step::Ready) => e.phase = Phase::TargetReady,
                    (Phase::Frozen, Step::Refused(errno)) => e.phase = Phase::TargetRefused(errno),
                    (Phase::Gone { .. }, Step::Done) => e.phase = Phase::Gone { confirmed: true },
                    _ => return,
                }
                drop(table);
                self.splice.answered.wake();
                return;
            }
        }
        drop(table);
        self.splice.kick.kick();
    }

    /// Whether this node can take the connection offered to it, `tuple` as
    /// its stack would have it (on the backend port, if any).
    fn check_offer(
        &self,
        tuple: &Tuple,
        mode: Option<Mode>,
        ifindex: Option<u32>,
    ) -> Result<(), u32> {
        let code = |e: Error| e.to_errno().unsigned_abs();
        if mode != Some(Mode::Splice) || ifindex.is_none() {
            return Err(code(errno(kernel::bindings::EOPNOTSUPP)));
        }
        // A live socket of the tuple would answer the played SYN itself. A
        // TIME_WAIT one is what a server that closed first keeps of the
        // client's last connection on these ports, which the client may
        // reuse at once (its side is closed): it is ended when the SYN is
        // played, as the stack ends it for a new SYN (`tcp::end_time_wait`).
        let ifindex = ifindex.and_then(|i| i32::try_from(i).ok()).unwrap_or(0);
        if tcp::socket_held(self.net, tuple, ifindex) {
            return Err(code(EEXIST));
        }
        if !tcp::listening(self.net, tuple.vip, tuple.port) {
            return Err(code(errno(kernel::bindings::ECONNREFUSED)));
        }
        Ok(())
    }

    /// Whether handover target `target` is live (`None`: unknown); this
    /// node (`self_id`) always is.
    fn target_live(&self, target: u32, self_id: u32) -> Option<bool> {
        if target == self_id {
            return Some(true);
        }
        self.cluster.lock().membership.is_live(target)
    }

    /// Sends one handover message to peer `to`: to this node itself (a
    /// handover to its own backend port), by handing it to the receive
    /// path at once. Process context.
    fn send_handover(&self, to: u32, h: &Handover<'_>) -> Result {
        let self_id = self.read_plane(|p| p.self_id());
        if to == self_id && to != 0 {
            self.handover_received(to, h);
            return Ok(());
        }
        self.send_to(to, |channel, to| {
            channel.send_handover(to, h, &self.counters)
        })
    }
}

impl crate::sys::ticker::Tick<Work> for Node {
    /// Sends the replies the receive path and the hooks left, forgets idle
    /// entries; runs when kicked and every second.
    fn tick(&self) -> u32 {
        let now = clock::now_ms();
        let mut replies = [None; REPLIES_PER_RUN];
        let mut n = 0;
        let (mut more, mut waiting_syn) = (false, false);
        self.splice.tables.for_each_shard(|table| {
            table.entries.retain(|e| {
                if let Some(r) = e.reply {
                    if let Some(out) = replies.get_mut(n) {
                        let client_view = Tuple {
                            port: e.client_port,
                            ..e.tuple
                        };
                        *out = Some((e.peer, e.id, client_view, r));
                        e.reply = None;
                        n += 1;
                    }
                }
                let idle = now.saturating_sub(e.last_ms);
                let forget = match e.phase {
                    // A handover request is running: it ends the entry.
                    Phase::Frozen | Phase::TargetReady | Phase::TargetRefused(_) => false,
                    Phase::Spliced => {
                        idle > FORGET_CLOSED_MS && !tcp::socket_exists(self.net, &e.tuple)
                    }
                    _ => idle > FORGET_IDLE_MS,
                };
                !forget
            });
            // A played SYN the stack has not answered (a full listen queue
            // drops it) is played again until it is, or the entry goes; so
            // are the handshake's end and the replayed bytes, until the
            // stack is seen holding them all.
            let Table { entries, scratch } = table;
            entries.for_each_mut(|_, e| {
                if e.phase == Phase::SynPlayed {
                    waiting_syn = true;
                    if now.saturating_sub(e.syn_ms) >= SYN_REPLAY_MS {
                        self.play_syn(e, now);
                    }
                } else if e.phase == Phase::Spliced && !e.delivered {
                    waiting_syn |= self.see_delivered(e, scratch, now);
                }
            });
            more |= table.entries.iter().any(|e| e.reply.is_some());
        });
        for (peer, id, tuple, r) in replies.iter().flatten() {
            let step = match r {
                Reply::Ready => Step::Ready,
                Reply::Done => Step::Done,
                Reply::Refused(e) => {
                    self.counters.bump(Counter::HandoverRefused);
                    Step::Refused(*e)
                }
            };
            let _ = self.send_handover(
                *peer,
                &Handover {
                    id: *id,
                    tuple: *tuple,
                    step,
                },
            );
        }
        if more {
            0
        } else if waiting_syn {
            SYN_REPLAY_MS as u32
        } else {
            1_000
        }
    }
}

/// How the checksum of `skb` is kept right when its headers are rewritten.
fn checksum_of(skb: &SkBuff) -> Checksum {
    if skb.checksum_partial() {
        Checksum::Partial
    } else {
        Checksum::Full
    }
}

/// An errno the kernel crate does not name.
fn errno(positive: u32) -> Error {
    Error::from_errno(-(positive as i32))
}

/// Refuses a handover request with `err` and a message.
fn refuse(req: &Request<'_>, err: Error, msg: &'static core::ffi::CStr) -> Error {
    req.refuse(err, msg, None)
}

/// The connection a request names: by its four-tuple (checked against the
/// cookie if one is given too) or by its cookie alone.
fn named_socket(node: &Node, req: &Request<'_>) -> Result<TcpSocket> {
    let cookie = req.u64(b::TPCLUSTER_A_HANDOVER_COOKIE);
    let tuple = match (
        req.ipv4(b::TPCLUSTER_A_HANDOVER_CLIENT_ADDR),
        req.u16(b::TPCLUSTER_A_HANDOVER_CLIENT_PORT),
        req.ipv4(b::TPCLUSTER_A_HANDOVER_VIP),
        req.u16(b::TPCLUSTER_A_HANDOVER_PORT),
    ) {
        (Some(c), Some(cp), Some(v), Some(p)) => Some(Tuple {
            client: c.0,
            client_port: cp,
            vip: v.0,
            port: p,
        }),
        (None, None, None, None) => None,
        _ => {
            return Err(refuse(
                req,
                EINVAL,
                c"give all of client-addr, client-port, vip and port, or none",
            ))
        }
    };
    let sock = match (tuple, cookie) {
        (Some(t), _) => TcpSocket::lookup(node.net, &t),
        (None, Some(0)) => return Err(refuse(req, EINVAL, c"cookie 0 names no socket")),
        (None, Some(c)) => TcpSocket::lookup_cookie(node.net, c),
        (None, None) => {
            return Err(refuse(
                req,
                EINVAL,
                c"name the connection by its four-tuple or its cookie",
            ))
        }
    };
    let sock =
        sock.ok_or_else(|| refuse(req, ENOENT, c"no established connection by that name"))?;
    if cookie.is_some_and(|c| c != sock.cookie()) {
        return Err(refuse(
            req,
            ENOENT,
            c"the connection's cookie differs: the tuple was reused",
        ));
    }
    Ok(sock)
}

/// `handover`: hands an established connection of a splice service to
/// another node. Process context; sleeps while it waits for the target.
pub(crate) fn handover(node: &Node, req: &Request<'_>) -> Result {
    let target = req.u32(b::TPCLUSTER_A_HANDOVER_TARGET).ok_or_else(|| {
        req.refuse(
            EINVAL,
            c"missing target",
            Some(b::TPCLUSTER_A_HANDOVER_TARGET),
        )
    })?;
    let consumed = req.attr(b::TPCLUSTER_A_HANDOVER_REPLAY).unwrap_or(&[]);
    let sock = named_socket(node, req)?;
    let tuple = sock.tuple();
    let (mode, backend, self_id) = node.read_plane(|plane| {
        (
            plane.service_mode(tuple.vip, tuple.port),
            plane.backend_port(tuple.vip, tuple.port),
            plane.self_id(),
        )
    });
    if mode != Some(Mode::Splice) {
        return Err(refuse(
            req,
            errno(kernel::bindings::EOPNOTSUPP),
            c"the connection is not of a splice service",
        ));
    }
    // To this node itself only from the router's port to the backend's:
    // on one port the connection is where it would go already.
    if target == self_id && backend.is_none() {
        return Err(refuse(
            req,
            EINVAL,
            c"the connection is on the target node already",
        ));
    }
    match node.target_live(target, self_id) {
        None => return Err(refuse(req, ENOENT, c"unknown target node")),
        Some(false) => {
            return Err(refuse(
                req,
                errno(kernel::bindings::EHOSTUNREACH),
                c"the target node is dead",
            ))
        }
        Some(true) => {}
    }
    if !node.is_full_member() {
        return Err(refuse(
            req,
            EAGAIN,
            c"the membership is changing; try again",
        ));
    }
    let result = dispatch(node, req, &sock, tuple, target, self_id, consumed);
    if result.is_err() {
        node.counters.bump(Counter::HandoverFailed);
    }
    result
}

/// Milliseconds to wait for an answer to an offer: long enough for the
/// target to be found dead, never longer than [`ANSWER_WAIT_MAX_MS`] (the
/// request holds the netlink family's lock meanwhile).
fn answer_wait_ms(node: &Node) -> u64 {
    let timers = node.config.lock().node().timers(crate::default_timers());
    ANSWER_WAIT_MS
        .max(2 * u64::from(timers.dead_ms))
        .min(ANSWER_WAIT_MAX_MS)
}

/// The dispatcher's side, once the request is known to be sound.
fn dispatch(
    node: &Node,
    req: &Request<'_>,
    sock: &TcpSocket,
    tuple: Tuple,
    target: u32,
    self_id: u32,
    consumed: &[u8],
) -> Result {
    if consumed.len() > REPLAY_MAX {
        return Err(refuse(
            req,
            E2BIG,
            c"more bytes to replay than a handover carries",
        ));
    }
    let mut unread = KVec::from_elem(0u8, REPLAY_MAX - consumed.len(), GFP_KERNEL)?;
    // Wait until everything this node sent has been acknowledged: the
    // client's acknowledgments are held back once frozen.
    let start = clock::now_ms();
    loop {
        match sock.snapshot(&mut unread) {
            Ok(_) => break,
            Err(e) if e == EBUSY && clock::now_ms() - start < QUIET_WAIT_MS => tcp::sleep_us(500),
            Err(e) if e == EBUSY => {
                return Err(refuse(
                    req,
                    EBUSY,
                    c"data in flight on the connection did not settle",
                ))
            }
            Err(e) if e == E2BIG => {
                return Err(refuse(
                    req,
                    E2BIG,
                    c"more bytes to replay than a handover carries",
                ))
            }
            Err(e) => return Err(refuse(req, e, c"the connection is not established")),
        }
    }
    // Freeze: from here the client's segments are held back, so what the
    // snapshot says stays true. A segment the hook passed just before is
    // through the stack once `synchronize_net` returns.
    let id = clock::real_ns() ^ (u64::from(tuple.client_port) << 48);
    let translation = {
        let mut table = node.splice.tables.lock(&tuple);
        let translation = table.find(&tuple).and_then(|e| e.translation);
        let entry = Entry {
            id,
            tuple,
            client_port: tuple.port,
            peer: target,
            phase: Phase::Frozen,
            translation,
            state: TcpState::default(),
            ifindex: 0,
            assembly: Assembly::new(0).ok_or(EINVAL)?,
            replay: KVec::new(),
            played: 0,
            syn_ms: 0,
            delivered: false,
            reply: None,
            last_ms: clock::now_ms(),
        };
        table
            .insert(entry)
            .map_err(|e| refuse(req, e, c"too many connections in handover"))?;
        translation
    };
    // Every way out of the request from here, but the commit, unfreezes.
    let frozen = Frozen {
        node,
        tuple,
        id,
        spliced: translation.is_some(),
    };
    tcp::synchronize_net();
    let snap = match sock.snapshot(&mut unread) {
        Ok(s) => s.state,
        Err(e) => {
            return Err(refuse(
                req,
                e,
                c"the connection changed while it was frozen; try again",
            ));
        }
    };
    let n_unread = snap.unread as usize;
    if consumed.len() + n_unread > REPLAY_MAX {
        return Err(refuse(
            req,
            E2BIG,
            c"more bytes to replay than a handover carries",
        ));
    }
    if consumed.len() as u64 > snap.bytes_received.saturating_sub(n_unread as u64) {
        return Err(refuse(
            req,
            EINVAL,
            c"more bytes to replay than the connection delivered",
        ));
    }
    let mut replay = KVec::with_capacity(consumed.len() + n_unread, GFP_KERNEL)?;
    replay.extend_from_slice(consumed, GFP_KERNEL)?;
    replay.extend_from_slice(&unread[..n_unread], GFP_KERNEL)?;
    let (seq_delta, ts_delta, server_wscale) = match translation {
        Some(tr) => (tr.seq_delta, tr.ts_delta, tr.client_view_wscale),
        None => (0, 0, snap.rcv_wscale),
    };
    let state = TcpState {
        client_seq: snap.copied_seq.wrapping_sub(consumed.len() as u32),
        server_seq: snap.snd_nxt.wrapping_add(seq_delta),
        client_window: snap.snd_wnd,
        ts_recent: snap.ts_recent,
        server_tsval: snap.tsval_now.wrapping_add(ts_delta),
        mss: snap.mss,
        client_wscale: snap.snd_wscale,
        server_wscale,
        options: snap.options,
    };

    // Offer until the target answers.
    let wait = answer_wait_ms(node);
    let start = clock::now_ms();
    let mut last_sent = None;
    let answer = loop {
        // Read before the check: a wake after it is not missed.
        let seen = node.splice.answered.generation();
        let now = clock::now_ms();
        if !matches!(last_sent, Some(t) if now - t < RESEND_MS) {
            send_offer(node, target, id, tuple, &state, &replay);
            last_sent = Some(now);
        }
        let phase = node
            .splice
            .tables
            .lock(&tuple)
            .find(&tuple)
            .filter(|e| e.id == id)
            .map(|e| e.phase);
        match phase {
            Some(Phase::TargetReady) => break Ok(()),
            Some(Phase::TargetRefused(errno)) => break Err(errno),
            Some(Phase::Frozen) => {}
            _ => break Err(EAGAIN.to_errno().unsigned_abs()),
        }
        if node.target_live(target, self_id) != Some(true) {
            break Err(errno(kernel::bindings::EHOSTUNREACH)
                .to_errno()
                .unsigned_abs());
        }
        if now - start > wait {
            break Err(errno(kernel::bindings::ETIMEDOUT).to_errno().unsigned_abs());
        }
        // A signal (the caller gave up, or is killed) ends the wait; the
        // connection stays here.
        if crate::sys::sockhook::signal_pending() {
            break Err(errno(kernel::bindings::EINTR).to_errno().unsigned_abs());
        }
        node.splice.answered.wait(seen, RESEND_MS as u32);
    };
    if let Err(errno) = answer {
        drop(frozen);
        let e = Error::from_errno(-(errno as i32));
        return Err(refuse(
            req,
            e,
            c"the target did not take the connection; it stays here",
        ));
    }

    // Commit: the connection leaves this node without a word to the client.
    core::mem::forget(frozen);
    sock.release_silently();
    if let Some(e) = node.splice.tables.lock(&tuple).find(&tuple) {
        e.phase = Phase::Gone { confirmed: false };
    }
    let commit = Handover {
        id,
        tuple,
        step: Step::Commit {
            server_tsval: sock.tsval().wrapping_add(ts_delta),
        },
    };
    let start = clock::now_ms();
    let mut last_sent = None;
    loop {
        let seen = node.splice.answered.generation();
        let now = clock::now_ms();
        if !matches!(last_sent, Some(t) if now - t < RESEND_MS) {
            let _ = node.send_handover(target, &commit);
            last_sent = Some(now);
        }
        let confirmed = node
            .splice
            .tables
            .lock(&tuple)
            .find(&tuple)
            .is_some_and(|e| e.phase == Phase::Gone { confirmed: true });
        if confirmed {
            node.counters.bump(Counter::HandoverOut);
            return Ok(());
        }
        if now - start > CONFIRM_WAIT_MS {
            return Err(refuse(
                req,
                errno(kernel::bindings::ETIMEDOUT),
                c"committed, but the target did not confirm: the connection may be lost",
            ));
        }
        node.splice.answered.wait(seen, RESEND_MS as u32);
    }
}

/// A connection the dispatcher froze for a handover: dropped, it is
/// unfrozen (it goes back to its translation, if it had one, or is
/// forgotten), so that a handover that fails after the freeze leaves the
/// connection working where it was. Forgotten on commit.
struct Frozen<'a> {
    node: &'a Node,
    tuple: Tuple,
    /// The handover's id: a later handover's entry is not this one's.
    id: u64,
    /// The connection had been spliced here before (it has a translation).
    spliced: bool,
}

impl Drop for Frozen<'_> {
    fn drop(&mut self) {
        let mut table = self.node.splice.tables.lock(&self.tuple);
        match table.find(&self.tuple) {
            Some(e) if e.id == self.id && self.spliced => e.phase = Phase::Spliced,
            Some(e) if e.id == self.id => table.remove(&self.tuple),
            _ => {}
        }
    }
}

/// Sends every chunk of an offer.
fn send_offer(node: &Node, target: u32, id: u64, tuple: Tuple, state: &TcpState, replay: &[u8]) {
    let mut offset = 0;
    loop {
        let end = (offset + REPLAY_CHUNK).min(replay.len());
        let h = Handover {
            id,
            tuple,
            step: Step::Offer {
                state: *state,
                replay_len: replay.len() as u32,
                chunk_offset: offset as u32,
                chunk: &replay[offset..end],
            },
        };
        let _ = node.send_handover(target, &h);
        offset = end;
        if offset >= replay.len() {
            return;
        }
    }
}

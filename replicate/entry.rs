// SPDX-License-Identifier: GPL-2.0

//! One replicated connection as a node holds it, and what the packet
//! hooks decide for its segments.
//!
//! The hooks (`sync.rs`) look the connection up under its shard's lock,
//! hand the segment to [`Entry::inbound`] or [`Entry::outbound`], and act
//! on what they return after the lock is let go: rewrite and pass the
//! segment, drop it, count, wake the replica work, play an acknowledgment
//! to the stack. Every rule of what a segment may change lives here, where
//! the host tests reach it; the hooks only read and write packets.
//!
//! Kernel-independent: built into the module and into the host test crate.

use crate::client_acks::ClientAcks;
use crate::conntable::Keyed;
use crate::log_store::LogBox;
use crate::output_digest::OutputCheck;
use crate::replica::{
    after, window_end_of, AckCheck, Advert, Advertised, Ends, Replication, Role, Segment, Wrapped,
    FIN, MAX_SET,
};
use crate::splice::{self, Translation, RST, SYN};
use crate::summary;
use crate::wire::Tuple;

/// A draining primary hands a connection to its next replica only if that
/// one reported within this long (it does at least every 400 ms when
/// idle): a replica that does not hold the connection never reports, and
/// nobody would count it out once the primary stepped down.
pub(crate) const HEIR_HEARD_MS: u64 = 1_000;

/// One replicated connection on this node.
pub(crate) struct Entry {
    pub(crate) tuple: Tuple,
    pub(crate) rep: Replication,
    /// This node's server space to the cluster's.
    pub(crate) tr: Translation,
    /// The newest TSval the client echoed (cluster space): a primary
    /// taking over sends none older.
    pub(crate) latest_echo: u32,
    /// The client's acknowledgments, to play one to this node's stack if
    /// it missed it (`replicate/client_acks.rs`).
    pub(crate) acks: ClientAcks,
    /// What the primary last advertised, if the backups held its
    /// acknowledgment or window back from its stack's.
    pub(crate) held: Option<Advertised>,
    /// Where this node's FIN ends (cluster space), once its stack sent it.
    pub(crate) fin_end: Option<u32>,
    /// The work must make the stack send an ACK (a clamp was lifted).
    pub(crate) need_ack: bool,
    /// The work must start this node's primaryship (it just became one).
    pub(crate) takeover: bool,
    /// The work must make the stack send what it held back in doubt.
    pub(crate) resume: bool,
    /// The work must close the socket silently (fenced).
    pub(crate) release: bool,
    /// What this node's stack sent, digested, and the other replicas'
    /// checkpoints it still has to check (`replicate/output_digest.rs`).
    pub(crate) output: OutputCheck,
    /// The replicas (bit i: the i-th of the set) whose output was found
    /// to differ from this node's, for the work to tell (log and monitor
    /// group).
    pub(crate) diverged: u8,
    /// Progress moved since the last report.
    pub(crate) dirty: bool,
    /// A report is owed to the primary, which is in doubt and reported.
    pub(crate) answer: bool,
    /// When progress was last reported, ms, wrapped to 32 bits (if
    /// `reported_digest` is not 0).
    pub(crate) reported_ms: Wrapped,
    /// The digest of the last report (`replicate/summary.rs`), which this
    /// node's summaries vouch for; 0: never reported (a digest is never
    /// 0, [`Entry::digest`]).
    pub(crate) reported_digest: u64,
    /// Reports sent since progress last moved: the next is due after
    /// the report interval times two to this, at most the idle one.
    pub(crate) quiet_reports: u8,
    /// When the connection last saw a segment, ms, wrapped to 32 bits.
    pub(crate) last_ms: Wrapped,
    /// The client's handshake and stream, for a replica brought in later
    /// (`replicate/client_log.rs`); `None` until the application first
    /// reads or writes.
    pub(crate) log: Option<LogBox>,
}

// What a replicated connection costs the module, its index slot apart.
const _: () = assert!(
    core::mem::size_of::<Entry>() <= 256,
    "replica entry over 256 bytes"
);

/// What the inbound hook does with a client's segment of a tracked
/// connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Inbound {
    /// Drop it: this node was fenced on the connection.
    Fenced,
    /// Drop it: it acknowledges what no replica sent (RFC 5961, 5.2).
    AckUnsent,
    /// Pass it to the stack, translated; its acknowledgment rewritten to
    /// `held` first if set.
    Take {
        /// The acknowledgment the stack sees instead of the client's.
        held: Option<u32>,
        /// It carries sequence space (data, SYN or FIN): the replica work
        /// has progress to report.
        moved: bool,
        /// The client has completed its handshake.
        handshake_done: bool,
    },
}

/// The acknowledgment and window a primary's segment leaves with when the
/// backups hold them back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Clamp {
    /// The acknowledgment number to send.
    pub(crate) ack: u32,
    /// The window field to send.
    pub(crate) window: u16,
    /// The acknowledgment is below the stack's: its SACK blocks beyond
    /// it must go (`replica::strip_sack_above`).
    pub(crate) ack_held: bool,
    /// With the acknowledgment held, the TSecr to send at least: the
    /// client's last TSval (`replica::echo_at_least`).
    pub(crate) echo: Option<u32>,
    /// The segment carries this node's FIN, and its stack acknowledges
    /// the client's FIN, which the clamp holds back: it leaves without
    /// the FIN (`replica::clear_fin`).
    ///
    /// A client told of the server's FIN but not that its own arrived
    /// acknowledges the FIN and sends its own again, that acknowledgment
    /// on it. The stack, in LAST_ACK, takes that as the end and closes
    /// without answering; on a backup, the client's acknowledgment played
    /// to its stack (`ClientAcks::covering`) closes it the same way. If
    /// this node then falls silent, whoever takes over has no socket left
    /// to tell the client its FIN arrived, and the client sends it again
    /// until it gives up. Kept from the client until the clamp lifts, a FIN
    /// that follows the client's is acknowledged by nobody before the
    /// client's FIN is (one that came first can be: `replicate.rst`).
    pub(crate) withhold_fin: bool,
}

/// What the outbound hook does with a segment of this node's stack.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Outbound {
    /// Whether it leaves (translated), and if so with what clamp when the
    /// backups hold its acknowledgment or window back; `None`: it is
    /// suppressed (a backup, or a primary without a fresh majority or in
    /// doubt).
    pub(crate) emit: Option<Option<Clamp>>,
    /// This node's progress moved: the replica work has a report to send.
    pub(crate) moved: bool,
    /// Replicas found to write other bytes and taken out of the set.
    pub(crate) diverged: u64,
    /// The output digest of this connection was lost with this segment
    /// (it starts beyond what was digested): counted once.
    pub(crate) output_unchecked: bool,
    /// The client's acknowledgment to play to this node's stack, a backup
    /// whose stack sends again what the client has acknowledged already.
    pub(crate) catch_up: Option<splice::Segment<'static>>,
}

impl Entry {
    /// A connection this node's stack answered with its SYN-ACK: the set's
    /// rules `rep`, the translation `tr`, the client's acknowledgments from
    /// `acks` on (which know both sides' first sequence numbers, cluster
    /// space), the newest TSval the client will echo `latest_echo`, at
    /// `now_ms`.
    pub(crate) fn new(
        tuple: Tuple,
        rep: Replication,
        tr: Translation,
        acks: ClientAcks,
        latest_echo: u32,
        now_ms: u64,
    ) -> Self {
        let output = OutputCheck::new(acks.server_next());
        Self {
            tuple,
            rep,
            tr,
            latest_echo,
            acks,
            held: None,
            fin_end: None,
            need_ack: false,
            takeover: false,
            resume: false,
            release: false,
            output,
            diverged: 0,
            dirty: true,
            answer: false,
            reported_ms: Wrapped::of(now_ms),
            reported_digest: 0,
            quiet_reports: 0,
            last_ms: Wrapped::of(now_ms),
            log: None,
        }
    }

    /// The client's initial sequence number: a SYN with it again is a
    /// retransmission, not a new connection.
    pub(crate) fn client_isn(&self) -> u32 {
        self.acks.client_next().wrapping_sub(1)
    }

    /// The digest (`replicate/summary.rs`) of `word`, a replica's report
    /// on this connection, with this node's view of the set and of the
    /// handshake: the sender's own, once their reports crossed. Never 0
    /// (0 marks an entry never reported), on every node alike.
    pub(crate) fn digest(&self, word: &Ends) -> u64 {
        summary::digest_of(
            &self.tuple,
            word.received,
            word.sent,
            word.window_end,
            self.rep.members_mask(),
            self.acks.handshake_done(),
        )
        .max(1)
    }

    /// The replicas whose output differs from this node's (bit i: the
    /// i-th of the set) leave it as [`Replication::diverged`] says; the
    /// news goes out with the next report. Returns how many left.
    pub(crate) fn output_differs(&mut self, differ: u32) -> u64 {
        let mut n = 0;
        for i in (0..MAX_SET).filter(|i| differ & (1 << i) != 0) {
            if self.rep.diverged(i) {
                self.diverged |= 1 << i;
                self.dirty = true;
                n += 1;
            }
        }
        n
    }

    /// Hands the connection to its next replica ([`Replication::step_down`])
    /// if its handshake is done and this node's stack has not sent its FIN
    /// (that is not gated: the heir may not have sent its own yet); drops
    /// what was pending for this node as a primary, silent from now on.
    pub(crate) fn step_down(&mut self, now_ms: u64) -> bool {
        if self.half_open() || self.fin_end.is_some() || !self.rep.step_down(now_ms, HEIR_HEARD_MS)
        {
            return false;
        }
        self.takeover = false;
        self.resume = false;
        self.need_ack = false;
        self.held = None;
        true
    }

    /// Whether the client acknowledged everything this node's stack sent
    /// (its word, as the reports carry it: `wire::Progress::output_acked`).
    pub(crate) fn all_acked(&self) -> bool {
        !after(self.rep.me().sent, self.acks.highest())
    }

    /// Whether both sides closed (each sent its FIN): a reset of this
    /// node's stack with no socket behind it is then its answer to a
    /// segment that came after the close, and does not leave.
    pub(crate) fn closed_both_ways(&self) -> bool {
        self.fin_end.is_some() && self.acks.fin_seen()
    }

    /// A client's segment `seg` of this connection, at `now_ms`, after the
    /// hook judged a SYN: what the stack may see of it.
    ///
    /// The acknowledgment is judged against the cluster's sequence space
    /// before anything of the segment is taken: a forged one changes
    /// nothing here that the primary's stack would not let it change (RFC
    /// 5961, section 5.2).
    pub(crate) fn inbound(&mut self, seg: &Segment, now_ms: u64) -> Inbound {
        let role = self.rep.role();
        if role == Role::Fenced {
            return Inbound::Fenced;
        }
        let check = match seg.ack {
            Some(ack) if seg.flags & RST == 0 => self.rep.check_ack(ack),
            _ => AckCheck::Accept,
        };
        if check == AckCheck::Drop {
            return Inbound::AckUnsent;
        }
        self.last_ms = Wrapped::of(now_ms);
        let client_fin_before = self.acks.fin_seen();
        let all_acked_before = self.all_acked();
        if check != AckCheck::Unsent {
            if let Some((_, ecr)) = seg.timestamps {
                if after(ecr, self.latest_echo) {
                    self.latest_echo = ecr;
                }
            }
            self.acks
                .saw(seg.flags, seg.end, seg.ack, seg.window, seg.timestamps);
        }
        // A primary whose acknowledgment is held back must not see the
        // client acknowledge its FIN after the client's own FIN: its stack
        // would close the socket (LAST_ACK), and the client, whose FIN it
        // has not yet seen acknowledged, would send it again to a closed
        // socket and get a reset. The stack stays in LAST_ACK until the
        // clamp lifts and the client acknowledges its FIN sent again. Had
        // this FIN come first, the stack goes on to FIN-WAIT-2 and
        // TIME_WAIT, which answer a FIN again: nothing to hold. (A FIN
        // leaves only with the acknowledgment of the client's FIN
        // (`Clamp::withhold_fin`), so the client can acknowledge it first
        // only if it learnt of it otherwise; this guards the socket then.)
        let fin_held =
            role == Role::Primary && client_fin_before && self.held.is_some_and(|h| h.ack_held);
        // A backup's stack must never see an acknowledgment of bytes it
        // has not sent yet (the primary may be ahead: its FIN, or a
        // takeover): it would drop the whole segment, data included.
        let held = match (check, seg.ack, self.fin_end) {
            (AckCheck::Clamp(own_sent), _, _) => Some(own_sent),
            (_, Some(ack), Some(fin)) if fin_held && ack == fin => Some(fin.wrapping_sub(1)),
            _ => None,
        };
        let moved = seg.end != seg.seq;
        if moved {
            self.dirty = true;
        }
        // The client acknowledged this primary's FIN: the backups hear it
        // at once (`wire::Progress::output_acked`), for the client's
        // acknowledgment may not have reached their stacks, and it sends
        // no other.
        if role == Role::Primary && self.fin_end.is_some() && !all_acked_before && self.all_acked()
        {
            self.dirty = true;
        }
        Inbound::Take {
            held,
            moved,
            handshake_done: self.acks.handshake_done(),
        }
    }

    /// A segment `seg` of this node's stack on this connection, at
    /// `now_ms`, `fresh` if this node has a fresh majority: whether it
    /// leaves and what else follows. `digest` takes the segment's payload
    /// into the output digest, given where it starts (cluster space), and
    /// returns the replicas whose output differs (bit i: the i-th of the
    /// set); it is called once, after a primary without a fresh majority
    /// went into doubt (a primary in doubt drops nobody).
    pub(crate) fn outbound(
        &mut self,
        seg: &Segment,
        now_ms: u64,
        fresh: bool,
        digest: impl FnOnce(&mut OutputCheck, u32) -> u32,
    ) -> Outbound {
        let tr = self.tr;
        self.last_ms = Wrapped::of(now_ms);
        let primary = self.rep.role() == Role::Primary;
        if primary && !fresh {
            // Whether it was counted out meanwhile, only the others can
            // tell: until they do, silence (see Replication::doubt).
            self.rep.doubt();
        }
        // What the application wrote, digested as it goes out, to be
        // checked against the other replicas' (their stacks cut it into
        // other segments; only the bytes count).
        let data_at = seg
            .seq
            .wrapping_add(u32::from(seg.flags & SYN != 0))
            .wrapping_add(tr.seq_delta);
        let was_lost = self.output.is_lost();
        let differ = digest(&mut self.output, data_at);
        let output_unchecked = self.output.is_lost() && !was_lost;
        let sent = seg.end.wrapping_add(tr.seq_delta);
        if seg.flags & (FIN | RST) == FIN {
            self.fin_end = Some(sent);
            // Nothing more will come: a replica that gets further wrote
            // more.
            self.output.finish();
        }
        let diverged = if differ != 0 {
            self.output_differs(differ)
        } else {
            0
        };
        // The acknowledgment the stack sends is what it has received
        // (its `rcv_nxt`): taken here too, not only from the socket by the
        // replica work. A stack that takes the client's FIN, closes and is
        // done before the work reads it (the client acknowledged its FIN
        // at once) leaves no socket to read, and the others would never
        // hear that it has the FIN: the primary would hold its
        // acknowledgment of it until it counted this replica out.
        let received = seg.ack.filter(|_| seg.flags & RST == 0);
        let moved = seg.flags & RST == 0 && self.rep.advance_own(received, Some(sent), None);
        self.dirty |= moved;
        let emit = primary && fresh && !self.rep.in_doubt();
        let mut clamp = None;
        // A SYN-ACK needs none: every replica starts where it does.
        if let (true, Some(ack), 0) = (emit, seg.ack, seg.flags & SYN) {
            let told = self.rep.advertise(Advert {
                ack,
                window_end: window_end_of(ack, seg.window, tr.local_wscale),
            });
            let held = told.ack_held || told.window_held;
            if held {
                let withhold_fin = told.ack_held && seg.flags & FIN != 0 && self.acks.fin_seen();
                clamp = Some(Clamp {
                    ack: told.ack,
                    window: told.window_field(tr.local_wscale),
                    ack_held: told.ack_held,
                    echo: self.acks.client_tsval().filter(|_| told.ack_held),
                    withhold_fin,
                });
            }
            self.held = held.then_some(told);
        }
        // A backup's stack sending what the client has acknowledged
        // already (its FIN after the primary's was acknowledged) waits for
        // an acknowledgment the client will not send again.
        //
        // So does a primary's sending bytes the client has: a replica
        // brought in late (its application's output replayed), which took
        // over before its stack had caught up. Those bytes stay here, as
        // a backup's do: old segments would draw the client's duplicate
        // acknowledgments, or its reset once it is done (seen 10 s after
        // a download ended). A primary's FIN still leaves: it carries the
        // acknowledgment of the client's FIN, which the client may still
        // wait for, and played as well, the client's answer would find the
        // socket closed.
        let catch_up = match (self.rep.role(), seg.flags & (SYN | RST)) {
            (Role::Backup, 0) => {
                self.acks
                    .covering(self.tuple, seg.seq.wrapping_add(tr.seq_delta), sent)
            }
            (Role::Primary, 0) if seg.flags & FIN == 0 => {
                self.acks
                    .covering(self.tuple, seg.seq.wrapping_add(tr.seq_delta), sent)
            }
            _ => None,
        };
        let emit = emit && !(primary && catch_up.is_some());
        Outbound {
            emit: emit.then_some(clamp),
            moved,
            diverged,
            output_unchecked,
            catch_up,
        }
    }
}

impl Keyed for Entry {
    fn tuple(&self) -> &Tuple {
        &self.tuple
    }

    fn half_open(&self) -> bool {
        !self.acks.handshake_done()
    }
}

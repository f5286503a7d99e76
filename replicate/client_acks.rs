// SPDX-License-Identifier: GPL-2.0

//! The client's acknowledgments, as a backup of a replicated connection
//! may need one played to its own stack.
//!
//! A backup's output is held back, so its stack never hears the client
//! answer it: whatever acknowledgment its stack misses, the client will
//! not send again for it. Two cases:
//!
//! * **The handshake.** Every replica's stack answers the SYN and waits,
//!   in SYN-RECV, for the client's acknowledgment of its SYN-ACK. A
//!   backup's stack that misses it — lost on the way to this node alone,
//!   or dropped by the stack (its accept queue was full) — retransmits its
//!   SYN-ACK, held back; left alone it would wait until it gives up (about
//!   a minute), and the primary's writes, which wait until every backup
//!   has written the same bytes, as long. So each replica notes whether
//!   the client has completed the handshake: it saw a segment of the
//!   client with an acknowledgment, or another replica reports one
//!   ([`crate::wire::Progress::client_acked`]). Only the client's word
//!   makes a replica play it: a SYN the client never follows up (a scan, a
//!   flood with forged sources) completes no handshake on any replica.
//!
//! * **Bytes acknowledged before the backup's stack sent them.** The
//!   primary writes only what every backup has written, but closing is
//!   not a write: its FIN may reach the client, and be acknowledged,
//!   before a backup's stack has sent its own. The hook gave that backup's
//!   stack the acknowledgment only up to what it had sent (more it would
//!   take for a broken segment), so its FIN stays unacknowledged: its
//!   stack retransmits it, held back, for a minute — and a backup that
//!   takes over meanwhile sends it to a client long done with the
//!   connection.
//!
//! In both cases the backup's stack says it still waits by sending (again)
//! something the client has acknowledged, and the backup then plays the
//! acknowledgment to it ([`ClientAcks::handshake_ack`],
//! [`ClientAcks::covering`]). A played segment is in the client's view,
//! like the client's own, and goes through the same inbound translation.
//!
//! Kernel-independent: built into the module and into the host test crate.

use crate::replica::{after, seq_max, FIN};
use crate::splice::{Segment, ACK, PSH, RST, SYN};
use crate::wire::Tuple;

/// What a replica knows of the client's acknowledgments on a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ClientAcks {
    /// The client's sequence number just past its SYN.
    client_next: u32,
    /// The client's sequence number just past the furthest segment of its
    /// seen here (past its SYN before any).
    client_end: u32,
    /// The server sequence number (cluster space) just past the SYN-ACK.
    server_next: u32,
    /// The highest acknowledgment the client sent (cluster space); until
    /// it sent one, `server_next - 1`, which acknowledges nothing (a plain
    /// number: the entry it lives in has no room for an option's tag).
    highest: u32,
    /// The client's window field as it last sent it; the largest there is
    /// until it has sent one (an overstated window costs a backup nothing:
    /// its output goes nowhere, and the client's next segment corrects it).
    window: u16,
    /// (TSval, TSecr) as the client last sent them, cluster space; until
    /// it has sent any, its SYN's TSval and the SYN-ACK's. `None` if the
    /// connection has no timestamps.
    timestamps: Option<(u32, u32)>,
    /// The client acknowledged a SYN-ACK: seen here or reported.
    handshake_done: bool,
    /// A FIN of the client's was seen here.
    fin_seen: bool,
}

impl ClientAcks {
    /// The client's sequence number just past its SYN.
    pub(crate) fn client_next(&self) -> u32 {
        self.client_next
    }

    /// The server sequence number (cluster space) just past the SYN-ACK.
    pub(crate) fn server_next(&self) -> u32 {
        self.server_next
    }

    /// The acknowledgments of a connection whose client sent ISN
    /// `client_next - 1` and whose SYN-ACK (cluster space) has ISN
    /// `server_next - 1`; `syn_ack_timestamps` are the SYN-ACK's (TSval in
    /// cluster space, TSecr: the client's SYN TSval).
    pub(crate) fn new(
        client_next: u32,
        server_next: u32,
        syn_ack_timestamps: Option<(u32, u32)>,
    ) -> Self {
        Self {
            client_next,
            client_end: client_next,
            server_next,
            highest: server_next.wrapping_sub(1),
            window: u16::MAX,
            timestamps: syn_ack_timestamps.map(|(tsval, tsecr)| (tsecr, tsval)),
            handshake_done: false,
            fin_seen: false,
        }
    }

    /// The TSval of the client's last segment seen here, if the
    /// connection has timestamps.
    pub(crate) fn client_tsval(&self) -> Option<u32> {
        self.timestamps.map(|(tsval, _)| tsval)
    }

    /// Takes a segment from the client (cluster space, before
    /// translation) whose acknowledgment the hook found acceptable
    /// ([`crate::replica::Replication::check_ack`]): its `flags`, where it
    /// ends, its acknowledgment, window field and timestamps. One with an
    /// ACK of the SYN-ACK or later, and neither SYN nor RST, means the
    /// client has completed the handshake; an earlier acknowledgment is
    /// not the client's answer to it (every replica's stack, in SYN-RECV,
    /// rejects it), and teaches nothing.
    pub(crate) fn saw(
        &mut self,
        flags: u8,
        end: u32,
        ack: Option<u32>,
        window: u16,
        timestamps: Option<(u32, u32)>,
    ) {
        let Some(ack) = ack else { return };
        if flags & (ACK | SYN | RST) != ACK {
            return;
        }
        if !self.handshake_done && after(self.server_next, ack) {
            return;
        }
        self.handshake_done = true;
        self.fin_seen |= flags & FIN != 0;
        self.window = window;
        if after(end, self.client_end) {
            self.client_end = end;
        }
        if after(ack, self.highest) {
            self.highest = ack;
        }
        if let (Some(_), Some(ts)) = (self.timestamps, timestamps) {
            self.timestamps = Some(ts);
        }
    }

    /// Another replica reports that it saw the client complete the
    /// handshake.
    pub(crate) fn handshake_reported(&mut self) {
        self.handshake_done = true;
    }

    /// The connection's primary reports that the client acknowledged all
    /// it sent, up to `sent` (`wire::Progress::output_acked`): its word
    /// for an acknowledgment that reached this node before the report
    /// that the primary had sent so far, and was dropped. Returns the
    /// acknowledgment to play to this node's stack if the stack sent past
    /// what the client was known to have acknowledged here (`own_sent`,
    /// played no further than that). Only past the SYN-ACK: a handshake
    /// the stack missed has a path of its own, played when the stack sends
    /// its SYN-ACK again (`handshake_reported`).
    pub(crate) fn acked_reported(
        &mut self,
        tuple: Tuple,
        sent: u32,
        own_sent: u32,
    ) -> Option<Segment<'static>> {
        if !after(sent, self.highest) || !after(sent, self.server_next) {
            return None;
        }
        let known = self.highest;
        self.highest = sent;
        let end = if after(own_sent, sent) {
            sent
        } else {
            own_sent
        };
        self.covering(tuple, seq_max(known, self.server_next), end)
    }

    /// The highest acknowledgment the client sent (cluster space);
    /// `server_next - 1` until it sent one.
    pub(crate) fn highest(&self) -> u32 {
        self.highest
    }

    /// Whether a FIN of the client's was seen here.
    pub(crate) fn fin_seen(&self) -> bool {
        self.fin_seen
    }

    /// Whether the client has completed the handshake, as far as this node
    /// knows.
    pub(crate) fn handshake_done(&self) -> bool {
        self.handshake_done
    }

    /// The client's acknowledgment of the SYN-ACK on `tuple`, to play to a
    /// stack that retransmitted its SYN-ACK; `None` while the client is not
    /// known to have sent it.
    pub(crate) fn handshake_ack(&self, tuple: Tuple) -> Option<Segment<'static>> {
        self.handshake_done
            .then(|| self.ack_segment(tuple, self.client_next, self.server_next))
    }

    /// An acknowledgment up to `end`, to play to a stack that just sent
    /// the segment from `seq` to `end` (cluster space); `None` unless the
    /// segment carries something (data, FIN) that the client has
    /// acknowledged already. Its sequence number is past the client's
    /// furthest segment seen: at or beyond the stack's next expected one,
    /// and within its window, which is all a pure ACK needs.
    pub(crate) fn covering(&self, tuple: Tuple, seq: u32, end: u32) -> Option<Segment<'static>> {
        (after(end, seq) && !after(end, self.highest))
            .then(|| self.ack_segment(tuple, self.client_end, end))
    }

    /// The client's bytes `payload` from sequence number `seq`, to play
    /// to the stack of a replica brought into the connection (catch-up,
    /// `client_log.rs`), as the client would send them: acknowledging what
    /// the client last acknowledged, as far as this node knows (the
    /// inbound hook holds that to what the stack has sent), with the
    /// client's last window and timestamps.
    pub(crate) fn data_segment<'a>(
        &self,
        tuple: Tuple,
        seq: u32,
        payload: &'a [u8],
    ) -> Segment<'a> {
        Segment {
            flags: ACK | PSH,
            payload,
            ..self.ack_segment(tuple, seq, seq_max(self.highest, self.server_next))
        }
    }

    fn ack_segment(&self, tuple: Tuple, seq: u32, ack: u32) -> Segment<'static> {
        Segment {
            tuple,
            seq,
            ack,
            flags: ACK,
            window: self.window,
            timestamps: self.timestamps,
            syn_options: None,
            payload: &[],
        }
    }
}

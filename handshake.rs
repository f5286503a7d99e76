// SPDX-License-Identifier: GPL-2.0

//! The client's acknowledgment of the SYN-ACK, as a replica of a replicated
//! connection may need it played to its own stack.
//!
//! Every replica's stack answers the client's SYN and waits, in SYN-RECV,
//! for the acknowledgment that completes the handshake. A replica whose
//! stack never gets it — lost on the way to this node alone, or dropped by
//! the stack (its accept queue was full) — cannot count on TCP's own
//! remedy: its SYN-ACK retransmissions are held back like all a backup's
//! output, so the client never answers them. Its stack would stay in
//! SYN-RECV until it gives up (about a minute), and the primary's writes,
//! which wait until every backup has written the same bytes, would wait as
//! long.
//!
//! So each replica remembers what the client's acknowledgment looks like
//! and whether the client has sent it: seen here, or reported by another
//! replica ([`crate::wire::Progress::client_acked`]). When a backup's stack
//! retransmits the SYN-ACK — its own word that it still waits — and the
//! client has sent the acknowledgment, the replica plays it to the stack
//! ([`ClientHandshake::ack_to_play`]). A primary's retransmission reaches
//! the client, which answers it. The played segment is in the
//! client's view, like the client's own, and goes through the same
//! inbound translation.
//!
//! Only the client's word makes a replica play it: a SYN the client never
//! follows up (a scan, a flood with forged sources) completes no handshake
//! on any replica.
//!
//! Kernel-independent: built into the module and into the host test crate.

use crate::splice::{Segment, ACK, RST, SYN};
use crate::wire::Tuple;

/// What a replica knows of the client's side of a connection's handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ClientHandshake {
    /// The client's sequence number just past its SYN.
    client_next: u32,
    /// The server sequence number (cluster space) just past the SYN-ACK.
    server_next: u32,
    /// The client's window field as it last sent it; the largest there is
    /// until it has sent one (an overstated window costs a backup nothing:
    /// its output goes nowhere, and the client's next segment corrects it).
    window: u16,
    /// (TSval, TSecr) as the client last sent them, cluster space; until
    /// it has sent any, its SYN's TSval and the SYN-ACK's. `None` if the
    /// connection has no timestamps.
    timestamps: Option<(u32, u32)>,
    /// The client acknowledged a SYN-ACK.
    acked: bool,
}

impl ClientHandshake {
    /// The handshake of a connection whose client sent ISN
    /// `client_next - 1` and whose SYN-ACK (cluster space) has ISN
    /// `server_next - 1`; `syn_ack_timestamps` are the SYN-ACK's
    /// (TSval in cluster space, TSecr: the client's SYN TSval).
    pub(crate) fn new(
        client_next: u32,
        server_next: u32,
        syn_ack_timestamps: Option<(u32, u32)>,
    ) -> Self {
        Self {
            client_next,
            server_next,
            window: u16::MAX,
            timestamps: syn_ack_timestamps.map(|(tsval, tsecr)| (tsecr, tsval)),
            acked: false,
        }
    }

    /// Takes a segment from the client (cluster space, before translation):
    /// one with an ACK, and neither SYN nor RST, means the client has
    /// completed the handshake.
    pub(crate) fn saw(&mut self, flags: u8, window: u16, timestamps: Option<(u32, u32)>) {
        if flags & (ACK | SYN | RST) != ACK {
            return;
        }
        self.acked = true;
        self.window = window;
        if let (Some(_), Some(ts)) = (self.timestamps, timestamps) {
            self.timestamps = Some(ts);
        }
    }

    /// Another replica reports that it saw the client complete the
    /// handshake.
    pub(crate) fn reported(&mut self) {
        self.acked = true;
    }

    /// Whether the client has completed the handshake, as far as this node
    /// knows.
    pub(crate) fn acked(&self) -> bool {
        self.acked
    }

    /// The client's acknowledgment of the SYN-ACK on `tuple`, to play to a
    /// stack that still waits for it; `None` while the client is not known
    /// to have sent it.
    pub(crate) fn ack_to_play(&self, tuple: Tuple) -> Option<Segment<'static>> {
        self.acked.then_some(Segment {
            tuple,
            seq: self.client_next,
            ack: self.server_next,
            flags: ACK,
            window: self.window,
            timestamps: self.timestamps,
            syn_options: None,
            payload: &[],
        })
    }
}

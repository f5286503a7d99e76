// SPDX-License-Identifier: GPL-2.0

//! A handshake whose entry a replica lost before the client completed it.
//!
//! A replica tracks a connection from its stack's SYN-ACK on, and forgets
//! a half-open one when a SYN flood needs the room (`replica_half_open`,
//! the oldest first) or once it has been idle for seconds with no socket
//! behind it. A client slow to complete its handshake (a long round trip,
//! a starved machine) may then come back to a replica that no longer
//! translates its connection. If the stack kept a request socket, its
//! next SYN-ACK makes the entry anew; but a stack under a SYN flood
//! answers with a SYN cookie and keeps nothing, and the client's
//! acknowledgment, untranslated, fails the cookie. Without more, the
//! client would believe the connection open while no replica takes a
//! byte of it: a black hole, where a plain Linux stack (its cookie)
//! would have served it.
//!
//! The module needs no state to recognise such a segment, as a stack
//! needs none to check its cookie: the cluster's initial sequence number
//! is a keyed hash of the connection and of the client's (see
//! [`crate::replica::cluster_isn`]), so a segment that acknowledges
//! exactly it, at the client's first sequence number, completes a
//! handshake that this cluster answered. Nobody without the cluster key
//! can make one for a connection they did not open.
//!
//! The replica then plays the handshake to its stack again: the client's
//! SYN (same initial sequence number), which its stack answers with a
//! SYN-ACK that makes the entry anew (the same cluster sequence numbers
//! and timestamps, which derive from the client's alone), then the
//! client's acknowledgment, which completes it. The segment that found no
//! entry is dropped; the client sends its data again.
//!
//! The client's SYN options are gone with the entry (a cookie keeps them
//! in the stack's own timestamp, which the translation took away). The
//! replica remembered them when the SYN came, in a lossy table
//! (`syn_cache.rs`), and the played SYN offers them again if they are
//! still there. If a later SYN took their slot, the played SYN asks for
//! what is safe whatever they were: an MSS of 536 (the default of a peer
//! that gives none), window scaling with a shift of 0 for the client (the
//! stack reads the client's windows unscaled: never more than it offers),
//! no SACK. Such a connection is slower, not wrong: a client that scales
//! its window (most do) is sent to within a window hundreds of times
//! smaller than it offers, as a stack sends to one whose cookie could not
//! carry its options.
//!
//! Like a stack's cookies, this takes any copy of the segment while the
//! stack sends cookies (its listener overflowed in the last two minutes):
//! a duplicate of a closed connection's first segment makes it anew, to be
//! reset by the client, as the stack's own cookie check would.
//!
//! Kernel-independent: built into the module and into the host test crate.

use crate::rendezvous::Key;
use crate::replica::{self, cluster_isn, cluster_tsval};
use crate::splice::{Segment, SynOptions, ACK, RST, SYN};
use crate::wire::Tuple;

/// The MSS the played SYN gives when the client's is not remembered: what
/// a peer that gives none is taken to accept.
pub(crate) const RECOVERED_MSS: u16 = crate::splice::DEFAULT_MSS;

/// The options the played SYN offers when the client's are not
/// remembered: what any client accepts. Window scaling is offered (a
/// shift of 0: the client's windows read unscaled) so that the stack
/// scales its own window as it did for the client's first SYN-ACK.
pub(crate) const SAFE_OPTIONS: SynOptions = SynOptions {
    mss: RECOVERED_MSS,
    wscale: Some(0),
    sack_permitted: false,
};

/// What to play to this replica's stack, in this order: the client's SYN
/// again, then its acknowledgment of the SYN-ACK.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Recovery {
    /// The client's SYN, with its options as remembered, or safe ones.
    pub(crate) syn: Segment<'static>,
    /// The client's acknowledgment of the cluster's SYN-ACK.
    pub(crate) ack: Segment<'static>,
}

/// The handshake to play for `seg`, a client's segment of connection
/// `tuple` that this replica does not track, if `seg` completes a
/// handshake the cluster (keyed by `key`) answered: an acknowledgment of
/// exactly the cluster's initial sequence number, at the client's first
/// sequence number, echoing (if it has timestamps) the cluster's SYN-ACK
/// timestamp. `None` for anything else. The caller checks what the
/// segment cannot tell: that the stack answered with cookies lately. The
/// played SYN offers `offered`, the client's SYN options if this replica
/// still remembers them (`syn_cache.rs`), else [`SAFE_OPTIONS`].
pub(crate) fn recover(
    key: &Key,
    tuple: &Tuple,
    seg: &replica::Segment,
    offered: Option<SynOptions>,
) -> Option<Recovery> {
    if seg.flags & (SYN | RST) != 0 {
        return None;
    }
    let ack = seg.ack?;
    let client_isn = seg.seq.wrapping_sub(1);
    if ack.wrapping_sub(1) != cluster_isn(key, tuple, client_isn) {
        return None;
    }
    // A stack that answered with a cookie sends its SYN-ACK once: the
    // client echoes its timestamp until the cluster sends more.
    let synack_tsval = cluster_tsval(key, tuple, client_isn);
    if seg.timestamps.is_some_and(|(_, ecr)| ecr != synack_tsval) {
        return None;
    }
    let syn = Segment {
        tuple: *tuple,
        seq: client_isn,
        ack: 0,
        flags: SYN,
        window: seg.window,
        timestamps: seg.timestamps.map(|(val, _)| (val, 0)),
        syn_options: Some(offered.unwrap_or(SAFE_OPTIONS)),
        payload: &[],
    };
    // The echo of the SYN-ACK this SYN is answered with: a stack that
    // answered with a cookie reads its options back from it.
    let ack = Segment {
        tuple: *tuple,
        seq: seg.seq,
        ack,
        flags: ACK,
        window: seg.window,
        timestamps: seg.timestamps.map(|(val, _)| (val, synack_tsval)),
        syn_options: None,
        payload: &[],
    };
    Some(Recovery { syn, ack })
}

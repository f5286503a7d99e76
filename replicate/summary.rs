// SPDX-License-Identifier: GPL-2.0

//! Progress summaries: what keeps an idle replicated connection heard
//! without a report of its own.
//!
//! Each replica reports a connection's progress to the others when it
//! moves, and a few times more in case a report was lost. Past that, the
//! others would still have to hear of it now and then: a replica silent
//! on a connection for seconds is taken out of its set (its node is up,
//! but the connection is not there). One report per idle connection every
//! few hundred ms is what that cost before; at 10,000 connections it is
//! hundreds of datagrams a second per peer.
//!
//! Instead, every [`SUMMARY_MS`] a node sends each peer one summary of
//! the connections the two share: per [`BUCKETS`] buckets (by tuple), how
//! many it has reported to that peer and the sum of a digest of what it
//! last reported for each ([`digest_of`]). The peer sums, over the same
//! connections, the digest of what it last heard from the sender
//! ([`Summary::add`]). A bucket that matches proves that the peer has
//! heard the sender's last word on each of its connections, and all of
//! them count as heard now. A bucket that does not (a report lost, a
//! connection one of them has and the other not yet or no longer) counts
//! nobody heard; the peer asks, in its own next summary, for that
//! bucket's connections to be reported again ([`Summary::differing`]).
//! So a lost report costs a bucket's connections one report each, not
//! everybody's.
//!
//! The digest takes the set as each side sees it (the members mask), and
//! whether each has seen the client complete its handshake: a view, or a
//! handshake, that did not reach a peer shows as a mismatch too. Replicas
//! out of a set are left out of both sides' sums.
//!
//! Kernel-independent: built into the module and into the host test crate.

use crate::wire::Tuple;

/// Buckets of a summary: a lost report or a connection not yet (or no
/// longer) on both sides costs its bucket's connections one report each.
pub(crate) const BUCKETS: usize = 32;

/// How often a node sends each peer a summary, ms: well within the second
/// a draining primary asks of its heir's last word, and the seconds of
/// silence after which a replica is taken out of a set.
pub(crate) const SUMMARY_MS: u64 = 400;

/// A peer that sent no summary for this long is reported to as before:
/// every idle connection, every few hundred ms (a node that does not
/// speak summaries, or whose summaries are lost).
pub(crate) const SUMMARY_STALE_MS: u64 = 3 * SUMMARY_MS;

/// The bucket of connection `tuple`: the same on every node.
pub(crate) fn bucket_of(tuple: &Tuple) -> usize {
    (mix(tuple_word(tuple)) >> 59) as usize % BUCKETS
}

/// The digest of a replica's word on connection `tuple`: what it has
/// received and sent up to, where its receive window ends, the set it
/// counts (`members`, bit i for the i-th replica in rendezvous order) and
/// whether the client completed the handshake (`client_acked`).
pub(crate) fn digest_of(
    tuple: &Tuple,
    received: u32,
    sent: u32,
    window_end: u32,
    members: u32,
    client_acked: bool,
) -> u64 {
    let a = mix(tuple_word(tuple) ^ u64::from(received));
    let b = mix(a ^ ((u64::from(sent) << 32) | u64::from(window_end)));
    mix(b ^ u64::from(members) ^ (u64::from(client_acked) << 32))
}

/// The tuple's 12 bytes folded into one word (the mixing does the rest).
fn tuple_word(t: &Tuple) -> u64 {
    let client = u64::from(u32::from_be_bytes(t.client));
    let vip = u64::from(u32::from_be_bytes(t.vip));
    let ports = (u64::from(t.client_port) << 16) | u64::from(t.port);
    mix((client << 32) | vip) ^ ports
}

/// splitmix64's finaliser: every input bit moves about half the output
/// bits. Not keyed: only nodes holding the cluster key send summaries,
/// and a collision only makes a lost report count as heard.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A summary of the connections two nodes share: per bucket, how many and
/// the sum of their digests. A sum is order-free: each node walks its
/// connections in its own order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Summary {
    /// Connections per bucket.
    pub(crate) count: [u32; BUCKETS],
    /// Their digests' sum per bucket.
    pub(crate) sum: [u64; BUCKETS],
}

impl Summary {
    /// Counts connection `tuple`, of digest `digest`.
    pub(crate) fn add(&mut self, tuple: &Tuple, digest: u64) {
        let b = bucket_of(tuple);
        self.count[b] = self.count[b].wrapping_add(1);
        self.sum[b] = self.sum[b].wrapping_add(digest);
    }

    /// The buckets (bit b for bucket b) in which this summary and `other`
    /// differ.
    pub(crate) fn differing(&self, other: &Summary) -> u32 {
        (0..BUCKETS)
            .filter(|&b| self.count[b] != other.count[b] || self.sum[b] != other.sum[b])
            .fold(0, |mask, b| mask | (1 << b))
    }
}

/// Whether bucket mask `mask` holds connection `tuple`'s bucket.
pub(crate) fn in_buckets(mask: u32, tuple: &Tuple) -> bool {
    mask & (1 << bucket_of(tuple)) != 0
}

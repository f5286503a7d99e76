// SPDX-License-Identifier: GPL-2.0

//! Owner and replicas of a connection by rendezvous (highest random weight)
//! hashing of its 5-tuple over the live nodes.
//!
//! Kernel-independent: built into the module and into the host test crate.
//!
//! Each node gets a weight per connection, a keyed hash of the 5-tuple and
//! the node id; the node of highest weight owns the connection and the next
//! ones are its replicas. Every node computes the same answer from the same
//! live set with no coordination, and a membership change moves only the
//! connections of the nodes that leave (or to the nodes that join).
//!
//! The hash is SipHash-2-4 keyed with a secret 128-bit key derived from the
//! cluster key by the caller (never the MAC key itself): without it, a
//! client cannot choose ports that send its connections to a node of its
//! choice.

/// The 128-bit SipHash key, as two little-endian words.
#[derive(Clone, Copy)]
pub(crate) struct Key {
    /// Key bytes 0..8.
    k0: u64,
    /// Key bytes 8..16.
    k1: u64,
}

impl Key {
    /// The all-zero key, for a node with no cluster key yet.
    pub(crate) const ZERO: Key = Key { k0: 0, k1: 0 };

    /// The key of 16 secret bytes, read as SipHash reads its key.
    pub(crate) fn new(bytes: &[u8; 16]) -> Self {
        let mut halves = bytes.chunks_exact(8).map(le64);
        // Two chunks of 8 always; the fallbacks are never taken.
        Key {
            k0: halves.next().unwrap_or(0),
            k1: halves.next().unwrap_or(0),
        }
    }
}

/// A connection's addresses, ports and protocol, in host byte order.
///
/// Hashed in a fixed big-endian serialisation, so nodes of different
/// endianness agree on weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FiveTuple {
    /// Client (source) IPv4 address.
    pub(crate) saddr: u32,
    /// Cluster (destination) IPv4 address.
    pub(crate) daddr: u32,
    /// Source port.
    pub(crate) sport: u16,
    /// Destination port.
    pub(crate) dport: u16,
    /// IP protocol number.
    pub(crate) proto: u8,
}

/// SipHash-2-4 of `msg` (Aumasson and Bernstein, 2012).
pub(crate) fn siphash24(key: &Key, msg: &[u8]) -> u64 {
    let mut s = Sip {
        v0: key.k0 ^ 0x736f_6d65_7073_6575,
        v1: key.k1 ^ 0x646f_7261_6e64_6f6d,
        v2: key.k0 ^ 0x6c79_6765_6e65_7261,
        v3: key.k1 ^ 0x7465_6462_7974_6573,
    };
    let blocks = msg.chunks_exact(8);
    let tail = blocks.remainder();
    for block in blocks {
        s.compress(le64(block));
    }
    // The last block holds the length modulo 256 in its top byte.
    s.compress(((msg.len() as u64) << 56) | le64(tail));
    s.v2 ^= 0xff;
    for _ in 0..4 {
        s.round();
    }
    s.v0 ^ s.v1 ^ s.v2 ^ s.v3
}

/// SipHash state.
struct Sip {
    /// State word 0.
    v0: u64,
    /// State word 1.
    v1: u64,
    /// State word 2.
    v2: u64,
    /// State word 3.
    v3: u64,
}

impl Sip {
    /// Absorbs one message word with two rounds.
    fn compress(&mut self, m: u64) {
        self.v3 ^= m;
        self.round();
        self.round();
        self.v0 ^= m;
    }

    /// One SipRound.
    fn round(&mut self) {
        self.v0 = self.v0.wrapping_add(self.v1);
        self.v1 = self.v1.rotate_left(13) ^ self.v0;
        self.v0 = self.v0.rotate_left(32);
        self.v2 = self.v2.wrapping_add(self.v3);
        self.v3 = self.v3.rotate_left(16) ^ self.v2;
        self.v0 = self.v0.wrapping_add(self.v3);
        self.v3 = self.v3.rotate_left(21) ^ self.v0;
        self.v2 = self.v2.wrapping_add(self.v1);
        self.v1 = self.v1.rotate_left(17) ^ self.v2;
        self.v2 = self.v2.rotate_left(32);
    }
}

/// Up to 8 bytes as a little-endian integer (shifts never overflow: older
/// bytes fall off the top, and there are none past the eighth).
fn le64(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .fold(0, |acc, &b| (acc << 8) | u64::from(b))
}

/// Weight of node `node` for connection `tuple`.
pub(crate) fn weight(key: &Key, tuple: &FiveTuple, node: u32) -> u64 {
    let [s0, s1, s2, s3] = tuple.saddr.to_be_bytes();
    let [d0, d1, d2, d3] = tuple.daddr.to_be_bytes();
    let [sp0, sp1] = tuple.sport.to_be_bytes();
    let [dp0, dp1] = tuple.dport.to_be_bytes();
    let [n0, n1, n2, n3] = node.to_be_bytes();
    let msg = [
        s0,
        s1,
        s2,
        s3,
        d0,
        d1,
        d2,
        d3,
        sp0,
        sp1,
        dp0,
        dp1,
        tuple.proto,
        n0,
        n1,
        n2,
        n3,
    ];
    siphash24(key, &msg)
}

/// The order of nodes for `tuple`: by weight, ties broken by the higher id.
fn score(key: &Key, tuple: &FiveTuple, node: u32) -> (u64, u32) {
    (weight(key, tuple, node), node)
}

/// Owner of `tuple` among the `live` nodes; `None` if there are none.
pub(crate) fn owner(key: &Key, tuple: &FiveTuple, live: &[u32]) -> Option<u32> {
    live.iter()
        .map(|&node| score(key, tuple, node))
        .max()
        .map(|(_, node)| node)
}

/// Fills `out` with the first `out.len()` distinct nodes of `live` in
/// decreasing weight order (owner first, then replicas); returns how many
/// were written, fewer if `live` has fewer distinct nodes. The rest of `out`
/// is left as it was.
///
/// Costs `out.len() * live.len()` hashes: meant for replica sets of a few.
#[allow(dead_code, reason = "the replica sets of replicate mode")]
pub(crate) fn rank(key: &Key, tuple: &FiveTuple, live: &[u32], out: &mut [u32]) -> usize {
    let mut prev: Option<(u64, u32)> = None;
    let mut n = 0;
    for slot in out.iter_mut() {
        // The best node scoring strictly below the previous pick: each pick
        // is a new node, since equal ids score equally.
        let next = live
            .iter()
            .map(|&node| score(key, tuple, node))
            .filter(|s| match prev {
                Some(p) => *s < p,
                None => true,
            })
            .max();
        let Some(next) = next else { break };
        *slot = next.1;
        prev = Some(next);
        n += 1;
    }
    n
}

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

/// A node that may take a connection, and its weight: it takes about
/// `weight` / (sum of the weights) of them. Weight 0 takes none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Candidate {
    /// Node id.
    pub(crate) id: u32,
    /// Its weight.
    pub(crate) weight: u16,
}

/// Fractional bits of [`neg_log2`].
const LOG_FRACTION_BITS: u32 = 16;

/// `-log2(h / 2^64)` in fixed point with [`LOG_FRACTION_BITS`] fractional
/// bits (the fraction of `log2(h)` truncated, so this rounds up): in
/// `[1, 64 << 16]`, never 0, and never smaller for a smaller `h`. Integer arithmetic only (no floating
/// point in the kernel), so every node computes the same bits.
///
/// The integer part is the position of the top bit; the fraction comes one
/// bit per squaring of the mantissa (a square at or past 2 carries one bit
/// of the logarithm).
pub(crate) fn neg_log2(h: u64) -> u64 {
    if h == 0 {
        return 64 << LOG_FRACTION_BITS;
    }
    let int = u64::from(63 - h.leading_zeros());
    // The mantissa in [1, 2) with 63 fractional bits.
    let mut x = u128::from(h << h.leading_zeros());
    let mut frac = 0u64;
    for bit in (0..LOG_FRACTION_BITS).rev() {
        x = (x * x) >> 63;
        if x >= 1 << 64 {
            frac |= 1 << bit;
            x >>= 1;
        }
    }
    (64 << LOG_FRACTION_BITS) - ((int << LOG_FRACTION_BITS) | frac)
}

/// A node's score for a connection: weighted rendezvous hashing, the
/// highest `weight / -ln(h)` wins (Schindelhauer and Schomaker, 2005),
/// which gives each node a share proportional to its weight and moves only
/// the connections a change of one node's weight must move. The base of the
/// logarithm does not change the order, so base 2 serves.
///
/// # Invariants
///
/// `log` is [`neg_log2`] of `hash`, never 0.
#[derive(Clone, Copy, Debug)]
struct Score {
    weight: u64,
    log: u64,
    hash: u64,
    id: u32,
}

impl Score {
    fn of(key: &Key, tuple: &FiveTuple, c: Candidate) -> Self {
        let hash = weight(key, tuple, c.id);
        Self {
            weight: u64::from(c.weight),
            log: neg_log2(hash),
            hash,
            id: c.id,
        }
    }
}

impl Ord for Score {
    /// By `weight / log` compared exactly (cross products: at most 16 + 23
    /// bits each), then by hash (so that with equal weights the order is the
    /// plain one, by hash), then by id.
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        (self.weight * other.log)
            .cmp(&(other.weight * self.log))
            .then(self.hash.cmp(&other.hash))
            .then(self.id.cmp(&other.id))
    }
}

impl PartialOrd for Score {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Score {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Score {}

/// Every node of `live` with weight 1.
#[cfg(test)]
fn unweighted(live: &[u32]) -> impl Iterator<Item = Candidate> + Clone + '_ {
    live.iter().map(|&id| Candidate { id, weight: 1 })
}

/// Owner of `tuple` among the `live` nodes, all of one weight; `None` if
/// there are none.
#[cfg(test)]
pub(crate) fn owner(key: &Key, tuple: &FiveTuple, live: &[u32]) -> Option<u32> {
    owner_weighted(key, tuple, unweighted(live))
}

/// Owner of `tuple` among `candidates` by weight; `None` if there are none.
/// A candidate of weight 0 owns only if every candidate has weight 0.
pub(crate) fn owner_weighted(
    key: &Key,
    tuple: &FiveTuple,
    candidates: impl Iterator<Item = Candidate>,
) -> Option<u32> {
    candidates
        .map(|c| Score::of(key, tuple, c))
        .max()
        .map(|s| s.id)
}

/// Fills `out` with the first `out.len()` distinct nodes of `live` (all of
/// one weight) in decreasing score order (owner first, then replicas);
/// returns how many were written, fewer if `live` has fewer distinct
/// nodes. The rest of `out` is left as it was.
#[cfg(test)]
pub(crate) fn rank(key: &Key, tuple: &FiveTuple, live: &[u32], out: &mut [u32]) -> usize {
    rank_weighted(key, tuple, unweighted(live), out)
}

/// [`rank`] among `candidates` by weight.
///
/// Costs `out.len()` times the candidates' hashes: meant for replica sets
/// of a few.
pub(crate) fn rank_weighted(
    key: &Key,
    tuple: &FiveTuple,
    candidates: impl Iterator<Item = Candidate> + Clone,
    out: &mut [u32],
) -> usize {
    let mut prev: Option<Score> = None;
    let mut n = 0;
    for slot in out.iter_mut() {
        // The best node scoring strictly below the previous pick: each pick
        // is a new node, since equal ids score equally.
        let next = candidates
            .clone()
            .map(|c| Score::of(key, tuple, c))
            .filter(|s| match prev {
                Some(p) => *s < p,
                None => true,
            })
            .max();
        let Some(next) = next else { break };
        *slot = next.id;
        prev = Some(next);
        n += 1;
    }
    n
}

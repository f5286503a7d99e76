// SPDX-License-Identifier: GPL-2.0

//! A node's table of per-connection entries, keyed by the connection: the
//! splice handover's (`splice/handover.rs`) and replicate mode's (`sync.rs`).
//!
//! A hash table over a fixed number of slots, as IPVS's and conntrack's
//! are over their buckets: the tuple hashes (SipHash under a key of the
//! table's own, so that no client can aim its connections at one chain)
//! to a bucket, the bucket heads a chain of slots, and a lookup walks one
//! chain. Expected chain length stays below one: the buckets are at least
//! as many as the slots. The index (bucket heads, chain links, the dense
//! list of used slots) is allocated once, in process context, so the hooks
//! (softirq) never allocate for it; the entries themselves are allocated
//! by the caller (`GFP_ATOMIC` in the module: a failure is counted there)
//! and handed in boxed, so the index costs a few words per slot whatever
//! an entry's size.
//!
//! Entries whose client has not completed its handshake are *half-open*:
//! a SYN flood makes them by the thousand. They are capped on their own,
//! on a list oldest first (evicted first), so they can never take the
//! slots of established connections or starve clients completing their
//! handshake. The owner tells the table when an entry's handshake
//! completes ([`ConnTable::settle`]).
//!
//! Kernel-independent: the host tests exercise this very file
//! (`FixedVec` is provided by each crate).

use crate::{
    fixed_vec::FixedVec,
    rendezvous::{siphash24, Key},
    wire::Tuple,
};
use core::ops::DerefMut;

/// An entry of a [`ConnTable`]: one connection's.
pub(crate) trait Keyed {
    /// The connection, from the client's side.
    fn tuple(&self) -> &Tuple;

    /// Whether the client has not completed its handshake yet. An entry
    /// stops being half-open, never becomes it again; an entry that is
    /// not when it goes in is never on the half-open list, and one that
    /// stopped is never evicted as half-open.
    fn half_open(&self) -> bool {
        false
    }
}

/// No slot: the end of a chain or of the free list.
const NIL: u32 = u32::MAX;

/// Most slots a table can have (slot numbers and `NIL` fit a `u32`).
pub(crate) const MAX_CAPACITY: usize = 1 << 24;

/// Most shards a table is split into. conntrack stripes its buckets over
/// 1,024 locks for millions of entries; 64 keep two CPUs' worth of
/// softirqs and process context apart for as many entries as this
/// module's tables hold, at 64 small allocations per table.
pub(crate) const MAX_SHARDS: usize = 64;

/// Fewest slots a shard is given: a smaller table has fewer shards (one,
/// below twice this), so that small tables fill as a whole, not shard by
/// shard.
pub(crate) const MIN_SHARD_SLOTS: usize = 16;

/// One shard's share of a table: slots numbered from `base`, `capacity`
/// of them, at most `half_open` half-open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Part {
    pub(crate) base: usize,
    pub(crate) capacity: usize,
    pub(crate) half_open: usize,
}

/// How a table of connections is split into shards, each its own
/// [`ConnTable`] behind its own lock (`sharded.rs`), so that two
/// connections' segments rarely wait for each other and never for one
/// lock of the whole node.
///
/// A connection's shard is chosen by the client's address and port and
/// the VIP: not by the local port, so that a spliced connection's entries
/// on the service's port and on its backend port (`splice/handover.rs` looks at
/// both for one segment) are in one shard, under one lock. Keyed, so that
/// no client can aim its connections at one shard and fill it.
///
/// # Invariants
///
/// `shards` is a power of two from 1 to [`MAX_SHARDS`]; the parts' slots
/// tile `0..capacity` and their half-open caps sum to `half_open`; no
/// part has fewer than one slot, and none a half-open cap of 0 unless
/// `half_open` is 0.
pub(crate) struct Sharding {
    shards: usize,
    capacity: usize,
    half_open: usize,
    key: Key,
}

impl Sharding {
    /// The split of a table of `capacity` slots (1 to [`MAX_CAPACITY`]),
    /// at most `half_open_cap` of them half-open, keyed by `key`.
    pub(crate) fn new(capacity: usize, half_open_cap: usize, key: Key) -> Self {
        let capacity = capacity.clamp(1, MAX_CAPACITY);
        let half_open = half_open_cap.min(capacity);
        let mut shards = MAX_SHARDS;
        while shards > 1
            && (capacity / shards < MIN_SHARD_SLOTS || (half_open > 0 && half_open < shards))
        {
            shards /= 2;
        }
        Self {
            shards,
            capacity,
            half_open,
            key,
        }
    }

    /// How many shards.
    pub(crate) fn shards(&self) -> usize {
        self.shards
    }

    /// The slots of the whole table.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Shard `i`'s part (`i` below [`Sharding::shards`]): the first
    /// `total % shards` shards get one more of each than the others.
    pub(crate) fn part(&self, i: usize) -> Part {
        // Never 0 (the invariants): dividing by it cannot fail.
        let n = core::num::NonZeroUsize::new(self.shards).unwrap_or(core::num::NonZeroUsize::MIN);
        let share = |total: usize| {
            (
                total / n + usize::from(i < total % n),
                total / n * i + i.min(total % n),
            )
        };
        let (capacity, base) = share(self.capacity);
        let (half_open, _) = share(self.half_open);
        Part {
            base,
            capacity,
            half_open,
        }
    }

    /// The shard of `tuple`'s connection.
    pub(crate) fn shard_of(&self, tuple: &Tuple) -> usize {
        let mut msg = [0u8; 10];
        msg[..4].copy_from_slice(&tuple.client);
        msg[4..6].copy_from_slice(&tuple.client_port.to_be_bytes());
        msg[6..].copy_from_slice(&tuple.vip);
        // `shards` is a power of two: the mask keeps the low bits.
        (siphash24(&self.key, &msg) as usize) & (self.shards - 1)
    }
}

/// The connections a node tracks for one mode, boxed as `B`.
///
/// # Invariants
///
/// - The table's slot numbers are `base..base + slots.len()`: slot `s`
///   is `slots[s - base]`, so that the shards of one table (`sharded.rs`)
///   number their slots apart.
/// - `slots.len()` is the capacity; `links`, `tags`, `dense`, `pos`,
///   `older`, `newer` and `listed` have that length too; `heads.len()` is a power of
///   two at least the capacity.
/// - A used slot is on exactly one chain, its tuple's bucket's, linked
///   through `links`; no two used slots hold the same tuple. A free slot is
///   on the free list (from `free`, linked through `links`). A used
///   slot's `tags` entry is the top half of its tuple's hash.
/// - `dense[..used]` lists the used slots, each once; `pos[s]` is slot
///   `s`'s index there.
/// - The half-open list runs from `oldest` to `newest` through `newer`
///   (back through `older`); it holds the used slots with `listed` set,
///   `listed_len` of them, in the order they went in. Every entry
///   inserted half-open is on it until it is settled or leaves.
pub(crate) struct ConnTable<B> {
    base: usize,
    slots: FixedVec<Option<B>>,
    links: FixedVec<u32>,
    /// What a chain walk compares before it reads an entry (in another
    /// cache line, often another page): with a million entries the
    /// entries' memory, not the hash, is what a lookup waits for.
    tags: FixedVec<u32>,
    heads: FixedVec<u32>,
    dense: FixedVec<u32>,
    pos: FixedVec<u32>,
    free: u32,
    used: usize,
    key: Key,
    older: FixedVec<u32>,
    newer: FixedVec<u32>,
    listed: FixedVec<bool>,
    oldest: u32,
    newest: u32,
    listed_len: usize,
    half_open_cap: usize,
}

impl<B: DerefMut> ConnTable<B>
where
    B::Target: Keyed,
{
    /// An empty table of `capacity` slots (1 to [`MAX_CAPACITY`]), at most
    /// `half_open_cap` of them half-open, hashed under `key`; `None` if
    /// out of memory. Process context.
    #[cfg(test)]
    pub(crate) fn new(capacity: usize, half_open_cap: usize, key: Key) -> Option<Self> {
        Self::part(
            Part {
                base: 0,
                capacity,
                half_open: half_open_cap,
            },
            key,
        )
    }

    /// An empty table that is `part` of a sharded one (its slots numbered
    /// from `part.base`), hashed under `key`; `None` if out of memory.
    /// Process context.
    pub(crate) fn part(part: Part, key: Key) -> Option<Self> {
        let capacity = part.capacity.clamp(1, MAX_CAPACITY);
        let half_open_cap = part.half_open;
        Some(Self {
            base: part.base,
            slots: FixedVec::from_fn(capacity, |_| None)?,
            // Every slot free, in order.
            links: FixedVec::from_fn(
                capacity,
                |i| {
                    if i + 1 < capacity {
                        i as u32 + 1
                    } else {
                        NIL
                    }
                },
            )?,
            tags: FixedVec::from_fn(capacity, |_| 0)?,
            heads: FixedVec::from_fn(capacity.next_power_of_two(), |_| NIL)?,
            dense: FixedVec::from_fn(capacity, |_| NIL)?,
            pos: FixedVec::from_fn(capacity, |_| NIL)?,
            free: 0,
            used: 0,
            key,
            older: FixedVec::from_fn(capacity, |_| NIL)?,
            newer: FixedVec::from_fn(capacity, |_| NIL)?,
            listed: FixedVec::from_fn(capacity, |_| false)?,
            oldest: NIL,
            newest: NIL,
            listed_len: 0,
            half_open_cap: half_open_cap.min(capacity),
        })
    }

    /// How many connections are tracked.
    pub(crate) fn len(&self) -> usize {
        self.used
    }

    /// Whether no connection is tracked.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.used == 0
    }

    /// How many connections the table can track.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// How many of the tracked connections are half-open (not yet
    /// settled).
    pub(crate) fn half_open(&self) -> usize {
        self.listed_len
    }

    /// Bytes the table takes: its index (allocated whole, whatever is
    /// tracked) and the tracked entries.
    pub(crate) fn bytes(&self) -> usize
    where
        B::Target: Sized,
    {
        self.index_bytes() + self.used * core::mem::size_of::<B::Target>()
    }

    /// Bytes the index takes, whatever is tracked (the entries apart).
    pub(crate) fn index_bytes(&self) -> usize {
        use core::mem::size_of;
        self.slots.len() * (size_of::<Option<B>>() + 6 * size_of::<u32>() + size_of::<bool>())
            + self.heads.len() * size_of::<u32>()
    }

    /// The longest chain a lookup may walk (it walks them all).
    #[cfg(test)]
    pub(crate) fn longest_chain(&self) -> usize {
        self.heads
            .iter()
            .map(|&h| {
                let (mut s, mut n) = (h, 0);
                while s != NIL {
                    n += 1;
                    s = self.links[s as usize];
                }
                n
            })
            .max()
            .unwrap_or(0)
    }

    /// `tuple`'s bucket and tag: the hash's low bits (`heads.len()` is a
    /// power of two) and its top half.
    fn hash(&self, tuple: &Tuple) -> (usize, u32) {
        let h = siphash24(&self.key, &tuple.to_wire());
        ((h as usize) & (self.heads.len() - 1), (h >> 32) as u32)
    }

    fn bucket(&self, tuple: &Tuple) -> usize {
        self.hash(tuple).0
    }

    /// The slot of `tuple`, if it is tracked.
    fn slot_of(&self, tuple: &Tuple) -> Option<usize> {
        if self.used == 0 {
            return None;
        }
        let (b, tag) = self.hash(tuple);
        let mut s = self.heads[b];
        while s != NIL {
            let i = s as usize;
            if self.tags[i] == tag && self.slots[i].as_ref().is_some_and(|e| e.tuple() == tuple) {
                return Some(i);
            }
            s = self.links[i];
        }
        None
    }

    /// The entry of `tuple`.
    #[cfg(test)]
    pub(crate) fn get(&self, tuple: &Tuple) -> Option<&B::Target> {
        let i = self.slot_of(tuple)?;
        self.slots[i].as_deref()
    }

    /// The entry of `tuple`, to change.
    pub(crate) fn find(&mut self, tuple: &Tuple) -> Option<&mut B::Target> {
        self.find_slot(tuple).map(|(_, e)| e)
    }

    /// The entry of `tuple` and its slot, which stays its own while it is
    /// in the table.
    pub(crate) fn find_slot(&mut self, tuple: &Tuple) -> Option<(usize, &mut B::Target)> {
        let i = self.slot_of(tuple)?;
        let base = self.base;
        self.slots[i].as_deref_mut().map(|e| (base + i, e))
    }

    /// The entry of `tuple` if it is in slot `slot` (a slot
    /// [`ConnTable::find_slot`] gave), else as [`ConnTable::find_slot`].
    pub(crate) fn find_at(
        &mut self,
        slot: usize,
        tuple: &Tuple,
    ) -> Option<(usize, &mut B::Target)> {
        // A slot below `base` wraps to far beyond the slots: no hit.
        let i = slot.wrapping_sub(self.base);
        let hit = self
            .slots
            .get(i)
            .is_some_and(|s| s.as_ref().is_some_and(|e| e.tuple() == tuple));
        if hit {
            return self.slots[i].as_deref_mut().map(|e| (slot, e));
        }
        self.find_slot(tuple)
    }

    /// Slot `slot`'s entry completed its handshake: off the half-open
    /// list. Whether it was on it (the first time it settles).
    pub(crate) fn settle(&mut self, slot: usize) -> bool {
        let i = slot.wrapping_sub(self.base);
        let listed = self.listed.get(i).copied().unwrap_or(false);
        if listed {
            self.unlist(i);
        }
        listed
    }

    /// Puts used slot `i` at the new end of the half-open list.
    fn list(&mut self, i: usize) {
        self.older[i] = self.newest;
        self.newer[i] = NIL;
        match self.newest {
            NIL => self.oldest = i as u32,
            n => self.newer[n as usize] = i as u32,
        }
        self.newest = i as u32;
        self.listed[i] = true;
        self.listed_len += 1;
    }

    /// Takes slot `i` off the half-open list, if it is on it.
    fn unlist(&mut self, i: usize) {
        if !self.listed[i] {
            return;
        }
        let (o, n) = (self.older[i], self.newer[i]);
        match o {
            NIL => self.oldest = n,
            o => self.newer[o as usize] = n,
        }
        match n {
            NIL => self.newest = o,
            n => self.older[n as usize] = o,
        }
        self.older[i] = NIL;
        self.newer[i] = NIL;
        self.listed[i] = false;
        self.listed_len -= 1;
    }

    /// Takes slot `i` (used) off its chain, the dense list and the
    /// half-open list, onto the free list; its entry.
    fn release(&mut self, i: usize) -> Option<B> {
        let entry = self.slots[i].take()?;
        let b = self.bucket(entry.tuple());
        if self.heads[b] == i as u32 {
            self.heads[b] = self.links[i];
        } else {
            let mut s = self.heads[b];
            while s != NIL {
                let next = self.links[s as usize];
                if next == i as u32 {
                    self.links[s as usize] = self.links[i];
                    break;
                }
                s = next;
            }
        }
        let p = self.pos[i] as usize;
        let last = self.dense[self.used - 1];
        self.dense[p] = last;
        self.pos[last as usize] = p as u32;
        self.dense[self.used - 1] = NIL;
        self.pos[i] = NIL;
        self.used -= 1;
        self.unlist(i);
        self.links[i] = self.free;
        self.free = i as u32;
        Some(entry)
    }

    /// Forgets the entry of `tuple`, if there is one; it.
    pub(crate) fn remove(&mut self, tuple: &Tuple) -> Option<B> {
        let i = self.slot_of(tuple)?;
        self.release(i)
    }

    /// Takes the oldest half-open entry out while `more` says the list is
    /// too long; it. An entry the owner forgot to settle is only taken off
    /// the list.
    fn evict_half_open(&mut self, more: impl Fn(usize) -> bool) -> Option<B> {
        while self.oldest != NIL && more(self.listed_len) {
            let i = self.oldest as usize;
            if self.slots[i].as_ref().is_some_and(|e| e.half_open()) {
                return self.release(i);
            }
            self.unlist(i);
        }
        None
    }

    /// Puts `entry` in, in place of its tuple's entry if there is one
    /// (dropped). A half-open entry at the half-open cap, or any entry
    /// while every slot is taken, evicts the oldest half-open entry: given
    /// back. With none to evict (or half-open entries capped at 0), `entry`
    /// is given back as the error.
    pub(crate) fn insert(&mut self, entry: B) -> Result<Option<B>, B> {
        let half_open = entry.half_open();
        if half_open && self.half_open_cap == 0 {
            return Err(entry);
        }
        drop(self.remove(entry.tuple()));
        let cap = self.half_open_cap;
        let mut evicted = None;
        if half_open {
            evicted = self.evict_half_open(|n| n >= cap);
        }
        if self.free == NIL && evicted.is_none() {
            evicted = self.evict_half_open(|_| true);
        }
        if self.free == NIL {
            return Err(entry);
        }
        let i = self.free as usize;
        self.free = self.links[i];
        let (b, tag) = self.hash(entry.tuple());
        self.tags[i] = tag;
        self.links[i] = self.heads[b];
        self.heads[b] = i as u32;
        self.dense[self.used] = i as u32;
        self.pos[i] = self.used as u32;
        self.used += 1;
        if half_open {
            self.list(i);
        }
        self.slots[i] = Some(entry);
        Ok(evicted)
    }

    /// The entries.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &B::Target> {
        self.dense[..self.used]
            .iter()
            .filter_map(|&s| self.slots[s as usize].as_deref())
    }

    /// Calls `f` with each entry and its slot, to change it.
    pub(crate) fn for_each_mut(&mut self, mut f: impl FnMut(usize, &mut B::Target)) {
        let Self {
            base,
            slots,
            dense,
            used,
            ..
        } = self;
        for &s in dense[..*used].iter() {
            if let Some(e) = slots[s as usize].as_deref_mut() {
                f(*base + s as usize, e);
            }
        }
    }

    /// Keeps only the entries `keep` says to keep (it may change them).
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&mut B::Target) -> bool) {
        let mut p = 0;
        while p < self.used {
            let i = self.dense[p] as usize;
            let stay = self.slots[i].as_deref_mut().is_some_and(&mut keep);
            if stay {
                p += 1;
            } else {
                // Swap-remove brings the last used slot to `p`: look again.
                let _ = self.release(i);
            }
        }
    }
}

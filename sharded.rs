// SPDX-License-Identifier: GPL-2.0

//! A node's table of connections for one mode, split into shards, each
//! behind its own lock, as conntrack stripes its buckets over an array of
//! locks: a segment takes the lock of its own connection's shard, never
//! one lock of the whole node, and the hooks of a node that tracks no
//! connection take no lock at all.
//!
//! How the shards are cut and which shard a connection is in is
//! kernel-independent ([`Sharding`], `conntable.rs`, host-tested); this
//! file holds the locks.

use crate::{
    conntable::{Part, Sharding},
    sys::sync::{SpinLockBh, SpinLockBhBackend},
    wire::Tuple,
};
use core::{
    ops::{Deref, DerefMut},
    pin::Pin,
    sync::atomic::{AtomicUsize, Ordering},
};
use kernel::{
    prelude::*,
    str::CStr,
    sync::{
        lock::{Guard, Lock},
        LockClassKey,
    },
};

/// A fresh key for a table's hashes: its chains and shards are unknown
/// outside.
pub(crate) fn table_key() -> crate::rendezvous::Key {
    let mut bytes = [0u8; 16];
    for chunk in bytes.chunks_exact_mut(4) {
        chunk.copy_from_slice(&crate::sys::crypto::random_u32().to_ne_bytes());
    }
    crate::rendezvous::Key::new(&bytes)
}

/// What a shard holds: a table of entries that can say how many it has.
pub(crate) trait Len {
    /// How many entries there are.
    fn len(&self) -> usize;
}

/// One shard: its table, its lock, and its count of entries as last let
/// go of.
#[pin_data]
struct Shard<T> {
    #[pin]
    lock: SpinLockBh<T>,
    count: AtomicUsize,
}

/// The shards of one table.
///
/// # Invariants
///
/// - `shards.len()` is `sharding.shards()`; shard `i` holds the
///   connections whose [`Sharding::shard_of`] is `i`, in slots of
///   `sharding.part(i)`.
/// - Outside a critical section, each shard's `count` is its table's
///   [`Len::len`], and `total` is the sum of the counts: every
///   [`ShardGuard`] brings both up to date as it drops, and only guards
///   change a table.
pub(crate) struct Sharded<T: Len> {
    shards: KVec<Pin<KBox<Shard<T>>>>,
    sharding: Sharding,
    total: AtomicUsize,
}

impl<T: Len> Sharded<T> {
    /// The shards of `sharding`, shard `i`'s table made by `make` from its
    /// part; their locks are of lockdep class `class`, named `name` (one
    /// class per table: no two shards are ever held at once). Process
    /// context.
    pub(crate) fn new(
        sharding: Sharding,
        name: &'static CStr,
        class: &'static LockClassKey,
        mut make: impl FnMut(Part) -> Result<T>,
    ) -> Result<Self> {
        let mut shards = KVec::with_capacity(sharding.shards(), GFP_KERNEL)?;
        for i in 0..sharding.shards() {
            let table = make(sharding.part(i))?;
            let shard = KBox::pin_init(
                pin_init!(Shard {
                    lock <- Lock::new(table, name, class),
                    count: AtomicUsize::new(0),
                }),
                GFP_KERNEL,
            )?;
            shards.push(shard, GFP_KERNEL)?;
        }
        Ok(Self {
            shards,
            sharding,
            total: AtomicUsize::new(0),
        })
    }

    /// Whether no shard had an entry when last let go of. Any context.
    ///
    /// A hook that finds the table empty goes on as if it had taken the
    /// lock just before whoever is adding an entry: the total is changed
    /// (release) before that section's lock is let go of and loaded
    /// (acquire) here, so the hook sees the table before that section or
    /// after it, as it would with the lock.
    pub(crate) fn is_empty(&self) -> bool {
        self.total.load(Ordering::Acquire) == 0
    }

    /// How many entries there were when last counted. Any context.
    pub(crate) fn len(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }

    /// How many shards there are.
    pub(crate) fn shards(&self) -> usize {
        self.shards.len()
    }

    /// The slots of all shards.
    pub(crate) fn capacity(&self) -> usize {
        self.sharding.capacity()
    }

    /// Takes the lock of `tuple`'s shard: the one that holds its entry, if
    /// it has one, and any entry of the same client address, port and VIP
    /// (on another local port).
    pub(crate) fn lock(&self, tuple: &Tuple) -> ShardGuard<'_, T> {
        self.lock_shard(self.sharding.shard_of(tuple))
    }

    /// Takes the lock of shard `i` (its low bits: the shards are a power
    /// of two), to go over its entries. Never hold two.
    pub(crate) fn lock_shard(&self, i: usize) -> ShardGuard<'_, T> {
        let shard = &self.shards[i & self.shards.len().wrapping_sub(1)];
        ShardGuard {
            guard: shard.lock.lock(),
            count: &shard.count,
            total: &self.total,
        }
    }

    /// Calls `f` with each shard's table in turn, under its lock.
    pub(crate) fn for_each_shard(&self, mut f: impl FnMut(&mut T)) {
        for i in 0..self.shards() {
            f(&mut self.lock_shard(i));
        }
    }
}

/// The lock of one shard, held: the shard's count and the table's total
/// are brought up to date when it drops, before the lock is let go of.
pub(crate) struct ShardGuard<'a, T: Len> {
    guard: Guard<'a, T, SpinLockBhBackend>,
    count: &'a AtomicUsize,
    total: &'a AtomicUsize,
}

impl<T: Len> Deref for ShardGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: Len> DerefMut for ShardGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

impl<T: Len> Drop for ShardGuard<'_, T> {
    fn drop(&mut self) {
        // Only a holder of the lock changes `count`: a plain load and
        // store. The total is written only when the count moves, so a
        // segment of a tracked connection writes no line that another
        // connection's segment reads.
        let now = self.guard.len();
        let was = self.count.load(Ordering::Relaxed);
        if now != was {
            self.count.store(now, Ordering::Relaxed);
            if now > was {
                self.total.fetch_add(now - was, Ordering::Release);
            } else {
                self.total.fetch_sub(was - now, Ordering::Release);
            }
        }
    }
}

impl<B: DerefMut> Len for crate::conntable::ConnTable<B>
where
    B::Target: crate::conntable::Keyed,
{
    fn len(&self) -> usize {
        crate::conntable::ConnTable::len(self)
    }
}

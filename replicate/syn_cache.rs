// SPDX-License-Identifier: GPL-2.0

//! The options of the clients' SYNs, remembered for a while on each
//! replica, so that a handshake played again (`lost_handshake.rs`) asks
//! its stack for what the client really offered.
//!
//! A replica that lost a half-open connection's entry, and whose stack
//! answered with a SYN cookie, keeps nothing of the client's SYN: its
//! options (MSS, window scale, SACK) went with the entry, and the
//! cluster's SYN-ACK timestamp, which the client echoes, carries none of
//! them. Without them the played SYN asks for the least any client
//! accepts, and the connection runs with 536-byte segments, an unscaled
//! window and no SACK.
//!
//! So every replica writes each client SYN's options into a table of
//! [`SLOTS`] words, at a slot that a keyed hash of the connection and the
//! client's initial sequence number picks, tagged with that hash. A
//! recovery reads them back if the slot still holds them; a later SYN
//! that hashed to the same slot may have taken it (a SYN flood does so
//! quickly), and then the played SYN falls back to the safe options.
//! Lossy by design: no allocation, no lock, one atomic word per slot, and
//! a flood costs it nothing but its memory.
//!
//! Kernel-independent: built into the module and into the host test crate.

use crate::rendezvous::Key;
use crate::replica::tuple_hash;
use crate::splice::SynOptions;
use crate::wire::Tuple;
use core::sync::atomic::{AtomicU64, Ordering};

/// Slots of the table: 32 KiB of memory a node.
pub(crate) const SLOTS: usize = 4096;

/// The `tuple_hash` purpose of this table.
const PURPOSE: u8 = 3;

/// Set in every word written: a zeroed slot holds nothing.
const WRITTEN: u64 = 1 << 31;
/// The word's window scale is present.
const WSCALE: u64 = 1 << 30;
/// The client permits SACK.
const SACK: u64 = 1 << 29;

/// The slot and tag of connection `tuple` opened with `client_isn`.
fn slot_of(key: &Key, tuple: &Tuple, client_isn: u32) -> (usize, u32) {
    let h = tuple_hash(key, tuple, client_isn, PURPOSE);
    (h as usize % SLOTS, h)
}

/// `o` with `tag`, in one word: the tag in the high half, then the flags,
/// the window scale in bits 16-19 and the MSS in the low 16 bits.
fn pack(tag: u32, o: &SynOptions) -> u64 {
    let mut w = (u64::from(tag) << 32) | WRITTEN | u64::from(o.mss);
    if let Some(shift) = o.wscale {
        w |= WSCALE | (u64::from(shift & 0xf) << 16);
    }
    if o.sack_permitted {
        w |= SACK;
    }
    w
}

/// The options in word `w` if it was written with `tag`.
fn unpack(w: u64, tag: u32) -> Option<SynOptions> {
    if w & WRITTEN == 0 || (w >> 32) as u32 != tag {
        return None;
    }
    Some(SynOptions {
        mss: w as u16,
        wscale: (w & WSCALE != 0).then_some(((w >> 16) & 0xf) as u8),
        sack_permitted: w & SACK != 0,
    })
}

/// Remembers the options `o` of the SYN that opened connection `tuple`
/// with `client_isn`, in `slots` ([`SLOTS`] of them), keyed by `key`.
/// Any context: one relaxed store.
pub(crate) fn remember(
    slots: &[AtomicU64],
    key: &Key,
    tuple: &Tuple,
    client_isn: u32,
    o: &SynOptions,
) {
    let (at, tag) = slot_of(key, tuple, client_isn);
    if let Some(slot) = slots.get(at) {
        slot.store(pack(tag, o), Ordering::Relaxed);
    }
}

/// The options remembered for connection `tuple` opened with
/// `client_isn`, if its slot still holds them. Any context.
pub(crate) fn recall(
    slots: &[AtomicU64],
    key: &Key,
    tuple: &Tuple,
    client_isn: u32,
) -> Option<SynOptions> {
    let (at, tag) = slot_of(key, tuple, client_isn);
    unpack(slots.get(at)?.load(Ordering::Relaxed), tag)
}

// SPDX-License-Identifier: GPL-2.0

//! Read-only view of a socket buffer, as netfilter hooks receive it.

use super::bindings;
use kernel::types::Opaque;

/// A socket buffer borrowed for the duration of a hook call.
///
/// # Invariants
///
/// The wrapped `sk_buff` is valid and not freed for the lifetime of the
/// reference; its linear header fields are stable while we hold it.
#[repr(transparent)]
pub(crate) struct SkBuff(Opaque<bindings::sk_buff>);

impl SkBuff {
    /// Borrows `ptr` as an `SkBuff`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `sk_buff` that stays valid, and is not
    /// freed or modified concurrently, for the lifetime `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::sk_buff) -> &'a Self {
        // SAFETY: `SkBuff` is a transparent wrapper of `sk_buff`, and the
        // caller guarantees validity for `'a`.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Length of the packet's data (for IPv4 at PRE_ROUTING: the IP total length).
    pub(crate) fn len(&self) -> u32 {
        // SAFETY: by the type invariant the `sk_buff` is valid; `len` is a
        // plain field read.
        unsafe { (*self.0.get()).len }
    }
}

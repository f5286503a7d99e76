// SPDX-License-Identifier: GPL-2.0

//! A vector whose length is fixed when it is made, for the connection
//! tables' indexes (`conntable.rs`): made in process context with
//! `kvmalloc` (a table of a million slots is megabytes), then only read
//! and written in place, so the hooks never allocate. The host tests
//! provide a `Vec`-backed twin.

use core::ops::{Deref, DerefMut};
use kernel::prelude::*;

/// `len` values of `T`, allocated once.
pub(crate) struct FixedVec<T>(KVVec<T>);

impl<T> FixedVec<T> {
    /// `n` values, the `i`-th `f(i)`; `None` if out of memory. Process
    /// context.
    pub(crate) fn from_fn(n: usize, mut f: impl FnMut(usize) -> T) -> Option<Self> {
        let mut v = KVVec::with_capacity(n, GFP_KERNEL).ok()?;
        for i in 0..n {
            // Within the capacity just reserved: never allocates.
            v.push(f(i), GFP_KERNEL).ok()?;
        }
        Some(Self(v))
    }
}

impl<T> Deref for FixedVec<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T> DerefMut for FixedVec<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}

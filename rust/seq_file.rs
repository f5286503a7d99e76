// SPDX-License-Identifier: GPL-2.0

//! Text output of a `/proc` file, as `core::fmt::Write`.

use super::bindings;
use core::fmt;
use kernel::types::Opaque;

/// A `seq_file` being filled by a `show` callback.
///
/// # Invariants
///
/// The wrapped `seq_file` is valid, and its `show` callback is running on
/// this thread, for the lifetime of the reference.
#[repr(transparent)]
pub(crate) struct SeqFile(Opaque<bindings::seq_file>);

impl SeqFile {
    /// Borrows `ptr` as a `SeqFile`.
    ///
    /// # Safety
    ///
    /// `ptr` must be the `seq_file` passed to a running `show` callback, and
    /// `'a` must not outlive that call.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::seq_file) -> &'a mut Self {
        // SAFETY: transparent wrapper; exclusive use during `show` is
        // guaranteed by the caller.
        unsafe { &mut *ptr.cast::<Self>() }
    }

    /// The `private` field: for `proc_create_net_single` files, the `struct net`.
    pub(crate) fn private(&self) -> *mut core::ffi::c_void {
        // SAFETY: by the type invariant the `seq_file` is valid.
        unsafe { (*self.0.get()).private }
    }
}

impl fmt::Write for SeqFile {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // SAFETY: by the type invariant the `seq_file` is valid and ours;
        // `s` is valid for `s.len()` bytes. On overflow `seq_write` marks the
        // buffer and the seq_file core calls `show` again with a larger one.
        let ret = unsafe { bindings::seq_write(self.0.get(), s.as_ptr().cast(), s.len()) };
        if ret == 0 {
            Ok(())
        } else {
            Err(fmt::Error)
        }
    }
}

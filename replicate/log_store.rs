// SPDX-License-Identifier: GPL-2.0

//! Where a replicated connection's client log (`client_log.rs`) keeps its
//! bytes in the module: a `kvmalloc`ed vector, grown in process context
//! only (the socket gate), never under a lock.

use crate::client_log::{ClientLog, LogBytes};
use kernel::prelude::*;

/// A connection's client log, on the heap: an entry holds a pointer.
pub(crate) type LogBox = KBox<ClientLog<LogVec>>;

/// The bytes of one client log.
pub(crate) struct LogVec(KVVec<u8>);

impl Default for LogVec {
    fn default() -> Self {
        Self(KVVec::new())
    }
}

impl LogBytes for LogVec {
    fn bytes(&self) -> &[u8] {
        &self.0
    }

    fn try_append(&mut self, more: &[u8]) -> bool {
        self.0.extend_from_slice(more, GFP_KERNEL).is_ok()
    }

    fn release(&mut self) {
        self.0 = KVVec::new();
    }
}

/// A new, empty log on the heap (see [`ClientLog::new`]); `None` without
/// memory. Process context.
pub(crate) fn new_log(
    start: u32,
    syn: Option<crate::splice::SynOptions>,
    bound: usize,
) -> Option<LogBox> {
    KBox::new(
        ClientLog::new(start, syn, LogVec::default(), bound),
        GFP_KERNEL,
    )
    .ok()
}

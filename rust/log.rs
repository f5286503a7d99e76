// SPDX-License-Identifier: GPL-2.0

//! Log lines that traffic can trigger (one per connection taken over,
//! say): rate-limited, so that a node's death with thousands of
//! connections does not flood the log.

use super::bindings;

/// Whether such a line may be printed now: the networking stack's shared
/// rate limit (`net_ratelimit`: `net.core.message_burst` lines per
/// `net.core.message_cost`, 10 per 5 s by default). Any context.
pub(crate) fn ratelimited() -> bool {
    // SAFETY: takes the rate limit's own lock; callable in any context.
    unsafe { bindings::net_ratelimit() != 0 }
}

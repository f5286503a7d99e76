// SPDX-License-Identifier: GPL-2.0

//! Readiness held back after a stop: this node's answer to "is an
//! application listening for this service here", debounced on the way up.
//!
//! Every change of a node's readiness pauses new connections on every
//! member for about a heartbeat round trip, while the members agree on the
//! new policy view (`policy.rs`). A server that restarts in a loop would
//! pause them at each stop and again at each start. So:
//!
//! - a service whose application stops listening is not ready at once (no
//!   new connection may be sent to a stack that would refuse it);
//! - once it listens again after such a stop, it is ready only after it has
//!   listened for the *hold* without a break (keepalived's `rise`, in time):
//!   a server that crashes again within the hold is never counted back in;
//! - a service seen listening for the first time (the module loaded, the
//!   service added, the application started late) is ready at once:
//!   nothing has flapped yet, and a new cluster should not wait.
//!
//! Kernel-independent: host-tested.

use crate::policy::ServiceId;

/// Where one service stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Never ready yet: its first listening counts at once.
    Unseen,
    /// Ready.
    Ready,
    /// Was ready; no application listens now.
    Stopped,
    /// Was ready, stopped, and listens again since this time (ms).
    Rising(u64),
}

impl State {
    /// The state after one look at the stack, at `now_ms`.
    fn step(self, listening: bool, now_ms: u64, hold_ms: u64) -> Self {
        let next = match (self, listening) {
            (Self::Unseen, true) | (Self::Ready, true) => Self::Ready,
            (Self::Unseen, false) => Self::Unseen,
            (Self::Ready | Self::Stopped | Self::Rising(_), false) => Self::Stopped,
            (Self::Stopped, true) => Self::Rising(now_ms),
            (Self::Rising(since), true) => Self::Rising(since),
        };
        match next {
            Self::Rising(since) if now_ms.saturating_sub(since) >= hold_ms => Self::Ready,
            other => other,
        }
    }
}

/// The services of one node and where each stands.
///
/// # Invariants
///
/// `services[..len]` are `Some`, each id at most once; the rest `None`.
pub(crate) struct ReadyHold<const N: usize> {
    services: [Option<(ServiceId, State)>; N],
    len: usize,
}

impl<const N: usize> Default for ReadyHold<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> ReadyHold<N> {
    /// No service seen yet.
    pub(crate) const fn new() -> Self {
        Self {
            services: [None; N],
            len: 0,
        }
    }

    /// Takes one look at the stack: `listening` gives, for each configured
    /// service, whether an application listens for it now (at most `N`
    /// services; more are never ready). Forgets the services not given.
    /// Returns how many services became ready or stopped being ready.
    pub(crate) fn update(
        &mut self,
        listening: impl IntoIterator<Item = (ServiceId, bool)>,
        now_ms: u64,
        hold_ms: u64,
    ) -> u32 {
        let mut seen = [false; N];
        let mut changes = 0;
        for (id, listens) in listening {
            let at = match self.position(&id) {
                Some(i) => i,
                None if self.len < N => {
                    self.services[self.len] = Some((id, State::Unseen));
                    self.len += 1;
                    self.len - 1
                }
                None => continue,
            };
            if let Some((_, state)) = &mut self.services[at] {
                let next = state.step(listens, now_ms, hold_ms);
                if (next == State::Ready) != (*state == State::Ready) {
                    changes += 1;
                }
                *state = next;
            }
            seen[at] = true;
        }
        // Forget the services no longer configured, keeping the rest
        // packed at the front (the invariant).
        let mut kept = 0;
        for (i, &seen) in seen.iter().enumerate().take(self.len) {
            if seen {
                self.services.swap(kept, i);
                kept += 1;
            }
        }
        for slot in &mut self.services[kept..self.len] {
            *slot = None;
        }
        self.len = kept;
        changes
    }

    /// Whether service `id` is ready, as of the last look.
    pub(crate) fn is_ready(&self, id: &ServiceId) -> bool {
        self.position(id)
            .and_then(|i| self.services[i])
            .is_some_and(|(_, state)| state == State::Ready)
    }

    fn position(&self, id: &ServiceId) -> Option<usize> {
        self.services[..self.len]
            .iter()
            .position(|s| s.is_some_and(|(sid, _)| sid == *id))
    }
}

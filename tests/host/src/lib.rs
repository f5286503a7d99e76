//! The kernel-independent parts of tpcluster.ko, compiled for the host so
//! that `cargo test` exercises the very source files the module builds.

#![allow(dead_code)]

#[path = "../../../balance.rs"]
pub mod balance;
#[path = "../../../replicate/catch_up.rs"]
pub mod catch_up;
#[path = "../../../replicate/client_acks.rs"]
pub mod client_acks;
#[path = "../../../replicate/client_log.rs"]
pub mod client_log;
#[path = "../../../config.rs"]
pub mod config;
#[path = "../../../conntable.rs"]
pub mod conntable;
#[path = "../../../csum.rs"]
pub mod csum;
#[path = "../../../replicate/entry.rs"]
pub mod entry;
#[path = "../../../replicate/lost_handshake.rs"]
pub mod lost_handshake;
#[path = "../../../membership.rs"]
pub mod membership;
#[path = "../../../replicate/output_digest.rs"]
pub mod output_digest;
#[path = "../../../packet.rs"]
pub mod packet;
#[path = "../../../policy.rs"]
pub mod policy;
#[path = "../../../ready_hold.rs"]
pub mod ready_hold;
#[path = "../../../rendezvous.rs"]
pub mod rendezvous;
#[path = "../../../replay.rs"]
pub mod replay;
#[path = "../../../replicate/replica.rs"]
pub mod replica;
#[path = "../../../splice.rs"]
pub mod splice;
#[path = "../../../stats.rs"]
pub mod stats;
#[path = "../../../replicate/summary.rs"]
pub mod summary;
#[path = "../../../replicate/syn_cache.rs"]
pub mod syn_cache;
/// Where a client log keeps its bytes (`replicate/log_store.rs`): a
/// `Vec` here, `kvmalloc`ed in the module.
pub mod log_store {
    use crate::client_log::{ClientLog, LogBytes};

    pub(crate) type LogBox = Box<ClientLog<LogVec>>;

    #[derive(Default)]
    pub struct LogVec(Vec<u8>);

    impl LogBytes for LogVec {
        fn bytes(&self) -> &[u8] {
            &self.0
        }

        fn try_append(&mut self, more: &[u8]) -> bool {
            self.0.extend_from_slice(more);
            true
        }

        fn release(&mut self) {
            self.0 = Vec::new();
        }
    }

    pub(crate) fn new_log(
        start: u32,
        syn: Option<crate::splice::SynOptions>,
        bound: usize,
    ) -> Option<LogBox> {
        Some(Box::new(ClientLog::new(
            start,
            syn,
            LogVec::default(),
            bound,
        )))
    }
}
/// The cells of the counters (`stats.rs`): atomics here, per CPU in the
/// module.
pub mod counter_cells {
    use core::sync::atomic::{AtomicU64, Ordering};

    /// `N` counters.
    pub struct Cells<const N: usize>([AtomicU64; N]);

    impl<const N: usize> Cells<N> {
        pub fn new() -> Option<Self> {
            Some(Self([const { AtomicU64::new(0) }; N]))
        }

        pub fn add(&self, i: usize, n: u64) {
            if let Some(c) = self.0.get(i) {
                c.fetch_add(n, Ordering::Relaxed);
            }
        }

        pub fn sum(&self, i: usize) -> u64 {
            self.0.get(i).map_or(0, |c| c.load(Ordering::Relaxed))
        }
    }
}
/// A vector of a length fixed when made (`conntable.rs`): a `Vec` here,
/// `kvmalloc`ed in the module.
pub mod fixed_vec {
    use core::ops::{Deref, DerefMut};

    pub struct FixedVec<T>(Vec<T>);

    impl<T> FixedVec<T> {
        pub fn from_fn(n: usize, f: impl FnMut(usize) -> T) -> Option<Self> {
            Some(Self((0..n).map(f).collect()))
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
}
#[path = "../../../types.rs"]
pub mod types;
#[path = "../../../wire.rs"]
pub mod wire;

#[cfg(test)]
mod balance_tests;
#[cfg(test)]
mod catch_up_tests;
#[cfg(test)]
mod client_acks_tests;
#[cfg(test)]
mod client_log_tests;
#[cfg(test)]
mod config_tests;
#[cfg(test)]
mod conntable_tests;
#[cfg(test)]
mod csum_tests;
#[cfg(test)]
mod entry_tests;
#[cfg(test)]
mod lost_handshake_tests;
#[cfg(test)]
mod membership_tests;
#[cfg(test)]
mod output_digest_tests;
#[cfg(test)]
mod policy_tests;
#[cfg(test)]
mod ready_hold_tests;
#[cfg(test)]
mod release_tests;
#[cfg(test)]
mod rendezvous_tests;
#[cfg(test)]
mod replay_tests;
#[cfg(test)]
mod replica_tests;
#[cfg(test)]
mod splice_tests;
#[cfg(test)]
mod stats_tests;
#[cfg(test)]
mod summary_tests;
#[cfg(test)]
mod wire_tests;

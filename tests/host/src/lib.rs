//! The kernel-independent parts of tpcluster.ko, compiled for the host so
//! that `cargo test` exercises the very source files the module builds.

#![allow(dead_code)]

#[path = "../../../balance.rs"]
pub mod balance;
#[path = "../../../client_acks.rs"]
pub mod client_acks;
#[path = "../../../config.rs"]
pub mod config;
#[path = "../../../csum.rs"]
pub mod csum;
#[path = "../../../membership.rs"]
pub mod membership;
#[path = "../../../packet.rs"]
pub mod packet;
#[path = "../../../rendezvous.rs"]
pub mod rendezvous;
#[path = "../../../replay.rs"]
pub mod replay;
#[path = "../../../replica.rs"]
pub mod replica;
#[path = "../../../splice.rs"]
pub mod splice;
#[path = "../../../stats.rs"]
pub mod stats;
#[path = "../../../wire.rs"]
pub mod wire;

#[cfg(test)]
mod balance_tests;
#[cfg(test)]
mod client_acks_tests;
#[cfg(test)]
mod config_tests;
#[cfg(test)]
mod csum_tests;
#[cfg(test)]
mod membership_tests;
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
mod wire_tests;

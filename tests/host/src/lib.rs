//! The kernel-independent parts of tpcluster.ko, compiled for the host so
//! that `cargo test` exercises the very source files the module builds.

#![allow(dead_code)]

#[path = "../../../stats.rs"]
pub mod stats;

#[cfg(test)]
mod stats_tests;

// SPDX-License-Identifier: GPL-2.0

//! tpcluster: several Linux servers on one L2 segment answering as one IP
//! address, with TCP connections that can be balanced, spliced and
//! replicated between them. See `Documentation/` for the design.
//!
//! This crate root holds the module and the per-network-namespace node. Each
//! namespace is an independent node: its own netfilter hook and counters,
//! readable in `/proc/net/tpcluster`.

use kernel::{c_str, new_mutex, prelude::*, sync::Mutex};

#[path = "rust/mod.rs"]
mod sys;

mod config;
mod control;
mod stats;

use config::Config;
use stats::Counters;
use sys::{
    genetlink::Family,
    netfilter::{Ipv4PreRouting, Verdict},
    pernet::{self, PerNet},
    seq_file::SeqFile,
    skbuff::SkBuff,
};

module! {
    type: TpCluster,
    name: "tpcluster",
    author: "The tpcluster developers",
    description: "Single-IP clusters of Linux servers with balanced, spliced and replicated TCP",
    license: "GPL",
}

/// The module: while loaded, every network namespace is a node.
///
/// Fields drop in declaration order: the netlink family goes before the
/// nodes its handlers use.
struct TpCluster {
    _family: Family,
    _nodes: pernet::Registration<Node>,
}

impl kernel::Module for TpCluster {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let nodes = pernet::Registration::new()?;
        let family = Family::register()?;
        pr_info!("loaded\n");
        Ok(Self {
            _family: family,
            _nodes: nodes,
        })
    }
}

impl Drop for TpCluster {
    fn drop(&mut self) {
        pr_info!("unloading\n");
    }
}

/// The node of one network namespace.
#[pin_data]
struct Node {
    counters: Counters,
    /// Changed by netlink requests (process context only).
    #[pin]
    config: Mutex<Config>,
}

impl PerNet for Node {
    const PROC_NAME: &'static CStr = c_str!("tpcluster");

    fn new() -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            counters: Counters::default(),
            config <- new_mutex!(Config::new()),
        })
    }

    fn show(&self, out: &mut SeqFile) -> core::fmt::Result {
        self.counters.write(out)
    }
}

impl Ipv4PreRouting for Node {
    fn pre_routing(&self, skb: &SkBuff) -> Verdict {
        self.counters.count_hook_packet(skb.len());
        Verdict::Accept
    }
}

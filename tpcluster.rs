// SPDX-License-Identifier: GPL-2.0

//! tpcluster: several Linux servers on one L2 segment answering as one IP
//! address, with TCP connections that can be balanced, spliced and
//! replicated between them. See `Documentation/` for the design.
//!
//! This crate root holds the module and the per-network-namespace node. Each
//! namespace is an independent node: its own netfilter hook and counters,
//! readable in `/proc/net/tpcluster`.

use kernel::{c_str, prelude::*};

#[path = "rust/mod.rs"]
mod sys;

mod stats;

use stats::Counters;
use sys::{
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
struct TpCluster {
    _nodes: Pin<KBox<pernet::Registration<Node>>>,
}

impl kernel::Module for TpCluster {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let nodes = pernet::Registration::new()?;
        pr_info!("loaded\n");
        Ok(Self { _nodes: nodes })
    }
}

impl Drop for TpCluster {
    fn drop(&mut self) {
        pr_info!("unloading\n");
    }
}

/// The node of one network namespace.
struct Node {
    counters: Counters,
}

impl PerNet for Node {
    const PROC_NAME: &'static CStr = c_str!("tpcluster");

    fn new() -> Result<Self> {
        Ok(Self {
            counters: Counters::default(),
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

// SPDX-License-Identifier: GPL-2.0

//! tpcluster: several Linux servers on one L2 segment answering as one IP
//! address, with TCP connections that can be balanced, spliced and
//! replicated between them. See `Documentation/` for the design.
//!
//! This crate root holds the module and the per-network-namespace node. Each
//! namespace is an independent node: its own configuration (set over
//! generic netlink, see `control.rs`), its netfilter hook, which keeps the
//! packets for a VIP that this node owns and drops the others
//! (`balance.rs`), its answers to ARP for its VIPs, and its counters,
//! readable in `/proc/net/tpcluster`.

use kernel::{c_str, new_mutex, prelude::*, sync::Mutex};

#[path = "rust/mod.rs"]
mod sys;

mod balance;
mod config;
mod control;
mod packet;
mod rendezvous;
mod stats;

use balance::{Decision, Plane};
use config::Config;
use stats::Counters;
use sys::{
    arp_tap::{ArpResponder, ArpTap},
    genetlink::Family,
    netdev::NetNs,
    netfilter::{Ipv4PreRouting, Verdict},
    pernet::{self, PerNet},
    seq_file::SeqFile,
    skbuff::{NetDevice, SkBuff},
    sync::{new_spinlock_bh, SpinLockBh},
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
/// Fields drop in declaration order: the netlink family and the ARP tap go
/// before the nodes they use.
struct TpCluster {
    _family: Family,
    _arp: ArpTap<Node>,
    _nodes: pernet::Registration<Node>,
}

impl kernel::Module for TpCluster {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let nodes = pernet::Registration::new()?;
        let arp = ArpTap::register(&nodes)?;
        let family = Family::register()?;
        pr_info!("loaded\n");
        Ok(Self {
            _family: family,
            _arp: arp,
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
#[pin_data(PinnedDrop)]
struct Node {
    net: NetNs,
    counters: Counters,
    /// Changed by netlink requests (process context only).
    #[pin]
    config: Mutex<Config>,
    /// What the packet handlers (softirq) need of `config`, rebuilt from it
    /// on every change. Taken after `config` when both are held.
    #[pin]
    plane: SpinLockBh<Plane>,
}

impl Node {
    /// Publishes `config` to the packet handlers.
    fn publish(&self, config: &Config) {
        let plane = Plane::of(config);
        *self.plane.lock() = plane;
    }
}

#[pinned_drop]
impl PinnedDrop for Node {
    fn drop(self: Pin<&mut Self>) {
        // Leave the cluster MACs. When the namespace itself goes away its
        // devices are gone already, and there is nothing to leave.
        for vip in self.config.lock().vips().as_slice() {
            let _ = self.net.set_multicast(vip.ifindex, &vip.mac, false);
        }
    }
}

impl PerNet for Node {
    const PROC_NAME: &'static CStr = c_str!("tpcluster");

    fn new(net: NetNs) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            net,
            counters: Counters::default(),
            config <- new_mutex!(Config::new()),
            plane <- new_spinlock_bh!(Plane::empty(), "tpcluster_plane"),
        })
    }

    fn show(&self, out: &mut SeqFile) -> core::fmt::Result {
        self.counters.write(out)
    }
}

impl Ipv4PreRouting for Node {
    fn pre_routing(&self, skb: &SkBuff) -> Verdict {
        self.counters.count_hook_packet(skb.len());
        let mut headers = [0u8; packet::IPV4_TCP_HEADERS_MAX];
        let Some(pkt) = packet::parse_ipv4(skb.head(&mut headers)) else {
            // Not for us to judge: the stack drops malformed IPv4 itself.
            return Verdict::Accept;
        };
        let decision = self.plane.lock().decide(&pkt);
        self.counters.count_decision(decision);
        match decision {
            Decision::NotVip => Verdict::Accept,
            Decision::Owned => {
                skb.set_pkt_type_host();
                Verdict::Accept
            }
            Decision::NotOwner | Decision::Fragment | Decision::Unconfigured => Verdict::Drop,
        }
    }
}

impl ArpResponder for Node {
    fn arp_received(&self, dev: &NetDevice, arp: &[u8]) {
        let Some(request) = packet::parse_arp_request(arp) else {
            return;
        };
        let Some(mac) = self.plane.lock().vip_mac(request.target_ip, dev.ifindex()) else {
            return;
        };
        dev.send_arp_reply(
            request.target_ip,
            &mac,
            request.sender_ip,
            &request.sender_mac,
        );
        self.counters.count_arp_reply();
    }
}

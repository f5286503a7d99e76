// SPDX-License-Identifier: GPL-2.0

//! Counters of one node and their text form, `/proc/net/tpcluster`.
//!
//! Kernel-independent: built into the module and into the host test crate.
//! The text form is one `name value` pair per line, names in `snake_case`,
//! values unsigned decimal; readers must ignore names they do not know, so
//! that counters can be added without breaking them.

use crate::balance::Decision;
use core::{
    fmt,
    sync::atomic::{AtomicU64, Ordering},
};

/// Counters updated from the packet path without locks.
///
/// Each counter is individually exact; a [`Counters::write`] taken while
/// packets flow may see one counter updated and another not yet.
#[derive(Default)]
pub(crate) struct Counters {
    /// IPv4 packets (fragments counted one by one) seen by the PRE_ROUTING hook.
    hook_packets: AtomicU64,
    /// Bytes of those packets, IP headers included.
    hook_bytes: AtomicU64,
    /// Packets for a VIP this node owns, delivered.
    vip_owned: AtomicU64,
    /// Packets for a VIP another node owns, dropped.
    vip_drop_not_owner: AtomicU64,
    /// Fragments for a VIP, dropped (their owner cannot be known).
    vip_drop_fragment: AtomicU64,
    /// Packets for a VIP while this node has no id, dropped.
    vip_drop_unconfigured: AtomicU64,
    /// ARP requests for a VIP answered with its cluster MAC.
    arp_replies: AtomicU64,
}

impl Counters {
    /// Accounts one packet of `len` bytes seen by the hook. Safe in any context.
    pub(crate) fn count_hook_packet(&self, len: u32) {
        self.hook_packets.fetch_add(1, Ordering::Relaxed);
        self.hook_bytes.fetch_add(u64::from(len), Ordering::Relaxed);
    }

    /// Accounts the hook's decision for one packet.
    pub(crate) fn count_decision(&self, decision: Decision) {
        let counter = match decision {
            Decision::NotVip => return,
            Decision::Owned => &self.vip_owned,
            Decision::NotOwner => &self.vip_drop_not_owner,
            Decision::Fragment => &self.vip_drop_fragment,
            Decision::Unconfigured => &self.vip_drop_unconfigured,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Accounts one ARP reply sent for a VIP.
    pub(crate) fn count_arp_reply(&self) {
        self.arp_replies.fetch_add(1, Ordering::Relaxed);
    }

    /// Writes the text form.
    pub(crate) fn write(&self, out: &mut impl fmt::Write) -> fmt::Result {
        for (name, counter) in [
            ("hook_packets", &self.hook_packets),
            ("hook_bytes", &self.hook_bytes),
            ("vip_owned", &self.vip_owned),
            ("vip_drop_not_owner", &self.vip_drop_not_owner),
            ("vip_drop_fragment", &self.vip_drop_fragment),
            ("vip_drop_unconfigured", &self.vip_drop_unconfigured),
            ("arp_replies", &self.arp_replies),
        ] {
            writeln!(out, "{name} {}", counter.load(Ordering::Relaxed))?;
        }
        Ok(())
    }
}

// SPDX-License-Identifier: GPL-2.0

//! Fuzz target of the packet parsers the data path runs on every received
//! frame (`packet.rs`), and of the decision the hook makes from them
//! (`balance.rs`): no input may panic, and what the parsers accept must be
//! consistent with the bytes.

#![no_main]

#[allow(dead_code)]
#[path = "../../packet.rs"]
mod packet;
#[allow(dead_code)]
#[path = "../../types.rs"]
mod types;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(p) = packet::parse_ipv4(data) {
        assert_eq!(data[0] >> 4, 4);
        assert_eq!(p.saddr, data[12..16]);
        assert_eq!(p.daddr, data[16..20]);
        if let Some(t) = p.tcp {
            assert_eq!(p.proto, packet::IPPROTO_TCP);
            assert!(!p.fragment);
            let ihl = usize::from(data[0] & 0x0f) * 4;
            assert_eq!(t.sport, u16::from_be_bytes([data[ihl], data[ihl + 1]]));
        }
        if let Some(q) = p.icmp_about {
            assert_eq!(p.proto, packet::IPPROTO_ICMP);
            assert!(!p.fragment && p.tcp.is_none());
            let ihl = usize::from(data[0] & 0x0f) * 4;
            assert_eq!(q.saddr, data[ihl + 20..ihl + 24]);
        }
    }
    if let Some(a) = packet::parse_arp_request(data) {
        assert!(data.len() >= types::ARP_LEN);
        assert_eq!(a.target_ip, data[24..28]);
    }
});

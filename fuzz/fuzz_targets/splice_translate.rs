// SPDX-License-Identifier: GPL-2.0

//! Fuzz target of the splice translation (`splice.rs`), which rewrites the
//! headers of segments from the network in place.
//!
//! The first 14 bytes of each input are a translation (its ports too), the
//! rest a packet.
//! Translating must not panic; a packet it refuses is left as it was; a
//! packet whose TCP checksum verified before a `Full` rewrite still
//! verifies after it.

#![no_main]

#[allow(dead_code)]
#[path = "../../csum.rs"]
mod csum;
#[allow(dead_code)]
#[path = "../../splice.rs"]
mod splice;
#[allow(dead_code)]
#[allow(dead_code)]
#[path = "../../config.rs"]
mod config;
#[allow(dead_code)]
#[path = "../../policy.rs"]
mod policy;
#[allow(dead_code)]
#[path = "../../rendezvous.rs"]
mod rendezvous;
#[allow(dead_code)]
#[path = "../../replicate/replica.rs"]
mod replica;
#[allow(dead_code)]
#[path = "../../replicate/summary.rs"]
mod summary;
#[allow(dead_code)]
#[path = "../../types.rs"]
mod types;
#[allow(dead_code)]
#[path = "../../wire.rs"]
mod wire;

use libfuzzer_sys::fuzz_target;
use splice::{
    parse_syn, parse_syn_ack, tcp_header, translate_inbound, translate_outbound, Checksum, Ports,
    Translation,
};

/// Whether the TCP checksum of `pkt` verifies over the whole buffer.
fn tcp_checksum_ok(pkt: &[u8]) -> bool {
    let Some((ihl, _)) = tcp_header(pkt) else {
        return false;
    };
    let Ok(len) = u16::try_from(pkt.len() - ihl) else {
        return false;
    };
    let pseudo = csum::pseudo_header(
        pkt[12..16].try_into().unwrap(),
        pkt[16..20].try_into().unwrap(),
        6,
        len,
    );
    csum::fold(csum::sum(&pkt[ihl..], 0) + pseudo) == 0xffff
}

fuzz_target!(|data: &[u8]| {
    let Some((t, pkt)) = data.split_first_chunk::<14>() else {
        return;
    };
    let tr = Translation {
        seq_delta: u32::from_le_bytes([t[0], t[1], t[2], t[3]]),
        ts_delta: u32::from_le_bytes([t[4], t[5], t[6], t[7]]),
        client_view_wscale: t[8] % 15,
        local_wscale: t[9] % 15,
        ports: Ports {
            client: u16::from_le_bytes([t[10], t[11]]),
            local: u16::from_le_bytes([t[12], t[13]]),
        },
    };
    let _ = parse_syn_ack(pkt);
    // A SYN's options are read only from a SYN, never a SYN-ACK.
    assert!(parse_syn(pkt).is_none() || parse_syn_ack(pkt).is_none());
    let ok_before = tcp_checksum_ok(pkt);
    for inbound in [true, false] {
        let mut p = pkt.to_vec();
        let done = if inbound {
            translate_inbound(&mut p, &tr, Checksum::Full)
        } else {
            translate_outbound(&mut p, &tr, Checksum::Full)
        };
        match done {
            None => assert_eq!(p, pkt, "a refused packet was changed"),
            Some(()) if ok_before => assert!(tcp_checksum_ok(&p), "checksum broken"),
            Some(()) => {}
        }
    }
});

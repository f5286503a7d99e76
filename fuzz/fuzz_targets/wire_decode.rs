// SPDX-License-Identifier: GPL-2.0

//! Fuzz target of the cluster channel decoder (`wire.rs`).
//!
//! Each input is decoded twice: as it is, which exercises the header checks
//! (almost everything stops at the MAC), and with its header fixed up and
//! its MAC recomputed, which drives every input into the body parser. The
//! decoder must not panic, and whatever it accepts must be what it says:
//! an accepted handover, progress report, summary or catch-up re-encodes to
//! itself; an
//! accepted heartbeat re-encodes to the input less its unknown TLVs (to
//! the input itself when it has none), and an unknown kind's body is the
//! input's body.

#![no_main]

#[allow(dead_code)]
#[allow(dead_code)]
#[path = "../../csum.rs"]
mod csum;
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
#[path = "../../splice.rs"]
mod splice;
#[allow(dead_code)]
#[path = "../../replicate/summary.rs"]
mod summary;
#[allow(dead_code)]
#[path = "../../types.rs"]
mod types;
#[allow(dead_code)]
#[path = "../../wire.rs"]
mod wire;

use blake2::{
    digest::{consts::U16, Mac as _},
    Blake2sMac,
};
use libfuzzer_sys::fuzz_target;
use wire::{
    decode, encode_catch_up, encode_handover, encode_heartbeat, encode_progress, encode_summary,
    Datagram, Mac, Message, CATCHUP_MAX_LEN, HANDOVER_MAX_LEN, HEADER_LEN, HEARTBEAT_MAX_LEN,
    MAC_LEN, MAGIC, PROGRESS_MAX_LEN, SUMMARY_DATAGRAM_LEN, VERSION,
};

/// A fixed key: the fuzzer is not meant to forge MACs.
const KEY: &[u8; 32] = b"tpcluster fuzz key, not a secret";
const CLUSTER: u32 = 0x0c1a_57e4;

/// Keyed BLAKE2s-128, as the module computes it with `lib/crypto`.
struct Blake2sMac128(Blake2sMac<U16>);

impl Mac for Blake2sMac128 {
    fn mac(&self, data: &[u8]) -> [u8; MAC_LEN] {
        let mut m = self.0.clone();
        m.update(data);
        m.finalize().into_bytes().into()
    }
}

fuzz_target!(|data: &[u8]| {
    let mac = Blake2sMac128(Blake2sMac::new_from_slice(KEY).unwrap());
    check(data, &mac);

    let Ok(body_len) = u16::try_from(data.len().saturating_sub(HEADER_LEN + MAC_LEN)) else {
        return;
    };
    if data.len() < HEADER_LEN + MAC_LEN {
        return;
    }
    let mut d = data.to_vec();
    d[0..2].copy_from_slice(&MAGIC.to_be_bytes());
    d[2] = VERSION;
    d[8..12].copy_from_slice(&CLUSTER.to_be_bytes());
    d[20..22].copy_from_slice(&body_len.to_be_bytes());
    d[22..24].fill(0);
    seal(&mut d, &mac);
    check(&d, &mac);
});

/// Recomputes the MAC trailer of `d`.
fn seal(d: &mut [u8], mac: &Blake2sMac128) {
    let n = d.len() - MAC_LEN;
    let tag = mac.mac(&d[..n]);
    d[n..].copy_from_slice(&tag);
}

/// Decodes `data` and checks that anything accepted is consistent with it.
fn check(data: &[u8], mac: &Blake2sMac128) {
    let Ok(Datagram { header, message }) = decode(data, mac, CLUSTER) else {
        return;
    };
    let body = &data[HEADER_LEN..data.len() - MAC_LEN];
    match message {
        Message::Heartbeat(hb) => {
            let mut out = [0u8; HEARTBEAT_MAX_LEN];
            let n = encode_heartbeat(&mut out, &header, &hb, mac).unwrap();
            let want = without_unknown_tlvs(data, body, mac);
            assert_eq!(out[..n], want[..], "re-encoding differs");
            if want.len() == data.len() {
                assert_eq!(out[..n], data[..], "re-encoding differs from the input");
            }
            let again = decode(&out[..n], mac, CLUSTER).unwrap();
            assert_eq!(again.message, Message::Heartbeat(hb));
            assert_eq!(again.header, header);
        }
        Message::Handover(h) => {
            // Known TLVs a step does not use are ignored, so the bytes may
            // differ; what the re-encoding says must not.
            let mut out = [0u8; HANDOVER_MAX_LEN];
            let n = encode_handover(&mut out, &header, &h, mac).unwrap();
            let again = decode(&out[..n], mac, CLUSTER).unwrap();
            assert_eq!(again.message, Message::Handover(h));
            assert_eq!(again.header, header);
        }
        Message::Progress(list) => {
            let entries: Vec<_> = list.iter().collect();
            assert!(!entries.is_empty(), "an accepted report has entries");
            let mut out = [0u8; PROGRESS_MAX_LEN];
            let n = encode_progress(&mut out, &header, &entries, mac).unwrap();
            let again = decode(&out[..n], mac, CLUSTER).unwrap();
            let Message::Progress(back) = again.message else {
                panic!("a progress report re-decodes as another kind");
            };
            assert_eq!(back.iter().collect::<Vec<_>>(), entries);
            assert_eq!(again.header, header);
        }
        Message::CatchUp(c) => {
            // Unknown TLVs are skipped: what the re-encoding says must be
            // the same.
            let mut out = [0u8; CATCHUP_MAX_LEN];
            let n = encode_catch_up(&mut out, &header, &c, mac).unwrap();
            let again = decode(&out[..n], mac, CLUSTER).unwrap();
            assert_eq!(again.message, Message::CatchUp(c));
            assert_eq!(again.header, header);
        }
        Message::Summary(summary) => {
            // Unknown TLVs are skipped, and an absent request reads as
            // none: what the re-encoding says must be the same.
            let mut out = [0u8; SUMMARY_DATAGRAM_LEN];
            let n = encode_summary(&mut out, &header, &summary, mac).unwrap();
            let again = decode(&out[..n], mac, CLUSTER).unwrap();
            assert_eq!(again.message, Message::Summary(summary));
            assert_eq!(again.header, header);
        }
        Message::Unknown { kind, body: got } => {
            assert_eq!(kind, data[3]);
            assert_eq!(got, body);
        }
    }
}

/// The datagram `data` with only the known heartbeat TLVs (types 1 to 3) of
/// its `body` kept, body length and MAC updated.
fn without_unknown_tlvs(data: &[u8], body: &[u8], mac: &Blake2sMac128) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut rest = body;
    while rest.len() >= 4 {
        let typ = u16::from_be_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        let tlv = &rest[..4 + len];
        if (1..=3).contains(&typ) {
            kept.extend_from_slice(tlv);
        }
        rest = &rest[4 + len..];
    }
    assert!(rest.is_empty(), "accepted body has a partial TLV");
    let mut d = data[..HEADER_LEN].to_vec();
    d[20..22].copy_from_slice(&(kept.len() as u16).to_be_bytes());
    d.extend_from_slice(&kept);
    d.extend_from_slice(&[0; MAC_LEN]);
    seal(&mut d, mac);
    d
}

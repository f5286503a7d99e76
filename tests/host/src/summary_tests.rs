//! Progress summaries (`replicate/summary.rs`) and their wire codec.

use crate::summary::{bucket_of, digest_of, in_buckets, Summary, BUCKETS};
use crate::wire::Tuple;
use crate::wire::{
    decode, encode_summary, DecodeError, Header, Mac, Message, SummaryBody, SUMMARY_DATAGRAM_LEN,
    TLV_SUMMARY_BUCKETS, TLV_SUMMARY_REFRESH,
};
use crate::wire_tests::{mac, tlv, CLUSTER};
use proptest::{collection::vec, prelude::*};

fn header() -> Header {
    Header {
        sender: 2,
        cluster: CLUSTER,
        counter: 77,
        recipient: 3,
        epoch: 0x1234,
    }
}

fn tuple(client_port: u16) -> Tuple {
    Tuple {
        client: [10, 0, 0, 4],
        client_port,
        vip: [10, 0, 0, 100],
        port: 83,
    }
}

/// One replica's word on a connection: received, sent, window end, set.
type Word = (u32, u32, u32, u32);

fn summary_of(conns: &[(Tuple, Word)]) -> Summary {
    let mut s = Summary::default();
    for (t, (r, snd, w, m)) in conns {
        s.add(t, digest_of(t, *r, *snd, *w, *m, true));
    }
    s
}

#[test]
fn buckets_spread_and_agree() {
    let mut used = [0u32; BUCKETS];
    for port in 1000..5000u16 {
        let b = bucket_of(&tuple(port));
        assert!(b < BUCKETS);
        assert_eq!(b, bucket_of(&tuple(port)), "a tuple's bucket is fixed");
        used[b] += 1;
    }
    // 4,000 connections over 32 buckets: 125 each on average.
    for (b, n) in used.iter().enumerate() {
        assert!((60..200).contains(n), "bucket {b} holds {n}");
    }
    assert!(in_buckets(1 << bucket_of(&tuple(1000)), &tuple(1000)));
    assert!(!in_buckets(!(1 << bucket_of(&tuple(1000))), &tuple(1000)));
}

#[test]
fn every_field_counts_in_the_digest() {
    let t = tuple(4000);
    let d = digest_of(&t, 1, 2, 3, 0b11, true);
    assert_ne!(d, digest_of(&tuple(4001), 1, 2, 3, 0b11, true));
    assert_ne!(d, digest_of(&t, 2, 2, 3, 0b11, true));
    assert_ne!(d, digest_of(&t, 1, 3, 3, 0b11, true));
    assert_ne!(d, digest_of(&t, 1, 2, 4, 0b11, true));
    assert_ne!(d, digest_of(&t, 1, 2, 3, 0b01, true));
    assert_ne!(d, digest_of(&t, 1, 2, 3, 0b11, false));
    // Fields do not stand in for each other.
    assert_ne!(
        digest_of(&t, 5, 6, 7, 1, true),
        digest_of(&t, 6, 5, 7, 1, true)
    );
}

#[test]
fn a_lost_report_shows_in_its_bucket_alone() {
    let conns: Vec<(Tuple, Word)> = (0..500u16)
        .map(|i| (tuple(2000 + i), (i as u32, 7, 9, 3)))
        .collect();
    let sender = summary_of(&conns);
    assert_eq!(sender.differing(&summary_of(&conns)), 0);
    // The peer missed the last report of one connection: it still holds
    // the word before.
    let mut heard = conns.clone();
    heard[17].1 .0 -= 1;
    assert_eq!(
        sender.differing(&summary_of(&heard)),
        1 << bucket_of(&conns[17].0)
    );
    // A connection the peer does not have.
    let fewer: Vec<_> = conns
        .iter()
        .copied()
        .filter(|(t, _)| *t != conns[3].0)
        .collect();
    assert_eq!(
        sender.differing(&summary_of(&fewer)),
        1 << bucket_of(&conns[3].0)
    );
}

#[test]
fn summary_round_trips_on_the_wire() {
    let conns: Vec<(Tuple, Word)> = (0..100u16).map(|i| (tuple(i), (1, 2, 3, 1))).collect();
    let body = SummaryBody {
        summary: summary_of(&conns),
        refresh: 0x8000_0011,
    };
    let mut out = [0u8; SUMMARY_DATAGRAM_LEN];
    let n = encode_summary(&mut out, &header(), &body, &mac()).unwrap();
    assert_eq!(n, SUMMARY_DATAGRAM_LEN);
    let d = decode(&out[..n], &mac(), CLUSTER).unwrap();
    assert_eq!(d.header, header());
    assert_eq!(d.message, Message::Summary(body));
    // A short buffer is refused, not overrun.
    let mut short = [0u8; SUMMARY_DATAGRAM_LEN - 1];
    assert!(encode_summary(&mut short, &header(), &body, &mac()).is_err());
}

/// A summary datagram of `body` (TLVs), sealed.
fn sealed(body: &[u8]) -> Vec<u8> {
    let mut d = vec![0x54, 0x50, 2, 4];
    d.extend_from_slice(&2u32.to_be_bytes());
    d.extend_from_slice(&CLUSTER.to_be_bytes());
    d.extend_from_slice(&1u64.to_be_bytes());
    d.extend_from_slice(&(body.len() as u16).to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(&3u32.to_be_bytes());
    d.extend_from_slice(&0u32.to_be_bytes());
    d.extend_from_slice(body);
    let tag = mac().mac(&d);
    d.extend_from_slice(&tag);
    d
}

#[test]
fn malformed_summaries_are_refused() {
    let buckets = vec![0u8; BUCKETS * 12];
    let ok = |body: &[u8]| {
        decode(&sealed(body), &mac(), CLUSTER).map(|d| match d.message {
            Message::Summary(s) => Some(s),
            _ => None,
        })
    };
    // No request: none asked.
    assert_eq!(
        ok(&tlv(TLV_SUMMARY_BUCKETS, &buckets)),
        Ok(Some(SummaryBody::default()))
    );
    // Unknown TLVs are skipped (in ascending order, as every kind's).
    let mut body = tlv(TLV_SUMMARY_BUCKETS, &buckets);
    body.extend(tlv(99, b"later"));
    assert!(ok(&body).is_ok());
    for bad in [
        Vec::new(),
        tlv(TLV_SUMMARY_BUCKETS, &buckets[..buckets.len() - 12]),
        tlv(
            TLV_SUMMARY_BUCKETS,
            &[buckets.clone(), vec![0; 12]].concat(),
        ),
        [
            tlv(TLV_SUMMARY_BUCKETS, &buckets),
            tlv(TLV_SUMMARY_BUCKETS, &buckets),
        ]
        .concat(),
        [
            tlv(TLV_SUMMARY_BUCKETS, &buckets),
            tlv(TLV_SUMMARY_REFRESH, &[1, 2, 3]),
        ]
        .concat(),
        [
            tlv(TLV_SUMMARY_BUCKETS, &buckets),
            tlv(TLV_SUMMARY_REFRESH, &[0; 4]),
            tlv(TLV_SUMMARY_REFRESH, &[0; 4]),
        ]
        .concat(),
        tlv(TLV_SUMMARY_REFRESH, &[0; 4]),
    ] {
        assert_eq!(ok(&bad), Err(DecodeError::Malformed), "{bad:?}");
    }
}

proptest! {
    /// Two nodes' summaries agree exactly where their words on every
    /// connection of a bucket agree, whatever order each adds them in.
    #[test]
    fn differing_buckets_are_those_with_a_different_word(
        words in vec((any::<u16>(), any::<u32>(), any::<u32>(), any::<u32>(), 1u32..8), 1..300),
        changed in vec(any::<prop::sample::Index>(), 0..5),
        drop_one in any::<Option<prop::sample::Index>>(),
    ) {
        let mut conns: Vec<(Tuple, Word)> = Vec::new();
        for (port, r, s, w, m) in words {
            if !conns.iter().any(|(t, _)| t.client_port == port) {
                conns.push((tuple(port), (r, s, w, m)));
            }
        }
        let sender = summary_of(&conns);
        let mut heard = conns.clone();
        let mut want = 0u32;
        for i in changed {
            let i = i.index(heard.len());
            heard[i].1 .1 = heard[i].1 .1.wrapping_add(1);
            want |= 1 << bucket_of(&heard[i].0);
        }
        if let Some(i) = drop_one {
            let i = i.index(heard.len());
            want |= 1 << bucket_of(&heard[i].0);
            heard.remove(i);
        }
        heard.reverse();
        prop_assert_eq!(sender.differing(&summary_of(&heard)), want);
    }
}

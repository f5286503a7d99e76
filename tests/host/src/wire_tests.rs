use crate::wire::{
    decode, encode_heartbeat, Datagram, DecodeError, EncodeError, Header, Heartbeat, Kind, Mac,
    Message, HEADER_LEN, HEARTBEAT_MAX_LEN, MAC_LEN, MAX_LIVE, MAX_READY, TLV_ADDRESS, TLV_EPOCH,
    TLV_INCARNATION, TLV_LIVE_VIEW, TLV_POLICY_VIEW, TLV_READY, TLV_WEIGHT,
};
use blake2::{
    digest::{
        consts::{U13, U16},
        Mac as _,
    },
    Blake2sMac,
};
use proptest::{collection::vec, prelude::*};

/// Keyed BLAKE2s-128, as the module computes it with `lib/crypto`.
pub(crate) struct Blake2sMac128(Blake2sMac<U16>);

impl Blake2sMac128 {
    fn new(key: &[u8]) -> Self {
        Self(Blake2sMac::new_from_slice(key).unwrap())
    }
}

impl Mac for Blake2sMac128 {
    fn mac(&self, data: &[u8]) -> [u8; MAC_LEN] {
        let mut m = self.0.clone();
        m.update(data);
        m.finalize().into_bytes().into()
    }
}

const KEY: [u8; 32] = [0x42; 32];
pub(crate) const CLUSTER: u32 = 0x0c1a_57e4;

pub(crate) fn mac() -> Blake2sMac128 {
    Blake2sMac128::new(&KEY)
}

fn header() -> Header {
    Header {
        sender: 7,
        cluster: CLUSTER,
        counter: 0x0102_0304_0506_0708,
        recipient: 5,
        epoch: 11,
    }
}

fn heartbeat(live: &[u32]) -> Heartbeat {
    Heartbeat::new(3, 13, [10, 0, 0, 7], live).unwrap()
}

fn encode(hdr: &Header, hb: &Heartbeat) -> Vec<u8> {
    let mut buf = vec![0; HEARTBEAT_MAX_LEN];
    let n = encode_heartbeat(&mut buf, hdr, hb, &mac()).unwrap();
    buf.truncate(n);
    buf
}

/// A valid heartbeat datagram.
fn sample() -> Vec<u8> {
    encode(&header(), &heartbeat(&[1, 7, 9]))
}

pub(crate) fn tlv(typ: u16, value: &[u8]) -> Vec<u8> {
    let mut v = typ.to_be_bytes().to_vec();
    v.extend_from_slice(&(value.len() as u16).to_be_bytes());
    v.extend_from_slice(value);
    v
}

/// A datagram of any kind and body, with a valid MAC.
fn seal(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut d = vec![0x54, 0x50, 2, kind];
    d.extend_from_slice(&7u32.to_be_bytes());
    d.extend_from_slice(&CLUSTER.to_be_bytes());
    d.extend_from_slice(&9u64.to_be_bytes());
    d.extend_from_slice(&(body.len() as u16).to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(&5u32.to_be_bytes());
    d.extend_from_slice(&11u32.to_be_bytes());
    d.extend_from_slice(body);
    let tag = mac().mac(&d);
    d.extend_from_slice(&tag);
    d
}

/// Recomputes the MAC of a datagram whose header or body was altered.
fn reseal(d: &mut [u8]) {
    let n = d.len() - MAC_LEN;
    let tag = mac().mac(&d[..n]);
    d[n..].copy_from_slice(&tag);
}

/// A heartbeat body of the four known TLVs, incarnation 3, address
/// 10.0.0.7, epoch 13.
fn heartbeat_body(live: &[u32]) -> Vec<u8> {
    let ids: Vec<u8> = live.iter().flat_map(|id| id.to_be_bytes()).collect();
    [
        tlv(TLV_INCARNATION, &3u32.to_be_bytes()),
        tlv(TLV_ADDRESS, &[10, 0, 0, 7]),
        tlv(TLV_LIVE_VIEW, &ids),
        tlv(TLV_EPOCH, &13u32.to_be_bytes()),
    ]
    .concat()
}

fn decode_err(d: &[u8]) -> DecodeError {
    decode(d, &mac(), CLUSTER).unwrap_err()
}

/// The test MAC is the kernel's `blake2s()` with a 16-byte output: checked
/// against vectors of the kernel's own self-test (lib/crypto/blake2s-selftest.c:
/// key bytes a Fibonacci sequence mod 256, the last `keylen` of them used;
/// message bytes 0..i).
#[test]
fn test_mac_is_kernel_blake2s() {
    let mut key = [1u8; 32];
    for i in 2..32 {
        key[i] = key[i - 2].wrapping_add(key[i - 1]);
    }
    let msg: Vec<u8> = (0..=255).collect();
    // i = 175: outlen 16, keylen 31.
    assert_eq!(
        Blake2sMac128::new(&key[1..]).mac(&msg[..175]),
        *b"\xb0\xcf\x2c\x4c\x5e\x5b\x4f\x2a\x23\x25\x58\x47\xe5\x31\x06\x70"
    );
    // i = 236: outlen 13, keylen 32 (the full key, as the module uses).
    let mut m = Blake2sMac::<U13>::new_from_slice(&key).unwrap();
    m.update(&msg[..236]);
    assert_eq!(
        m.finalize().into_bytes()[..],
        *b"\xda\x3a\x92\x8a\xd0\xcd\x12\xcd\x15\xbb\xab\x77\x66"
    );
}

/// The layout of Documentation/wire-format.rst, byte by byte.
#[test]
fn heartbeat_layout() {
    let d = encode(&header(), &heartbeat(&[1, 0xdead_beef]));
    let mut want = vec![
        0x54, 0x50, 2, 1, // magic, version, kind
        0, 0, 0, 7, // sender
        0x0c, 0x1a, 0x57, 0xe4, // cluster
        1, 2, 3, 4, 5, 6, 7, 8, // counter
        0, 36, 0, 0, // body length, reserved
        0, 0, 0, 5, // recipient
        0, 0, 0, 11, // the recipient's epoch
        0, 1, 0, 4, 0, 0, 0, 3, // incarnation
        0, 2, 0, 4, 10, 0, 0, 7, // address
        0, 3, 0, 8, 0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef, // live view
        0, 4, 0, 4, 0, 0, 0, 13, // the sender's epoch
    ];
    let tag = mac().mac(&want);
    want.extend_from_slice(&tag);
    assert_eq!(d, want);
    assert_eq!(d.len(), heartbeat(&[1, 0xdead_beef]).encoded_len());
}

#[test]
fn decodes_sample() {
    let d = sample();
    assert_eq!(
        decode(&d, &mac(), CLUSTER),
        Ok(Datagram {
            header: header(),
            message: Message::Heartbeat(heartbeat(&[1, 7, 9])),
        })
    );
}

#[test]
fn too_short() {
    let d = sample();
    for n in 0..HEADER_LEN + MAC_LEN {
        assert_eq!(decode_err(&d[..n]), DecodeError::TooShort, "length {n}");
    }
}

#[test]
fn bad_magic() {
    let mut d = sample();
    d[0] = b'X';
    assert_eq!(decode_err(&d), DecodeError::BadMagic);
}

#[test]
fn bad_version() {
    let mut d = sample();
    // Version 1 (no recipient, no epoch) and a later one alike.
    for v in [1, 3] {
        d[2] = v;
        reseal(&mut d);
        assert_eq!(decode_err(&d), DecodeError::BadVersion);
    }
}

#[test]
fn bad_reserved() {
    let mut d = sample();
    d[23] = 1;
    reseal(&mut d);
    assert_eq!(decode_err(&d), DecodeError::BadReserved);
}

#[test]
fn bad_length() {
    let d = sample();
    // Body length one more, one less, and zero, than the datagram holds.
    for body_len in [
        d.len() - HEADER_LEN - MAC_LEN + 1,
        d.len() - HEADER_LEN - MAC_LEN - 1,
        0,
    ] {
        let mut e = d.clone();
        e[20..22].copy_from_slice(&(body_len as u16).to_be_bytes());
        reseal(&mut e);
        assert_eq!(decode_err(&e), DecodeError::BadLength);
    }
    // A trailing byte, as a truncated or padded datagram would have.
    let mut e = d.clone();
    e.push(0);
    assert_eq!(decode_err(&e), DecodeError::BadLength);
    assert_eq!(decode_err(&d[..d.len() - 1]), DecodeError::BadLength);
}

#[test]
fn wrong_cluster() {
    assert_eq!(
        decode(&sample(), &mac(), CLUSTER + 1).unwrap_err(),
        DecodeError::WrongCluster
    );
}

#[test]
fn bad_mac() {
    let d = sample();
    let mut key = KEY;
    key[31] ^= 1;
    assert_eq!(
        decode(&d, &Blake2sMac128::new(&key), CLUSTER).unwrap_err(),
        DecodeError::BadMac
    );
    let mut e = d.clone();
    *e.last_mut().unwrap() ^= 0x80;
    assert_eq!(decode_err(&e), DecodeError::BadMac);
    // The header is covered: another sender or counter fails.
    let mut e = d.clone();
    e[7] ^= 1;
    assert_eq!(decode_err(&e), DecodeError::BadMac);
}

#[test]
fn malformed() {
    let inc = tlv(TLV_INCARNATION, &3u32.to_be_bytes());
    let addr = tlv(TLV_ADDRESS, &[10, 0, 0, 7]);
    let live = tlv(TLV_LIVE_VIEW, &[0, 0, 0, 1]);
    let too_many: Vec<u8> = (0..=MAX_LIVE as u32)
        .flat_map(|i| i.to_be_bytes())
        .collect();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty body", vec![]),
        (
            "truncated TLV header",
            [&inc[..], &addr, &live, &[0, 9, 0]].concat(),
        ),
        (
            "TLV overruns the body",
            [&inc[..], &addr, &live, &[0, 9, 0, 5, 1, 2, 3, 4]].concat(),
        ),
        ("no incarnation", [&addr[..], &live].concat()),
        ("no address", [&inc[..], &live].concat()),
        ("no live view", [&inc[..], &addr].concat()),
        (
            "short incarnation",
            [&tlv(1, &[0, 0, 3])[..], &addr, &live].concat(),
        ),
        (
            "long address",
            [&inc[..], &tlv(2, &[10, 0, 0, 7, 0]), &live].concat(),
        ),
        (
            "live view not whole ids",
            [&inc[..], &addr, &tlv(3, &[0, 0, 1])].concat(),
        ),
        (
            "live view too long",
            [&inc[..], &addr, &tlv(3, &too_many)].concat(),
        ),
        ("duplicate TLV", [&inc[..], &inc, &addr, &live].concat()),
        ("TLVs out of order", [&addr[..], &inc, &live].concat()),
        (
            "unknown TLVs out of order",
            [&inc[..], &addr, &live, &tlv(9, &[]), &tlv(8, &[])].concat(),
        ),
    ];
    for (what, body) in cases {
        assert_eq!(
            decode_err(&seal(1, &body)),
            DecodeError::Malformed,
            "{what}"
        );
    }
}

/// Each check comes in the documented order: a datagram wrong in every way
/// reports each reason in turn as the earlier defects are repaired.
#[test]
fn check_order() {
    let good = seal(1, &[0xff; 3]); // Malformed body, valid MAC.
    let mut d = good.clone();
    d[0] = 0; // magic
    d[2] = 9; // version
    d[22] = 1; // reserved
    d[21] ^= 1; // body length
    *d.last_mut().unwrap() ^= 1; // MAC
    let cluster = CLUSTER ^ 1;
    assert_eq!(
        decode_err(&d[..HEADER_LEN + MAC_LEN - 1]),
        DecodeError::TooShort
    );
    let mut seen = vec![decode(&d, &mac(), cluster).unwrap_err()];
    for repair in [0, 2, 22, 21] {
        d[repair] = good[repair];
        seen.push(decode(&d, &mac(), cluster).unwrap_err());
    }
    seen.push(decode_err(&d));
    d.copy_from_slice(&good);
    seen.push(decode_err(&d));
    assert_eq!(seen, DecodeError::ALL[1..]);
}

#[test]
fn unknown_kind_decodes() {
    let body = b"anything, not even TLVs";
    let d = seal(200, body);
    let got = decode(&d, &mac(), CLUSTER).unwrap();
    assert_eq!(got.kind(), Kind::Unknown(200));
    assert_eq!(
        got,
        Datagram {
            header: Header {
                sender: 7,
                cluster: CLUSTER,
                counter: 9,
                recipient: 5,
                epoch: 11,
            },
            message: Message::Unknown { kind: 200, body },
        }
    );
    // Authenticated all the same.
    let mut e = d.clone();
    e[30] ^= 1;
    assert_eq!(decode_err(&e), DecodeError::BadMac);
}

#[test]
fn kind_wire_values() {
    assert_eq!(Kind::from_wire(1), Kind::Heartbeat);
    for v in 0..=255u8 {
        assert_eq!(Kind::from_wire(v).to_wire(), v);
    }
}

#[test]
fn unknown_tlvs_are_skipped() {
    let body = [
        &tlv(0, b"before")[..],
        &heartbeat_body(&[4, 5]),
        &tlv(12, &[]),
        &tlv(0xffff, &[1; 300]),
    ]
    .concat();
    let d = seal(1, &body);
    let got = decode(&d, &mac(), CLUSTER).unwrap();
    assert_eq!(got.message, Message::Heartbeat(heartbeat(&[4, 5])));
}

#[test]
fn live_view_limits() {
    let full: Vec<u32> = (100..100 + MAX_LIVE as u32).collect();
    assert!(Heartbeat::new(1, 1, [0; 4], &[0; MAX_LIVE + 1]).is_none());
    let ready = [[10, 0, 0, 100, 0, 80]; MAX_READY];
    assert!(heartbeat(&full)
        .with_policy(1, &[[0; 6]; MAX_READY + 1], 0)
        .is_none());
    let hb = heartbeat(&full).with_policy(7, &ready, 99).unwrap();
    assert_eq!(hb.live(), &full[..]);
    assert_eq!(
        (hb.weight(), hb.ready(), hb.policy_view()),
        (7, Some(&ready[..]), Some(99))
    );
    assert_eq!(hb.encoded_len(), HEARTBEAT_MAX_LEN);
    let d = encode(&header(), &hb);
    assert_eq!(d.len(), HEARTBEAT_MAX_LEN);
    assert_eq!(
        decode(&d, &mac(), CLUSTER).unwrap().message,
        Message::Heartbeat(hb)
    );
    // An empty view is valid: a node that sees no one.
    let empty = heartbeat(&[]);
    let d = encode(&header(), &empty);
    assert_eq!(
        decode(&d, &mac(), CLUSTER).unwrap().message,
        Message::Heartbeat(empty)
    );
}

#[test]
fn encode_into_short_buffer() {
    let hb = heartbeat(&[1, 2, 3]);
    let n = hb.encoded_len();
    for len in 0..n {
        let mut buf = vec![0xaa; len];
        assert_eq!(
            encode_heartbeat(&mut buf, &header(), &hb, &mac()),
            Err(EncodeError::BufferTooSmall)
        );
        assert!(buf.iter().all(|&b| b == 0xaa), "short buffer written");
    }
    let mut buf = vec![0; n + 10];
    assert_eq!(encode_heartbeat(&mut buf, &header(), &hb, &mac()), Ok(n));
}

/// Every single-bit flip of a full-size heartbeat is rejected.
#[test]
fn every_bit_flip_is_rejected() {
    let full: Vec<u32> = (0..MAX_LIVE as u32).collect();
    let d = encode(&header(), &heartbeat(&full));
    for bit in 0..d.len() * 8 {
        let mut e = d.clone();
        e[bit / 8] ^= 1 << (bit % 8);
        assert!(decode(&e, &mac(), CLUSTER).is_err(), "bit {bit}");
    }
}

fn arb_header() -> impl Strategy<Value = Header> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<u64>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(|(sender, cluster, counter, recipient, epoch)| Header {
            sender,
            cluster,
            counter,
            recipient,
            epoch,
        })
}

fn arb_heartbeat() -> impl Strategy<Value = Heartbeat> {
    (
        any::<u32>(),
        any::<[u8; 4]>(),
        vec(any::<u32>(), 0..=MAX_LIVE),
        prop::option::of((
            any::<u16>(),
            vec(any::<[u8; 6]>(), 0..=MAX_READY),
            any::<u64>(),
        )),
    )
        .prop_map(|(inc, addr, live, policy)| {
            let hb = Heartbeat::new(inc, inc ^ 0x5a5a, addr, &live).unwrap();
            match policy {
                Some((weight, ready, view)) => hb.with_policy(weight, &ready, view).unwrap(),
                None => hb,
            }
        })
}

/// TLVs of a heartbeat body for the model: mostly the three known TLVs
/// with valid values, sometimes absent or invalid, among unknown TLVs; in
/// type order or shuffled.
fn arb_tlvs() -> impl Strategy<Value = Vec<(u16, Vec<u8>)>> {
    let word = || prop_oneof![8 => vec(any::<u8>(), 4), 1 => vec(any::<u8>(), 0..9)];
    let ids = prop_oneof![
        8 => vec(any::<u32>(), 0..=MAX_LIVE + 2)
            .prop_map(|ids| ids.iter().flat_map(|id| id.to_be_bytes()).collect()),
        1 => vec(any::<u8>(), 0..12),
    ];
    let unknown = (
        prop_oneof![Just(0u16), 8u16..16, Just(0xffff)],
        vec(any::<u8>(), 0..10),
    );
    let weight = prop_oneof![8 => vec(any::<u8>(), 2), 1 => vec(any::<u8>(), 0..5)];
    let ready = prop_oneof![
        8 => vec(any::<u8>(), 0..=6 * 4).prop_map(|mut v| { v.truncate(v.len() / 6 * 6); v }),
        1 => vec(any::<u8>(), 0..20),
        1 => vec(any::<u8>(), 6 * MAX_READY..6 * MAX_READY + 7),
    ];
    let view = prop_oneof![8 => vec(any::<u8>(), 8), 1 => vec(any::<u8>(), 0..12)];
    let policy = prop_oneof![
        1 => Just((None, None, None)),
        4 => (weight, ready, view).prop_map(|(w, r, v)| (Some(w), Some(r), Some(v))),
        1 => (
            prop::option::of(vec(any::<u8>(), 2)),
            prop::option::of(vec(any::<u8>(), 0..13)),
            prop::option::of(vec(any::<u8>(), 8)),
        ),
    ];
    (
        prop::option::weighted(0.9, word()),
        prop::option::weighted(0.9, word()),
        prop::option::weighted(0.9, ids),
        prop::option::weighted(0.9, word()),
        policy,
        vec(unknown, 0..3),
        prop::bool::weighted(0.8),
    )
        .prop_flat_map(
            |(inc, addr, live, epoch, (weight, ready, view), unknown, sorted)| {
                let mut tlvs: Vec<(u16, Vec<u8>)> = [
                    (1, inc),
                    (2, addr),
                    (3, live),
                    (4, epoch),
                    (5, weight),
                    (6, ready),
                    (7, view),
                ]
                .into_iter()
                .filter_map(|(t, v)| Some((t, v?)))
                .chain(unknown)
                .collect();
                tlvs.sort_by_key(|(t, _)| *t);
                if sorted {
                    Just(tlvs).boxed()
                } else {
                    Just(tlvs).prop_shuffle().boxed()
                }
            },
        )
}

/// What the decoder should make of a heartbeat body of `tlvs`: the
/// heartbeat, or `None` if malformed.
fn model(tlvs: &[(u16, Vec<u8>)]) -> Option<Heartbeat> {
    if tlvs.windows(2).any(|w| w[0].0 >= w[1].0) {
        return None;
    }
    let get = |t| tlvs.iter().find(|(typ, _)| *typ == t).map(|(_, v)| v);
    let inc: [u8; 4] = get(TLV_INCARNATION)?.as_slice().try_into().ok()?;
    let epoch: [u8; 4] = get(TLV_EPOCH)?.as_slice().try_into().ok()?;
    let addr: [u8; 4] = get(TLV_ADDRESS)?.as_slice().try_into().ok()?;
    let live = get(TLV_LIVE_VIEW)?;
    if live.len() % 4 != 0 {
        return None;
    }
    let ids: Vec<u32> = live
        .chunks(4)
        .map(|c| u32::from_be_bytes(c.try_into().unwrap()))
        .collect();
    let hb = Heartbeat::new(
        u32::from_be_bytes(inc),
        u32::from_be_bytes(epoch),
        addr,
        &ids,
    )?;
    match (get(TLV_WEIGHT), get(TLV_READY), get(TLV_POLICY_VIEW)) {
        (None, None, None) => Some(hb),
        (Some(w), Some(r), Some(v)) => {
            let w: [u8; 2] = w.as_slice().try_into().ok()?;
            let v: [u8; 8] = v.as_slice().try_into().ok()?;
            if r.len() % 6 != 0 {
                return None;
            }
            let ready: Vec<[u8; 6]> = r.chunks(6).map(|c| c.try_into().unwrap()).collect();
            hb.with_policy(u16::from_be_bytes(w), &ready, u64::from_be_bytes(v))
        }
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Encode then decode gives back the header and heartbeat.
    #[test]
    fn round_trip(hdr in arb_header(), hb in arb_heartbeat()) {
        let mut buf = [0u8; HEARTBEAT_MAX_LEN];
        let n = encode_heartbeat(&mut buf, &hdr, &hb, &mac()).unwrap();
        prop_assert_eq!(n, hb.encoded_len());
        prop_assert_eq!(
            decode(&buf[..n], &mac(), hdr.cluster),
            Ok(Datagram { header: hdr, message: Message::Heartbeat(hb) })
        );
    }

    /// Arbitrary bytes never panic the decoder, and are rejected (a forged
    /// MAC being out of reach).
    #[test]
    fn arbitrary_bytes(bytes in vec(any::<u8>(), 0..400), cluster in any::<u32>()) {
        prop_assert!(decode(&bytes, &mac(), cluster).is_err());
    }

    /// Arbitrary bytes behind a valid header, with a valid MAC: the body
    /// parser sees junk and must not panic.
    #[test]
    fn arbitrary_sealed_body(kind in 0u8..3, body in vec(any::<u8>(), 0..400)) {
        let d = seal(kind, &body);
        let _ = decode(&d, &mac(), CLUSTER);
    }

    /// Heartbeat bodies of random TLVs decode exactly as the model says, and
    /// whatever decodes re-encodes to the input less its unknown TLVs.
    #[test]
    fn tlv_bodies(tlvs in arb_tlvs()) {
        let body: Vec<u8> = tlvs.iter().flat_map(|(t, v)| tlv(*t, v)).collect();
        let d = seal(1, &body);
        let got = decode(&d, &mac(), CLUSTER);
        let want = model(&tlvs);
        prop_assert_eq!(got.map(|g| g.message).ok(), want.map(Message::Heartbeat));
        if let Some(hb) = want {
            let known: Vec<(u16, Vec<u8>)> =
                tlvs.into_iter().filter(|(t, _)| (1..=7).contains(t)).collect();
            let canonical: Vec<u8> = known.iter().flat_map(|(t, v)| tlv(*t, v)).collect();
            let hdr = Header { sender: 7, cluster: CLUSTER, counter: 9, recipient: 5, epoch: 11 };
            prop_assert_eq!(encode(&hdr, &hb), seal(1, &canonical));
        }
    }

    /// Any single-bit flip of a valid datagram is rejected.
    #[test]
    fn bit_flip_rejected(hdr in arb_header(), hb in arb_heartbeat(), bit in any::<prop::sample::Index>()) {
        let mut d = encode(&hdr, &hb);
        let bit = bit.index(d.len() * 8);
        d[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(decode(&d, &mac(), hdr.cluster).is_err());
    }
}

mod handover {
    use super::Blake2sMac128;
    use crate::wire::{
        decode, encode_handover, DecodeError, Handover, Header, Message, Step, TcpState, Tuple,
        HANDOVER_MAX_LEN, REPLAY_CHUNK, REPLAY_MAX,
    };
    use proptest::{collection::vec, prelude::*};

    const CLUSTER: u32 = 7;
    const HDR: Header = Header {
        sender: 3,
        cluster: CLUSTER,
        counter: 99,
        recipient: 4,
        epoch: 17,
    };

    fn mac() -> Blake2sMac128 {
        Blake2sMac128::new(&[5; 32])
    }

    fn tuple() -> Tuple {
        Tuple {
            client: [10, 0, 0, 9],
            client_port: 5555,
            vip: [10, 0, 0, 100],
            port: 80,
        }
    }

    fn round_trip(h: &Handover<'_>) -> Vec<u8> {
        let mut out = [0u8; HANDOVER_MAX_LEN];
        let n = encode_handover(&mut out, &HDR, h, &mac()).unwrap();
        let d = decode(&out[..n], &mac(), CLUSTER).unwrap();
        assert_eq!(d.header, HDR);
        assert_eq!(d.message, Message::Handover(*h));
        out[..n].to_vec()
    }

    #[test]
    fn every_step_round_trips() {
        for step in [
            Step::Ready,
            Step::Commit { server_tsval: 9 },
            Step::Done,
            Step::Refused(111),
        ] {
            round_trip(&Handover {
                id: 42,
                tuple: tuple(),
                step,
            });
        }
    }

    #[test]
    fn the_longest_offer_fits() {
        let chunk = [0xabu8; REPLAY_CHUNK];
        let bytes = round_trip(&Handover {
            id: u64::MAX,
            tuple: tuple(),
            step: Step::Offer {
                state: TcpState::default(),
                replay_len: REPLAY_MAX as u32,
                chunk_offset: (REPLAY_MAX - REPLAY_CHUNK) as u32,
                chunk: &chunk,
            },
        });
        assert_eq!(bytes.len(), HANDOVER_MAX_LEN);
    }

    #[test]
    fn offers_out_of_bounds_are_not_encoded() {
        let chunk = [0u8; 10];
        let mut out = [0u8; HANDOVER_MAX_LEN];
        for (len, off) in [(REPLAY_MAX as u32 + 1, 0), (15, 6), (5, 0)] {
            let h = Handover {
                id: 1,
                tuple: tuple(),
                step: Step::Offer {
                    state: TcpState::default(),
                    replay_len: len,
                    chunk_offset: off,
                    chunk: &chunk,
                },
            };
            assert!(encode_handover(&mut out, &HDR, &h, &mac()).is_err());
        }
    }

    #[test]
    fn a_refusal_without_a_valid_errno_is_malformed() {
        let mut out = [0u8; HANDOVER_MAX_LEN];
        let h = Handover {
            id: 1,
            tuple: tuple(),
            step: Step::Refused(0),
        };
        let n = encode_handover(&mut out, &HDR, &h, &mac()).unwrap();
        assert_eq!(
            decode(&out[..n], &mac(), CLUSTER).unwrap_err(),
            DecodeError::Malformed
        );
    }

    proptest! {
        #[test]
        fn offers_round_trip(
            id in any::<u64>(),
            seqs in any::<(u32, u32, u32, u32, u32)>(),
            mss in any::<u16>(), ws in any::<(u8, u8, u8)>(),
            len in 0usize..=REPLAY_MAX, data in vec(any::<u8>(), 0..=REPLAY_CHUNK),
        ) {
            let chunk_len = data.len().min(len);
            let off = (len - chunk_len) as u32;
            let state = TcpState {
                client_seq: seqs.0, server_seq: seqs.1, client_window: seqs.2,
                ts_recent: seqs.3, server_tsval: seqs.4, mss,
                client_wscale: ws.0, server_wscale: ws.1, options: ws.2,
            };
            round_trip(&Handover {
                id,
                tuple: tuple(),
                step: Step::Offer { state, replay_len: len as u32, chunk_offset: off, chunk: &data[..chunk_len] },
            });
        }
    }
}

fn progress(i: u32) -> crate::wire::Progress {
    crate::wire::Progress {
        tuple: crate::wire::Tuple {
            client: [10, 0, 0, 4],
            client_port: 40000 + i as u16,
            vip: [10, 0, 0, 100],
            port: 80,
        },
        received: 0xffff_fff0u32.wrapping_add(i),
        sent: i.wrapping_mul(0x0101_0101),
        members: i ^ 0x5,
        client_acked: i % 2 == 1,
        in_doubt: i % 4 == 2,
        output_acked: i % 5 == 3,
        window_end: 0x8000_0000u32.wrapping_sub(i),
        checkpoint: (!i.is_multiple_of(3)).then(|| crate::wire::Checkpoint {
            end: 0xffff_ff00u32.wrapping_add(i * 1000),
            digest: i.wrapping_mul(0x9e37_79b9),
        }),
    }
}

#[test]
fn progress_round_trips() {
    use crate::wire::{encode_progress, PROGRESS_MAX_ENTRIES, PROGRESS_MAX_LEN};
    for n in [1, 2, PROGRESS_MAX_ENTRIES] {
        let entries: Vec<_> = (0..n as u32).map(progress).collect();
        let mut buf = vec![0; PROGRESS_MAX_LEN];
        let len = encode_progress(&mut buf, &header(), &entries, &mac()).unwrap();
        assert_eq!(len, HEADER_LEN + 4 + 36 * n + MAC_LEN);
        let d = decode(&buf[..len], &mac(), CLUSTER).unwrap();
        assert_eq!(d.kind(), Kind::Progress);
        let Message::Progress(list) = d.message else {
            panic!("not progress: {d:?}")
        };
        assert_eq!(list.iter().collect::<Vec<_>>(), entries);
    }
    // None, or more than fit: refused, nothing written.
    let mut buf = vec![0; PROGRESS_MAX_LEN];
    assert_eq!(
        encode_progress(&mut buf, &header(), &[], &mac()),
        Err(EncodeError::BufferTooSmall)
    );
    let many: Vec<_> = (0..=PROGRESS_MAX_ENTRIES as u32).map(progress).collect();
    assert_eq!(
        encode_progress(&mut buf, &header(), &many, &mac()),
        Err(EncodeError::BufferTooSmall)
    );
    let mut short = vec![0; HEADER_LEN + 4 + 28 + MAC_LEN - 1];
    assert_eq!(
        encode_progress(&mut short, &header(), &[progress(1)], &mac()),
        Err(EncodeError::BufferTooSmall)
    );
}

/// The members word carries the set in its low bits and, in bits 31 to
/// 28, that the sender saw the client complete the handshake, whether a
/// checkpoint follows, whether the sender is a primary in doubt, and
/// whether the client acknowledged all it sent: none leaks into another.
#[test]
fn progress_members_word_carries_the_handshake_flag() {
    use crate::wire::{encode_progress, Checkpoint, PROGRESS_MAX_LEN};
    let c = Some(Checkpoint { end: 7, digest: 9 });
    for (members, acked, checkpoint, doubt, output_acked, word) in [
        (0b101, true, None, false, false, 0x8000_0005u32),
        (0b101, false, None, false, false, 0x0000_0005),
        (0xffff_ffff, false, None, false, false, 0x0fff_ffff),
        (0xffff_ffff, false, c, false, false, 0x4fff_ffff),
        (0b1, true, c, false, false, 0xc000_0001),
        (0b11, false, None, true, false, 0x2000_0003),
        (0b11, false, None, false, true, 0x1000_0003),
        (0xffff_ffff, true, c, true, true, 0xffff_ffff),
    ] {
        let mut p = progress(0);
        p.members = members;
        p.client_acked = acked;
        p.checkpoint = checkpoint;
        p.in_doubt = doubt;
        p.output_acked = output_acked;
        let mut buf = vec![0; PROGRESS_MAX_LEN];
        let len = encode_progress(&mut buf, &header(), &[p], &mac()).unwrap();
        // Header, TLV header, then the entry: tuple, received, sent, word.
        let at = HEADER_LEN + 4 + 20;
        assert_eq!(buf[at..at + 4], word.to_be_bytes());
        let d = decode(&buf[..len], &mac(), CLUSTER).unwrap();
        let Message::Progress(list) = d.message else {
            panic!()
        };
        let got = list.iter().next().unwrap();
        assert_eq!(
            (
                got.members,
                got.client_acked,
                got.checkpoint,
                got.in_doubt,
                got.output_acked
            ),
            (
                members & 0x0fff_ffff,
                acked,
                checkpoint,
                doubt,
                output_acked
            )
        );
    }
}

#[test]
fn progress_malformed() {
    use crate::wire::TLV_PROGRESS;
    // No entry, a partial entry, no progress TLV at all.
    for body in [
        tlv(TLV_PROGRESS, &[]),
        tlv(TLV_PROGRESS, &[0; 35]),
        tlv(TLV_PROGRESS, &[0; 73]),
        tlv(1, &[0; 36]),
        vec![],
    ] {
        assert_eq!(
            decode_err(&seal(3, &body)),
            DecodeError::Malformed,
            "{body:?}"
        );
    }
    // Too many entries.
    let body = tlv(TLV_PROGRESS, &vec![0; 36 * 33]);
    assert_eq!(decode_err(&seal(3, &body)), DecodeError::Malformed);
    // Other TLVs around it are skipped.
    let body = [tlv(1, b"x"), tlv(TLV_PROGRESS, &[7; 72]), tlv(99, b"y")].concat();
    let sealed = seal(3, &body);
    let d = decode(&sealed, &mac(), CLUSTER).unwrap();
    let Message::Progress(list) = d.message else {
        panic!()
    };
    assert_eq!(list.iter().count(), 2);
}

proptest! {
    #[test]
    fn progress_any_body_never_panics(body in vec(any::<u8>(), 0..1200)) {
        if let Ok(d) = decode(&seal(3, &body), &mac(), CLUSTER) {
            if let Message::Progress(list) = d.message {
                prop_assert!(list.iter().count() >= 1);
            }
        }
    }
}

mod catch_up {
    use super::{decode_err, header, mac, seal, tlv, CLUSTER};
    use crate::replica::{Ends, SetChange};
    use crate::splice::SynOptions;
    use crate::wire::{
        decode, encode_catch_up, CatchUp, CatchUpSyn, DecodeError, Message, Tuple, CATCHUP_CHUNK,
        CATCHUP_MAX_LEN, TLV_CATCHUP_DATA, TLV_CATCHUP_SET, TLV_CATCHUP_SYN, TLV_TUPLE,
    };
    use proptest::prelude::*;

    const TUPLE: Tuple = Tuple {
        client: [10, 0, 0, 4],
        client_port: 40000,
        vip: [10, 0, 0, 100],
        port: 80,
    };

    fn set() -> SetChange {
        SetChange {
            gen: 3,
            len: 4,
            ids: [2, 1, 4, 3],
            excluded: 0b1000,
            joining: 0b0100,
            floors: Ends {
                received: 160,
                sent: 5100,
                window_end: 2200,
            },
        }
    }

    fn encode(c: &CatchUp<'_>) -> Vec<u8> {
        let mut out = vec![0; CATCHUP_MAX_LEN];
        let n = encode_catch_up(&mut out, &header(), c, &mac()).unwrap();
        out.truncate(n);
        out
    }

    fn set_bytes(s: &SetChange) -> Vec<u8> {
        let mut v = vec![s.gen, s.len, s.excluded, s.joining];
        s.ids
            .iter()
            .for_each(|id| v.extend_from_slice(&id.to_be_bytes()));
        for w in [s.floors.received, s.floors.sent, s.floors.window_end] {
            v.extend_from_slice(&w.to_be_bytes());
        }
        v
    }

    #[test]
    fn every_part_round_trips_and_the_longest_fits() {
        let bytes = [7u8; CATCHUP_CHUNK];
        let c = CatchUp {
            tuple: TUPLE,
            set: Some(set()),
            syn: Some(CatchUpSyn {
                isn: 99,
                options: SynOptions {
                    mss: 1460,
                    wscale: Some(7),
                    sack_permitted: true,
                },
                tsval: Some(0x8000_0001),
            }),
            data: Some((100, &bytes)),
        };
        let d = encode(&c);
        assert_eq!(d.len(), CATCHUP_MAX_LEN);
        let got = decode(&d, &mac(), CLUSTER).unwrap();
        assert_eq!(got.message, Message::CatchUp(c));
        // Each part alone, and no window scale.
        let syn_only = CatchUp {
            tuple: TUPLE,
            set: None,
            syn: Some(CatchUpSyn {
                isn: 99,
                options: SynOptions {
                    mss: 536,
                    wscale: None,
                    sack_permitted: false,
                },
                tsval: None,
            }),
            data: None,
        };
        let d = encode(&syn_only);
        assert_eq!(
            decode(&d, &mac(), CLUSTER).unwrap().message,
            Message::CatchUp(syn_only)
        );
        let too_long = [0u8; CATCHUP_CHUNK + 1];
        let mut out = vec![0; CATCHUP_MAX_LEN + 64];
        let c = CatchUp {
            tuple: TUPLE,
            set: None,
            syn: None,
            data: Some((1, &too_long)),
        };
        assert!(encode_catch_up(&mut out, &header(), &c, &mac()).is_err());
    }

    #[test]
    fn malformed_ones_are_refused() {
        let t = tlv(TLV_TUPLE, &TUPLE.to_wire());
        let s = tlv(TLV_CATCHUP_SET, &set_bytes(&set()));
        let bad_set = |f: &dyn Fn(&mut SetChange)| {
            let mut x = set();
            f(&mut x);
            [t.clone(), tlv(TLV_CATCHUP_SET, &set_bytes(&x))].concat()
        };
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("no tuple", s.clone()),
            ("a tuple and nothing else", t.clone()),
            ("two sets", [t.clone(), s.clone(), s.clone()].concat()),
            (
                "a short tuple",
                [tlv(TLV_TUPLE, &[1, 2, 3]), s.clone()].concat(),
            ),
            (
                "a short set",
                [t.clone(), tlv(TLV_CATCHUP_SET, &[0; 31])].concat(),
            ),
            (
                "an empty set",
                bad_set(&|x| {
                    x.len = 0;
                    x.excluded = 0;
                    x.joining = 0;
                    x.ids = [0; 4]
                }),
            ),
            ("a set too long", bad_set(&|x| x.len = 5)),
            (
                "a mask beyond the set",
                bad_set(&|x| {
                    x.len = 2;
                    x.ids = [2, 1, 0, 0];
                }),
            ),
            (
                "an id beyond the set",
                bad_set(&|x| {
                    x.len = 3;
                    x.excluded = 0;
                }),
            ),
            ("an id twice", bad_set(&|x| x.ids = [2, 1, 2, 3])),
            (
                "a short handshake",
                [t.clone(), tlv(TLV_CATCHUP_SYN, &[0; 11])].concat(),
            ),
            (
                "a handshake with unknown flags",
                [
                    t.clone(),
                    tlv(TLV_CATCHUP_SYN, &[0, 0, 0, 1, 2, 0, 255, 4, 0, 0, 0, 0]),
                ]
                .concat(),
            ),
            (
                "a TSval without timestamps",
                [
                    t.clone(),
                    tlv(TLV_CATCHUP_SYN, &[0, 0, 0, 1, 2, 0, 255, 0, 0, 0, 0, 9]),
                ]
                .concat(),
            ),
            (
                "a data chunk without its sequence number",
                [t.clone(), tlv(TLV_CATCHUP_DATA, &[1, 2])].concat(),
            ),
            (
                "a data chunk too long",
                [
                    t.clone(),
                    tlv(TLV_CATCHUP_DATA, &[0; 4 + CATCHUP_CHUNK + 1]),
                ]
                .concat(),
            ),
        ];
        for (what, body) in cases {
            assert_eq!(
                decode_err(&seal(5, &body)),
                DecodeError::Malformed,
                "{what}"
            );
        }
    }

    proptest! {
        /// Any body under a valid MAC decodes or is refused as malformed:
        /// never a panic, and what decodes encodes back to the same message.
        #[test]
        fn any_body_decodes_or_is_refused(body in proptest::collection::vec(any::<u8>(), 0..1200)) {
            let d = seal(5, &body);
            match decode(&d, &mac(), CLUSTER) {
                Ok(got) => {
                    let Message::CatchUp(c) = got.message else {
                        return Err(TestCaseError::fail("another kind"));
                    };
                    let again = encode(&c);
                    prop_assert_eq!(decode(&again, &mac(), CLUSTER).unwrap().message, got.message);
                }
                Err(e) => prop_assert_eq!(e, DecodeError::Malformed),
            }
        }
    }
}

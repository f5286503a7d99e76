// SPDX-License-Identifier: GPL-2.0

//! Codec of the cluster channel's datagrams (UDP between the nodes of one
//! cluster). See `Documentation/wire-format.rst`.
//!
//! Kernel-independent: built into the module and into the host test crate.
//! The decoder sees untrusted bytes, so it never panics, never allocates and
//! does no arithmetic that can overflow; the encoder writes into a buffer the
//! caller owns.
//!
//! A datagram is a 24-byte header, a body of TLVs and a 16-byte MAC over
//! header and body. Integers are big-endian. The MAC is computed by a
//! [`Mac`] the caller supplies (keyed BLAKE2s-128 with the cluster key).
//! Replay is not checked here: [`decode`] returns the header's counter and
//! the caller feeds it to the sender's replay window (`replay.rs`) only
//! after the MAC has been verified.

use core::hint::black_box;

/// First two bytes of every datagram: "TP".
pub(crate) const MAGIC: u16 = 0x5450;
/// The format version this codec speaks.
pub(crate) const VERSION: u8 = 1;
/// Length of the fixed header.
pub(crate) const HEADER_LEN: usize = 24;
/// Length of the MAC trailer.
pub(crate) const MAC_LEN: usize = 16;
/// Length of a TLV's type and length fields.
pub(crate) const TLV_HEADER_LEN: usize = 4;
/// Most node ids a heartbeat's live view carries.
pub(crate) const MAX_LIVE: usize = 64;

/// TLV type of a heartbeat's sender incarnation (u32).
pub(crate) const TLV_INCARNATION: u16 = 1;
/// TLV type of a heartbeat's sender channel address (IPv4, 4 bytes).
pub(crate) const TLV_ADDRESS: u16 = 2;
/// TLV type of a heartbeat's live view (u32 node ids).
pub(crate) const TLV_LIVE_VIEW: u16 = 3;

/// Longest heartbeat datagram, for sizing send buffers.
pub(crate) const HEARTBEAT_MAX_LEN: usize =
    HEADER_LEN + 3 * TLV_HEADER_LEN + 4 + 4 + 4 * MAX_LIVE + MAC_LEN;

/// A message authentication code over header and body.
///
/// The module implements it with keyed BLAKE2s-128 from `lib/crypto`, the
/// key being the 32-byte cluster key; the host tests with the `blake2`
/// crate. It must be a PRF: a tag must be unforgeable without the key.
pub(crate) trait Mac {
    /// The tag of `data`.
    fn mac(&self, data: &[u8]) -> [u8; MAC_LEN];
}

/// Kind of a datagram (header byte 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Liveness and membership, [`Heartbeat`].
    Heartbeat,
    /// A kind this codec does not know (sent by a newer node). The caller
    /// counts and drops it.
    Unknown(u8),
}

impl Kind {
    /// The kind of wire value `v`.
    pub(crate) fn from_wire(v: u8) -> Self {
        match v {
            1 => Kind::Heartbeat,
            v => Kind::Unknown(v),
        }
    }

    /// The wire value.
    pub(crate) fn to_wire(self) -> u8 {
        match self {
            Kind::Heartbeat => 1,
            Kind::Unknown(v) => v,
        }
    }
}

/// The header fields every kind shares; magic, version, kind, body length
/// and reserved are the codec's business.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    /// Node id of the sender.
    pub(crate) sender: u32,
    /// Cluster the datagram belongs to.
    pub(crate) cluster: u32,
    /// Strictly increasing per sender, for the receiver's replay window.
    pub(crate) counter: u64,
}

/// Body of a heartbeat: who the sender is and whom it considers live.
///
/// The live view is a fixed array so that neither side allocates; slots past
/// the count are always zero, so derived equality compares views exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Heartbeat {
    /// Boot incarnation of the sender.
    incarnation: u32,
    /// The sender's channel address, IPv4 octets in network order.
    address: [u8; 4],
    /// Live node ids, in the sender's order; `live[live_len..]` is zero.
    live: [u32; MAX_LIVE],
    /// Number of ids in `live`, at most [`MAX_LIVE`].
    live_len: usize,
}

impl Heartbeat {
    /// A heartbeat, or `None` if `live` has more than [`MAX_LIVE`] ids.
    pub(crate) fn new(incarnation: u32, address: [u8; 4], live: &[u32]) -> Option<Self> {
        let mut hb = Heartbeat {
            incarnation,
            address,
            live: [0; MAX_LIVE],
            live_len: live.len(),
        };
        hb.live.get_mut(..live.len())?.copy_from_slice(live);
        Some(hb)
    }

    /// Boot incarnation of the sender.
    pub(crate) fn incarnation(&self) -> u32 {
        self.incarnation
    }

    /// The sender's channel address, IPv4 octets in network order.
    pub(crate) fn address(&self) -> [u8; 4] {
        self.address
    }

    /// Node ids the sender considers live.
    pub(crate) fn live(&self) -> &[u32] {
        // `live_len <= MAX_LIVE` always holds; `get` keeps this panic-free
        // regardless.
        self.live.get(..self.live_len).unwrap_or(&[])
    }

    /// Length of the encoded body.
    fn body_len(&self) -> usize {
        3 * TLV_HEADER_LEN + 4 + 4 + 4 * self.live().len()
    }

    /// Length of the whole encoded datagram.
    pub(crate) fn encoded_len(&self) -> usize {
        HEADER_LEN + self.body_len() + MAC_LEN
    }
}

/// What a datagram carries, by kind.
// A heartbeat is ~270 bytes against a slice's 16, but there is no allocator
// to box it in and a `Datagram` only lives on the stack while it is handled.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Message<'a> {
    /// Kind 1.
    Heartbeat(Heartbeat),
    /// A kind this codec does not know, MAC verified, body not parsed.
    Unknown {
        /// The wire kind.
        kind: u8,
        /// The raw body.
        body: &'a [u8],
    },
}

/// A decoded, authenticated datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Datagram<'a> {
    /// Sender, cluster and counter.
    pub(crate) header: Header,
    /// The body.
    pub(crate) message: Message<'a>,
}

impl Datagram<'_> {
    /// The datagram's kind.
    #[cfg(test)]
    pub(crate) fn kind(&self) -> Kind {
        match self.message {
            Message::Heartbeat(_) => Kind::Heartbeat,
            Message::Unknown { kind, .. } => Kind::from_wire(kind),
        }
    }
}

/// Why a datagram was rejected, one variant per receive counter
/// (`stats.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DecodeError {
    /// Shorter than a header and a MAC.
    TooShort,
    /// Magic is not [`MAGIC`].
    BadMagic,
    /// Version is not [`VERSION`].
    BadVersion,
    /// The reserved field is not zero.
    BadReserved,
    /// The body length does not match the datagram's length.
    BadLength,
    /// Another cluster's datagram.
    WrongCluster,
    /// The MAC does not verify.
    BadMac,
    /// Authenticated, but the body of a known kind does not parse.
    Malformed,
}

impl DecodeError {
    /// Every reason, in the order [`decode`] checks them.
    #[cfg(test)]
    pub(crate) const ALL: [DecodeError; 8] = [
        DecodeError::TooShort,
        DecodeError::BadMagic,
        DecodeError::BadVersion,
        DecodeError::BadReserved,
        DecodeError::BadLength,
        DecodeError::WrongCluster,
        DecodeError::BadMac,
        DecodeError::Malformed,
    ];
}

/// Why a datagram could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EncodeError {
    /// The datagram does not fit in the output buffer.
    BufferTooSmall,
}

/// Encodes a heartbeat into `out`; returns the datagram's length
/// ([`Heartbeat::encoded_len`], at most [`HEARTBEAT_MAX_LEN`]).
///
/// TLVs are written in ascending type order, as [`decode`] requires. The
/// only error is a buffer shorter than the datagram, which is left unwritten.
pub(crate) fn encode_heartbeat(
    out: &mut [u8],
    hdr: &Header,
    hb: &Heartbeat,
    mac: &impl Mac,
) -> Result<usize, EncodeError> {
    // Checked up front so that a short buffer is left untouched.
    if out.len() < hb.encoded_len() {
        return Err(EncodeError::BufferTooSmall);
    }
    // Both at most a few hundred bytes (MAX_LIVE ids): they fit in a u16.
    let body_len = u16::try_from(hb.body_len()).map_err(|_| EncodeError::BufferTooSmall)?;
    let live_len = u16::try_from(4 * hb.live().len()).map_err(|_| EncodeError::BufferTooSmall)?;
    let mut w = Writer { out, len: 0 };
    write_header(&mut w, Kind::Heartbeat, hdr, body_len)?;
    w.put(&TLV_INCARNATION.to_be_bytes())?;
    w.put(&4u16.to_be_bytes())?;
    w.put(&hb.incarnation.to_be_bytes())?;
    w.put(&TLV_ADDRESS.to_be_bytes())?;
    w.put(&4u16.to_be_bytes())?;
    w.put(&hb.address)?;
    w.put(&TLV_LIVE_VIEW.to_be_bytes())?;
    w.put(&live_len.to_be_bytes())?;
    for id in hb.live() {
        w.put(&id.to_be_bytes())?;
    }
    w.seal(mac)
}

/// Decodes and authenticates a datagram of cluster `cluster_id`.
///
/// Checks, in order: length, magic, version, reserved, body length, cluster,
/// MAC; then parses the body of known kinds. The cheap checks come first so
/// that junk costs no MAC computation, and nothing of the body is
/// interpreted before the MAC verifies. The counter is not checked.
pub(crate) fn decode<'a>(
    buf: &'a [u8],
    mac: &impl Mac,
    cluster_id: u32,
) -> Result<Datagram<'a>, DecodeError> {
    let (header, rest) = buf
        .split_first_chunk::<HEADER_LEN>()
        .ok_or(DecodeError::TooShort)?;
    if rest.len() < MAC_LEN {
        return Err(DecodeError::TooShort);
    }
    let mut r = Reader { rest: header };
    // The header is exactly HEADER_LEN bytes, so these reads cannot fail.
    let magic = r.u16().ok_or(DecodeError::TooShort)?;
    let version = r.u8().ok_or(DecodeError::TooShort)?;
    let kind = r.u8().ok_or(DecodeError::TooShort)?;
    let sender = r.u32().ok_or(DecodeError::TooShort)?;
    let cluster = r.u32().ok_or(DecodeError::TooShort)?;
    let counter = r.u64().ok_or(DecodeError::TooShort)?;
    let body_len = r.u16().ok_or(DecodeError::TooShort)?;
    let reserved = r.u16().ok_or(DecodeError::TooShort)?;

    if magic != MAGIC {
        return Err(DecodeError::BadMagic);
    }
    if version != VERSION {
        return Err(DecodeError::BadVersion);
    }
    if reserved != 0 {
        return Err(DecodeError::BadReserved);
    }
    // `rest.len() >= MAC_LEN` was checked above.
    if usize::from(body_len) != rest.len() - MAC_LEN {
        return Err(DecodeError::BadLength);
    }
    if cluster != cluster_id {
        return Err(DecodeError::WrongCluster);
    }
    let (signed, tag) = buf
        .split_last_chunk::<MAC_LEN>()
        .ok_or(DecodeError::TooShort)?;
    if !tags_equal(&mac.mac(signed), tag) {
        return Err(DecodeError::BadMac);
    }
    let body = rest
        .get(..usize::from(body_len))
        .ok_or(DecodeError::BadLength)?;

    let message = match Kind::from_wire(kind) {
        Kind::Heartbeat => Message::Heartbeat(parse_heartbeat(body)?),
        Kind::Unknown(kind) => Message::Unknown { kind, body },
    };
    Ok(Datagram {
        header: Header {
            sender,
            cluster,
            counter,
        },
        message,
    })
}

/// Compares two tags in time independent of where they differ, so that a
/// forger cannot learn a valid tag byte by byte from response timing.
fn tags_equal(a: &[u8; MAC_LEN], b: &[u8; MAC_LEN]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // Keep the optimiser from turning the fold into an early-exit compare.
    black_box(diff) == 0
}

/// Parses a heartbeat body: each of the three known TLVs exactly once.
fn parse_heartbeat(body: &[u8]) -> Result<Heartbeat, DecodeError> {
    let mut incarnation = None;
    let mut address = None;
    let mut live = None;
    for tlv in Tlvs::new(body) {
        let (typ, value) = tlv?;
        match typ {
            TLV_INCARNATION => incarnation = Some(u32::from_be_bytes(exact(value)?)),
            TLV_ADDRESS => address = Some(exact(value)?),
            TLV_LIVE_VIEW => live = Some(value),
            // Unknown TLVs are skipped so that the format can grow.
            _ => {}
        }
    }
    let (Some(incarnation), Some(address), Some(live)) = (incarnation, address, live) else {
        return Err(DecodeError::Malformed);
    };
    if live.len() % 4 != 0 || live.len() > 4 * MAX_LIVE {
        return Err(DecodeError::Malformed);
    }
    let mut hb = Heartbeat {
        incarnation,
        address,
        live: [0; MAX_LIVE],
        live_len: live.len() / 4,
    };
    let mut rest = live;
    for id in hb.live.iter_mut() {
        let Some((bytes, tail)) = rest.split_first_chunk::<4>() else {
            break;
        };
        *id = u32::from_be_bytes(*bytes);
        rest = tail;
    }
    Ok(hb)
}

/// `value` as an array, if it has exactly `N` bytes.
fn exact<const N: usize>(value: &[u8]) -> Result<[u8; N], DecodeError> {
    value.try_into().map_err(|_| DecodeError::Malformed)
}

/// Iterator over a body's TLVs: `(type, value)` or [`DecodeError::Malformed`]
/// once, then nothing.
///
/// Types must be strictly ascending. That gives each body one encoding
/// (re-encoding a decoded heartbeat yields the same bytes, less unknown
/// TLVs) and rules out duplicates, whose meaning would be ambiguous.
struct Tlvs<'a> {
    /// What is left to parse.
    r: Reader<'a>,
    /// Type of the previous TLV.
    last: Option<u16>,
}

impl<'a> Tlvs<'a> {
    /// The TLVs of `body`.
    fn new(body: &'a [u8]) -> Self {
        Tlvs {
            r: Reader { rest: body },
            last: None,
        }
    }

    /// The next TLV, `Ok(None)` at the end of the body.
    fn next_tlv(&mut self) -> Result<Option<(u16, &'a [u8])>, DecodeError> {
        if self.r.rest.is_empty() {
            return Ok(None);
        }
        let typ = self.r.u16().ok_or(DecodeError::Malformed)?;
        let len = self.r.u16().ok_or(DecodeError::Malformed)?;
        let value = self
            .r
            .bytes(usize::from(len))
            .ok_or(DecodeError::Malformed)?;
        if self.last.is_some_and(|last| typ <= last) {
            return Err(DecodeError::Malformed);
        }
        self.last = Some(typ);
        Ok(Some((typ, value)))
    }
}

impl<'a> Iterator for Tlvs<'a> {
    type Item = Result<(u16, &'a [u8]), DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let item = self.next_tlv().transpose();
        if matches!(item, Some(Err(_))) {
            // Stop after the first error: the rest cannot be framed.
            self.r.rest = &[];
        }
        item
    }
}

/// Big-endian reads from the front of a slice; `None` past its end.
struct Reader<'a> {
    /// Bytes not read yet.
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// The next `n` bytes.
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        // Not `split_at_checked`: newer than the kernel's minimum Rust.
        let head = self.rest.get(..n)?;
        self.rest = self.rest.get(n..)?;
        Some(head)
    }

    /// The next `N` bytes as an array.
    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, tail) = self.rest.split_first_chunk::<N>()?;
        self.rest = tail;
        Some(*head)
    }

    /// The next byte.
    fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|[b]| b)
    }

    /// The next big-endian u16.
    fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_be_bytes)
    }

    /// The next big-endian u32.
    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_be_bytes)
    }

    /// The next big-endian u64.
    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_be_bytes)
    }
}

/// Appends to the front of a caller's buffer.
struct Writer<'a> {
    /// The whole buffer.
    out: &'a mut [u8],
    /// Bytes written so far.
    len: usize,
}

impl Writer<'_> {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        let end = self
            .len
            .checked_add(bytes.len())
            .ok_or(EncodeError::BufferTooSmall)?;
        self.out
            .get_mut(self.len..end)
            .ok_or(EncodeError::BufferTooSmall)?
            .copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    /// Appends the MAC of everything written so far; returns the total length.
    fn seal(mut self, mac: &impl Mac) -> Result<usize, EncodeError> {
        let tag = mac.mac(
            self.out
                .get(..self.len)
                .ok_or(EncodeError::BufferTooSmall)?,
        );
        self.put(&tag)?;
        Ok(self.len)
    }
}

/// Writes the header of a datagram whose body will be `body_len` bytes.
fn write_header(
    w: &mut Writer<'_>,
    kind: Kind,
    hdr: &Header,
    body_len: u16,
) -> Result<(), EncodeError> {
    w.put(&MAGIC.to_be_bytes())?;
    w.put(&[VERSION, kind.to_wire()])?;
    w.put(&hdr.sender.to_be_bytes())?;
    w.put(&hdr.cluster.to_be_bytes())?;
    w.put(&hdr.counter.to_be_bytes())?;
    w.put(&body_len.to_be_bytes())?;
    w.put(&0u16.to_be_bytes())
}

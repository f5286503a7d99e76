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

use crate::replica::{Ends, SetChange, MAX_SET};
use crate::splice::SynOptions;
use core::hint::black_box;

/// First two bytes of every datagram: "TP".
pub(crate) const MAGIC: u16 = 0x5450;
/// The format version this codec speaks. (Version 1 had no recipient and
/// no epoch in the header: its datagrams could be replayed to another node,
/// or to a node that restarted.)
pub(crate) const VERSION: u8 = 2;
/// Length of the fixed header.
pub(crate) const HEADER_LEN: usize = 32;
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
/// TLV type of a heartbeat's sender epoch (u32): the random number its
/// channel drew when it opened, which its peers bind their datagrams to.
pub(crate) const TLV_EPOCH: u16 = 4;
/// TLV type of a heartbeat's sender weight (u16): its share of new
/// connections, 0 while it drains. Absent: 1.
pub(crate) const TLV_WEIGHT: u16 = 5;
/// TLV type of a heartbeat's ready services (6 bytes each: VIP, port): the
/// services an application listens for on the sender. Absent: every one.
pub(crate) const TLV_READY: u16 = 6;
/// TLV type of a heartbeat's policy view (u64): a digest of the weights and
/// ready services of every node the sender sees live, itself included, so
/// that nodes take new connections only while they hash over the same
/// ones. Absent: no view to compare.
pub(crate) const TLV_POLICY_VIEW: u16 = 7;
/// Most ready services a heartbeat carries (`config::MAX_SERVICES`).
pub(crate) const MAX_READY: usize = 64;

/// TLV type of a handover's id (u64, chosen by the dispatcher).
pub(crate) const TLV_HANDOVER_ID: u16 = 16;
/// TLV type of a handover's connection ([`Tuple`], 12 bytes).
pub(crate) const TLV_TUPLE: u16 = 17;
/// TLV type of a handover's step (u8, [`Step`]).
pub(crate) const TLV_STEP: u16 = 18;
/// TLV type of a refusal's errno (u32).
pub(crate) const TLV_ERRNO: u16 = 19;
/// TLV type of an offer's TCP state ([`TcpState`], 25 bytes).
pub(crate) const TLV_TCP_STATE: u16 = 20;
/// TLV type of an offer's total replay length (u32).
pub(crate) const TLV_REPLAY_LEN: u16 = 21;
/// TLV type of an offer's replay chunk (u32 offset, then the bytes).
pub(crate) const TLV_REPLAY_CHUNK: u16 = 22;
/// TLV type of a commit's server TSval (u32).
pub(crate) const TLV_COMMIT_TSVAL: u16 = 23;
/// Replication progress of connections: entries of 36 bytes, each a tuple
/// (12 bytes), the client sequence number the sender has received up to,
/// the server sequence number (in the client's view) it has sent up to,
/// the replicas the sender still counts in the set (bit i: the i-th in
/// rendezvous order), the client sequence number its receive window ends
/// at, and its output checkpoint: the server sequence number it ends at
/// and the digest of the output before it, 4 bytes each.
/// (Type 24 carried entries of 24 bytes, without the window end, type 25
/// of 28, without the checkpoint: an incompatible layout gets a new type,
/// so that nodes of both kinds refuse each other's reports rather than
/// misread them.)
pub(crate) const TLV_PROGRESS: u16 = 26;
/// Encoded length of a [`Progress`] entry's value.
const PROGRESS_LEN: usize = 36;
/// TLV type of a progress summary's buckets ([`SummaryBody::summary`]):
/// per bucket, the number of connections (u32) and the sum of their
/// digests (u64), [`SUMMARY_BUCKETS`] of them.
pub(crate) const TLV_SUMMARY_BUCKETS: u16 = 27;
/// TLV type of a progress summary's request (u32): the buckets whose
/// connections the recipient is asked to report again, bit b for bucket b.
/// Absent: none.
pub(crate) const TLV_SUMMARY_REFRESH: u16 = 28;
/// TLV type of a catch-up's set ([`SetChange`], 32 bytes): its
/// generation, length, excluded and joining masks (u8 each), the node ids
/// (u32 each, [`MAX_SET`] of them, unused ones 0) and the joining
/// replica's floors (received, sent, window end: u32 each).
pub(crate) const TLV_CATCHUP_SET: u16 = 29;
/// TLV type of a catch-up's handshake (12 bytes): the client's initial
/// sequence number (u32), the MSS of its SYN (u16), its window scale (u8,
/// 255 for none), flags (u8, bit 0: SACK permitted, bit 1: timestamps)
/// and the client's latest TSval (u32, 0 without timestamps).
pub(crate) const TLV_CATCHUP_SYN: u16 = 30;
/// TLV type of a catch-up's client bytes: the client sequence number of
/// the first (u32), then at most [`CATCHUP_CHUNK`] bytes.
pub(crate) const TLV_CATCHUP_DATA: u16 = 31;
/// Most client bytes in one catch-up datagram.
pub(crate) const CATCHUP_CHUNK: usize = 1024;
/// Encoded length of a catch-up's set.
const CATCHUP_SET_LEN: usize = 4 + 4 * MAX_SET + 12;
/// Longest catch-up datagram, for sizing send buffers.
pub(crate) const CATCHUP_MAX_LEN: usize = HEADER_LEN
    + (TLV_HEADER_LEN + 12)
    + (TLV_HEADER_LEN + CATCHUP_SET_LEN)
    + (TLV_HEADER_LEN + 12)
    + (TLV_HEADER_LEN + 4 + CATCHUP_CHUNK)
    + MAC_LEN;
/// Buckets of a summary (`replicate/summary.rs`).
pub(crate) const SUMMARY_BUCKETS: usize = crate::summary::BUCKETS;
/// Encoded length of a summary's buckets.
const SUMMARY_LEN: usize = SUMMARY_BUCKETS * 12;
/// Length of a progress summary datagram.
pub(crate) const SUMMARY_DATAGRAM_LEN: usize =
    HEADER_LEN + TLV_HEADER_LEN + SUMMARY_LEN + TLV_HEADER_LEN + 4 + MAC_LEN;
/// The bits of a progress entry's members word that hold the set.
pub(crate) const PROGRESS_MEMBERS_MASK: u32 = 0x0fff_ffff;
/// The bit of a progress entry's members word that says the client
/// acknowledged all the sender, the connection's primary, sent
/// ([`Progress::output_acked`]).
const PROGRESS_OUTPUT_ACKED: u32 = 1 << 28;
/// The bit of a progress entry's members word that says the sender, the
/// connection's primary, is in doubt ([`Progress::in_doubt`]). (A node
/// that reads it as a member of the set ignores it: no set is that long.)
const PROGRESS_IN_DOUBT: u32 = 1 << 29;
/// The bit of a progress entry's members word that says the sender saw
/// the client complete the handshake ([`Progress::client_acked`]).
const PROGRESS_CLIENT_ACKED: u32 = 1 << 31;
/// The bit of a progress entry's members word that says its checkpoint
/// fields hold one ([`Progress::checkpoint`]).
const PROGRESS_CHECKPOINT: u32 = 1 << 30;
/// Most connections one progress datagram reports: it stays about 1200
/// bytes, well within any Ethernet MTU.
pub(crate) const PROGRESS_MAX_ENTRIES: usize = 32;
/// Longest progress datagram, for sizing send buffers.
pub(crate) const PROGRESS_MAX_LEN: usize =
    HEADER_LEN + TLV_HEADER_LEN + PROGRESS_MAX_ENTRIES * PROGRESS_LEN + MAC_LEN;

/// Most bytes a handover replays.
pub(crate) const REPLAY_MAX: usize = 16 * 1024;
/// Replay bytes per offer datagram (the last chunk may be shorter).
pub(crate) const REPLAY_CHUNK: usize = 1024;
/// Encoded length of a [`TcpState`].
const TCP_STATE_LEN: usize = 25;

/// Longest handover datagram, for sizing send buffers.
pub(crate) const HANDOVER_MAX_LEN: usize = HEADER_LEN
    + (TLV_HEADER_LEN + 8)
    + (TLV_HEADER_LEN + 12)
    + (TLV_HEADER_LEN + 1)
    + (TLV_HEADER_LEN + TCP_STATE_LEN)
    + (TLV_HEADER_LEN + 4)
    + (TLV_HEADER_LEN + 4 + REPLAY_CHUNK)
    + MAC_LEN;

/// Longest heartbeat datagram, for sizing send buffers.
pub(crate) const HEARTBEAT_MAX_LEN: usize = HEADER_LEN
    + 4 * TLV_HEADER_LEN
    + 4
    + 4
    + 4
    + 4 * MAX_LIVE
    + (TLV_HEADER_LEN + 2)
    + (TLV_HEADER_LEN + 6 * MAX_READY)
    + (TLV_HEADER_LEN + 8)
    + MAC_LEN;

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
    /// A step of a connection's handover, [`Handover`].
    Handover,
    /// Replication progress of connections, [`Progress`].
    Progress,
    /// A summary of the connections sender and recipient share,
    /// [`SummaryBody`].
    Summary,
    /// A replica brought into a connection's set, [`CatchUp`].
    CatchUp,
    /// A kind this codec does not know (sent by a newer node). The caller
    /// counts and drops it.
    Unknown(u8),
}

impl Kind {
    /// The kind of wire value `v`.
    pub(crate) fn from_wire(v: u8) -> Self {
        match v {
            1 => Kind::Heartbeat,
            2 => Kind::Handover,
            3 => Kind::Progress,
            4 => Kind::Summary,
            5 => Kind::CatchUp,
            v => Kind::Unknown(v),
        }
    }

    /// The wire value.
    pub(crate) fn to_wire(self) -> u8 {
        match self {
            Kind::Heartbeat => 1,
            Kind::Handover => 2,
            Kind::Progress => 3,
            Kind::Summary => 4,
            Kind::CatchUp => 5,
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
    /// Node id of the recipient: a datagram replayed to another node is
    /// refused there.
    pub(crate) recipient: u32,
    /// The recipient's epoch as the sender knows it ([`TLV_EPOCH`]), 0 if
    /// it knows none yet: a datagram recorded before the recipient's
    /// channel opened is refused there.
    pub(crate) epoch: u32,
}

/// Body of a heartbeat: who the sender is and whom it considers live.
///
/// The live view is a fixed array so that neither side allocates; slots past
/// the count are always zero, so derived equality compares views exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Heartbeat {
    /// Boot incarnation of the sender.
    incarnation: u32,
    /// The sender's channel epoch.
    epoch: u32,
    /// The sender's channel address, IPv4 octets in network order.
    address: [u8; 4],
    /// Live node ids, in the sender's order; `live[live_len..]` is zero.
    live: [u32; MAX_LIVE],
    /// Number of ids in `live`, at most [`MAX_LIVE`].
    live_len: usize,
    /// The sender's weight ([`TLV_WEIGHT`]).
    weight: u16,
    /// The sender's ready services ([`TLV_READY`]), VIP and port in network
    /// order; `ready[ready_len..]` is zero.
    ready: [[u8; 6]; MAX_READY],
    /// Number of services in `ready`; `None`: not reported (every one).
    ready_len: Option<usize>,
    /// The sender's policy view ([`TLV_POLICY_VIEW`]), if it sent one.
    policy_view: Option<u64>,
}

impl Heartbeat {
    /// A heartbeat, or `None` if `live` has more than [`MAX_LIVE`] ids.
    pub(crate) fn new(
        incarnation: u32,
        epoch: u32,
        address: [u8; 4],
        live: &[u32],
    ) -> Option<Self> {
        let mut hb = Heartbeat {
            incarnation,
            epoch,
            address,
            live: [0; MAX_LIVE],
            live_len: live.len(),
            weight: 1,
            ready: [[0; 6]; MAX_READY],
            ready_len: None,
            policy_view: None,
        };
        hb.live.get_mut(..live.len())?.copy_from_slice(live);
        Some(hb)
    }

    /// The heartbeat with the sender's traffic policy: its `weight`, its
    /// `ready` services and its `policy_view`; `None` if `ready` has more
    /// than [`MAX_READY`] services.
    pub(crate) fn with_policy(
        mut self,
        weight: u16,
        ready: &[[u8; 6]],
        policy_view: u64,
    ) -> Option<Self> {
        self.ready.get_mut(..ready.len())?.copy_from_slice(ready);
        self.ready_len = Some(ready.len());
        self.weight = weight;
        self.policy_view = Some(policy_view);
        Some(self)
    }

    /// The sender's weight.
    pub(crate) fn weight(&self) -> u16 {
        self.weight
    }

    /// The services ready on the sender; `None` if it did not say.
    pub(crate) fn ready(&self) -> Option<&[[u8; 6]]> {
        self.ready_len.map(|n| self.ready.get(..n).unwrap_or(&[]))
    }

    /// The sender's policy view, if it sent one.
    pub(crate) fn policy_view(&self) -> Option<u64> {
        self.policy_view
    }

    /// Boot incarnation of the sender.
    pub(crate) fn incarnation(&self) -> u32 {
        self.incarnation
    }

    /// The sender's channel epoch.
    pub(crate) fn epoch(&self) -> u32 {
        self.epoch
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
        let policy = match (self.ready(), self.policy_view) {
            (Some(ready), Some(_)) => 3 * TLV_HEADER_LEN + 2 + 6 * ready.len() + 8,
            _ => 0,
        };
        4 * TLV_HEADER_LEN + 4 + 4 + 4 + 4 * self.live().len() + policy
    }

    /// Length of the whole encoded datagram.
    pub(crate) fn encoded_len(&self) -> usize {
        HEADER_LEN + self.body_len() + MAC_LEN
    }
}

pub(crate) use crate::types::Tuple;

impl Tuple {
    pub(crate) fn to_wire(self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[0..4].copy_from_slice(&self.client);
        b[4..6].copy_from_slice(&self.client_port.to_be_bytes());
        b[6..10].copy_from_slice(&self.vip);
        b[10..12].copy_from_slice(&self.port.to_be_bytes());
        b
    }

    fn from_wire(b: [u8; 12]) -> Self {
        Self {
            client: [b[0], b[1], b[2], b[3]],
            client_port: u16::from_be_bytes([b[4], b[5]]),
            vip: [b[6], b[7], b[8], b[9]],
            port: u16::from_be_bytes([b[10], b[11]]),
        }
    }
}

/// The TCP state a handover carries, every number in the client's view.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TcpState {
    /// Client sequence number of the first replayed byte.
    pub(crate) client_seq: u32,
    /// Server sequence number of the next byte the server will send
    /// (everything before it has been acknowledged).
    pub(crate) server_seq: u32,
    /// The client's receive window, bytes.
    pub(crate) client_window: u32,
    /// The client's last TSval (the server's `ts_recent`).
    pub(crate) ts_recent: u32,
    /// The server's TSval now.
    pub(crate) server_tsval: u32,
    /// The client's MSS.
    pub(crate) mss: u16,
    /// The client's window scale.
    pub(crate) client_wscale: u8,
    /// The window scale the client applies to the server's window.
    pub(crate) server_wscale: u8,
    /// [`TcpState::TIMESTAMPS`], [`TcpState::SACK`],
    /// [`TcpState::WINDOW_SCALING`].
    pub(crate) options: u8,
}

impl TcpState {
    /// The connection uses timestamps.
    pub(crate) const TIMESTAMPS: u8 = 1;
    /// The client permits SACK.
    pub(crate) const SACK: u8 = 2;
    /// The connection uses window scaling.
    pub(crate) const WINDOW_SCALING: u8 = 4;

    /// Whether the connection uses timestamps.
    pub(crate) fn timestamps(&self) -> bool {
        self.options & Self::TIMESTAMPS != 0
    }

    /// Whether the client permits SACK.
    pub(crate) fn sack(&self) -> bool {
        self.options & Self::SACK != 0
    }

    /// Whether the connection uses window scaling.
    pub(crate) fn window_scaling(&self) -> bool {
        self.options & Self::WINDOW_SCALING != 0
    }

    fn to_wire(self) -> [u8; TCP_STATE_LEN] {
        let mut b = [0u8; TCP_STATE_LEN];
        b[0..4].copy_from_slice(&self.client_seq.to_be_bytes());
        b[4..8].copy_from_slice(&self.server_seq.to_be_bytes());
        b[8..12].copy_from_slice(&self.client_window.to_be_bytes());
        b[12..16].copy_from_slice(&self.ts_recent.to_be_bytes());
        b[16..20].copy_from_slice(&self.server_tsval.to_be_bytes());
        b[20..22].copy_from_slice(&self.mss.to_be_bytes());
        b[22] = self.client_wscale;
        b[23] = self.server_wscale;
        b[24] = self.options;
        b
    }

    fn from_wire(b: [u8; TCP_STATE_LEN]) -> Self {
        let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        Self {
            client_seq: u32_at(0),
            server_seq: u32_at(4),
            client_window: u32_at(8),
            ts_recent: u32_at(12),
            server_tsval: u32_at(16),
            mss: u16::from_be_bytes([b[20], b[21]]),
            client_wscale: b[22],
            server_wscale: b[23],
            options: b[24],
        }
    }
}

const STEP_OFFER: u8 = 1;
const STEP_READY: u8 = 2;
const STEP_COMMIT: u8 = 3;
const STEP_DONE: u8 = 4;
const STEP_REFUSED: u8 = 5;

/// A step of a handover (`Documentation/splice.rst` has the protocol).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step<'a> {
    /// Dispatcher to target: the connection's state and one chunk of the
    /// bytes to replay.
    Offer {
        /// The state.
        state: TcpState,
        /// Total bytes to replay, at most [`REPLAY_MAX`].
        replay_len: u32,
        /// Offset of `chunk` in them.
        chunk_offset: u32,
        /// At most [`REPLAY_CHUNK`] bytes, within `replay_len`.
        chunk: &'a [u8],
    },
    /// Target to dispatcher: the whole offer is in and can be taken.
    Ready,
    /// Dispatcher to target: the dispatcher has let the connection go;
    /// its clock's TSval (in the client's view) as it did.
    Commit {
        /// No segment the dispatcher sent carries a later TSval.
        server_tsval: u32,
    },
    /// Target to dispatcher: the connection is the target's.
    Done,
    /// Target to dispatcher: the offer cannot be taken (an errno).
    Refused(u32),
}

/// A handover message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Handover<'a> {
    /// The dispatcher's id of this handover.
    pub(crate) id: u64,
    /// The connection.
    pub(crate) tuple: Tuple,
    /// The step.
    pub(crate) step: Step<'a>,
}

/// Whether an offer's chunk of `chunk_len` bytes at `offset` lies within a
/// replay of `replay_len` bytes, itself within [`REPLAY_MAX`].
fn offer_in_bounds(replay_len: u32, offset: u32, chunk_len: usize) -> bool {
    let len = replay_len as usize;
    let end = (offset as usize).checked_add(chunk_len);
    len <= REPLAY_MAX && chunk_len <= REPLAY_CHUNK && matches!(end, Some(e) if e <= len)
}

/// Encodes a handover message into `out`; returns the datagram's length
/// (at most [`HANDOVER_MAX_LEN`]). An offer's bounds are checked as the
/// decoder checks them.
pub(crate) fn encode_handover(
    out: &mut [u8],
    hdr: &Header,
    h: &Handover<'_>,
    mac: &impl Mac,
) -> Result<usize, EncodeError> {
    let mut body = [0u8; HANDOVER_MAX_LEN - HEADER_LEN - MAC_LEN];
    let mut w = Writer {
        out: &mut body,
        len: 0,
    };
    let tlv = Writer::tlv;
    tlv(&mut w, TLV_HANDOVER_ID, &[&h.id.to_be_bytes()])?;
    tlv(&mut w, TLV_TUPLE, &[&h.tuple.to_wire()])?;
    let step = match h.step {
        Step::Offer { .. } => STEP_OFFER,
        Step::Ready => STEP_READY,
        Step::Commit { .. } => STEP_COMMIT,
        Step::Done => STEP_DONE,
        Step::Refused(_) => STEP_REFUSED,
    };
    tlv(&mut w, TLV_STEP, &[&[step]])?;
    match h.step {
        Step::Refused(e) => tlv(&mut w, TLV_ERRNO, &[&e.to_be_bytes()])?,
        Step::Offer {
            state,
            replay_len,
            chunk_offset,
            chunk,
        } => {
            if !offer_in_bounds(replay_len, chunk_offset, chunk.len()) {
                return Err(EncodeError::BufferTooSmall);
            }
            tlv(&mut w, TLV_TCP_STATE, &[&state.to_wire()])?;
            tlv(&mut w, TLV_REPLAY_LEN, &[&replay_len.to_be_bytes()])?;
            tlv(
                &mut w,
                TLV_REPLAY_CHUNK,
                &[&chunk_offset.to_be_bytes(), chunk],
            )?;
        }
        Step::Commit { server_tsval } => {
            tlv(&mut w, TLV_COMMIT_TSVAL, &[&server_tsval.to_be_bytes()])?
        }
        Step::Ready | Step::Done => {}
    }
    let body_len = w.len;
    seal_body(out, Kind::Handover, hdr, &body[..body_len], mac)
}

/// The digest of a replica's output up to a point
/// (`replicate/output_digest.rs`), as its progress reports carry it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Checkpoint {
    /// The server sequence number (cluster space) just past the last byte
    /// it covers.
    pub(crate) end: u32,
    /// The digest of every byte before `end`.
    pub(crate) digest: u32,
}

/// How far one replica of a connection has come (`replicate/replica.rs`): sent by
/// every replica to the others of the connection's set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Progress {
    /// The connection, from the client's side.
    pub(crate) tuple: Tuple,
    /// The client's sequence number up to which the sender's stack has
    /// received every byte (its `rcv_nxt`).
    pub(crate) received: u32,
    /// The server sequence number, in the client's view, up to which the
    /// sender's stack has sent (written and transmitted) every byte.
    pub(crate) sent: u32,
    /// The replicas the sender still counts in the connection's set: bit
    /// i for the i-th in rendezvous order (at most [`PROGRESS_MEMBERS_MASK`]).
    pub(crate) members: u32,
    /// The sender saw the client acknowledge a SYN-ACK: the client has
    /// completed the handshake, so a replica whose stack still waits for
    /// that acknowledgment may be given it (`sync.rs`).
    pub(crate) client_acked: bool,
    /// The client's sequence number up to which the sender's stack takes
    /// data: the right edge of the window it offered.
    pub(crate) window_end: u32,
    /// The digest of the sender's output up to where it has sent, if it
    /// still keeps one (`replicate/output_digest.rs`).
    pub(crate) checkpoint: Option<Checkpoint>,
    /// The sender is the connection's primary and in doubt: each backup
    /// answers with a report of its own, which vouches for it
    /// (`replicate/replica.rs`).
    pub(crate) in_doubt: bool,
    /// The sender is the connection's primary and saw the client
    /// acknowledge everything up to `sent`: a backup whose stack sent as
    /// far may be given that acknowledgment. The client's own may have
    /// reached that backup before the primary's report that it was sent,
    /// and been dropped as acknowledging what no replica sent; at the end
    /// of a connection the client sends no other.
    pub(crate) output_acked: bool,
}

impl Progress {
    fn to_wire(self) -> [u8; PROGRESS_LEN] {
        let mut b = [0u8; PROGRESS_LEN];
        b[..12].copy_from_slice(&self.tuple.to_wire());
        b[12..16].copy_from_slice(&self.received.to_be_bytes());
        b[16..20].copy_from_slice(&self.sent.to_be_bytes());
        let flag = |set: bool, bit: u32| if set { bit } else { 0 };
        let word = (self.members & PROGRESS_MEMBERS_MASK)
            | flag(self.client_acked, PROGRESS_CLIENT_ACKED)
            | flag(self.checkpoint.is_some(), PROGRESS_CHECKPOINT)
            | flag(self.in_doubt, PROGRESS_IN_DOUBT)
            | flag(self.output_acked, PROGRESS_OUTPUT_ACKED);
        b[20..24].copy_from_slice(&word.to_be_bytes());
        b[24..28].copy_from_slice(&self.window_end.to_be_bytes());
        let c = self.checkpoint.unwrap_or_default();
        b[28..32].copy_from_slice(&c.end.to_be_bytes());
        b[32..].copy_from_slice(&c.digest.to_be_bytes());
        b
    }

    fn from_wire(b: [u8; PROGRESS_LEN]) -> Self {
        let word = |at: usize| u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        let mut tuple = [0u8; 12];
        tuple.copy_from_slice(&b[..12]);
        Self {
            tuple: Tuple::from_wire(tuple),
            received: word(12),
            sent: word(16),
            members: word(20) & PROGRESS_MEMBERS_MASK,
            client_acked: word(20) & PROGRESS_CLIENT_ACKED != 0,
            window_end: word(24),
            checkpoint: (word(20) & PROGRESS_CHECKPOINT != 0).then(|| Checkpoint {
                end: word(28),
                digest: word(32),
            }),
            in_doubt: word(20) & PROGRESS_IN_DOUBT != 0,
            output_acked: word(20) & PROGRESS_OUTPUT_ACKED != 0,
        }
    }
}

/// The progress entries of a decoded datagram, in the order sent; their
/// count was checked by [`decode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ProgressList<'a> {
    entries: &'a [u8],
}

impl<'a> ProgressList<'a> {
    /// The entries.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Progress> + 'a {
        self.entries.chunks_exact(PROGRESS_LEN).map(|c| {
            let mut b = [0u8; PROGRESS_LEN];
            b.copy_from_slice(c);
            Progress::from_wire(b)
        })
    }
}

/// Encodes a progress datagram of `entries` (1 to
/// [`PROGRESS_MAX_ENTRIES`]) into `out`: one [`TLV_PROGRESS`] holding them
/// all. Returns its length (at most [`PROGRESS_MAX_LEN`]).
pub(crate) fn encode_progress(
    out: &mut [u8],
    hdr: &Header,
    entries: &[Progress],
    mac: &impl Mac,
) -> Result<usize, EncodeError> {
    if entries.is_empty() || entries.len() > PROGRESS_MAX_ENTRIES {
        return Err(EncodeError::BufferTooSmall);
    }
    let value_len = entries.len() * PROGRESS_LEN;
    let body_len = TLV_HEADER_LEN + value_len;
    if out.len() < HEADER_LEN + body_len + MAC_LEN {
        return Err(EncodeError::BufferTooSmall);
    }
    let body_len16 = u16::try_from(body_len).map_err(|_| EncodeError::BufferTooSmall)?;
    let value_len16 = u16::try_from(value_len).map_err(|_| EncodeError::BufferTooSmall)?;
    let mut w = Writer { out, len: 0 };
    write_header(&mut w, Kind::Progress, hdr, body_len16)?;
    w.put(&TLV_PROGRESS.to_be_bytes())?;
    w.put(&value_len16.to_be_bytes())?;
    for e in entries {
        w.put(&e.to_wire())?;
    }
    w.seal(mac)
}

/// Parses a progress body: exactly one [`TLV_PROGRESS`] of 1 to
/// [`PROGRESS_MAX_ENTRIES`] whole entries (other TLVs are skipped).
fn parse_progress(body: &[u8]) -> Result<ProgressList<'_>, DecodeError> {
    let mut entries = None;
    for tlv in Tlvs::new(body) {
        let (typ, value) = tlv?;
        if typ == TLV_PROGRESS {
            entries = Some(value);
        }
    }
    let entries = entries.ok_or(DecodeError::Malformed)?;
    let n = entries.len() / PROGRESS_LEN;
    if entries.len() % PROGRESS_LEN != 0 || n == 0 || n > PROGRESS_MAX_ENTRIES {
        return Err(DecodeError::Malformed);
    }
    Ok(ProgressList { entries })
}

/// Body of a progress summary (`replicate/summary.rs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SummaryBody {
    /// The connections the sender shares with the recipient, by bucket.
    pub(crate) summary: crate::summary::Summary,
    /// The buckets the sender asks the recipient to report again.
    pub(crate) refresh: u32,
}

/// Encodes a progress summary into `out`; returns its length
/// ([`SUMMARY_DATAGRAM_LEN`]).
pub(crate) fn encode_summary(
    out: &mut [u8],
    hdr: &Header,
    body: &SummaryBody,
    mac: &impl Mac,
) -> Result<usize, EncodeError> {
    if out.len() < SUMMARY_DATAGRAM_LEN {
        return Err(EncodeError::BufferTooSmall);
    }
    let body_len = SUMMARY_DATAGRAM_LEN - HEADER_LEN - MAC_LEN;
    let body_len16 = u16::try_from(body_len).map_err(|_| EncodeError::BufferTooSmall)?;
    let len16 = u16::try_from(SUMMARY_LEN).map_err(|_| EncodeError::BufferTooSmall)?;
    let mut w = Writer { out, len: 0 };
    write_header(&mut w, Kind::Summary, hdr, body_len16)?;
    w.put(&TLV_SUMMARY_BUCKETS.to_be_bytes())?;
    w.put(&len16.to_be_bytes())?;
    for (count, sum) in body.summary.count.iter().zip(&body.summary.sum) {
        w.put(&count.to_be_bytes())?;
        w.put(&sum.to_be_bytes())?;
    }
    w.put(&TLV_SUMMARY_REFRESH.to_be_bytes())?;
    w.put(&4u16.to_be_bytes())?;
    w.put(&body.refresh.to_be_bytes())?;
    w.seal(mac)
}

/// Parses a summary body: exactly one [`TLV_SUMMARY_BUCKETS`] of every
/// bucket, at most one [`TLV_SUMMARY_REFRESH`] of 4 bytes (other TLVs are
/// skipped).
fn parse_summary(body: &[u8]) -> Result<SummaryBody, DecodeError> {
    let mut buckets = None;
    let mut refresh = None;
    for tlv in Tlvs::new(body) {
        let (typ, value) = tlv?;
        match typ {
            TLV_SUMMARY_BUCKETS if buckets.is_none() => buckets = Some(value),
            TLV_SUMMARY_REFRESH if refresh.is_none() => refresh = Some(value),
            TLV_SUMMARY_BUCKETS | TLV_SUMMARY_REFRESH => return Err(DecodeError::Malformed),
            _ => {}
        }
    }
    let buckets = buckets.ok_or(DecodeError::Malformed)?;
    if buckets.len() != SUMMARY_LEN {
        return Err(DecodeError::Malformed);
    }
    let mut out = SummaryBody::default();
    for (b, chunk) in buckets.chunks_exact(12).enumerate() {
        let mut r = Reader { rest: chunk };
        let (Some(count), Some(sum)) = (r.u32(), r.u64()) else {
            return Err(DecodeError::Malformed);
        };
        if let (Some(c), Some(s)) = (out.summary.count.get_mut(b), out.summary.sum.get_mut(b)) {
            *c = count;
            *s = sum;
        }
    }
    if let Some(value) = refresh {
        let mut r = Reader { rest: value };
        out.refresh = match (r.u32(), value.len()) {
            (Some(mask), 4) => mask,
            _ => return Err(DecodeError::Malformed),
        };
    }
    Ok(out)
}

/// A step of bringing a replica into a connection's set
/// (`Documentation/replicate.rst`, *Restoring redundancy*): from the
/// primary to the others, the new set; to the replica brought in, also
/// the client's handshake to play to its stack, and the client's bytes
/// from the start, a chunk at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CatchUp<'a> {
    /// The connection.
    pub(crate) tuple: Tuple,
    /// The set, as the primary made it.
    pub(crate) set: Option<SetChange>,
    /// The client's handshake.
    pub(crate) syn: Option<CatchUpSyn>,
    /// Client bytes from a sequence number.
    pub(crate) data: Option<(u32, &'a [u8])>,
}

/// The client's handshake, as the replica brought in plays it to its
/// stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CatchUpSyn {
    /// The client's initial sequence number.
    pub(crate) isn: u32,
    /// The options of its SYN.
    pub(crate) options: SynOptions,
    /// Its latest TSval, if the connection has timestamps: what the
    /// played segments carry, so that the stack's PAWS check takes the
    /// client's own segments after them.
    pub(crate) tsval: Option<u32>,
}

/// Encodes a catch-up message into `out`; returns the datagram's length
/// (at most [`CATCHUP_MAX_LEN`]). A data chunk longer than
/// [`CATCHUP_CHUNK`], or a set longer than [`MAX_SET`], is refused, as
/// the decoder refuses it.
pub(crate) fn encode_catch_up(
    out: &mut [u8],
    hdr: &Header,
    c: &CatchUp<'_>,
    mac: &impl Mac,
) -> Result<usize, EncodeError> {
    let mut body = [0u8; CATCHUP_MAX_LEN - HEADER_LEN - MAC_LEN];
    let mut w = Writer {
        out: &mut body,
        len: 0,
    };
    let tlv = Writer::tlv;
    tlv(&mut w, TLV_TUPLE, &[&c.tuple.to_wire()])?;
    if let Some(set) = &c.set {
        if usize::from(set.len) > MAX_SET {
            return Err(EncodeError::BufferTooSmall);
        }
        let mut v = [0u8; CATCHUP_SET_LEN];
        v[..4].copy_from_slice(&[set.gen, set.len, set.excluded, set.joining]);
        for (i, id) in set.ids.iter().enumerate() {
            v[4 + 4 * i..8 + 4 * i].copy_from_slice(&id.to_be_bytes());
        }
        let f = 4 + 4 * MAX_SET;
        v[f..f + 4].copy_from_slice(&set.floors.received.to_be_bytes());
        v[f + 4..f + 8].copy_from_slice(&set.floors.sent.to_be_bytes());
        v[f + 8..f + 12].copy_from_slice(&set.floors.window_end.to_be_bytes());
        tlv(&mut w, TLV_CATCHUP_SET, &[&v])?;
    }
    if let Some(syn) = &c.syn {
        let o = &syn.options;
        let flags = u8::from(o.sack_permitted) | (u8::from(syn.tsval.is_some()) << 1);
        tlv(
            &mut w,
            TLV_CATCHUP_SYN,
            &[
                &syn.isn.to_be_bytes(),
                &o.mss.to_be_bytes(),
                &[o.wscale.unwrap_or(u8::MAX), flags],
                &syn.tsval.unwrap_or(0).to_be_bytes(),
            ],
        )?;
    }
    if let Some((seq, bytes)) = c.data {
        if bytes.len() > CATCHUP_CHUNK {
            return Err(EncodeError::BufferTooSmall);
        }
        tlv(&mut w, TLV_CATCHUP_DATA, &[&seq.to_be_bytes(), bytes])?;
    }
    let body_len = w.len;
    seal_body(out, Kind::CatchUp, hdr, &body[..body_len], mac)
}

/// Parses a catch-up body: the tuple, and at least one of a set, a
/// handshake and a data chunk, each within its bounds.
fn parse_catch_up(body: &[u8]) -> Result<CatchUp<'_>, DecodeError> {
    let (mut tuple, mut set, mut syn, mut data) = (None, None, None, None);
    for tlv in Tlvs::new(body) {
        let (typ, value) = tlv?;
        let slot = match typ {
            TLV_TUPLE => &mut tuple,
            TLV_CATCHUP_SET => &mut set,
            TLV_CATCHUP_SYN => &mut syn,
            TLV_CATCHUP_DATA => &mut data,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(DecodeError::Malformed);
        }
    }
    let tuple: [u8; 12] = tuple
        .and_then(|v| v.try_into().ok())
        .ok_or(DecodeError::Malformed)?;
    if set.is_none() && syn.is_none() && data.is_none() {
        return Err(DecodeError::Malformed);
    }
    let set = set.map(parse_set_change).transpose()?;
    let syn = syn
        .map(|v| {
            let mut r = Reader { rest: v };
            match (r.u32(), r.u16(), r.u8(), r.u8(), r.u32(), v.len()) {
                (Some(isn), Some(mss), Some(wscale), Some(flags), Some(tsval), 12)
                    if flags >> 2 == 0 && (flags & 2 != 0 || tsval == 0) =>
                {
                    Ok(CatchUpSyn {
                        isn,
                        options: SynOptions {
                            mss,
                            wscale: (wscale != u8::MAX).then_some(wscale),
                            sack_permitted: flags & 1 != 0,
                        },
                        tsval: (flags & 2 != 0).then_some(tsval),
                    })
                }
                _ => Err(DecodeError::Malformed),
            }
        })
        .transpose()?;
    let data = data
        .map(|v| match v.split_first_chunk::<4>() {
            Some((seq, bytes)) if bytes.len() <= CATCHUP_CHUNK => {
                Ok((u32::from_be_bytes(*seq), bytes))
            }
            _ => Err(DecodeError::Malformed),
        })
        .transpose()?;
    Ok(CatchUp {
        tuple: Tuple::from_wire(tuple),
        set,
        syn,
        data,
    })
}

/// A catch-up's set: refused if empty or longer than [`MAX_SET`], with
/// masks beyond its length, or with ids repeated or beyond its length.
fn parse_set_change(v: &[u8]) -> Result<SetChange, DecodeError> {
    let v: &[u8; CATCHUP_SET_LEN] = v.try_into().map_err(|_| DecodeError::Malformed)?;
    let [gen, len, excluded, joining] = [v[0], v[1], v[2], v[3]];
    let n = usize::from(len);
    let word = |at: usize| u32::from_be_bytes([v[at], v[at + 1], v[at + 2], v[at + 3]]);
    let mut ids = [0u32; MAX_SET];
    for (i, id) in ids.iter_mut().enumerate() {
        *id = word(4 + 4 * i);
    }
    let ids_ok = (1..=MAX_SET).contains(&n)
        && u32::from(excluded | joining) >> n == 0
        && ids[n..].iter().all(|&id| id == 0)
        && ids[..n]
            .iter()
            .enumerate()
            .all(|(i, id)| !ids[..i].contains(id));
    if !ids_ok {
        return Err(DecodeError::Malformed);
    }
    let f = 4 + 4 * MAX_SET;
    Ok(SetChange {
        gen,
        len,
        ids,
        excluded,
        joining,
        floors: Ends {
            received: word(f),
            sent: word(f + 4),
            window_end: word(f + 8),
        },
    })
}

/// What a datagram carries, by kind.
// A heartbeat is ~270 bytes against a slice's 16, but there is no allocator
// to box it in and a `Datagram` only lives on the stack while it is handled.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Message<'a> {
    /// Kind 1.
    Heartbeat(Heartbeat),
    /// Kind 2.
    Handover(Handover<'a>),
    /// Kind 3.
    Progress(ProgressList<'a>),
    /// Kind 4.
    Summary(SummaryBody),
    /// Kind 5.
    CatchUp(CatchUp<'a>),
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
            Message::Handover(_) => Kind::Handover,
            Message::Progress(_) => Kind::Progress,
            Message::Summary(_) => Kind::Summary,
            Message::CatchUp(_) => Kind::CatchUp,
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
    w.put(&TLV_EPOCH.to_be_bytes())?;
    w.put(&4u16.to_be_bytes())?;
    w.put(&hb.epoch.to_be_bytes())?;
    if let (Some(ready), Some(view)) = (hb.ready(), hb.policy_view) {
        // At most MAX_READY entries of 6 bytes: fits in a u16.
        let ready_len = u16::try_from(6 * ready.len()).map_err(|_| EncodeError::BufferTooSmall)?;
        w.put(&TLV_WEIGHT.to_be_bytes())?;
        w.put(&2u16.to_be_bytes())?;
        w.put(&hb.weight.to_be_bytes())?;
        w.put(&TLV_READY.to_be_bytes())?;
        w.put(&ready_len.to_be_bytes())?;
        for service in ready {
            w.put(service)?;
        }
        w.put(&TLV_POLICY_VIEW.to_be_bytes())?;
        w.put(&8u16.to_be_bytes())?;
        w.put(&view.to_be_bytes())?;
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
    let recipient = r.u32().ok_or(DecodeError::TooShort)?;
    let epoch = r.u32().ok_or(DecodeError::TooShort)?;

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
        Kind::Handover => Message::Handover(parse_handover(body)?),
        Kind::Progress => Message::Progress(parse_progress(body)?),
        Kind::Summary => Message::Summary(parse_summary(body)?),
        Kind::CatchUp => Message::CatchUp(parse_catch_up(body)?),
        Kind::Unknown(kind) => Message::Unknown { kind, body },
    };
    Ok(Datagram {
        header: Header {
            sender,
            cluster,
            counter,
            recipient,
            epoch,
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

/// Parses a heartbeat body: each of the four first TLVs exactly once, the
/// policy's three (weight, ready services, view) all or none.
fn parse_heartbeat(body: &[u8]) -> Result<Heartbeat, DecodeError> {
    let mut incarnation = None;
    let mut epoch = None;
    let mut address = None;
    let mut live = None;
    let mut weight = None;
    let mut ready = None;
    let mut policy_view = None;
    for tlv in Tlvs::new(body) {
        let (typ, value) = tlv?;
        match typ {
            TLV_INCARNATION => incarnation = Some(u32::from_be_bytes(exact(value)?)),
            TLV_EPOCH => epoch = Some(u32::from_be_bytes(exact(value)?)),
            TLV_ADDRESS => address = Some(exact(value)?),
            TLV_LIVE_VIEW => live = Some(value),
            TLV_WEIGHT => weight = Some(u16::from_be_bytes(exact(value)?)),
            TLV_READY => ready = Some(value),
            TLV_POLICY_VIEW => policy_view = Some(u64::from_be_bytes(exact(value)?)),
            // Unknown TLVs are skipped so that the format can grow.
            _ => {}
        }
    }
    let (Some(incarnation), Some(epoch), Some(address), Some(live)) =
        (incarnation, epoch, address, live)
    else {
        return Err(DecodeError::Malformed);
    };
    if live.len() % 4 != 0 || live.len() > 4 * MAX_LIVE {
        return Err(DecodeError::Malformed);
    }
    let mut hb = Heartbeat {
        incarnation,
        epoch,
        address,
        live: [0; MAX_LIVE],
        live_len: live.len() / 4,
        weight: 1,
        ready: [[0; 6]; MAX_READY],
        ready_len: None,
        policy_view: None,
    };
    let mut rest = live;
    for id in hb.live.iter_mut() {
        let Some((bytes, tail)) = rest.split_first_chunk::<4>() else {
            break;
        };
        *id = u32::from_be_bytes(*bytes);
        rest = tail;
    }
    match (weight, ready, policy_view) {
        (None, None, None) => {}
        (Some(weight), Some(ready), Some(view)) => {
            if ready.len() % 6 != 0 || ready.len() > 6 * MAX_READY {
                return Err(DecodeError::Malformed);
            }
            let mut rest = ready;
            for slot in hb.ready.iter_mut() {
                let Some((service, tail)) = rest.split_first_chunk::<6>() else {
                    break;
                };
                *slot = *service;
                rest = tail;
            }
            hb.ready_len = Some(ready.len() / 6);
            hb.weight = weight;
            hb.policy_view = Some(view);
        }
        _ => return Err(DecodeError::Malformed),
    }
    Ok(hb)
}

/// Parses a handover body: id, tuple and step always; an offer's state,
/// replay length and chunk; a refusal's errno.
fn parse_handover(body: &[u8]) -> Result<Handover<'_>, DecodeError> {
    let mut id = None;
    let mut tuple = None;
    let mut step = None;
    let mut errno = None;
    let mut state = None;
    let mut replay_len = None;
    let mut chunk = None;
    let mut commit_tsval = None;
    for tlv in Tlvs::new(body) {
        let (typ, value) = tlv?;
        match typ {
            TLV_HANDOVER_ID => id = Some(u64::from_be_bytes(exact(value)?)),
            TLV_TUPLE => tuple = Some(Tuple::from_wire(exact(value)?)),
            TLV_STEP => step = Some(u8::from_be_bytes(exact(value)?)),
            TLV_ERRNO => errno = Some(u32::from_be_bytes(exact(value)?)),
            TLV_TCP_STATE => state = Some(TcpState::from_wire(exact(value)?)),
            TLV_REPLAY_LEN => replay_len = Some(u32::from_be_bytes(exact(value)?)),
            TLV_REPLAY_CHUNK => {
                let (offset, data) = value
                    .split_first_chunk::<4>()
                    .ok_or(DecodeError::Malformed)?;
                chunk = Some((u32::from_be_bytes(*offset), data));
            }
            TLV_COMMIT_TSVAL => commit_tsval = Some(u32::from_be_bytes(exact(value)?)),
            _ => {}
        }
    }
    let (Some(id), Some(tuple), Some(step)) = (id, tuple, step) else {
        return Err(DecodeError::Malformed);
    };
    let step = match step {
        STEP_OFFER => {
            let (Some(state), Some(replay_len), Some((offset, data))) = (state, replay_len, chunk)
            else {
                return Err(DecodeError::Malformed);
            };
            if !offer_in_bounds(replay_len, offset, data.len()) {
                return Err(DecodeError::Malformed);
            }
            Step::Offer {
                state,
                replay_len,
                chunk_offset: offset,
                chunk: data,
            }
        }
        STEP_READY => Step::Ready,
        STEP_COMMIT => match commit_tsval {
            Some(server_tsval) => Step::Commit { server_tsval },
            None => return Err(DecodeError::Malformed),
        },
        STEP_DONE => Step::Done,
        STEP_REFUSED => match errno {
            Some(e @ 1..=4095) => Step::Refused(e),
            _ => return Err(DecodeError::Malformed),
        },
        _ => return Err(DecodeError::Malformed),
    };
    Ok(Handover { id, tuple, step })
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

/// Writes the datagram of kind `kind` with header `hdr` and body `body`
/// into `out`, sealed with `mac`; returns its length.
fn seal_body(
    out: &mut [u8],
    kind: Kind,
    hdr: &Header,
    body: &[u8],
    mac: &impl Mac,
) -> Result<usize, EncodeError> {
    if out.len() < HEADER_LEN + body.len() + MAC_LEN {
        return Err(EncodeError::BufferTooSmall);
    }
    let body_len = u16::try_from(body.len()).map_err(|_| EncodeError::BufferTooSmall)?;
    let mut w = Writer { out, len: 0 };
    write_header(&mut w, kind, hdr, body_len)?;
    w.put(body)?;
    w.seal(mac)
}

impl Writer<'_> {
    /// Appends a TLV of type `typ` whose value is `parts`, one after the
    /// other.
    fn tlv(&mut self, typ: u16, parts: &[&[u8]]) -> Result<(), EncodeError> {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        let len = u16::try_from(len).map_err(|_| EncodeError::BufferTooSmall)?;
        self.put(&typ.to_be_bytes())?;
        self.put(&len.to_be_bytes())?;
        parts.iter().try_for_each(|p| self.put(p))
    }

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
    w.put(&0u16.to_be_bytes())?;
    w.put(&hdr.recipient.to_be_bytes())?;
    w.put(&hdr.epoch.to_be_bytes())
}

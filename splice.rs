// SPDX-License-Identifier: GPL-2.0

//! Splice (DTS): the sequence-space translation between a handed-over
//! connection's new holder and the client, the segments that give the new
//! holder's stack the connection, and the handover's state per connection.
//! See `Documentation/splice.rst`.
//!
//! The client knows the server's side of the connection by the numbers the
//! first holder chose: its initial sequence number, its timestamp clock, its
//! window scale. A later holder's stack chooses its own when it is given
//! the connection (by a handshake the module plays to it on the client's
//! behalf), so every segment between it and the client is rewritten:
//!
//! * to the client: sequence number `+ seq_delta`, TSval `+ ts_delta`, the
//!   window rescaled from the holder's scale to the one the client applies;
//! * from the client: acknowledgment number and SACK edges `- seq_delta`,
//!   TSecr `- ts_delta`.
//!
//! The client's own sequence space needs no translation: the handshake
//! played to the holder starts it exactly where the replayed bytes begin.
//!
//! Kernel-independent: built into the module and into the host test crate.

use crate::csum;
use crate::wire::{TcpState, Tuple, REPLAY_CHUNK, REPLAY_MAX};

/// TCP flag bits (byte 13 of the header): SYN.
pub(crate) const SYN: u8 = 0x02;
/// RST.
pub(crate) const RST: u8 = 0x04;
/// PSH.
pub(crate) const PSH: u8 = 0x08;
/// ACK.
pub(crate) const ACK: u8 = 0x10;

/// TCP option kinds.
const OPT_EOL: u8 = 0;
const OPT_NOP: u8 = 1;
const OPT_MSS: u8 = 2;
const OPT_WSCALE: u8 = 3;
const OPT_SACK_PERM: u8 = 4;
pub(crate) const OPT_SACK: u8 = 5;
pub(crate) const OPT_TIMESTAMP: u8 = 8;

/// Largest window scale (RFC 7323).
pub(crate) const MAX_WSCALE: u8 = 14;

/// How a packet's TCP checksum field is to be kept right.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Checksum {
    /// The field is the checksum of the whole segment: update it for every
    /// change (received packets whatever the device verified, and locally
    /// built ones that are complete).
    Full,
    /// The field holds only the pseudo-header's sum and the device (or the
    /// stack, in software) completes it over the segment as it goes out
    /// (`CHECKSUM_PARTIAL`): header rewrites leave it alone.
    Partial,
}

/// A connection's server port as the client knows it and as its holder's
/// stack serves it: they differ when the holder serves a splice service on
/// its backend port (a stock server's). Equal (both 0 by default): no port
/// to translate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Ports {
    /// The port the client connected to.
    pub(crate) client: u16,
    /// The port the holder's stack serves it on.
    pub(crate) local: u16,
}

/// The rewriting of one spliced connection, fixed when its holder's stack
/// answers the played handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Translation {
    /// Client's view of the server sequence space minus the holder's.
    pub(crate) seq_delta: u32,
    /// Client's view of the server timestamp clock minus the holder's.
    pub(crate) ts_delta: u32,
    /// The window scale the client applies to the server's window field.
    pub(crate) client_view_wscale: u8,
    /// The window scale the holder's stack applies to its own field.
    pub(crate) local_wscale: u8,
    /// The server port, both ways.
    pub(crate) ports: Ports,
}

impl Translation {
    /// The translation under which the holder's handshake answer (`synack`)
    /// continues the connection the client knows (`state`).
    pub(crate) fn of(state: &TcpState, synack: &SynAck) -> Self {
        Self {
            seq_delta: state.server_seq.wrapping_sub(synack.isn.wrapping_add(1)),
            ts_delta: match synack.tsval {
                Some(local) if state.timestamps() => state.server_tsval.wrapping_sub(local),
                _ => 0,
            },
            client_view_wscale: if state.window_scaling() {
                state.server_wscale.min(MAX_WSCALE)
            } else {
                0
            },
            local_wscale: synack.wscale.unwrap_or(0).min(MAX_WSCALE),
            ports: Ports::default(),
        }
    }

    /// The window field the client must see for the holder's `field`:
    /// the same number of bytes, in the client's scale, capped at what the
    /// field can say. Rounds down, so the client never sends beyond what
    /// the holder offers.
    pub(crate) fn window_to_client(&self, field: u16) -> u16 {
        let bytes = u64::from(field) << self.local_wscale;
        let scaled = bytes >> self.client_view_wscale;
        u16::try_from(scaled).unwrap_or(u16::MAX)
    }
}

/// Where the TCP header of an IPv4 packet starts and how long it is, if
/// `pkt` holds all of both headers.
pub(crate) fn tcp_header(pkt: &[u8]) -> Option<(usize, usize)> {
    let ihl = usize::from(pkt.first()? & 0x0f) * 4;
    if pkt.first()? >> 4 != 4 || ihl < 20 || pkt.get(9) != Some(&6) {
        return None;
    }
    let doff = usize::from(pkt.get(ihl + 12)? >> 4) * 4;
    if doff < 20 || pkt.len() < ihl + doff {
        return None;
    }
    Some((ihl, doff))
}

pub(crate) fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// Calls `f(kind, offset of the option's value)` for each option of the
/// TCP header at `t` (length `len`) that is well framed; stops at the end
/// of the list or at the first badly framed option.
pub(crate) fn for_each_option(
    pkt: &[u8],
    t: usize,
    len: usize,
    mut f: impl FnMut(u8, usize, usize),
) {
    let mut at = t + 20;
    let end = t + len;
    while at < end {
        let Some(&kind) = pkt.get(at) else { return };
        match kind {
            OPT_EOL => return,
            OPT_NOP => at += 1,
            _ => {
                let Some(&olen) = pkt.get(at + 1) else { return };
                let olen = usize::from(olen);
                if olen < 2 || at + olen > end {
                    return;
                }
                f(kind, at + 2, olen - 2);
                at += olen;
            }
        }
    }
}

/// Adds `delta` to the big-endian u32 at `at`, keeping the checksum.
fn add32(pkt: &mut [u8], at: usize, delta: u32, check: Option<usize>) -> Option<()> {
    let v = be32(pkt, at)?.wrapping_add(delta);
    csum::patch(pkt, at, &v.to_be_bytes(), check)
}

/// Where the TCP checksum is, if it must be updated under `cs`.
pub(crate) fn check_field(t: usize, cs: Checksum) -> Option<usize> {
    match cs {
        Checksum::Full => Some(t + 16),
        Checksum::Partial => None,
    }
}

/// Rewrites a segment from the client to the holder's space: the
/// destination port, the acknowledgment number, the SACK edges and TSecr. `pkt` starts at the IP
/// header and holds at least both headers (options included). Returns
/// `None`, leaving the packet as it was, if it is not such a segment.
pub(crate) fn translate_inbound(pkt: &mut [u8], tr: &Translation, cs: Checksum) -> Option<()> {
    let (ihl, len) = tcp_header(pkt)?;
    let t = ihl;
    let flags = *pkt.get(t + 13)?;
    let check = check_field(t, cs);
    // The destination port, SYN or not: the client's port to the local one
    // (a segment played to the stack carries the local one already).
    if tr.ports.client != tr.ports.local && be16(pkt, t + 2)? == tr.ports.client {
        csum::patch(pkt, t + 2, &tr.ports.local.to_be_bytes(), check)?;
    }
    if flags & ACK == 0 {
        return Some(());
    }
    let back = tr.seq_delta.wrapping_neg();
    let mut edges = [0usize; 8];
    let mut n_edges = 0;
    let mut tsecr = None;
    for_each_option(pkt, t, len, |kind, at, vlen| match kind {
        OPT_SACK if vlen % 8 == 0 => {
            for e in (at..at + vlen).step_by(4) {
                if let Some(slot) = edges.get_mut(n_edges) {
                    *slot = e;
                    n_edges += 1;
                }
            }
        }
        OPT_TIMESTAMP if vlen == 8 => tsecr = Some(at + 4),
        _ => {}
    });
    add32(pkt, t + 8, back, check)?;
    for &e in &edges[..n_edges] {
        add32(pkt, e, back, check)?;
    }
    if let Some(at) = tsecr {
        add32(pkt, at, tr.ts_delta.wrapping_neg(), check)?;
    }
    Some(())
}

/// Rewrites a segment from the holder to the client's view: the source
/// port, the sequence number, TSval and the window. `pkt` as for
/// [`translate_inbound`].
pub(crate) fn translate_outbound(pkt: &mut [u8], tr: &Translation, cs: Checksum) -> Option<()> {
    let (ihl, len) = tcp_header(pkt)?;
    let t = ihl;
    let flags = *pkt.get(t + 13)?;
    let check = check_field(t, cs);
    if tr.ports.client != tr.ports.local && be16(pkt, t)? == tr.ports.local {
        csum::patch(pkt, t, &tr.ports.client.to_be_bytes(), check)?;
    }
    let mut tsval = None;
    for_each_option(pkt, t, len, |kind, at, vlen| {
        if kind == OPT_TIMESTAMP && vlen == 8 {
            tsval = Some(at);
        }
    });
    add32(pkt, t + 4, tr.seq_delta, check)?;
    if let Some(at) = tsval {
        add32(pkt, at, tr.ts_delta, check)?;
    }
    if flags & SYN == 0 {
        let w = tr.window_to_client(be16(pkt, t + 14)?);
        csum::patch(pkt, t + 14, &w.to_be_bytes(), check)?;
    }
    Some(())
}

/// What the holder's stack answered to the played SYN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SynAck {
    /// Its initial sequence number.
    pub(crate) isn: u32,
    /// Its window scale, if it offered one.
    pub(crate) wscale: Option<u8>,
    /// Its TSval, if it sent timestamps.
    pub(crate) tsval: Option<u32>,
    /// Its window field (unscaled in a SYN-ACK).
    pub(crate) window: u16,
}

/// The SYN-ACK in `pkt`, if it is one.
pub(crate) fn parse_syn_ack(pkt: &[u8]) -> Option<SynAck> {
    let (t, len) = tcp_header(pkt)?;
    if *pkt.get(t + 13)? & (SYN | ACK | RST) != SYN | ACK {
        return None;
    }
    let mut s = SynAck {
        isn: be32(pkt, t + 4)?,
        window: be16(pkt, t + 14)?,
        wscale: None,
        tsval: None,
    };
    for_each_option(pkt, t, len, |kind, at, vlen| match kind {
        OPT_WSCALE if vlen == 1 => s.wscale = pkt.get(at).copied(),
        OPT_TIMESTAMP if vlen == 8 => s.tsval = be32(pkt, at),
        _ => {}
    });
    Some(s)
}

/// The MSS of a peer that gives none (RFC 9293, 3.7.1).
pub(crate) const DEFAULT_MSS: u16 = 536;

/// A client's SYN in `pkt` (not a SYN-ACK): its initial sequence number
/// and the options it offered ([`DEFAULT_MSS`] if it gives no MSS).
pub(crate) fn parse_syn(pkt: &[u8]) -> Option<(u32, SynOptions)> {
    let (t, len) = tcp_header(pkt)?;
    if *pkt.get(t + 13)? & (SYN | ACK | RST) != SYN {
        return None;
    }
    let mut o = SynOptions {
        mss: DEFAULT_MSS,
        wscale: None,
        sack_permitted: false,
    };
    for_each_option(pkt, t, len, |kind, at, vlen| match kind {
        OPT_MSS if vlen == 2 => o.mss = be16(pkt, at).unwrap_or(DEFAULT_MSS),
        OPT_WSCALE if vlen == 1 => o.wscale = pkt.get(at).copied(),
        OPT_SACK_PERM if vlen == 0 => o.sack_permitted = true,
        _ => {}
    });
    Some((be32(pkt, t + 4)?, o))
}

/// A segment from the client that the module plays to the new holder.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Segment<'a> {
    /// The connection (the segment goes from client to VIP).
    pub(crate) tuple: Tuple,
    /// Sequence number.
    pub(crate) seq: u32,
    /// Acknowledgment number (ignored without [`ACK`]).
    pub(crate) ack: u32,
    /// Flags.
    pub(crate) flags: u8,
    /// Window field.
    pub(crate) window: u16,
    /// Timestamps option (TSval, TSecr), if the connection has them.
    pub(crate) timestamps: Option<(u32, u32)>,
    /// For a SYN: the options the client negotiated with the first holder.
    pub(crate) syn_options: Option<SynOptions>,
    /// Payload.
    pub(crate) payload: &'a [u8],
}

/// A played SYN's options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SynOptions {
    /// The client's MSS.
    pub(crate) mss: u16,
    /// The client's window scale, if it uses scaling.
    pub(crate) wscale: Option<u8>,
    /// Whether the client permits SACK.
    pub(crate) sack_permitted: bool,
}

/// Longest IPv4 + TCP header of a played segment.
pub(crate) const SEGMENT_HEADERS_MAX: usize = 20 + 20 + 40;

/// Writes `seg` as a complete IPv4 packet (checksums included) into `out`;
/// returns its length, or `None` if `out` is too short.
pub(crate) fn build_segment(out: &mut [u8], seg: &Segment<'_>) -> Option<usize> {
    let mut opts = [OPT_NOP; 40];
    let mut n = 0;
    let mut put = |bytes: &[u8]| {
        for &b in bytes {
            if let Some(slot) = opts.get_mut(n) {
                *slot = b;
            }
            n += 1;
        }
    };
    if let Some(syn) = seg.syn_options {
        put(&[OPT_MSS, 4]);
        put(&syn.mss.to_be_bytes());
        if syn.sack_permitted {
            put(&[OPT_NOP, OPT_NOP, OPT_SACK_PERM, 2]);
        }
        if let Some(ws) = syn.wscale {
            put(&[OPT_NOP, OPT_WSCALE, 3, ws.min(MAX_WSCALE)]);
        }
    }
    if let Some((val, ecr)) = seg.timestamps {
        put(&[OPT_NOP, OPT_NOP, OPT_TIMESTAMP, 10]);
        put(&val.to_be_bytes());
        put(&ecr.to_be_bytes());
    }
    let opts_len = (n + 3) & !3;
    if opts_len > opts.len() {
        return None;
    }
    let tcp_len = 20 + opts_len + seg.payload.len();
    let total = 20 + tcp_len;
    let total16 = u16::try_from(total).ok()?;
    let out = out.get_mut(..total)?;
    out.fill(0);
    let (ip, tcp) = out.split_at_mut(20);
    ip[0] = 0x45;
    ip[2..4].copy_from_slice(&total16.to_be_bytes());
    let mark = played_ip_id(seg.tuple.client, seg.tuple.client_port);
    ip[4..6].copy_from_slice(&mark.to_be_bytes());
    ip[6] = 0x40; // Don't Fragment
    ip[8] = 64;
    ip[9] = 6;
    ip[12..16].copy_from_slice(&seg.tuple.client);
    ip[16..20].copy_from_slice(&seg.tuple.vip);
    let ip_check = csum::finish(csum::sum(ip, 0));
    ip[10..12].copy_from_slice(&ip_check.to_be_bytes());

    tcp[0..2].copy_from_slice(&seg.tuple.client_port.to_be_bytes());
    tcp[2..4].copy_from_slice(&seg.tuple.port.to_be_bytes());
    tcp[4..8].copy_from_slice(&seg.seq.to_be_bytes());
    if seg.flags & ACK != 0 {
        tcp[8..12].copy_from_slice(&seg.ack.to_be_bytes());
    }
    tcp[12] = (((20 + opts_len) / 4) as u8) << 4;
    tcp[13] = seg.flags;
    tcp[14..16].copy_from_slice(&seg.window.to_be_bytes());
    tcp[20..20 + opts_len].copy_from_slice(&opts[..opts_len]);
    tcp[20 + opts_len..].copy_from_slice(seg.payload);
    let pseudo = csum::pseudo_header(seg.tuple.client, seg.tuple.vip, 6, tcp_len as u16);
    let check = csum::finish(csum::sum(tcp, 0) + pseudo);
    tcp[16..18].copy_from_slice(&check.to_be_bytes());
    Some(total)
}

/// The IP identification of a segment the module plays from `client`,
/// port `client_port`: a fold of the two, never 0 (which some stacks give
/// every unfragmented datagram), that marks it as played ([`is_played`]).
/// The identification of an unfragmented datagram means nothing else
/// (RFC 6864), and no translation changes the client's side.
fn played_ip_id(client: [u8; 4], client_port: u16) -> u16 {
    let x = u32::from_be_bytes(client) ^ u32::from(client_port).rotate_left(16) ^ 0x7470_6c64;
    match ((x >> 16) ^ x) as u16 {
        0 => 1,
        id => id,
    }
}

/// Whether `pkt` (IPv4 from its first byte) is a TCP segment the module
/// played ([`build_segment`]), by its IP identification: what the module
/// plays must not be taken for the client's own (a lost handshake's
/// segment played again would set off another play). A client's segment
/// that bears the same mark by chance (one in 65,536: stacks count their
/// identifications up) is taken as played; its next one is not.
pub(crate) fn is_played(pkt: &[u8]) -> bool {
    let Some((t, _)) = tcp_header(pkt) else {
        return false;
    };
    let (Some(id), Some(client), Some(port)) = (
        be16(pkt, 4),
        pkt.get(12..16).and_then(|a| <[u8; 4]>::try_from(a).ok()),
        be16(pkt, t),
    ) else {
        return false;
    };
    id == played_ip_id(client, port)
}

/// The replayed bytes of an offer, reassembled from its chunks.
///
/// # Invariants
///
/// `len <= REPLAY_MAX`; bit `i` of `have` is set only once chunk `i` (bytes
/// `i * REPLAY_CHUNK ..`) has been copied into the caller's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Assembly {
    len: usize,
    have: u64,
}

const _: () = assert!(REPLAY_CHUNK.is_power_of_two());
// The chunks of the longest replay fit the bitmap.
const _: () = assert!(REPLAY_MAX.div_ceil(REPLAY_CHUNK) <= 64);

impl Assembly {
    /// An assembly of `len` bytes, none received, or `None` if too long.
    pub(crate) fn new(len: usize) -> Option<Self> {
        (len <= REPLAY_MAX).then_some(Self { len, have: 0 })
    }

    /// The total length.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn chunks(&self) -> usize {
        self.len.div_ceil(REPLAY_CHUNK)
    }

    /// Copies chunk `data` at `offset` into `buf` (at least [`Self::len`]
    /// bytes). A chunk must start on a chunk boundary and be whole (the
    /// last one may be short); anything else is refused, changing nothing.
    /// A chunk received twice is copied again (same bytes, same sender).
    pub(crate) fn add(&mut self, buf: &mut [u8], offset: usize, data: &[u8]) -> Option<()> {
        if offset & (REPLAY_CHUNK - 1) != 0 || offset >= self.len.max(1) {
            return None;
        }
        let want = (self.len - offset).min(REPLAY_CHUNK);
        if data.len() != want {
            return None;
        }
        buf.get_mut(offset..offset + want)?.copy_from_slice(data);
        self.have |= 1 << (offset / REPLAY_CHUNK);
        Some(())
    }

    /// Whether every chunk is in.
    pub(crate) fn complete(&self) -> bool {
        let n = self.chunks();
        let all = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
        self.have & all == all
    }
}

/// Where one connection's handover stands on this node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Dispatcher: the client's segments are held back (dropped; the client
    /// resends them) while its socket's state is taken and offered.
    Frozen,
    /// Dispatcher: the target is ready; the connection is being released.
    TargetReady,
    /// Dispatcher: the target refused, with this errno.
    TargetRefused(u32),
    /// Dispatcher: the connection has left; whatever this node's stack
    /// still sends on it is dropped, and `committed` says whether the
    /// target has confirmed.
    Gone {
        /// The target confirmed the commit.
        confirmed: bool,
    },
    /// Target: the offer's chunks are arriving.
    Assembling,
    /// Target: the offer is whole and checked; waiting for the commit.
    Offered,
    /// Target: the offer is whole and refused, with this errno.
    TargetRefusing(u32),
    /// Target: the SYN has been played; waiting for the stack's answer.
    SynPlayed,
    /// Target (and every later phase of a connection that came by a
    /// handover): the connection is this node's, under its translation.
    Spliced,
}

impl Phase {
    /// What the hook does with a segment from the client in this phase,
    /// for a connection under `translation` if it came by a handover.
    pub(crate) fn inbound(&self, flags: u8, translation: Option<Translation>) -> Inbound {
        match self {
            Phase::Spliced => translation.map_or(Inbound::Pass, Inbound::Translate),
            // The played SYN passes; it is the only SYN the tuple sees.
            Phase::SynPlayed if flags & (SYN | ACK) == SYN => Inbound::Pass,
            // The dispatcher keeps its socket until the target is ready, but
            // takes no more data into it: what arrives now is resent by the
            // client and reaches the new holder.
            Phase::Frozen | Phase::TargetReady | Phase::TargetRefused(_) => Inbound::Drop,
            Phase::SynPlayed => Inbound::Drop,
            // An offer alone does not make the connection ours; once gone,
            // it is not ours either (and the socket is gone too).
            Phase::Assembling | Phase::Offered | Phase::TargetRefusing(_) | Phase::Gone { .. } => {
                Inbound::Default
            }
        }
    }

    /// What the hook does with a segment this node's stack sends on the
    /// connection in this phase, under `translation` as for `inbound`. A
    /// dispatcher that holds the connection by an earlier handover keeps
    /// rewriting until it lets go.
    pub(crate) fn outbound(&self, translation: Option<Translation>) -> Outbound {
        let own = translation.map_or(Outbound::Pass, Outbound::Translate);
        match self {
            Phase::SynPlayed => Outbound::CaptureSynAck,
            Phase::Gone { .. } => Outbound::Drop,
            Phase::Spliced | Phase::Frozen | Phase::TargetReady | Phase::TargetRefused(_) => own,
            Phase::Assembling | Phase::Offered | Phase::TargetRefusing(_) => Outbound::Pass,
        }
    }
}

/// The hook's treatment of a client segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Inbound {
    /// Decide as for any connection (`balance.rs`).
    Default,
    /// Deliver unchanged.
    Pass,
    /// Deliver, rewritten.
    Translate(Translation),
    /// Drop.
    Drop,
}

/// The hook's treatment of an outgoing segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outbound {
    /// Send unchanged.
    Pass,
    /// Send, rewritten.
    Translate(Translation),
    /// The stack's answer to the played SYN: learn the translation from it,
    /// never send it.
    CaptureSynAck,
    /// Never send.
    Drop,
}

/// The client's window field as the first holder last saw it.
fn client_window_field(state: &TcpState) -> u16 {
    u16::try_from(if state.window_scaling() {
        state.client_window >> state.client_wscale.min(MAX_WSCALE)
    } else {
        state.client_window
    })
    .unwrap_or(u16::MAX)
}

/// A segment the client could have sent after the handshake: the ACK that
/// completes the handshake played to the new holder (`payload` empty), or
/// one carrying replayed bytes, `payload` being those from `offset` on.
/// It is in the client's view of both spaces: the caller sends it through
/// the same inbound translation as the client's own segments.
pub(crate) fn client_segment<'a>(
    state: &TcpState,
    tuple: Tuple,
    offset: usize,
    payload: &'a [u8],
) -> Segment<'a> {
    Segment {
        tuple,
        seq: state.client_seq.wrapping_add(offset as u32),
        ack: state.server_seq,
        flags: if payload.is_empty() { ACK } else { ACK | PSH },
        window: client_window_field(state),
        timestamps: state
            .timestamps()
            .then_some((state.ts_recent, state.server_tsval)),
        syn_options: None,
        payload,
    }
}

/// How many replayed bytes, from `played` on, may be played now to a
/// holder that acknowledges up to client sequence `ack` and offers
/// `window_bytes`: never beyond its window, which it would drop.
pub(crate) fn replay_budget(
    state: &TcpState,
    len: usize,
    played: usize,
    ack: u32,
    window_bytes: u64,
) -> usize {
    let acked = ack.wrapping_sub(state.client_seq) as usize;
    if acked > len {
        return 0;
    }
    let limit = (acked as u64).saturating_add(window_bytes).min(len as u64) as usize;
    limit.saturating_sub(played)
}

/// The SYN played to the new holder: the client's, as it would have been,
/// one before the first replayed byte.
pub(crate) fn syn_of(state: &TcpState, tuple: Tuple) -> Segment<'static> {
    Segment {
        tuple,
        seq: state.client_seq.wrapping_sub(1),
        ack: 0,
        flags: SYN,
        window: u16::try_from(state.client_window).unwrap_or(u16::MAX),
        timestamps: state.timestamps().then_some((state.ts_recent, 0)),
        syn_options: Some(SynOptions {
            mss: state.mss,
            wscale: state.window_scaling().then_some(state.client_wscale),
            sack_permitted: state.sack(),
        }),
        payload: &[],
    }
}

/// The acknowledgment number and window field of a segment, if it has an
/// ACK.
pub(crate) fn ack_and_window(pkt: &[u8]) -> Option<(u32, u16)> {
    let (t, _) = tcp_header(pkt)?;
    if *pkt.get(t + 13)? & ACK == 0 {
        return None;
    }
    Some((be32(pkt, t + 8)?, be16(pkt, t + 14)?))
}

/// What a SYN that opens a connection (no ACK) does to a connection the
/// module tracks on the same ports: whether it forgets the entry.
///
/// A SYN with the connection's own initial sequence number is that
/// connection's SYN sent again, and goes through as any segment of it. One
/// with another number opens a new connection only where the old one is
/// over: while this node's stack holds the old one live (TIME_WAIT aside,
/// where a SYN may reopen the port), the stack answers it with a challenge
/// ACK and keeps the connection (RFC 5961, section 4), so the module keeps
/// the entry and translates that answer like any other segment; a forged
/// SYN then changes nothing a plain stack would let it change.
/// `socket_live` is asked only for a SYN with another number.
pub(crate) fn syn_forgets_entry(same_isn: bool, socket_live: impl FnOnce() -> bool) -> bool {
    !same_isn && !socket_live()
}

/// Where a handed-over connection's new holder stands with what was played
/// to it: the handshake's end and the replayed bytes (the bytes the
/// dispatcher's stack had acknowledged, which the client never sends
/// again).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// The stack has every replayed byte (or the connection is over): the
    /// module has nothing more to make sure of.
    Delivered,
    /// Not yet, and not long enough since the last play to tell a loss
    /// from a segment on its way.
    Waiting,
    /// Lost: play again, the handshake's ACK too if `handshake`, the
    /// replayed bytes from `offset` on.
    PlayAgain {
        /// The stack has no full socket yet: its ACK of the handshake was
        /// dropped (a full accept queue drops it; the stack then answers
        /// the SYN again).
        handshake: bool,
        /// The first replayed byte the stack lacks.
        offset: usize,
    },
}

/// Whether the played handshake and `replay_len` replayed bytes of a
/// connection offered as `state` reached the stack, which has a full
/// socket whose next expected client sequence is `rcv_nxt` (`None`: no
/// full socket) and any socket at all (`socket`, a request socket
/// included), `since_ms` after they were last played. A stack that drops
/// them (its accept queue full, memory short) would hold the connection
/// with a hole the client never fills: it had those bytes acknowledged
/// already.
pub(crate) fn delivery(
    state: &TcpState,
    replay_len: usize,
    rcv_nxt: Option<u32>,
    socket: bool,
    since_ms: u64,
) -> Delivery {
    let got = rcv_nxt.map(|r| r.wrapping_sub(state.client_seq) as usize);
    match got {
        // Everything (an offset past the end wraps to beyond it too: a
        // connection long past its replay).
        Some(n) if n >= replay_len => Delivery::Delivered,
        // No socket at all: the connection is over (or never was); a
        // played ACK would only draw a reset to the client.
        None if !socket => Delivery::Delivered,
        _ if since_ms < PLAY_AGAIN_MS => Delivery::Waiting,
        None => Delivery::PlayAgain {
            handshake: true,
            offset: 0,
        },
        Some(n) => Delivery::PlayAgain {
            handshake: false,
            offset: n,
        },
    }
}

/// How long after a play the stack's lack of what was played is taken for
/// a loss: a played segment reaches the stack at once (it is queued to the
/// node's own receive path), so this only needs to cover the stack's
/// processing of a backlog.
pub(crate) const PLAY_AGAIN_MS: u64 = 200;

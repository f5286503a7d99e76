// SPDX-License-Identifier: GPL-2.0

//! The cluster channel: one kernel UDP socket per node, bound to the node's
//! own address, carrying heartbeats between the nodes of a cluster (and, in
//! later modes, handover and replication messages). See
//! `Documentation/wire-format.rst`.
//!
//! Every datagram is authenticated with keyed BLAKE2s under a key derived
//! from the cluster key and numbered for the receiver's replay window
//! (`membership.rs`); whatever fails either check is counted and dropped
//! before anything in it is believed.

use crate::{
    config::{Config, Ipv4, KEY_LEN},
    membership::{Membership, Recipient},
    policy::NodePolicy,
    stats::{Counter, Counters},
    sys::{clock, crypto, netdev::NetNs, udp::UdpReceiver, udp::UdpSocket},
    wire::{
        self, CatchUp, Handover, Header, Heartbeat, Mac, Message, Progress, ProgressList,
        SummaryBody, CATCHUP_MAX_LEN, HANDOVER_MAX_LEN, HEARTBEAT_MAX_LEN, MAC_LEN,
        PROGRESS_MAX_LEN, SUMMARY_DATAGRAM_LEN,
    },
};
use kernel::{init::Zeroable, prelude::*};

/// What the channel derives from the cluster key. Deriving keeps the
/// cluster key itself out of every other use (the connection hash has its
/// own derivation, `balance::derive_key`).
#[derive(Clone, Copy)]
pub(crate) struct Keys {
    /// Key of the datagram MAC.
    mac: [u8; KEY_LEN],
    /// The cluster's id in every header: datagrams of a cluster with another
    /// key are told apart before any MAC is computed.
    cluster_id: u32,
}

impl Keys {
    /// The keys of `cluster_key`: BLAKE2s under it of fixed labels.
    pub(crate) fn derive(cluster_key: &[u8; KEY_LEN]) -> Self {
        let lo = crypto::blake2s_128(cluster_key, b"tpcluster channel mac 0");
        let hi = crypto::blake2s_128(cluster_key, b"tpcluster channel mac 1");
        let id = crypto::blake2s_128(cluster_key, b"tpcluster cluster id");
        let mut mac = [0u8; KEY_LEN];
        mac[..16].copy_from_slice(&lo);
        mac[16..].copy_from_slice(&hi);
        Self {
            mac,
            cluster_id: u32::from_be_bytes([id[0], id[1], id[2], id[3]]),
        }
    }
}

impl Mac for Keys {
    fn mac(&self, data: &[u8]) -> [u8; MAC_LEN] {
        crypto::blake2s_128(&self.mac, data)
    }
}

/// The settings a channel is opened with; it is reopened when they change.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct ChannelSettings {
    id: u32,
    addr: Ipv4,
    port: u16,
    key: [u8; KEY_LEN],
}

impl ChannelSettings {
    /// The channel `config` asks for: none until the node has an id, an
    /// address, a port and a key.
    pub(crate) fn of(config: &Config) -> Option<Self> {
        let n = config.node();
        let key = n.key?;
        (n.id != 0 && n.port != 0 && n.addr.is_unicast()).then_some(Self {
            id: n.id,
            addr: n.addr,
            port: n.port,
            key,
        })
    }
}

/// The receive side's state, shared between the socket's receive path
/// (softirq) and the node's periodic work and netlink requests (process
/// context) under a bottom-half-safe lock.
pub(crate) struct Cluster {
    /// Keys of the open channel; `None` while it is closed.
    pub(crate) keys: Option<Keys>,
    /// The open channel's epoch (0: none open), which datagrams to this
    /// node must be bound to.
    pub(crate) epoch: u32,
    /// This node's id.
    pub(crate) self_id: u32,
    /// The peers and their liveness (on the heap: it is large).
    pub(crate) membership: KBox<Membership>,
}

// SAFETY: all-zero bytes are a valid, empty `Membership` (its documented
// invariant, which rests on the same invariant of `ReplayWindow`).
unsafe impl Zeroable for Membership {}

impl Cluster {
    /// No channel, no peers.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            keys: None,
            epoch: 0,
            self_id: 0,
            membership: KBox::init(kernel::init::zeroed(), GFP_KERNEL)?,
        })
    }
}

/// An open channel: its socket and its send state. Used in process context
/// only, under the node's channel mutex.
pub(crate) struct Channel {
    socket: UdpSocket,
    settings: ChannelSettings,
    keys: Keys,
    /// Counter of the next datagram; see `membership.rs` for why it starts
    /// at the real-time clock.
    next_counter: u64,
    /// This opening's incarnation: real-time seconds when it opened.
    incarnation: u32,
    /// This opening's epoch: a random number, never 0, that peers learn
    /// from its heartbeats and bind their datagrams to, so that nothing
    /// sent to an earlier opening (a recorded datagram replayed after a
    /// restart) is taken by this one.
    epoch: u32,
}

impl Channel {
    /// Opens a channel in `net` with `settings`, delivering to `receiver`.
    ///
    /// # Safety
    ///
    /// `receiver` must outlive the channel.
    pub(crate) unsafe fn open<R: UdpReceiver>(
        net: NetNs,
        settings: ChannelSettings,
        receiver: &R,
    ) -> Result<Self> {
        // SAFETY: the caller's contract.
        let socket = unsafe { UdpSocket::open(net, settings.addr, settings.port, receiver)? };
        let now = clock::real_ns();
        Ok(Self {
            socket,
            settings,
            keys: Keys::derive(&settings.key),
            next_counter: now,
            incarnation: (now / 1_000_000_000) as u32,
            epoch: crypto::random_nonzero_u32(),
        })
    }

    /// The settings it was opened with.
    pub(crate) fn settings(&self) -> ChannelSettings {
        self.settings
    }

    /// Its keys, for the receive side.
    pub(crate) fn keys(&self) -> Keys {
        self.keys
    }

    /// Its epoch, for the receive side.
    pub(crate) fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Sends one heartbeat, naming the peers this node sees live (`live`),
    /// with this node's `policy` and its view of the members' policies, to
    /// each of `peers`: one datagram each, bound to it.
    pub(crate) fn send_heartbeats(
        &mut self,
        peers: impl Iterator<Item = Recipient>,
        live: &[u32],
        (policy, policy_view): (&NodePolicy, u64),
        counters: &Counters,
    ) {
        let Some(hb) = Heartbeat::new(self.incarnation, self.epoch, self.settings.addr.0, live)
            .and_then(|hb| hb.with_policy(policy.weight(), policy.ready(), policy_view))
        else {
            return;
        };
        let mut buf = [0u8; HEARTBEAT_MAX_LEN];
        for to in peers {
            let header = self.next_header(&to);
            let Ok(len) = wire::encode_heartbeat(&mut buf, &header, &hb, &self.keys) else {
                return;
            };
            match self.socket.send(to.addr, self.settings.port, &buf[..len]) {
                Ok(()) => counters.bump(Counter::ChannelTx),
                Err(_) => counters.bump(Counter::ChannelTxErrors),
            }
        }
    }
}

/// What a received datagram asks of the node beyond what
/// [`receive`] did with it.
// A summary is ~400 bytes against a slice's 16, but there is no allocator
// to box it in softirq, and a `Received` only lives on the stack while it
// is handled.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Received<'a> {
    /// Nothing more.
    Nothing,
    /// A heartbeat whose view of the cluster disagrees with ours: the
    /// caller stops taking new connections at once (a peer not yet live
    /// that disagrees only delays, by a tick, what its coming up would stop
    /// anyway).
    Disagreement,
    /// A fresh, authentic handover message from peer `sender`.
    Handover {
        /// The sender's id.
        sender: u32,
        /// The message.
        handover: Handover<'a>,
    },
    /// A fresh, authentic progress report from peer `sender`.
    Progress {
        /// The sender's id.
        sender: u32,
        /// The report.
        list: ProgressList<'a>,
    },
    /// A fresh, authentic progress summary from peer `sender`.
    Summary {
        /// The sender's id.
        sender: u32,
        /// The summary.
        body: SummaryBody,
    },
    /// A fresh, authentic catch-up message from peer `sender`.
    CatchUp {
        /// The sender's id.
        sender: u32,
        /// The message.
        catch_up: CatchUp<'a>,
    },
}

impl Channel {
    /// The header of the next datagram, to `to`: its counter is taken.
    fn next_header(&mut self, to: &Recipient) -> Header {
        let header = Header {
            sender: self.settings.id,
            cluster: self.keys.cluster_id,
            counter: self.next_counter,
            recipient: to.id,
            epoch: to.epoch,
        };
        self.next_counter += 1;
        header
    }

    /// Encodes one datagram of at most `max_len` bytes with `encode` and
    /// sends it to `to`, counting it.
    fn send_one(
        &mut self,
        to: Recipient,
        max_len: usize,
        encode: impl FnOnce(&mut [u8], &Header, &Keys) -> Result<usize, wire::EncodeError>,
        counters: &Counters,
    ) -> Result {
        let header = self.next_header(&to);
        // On the heap: more than a kernel stack frame should hold.
        let mut buf = KVec::from_elem(0u8, max_len, GFP_KERNEL)?;
        let len = encode(&mut buf, &header, &self.keys).map_err(|_| EINVAL)?;
        let sent = self.socket.send(to.addr, self.settings.port, &buf[..len]);
        counters.bump(if sent.is_ok() {
            Counter::ChannelTx
        } else {
            Counter::ChannelTxErrors
        });
        sent
    }

    /// Sends one handover message to `to`.
    pub(crate) fn send_handover(
        &mut self,
        to: Recipient,
        h: &Handover<'_>,
        counters: &Counters,
    ) -> Result {
        let encode =
            |buf: &mut [u8], hdr: &Header, keys: &Keys| wire::encode_handover(buf, hdr, h, keys);
        self.send_one(to, HANDOVER_MAX_LEN, encode, counters)
    }

    /// Sends one progress report to `to`.
    pub(crate) fn send_progress(
        &mut self,
        to: Recipient,
        entries: &[Progress],
        counters: &Counters,
    ) -> Result {
        let encode = |buf: &mut [u8], hdr: &Header, keys: &Keys| {
            wire::encode_progress(buf, hdr, entries, keys)
        };
        self.send_one(to, PROGRESS_MAX_LEN, encode, counters)
    }

    /// Sends one catch-up message to `to`.
    pub(crate) fn send_catch_up(
        &mut self,
        to: Recipient,
        c: &CatchUp<'_>,
        counters: &Counters,
    ) -> Result {
        let encode =
            |buf: &mut [u8], hdr: &Header, keys: &Keys| wire::encode_catch_up(buf, hdr, c, keys);
        self.send_one(to, CATCHUP_MAX_LEN, encode, counters)
    }

    /// Sends one progress summary to `to`.
    pub(crate) fn send_summary(
        &mut self,
        to: Recipient,
        body: &SummaryBody,
        counters: &Counters,
    ) -> Result {
        let encode =
            |buf: &mut [u8], hdr: &Header, keys: &Keys| wire::encode_summary(buf, hdr, body, keys);
        self.send_one(to, SUMMARY_DATAGRAM_LEN, encode, counters)
    }
}

/// Takes one received datagram: authenticates it with `keys`; records a
/// fresh heartbeat of a peer, and returns a fresh handover message for the
/// caller to act on. Softirq context; the caller holds the cluster lock.
pub(crate) fn receive<'a>(
    cluster: &mut Cluster,
    from: Ipv4,
    data: &'a [u8],
    counters: &Counters,
) -> Received<'a> {
    let Some(keys) = cluster.keys else {
        counters.bump(Counter::ChannelDropUnconfigured);
        return Received::Nothing;
    };
    let datagram = match wire::decode(data, &keys, keys.cluster_id) {
        Ok(d) => d,
        Err(e) => {
            counters.bump(Counter::of_decode_error(e));
            return Received::Nothing;
        }
    };
    let header = datagram.header;
    // Bound to this node: a datagram replayed to another node, or recorded
    // before this node's channel opened, is not this one's to take.
    if header.recipient != cluster.self_id {
        counters.bump(Counter::ChannelDropWrongRecipient);
        return Received::Nothing;
    }
    // Bound to this node's current channel epoch; or to none, as a peer
    // that has not heard this node yet sends its heartbeats.
    let bound = cluster.epoch != 0 && header.epoch == cluster.epoch;
    let unbound = header.epoch == 0;
    let hb = match datagram.message {
        Message::Heartbeat(hb) => hb,
        Message::Handover(handover) => {
            return if admit(cluster, &header, from, bound, counters) {
                Received::Handover {
                    sender: header.sender,
                    handover,
                }
            } else {
                Received::Nothing
            };
        }
        Message::Progress(list) => {
            return if admit(cluster, &header, from, bound, counters) {
                Received::Progress {
                    sender: header.sender,
                    list,
                }
            } else {
                Received::Nothing
            };
        }
        Message::Summary(body) => {
            return if admit(cluster, &header, from, bound, counters) {
                Received::Summary {
                    sender: header.sender,
                    body,
                }
            } else {
                Received::Nothing
            };
        }
        Message::CatchUp(catch_up) => {
            return if admit(cluster, &header, from, bound, counters) {
                Received::CatchUp {
                    sender: header.sender,
                    catch_up,
                }
            } else {
                Received::Nothing
            };
        }
        Message::Unknown { .. } => {
            counters.bump(Counter::ChannelDropUnknownKind);
            return Received::Nothing;
        }
    };
    // Bound to an earlier epoch: recorded before this channel opened.
    if !bound && !unbound {
        counters.bump(Counter::ChannelDropStaleEpoch);
        return Received::Nothing;
    }
    // The sender names its own address under the MAC: a datagram relayed
    // from elsewhere is refused even if its source was rewritten.
    if Ipv4(hb.address()) != from {
        counters.bump(Counter::ChannelDropWrongAddress);
        return Received::Nothing;
    }
    match cluster.membership.heard(
        header.sender,
        from,
        header.counter,
        hb.incarnation(),
        hb.epoch(),
        bound,
        hb.live(),
        &NodePolicy::of_heartbeat(hb.weight(), hb.ready()),
        hb.policy_view(),
        cluster.self_id,
        clock::now_ms(),
    ) {
        // It taught the sender's epoch only.
        Ok(_) if !bound => {
            counters.bump(Counter::ChannelRxUnbound);
            Received::Nothing
        }
        Ok(true) => {
            counters.bump(Counter::ChannelRxGood);
            Received::Nothing
        }
        Ok(false) => {
            counters.bump(Counter::ChannelRxGood);
            Received::Disagreement
        }
        Err(r) => {
            counters.bump(Counter::of_refusal(r));
            Received::Nothing
        }
    }
}

/// Whether a datagram other than a heartbeat is admitted (from a
/// configured peer at its address, fresh); counted either way.
fn admit(
    cluster: &mut Cluster,
    header: &Header,
    from: Ipv4,
    bound: bool,
    counters: &Counters,
) -> bool {
    match cluster
        .membership
        .admit(header.sender, from, header.counter, bound)
    {
        Ok(()) => {
            counters.bump(Counter::ChannelRxGood);
            true
        }
        Err(r) => {
            counters.bump(Counter::of_refusal(r));
            false
        }
    }
}

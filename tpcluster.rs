// SPDX-License-Identifier: GPL-2.0

//! tpcluster: several Linux servers on one L2 segment answering as one IP
//! address, with TCP connections that can be balanced, spliced and
//! replicated between them. See `Documentation/` for the design.
//!
//! This crate root holds the module and the per-network-namespace node. Each
//! namespace is an independent node: its own configuration (set over
//! generic netlink, see `control.rs`), its cluster channel and membership
//! (`channel.rs`, `membership.rs`), its netfilter hook, which keeps the
//! packets for a VIP that are this node's and drops the others
//! (`balance.rs`), its answers to ARP for its VIPs, and its counters,
//! readable in `/proc/net/tpcluster` and over netlink.

#![recursion_limit = "256"]

use core::fmt::Write;
use core::sync::atomic::{fence, AtomicBool, Ordering};
use kernel::{c_str, init::Zeroable, new_mutex, prelude::*, sync::Mutex};

#[path = "rust/mod.rs"]
mod sys;

// Shared by every mode: the plane and its hook decisions, the cluster
// channel and membership, the control plane, the connection tables.
mod balance;
mod channel;
mod config;
mod conntable;
mod control;
mod csum;
mod fixed_vec;
mod membership;
mod packet;
mod policy;
mod ready_hold;
mod rendezvous;
mod replay;
mod sharded;
mod stats;
mod types;
/// The cells of the node's counters (`stats.rs`): per CPU.
mod counter_cells {
    pub(crate) type Cells<const N: usize> = crate::sys::percpu::PerCpuCounters<N>;
}
mod wire;

// Splice (DTS): `splice.rs` is the mode's root (its rules and the
// translation, kernel-independent); `splice/` what a node does with them.
#[path = "splice/handover.rs"]
mod handover;
mod splice;

// Replicate: `sync.rs` is the mode's root (the socket gate and byte-offset
// sync on a node); `replicate/` its rules, kernel-independent.
#[path = "replicate/catch_up.rs"]
mod catch_up;
#[path = "replicate/catch_up_work.rs"]
mod catch_up_work;
#[path = "replicate/client_acks.rs"]
mod client_acks;
#[path = "replicate/client_log.rs"]
mod client_log;
#[path = "replicate/entry.rs"]
mod entry;
#[path = "replicate/log_store.rs"]
mod log_store;
#[path = "replicate/lost_handshake.rs"]
mod lost_handshake;
#[path = "replicate/output_digest.rs"]
mod output_digest;
#[path = "replicate/replica.rs"]
mod replica;
#[path = "replicate/summary.rs"]
mod summary;
#[path = "replicate/syn_cache.rs"]
mod syn_cache;
mod sync;

use balance::{Decision, Plane, VipSet};
use channel::{Channel, ChannelSettings, Cluster, Received};
use config::{Config, Ipv4, MAX_PEERS, MAX_SERVICES};
use control::{member_state, MemberView};
use policy::{Members, NodePolicy};
use ready_hold::ReadyHold;
use stats::{Counter, Counters, Gauge, ServiceCounters};
use sys::{
    arp_tap::{ArpResponder, ArpTap},
    bindings, clock, genetlink,
    genetlink::Family,
    netdev::NetNs,
    netfilter::{Ipv4Hooks, Verdict},
    pernet::{self, PerNet},
    rcu::{RcuBox, ReadGuard, Retired},
    seq_file::SeqFile,
    skbuff::{NetDevice, SkBuff},
    sync::{new_spinlock_bh, SpinLockBh},
    ticker::{Tick, Ticker, TickerQueue},
    udp::UdpReceiver,
};

module! {
    type: TpCluster,
    name: "tpcluster",
    author: "The tpcluster developers",
    description: "Single-IP clusters of Linux servers with balanced, spliced and replicated TCP",
    license: "GPL",
}

/// The module: while loaded, every network namespace is a node.
///
/// Fields drop in declaration order: the netlink family and the ARP tap go
/// before the nodes they use, and the nodes (with their tickers) before the
/// tickers' workqueue.
struct TpCluster {
    _family: Family,
    _arp: ArpTap<Node>,
    _nodes: pernet::Registration<Node>,
    _tickers: TickerQueue,
}

impl kernel::Module for TpCluster {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        clock::set_param_defaults(
            config::DEFAULT_HEARTBEAT_MS,
            config::DEFAULT_DEAD_MS,
            config::DEFAULT_REPLICA_CONNS,
            config::DEFAULT_REPLICA_HALF_OPEN,
            config::DEFAULT_SPLICE_CONNS,
            config::DEFAULT_READY_HOLD_MS,
            config::DEFAULT_REPLICA_LOG_BYTES,
        );
        sys::sockhook::init::<Node>();
        let tickers = TickerQueue::new()?;
        let nodes = pernet::Registration::new()?;
        let arp = ArpTap::register(&nodes)?;
        let family = Family::register()?;
        pr_info!("loaded\n");
        Ok(Self {
            _family: family,
            _arp: arp,
            _nodes: nodes,
            _tickers: tickers,
        })
    }
}

impl Drop for TpCluster {
    fn drop(&mut self) {
        pr_info!("unloading\n");
    }
}

/// The timers of nodes that set none: the module parameters
/// `heartbeat_ms` and `dead_ms`, as they are now.
pub(crate) fn default_timers() -> config::Timers {
    let (heartbeat_ms, dead_ms) = clock::timer_params();
    config::Timers {
        heartbeat_ms,
        dead_ms,
    }
}

/// The node of one network namespace.
///
/// What every mode shares, and one part per mode that owns its tables,
/// locks and wait queues (`splice`, `replicate`); the work each mode runs
/// is in `runtime`, whose lock starts and stops it.
///
/// Locks are taken in this order: `config`, `runtime`, `channel`,
/// `cluster`, a shard
/// of `splice.tables`, a shard of `replicate.tables`, `replicate.gated`;
/// the packet handlers (softirq) take only the last four, and never two at
/// once (nor two shards of one table). The plane takes no lock: it is read
/// under RCU.
#[pin_data(PinnedDrop)]
struct Node {
    net: NetNs,
    counters: Counters,
    /// Per-service counters, by the services' counter slots.
    service_counters: ServiceCounters,
    /// Changed by netlink requests (process context only).
    #[pin]
    config: Mutex<Config>,
    /// The periodic work (process context only).
    #[pin]
    runtime: Mutex<Runtime>,
    /// The cluster channel, open while the configuration allows. Under a
    /// lock of its own, taken for one datagram at a time: a node's
    /// heartbeats wait behind at most one datagram of its progress reports
    /// or handovers, never a whole report of many connections, and a
    /// channel closed (to reopen it on the same port) is closed before the
    /// next opens (process context only).
    #[pin]
    channel: Mutex<Option<Channel>>,
    /// What this node's heartbeats say: sent by the periodic tick with each
    /// decision, and by a ticker of its own ([`HeartbeatTick`]) when the
    /// tick is a whole interval late. No netlink request, publication or
    /// replica work holds this lock for longer than it takes to update it,
    /// so the heartbeats go out on time while those hold the configuration
    /// (process context only).
    #[pin]
    heartbeat: Mutex<KBox<HeartbeatWord>>,
    /// Channel keys and membership: written by the channel's receive path
    /// (softirq) and the periodic work.
    #[pin]
    cluster: SpinLockBh<Cluster>,
    /// What the packet handlers (softirq) need of `config` and the
    /// membership, built anew from them on every change and published
    /// under RCU: the hooks read it without a lock ([`Node::read_plane`]);
    /// only the runtime lock's holder publishes ([`Node::install_plane`]).
    plane: RcuBox<Plane>,
    /// The plane's VIPs, readable without reading the plane.
    vips: VipSet,
    /// Splice on this node (`splice/handover.rs`): its connections in
    /// handover or handed over, under their shards' locks, and what wakes
    /// its work and requests.
    splice: handover::Splice,
    /// Replicate on this node (`sync.rs`): its replicated connections,
    /// gated listeners, wait queues and quorum.
    #[pin]
    replicate: sync::Replicate,
    /// A heartbeat disagreed since the tick last decided full membership:
    /// the tick stops new connections on the plane it installs, which the
    /// receive path's stop on the plane before it would not reach.
    disagreed: AtomicBool,
}

/// Marks the ticker that sends a node's heartbeats when its periodic tick
/// is late (see [`Node::send_heartbeats`]).
struct HeartbeatTick;

/// What a node's heartbeats say, as its last tick or publication left it.
/// On the heap: the node's initialisation already fills much of the stack
/// it runs on.
///
/// # Invariants
///
/// `n_peers <= MAX_PEERS`, `n_live <= MAX_PEERS + 1`; `timers` all zero
/// until first set (see [`HeartbeatWord::timers`]).
struct HeartbeatWord {
    /// The configured peers, `[..n_peers]`: each gets a heartbeat bound to
    /// its epoch.
    peers: [u32; MAX_PEERS],
    n_peers: usize,
    /// This node, then the peers it counts live, `[..n_live]`.
    live: [u32; MAX_PEERS + 1],
    n_live: usize,
    /// This node's policy and its view of the members' policies.
    own: NodePolicy,
    view: u64,
    /// The interval and dead timeout in force, once set.
    timers: config::Timers,
    /// When the heartbeats last went out (0: never).
    sent_ms: u64,
}

// SAFETY: all-zero bytes are a valid word with nothing to say: no peer,
// nobody live, a zeroed `NodePolicy` (weight 0, no ready service, as the
// zeroed `Membership` holds one), timers not yet set (the type's
// invariant), never sent.
unsafe impl Zeroable for HeartbeatWord {}

impl HeartbeatWord {
    /// The timers in force: the module's defaults until a publication set
    /// the configuration's.
    fn timers(&self) -> config::Timers {
        if self.timers.heartbeat_ms == 0 {
            default_timers()
        } else {
            self.timers
        }
    }

    /// Takes what `config`, the members as published (`members`), this
    /// node's policy `own` and the policy `view` say now.
    fn set(&mut self, config: &Config, members: &Members, own: &NodePolicy, view: u64) {
        let peers = config.peers().as_slice();
        let mut n = 0;
        for (slot, p) in self.peers.iter_mut().zip(peers) {
            *slot = p.id;
            n += 1;
        }
        self.n_peers = n;
        let mut n = 0;
        for (slot, m) in self.live.iter_mut().zip(members.as_slice()) {
            *slot = m.id;
            n += 1;
        }
        self.n_live = n;
        self.own = *own;
        self.view = view;
        self.timers = config.node().timers(default_timers());
    }
}

/// What runs on its own in a node.
struct Runtime {
    /// Calls [`Node::tick`] every heartbeat interval.
    ticker: Option<Ticker<Node>>,
    /// Sends the heartbeats when the tick has not for a whole interval.
    heartbeat_ticker: Option<Ticker<Node, HeartbeatTick>>,
    /// Whether the published plane lets this node take new connections.
    full_member: bool,
    /// Sends the handover replies; kicked by `handover_kick`.
    handover_work: Option<Ticker<Node, handover::Work>>,
    /// Reports and acts for replicated connections; kicked by `replica_kick`.
    replica_work: Option<Ticker<Node, sync::Work>>,
    /// The members as the last publication or tick copied them out of the
    /// membership: kept here, not on the stack (over a kilobyte).
    members: Members,
    /// The peers whose liveness a tick changed, for its announcements.
    changed: [Option<MemberView>; MAX_PEERS],
    /// The plane the last publication replaced (at first, a blank one):
    /// the next one is built in it, for a plane is too large to build on a
    /// kernel stack. Always `Some` but inside [`Node::install_plane`].
    spare_plane: Option<Retired<Plane>>,
    /// Whether an application listens for each service, debounced: a
    /// service that stopped is ready again only after the hold.
    ready_hold: ReadyHold<MAX_SERVICES>,
}

/// Sets this node's own policy `own` (and its services' affinity, from
/// `config`) in `cluster`'s membership and copies the members out into
/// `out`, under the cluster's lock; returns their policy view.
fn members_of(cluster: &mut Cluster, config: &Config, own: &NodePolicy, out: &mut Members) -> u64 {
    let id = config.node().id;
    let affinity = policy::affinity_digest(config.services().as_slice());
    cluster.membership.set_own_policy(id, own, affinity);
    out.set(cluster.membership.live_policies(id));
    cluster.membership.policy_view()
}

impl Node {
    /// Publishes `config` to the channel, the membership and the packet
    /// handlers. Fails only if the channel the configuration asks for
    /// cannot be opened; everything else is published regardless.
    fn publish(&self, config: &Config) -> Result {
        let mut runtime = self.runtime.lock();
        let opened = self.reconcile_channel(config);
        let (keys, epoch) = {
            let channel = self.channel.lock();
            let channel = channel.as_ref();
            (
                channel.map(Channel::keys),
                channel.map_or(0, Channel::epoch),
            )
        };
        let rt = &mut *runtime;
        let own = self.own_policy(config, &mut rt.ready_hold);
        let (view, full_member) = {
            let mut cluster = self.cluster.lock();
            cluster.membership.set_peers(config.peers().as_slice());
            cluster.keys = keys;
            cluster.epoch = epoch;
            cluster.self_id = config.node().id;
            let view = members_of(&mut cluster, config, &own, &mut rt.members);
            (view, cluster.membership.full_member(config.node().id))
        };
        rt.full_member = full_member;
        self.heartbeat.lock().set(config, &rt.members, &own, view);
        self.install_plane(rt, config, full_member, view);
        // A listener of a replicate service that is gone (the service, or
        // its VIP) gets TCP's proto back now.
        self.release_gated_listeners();
        self.refresh_quorum(config);
        opened
    }

    /// Calls `f` with the plane published now. Any context; no lock.
    pub(crate) fn read_plane<R>(&self, f: impl FnOnce(&Plane) -> R) -> R {
        let guard = ReadGuard::new();
        f(self.plane.get(&guard))
    }

    /// Builds the plane of `config` over the members `rt` holds in the
    /// spare and publishes it; the plane it replaces becomes the spare.
    /// Process context, under the runtime lock, which keeps publications
    /// one at a time.
    fn install_plane(&self, rt: &mut Runtime, config: &Config, full_member: bool, view: u64) {
        let Some(spare) = rt.spare_plane.take() else {
            return;
        };
        // Readers of the plane it was saw it a grace period ago at least
        // (a heartbeat interval, usually): this rarely waits.
        let mut plane = spare.reclaim();
        plane.rebuild(config, &rt.members, full_member, view);
        self.replicate
            .active
            .store(plane.replicates(), Ordering::Relaxed);
        self.vips.publish(&plane);
        rt.spare_plane = Some(self.plane.replace(plane));
        // Other nodes live or ready: connections short of replicas may
        // bring one in (catch-up); the replica work's next sweep looks.
        self.replicate.admit_due.store(true, Ordering::Relaxed);
        // A disagreement heard since the tick last cleared the flag stops
        // this plane too, until the next tick decides with every view at
        // hand. The receive path stores the flag and then stops the plane
        // it reads; with the fences, either it read this one, or this load
        // sees the flag.
        fence(Ordering::SeqCst);
        if self.disagreed.load(Ordering::SeqCst) {
            self.read_plane(Plane::stop_new_connections);
        }
    }

    /// This node's policy as `config` and its stack make it now: its
    /// weight (0 while it drains) and the services it is ready for: an
    /// application listens for them here (wildcard and dual-stack
    /// listeners included), for the hold already if it had stopped
    /// (`ready_hold.rs`), and no health check says otherwise. Process
    /// context.
    fn own_policy(&self, config: &Config, hold: &mut ReadyHold<MAX_SERVICES>) -> NodePolicy {
        let services = config.services().as_slice();
        let changes = hold.update(
            services.iter().map(|s| {
                let id = policy::service_id(s.vip.0, s.port);
                (id, sys::tcp::listening(self.net, s.vip.0, s.port))
            }),
            clock::now_ms(),
            u64::from(clock::ready_hold_ms()),
        );
        self.counters
            .add(Counter::ServiceReadyChanges, changes.into());
        let ready = services
            .iter()
            .map(|s| (s, policy::service_id(s.vip.0, s.port)))
            .filter(|(s, id)| !s.unhealthy && hold.is_ready(id))
            .map(|(_, id)| id);
        NodePolicy::new(config.node().effective_weight(), ready)
    }

    /// Whether an application listens for `service` here (as of the last
    /// heartbeat interval), and how many members take its new connections
    /// now. Process context.
    pub(crate) fn readiness(&self, service: &config::Service) -> (bool, u32) {
        let id = policy::service_id(service.vip.0, service.port);
        let ready = self.cluster.lock().membership.own_policy().is_ready(&id);
        let candidates = self.read_plane(|p| p.candidates(service.vip.0, service.port).count());
        (ready, u32::try_from(candidates).unwrap_or(u32::MAX))
    }

    /// How long, at most, a heartbeat may be late before a primary falls
    /// silent: two intervals less than the dead-node timeout, so that a
    /// primary cut off from the majority is silent before the majority
    /// declares it dead (`Documentation/replicate.rst`).
    fn fresh_ms(config: &Config) -> u32 {
        let t = config.node().timers(default_timers());
        t.dead_ms
            .saturating_sub(2 * t.heartbeat_ms)
            .max(t.heartbeat_ms)
    }

    /// Recomputes until when this node has a fresh majority.
    fn refresh_quorum(&self, config: &Config) {
        let fresh = Self::fresh_ms(config);
        self.replicate.fresh_ms.store(fresh, Ordering::Relaxed);
        let cluster = self.cluster.lock();
        let until = cluster.membership.quorum_until(cluster.self_id, fresh);
        self.replicate.quorum_until.store(until, Ordering::Relaxed);
    }

    /// Whether this node takes new connections now.
    fn is_full_member(&self) -> bool {
        self.runtime.lock().full_member
    }

    /// Sends peer `to` what `send` makes, over the channel, bound to the
    /// epoch the peer announced: `ENOENT` if it is not a peer, `ENODEV` if
    /// the channel is closed. The cluster's lock is let go of before the
    /// channel's is taken, for this one datagram. Process context.
    pub(crate) fn send_to(
        &self,
        to: u32,
        send: impl FnOnce(&mut Channel, membership::Recipient) -> Result,
    ) -> Result {
        let to = self.cluster.lock().membership.recipient(to).ok_or(ENOENT)?;
        let mut channel = self.channel.lock();
        send(channel.as_mut().ok_or(ENODEV)?, to)
    }

    /// Opens, reopens or closes the channel to match `config`.
    fn reconcile_channel(&self, config: &Config) -> Result {
        let wanted = ChannelSettings::of(config);
        let mut channel = self.channel.lock();
        if channel.as_ref().map(Channel::settings) == wanted {
            return Ok(());
        }
        // Closing waits for running receive calls; they take only the
        // cluster lock, which is not held here.
        *channel = None;
        let Some(settings) = wanted else {
            return Ok(());
        };
        // SAFETY: the channel lives in `self.channel`, which `PinnedDrop`
        // empties before the node goes.
        *channel = Some(unsafe { Channel::open(self.net, settings, self)? });
        Ok(())
    }

    /// Member `index` as `member-get` shows it: this node first, if it has
    /// an id, then its peers.
    fn member_view(&self, index: usize) -> Option<MemberView> {
        let node = *self.config.lock().node();
        let peer_index = if node.id == 0 {
            index
        } else if index == 0 {
            let cluster = self.cluster.lock();
            let own = cluster.membership.own_policy();
            return Some(MemberView {
                id: node.id,
                addr: node.addr,
                state: member_state::SELF,
                incarnation: 0,
                last_heard_ms: 0,
                weight: Some(own.weight()),
                ready_services: u32::try_from(own.ready().len()).ok(),
            });
        } else {
            index - 1
        };
        let now = clock::now_ms();
        let cluster = self.cluster.lock();
        let m = cluster.membership.members().nth(peer_index)?;
        Some(view_of(m, now))
    }
}

/// How a peer is shown at `now_ms`.
fn view_of(m: &membership::Member, now_ms: u64) -> MemberView {
    MemberView {
        id: m.id,
        addr: m.addr,
        state: if m.live {
            member_state::LIVE
        } else {
            member_state::DEAD
        },
        incarnation: m.incarnation,
        weight: m.heard.then(|| m.policy.weight()),
        ready_services: m
            .heard
            .then(|| u32::try_from(m.policy.ready().len()).ok())
            .flatten(),
        last_heard_ms: if m.heard {
            u32::try_from(now_ms.saturating_sub(m.last_heard_ms)).unwrap_or(u32::MAX)
        } else {
            u32::MAX
        },
    }
}

impl Tick for Node {
    /// Every heartbeat interval: decides liveness, publishes and announces
    /// changes, and sends this node's heartbeats.
    fn tick(&self) -> u32 {
        let config = self.config.lock();
        let timers = config.node().timers(default_timers());
        let mut runtime = self.runtime.lock();
        let rt = &mut *runtime;
        let now = clock::now_ms();
        rt.changed = [None; MAX_PEERS];
        let mut n_changed = 0;
        let own = self.own_policy(&config, &mut rt.ready_hold);
        // Cleared before the decision below, which sees every disagreement
        // recorded before it: one recorded after it stops the plane below.
        self.disagreed.store(false, Ordering::Release);
        let (view, full_member) = {
            let mut cluster = self.cluster.lock();
            let changed = &mut rt.changed;
            cluster.membership.update(now, timers.dead_ms, |m| {
                if let Some(slot) = changed.get_mut(n_changed) {
                    *slot = Some(view_of(m, now));
                    n_changed += 1;
                }
            });
            let view = members_of(&mut cluster, &config, &own, &mut rt.members);
            (view, cluster.membership.full_member(config.node().id))
        };
        // The receive path may have stopped new connections since (views
        // differed): compare with the plane, not with the last decision.
        let (published, published_view) =
            self.read_plane(|p| (p.takes_new_connections(), p.policy_view()));
        rt.full_member = full_member;
        if n_changed > 0 || full_member != published || view != published_view {
            self.install_plane(rt, &config, full_member, view);
        }
        self.refresh_quorum(&config);
        if n_changed > 0 {
            self.replicate.kick.kick();
        }
        for member in rt.changed.iter().flatten() {
            self.announce(member);
        }
        self.heartbeat.lock().set(&config, &rt.members, &own, view);
        // The word goes out with the decision that made it, as it always
        // did: a peer counted dead is said at once (a takeover waits only
        // half an interval for the word to reach a cut-off primary,
        // `sync.rs`), and a new view reaches the peers before theirs
        // could disagree with it. The heartbeat ticker sends only when
        // this tick is late (waiting for the configuration).
        self.send_heartbeats();
        timers.heartbeat_ms
    }
}

impl Tick<HeartbeatTick> for Node {
    /// Sends this node's heartbeats if the periodic tick has not for a
    /// whole interval (it waits for a netlink request, say); returns when
    /// to look again: when the interval since the last round ends.
    fn tick(&self) -> u32 {
        let wait = {
            let word = self.heartbeat.lock();
            let interval = u64::from(word.timers().heartbeat_ms);
            interval.saturating_sub(clock::now_ms().saturating_sub(word.sent_ms))
        };
        if wait == 0 {
            self.send_heartbeats()
        } else {
            // Looked at again when the interval since the last round ends.
            u32::try_from(wait).unwrap_or(u32::MAX)
        }
    }
}

impl Node {
    /// Sends this node's heartbeats, as its last tick or publication left
    /// them, to each configured peer, bound to the epoch the peer
    /// announced; returns the heartbeat interval. Takes the heartbeat's
    /// lock, then the cluster's for a moment and the channel's for the
    /// round: none that a netlink request or the replica work holds while
    /// it waits (the channel's, for one datagram at a time).
    fn send_heartbeats(&self) -> u32 {
        let mut guard = self.heartbeat.lock();
        let word = &mut **guard;
        let timers = word.timers();
        let mut recipients = [None; MAX_PEERS];
        {
            let cluster = self.cluster.lock();
            let peers = word.peers.get(..word.n_peers).unwrap_or(&[]);
            for (slot, &id) in recipients.iter_mut().zip(peers) {
                *slot = cluster.membership.recipient(id);
            }
        }
        let mut channel = self.channel.lock();
        let Some(channel) = channel.as_mut() else {
            return timers.heartbeat_ms;
        };
        let now = clock::now_ms();
        self.heartbeat_due(word.sent_ms, now, &timers);
        word.sent_ms = now;
        channel.send_heartbeats(
            recipients.iter().flatten().copied(),
            word.live.get(..word.n_live).unwrap_or(&[]),
            (&word.own, word.view),
            &self.counters,
        );
        timers.heartbeat_ms
    }
}

impl Node {
    /// The values of [`Gauge::ALL`], in that order. Process context.
    pub(crate) fn gauges(&self) -> [u64; Gauge::ALL.len()] {
        let (mut replicas, mut half_open, mut bytes) = (0, 0, 0);
        self.replicate.tables.for_each_shard(|t| {
            replicas += t.len();
            half_open += t.half_open();
            bytes += t.bytes();
        });
        let capacity = self.replicate.tables.capacity();
        let (spliced, splice_capacity, splice_bytes) = handover::usage(&self.splice.tables);
        core::array::from_fn(|i| {
            let Some(&g) = Gauge::ALL.get(i) else {
                return 0;
            };
            (match g {
                Gauge::ReplicaEntries => replicas,
                Gauge::ReplicaHalfOpen => half_open,
                Gauge::ReplicaCapacity => capacity,
                Gauge::ReplicaBytes => bytes,
                Gauge::SpliceEntries => spliced,
                Gauge::SpliceCapacity => splice_capacity,
                Gauge::SpliceBytes => splice_bytes,
            }) as u64
        })
    }
}

impl Node {
    /// Counts heartbeats that go out late, `now` against the last at
    /// `last_ms`: the machine is too busy for the timers, and the peers may
    /// count this node out (a replicated connection's backup would then take
    /// it over) though it works. Logs it when they surely did.
    fn heartbeat_due(&self, last_ms: u64, now: u64, timers: &crate::config::Timers) {
        let gap = now.saturating_sub(last_ms);
        if last_ms == 0 || gap <= u64::from(timers.dead_ms / 2) {
            return;
        }
        self.counters.bump(Counter::HeartbeatLate);
        if gap > u64::from(timers.dead_ms) {
            pr_warn!(
                "heartbeats went out {gap} ms apart (dead timeout {} ms): peers may count this node out\n",
                timers.dead_ms
            );
        }
    }

    /// Counts, logs and multicasts a peer's change of state.
    fn announce(&self, view: &MemberView) {
        let up = view.state == member_state::LIVE;
        self.counters.bump(if up {
            Counter::MemberUp
        } else {
            Counter::MemberDown
        });
        let Ipv4([a, b, c, d]) = view.addr;
        if up {
            pr_info!("node {} ({a}.{b}.{c}.{d}) is up\n", view.id);
        } else {
            pr_info!(
                "node {} ({a}.{b}.{c}.{d}) is down (silent {} ms)\n",
                view.id,
                view.last_heard_ms
            );
        }
        let _ = genetlink::notify_monitor(
            self.net.as_ptr(),
            bindings::TPCLUSTER_CMD_MEMBER_NTF as u8,
            |m| control::put_member(m, view),
        );
    }
}

impl UdpReceiver for Node {
    fn datagram_received(&self, from: Ipv4, _port: u16, data: &[u8]) {
        let received = {
            let mut cluster = self.cluster.lock();
            let received = channel::receive(&mut cluster, from, data, &self.counters);
            if matches!(received, Received::Nothing | Received::Disagreement) {
                let fresh = self.replicate.fresh_ms.load(Ordering::Relaxed);
                // Stored, not raised: a heartbeat that no longer names
                // this node takes that peer's support back at once. Under
                // the lock, as in `refresh_quorum`, so the last word stays.
                let until = cluster.membership.quorum_until(cluster.self_id, fresh);
                self.replicate.quorum_until.store(until, Ordering::Relaxed);
            }
            received
        };
        match received {
            Received::Nothing => {}
            // Views differ: stop taking new connections now rather than at
            // the next tick, which decides again with every view at hand.
            Received::Disagreement => {
                self.disagreed.store(true, Ordering::SeqCst);
                // Ordered with the publication of a plane in
                // `install_plane`, which loads the flag after it: this
                // stops the plane published then, or that one sees the
                // flag and stops itself.
                fence(Ordering::SeqCst);
                self.read_plane(Plane::stop_new_connections);
            }
            Received::Handover { sender, handover } => self.handover_received(sender, &handover),
            Received::Progress { sender, list } => self.replica_progress(sender, &list),
            Received::Summary { sender, body } => self.replica_summary(sender, &body),
            Received::CatchUp { sender, catch_up } => self.replica_catch_up(sender, &catch_up),
        }
    }
}

#[pinned_drop]
impl PinnedDrop for Node {
    fn drop(self: Pin<&mut Self>) {
        // Stop the periodic work first (waiting for a running tick, so not
        // under the runtime lock, which the tick takes), then close the
        // channel (waiting for running receive calls).
        let ticker = self.runtime.lock().ticker.take();
        drop(ticker);
        let ticker = self.runtime.lock().heartbeat_ticker.take();
        drop(ticker);
        let channel = self.channel.lock().take();
        drop(channel);
        // Nothing kicks the handover work any more: the hooks are gone
        // (unregistered before the node is dropped) and so is the channel.
        self.splice.kick.disarm();
        let work = self.runtime.lock().handover_work.take();
        drop(work);
        self.replicate.kick.disarm();
        let work = self.runtime.lock().replica_work.take();
        drop(work);
        // Listeners the gate was given get tcp_prot back; connections they
        // accepted keep it and pin the module until they are freed.
        self.replicate.gated.lock().release_all();
        // Leave the cluster MACs. When the namespace itself goes away its
        // devices are gone already, and there is nothing to leave.
        for vip in self.config.lock().vips().as_slice() {
            let _ = self.net.set_multicast(vip.ifindex, &vip.mac, false);
        }
    }
}

impl PerNet for Node {
    const PROC_NAME: &'static CStr = c_str!("tpcluster");

    fn new(net: NetNs) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            net,
            counters: Counters::new().ok_or(ENOMEM)?,
            service_counters: ServiceCounters::new().ok_or(ENOMEM)?,
            config <- new_mutex!(Config::new()),
            channel <- new_mutex!(None),
            heartbeat <- new_mutex!(KBox::init(kernel::init::zeroed(), GFP_KERNEL)?),
            runtime <- new_mutex!(Runtime {
                ticker: None,
                full_member: false,
                handover_work: None,
                replica_work: None,
                heartbeat_ticker: None,
                members: Members::new(),
                changed: [None; MAX_PEERS],
                spare_plane: Some(Retired::unpublished(KBox::new(Plane::empty(), GFP_KERNEL)?)),
                ready_hold: ReadyHold::new(),
            }),
            cluster <- new_spinlock_bh!(Cluster::new()?, "tpcluster_cluster"),
            plane: RcuBox::new(KBox::new(Plane::empty(), GFP_KERNEL)?),
            vips: VipSet::new(),
            splice: handover::Splice::new()?,
            replicate <- sync::Replicate::new(),
            disagreed: AtomicBool::new(false),
        })
    }

    fn start(&self) -> Result {
        let first_ms = default_timers().heartbeat_ms;
        // SAFETY: the node stays in its pernet slot until it is dropped, and
        // `PinnedDrop` drops the ticker first; the module drops its
        // `TickerQueue` after every node. Urgent: it sends the heartbeats.
        let ticker = unsafe { Ticker::start_urgent(self, first_ms)? };
        // SAFETY: as above.
        let heartbeat_ticker =
            unsafe { Ticker::<Node, HeartbeatTick>::start_urgent(self, first_ms)? };
        // SAFETY: as above.
        let work = unsafe { Ticker::<Node, handover::Work>::start(self, 1_000)? };
        // SAFETY: `PinnedDrop` disarms the kicker, once nothing can kick it,
        // before it drops the work.
        unsafe { self.splice.kick.arm(&work) };
        // SAFETY: as above.
        let replica_work = unsafe { Ticker::<Node, sync::Work>::start(self, 50)? };
        // SAFETY: `PinnedDrop` disarms the kicker, once nothing can kick it,
        // before it drops the work.
        unsafe { self.replicate.kick.arm(&replica_work) };
        let mut runtime = self.runtime.lock();
        runtime.ticker = Some(ticker);
        runtime.heartbeat_ticker = Some(heartbeat_ticker);
        runtime.handover_work = Some(work);
        runtime.replica_work = Some(replica_work);
        Ok(())
    }

    fn show(&self, out: &mut SeqFile) -> core::fmt::Result {
        self.counters.write(out)?;
        for (g, v) in Gauge::ALL.iter().zip(self.gauges()) {
            writeln!(out, "{} {}", g.name(), v)?;
        }
        Ok(())
    }
}

impl Ipv4Hooks for Node {
    fn pre_routing(&self, skb: &mut SkBuff) -> Verdict {
        self.timed(Counter::HookInTimedPackets, Counter::HookInTimedNs, || {
            self.inbound(skb)
        })
    }

    fn post_routing(&self, skb: &mut SkBuff) -> Verdict {
        self.timed(
            Counter::HookOutTimedPackets,
            Counter::HookOutTimedNs,
            || self.outbound(skb),
        )
    }
}

impl Node {
    /// Runs a hook, `hook`, timing it into counters `packets` and `ns` if
    /// the module parameter `hook_timing` says so (for `make bench`'s
    /// per-packet costs).
    fn timed(&self, packets: Counter, ns: Counter, hook: impl FnOnce() -> Verdict) -> Verdict {
        if !clock::hook_timing() {
            return hook();
        }
        let start = clock::now_ns();
        let verdict = hook();
        self.counters.add(ns, clock::now_ns().saturating_sub(start));
        self.counters.bump(packets);
        verdict
    }

    /// The PRE_ROUTING hook: decides what comes in for a VIP or a tracked
    /// connection.
    fn inbound(&self, skb: &mut SkBuff) -> Verdict {
        self.counters.count_hook_packet(skb.len());
        let mut headers = [0u8; packet::IPV4_TCP_HEADERS_MAX];
        let bytes = skb.head(&mut headers);
        let Some(pkt) = packet::parse_ipv4(bytes) else {
            // Not for us to judge: the stack drops malformed IPv4 itself.
            return Verdict::Accept;
        };
        // A segment of a connection a mode may track: its headers are read
        // once, here, for both modes' parts. A node that tracks nothing
        // reads nothing more.
        let tracking = !(self.replicate.tables.is_empty() && self.splice.tables.is_empty());
        if pkt.tcp.is_some() && !pkt.fragment && tracking {
            let (head, seg) = (
                handover::head_of(bytes, true),
                replica::segment_of(bytes, skb.len() as usize),
            );
            if let Some(head) = head {
                if let Some(verdict) = seg.and_then(|seg| self.replica_inbound(skb, &head, &seg)) {
                    return verdict;
                }
                match self.splice_inbound(skb, &head) {
                    handover::InboundVerdict::Default => {}
                    handover::InboundVerdict::Deliver => {
                        skb.set_pkt_type_host();
                        self.counters.count_decision(Decision::Held);
                        return Verdict::Accept;
                    }
                    handover::InboundVerdict::Drop => return Verdict::Drop,
                }
            }
        }
        // Not for a VIP (most of a node's traffic): no lock to take.
        if !self.vips.contains(pkt.daddr) {
            self.counters.count_decision(Decision::NotVip);
            return Verdict::Accept;
        }
        // Whether this node's stack takes what comes for connection `t`: it
        // holds the socket, or the segment completes a handshake it
        // answered with a SYN cookie (no node holds a socket for that one
        // yet).
        let held_here = |t: &wire::Tuple| {
            sys::tcp::socket_held(self.net, t, skb.ifindex())
                || (pkt.tcp.is_some_and(|t| t.ack)
                    && self.net.completes_cookie_handshake(skb.head(&mut headers)))
        };
        let (decision, service) = self.read_plane(|plane| {
            let decision = plane.decide(&pkt, held_here);
            let service = match (decision, pkt.tcp) {
                (Decision::NewConnection, Some(t)) => plane.service(pkt.daddr, t.dport).copied(),
                _ => None,
            };
            (decision, service)
        });
        if let Some(s) = service {
            // Every replica's listener must have the gate before its stack
            // takes the connection: without one, the SYN is dropped (the
            // client sends it again).
            if s.mode == config::Mode::Replicate {
                if !self.replica_listener(pkt.daddr, s.port) {
                    return Verdict::Drop;
                }
                self.replica_syn(skb.head(&mut headers));
            }
            self.service_counters.connection(s.slot);
        }
        if decision == Decision::NotHeld && self.replicate.active.load(Ordering::Relaxed) {
            // No socket here: perhaps a handshake this node, a replica,
            // forgot the entry of (a SYN flood), which it can play again.
            if let Some(verdict) = self.replica_recover(skb.head(&mut headers), skb.len() as usize)
            {
                return verdict;
            }
        }
        self.counters.count_decision(decision);
        match decision {
            Decision::NotVip => Verdict::Accept,
            Decision::NewConnection | Decision::Held | Decision::Owned => {
                skb.set_pkt_type_host();
                Verdict::Accept
            }
            Decision::NotOwner
            | Decision::NotMember
            | Decision::NotHeld
            | Decision::Fragment
            | Decision::Unconfigured
            | Decision::NoCandidate => Verdict::Drop,
        }
    }

    /// The POST_ROUTING hook: what this node's stack sends on tracked
    /// connections.
    fn outbound(&self, skb: &mut SkBuff) -> Verdict {
        // Replicate looks at every segment while a service replicates (its
        // SYN-ACKs make the entries) or a connection is tracked (one
        // outlives its service: the stacks' segments must still be
        // translated and the backups' kept back); splice only at those of
        // a table that has entries. Otherwise: nothing to parse.
        let replicating =
            self.replicate.active.load(Ordering::Relaxed) || !self.replicate.tables.is_empty();
        if !replicating && self.splice.tables.is_empty() {
            return Verdict::Accept;
        }
        let mut buf = [0u8; 120];
        let bytes = skb.head(&mut buf);
        let (head, seg) = (
            handover::head_of(bytes, false),
            replica::segment_of(bytes, skb.len() as usize),
        );
        let Some(head) = head else {
            return Verdict::Accept;
        };
        if replicating {
            if let Some(verdict) = seg.and_then(|seg| self.replica_outbound(skb, &head, &seg)) {
                return verdict;
            }
        }
        if self.splice_outbound(skb, &head) {
            Verdict::Accept
        } else {
            Verdict::Drop
        }
    }
}

impl ArpResponder for Node {
    fn arp_received(&self, dev: &NetDevice, arp: &[u8]) {
        let Some(request) = packet::parse_arp_request(arp) else {
            return;
        };
        let Some(mac) = self.read_plane(|p| p.vip_mac(request.target_ip, dev.ifindex())) else {
            return;
        };
        dev.send_arp_reply(
            request.target_ip,
            &mac,
            request.sender_ip,
            &request.sender_mac,
        );
        self.counters.bump(Counter::ArpReplies);
    }
}

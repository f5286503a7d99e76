// SPDX-License-Identifier: GPL-2.0

//! Restoring a replicated connection's redundancy in the module: the
//! replica work's and the channel's part of a catch-up
//! (`Documentation/replicate.rst`, *Restoring redundancy*). The rules
//! (who is brought in, how the set changes) are `Replication::admit`,
//! `adopt` and `joined`; the bookkeeping of catch-ups in flight is
//! `catch_up.rs`; the client's stream, `client_log.rs`.

use crate::{
    catch_up::{CatchUps, Ended, Leading, BURST_BYTES, MAX_LEADING},
    client_acks::ClientAcks,
    entry::Entry,
    lost_handshake::SAFE_OPTIONS,
    replica::{Replication, Role, SetChange, MAX_SET},
    splice::{self, SYN},
    stats::Counter,
    sys::{clock, tcp},
    wire::{CatchUp, CatchUpSyn, Tuple, CATCHUP_CHUNK},
    Node,
};
use core::sync::atomic::Ordering;
use kernel::prelude::*;

/// What the work does for one catch-up it leads, decided under the
/// connection's lock.
enum Step {
    /// Send the node brought in the set and the handshake (until it
    /// reports), then the client's bytes from where it reported
    /// (`data_len` of them, copied out); the other replicas the set.
    Feed {
        set: SetChange,
        syn: CatchUpSyn,
        others: [Option<u32>; MAX_SET],
        data_len: usize,
    },
    /// It caught up: the others hear the set a while longer.
    Linger {
        set: SetChange,
        others: [Option<u32>; MAX_SET],
    },
    /// The connection, or this node's primaryship of it, or the node
    /// brought in, is gone.
    End,
    /// Nothing this run: this node has no fresh majority now, or is in
    /// doubt (another may have taken over).
    Wait,
}

impl Node {
    /// On the primary of connection `e`, during the replica work's sweep
    /// under its lock: the node to bring into its set now, if one is due
    /// (the set is short of the service's R and a live node serving it is
    /// out of the set). `Err(())`: one is due but cannot be brought in yet
    /// (the log is lent to a read), and the sweep should look again.
    /// Softirq-safe (reads the plane).
    pub(crate) fn admission_due(&self, e: &Entry) -> core::result::Result<Option<u32>, ()> {
        if e.rep.role() != Role::Primary
            || e.rep.in_doubt()
            || e.acks.fin_seen()
            || e.fin_end.is_some()
            || !e.acks.handshake_done()
            || e.rep.replicas().iter().any(|r| r.joining && !r.excluded)
        {
            return Ok(None);
        }
        // Without the whole stream from its first byte nobody can be
        // brought in, now or later.
        let Some(log) = e.log.as_ref().filter(|l| l.is_lent() || l.is_whole()) else {
            return Ok(None);
        };
        let candidate = self.read_plane(|plane| {
            let r = plane.replication_factor(e.tuple.vip, e.tuple.port)? as usize;
            if !e.rep.short_of(r) {
                return None;
            }
            let mut set = [0u32; MAX_SET];
            let n = plane.replica_set(&e.tuple, &mut set);
            // Not a replica still in the set, nor one found writing other
            // bytes (it would again).
            set[..n].iter().copied().find(|&id| {
                id != plane.self_id()
                    && !e.rep.replicas().iter().any(|x| x.id == id && !x.excluded)
                    && !e.rep.found_diverged(id)
            })
        });
        let Some(id) = candidate else {
            return Ok(None);
        };
        // A read records into it right now; the next look will do. What
        // the stack received and the application has not read yet is in
        // no log, but will be once it is read: the node brought in is fed
        // it then (it joins until it has all the primary received now).
        if log.is_lent() {
            return Err(());
        }
        Ok(Some(id))
    }

    /// Begins leading the catch-ups the sweep admitted: `(tuple, joiner,
    /// client_next)` each. Process context.
    pub(crate) fn lead_catch_ups(&self, admitted: &[(Tuple, u32, u32)], now: u64) {
        if admitted.is_empty() {
            return;
        }
        for &(tuple, joiner, client_next) in admitted {
            let led = {
                let mut c = self.replicate.catch_ups.lock();
                let led = c.lead(tuple, joiner, client_next, now);
                self.replicate
                    .leading
                    .store(c.leads_any(), Ordering::Relaxed);
                led
            };
            if led {
                self.counters.bump(Counter::ReplicaCatchUps);
            } else {
                // No slot after all (the connection's last catch-up still
                // lingers): nobody would feed it.
                self.drop_joiner(&tuple, joiner);
            }
        }
    }

    /// Takes `joiner` out of the set of connection `tuple` if it is still
    /// joining: its catch-up is over without it, and the primary must not
    /// wait for it. Process context.
    fn drop_joiner(&self, tuple: &Tuple, joiner: u32) {
        let slot = {
            let mut table = self.replicate.tables.lock(tuple);
            let Some((slot, e)) = table.find_slot(tuple) else {
                return;
            };
            if !e
                .rep
                .replicas()
                .iter()
                .any(|r| r.id == joiner && r.joining && !r.excluded)
            {
                return;
            }
            e.rep.exclude(joiner);
            e.dirty = true;
            // Clamps it held may lift: the client hears at the next run.
            e.need_ack |= e.held.is_some_and(|h| e.rep.lifts(&h));
            slot
        };
        self.counters.bump(Counter::ReplicaExcluded);
        self.replicate.waits.wake(slot);
        self.replicate.kick.kick();
    }

    /// How many catch-ups this node may begin now.
    pub(crate) fn catch_up_room(&self) -> usize {
        self.replicate.catch_ups.lock().free_to_lead()
    }

    /// Takes a report of `sender` on `tuple` for the catch-ups this node
    /// leads. Softirq.
    pub(crate) fn catch_up_heard(&self, tuple: &Tuple, sender: u32, received: u32) {
        if self.replicate.leading.load(Ordering::Relaxed) {
            self.replicate
                .catch_ups
                .lock()
                .heard(tuple, sender, received);
        }
    }

    /// Runs the catch-ups this node leads: sends each node brought in the
    /// set, the client's handshake and its bytes from where it reported,
    /// and the other replicas the set; ends those done. Process context
    /// (the replica work).
    pub(crate) fn run_catch_ups(&self, now: u64) {
        if !self.replicate.leading.load(Ordering::Relaxed) {
            return;
        }
        let Ok(mut buf) = KVVec::from_elem(0u8, BURST_BYTES, GFP_KERNEL) else {
            return;
        };
        for i in 0..MAX_LEADING {
            let Some(l) = self.replicate.catch_ups.lock().led(i) else {
                continue;
            };
            let l = &l;
            let step = self.catch_up_step(l, &mut buf);
            // Whether it ends now: when it is over, or when it has lasted
            // too long, waiting included (a catch-up that cannot go on lets
            // its joiner go: nobody would feed it).
            let end = match step {
                Step::Wait => CatchUps::expired(l, now),
                Step::End => true,
                Step::Linger { set, others } => {
                    if l.caught_up_ms.is_none()
                        && self.replicate.catch_ups.lock().caught_up(&l.tuple, now)
                    {
                        self.counters.bump(Counter::ReplicaCaughtUp);
                        if crate::sys::log::ratelimited() {
                            pr_info!(
                                "{}: node {} caught up: the connection has its replicas again\n",
                                l.tuple,
                                l.joiner
                            );
                        }
                    }
                    self.send_set(&l.tuple, &set, &others);
                    CatchUps::expired(l, now)
                }
                Step::Feed {
                    set,
                    syn,
                    others,
                    data_len,
                } => {
                    self.feed(l, &set, &syn, &buf[..data_len]);
                    self.send_set(&l.tuple, &set, &others);
                    CatchUps::expired(l, now)
                }
            };
            let ended = end
                .then(|| self.replicate.catch_ups.lock().end_leading(&l.tuple))
                .flatten();
            if ended == Some(Ended::GaveUp) {
                self.counters.bump(Counter::ReplicaCatchUpAbandoned);
                self.drop_joiner(&l.tuple, l.joiner);
            }
        }
        let c = self.replicate.catch_ups.lock();
        self.replicate
            .leading
            .store(c.leads_any(), Ordering::Relaxed);
    }

    /// Decides what to send for catch-up `l`, under its connection's lock;
    /// copies the client's bytes to send into `buf`.
    fn catch_up_step(&self, l: &Leading, buf: &mut [u8]) -> Step {
        let mut table = self.replicate.tables.lock(&l.tuple);
        let Some(e) = table.find(&l.tuple) else {
            return Step::End;
        };
        if e.rep.role() != Role::Primary {
            return Step::End;
        }
        if e.rep.in_doubt() || !self.may_send() {
            return Step::Wait;
        }
        let Some(joiner) = e.rep.replicas().iter().find(|r| r.id == l.joiner) else {
            return Step::End;
        };
        if joiner.excluded {
            return Step::End;
        }
        let set = e.rep.change();
        let me = e.rep.me().id;
        let others = core::array::from_fn(|i| {
            e.rep
                .replicas()
                .get(i)
                .map(|r| r.id)
                .filter(|&id| id != me && id != l.joiner)
        });
        if !joiner.joining {
            return Step::Linger { set, others };
        }
        // A log that stopped being whole (the client sent past the bound)
        // can feed it nothing more: the primary's acknowledgment would
        // wait for it in vain (`Replication::acknowledgeable_end`).
        let Some(log) = e.log.as_ref().filter(|l| l.is_lent() || l.is_whole()) else {
            return Step::End;
        };
        let syn = CatchUpSyn {
            isn: e.client_isn(),
            options: log.syn.unwrap_or(SAFE_OPTIONS),
            tsval: e.acks.client_tsval(),
        };
        // Once its stack holds the connection (it reported), from where it
        // reported, as much as a run sends.
        let data = if l.heard {
            log.bytes_from(l.cursor, buf.len())
        } else {
            &[]
        };
        buf[..data.len()].copy_from_slice(data);
        Step::Feed {
            set,
            syn,
            others,
            data_len: data.len(),
        }
    }

    /// Sends the node brought in by catch-up `l` the set and handshake
    /// (until it reported) and `data`, the client's bytes from its cursor,
    /// a chunk a datagram.
    fn feed(&self, l: &Leading, set: &SetChange, syn: &CatchUpSyn, data: &[u8]) {
        if !l.heard {
            let c = CatchUp {
                tuple: l.tuple,
                set: Some(*set),
                syn: Some(*syn),
                data: None,
            };
            self.send_catch_up(l.joiner, &c);
        }
        let mut seq = l.cursor;
        for chunk in data.chunks(CATCHUP_CHUNK) {
            let c = CatchUp {
                tuple: l.tuple,
                set: None,
                syn: None,
                data: Some((seq, chunk)),
            };
            self.send_catch_up(l.joiner, &c);
            seq = seq.wrapping_add(chunk.len() as u32);
        }
    }

    /// Sends the set of connection `tuple` to `others`.
    fn send_set(&self, tuple: &Tuple, set: &SetChange, others: &[Option<u32>; MAX_SET]) {
        let c = CatchUp {
            tuple: *tuple,
            set: Some(*set),
            syn: None,
            data: None,
        };
        for &id in others.iter().flatten() {
            self.send_catch_up(id, &c);
        }
    }

    /// Sends replica `to` the set of connection `tuple`.
    pub(crate) fn send_catch_up_set(&self, to: u32, tuple: &Tuple, set: &SetChange) {
        let c = CatchUp {
            tuple: *tuple,
            set: Some(*set),
            syn: None,
            data: None,
        };
        self.send_catch_up(to, &c);
    }

    fn send_catch_up(&self, to: u32, c: &CatchUp<'_>) {
        let sent = self.send_to(to, |channel, to| {
            channel.send_catch_up(to, c, &self.counters)
        });
        if sent.is_ok() {
            self.counters.bump(Counter::ReplicaCatchUpTx);
        }
    }

    /// Takes catch-up message `c` from peer `sender`. On a connection this
    /// node tracks: a newer set from its primary, and client bytes to play
    /// to its stack (a replica being brought in). On one it does not: if
    /// the set makes this node a joining replica of a service it serves,
    /// the client's handshake is played to its stack, whose SYN-ACK then
    /// makes the entry (`joined_entry`). Softirq.
    pub(crate) fn replica_catch_up(&self, sender: u32, c: &CatchUp<'_>) {
        let now = clock::now_ms();
        self.counters.bump(Counter::ReplicaCatchUpRx);
        let mut table = self.replicate.tables.lock(&c.tuple);
        if let Some((slot, e)) = table.find_slot(&c.tuple) {
            let mut changed = false;
            if let Some(set) = &c.set {
                let was = e.rep.role();
                if e.rep.adopt(sender, set, now) {
                    changed = true;
                    e.dirty = true;
                    if was != Role::Fenced && e.rep.role() == Role::Fenced {
                        e.release = true;
                    }
                }
            }
            // Only the primary's bytes, and only while this node catches
            // up. Built under the lock (the client's acknowledgment and
            // timestamps as this node knows them), played after.
            let play = match c.data {
                Some((seq, bytes)) if e.rep.primary() == Some(sender) && e.rep.me().joining => {
                    let seg = e.acks.data_segment(c.tuple, seq, bytes);
                    KVVec::from_elem(0u8, splice::SEGMENT_HEADERS_MAX + bytes.len(), GFP_ATOMIC)
                        .ok()
                        .and_then(|mut p| splice::build_segment(&mut p, &seg).map(|n| (p, n)))
                }
                _ => None,
            };
            drop(table);
            if changed {
                self.replicate.waits.wake(slot);
                self.replicate.kick.kick();
            }
            if let Some((pkt, n)) = play {
                let ifindex = self.read_plane(|p| p.vip_ifindex(c.tuple.vip));
                if let Some(ifindex) = ifindex {
                    if tcp::play_ipv4(self.net, ifindex, &pkt[..n]).is_ok() {
                        self.counters.bump(Counter::ReplicaCatchUpPlayed);
                    }
                }
            }
            return;
        }
        drop(table);
        let (Some(set), Some(syn)) = (c.set, c.syn) else {
            return;
        };
        let (self_id, serves) = self.read_plane(|plane| {
            (
                plane.self_id(),
                plane.takes_new_connections()
                    && plane
                        .replication_factor(c.tuple.vip, c.tuple.port)
                        .is_some(),
            )
        });
        let ids = &set.ids[..usize::from(set.len).min(MAX_SET)];
        let joining = ids
            .iter()
            .position(|&id| id == self_id)
            .is_some_and(|i| set.joining & (1 << i) != 0 && set.excluded & (1 << i) == 0);
        // The primary is the first replica still in the set.
        let from_primary = ids
            .iter()
            .enumerate()
            .find(|(i, _)| set.excluded & (1 << i) == 0)
            .is_some_and(|(_, &id)| id == sender);
        if !joining || !serves || !from_primary {
            return;
        }
        {
            let mut catch_ups = self.replicate.catch_ups.lock();
            if !catch_ups.expect(c.tuple, set, syn, now) {
                return;
            }
            self.replicate.joins.store(true, Ordering::Relaxed);
        }
        let seg = splice::Segment {
            tuple: c.tuple,
            seq: syn.isn,
            ack: 0,
            flags: SYN,
            window: u16::MAX,
            timestamps: syn.tsval.map(|v| (v, 0)),
            syn_options: Some(syn.options),
            payload: &[],
        };
        self.replica_play(&seg, Counter::ReplicaJoinPlayed);
    }

    /// This node's stack answered, with its SYN-ACK (`own_isn`, its
    /// window `window`), a handshake a catch-up played on `tuple`: the
    /// connection's replication as the node brought in, and the acks as the
    /// client's handshake completed; `None` if no join is expected there.
    /// Softirq.
    pub(crate) fn joined_entry(
        &self,
        tuple: &Tuple,
        client_next: u32,
        server_next: u32,
        window: u16,
        self_id: u32,
        now: u64,
    ) -> Option<Replication> {
        if !self.replicate.joins.load(Ordering::Relaxed) {
            return None;
        }
        let joining = {
            let mut catch_ups = self.replicate.catch_ups.lock();
            let j = catch_ups.take_joining(tuple, client_next.wrapping_sub(1));
            self.replicate
                .joins
                .store(catch_ups.joins_any(), Ordering::Relaxed);
            j
        }?;
        let rep = Replication::joined(
            &joining.set,
            self_id,
            (client_next, server_next, window),
            now,
        );
        if rep.is_some() {
            self.counters.bump(Counter::ReplicaJoined);
        }
        rep
    }
}

/// The acknowledgments of a connection this node joins: the client has
/// completed its handshake (the primary saw it), so the played
/// acknowledgment completes it here too.
pub(crate) fn joined_acks(mut acks: ClientAcks) -> ClientAcks {
    acks.handshake_reported();
    acks
}

use crate::rendezvous::{Candidate, Key};
use crate::replica::{
    after, cluster_isn, five_tuple, replica_set, takeover_ts_delta, translation_of, window_end_of,
    AckCheck, Advert, Advertised, Ends, OwnSynAck, Replication, Role, SetChange, MAX_SET,
};
use crate::wire::Tuple;
use proptest::prelude::*;

fn tuple(port: u16) -> Tuple {
    Tuple {
        client: [10, 0, 0, 4],
        client_port: port,
        vip: [10, 0, 0, 100],
        port: 80,
    }
}

fn key() -> Key {
    Key::new(&[7; 16])
}

#[test]
fn serial_order_wraps() {
    assert!(after(1, 0));
    assert!(after(0, u32::MAX));
    assert!(!after(u32::MAX, 0));
    assert!(!after(5, 5));
}

/// The replica set of `t` among `live`, all of weight 1.
fn set_of(k: &Key, t: &Tuple, live: &[u32], r: u32, out: &mut [u32; MAX_SET]) -> usize {
    let candidates = live.iter().map(|&id| Candidate { id, weight: 1 });
    replica_set(k, &five_tuple(t), candidates, r, out)
}

#[test]
fn set_is_the_rendezvous_order_and_the_owner_first() {
    let k = key();
    for port in 1000..1100 {
        let t = tuple(port);
        let mut set = [0; MAX_SET];
        let n = set_of(&k, &t, &[1, 2, 3], 2, &mut set);
        assert_eq!(n, 2);
        assert_ne!(set[0], set[1]);
        // The same on every node whatever order it lists the members in.
        let mut other = [0; MAX_SET];
        set_of(&k, &t, &[3, 1, 2], 2, &mut other);
        assert_eq!(set[..2], other[..2]);
        // R larger than the members: all of them.
        assert_eq!(set_of(&k, &t, &[1, 2, 3], 8, &mut other), 3);
        assert_eq!(set[..2], other[..2]);
    }
}

#[test]
fn every_replica_translates_to_the_same_cluster_space() {
    let k = key();
    let t = tuple(4242);
    let a = OwnSynAck {
        isn: 1000,
        client_next: 77,
        tsval: Some(5),
        wscale: Some(7),
    };
    let b = OwnSynAck {
        isn: 0xffff_fff0,
        client_next: 77,
        tsval: Some(900_000),
        wscale: Some(7),
    };
    let (ta, tb) = (translation_of(&k, &t, &a), translation_of(&k, &t, &b));
    assert_eq!(a.isn.wrapping_add(ta.seq_delta), cluster_isn(&k, &t, 76));
    assert_eq!(b.isn.wrapping_add(tb.seq_delta), cluster_isn(&k, &t, 76));
    assert_eq!(
        5u32.wrapping_add(ta.ts_delta),
        900_000u32.wrapping_add(tb.ts_delta)
    );
    assert_ne!(cluster_isn(&k, &t, 76), cluster_isn(&k, &tuple(4243), 76));
    assert_ne!(
        cluster_isn(&k, &t, 76),
        cluster_isn(&Key::new(&[8; 16]), &t, 76)
    );
}

/// A new connection on the same ports (the client reused them, with a new
/// initial sequence number of its own) gets a new server ISN and TSval in
/// the cluster space, which every replica still derives alike (RFC 6528).
#[test]
fn a_reused_tuple_gets_new_server_numbers() {
    let k = Key::new(&[9; 16]);
    let t = tuple(4242);
    let own = |client_next: u32| OwnSynAck {
        isn: 1000,
        client_next,
        tsval: Some(5),
        wscale: None,
    };
    let (first, again) = (
        translation_of(&k, &t, &own(77)),
        translation_of(&k, &t, &own(90_077)),
    );
    assert_ne!(first.seq_delta, again.seq_delta, "server ISN");
    assert_ne!(first.ts_delta, again.ts_delta, "TSval offset");
    assert_eq!(first, translation_of(&k, &t, &own(77)), "replicas agree");
    assert_ne!(cluster_isn(&k, &t, 76), cluster_isn(&k, &t, 90_076));
}

fn conn(me: u32) -> Replication {
    Replication::new(&[2, 3, 1], me, 100, 5000, 1000, 0).unwrap()
}

#[test]
fn roles_follow_exclusion() {
    assert_eq!(conn(2).role(), Role::Primary);
    assert_eq!(conn(3).role(), Role::Backup);
    let mut c = conn(3);
    assert!(!c.exclude(1), "a backup's death changes no role here");
    assert!(
        c.exclude(2),
        "the primary's death makes the next one primary"
    );
    assert_eq!(c.role(), Role::Primary);
    assert!(!c.exclude(2), "only once");
    assert!(!c.exclude(3), "a node never excludes itself");
    c.fence();
    assert_eq!(c.role(), Role::Fenced);
    assert!(Replication::new(&[1, 2], 3, 0, 0, 0, 0).is_none());
    assert!(Replication::new(&[1, 1], 1, 0, 0, 0, 0).is_none());
}

fn ends(received: u32, sent: u32, window_end: u32) -> Ends {
    Ends {
        received,
        sent,
        window_end,
    }
}

/// The acknowledgment the primary `c` sends for its stack's `ack`.
fn clamp_ack(c: &Replication, ack: u32) -> u32 {
    c.advertise(Advert {
        ack,
        window_end: ack.wrapping_add(1 << 20),
    })
    .ack
}

#[test]
fn gates_wait_for_every_replica_left() {
    let mut c = conn(2);
    assert_eq!(c.readable_end(150), 100, "no one else has a byte yet");
    assert_eq!(c.sendable_end(), Some(5000));
    assert_eq!(clamp_ack(&c, 150), 100);
    assert!(c.heard(3, &ends(140, 5100, 2000), 0));
    assert!(c.heard(1, &ends(120, 5200, 2000), 0));
    assert!(
        !c.heard(1, &ends(110, 5150, 1900), 0),
        "progress never goes back"
    );
    assert!(c.heard(1, &ends(110, 5150, 2100), 0), "a window moves too");
    assert_eq!(c.readable_end(150), 120);
    assert_eq!(c.readable_end(110), 110);
    assert_eq!(c.sendable_end(), Some(5100));
    assert_eq!(clamp_ack(&c, 150), 120);
    assert_eq!(c.acknowledgeable_end(), Some(120));
    assert!(
        !c.heard(2, &ends(999, 9999, 9999), 0),
        "its own id is not a peer's report"
    );
    // A dead backup is no longer waited for.
    c.exclude(1);
    assert_eq!(c.readable_end(150), 140);
    assert_eq!(clamp_ack(&c, 150), 140);
    c.exclude(3);
    assert_eq!(c.sendable_end(), None);
    assert_eq!(c.acknowledgeable_end(), None);
    assert_eq!(clamp_ack(&c, 150), 150);
    assert_eq!(c.members_mask(), 0b001);
}

#[test]
fn window_ends_where_every_backup_takes_data() {
    // Set [2, 3, 1] seen from the primary 2; every replica starts with
    // the SYN-ACK's window: 100 + 1000.
    let mut c = conn(2);
    let stack = Advert {
        ack: 150,
        window_end: window_end_of(150, 20, 7),
    };
    assert_eq!(stack.window_end, 150 + 20 * 128);
    let a = c.advertise(stack);
    assert_eq!(
        a,
        Advertised {
            ack: 100,
            window_end: 1100,
            ack_held: true,
            window_held: true,
        }
    );
    assert_eq!(a.window_field(7), 7, "1000 bytes, rounded down");
    assert!(!c.lifts(&a));
    c.heard(3, &ends(150, 5000, 5000), 0);
    assert!(!c.lifts(&a), "replica 1 still holds both back");
    c.heard(1, &ends(120, 5000, 1100), 0);
    assert!(c.lifts(&a), "the acknowledgment can move");
    let a = c.advertise(stack);
    assert_eq!((a.ack, a.window_end), (120, 1100));
    c.heard(1, &ends(150, 5000, 9000), 0);
    let a = c.advertise(stack);
    assert_eq!(
        a,
        Advertised {
            ack: 150,
            window_end: stack.window_end,
            ack_held: false,
            window_held: false
        }
    );
    assert_eq!(a.window_field(7), 20);
    assert!(!c.lifts(&a), "nothing held back, nothing to lift");
    // A window that ends before the acknowledgment offers nothing.
    let shut = Advertised {
        ack: 10,
        window_end: 5,
        ack_held: false,
        window_held: true,
    };
    assert_eq!(shut.window_field(0), 0);
    assert_eq!(
        Advertised {
            ack: 0,
            window_end: 1 << 30,
            ..shut
        }
        .window_field(2),
        u16::MAX
    );
}

#[test]
fn takeover_never_sends_an_older_tsval() {
    assert_eq!(takeover_ts_delta(10, 1000, 500), 10);
    let d = takeover_ts_delta(10, 1000, 5000);
    assert_eq!(1000u32.wrapping_add(d), 5001);
    let d = takeover_ts_delta(0, u32::MAX - 1, 3);
    assert!(after((u32::MAX - 1).wrapping_add(d), 3));
}

proptest! {
    /// Whatever reports arrive, in whatever order: the primary never
    /// acknowledges past what a live backup has, and never lets its
    /// application read or write past what every live replica allows.
    #[test]
    fn clamps_hold(base in any::<u32>(),
                   reports in proptest::collection::vec((1u32..4, 0u32..100_000, 0u32..100_000, 0u32..200_000), 0..40),
                   dead in proptest::collection::vec(1u32..4, 0..3),
                   own in 0u32..100_000, ack in 0u32..100_000, window in 0u32..100_000) {
        let mut c = Replication::new(&[1, 2, 3], 1, base, base, 0, 0).unwrap();
        let mut best = [base; 4];
        let mut best_sent = [base; 4];
        let mut best_window = [base; 4];
        for (id, r, s, w) in reports {
            c.heard(id, &ends(base.wrapping_add(r), base.wrapping_add(s), base.wrapping_add(w)), 0);
            if id != 1 {
                let max = crate::replica::seq_max;
                best[id as usize] = max(best[id as usize], base.wrapping_add(r));
                best_sent[id as usize] = max(best_sent[id as usize], base.wrapping_add(s));
                best_window[id as usize] = max(best_window[id as usize], base.wrapping_add(w));
            }
        }
        for id in dead {
            c.exclude(id);
        }
        let live: Vec<u32> = c.replicas().iter().filter(|r| r.id != 1 && !r.excluded).map(|r| r.id).collect();
        let ack = base.wrapping_add(ack);
        let stack = Advert { ack, window_end: ack.wrapping_add(window) };
        let told = c.advertise(stack);
        let clamped = told.ack;
        prop_assert!(!after(clamped, ack));
        prop_assert!(!after(told.window_end, stack.window_end));
        prop_assert_eq!(told.ack_held, clamped != ack);
        prop_assert!(!c.lifts(&told), "nothing moved since");
        let own = base.wrapping_add(own);
        let readable = c.readable_end(own);
        prop_assert!(!after(readable, own));
        for id in &live {
            prop_assert!(!after(clamped, best[*id as usize]));
            prop_assert!(!after(told.window_end, best_window[*id as usize]));
            prop_assert!(!after(readable, best[*id as usize]));
            if let Some(end) = c.sendable_end() {
                prop_assert!(!after(end, best_sent[*id as usize]));
            }
        }
        if live.is_empty() {
            prop_assert_eq!(told, Advertised { ack, window_end: stack.window_end, ack_held: false, window_held: false });
            prop_assert_eq!(c.sendable_end(), None);
        }
    }
}

#[test]
fn segment_fields_and_ack_rewrite() {
    use crate::splice::{build_segment, Checksum, Segment as Played, ACK, PSH};
    let t = tuple(5000);
    let payload = [9u8; 100];
    let seg = Played {
        tuple: t,
        seq: u32::MAX - 10,
        ack: 777,
        flags: ACK | PSH | crate::replica::FIN,
        window: 300,
        timestamps: Some((11, 22)),
        syn_options: None,
        payload: &payload,
    };
    let mut buf = [0u8; 400];
    let n = build_segment(&mut buf, &seg).unwrap();
    let s = crate::replica::segment_of(&buf[..n], n).unwrap();
    assert_eq!(s.seq, u32::MAX - 10);
    assert_eq!(s.end, (u32::MAX - 10).wrapping_add(101));
    assert_eq!(s.ack, Some(777));
    assert_eq!(s.window, 300);
    assert_eq!(s.timestamps, Some((11, 22)));
    crate::replica::set_ack(&mut buf[..n], 700, Some(301), Checksum::Full).unwrap();
    let s = crate::replica::segment_of(&buf[..n], n).unwrap();
    assert_eq!((s.ack, s.window), (Some(700), 301));
    // The checksum still verifies: rebuild with the new values and compare.
    let mut again = [0u8; 400];
    let m = build_segment(
        &mut again,
        &Played {
            ack: 700,
            window: 301,
            ..seg
        },
    )
    .unwrap();
    assert_eq!(buf[..n], again[..m]);
}

/// A FIN kept from the client (`Clamp::withhold_fin`): the flag goes, the
/// bytes stay, and the checksum is what a segment built without it has.
#[test]
fn a_withheld_fin_leaves_as_its_bytes_alone() {
    use crate::replica::FIN;
    use crate::splice::{build_segment, Checksum, Segment as Played, ACK, PSH};
    let payload = [7u8; 33];
    let seg = Played {
        tuple: tuple(5001),
        seq: 4_000,
        ack: 900,
        flags: ACK | PSH | FIN,
        window: 300,
        timestamps: Some((11, 22)),
        syn_options: None,
        payload: &payload,
    };
    let mut buf = [0u8; 400];
    let n = build_segment(&mut buf, &seg).unwrap();
    crate::replica::clear_fin(&mut buf[..n], Checksum::Full).unwrap();
    let s = crate::replica::segment_of(&buf[..n], n).unwrap();
    assert_eq!(s.flags & FIN, 0);
    assert_eq!((s.seq, s.end), (4_000, 4_033), "the bytes, not the FIN");
    let mut without = [0u8; 400];
    let m = build_segment(
        &mut without,
        &Played {
            flags: ACK | PSH,
            ..seg
        },
    )
    .unwrap();
    assert_eq!(buf[..n], without[..m]);
    // A segment too short for a TCP header is left alone.
    assert!(crate::replica::clear_fin(&mut buf[..30], Checksum::Full).is_none());
}

#[test]
fn exclusions_spread_and_only_the_primary_drops_the_silent() {
    let mut c = conn(1); // set [2, 3, 1]: node 1 is the second backup
    assert_eq!(c.members_mask(), 0b111);
    assert!(!c.take_view(3, 0b111));
    assert_eq!(c.members_mask(), 0b111);
    assert!(!c.take_view(2, 0b101), "3 out");
    assert_eq!(c.members_mask(), 0b101);
    assert_eq!(c.role(), Role::Backup);
    assert!(!c.take_view(2, 0b001));
    assert_eq!(c.role(), Role::Fenced, "counted out: can never take over");
    // Silence: only the primary drops a silent backup.
    let mut p = Replication::new(&[2, 3, 1], 2, 0, 0, 0, 1000).unwrap();
    let mut b = Replication::new(&[2, 3, 1], 3, 0, 0, 0, 1000).unwrap();
    assert_eq!(b.exclude_silent(10_000, 500), 0);
    p.heard(3, &ends(5, 5, 5), 1800);
    assert_eq!(p.exclude_silent(2000, 500), 1, "1 never reported");
    assert_eq!(p.members_mask(), 0b011);
    assert_eq!(p.exclude_silent(2200, 500), 0);
    // A handshake completed late: the silence before it does not count.
    let mut p = Replication::new(&[2, 3, 1], 2, 0, 0, 0, 1000).unwrap();
    p.grace(9000);
    assert_eq!(p.exclude_silent(9400, 500), 0);
    assert_eq!(p.exclude_silent(9600, 500), 2, "silent since the grace");
}

/// A primary that went without a fresh majority sends nothing until every
/// other replica still in the set has said it still counts it; one that
/// counted it out fences it, whoever it is; exclusions spread from any
/// replica.
#[test]
fn doubt_ends_when_every_backup_vouches() {
    let mut p = conn(2); // set [2, 3, 1]: 2 is primary
    p.doubt();
    assert!(p.in_doubt());
    assert_eq!(p.role(), Role::Primary);
    assert!(!p.take_view(9, 0b111), "no replica: no word");
    assert!(!p.take_view(1, 0b111));
    assert!(!p.settle_doubt(), "3 has not vouched yet");
    assert!(p.in_doubt());
    assert!(!p.take_view(3, 0b111));
    assert!(p.settle_doubt(), "1 and 3 still count 2");
    assert!(!p.in_doubt());
    // A new doubt needs new words: the old ones do not count.
    p.doubt();
    assert!(!p.settle_doubt());
    // A replica excluded by another's word (declared dead by a majority)
    // is no longer waited for.
    assert!(!p.take_view(3, 0b011), "3 counts 1 out");
    assert_eq!(p.members_mask(), 0b011);
    assert!(p.settle_doubt(), "3 vouched, 1 is out");
    // Silence is no exclusion while in doubt.
    p.doubt();
    assert_eq!(p.exclude_silent(1_000_000, 10), 0);
    // Counted out by a backup (it declared 2 dead with a majority and
    // took over): fenced for good.
    assert!(!p.take_view(3, 0b010));
    assert_eq!(p.role(), Role::Fenced);
    p.doubt();
    // Alone in the set: nobody is left to vouch, and nobody to have taken
    // over (whoever was excluded was dead by a majority).
    let mut q = conn(2);
    q.exclude(3);
    q.exclude(1);
    q.doubt();
    assert!(q.settle_doubt());
    // Reports go to excluded replicas too.
    assert_eq!(q.report_to().collect::<Vec<_>>(), [3, 1]);
    assert_eq!(q.members_mask(), 0b001);
    // A backup follows a backup's exclusions: 3 learns from 1 that 2 is
    // out and becomes primary.
    let mut b = conn(3);
    assert!(b.take_view(1, 0b110));
    assert_eq!(b.role(), Role::Primary);
}

/// A draining primary hands the connection to the next replica: its report
/// makes that one primary at once, and the new primary's report, which no
/// longer counts it, fences it.
#[test]
fn a_draining_primary_steps_down_to_the_next_replica() {
    let mut p = conn(2); // set [2, 3, 1]: 2 is primary
    assert!(
        !p.step_down(10, 1000),
        "3 never reported: it may not hold the connection"
    );
    p.heard(1, &ends(100, 5000, 1100), 10);
    assert!(
        !p.step_down(10, 1000),
        "only the next replica's word counts"
    );
    p.heard(3, &ends(100, 5000, 1100), 20);
    assert!(!p.step_down(1100, 1000), "3 silent for too long");
    assert!(p.step_down(1000, 1000));
    assert_eq!(p.role(), Role::Backup, "silent from now on");
    assert!(p.stepped_down());
    assert_eq!(p.primary(), Some(3));
    assert_eq!(p.members_mask(), 0b110, "its report counts itself out");
    assert!(!p.step_down(1000, 1000), "only once, and only a primary");
    // Every backup follows the primary's own word: the next one takes over
    // without waiting for a death to be declared.
    let mut next = conn(3);
    assert!(next.take_view(2, p.members_mask()));
    assert_eq!(next.role(), Role::Primary);
    let mut other = conn(1);
    assert!(!other.take_view(2, p.members_mask()));
    assert_eq!(other.role(), Role::Backup);
    assert_eq!(other.primary(), Some(3));
    // A report from before the switchover changes nothing, the heir's
    // included.
    assert!(!p.take_view(1, 0b111));
    assert!(!p.take_view(3, 0b111));
    assert!(p.stepped_down());
    assert_eq!(p.role(), Role::Backup);
    // The new primary's report no longer counts it: it lets go.
    assert!(!p.take_view(3, next.members_mask()));
    assert_eq!(p.role(), Role::Fenced);
    assert!(!p.stepped_down());
    // Refused: a backup; a primary in doubt (another may have taken over
    // already); the last replica left (nobody to take it).
    let heard = |mut c: Replication| {
        for id in [1, 2, 3] {
            c.heard(id, &ends(100, 5000, 1100), 0);
        }
        c
    };
    assert!(!heard(conn(3)).step_down(0, 1000));
    let mut d = heard(conn(2));
    d.doubt();
    assert!(!d.step_down(0, 1000));
    let mut alone = heard(conn(2));
    alone.exclude(3);
    alone.exclude(1);
    assert!(!alone.step_down(0, 1000));
    assert_eq!(alone.role(), Role::Primary);
    // The heir is the next replica left: 3 dead, 1 takes over.
    let mut skip = heard(conn(2));
    skip.exclude(3);
    assert!(skip.step_down(0, 1000));
    assert_eq!(skip.primary(), Some(1));
    // A third replica that learns of the step-down from the heir first
    // follows it, and fences the old primary with its own report.
    let mut p = heard(conn(2));
    assert!(p.step_down(0, 1000));
    let mut heir = conn(3);
    assert!(heir.take_view(2, p.members_mask()));
    let mut third = conn(1);
    assert!(!third.take_view(3, heir.members_mask()));
    assert_eq!(third.primary(), Some(3));
    assert!(!p.take_view(1, third.members_mask()));
    assert_eq!(p.role(), Role::Fenced);
    // Whoever was left to take over died before it did: nobody will, and
    // the node that stepped down lets the connection go.
    let mut w = heard(conn(2));
    assert!(w.step_down(0, 1000));
    w.exclude(3);
    assert!(w.stepped_down(), "1 is still there to take over");
    w.exclude(1);
    assert_eq!(w.role(), Role::Fenced);
}

/// RFC 5961, section 5.2: the client acknowledges only what the primary
/// sent, and the primary writes only what every backup has sent.
#[test]
fn a_backup_takes_only_acknowledgments_some_replica_could_have_earned() {
    // conn(3) is a backup of [2, 3, 1]; every replica starts at 5000.
    let mut c = conn(3);
    assert_eq!(c.check_ack(5000), AckCheck::Accept, "the SYN-ACK's");
    assert_eq!(
        c.check_ack(5001),
        AckCheck::Clamp(5000),
        "one beyond: the primary's FIN"
    );
    assert_eq!(c.check_ack(5002), AckCheck::Drop, "never sent by anyone");
    assert_eq!(c.check_ack(5000 + (1 << 30)), AckCheck::Drop);
    // Too old is for the stack to judge (it knows its window).
    assert_eq!(c.check_ack(4000), AckCheck::Accept);
    // Its own stack sent up to 9000: all of it acceptable unchanged.
    c.advance_own(None, Some(9000), None);
    assert_eq!(c.check_ack(9000), AckCheck::Accept);
    assert_eq!(c.check_ack(9001), AckCheck::Clamp(9000));
    assert_eq!(c.check_ack(9002), AckCheck::Drop);
    // The primary reports it sent further (it took over ahead of this
    // backup): the client may acknowledge that, seen here only up to what
    // this stack sent.
    c.heard(2, &ends(100, 20_000, 1100), 1);
    assert_eq!(c.check_ack(20_000), AckCheck::Clamp(9000));
    assert_eq!(
        c.check_ack(20_001),
        AckCheck::Drop,
        "what it reports sent counts its FIN"
    );
    // An excluded replica's word no longer counts.
    c.exclude(2);
    c.exclude(1);
    assert_eq!(c.role(), Role::Primary);
    assert_eq!(
        c.check_ack(9001),
        AckCheck::Unsent,
        "its own stack is the bound"
    );
}

#[test]
fn a_primary_hands_its_stack_every_acknowledgment_but_learns_only_from_sent_ones() {
    let mut c = conn(2);
    c.heard(3, &ends(100, 30_000, 1100), 1);
    c.advance_own(None, Some(7000), None);
    assert_eq!(c.check_ack(7000), AckCheck::Accept);
    assert_eq!(
        c.check_ack(7001),
        AckCheck::Unsent,
        "backups ahead do not make the primary's stack take it"
    );
    assert_eq!(c.check_ack(3000), AckCheck::Accept);
}

proptest! {
    /// Whatever the offsets, what a backup passes on unchanged is within
    /// what its stack sent, and nothing beyond what some replica still in
    /// the set sent (plus the FIN) is taken at all.
    #[test]
    fn backup_ack_bounds_hold(base in any::<u32>(), own in 0u32..1 << 20, other in 0u32..1 << 20,
                              third in 0u32..1 << 20, ack in 0u32..1 << 22) {
        let mut c = Replication::new(&[2, 3, 1], 3, 100, base, 1000, 0).unwrap();
        c.advance_own(None, Some(base.wrapping_add(own)), None);
        c.heard(2, &ends(100, base.wrapping_add(other), 1100), 1);
        c.heard(1, &ends(100, base.wrapping_add(third), 1100), 1);
        let bound = own.max(other).max(third).max(own + 1);
        let got = c.check_ack(base.wrapping_add(ack));
        match got {
            AckCheck::Accept => prop_assert!(ack <= own),
            AckCheck::Clamp(to) => {
                prop_assert_eq!(to, base.wrapping_add(own));
                prop_assert!(ack > own && ack <= bound);
            }
            AckCheck::Drop => prop_assert!(ack > bound),
            AckCheck::Unsent => prop_assert!(false, "a backup"),
        }
    }
}

/// The primary checks every backup's output, a backup only the primary's;
/// a backup that differs leaves the set, from the primary's side or its
/// own, and can no longer take over.
#[test]
fn a_replica_whose_output_differs_leaves_the_set() {
    let ids = [1, 2, 3];
    let mut primary = Replication::new(&ids, 1, 100, 5000, 1000, 0).unwrap();
    assert_eq!(primary.output_checked(2), Some(1));
    assert_eq!(primary.output_checked(3), Some(2));
    assert_eq!(primary.output_checked(1), None);
    assert!(primary.diverged(1));
    assert_eq!(primary.role(), Role::Primary);
    assert_eq!(primary.members_mask(), 0b101);
    assert_eq!(primary.output_checked(2), None);
    assert!(!primary.diverged(1), "already out");

    let mut backup = Replication::new(&ids, 2, 100, 5000, 1000, 0).unwrap();
    assert_eq!(backup.output_checked(1), Some(0));
    assert_eq!(
        backup.output_checked(3),
        None,
        "a backup checks only the primary"
    );
    assert!(!backup.diverged(2));
    assert!(backup.diverged(0));
    assert_eq!(backup.output_checked(1), None, "found once");
    assert!(!backup.diverged(0));
    // Out of its own set, still silent; the primary follows its report,
    // and the primary's answer fences it.
    assert_eq!(backup.members_mask(), 0b101);
    assert_eq!(backup.role(), Role::Backup);
    primary.take_view(2, backup.members_mask());
    assert_eq!(primary.members_mask(), 0b101);
    backup.take_view(1, primary.members_mask());
    assert_eq!(backup.role(), Role::Fenced);

    // A primary in doubt drops nobody: another may have taken over.
    let mut doubting = Replication::new(&ids, 1, 100, 5000, 1000, 0).unwrap();
    doubting.doubt();
    assert_eq!(doubting.output_checked(2), None);
    assert!(!doubting.diverged(1));

    // A backup that took itself out never takes over: with the primary
    // dead and nobody else left, it is fenced.
    let mut pair = Replication::new(&[1, 2], 2, 100, 5000, 1000, 0).unwrap();
    assert!(pair.diverged(0));
    assert!(!pair.exclude(1));
    assert_eq!(pair.role(), Role::Fenced);
    // With another backup left, that one is the primary, not this node.
    let mut three = Replication::new(&ids, 2, 100, 5000, 1000, 0).unwrap();
    assert!(three.diverged(0));
    assert!(!three.exclude(1));
    assert_eq!(three.primary(), Some(3));
    assert_eq!(three.role(), Role::Backup);
}

#[test]
fn wrapped_times_compare_across_the_wrap() {
    use crate::replica::Wrapped;
    let near = (1u64 << 32) - 10;
    let t = Wrapped::of(near);
    assert_eq!(t.before(near + 30), 30);
    assert_eq!(t.before(near), 0);
    // A time taken just before one stored meanwhile is not "long ago".
    assert_eq!(Wrapped::of(near + 5).before(near), 0);
    assert_eq!(t.latest(near + 30), Wrapped::of(near + 30));
    assert_eq!(t.latest(near - 3), t);
}

#[test]
fn a_connection_is_left_to_summaries_only_once_every_word_is_out() {
    let all = |_: u32| true;
    // Set [2, 3, 1] seen from the primary 2; everyone at the start.
    let mut c = conn(2);
    assert!(c.summarisable(all, all));
    assert!(
        !c.summarisable(|id| id != 3, all),
        "a replica on a node that sends no summaries is reported to"
    );
    // This node's output ahead of the others': its checkpoint is for them
    // to take, and only reports carry it.
    c.advance_own(None, Some(6000), None);
    assert!(!c.summarisable(all, all));
    c.heard(3, &ends(100, 6000, 1100), 0);
    assert!(!c.summarisable(all, all), "node 1 has not sent as far");
    c.heard(1, &ends(100, 6000, 1100), 0);
    assert!(c.summarisable(all, all));
    // Out of the set: on a live node that sends no summaries, it learns
    // that from reports alone; gone, nobody need tell it.
    c.exclude(1);
    assert!(!c.summarisable(|id| id != 1, all));
    assert!(c.summarisable(|id| id != 1, |id| id != 1));
    assert!(c.summarisable(all, all));
    // Out of the set, it is out of the summaries' sums.
    assert_eq!(c.heard_from(1), None);
    assert_eq!(c.heard_from(3), Some(ends(100, 6000, 1100)));
    // A primary in doubt reports on: its backups answer, and so vouch.
    c.doubt();
    assert!(!c.summarisable(all, all));
}

#[test]
fn a_first_report_replaces_the_guessed_window() {
    // Every replica starts with this node's SYN-ACK window: 100 + 1000.
    let mut c = conn(2);
    assert_eq!(c.heard_from(3), None, "nothing heard yet");
    c.heard(3, &ends(100, 5000, 1050), 0);
    assert_eq!(c.heard_from(3), Some(ends(100, 5000, 1050)));
    // Later words only move forward.
    c.heard(3, &ends(100, 5000, 1040), 0);
    assert_eq!(c.heard_from(3), Some(ends(100, 5000, 1050)));
    c.heard(3, &ends(120, 5000, 1200), 0);
    assert_eq!(c.heard_from(3), Some(ends(120, 5000, 1200)));
}

/// Catch-up (issue: restoring redundancy): node 2 is primary of [2, 3, 1];
/// 3 died; 4 is brought in.
fn short_by_one() -> Replication {
    let mut c = conn(2);
    c.heard(3, &ends(140, 5100, 2000), 0);
    c.heard(1, &ends(150, 5200, 2100), 0);
    c.advance_own(Some(160), Some(5100), Some(2200));
    c.exclude(3);
    c
}

#[test]
fn a_replica_brought_in_joins_last_and_the_primary_acknowledges_what_its_log_holds() {
    let mut c = short_by_one();
    assert!(c.short_of(3));
    assert!(c.logged(160), "the application read all it received");
    let before = (
        c.readable_end(160),
        c.acknowledgeable_end(),
        c.sendable_end(),
    );
    let change = c.admit(4, 10).expect("the primary brings a live node in");
    assert_eq!(change.gen, 1);
    assert_eq!(
        &change.ids[..usize::from(change.len)],
        &[2, 1, 4, 3],
        "kept, joiner, out"
    );
    assert_eq!((change.excluded, change.joining), (0b1000, 0b0100));
    assert_eq!(change.floors, ends(160, 5100, 2200), "where the primary is");
    assert!(!c.short_of(3));
    assert_eq!(c.role(), Role::Primary);
    // Nothing the client was told moves back, and the primary's writes do
    // not wait for the joiner's output to catch up...
    assert_eq!(
        (
            c.readable_end(160),
            c.acknowledgeable_end(),
            c.sendable_end()
        ),
        before
    );
    assert_eq!(c.acknowledgeable_end(), Some(150));
    // ...nor does what the client sends from now on: the primary reads
    // past the joiner, which is fed what it read, and acknowledges as far
    // as its log holds (the other backup permitting).
    c.heard(1, &ends(170, 5300, 2300), 20);
    assert_eq!(c.readable_end(180), 170, "the reads wait for 1 only");
    assert_eq!(
        c.acknowledgeable_end(),
        Some(160),
        "no further than the log holds"
    );
    let held = c.advertise(Advert {
        ack: 180,
        window_end: 2400,
    });
    assert!(held.ack_held);
    assert_eq!(
        held.window_end, 2300,
        "the window is 1's: the joiner has none"
    );
    assert!(c.logged(175));
    assert!(!c.logged(170), "the log only grows");
    assert!(c.lifts(&held), "the client may hear of it now");
    assert_eq!(c.acknowledgeable_end(), Some(170), "1 holds it now");
    // Its reports below the floors (it is replaying the stream) change
    // nothing; nor do ones past the floors but short of the log's end:
    // the client may have been told of bytes it lacks still.
    assert!(!c.heard(4, &ends(120, 5050, 2000), 30));
    assert_eq!(c.sendable_end(), Some(5300));
    c.heard(4, &ends(165, 5100, 2400), 40);
    assert_eq!(c.sendable_end(), Some(5300), "still joining");
    assert_eq!(c.members_mask(), (1 << 8) | (1 << 18) | 0b0111);
    // One that reaches the log's end makes it a full replica.
    assert!(c.heard(4, &ends(175, 5100, 2500), 50));
    assert_eq!(
        c.sendable_end(),
        Some(5100),
        "now the writes wait for it too"
    );
    assert_eq!(c.acknowledgeable_end(), Some(170));
    assert_eq!(c.readable_end(180), 170);
    // The new set's views carry the generation (and no one joining now).
    assert_eq!(c.members_mask(), (1 << 8) | 0b0111);
}

/// A primary in doubt waits for the word of every backup still in the
/// set, but not of a replica still joining: that one never takes over, and
/// one whose stack does not hold the connection yet cannot give it.
#[test]
fn a_doubt_ends_without_the_word_of_a_replica_still_joining() {
    let mut c = short_by_one();
    c.admit(4, 10).expect("brought in");
    c.doubt();
    assert!(!c.settle_doubt(), "1 has not vouched yet");
    assert!(!c.take_view(1, c.members_mask()));
    assert!(c.settle_doubt(), "1 vouched; 4 is joining");
    assert!(!c.in_doubt());
}

#[test]
fn only_a_primary_not_in_doubt_brings_in_and_only_a_node_not_in_the_set() {
    let mut c = short_by_one();
    assert!(c.admit(1, 0).is_none(), "a replica still in the set");
    assert!(conn(3).admit(4, 0).is_none(), "a backup");
    let mut doubting = short_by_one();
    doubting.doubt();
    assert!(doubting.admit(4, 0).is_none(), "a primary in doubt");
    // The node that died, back again, may be brought in.
    let change = c.admit(3, 0).expect("its old place was out");
    assert_eq!(&change.ids[..usize::from(change.len)], &[2, 1, 3]);
    assert_eq!(change.joining, 0b100);
    // A full set has no room.
    let mut full = Replication::new(&[1, 2, 3, 4], 1, 100, 5000, 1000, 0).unwrap();
    assert!(!full.short_of(4));
    assert!(full.admit(5, 0).is_none());
}

#[test]
fn the_others_take_the_primarys_set_change_once() {
    let mut primary = short_by_one();
    let mut backup = conn(1);
    backup.heard(2, &ends(160, 5100, 2200), 0);
    backup.exclude(3);
    let change = primary.admit(4, 10).unwrap();
    // A view of the new set means nothing before the change.
    assert!(!backup.take_view(2, primary.members_mask()));
    assert!(!backup.adopt(3, &change, 11), "only from the primary");
    assert!(backup.adopt(2, &change, 11));
    assert!(!backup.adopt(2, &change, 12), "once: not newer");
    assert_eq!(backup.role(), Role::Backup);
    assert_eq!(backup.members_mask(), primary.members_mask());
    let ids: Vec<u32> = backup.replicas().iter().map(|r| r.id).collect();
    assert_eq!(ids, [2, 1, 4, 3]);
    assert_eq!(
        backup.replicas()[0].received,
        160,
        "the primary's progress kept"
    );
    assert!(backup.replicas()[2].joining);
    // Views of the old generation are no longer taken: a stale one that
    // left out index 2 (then node 1's own place) fences nobody.
    assert!(!backup.take_view(2, 0b001));
    assert_eq!(backup.role(), Role::Backup);
    assert!(!backup.take_view(2, primary.members_mask()));
    // A change that leaves a replica out fences it.
    let mut left_out = conn(3);
    let mut gone = change;
    gone.gen = 2;
    assert!(left_out.adopt(2, &gone, 12));
    assert_eq!(left_out.role(), Role::Fenced);
}

#[test]
fn a_primary_cut_off_while_another_changed_the_set_learns_it_is_out_from_the_new_set() {
    // 2 was primary, was cut off, and 3 took over and brought 4 in: 2 still
    // believes itself primary, and the new set's views name other places.
    let mut old = conn(2);
    let mut new = conn(3);
    assert!(new.exclude(2), "3 takes over");
    let change = new.admit(4, 10).unwrap();
    assert_eq!(old.role(), Role::Primary);
    assert!(
        !old.take_view(3, new.members_mask()),
        "another generation's view"
    );
    assert_eq!(old.role(), Role::Primary);
    // From a node not in its set, nothing.
    assert!(!old.adopt(9, &change, 11));
    assert_eq!(old.role(), Role::Primary);
    // From a replica of its set, the set that counts it out fences it,
    // though that replica is not its primary.
    assert!(old.adopt(3, &change, 11));
    assert_eq!(old.role(), Role::Fenced);
    // An older set that counts a node out does not fence it: it was
    // brought in since.
    let mut stale = change;
    stale.gen = 0;
    stale.excluded |= 1 << 2;
    let mut n = Replication::joined(&change, 4, (100, 5000, 1000), 12).unwrap();
    assert!(!n.adopt(3, &stale, 13));
    assert_eq!(n.role(), Role::Backup);
}

#[test]
fn a_backup_takes_back_a_replica_it_had_counted_out_when_it_is_brought_in_again() {
    // Node 3 died: the primary 2 and the backup 1 counted it out. It boots
    // again and 2 brings it back in.
    let mut primary = short_by_one();
    let mut backup = conn(1);
    backup.heard(2, &ends(160, 5100, 2200), 0);
    backup.exclude(3);
    let change = primary.admit(3, 10).unwrap();
    assert!(backup.adopt(2, &change, 11));
    let back = backup.replicas().iter().find(|r| r.id == 3).unwrap();
    assert!(back.joining && !back.excluded, "in the set again, joining");
    assert_eq!(
        back.received, 160,
        "from the floors, not where it was counted out"
    );
    assert_eq!(backup.members_mask(), primary.members_mask());
    // So the views of the set the node brought in hears agree with its own:
    // none of them fences it.
    let mut n = Replication::joined(&change, 3, (100, 5000, 1000), 12).unwrap();
    assert!(!n.take_view(1, backup.members_mask()));
    assert!(!n.take_view(2, primary.members_mask()));
    assert_eq!(n.role(), Role::Backup);
}

#[test]
fn a_new_primary_lets_replicas_still_joining_go_and_a_joining_one_cannot_take_over() {
    // Primary 2 brought 4 in; 2 dies before 4 caught up, and 1 takes over:
    // nobody feeds 4 the client's stream now, and 1 must not wait for it.
    let mut primary = short_by_one();
    let change = primary.admit(4, 10).unwrap();
    let mut backup = conn(1);
    backup.heard(2, &ends(160, 5100, 2200), 0);
    backup.exclude(3);
    assert!(backup.adopt(2, &change, 11));
    assert_eq!(backup.settle_joining(), 0, "a backup leaves the set alone");
    assert!(backup.exclude(2), "1 takes over");
    assert_eq!(
        backup.acknowledgeable_end(),
        Some(160),
        "held at the joiner's floors"
    );
    assert_eq!(backup.settle_joining(), 1);
    assert_eq!(
        backup.acknowledgeable_end(),
        None,
        "nobody left to wait for"
    );
    assert_eq!(backup.role(), Role::Primary);
    // 4 itself, the last one left before it caught up: its stream has a
    // hole, it is fenced.
    let mut n = Replication::joined(&change, 4, (100, 5000, 1000), 12).unwrap();
    n.exclude(2);
    n.exclude(1);
    assert_eq!(n.role(), Role::Primary);
    assert_eq!(n.settle_joining(), 0);
    assert_eq!(n.role(), Role::Fenced);
}

#[test]
fn the_node_brought_in_learns_from_its_primary_that_it_caught_up_and_may_take_over() {
    let mut primary = short_by_one();
    let change = primary.admit(4, 10).unwrap();
    let mut n = Replication::joined(&change, 4, (100, 5000, 1000), 11).unwrap();
    assert!(n.me().joining);
    // While the primary counts it joining, its views say so.
    assert!(!n.take_view(2, primary.members_mask()));
    assert!(n.me().joining);
    // It reaches the floors; the primary's next view says it caught up.
    assert!(primary.heard(4, &ends(160, 5100, 2400), 20));
    assert!(!n.take_view(2, primary.members_mask()));
    assert!(!n.me().joining, "caught up, as its primary says");
    // A backup's view does not say it.
    let mut m = Replication::joined(&change, 4, (100, 5000, 1000), 11).unwrap();
    assert!(!m.take_view(1, primary.members_mask()));
    assert!(m.me().joining, "only the primary's word");
    // So when every replica before it goes, it takes over (not fenced).
    n.exclude(2);
    n.exclude(1);
    assert_eq!(n.role(), Role::Primary);
    assert_eq!(n.settle_joining(), 0);
    assert_eq!(n.role(), Role::Primary);
}

#[test]
fn a_replica_found_diverged_is_never_brought_in_and_a_joining_one_is_no_heir() {
    // 3 node set, primary 2: replica 3 wrote other bytes, and left.
    let mut c = conn(2);
    c.heard(3, &ends(140, 5100, 2000), 0);
    c.heard(1, &ends(150, 5200, 2100), 0);
    c.advance_own(Some(160), Some(5100), Some(2200));
    let i = c.replicas().iter().position(|r| r.id == 3).unwrap();
    assert_eq!(c.output_checked(3), Some(i));
    assert!(c.diverged(i));
    assert!(c.found_diverged(3) && !c.found_diverged(1));
    assert!(c.admit(3, 10).is_none(), "it would differ again");
    // Another node may be brought in, and the mark stays with node 3.
    assert!(c.admit(4, 10).is_some());
    assert!(c.found_diverged(3) && !c.found_diverged(4));
    // With 1 gone, the next replica is the one joining: a draining
    // primary does not hand the connection to it.
    c.exclude(1);
    assert_eq!(c.heir(), Some(4));
    assert!(!c.step_down(20, 1_000), "it lacks part of the stream");
    assert_eq!(c.role(), Role::Primary);
}

#[test]
fn the_node_brought_in_starts_at_the_first_byte_and_the_others_at_the_floors() {
    let mut primary = short_by_one();
    let change = primary.admit(4, 10).unwrap();
    let n = Replication::joined(&change, 4, (100, 5000, 1000), 11).unwrap();
    assert_eq!(n.role(), Role::Backup);
    assert_eq!(n.me().received, 100);
    assert!(n.me().joining);
    assert_eq!(n.members_mask(), primary.members_mask());
    assert_eq!(n.readable_end(130), 130, "the others have all it will read");
    assert_eq!(
        n.check_ack(5100),
        AckCheck::Clamp(5000),
        "the client acknowledges what the primary sent: its stack sees its own"
    );
    assert!(
        Replication::joined(&change, 1, (100, 5000, 1000), 11).is_none(),
        "not the joiner"
    );
    let bad = SetChange {
        joining: 0,
        ..change
    };
    assert!(Replication::joined(&bad, 4, (100, 5000, 1000), 11).is_none());
}

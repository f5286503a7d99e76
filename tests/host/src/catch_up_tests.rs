//! The catch-ups a node leads and takes part in (`replicate/catch_up.rs`).

use crate::catch_up::{CatchUps, Ended, JOIN_MS, LEAD_MS, LINGER_MS, MAX_JOINING, MAX_LEADING};
use crate::replica::{Ends, SetChange};
use crate::splice::SynOptions;
use crate::wire::{CatchUpSyn, Tuple};

fn tuple(port: u16) -> Tuple {
    Tuple {
        client: [10, 0, 0, 4],
        client_port: port,
        vip: [10, 0, 0, 100],
        port: 84,
    }
}

fn set() -> SetChange {
    SetChange {
        gen: 1,
        len: 2,
        ids: [2, 3, 0, 0],
        excluded: 0,
        joining: 0b10,
        floors: Ends {
            received: 500,
            sent: 9000,
            window_end: 70_000,
        },
    }
}

fn syn(isn: u32) -> CatchUpSyn {
    CatchUpSyn {
        isn,
        options: SynOptions {
            mss: 1460,
            wscale: Some(7),
            sack_permitted: true,
        },
        tsval: Some(77),
    }
}

#[test]
fn a_node_leads_a_bounded_number_once_per_connection() {
    let mut c = CatchUps::new().unwrap();
    assert_eq!(c.free_to_lead(), MAX_LEADING);
    assert!(!c.leads_any());
    assert!(c.lead(tuple(1), 3, 100, 0));
    assert!(!c.lead(tuple(1), 4, 100, 0), "one catch-up per connection");
    for p in 2..=MAX_LEADING as u16 {
        assert!(c.lead(tuple(p), 3, 100, 0));
    }
    assert_eq!(c.free_to_lead(), 0);
    assert!(!c.lead(tuple(999), 3, 100, 0), "no slot left");
    assert!(c.leads_any());
}

#[test]
fn only_the_joiners_reports_move_its_cursor_and_only_forward() {
    let mut c = CatchUps::new().unwrap();
    assert!(c.lead(tuple(1), 3, 100, 0));
    let led = |c: &CatchUps| (0..MAX_LEADING).find_map(|i| c.led(i)).unwrap();
    assert!(!led(&c).heard);
    c.heard(&tuple(1), 2, 400);
    assert_eq!(
        (led(&c).cursor, led(&c).heard),
        (100, false),
        "another replica's report"
    );
    c.heard(&tuple(2), 3, 400);
    assert_eq!(led(&c).cursor, 100, "another connection");
    c.heard(&tuple(1), 3, 300);
    assert_eq!((led(&c).cursor, led(&c).heard), (300, true));
    c.heard(&tuple(1), 3, 200);
    assert_eq!(led(&c).cursor, 300, "a late report moves nothing back");
}

#[test]
fn a_catch_up_lingers_after_it_caught_up_and_is_given_up_after_a_bound() {
    let mut c = CatchUps::new().unwrap();
    assert!(c.lead(tuple(1), 3, 100, 1_000));
    assert!(c.lead(tuple(2), 3, 100, 1_000));
    assert!(c.caught_up(&tuple(1), 2_000));
    assert!(!c.caught_up(&tuple(1), 2_100), "news once");
    let led = |c: &CatchUps, t: Tuple| {
        (0..MAX_LEADING)
            .filter_map(|i| c.led(i))
            .find(|l| l.tuple == t)
            .unwrap()
    };
    assert!(!CatchUps::expired(
        &led(&c, tuple(1)),
        2_000 + LINGER_MS - 1
    ));
    assert!(CatchUps::expired(&led(&c, tuple(1)), 2_000 + LINGER_MS));
    assert!(!CatchUps::expired(&led(&c, tuple(2)), 1_000 + LEAD_MS - 1));
    assert!(CatchUps::expired(&led(&c, tuple(2)), 1_000 + LEAD_MS));
    assert_eq!(c.end_leading(&tuple(1)), Some(Ended::CaughtUp));
    assert_eq!(c.end_leading(&tuple(2)), Some(Ended::GaveUp));
    assert_eq!(c.end_leading(&tuple(2)), None);
    assert!(!c.leads_any());
}

#[test]
fn a_join_is_taken_by_the_stacks_answer_to_its_own_handshake_only() {
    let mut c = CatchUps::new().unwrap();
    assert!(c.expect(tuple(1), set(), syn(41), 0));
    assert!(
        !c.expect(tuple(1), set(), syn(41), 10),
        "its SYN played once"
    );
    assert!(c.joins_any());
    assert!(
        c.take_joining(&tuple(1), 40).is_none(),
        "another client ISN"
    );
    assert!(
        c.take_joining(&tuple(2), 41).is_none(),
        "another connection"
    );
    let j = c.take_joining(&tuple(1), 41).unwrap();
    assert_eq!((j.set, j.syn), (set(), syn(41)));
    assert!(!c.joins_any());
    assert!(c.take_joining(&tuple(1), 41).is_none(), "taken once");
}

#[test]
fn joins_not_answered_in_time_make_room() {
    let mut c = CatchUps::new().unwrap();
    for p in 0..MAX_JOINING as u16 {
        assert!(c.expect(tuple(p), set(), syn(1), 0));
    }
    assert!(!c.expect(tuple(999), set(), syn(1), JOIN_MS - 1), "full");
    assert!(
        c.expect(tuple(999), set(), syn(1), JOIN_MS),
        "the old ones expired"
    );
    assert!(c.take_joining(&tuple(0), 1).is_none());
    // A join that expired may be played again.
    assert!(c.expect(tuple(0), set(), syn(1), JOIN_MS));
}

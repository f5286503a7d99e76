use crate::policy::{service_id, ServiceId};
use crate::ready_hold::ReadyHold;
use proptest::prelude::*;

const HOLD: u64 = 1000;

fn web() -> ServiceId {
    service_id([10, 0, 0, 100], 80)
}

fn db() -> ServiceId {
    service_id([10, 0, 0, 100], 5432)
}

#[test]
fn a_service_listening_from_the_start_is_ready_at_once() {
    let mut hold = ReadyHold::<4>::new();
    assert_eq!(hold.update([(web(), true)], 0, HOLD), 1);
    assert!(hold.is_ready(&web()));
}

#[test]
fn an_application_started_late_is_ready_at_once() {
    let mut hold = ReadyHold::<4>::new();
    assert_eq!(hold.update([(web(), false)], 0, HOLD), 0);
    assert!(!hold.is_ready(&web()));
    assert_eq!(hold.update([(web(), true)], 5000, HOLD), 1);
    assert!(hold.is_ready(&web()));
}

#[test]
fn a_stop_counts_at_once_and_a_restart_only_after_the_hold() {
    let mut hold = ReadyHold::<4>::new();
    hold.update([(web(), true)], 0, HOLD);
    assert_eq!(hold.update([(web(), false)], 100, HOLD), 1);
    assert!(!hold.is_ready(&web()));
    assert_eq!(hold.update([(web(), true)], 200, HOLD), 0);
    assert!(!hold.is_ready(&web()));
    assert_eq!(hold.update([(web(), true)], 1199, HOLD), 0);
    assert!(!hold.is_ready(&web()));
    assert_eq!(hold.update([(web(), true)], 1200, HOLD), 1);
    assert!(hold.is_ready(&web()));
}

#[test]
fn a_server_crashing_within_the_hold_is_not_counted_back_in() {
    let mut hold = ReadyHold::<4>::new();
    hold.update([(web(), true)], 0, HOLD);
    let mut changes = 0;
    // Down 200 ms, up 400 ms, ten times over: one change, the first stop.
    let mut t = 100;
    for _ in 0..10 {
        for _ in 0..4 {
            changes += hold.update([(web(), false)], t, HOLD);
            t += 50;
        }
        for _ in 0..8 {
            changes += hold.update([(web(), true)], t, HOLD);
            t += 50;
        }
    }
    assert_eq!(changes, 1);
    assert!(!hold.is_ready(&web()));
    // It stays up: ready once the hold has passed since its last start.
    let started = t - 8 * 50;
    while t < started + HOLD {
        assert_eq!(hold.update([(web(), true)], t, HOLD), 0);
        t += 50;
    }
    assert_eq!(hold.update([(web(), true)], t, HOLD), 1);
    assert!(hold.is_ready(&web()));
}

#[test]
fn without_a_hold_every_flap_counts() {
    let mut hold = ReadyHold::<4>::new();
    hold.update([(web(), true)], 0, 0);
    let mut changes = 0;
    for t in 1..=20 {
        changes += hold.update([(web(), t % 2 == 0)], t * 50, 0);
    }
    assert_eq!(changes, 20);
}

#[test]
fn services_are_held_apart_and_forgotten_with_their_configuration() {
    let mut hold = ReadyHold::<4>::new();
    hold.update([(web(), true), (db(), true)], 0, HOLD);
    hold.update([(web(), false), (db(), true)], 100, HOLD);
    assert!(!hold.is_ready(&web()) && hold.is_ready(&db()));
    // The web service removed: forgotten; added back and listening, it is
    // a new service, ready at once.
    hold.update([(db(), true)], 200, HOLD);
    assert!(!hold.is_ready(&web()) && hold.is_ready(&db()));
    hold.update([(db(), true), (web(), true)], 300, HOLD);
    assert!(hold.is_ready(&web()) && hold.is_ready(&db()));
}

#[test]
fn more_services_than_room_are_never_ready() {
    let mut hold = ReadyHold::<1>::new();
    hold.update([(web(), true), (db(), true)], 0, HOLD);
    assert!(hold.is_ready(&web()) && !hold.is_ready(&db()));
}

proptest! {
    /// Against a model: a service is ready if and only if it listens now
    /// and either it was never ready before, or it has listened for the
    /// hold since its last stop; the changes returned are the model's.
    #[test]
    fn the_hold_follows_its_model(
        looks in prop::collection::vec((any::<bool>(), 1u64..400), 1..200),
        hold_ms in 0u64..1500,
    ) {
        let mut hold = ReadyHold::<2>::new();
        let (mut t, mut was_ready, mut ever_ready) = (0u64, false, false);
        let mut since: Option<u64> = None;
        for (listening, dt) in looks {
            t += dt;
            let changes = hold.update([(web(), listening)], t, hold_ms);
            since = if listening { Some(since.unwrap_or(t)) } else { None };
            let ready = listening
                && (!ever_ready || was_ready || t - since.unwrap() >= hold_ms);
            prop_assert_eq!(hold.is_ready(&web()), ready);
            prop_assert_eq!(changes, u32::from(ready != was_ready));
            ever_ready |= ready;
            was_ready = ready;
        }
    }
}

proptest! {
    /// Several services, a random subset of them configured at each look,
    /// in a random order: each follows its own model, a service removed
    /// and added again starts afresh, and the changes returned are the
    /// sum of the models'.
    #[test]
    fn services_come_and_go_each_with_its_own_model(
        looks in prop::collection::vec(
            (prop::collection::vec((0usize..4, any::<bool>()), 0..6), 1u64..400),
            1..150,
        ),
        hold_ms in 0u64..1500,
    ) {
        #[derive(Clone, Copy, Default)]
        struct Model { ready: bool, ever: bool, since: Option<u64> }
        let ids: Vec<ServiceId> = (0..4).map(|i| service_id([10, 0, 0, 100], 80 + i)).collect();
        let mut hold = ReadyHold::<4>::new();
        let mut models = [None::<Model>; 4];
        let mut t = 0u64;
        for (mut configured, dt) in looks {
            t += dt;
            // A service is configured once at most.
            let mut seen = [false; 4];
            configured.retain(|&(i, _)| !std::mem::replace(&mut seen[i], true));
            let changes = hold.update(configured.iter().map(|&(i, l)| (ids[i], l)), t, hold_ms);
            let mut want = 0;
            for (i, model) in models.iter_mut().enumerate() {
                let Some(&(_, listening)) = configured.iter().find(|&&(j, _)| j == i) else {
                    *model = None;
                    continue;
                };
                let mut m = model.unwrap_or_default();
                m.since = if listening { Some(m.since.unwrap_or(t)) } else { None };
                let ready = listening
                    && (!m.ever || m.ready || t - m.since.unwrap() >= hold_ms);
                want += u32::from(ready != m.ready);
                m.ever |= ready;
                m.ready = ready;
                *model = Some(m);
            }
            prop_assert_eq!(changes, want);
            for (i, model) in models.iter().enumerate() {
                prop_assert_eq!(hold.is_ready(&ids[i]), model.is_some_and(|m| m.ready));
            }
        }
    }
}

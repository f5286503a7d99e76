use crate::conntable::{ConnTable, Keyed};
use crate::rendezvous::Key;
use crate::wire::Tuple;
use proptest::prelude::*;

#[derive(Debug)]
struct Conn {
    tuple: Tuple,
    half_open: bool,
    value: u32,
}

impl Keyed for Conn {
    fn tuple(&self) -> &Tuple {
        &self.tuple
    }

    fn half_open(&self) -> bool {
        self.half_open
    }
}

fn tuple(id: u32) -> Tuple {
    Tuple {
        client: [10, 0, (id >> 16) as u8, (id >> 8) as u8],
        client_port: 1024 + (id & 0xff) as u16,
        vip: [10, 0, 0, 100],
        port: 80,
    }
}

fn conn(id: u32, half_open: bool) -> Box<Conn> {
    Box::new(Conn {
        tuple: tuple(id),
        half_open,
        value: id,
    })
}

fn table(capacity: usize, half_open_cap: usize) -> ConnTable<Box<Conn>> {
    ConnTable::new(capacity, half_open_cap, Key::new(&[7; 16])).unwrap()
}

#[test]
fn finds_what_it_holds_and_forgets_what_is_removed() {
    let mut t = table(1000, 100);
    for id in 0..1000 {
        assert!(matches!(t.insert(conn(id, false)), Ok(None)));
    }
    assert_eq!(t.len(), 1000);
    assert!(t.insert(conn(5000, false)).is_err(), "full");
    for id in (0..1000).step_by(2) {
        assert_eq!(t.remove(&tuple(id)).unwrap().value, id);
    }
    for id in 0..1000 {
        assert_eq!(t.get(&tuple(id)).is_some(), id % 2 == 1, "{id}");
    }
    assert_eq!(t.len(), 500);
    let (slot, e) = t.find_slot(&tuple(7)).unwrap();
    assert_eq!(e.value, 7);
    assert_eq!(t.find_at(slot, &tuple(7)).unwrap().0, slot);
    assert_eq!(
        t.find_at(slot + 1, &tuple(7)).unwrap().0,
        slot,
        "wrong hint"
    );
}

#[test]
fn a_syn_flood_cannot_take_established_slots() {
    let mut t = table(100, 10);
    for id in 0..80 {
        assert!(matches!(t.insert(conn(id, false)), Ok(None)));
    }
    // 1000 half-open entries: the cap holds, the oldest goes first.
    for id in 1000..2000 {
        match t.insert(conn(id, true)) {
            Ok(None) => assert!(id < 1010),
            Ok(Some(old)) => assert_eq!(old.value, id - 10),
            Err(_) => panic!("refused half-open {id}"),
        }
        assert!(t.half_open() <= 10);
    }
    for id in 0..80 {
        assert!(t.get(&tuple(id)).is_some());
    }
    // Established connections still find room.
    for id in 80..90 {
        assert!(matches!(t.insert(conn(id, false)), Ok(None)));
    }
    // A full table takes a half-open entry's slot for an established one.
    for id in 90..100 {
        let old = t.insert(conn(id, false)).unwrap().unwrap();
        assert!(old.half_open);
    }
    assert!(t.insert(conn(100, false)).is_err());
    assert!(t.insert(conn(3000, true)).is_err());
}

#[test]
fn a_half_open_cap_of_zero_refuses_half_open_entries() {
    let mut t = table(10, 0);
    assert!(t.insert(conn(1, true)).is_err());
    assert!(matches!(t.insert(conn(1, false)), Ok(None)));
}

#[test]
fn tuples_hash_over_the_buckets() {
    // 65,536 clients of one VIP: no chain much longer than a handful.
    let mut t = table(1 << 16, 1 << 16);
    for id in 0..(1u32 << 16) {
        let c = Box::new(Conn {
            tuple: Tuple {
                client: [10, 1, (id >> 8) as u8, id as u8],
                client_port: 40000,
                vip: [10, 0, 0, 100],
                port: 80,
            },
            half_open: false,
            value: id,
        });
        assert!(matches!(t.insert(c), Ok(None)));
    }
    assert_eq!(t.len(), 1 << 16);
    assert!(t.longest_chain() <= 10, "{}", t.longest_chain());
    assert!(t.index_bytes() <= 40 << 16, "{}", t.index_bytes());
}

#[test]
fn an_entry_not_settled_is_skipped_not_evicted() {
    let mut t = table(10, 2);
    assert!(matches!(t.insert(conn(1, true)), Ok(None)));
    assert!(matches!(t.insert(conn(2, true)), Ok(None)));
    // Its handshake completed, and the owner did not say so.
    t.find(&tuple(1)).unwrap().half_open = false;
    assert!(matches!(t.insert(conn(3, true)), Ok(None)));
    assert!(t.get(&tuple(1)).is_some());
    assert_eq!(t.half_open(), 2);
    let old = t.insert(conn(4, true)).unwrap().unwrap();
    assert_eq!(old.value, 2);
}

#[derive(Clone, Debug)]
enum Op {
    Insert(u32, bool),
    Establish(u32),
    Remove(u32),
    RetainNot(u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (0u32..48, any::<bool>()).prop_map(|(id, h)| Op::Insert(id, h)),
        2 => (0u32..48).prop_map(Op::Establish),
        2 => (0u32..48).prop_map(Op::Remove),
        1 => (2u32..7).prop_map(Op::RetainNot),
    ]
}

proptest! {
    /// Against a model: the same entries, the half-open cap held, evictions
    /// only of the oldest half-open entry and only when needed, refusals
    /// only when nothing could be evicted.
    #[test]
    fn behaves_as_the_model(
        capacity in 1usize..24,
        cap in 0usize..12,
        ops in proptest::collection::vec(op(), 1..300),
    ) {
        let mut t = table(capacity, cap);
        // id -> (half_open, order of insertion)
        let mut model: std::collections::BTreeMap<u32, (bool, u64)> = Default::default();
        let mut clock = 0u64;
        for op in ops {
            match op {
                Op::Insert(id, half_open) => {
                    clock += 1;
                    let replacing = model.contains_key(&id);
                    let ho_before = model.values().filter(|v| v.0).count();
                    let full_before = model.len() == capacity;
                    let oldest = model.iter().filter(|(_, v)| v.0).min_by_key(|(_, v)| v.1).map(|(k, _)| *k);
                    match t.insert(conn(id, half_open)) {
                        Ok(evicted) => {
                            model.insert(id, (half_open, clock));
                            if let Some(old) = evicted {
                                prop_assert!(old.half_open);
                                prop_assert_eq!(Some(old.value), oldest);
                                prop_assert!(ho_before >= cap || full_before);
                                model.remove(&old.value);
                            }
                        }
                        Err(_) => {
                            prop_assert!(!replacing || (half_open && cap == 0));
                            prop_assert!((half_open && cap == 0) || (full_before && ho_before == 0));
                        }
                    }
                }
                Op::Establish(id) => {
                    if let Some((slot, e)) = t.find_slot(&tuple(id)) {
                        e.half_open = false;
                        // Settles once: while it was half-open.
                        let was = model.get(&id).is_some_and(|v| v.0);
                        prop_assert_eq!(t.settle(slot), was);
                    }
                    if let Some(v) = model.get_mut(&id) {
                        v.0 = false;
                    }
                }
                Op::Remove(id) => {
                    let got = t.remove(&tuple(id)).map(|e| e.value);
                    prop_assert_eq!(got, model.remove(&id).map(|_| id));
                }
                Op::RetainNot(k) => {
                    t.retain(|e| e.value % k != 0);
                    model.retain(|id, _| id % k != 0);
                }
            }
            prop_assert!(t.half_open() <= cap);
            prop_assert_eq!(t.half_open(), model.values().filter(|v| v.0).count());
            prop_assert_eq!(t.len(), model.len());
            for id in 0..48 {
                let got = t.get(&tuple(id)).map(|e| (e.value, e.half_open));
                prop_assert_eq!(got, model.get(&id).map(|v| (id, v.0)));
            }
            let mut seen = Vec::new();
            t.for_each_mut(|_, e| seen.push(e.value));
            seen.sort();
            prop_assert_eq!(seen, model.keys().copied().collect::<Vec<_>>());
        }
    }
}

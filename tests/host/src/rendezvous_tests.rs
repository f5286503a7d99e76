use crate::rendezvous::{owner, rank, siphash24, weight, FiveTuple, Key};
use proptest::{collection::btree_set, collection::vec, prelude::*};
use std::collections::HashSet;

fn seq_key() -> Key {
    let bytes: [u8; 16] = core::array::from_fn(|i| i as u8);
    Key::new(&bytes)
}

/// The test vector of the SipHash paper (appendix A), and the first of the
/// reference implementation's vectors.h (empty message).
#[test]
fn siphash_reference_vectors() {
    let msg: Vec<u8> = (0..15).collect();
    assert_eq!(siphash24(&seq_key(), &msg), 0xa129_ca61_49be_45e5);
    assert_eq!(siphash24(&seq_key(), &[]), 0x726f_db47_dd0e_0e31);
}

#[test]
fn empty_live_set() {
    let t = FiveTuple {
        saddr: 1,
        daddr: 2,
        sport: 3,
        dport: 4,
        proto: 6,
    };
    assert_eq!(owner(&seq_key(), &t, &[]), None);
    let mut out = [0; 3];
    assert_eq!(rank(&seq_key(), &t, &[], &mut out), 0);
    assert_eq!(rank(&seq_key(), &t, &[5, 6], &mut []), 0);
}

/// splitmix64: a deterministic source of tuples for the distribution test.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Over 30000 random tuples, each of 3 nodes owns a third, within 5%
/// (the binomial standard deviation is under 1%).
#[test]
fn spreads_evenly() {
    for (seed, live) in [
        (1u64, [1u32, 2, 3]),
        (2, [10, 11, 12]),
        (3, [7, 1 << 31, u32::MAX]),
    ] {
        let mut s = seed;
        let mut key = [0u8; 16];
        key[..8].copy_from_slice(&splitmix(&mut s).to_le_bytes());
        key[8..].copy_from_slice(&splitmix(&mut s).to_le_bytes());
        let key = Key::new(&key);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            let r = splitmix(&mut s);
            let t = FiveTuple {
                saddr: r as u32,
                daddr: 0x0a00_0064,
                sport: (r >> 32) as u16,
                dport: 80,
                proto: 6,
            };
            let o = owner(&key, &t, &live).unwrap();
            counts[live.iter().position(|&n| n == o).unwrap()] += 1;
        }
        for c in counts {
            assert!((9_500..=10_500).contains(&c), "{live:?}: {counts:?}");
        }
    }
}

fn arb_tuple() -> impl Strategy<Value = FiveTuple> {
    (
        any::<u32>(),
        any::<u32>(),
        any::<u16>(),
        any::<u16>(),
        any::<u8>(),
    )
        .prop_map(|(saddr, daddr, sport, dport, proto)| FiveTuple {
            saddr,
            daddr,
            sport,
            dport,
            proto,
        })
}

/// Distinct node ids, in random order.
fn arb_live(min: usize) -> impl Strategy<Value = Vec<u32>> {
    btree_set(any::<u32>(), min..20)
        .prop_map(|s| s.into_iter().collect::<Vec<_>>())
        .prop_shuffle()
}

proptest! {
    /// Agrees with the deprecated but still shipped SipHash-2-4 of std.
    #[test]
    fn siphash_matches_std(key in any::<[u8; 16]>(), msg in vec(any::<u8>(), 0..100)) {
        #[allow(deprecated)]
        let mut h = std::hash::SipHasher::new_with_keys(
            u64::from_le_bytes(key[..8].try_into().unwrap()),
            u64::from_le_bytes(key[8..].try_into().unwrap()),
        );
        std::hash::Hasher::write(&mut h, &msg);
        prop_assert_eq!(siphash24(&Key::new(&key), &msg), std::hash::Hasher::finish(&h));
    }

    /// The owner is one of the live nodes, whatever their order.
    #[test]
    fn owner_is_live(key in any::<[u8; 16]>(), t in arb_tuple(), live in arb_live(1)) {
        let key = Key::new(&key);
        let o = owner(&key, &t, &live).unwrap();
        prop_assert!(live.contains(&o));
        let mut reversed = live.clone();
        reversed.reverse();
        prop_assert_eq!(owner(&key, &t, &reversed), Some(o));
        let best = live.iter().map(|&n| weight(&key, &t, n)).max().unwrap();
        prop_assert_eq!(weight(&key, &t, o), best);
    }

    /// Removing a node other than the owner leaves the owner in place.
    #[test]
    fn removal_is_minimal(key in any::<[u8; 16]>(), t in arb_tuple(), live in arb_live(2), i in any::<prop::sample::Index>()) {
        let key = Key::new(&key);
        let o = owner(&key, &t, &live).unwrap();
        let gone = live[i.index(live.len())];
        prop_assume!(gone != o);
        let rest: Vec<u32> = live.iter().copied().filter(|&n| n != gone).collect();
        prop_assert_eq!(owner(&key, &t, &rest), Some(o));
    }

    /// Adding a node moves a tuple only to the new node.
    #[test]
    fn addition_is_minimal(key in any::<[u8; 16]>(), t in arb_tuple(), live in arb_live(1), new in any::<u32>()) {
        let key = Key::new(&key);
        prop_assume!(!live.contains(&new));
        let o = owner(&key, &t, &live).unwrap();
        let mut more = live.clone();
        more.push(new);
        let o2 = owner(&key, &t, &more).unwrap();
        prop_assert!(o2 == o || o2 == new);
    }

    /// The ranking starts with the owner, has no duplicates even if `live`
    /// has, is in decreasing weight order, and a shorter ranking is a prefix
    /// of a longer one.
    #[test]
    fn ranking(key in any::<[u8; 16]>(), t in arb_tuple(), mut live in arb_live(1), dups in 0usize..3, r in 0usize..25) {
        let key = Key::new(&key);
        let distinct = live.len();
        for j in 0..dups {
            live.push(live[j % distinct]);
        }
        let mut out = vec![u32::MAX; r];
        let n = rank(&key, &t, &live, &mut out);
        prop_assert_eq!(n, r.min(distinct));
        prop_assert!(out[n..].iter().all(|&x| x == u32::MAX));
        let out = &out[..n];
        if n > 0 {
            prop_assert_eq!(Some(out[0]), owner(&key, &t, &live));
        }
        prop_assert_eq!(out.iter().collect::<HashSet<_>>().len(), n);
        prop_assert!(out.iter().all(|x| live.contains(x)));
        let weights: Vec<(u64, u32)> = out.iter().map(|&x| (weight(&key, &t, x), x)).collect();
        prop_assert!(weights.windows(2).all(|w| w[0] > w[1]));
        let mut longer = vec![0; r + 1];
        let m = rank(&key, &t, &live, &mut longer);
        prop_assert_eq!(&longer[..n], out);
        prop_assert_eq!(m, (r + 1).min(distinct));
    }
}

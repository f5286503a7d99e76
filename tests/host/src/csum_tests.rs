use crate::csum::{finish, fold, patch, pseudo_header, sum, update16};
use proptest::{collection::vec, prelude::*};

/// The checksum field of `buf` with the field at `c` taken as zero.
fn full(buf: &[u8], c: usize) -> u16 {
    let mut b = buf.to_vec();
    b[c] = 0;
    b[c + 1] = 0;
    finish(sum(&b, 0))
}

/// Whether `buf` with its checksum at `c` verifies.
fn verifies(buf: &[u8]) -> bool {
    fold(sum(buf, 0)) == 0xffff
}

#[test]
fn rfc1071_example() {
    // RFC 1071 section 3: the sum of these words is 0xddf2.
    let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
    assert_eq!(fold(sum(&data, 0)), 0xddf2);
}

#[test]
fn odd_length_pads_with_zero() {
    assert_eq!(sum(&[0x12], 0), 0x1200);
}

#[test]
fn pseudo_header_counts_addresses_proto_and_length() {
    let s = pseudo_header([10, 0, 0, 1], [10, 0, 0, 2], 6, 20);
    assert_eq!(s, 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + 20);
}

#[test]
fn patch_refuses_ranges_out_of_buffer_or_over_the_field() {
    let mut b = [0u8; 20];
    assert!(patch(&mut b, 18, &[1, 2, 3], Some(0)).is_none());
    assert!(patch(&mut b, 3, &[1, 2], Some(4)).is_none());
    assert!(patch(&mut b, 0, &[1], Some(3)).is_none());
    assert_eq!(b, [0; 20]);
}

proptest! {
    #[test]
    fn update16_matches_recomputation(mut words in vec(any::<u16>(), 2..64), i in 1usize..64, new in any::<u16>()) {
        let i = i % (words.len() - 1) + 1;
        let mut bytes: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
        let check = full(&bytes, 0);
        let old = words[i];
        words[i] = new;
        bytes[2 * i..2 * i + 2].copy_from_slice(&new.to_be_bytes());
        let updated = update16(check, old, new);
        bytes[0..2].copy_from_slice(&updated.to_be_bytes());
        prop_assert!(verifies(&bytes));
    }

    #[test]
    fn patch_keeps_the_checksum_valid_at_any_offset(
        mut buf in vec(any::<u8>(), 8..80),
        at in 0usize..80,
        new in vec(any::<u8>(), 1..12),
    ) {
        let c = 2;
        let check = full(&buf, c);
        buf[c..c + 2].copy_from_slice(&check.to_be_bytes());
        prop_assume!(at >= c + 2 && at + new.len() <= buf.len());
        patch(&mut buf, at, &new, Some(c)).unwrap();
        prop_assert_eq!(&buf[at..at + new.len()], &new[..]);
        prop_assert!(verifies(&buf));
    }
}

// SPDX-License-Identifier: GPL-2.0

//! The Internet checksum (RFC 1071) and its incremental update (RFC 1624),
//! for the headers the splice translation rewrites and the segments it
//! builds.
//!
//! Kernel-independent: built into the module and into the host test crate.

/// One's-complement sum of `data` as big-endian 16-bit words (an odd last
/// byte is padded with zero), added to `initial`, not folded.
pub(crate) fn sum(data: &[u8], initial: u32) -> u64 {
    let mut acc = u64::from(initial);
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        acc += u64::from(u16::from_be_bytes([*last, 0]));
    }
    acc
}

/// Folds a sum into 16 bits.
pub(crate) fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The checksum field for data whose sum (with the field zero) is `acc`.
pub(crate) fn finish(acc: u64) -> u16 {
    !fold(acc)
}

/// The TCP/UDP pseudo-header sum for IPv4.
pub(crate) fn pseudo_header(saddr: [u8; 4], daddr: [u8; 4], proto: u8, len: u16) -> u64 {
    sum(&saddr, 0) + sum(&daddr, 0) + u64::from(proto) + u64::from(len)
}

/// The checksum field after a 16-bit word of the covered data changes from
/// `old` to `new` (RFC 1624, eqn. 3: `HC' = ~(~HC + ~m + m')`).
pub(crate) fn update16(check: u16, old: u16, new: u16) -> u16 {
    let acc = u64::from(!check) + u64::from(!old) + u64::from(new);
    !fold(acc)
}

/// Writes `new` into `buf` at `at` and, if `check_at` is given, updates the
/// checksum field there for the change. The checksum covers `buf` from
/// offset 0 in 16-bit words, so a field at an odd offset is handled word by
/// word. Returns `None`, writing nothing, if a range is out of `buf` or
/// overlaps the checksum field.
pub(crate) fn patch(buf: &mut [u8], at: usize, new: &[u8], check_at: Option<usize>) -> Option<()> {
    let end = at.checked_add(new.len())?;
    if end > buf.len() {
        return None;
    }
    let Some(c) = check_at else {
        buf[at..end].copy_from_slice(new);
        return Some(());
    };
    let c_end = c.checked_add(2)?;
    if c_end > buf.len() || c % 2 != 0 || (at < c_end && c < end) {
        return None;
    }
    // The aligned words the change touches, before and after.
    let first = at & !1;
    let last = (end + 1) & !1;
    let last = last.min(buf.len() + (buf.len() & 1));
    let word = |b: &[u8], i: usize| {
        let hi = b.get(i).copied().unwrap_or(0);
        let lo = b.get(i + 1).copied().unwrap_or(0);
        u16::from_be_bytes([hi, lo])
    };
    let mut check = u16::from_be_bytes([buf[c], buf[c + 1]]);
    let mut olds = [0u16; 32];
    let n_words = (last - first) / 2;
    if n_words > olds.len() {
        return None;
    }
    for (k, slot) in olds.iter_mut().take(n_words).enumerate() {
        *slot = word(buf, first + 2 * k);
    }
    buf[at..end].copy_from_slice(new);
    for (k, old) in olds.iter().take(n_words).enumerate() {
        check = update16(check, *old, word(buf, first + 2 * k));
    }
    buf[c..c_end].copy_from_slice(&check.to_be_bytes());
    Some(())
}

// SPDX-License-Identifier: GPL-2.0

//! Keyed BLAKE2s from the kernel's `lib/crypto`, always built in, and its
//! random numbers.

use super::bindings;

/// Keyed BLAKE2s with a 128-bit output: the MAC of `data` under `key`.
pub(crate) fn blake2s_128(key: &[u8; 32], data: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    // SAFETY: `out` has room for 16 bytes, `key` is 32 bytes (the key size
    // the shim passes), `data` is valid for its length.
    unsafe { bindings::tpc_blake2s_128(out.as_mut_ptr(), key.as_ptr(), data.as_ptr(), data.len()) };
    out
}

/// A random number from the kernel's generator. Process context or
/// softirq.
pub(crate) fn random_u32() -> u32 {
    // SAFETY: `get_random_u32` takes no arguments and any context.
    unsafe { bindings::get_random_u32() }
}

/// A random number, never 0, from the kernel's generator. Process context
/// or softirq.
pub(crate) fn random_nonzero_u32() -> u32 {
    loop {
        // SAFETY: `get_random_u32` takes no arguments and any context.
        let r = unsafe { bindings::get_random_u32() };
        if r != 0 {
            return r;
        }
    }
}

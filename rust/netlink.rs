// SPDX-License-Identifier: GPL-2.0

//! The C entry points of the `tpcluster` netlink family's operations, named
//! as `rust/netlink_gen.h` declares them: [`doit_entry`] and
//! [`dumpit_entry`] make each one, which finds the per-namespace state of
//! the requesting namespace and hands a safe view of the request to its
//! handler. The crate above names the handlers (`control.rs`).

use super::{
    bindings,
    genetlink::{Dump, Request},
    pernet,
};
use kernel::ffi::c_int;

/// Runs a `doit` handler.
///
/// # Safety
///
/// `info` must be the argument of a running `doit` of the family, whose
/// namespaces' per-namespace state is an `N`.
pub(crate) unsafe fn doit<N: pernet::PerNet>(
    info: *mut bindings::genl_info,
    handler: fn(&N, &Request<'_>) -> kernel::error::Result,
) -> c_int {
    // SAFETY: by the caller's contract.
    let req = unsafe { Request::from_raw(info) };
    // SAFETY: the requesting socket holds its namespace; the family is
    // registered after, and unregistered before, the per-namespace nodes.
    let node = unsafe { pernet::state::<N>(req.net()) };
    match handler(node, &req) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Runs a `dumpit` handler.
///
/// # Safety
///
/// `skb` and `cb` must be the arguments of a running `dumpit` of the
/// family, whose namespaces' per-namespace state is an `N`.
pub(crate) unsafe fn dumpit<N: pernet::PerNet>(
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
    handler: fn(&N, &mut Dump<'_>) -> i32,
) -> c_int {
    // SAFETY: by the caller's contract.
    let mut dump = unsafe { Dump::from_raw(skb, cb) };
    // SAFETY: as in `doit`; a dump in progress also holds the module.
    let node = unsafe { pernet::state::<N>(dump.net()) };
    handler(node, &mut dump)
}

/// Makes the `doit` entry point `$name` of each operation, which runs
/// `$handler` with the requesting namespace's `$state`.
macro_rules! doit_entry {
    ($state:ty; $($name:ident => $handler:path;)*) => {$(
        /// `doit` of the operation of the same name (see `netlink_gen.c`).
        ///
        /// # Safety
        ///
        /// Called by the generic netlink core only.
        #[no_mangle]
        unsafe extern "C" fn $name(
            _skb: *mut $crate::sys::bindings::sk_buff,
            info: *mut $crate::sys::bindings::genl_info,
        ) -> kernel::ffi::c_int {
            // SAFETY: called by the core for a request of the family, whose
            // per-namespace state is a `$state` (the module registers it).
            unsafe { $crate::sys::netlink::doit::<$state>(info, $handler) }
        }
    )*};
}
pub(crate) use doit_entry;

/// Makes the `dumpit` entry point `$name` of each operation, which runs
/// `$handler` with the requesting namespace's `$state`.
macro_rules! dumpit_entry {
    ($state:ty; $($name:ident => $handler:path;)*) => {$(
        /// `dumpit` of the operation of the same name (see `netlink_gen.c`).
        ///
        /// # Safety
        ///
        /// Called by the generic netlink core only.
        #[no_mangle]
        unsafe extern "C" fn $name(
            skb: *mut $crate::sys::bindings::sk_buff,
            cb: *mut $crate::sys::bindings::netlink_callback,
        ) -> kernel::ffi::c_int {
            // SAFETY: called by the core for a dump of the family, whose
            // per-namespace state is a `$state` (the module registers it).
            unsafe { $crate::sys::netlink::dumpit::<$state>(skb, cb, $handler) }
        }
    )*};
}
pub(crate) use dumpit_entry;

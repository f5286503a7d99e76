// SPDX-License-Identifier: GPL-2.0

//! The C entry points of the `tpcluster` netlink family's operations, named
//! as `rust/netlink_gen.h` declares them. Each finds the node of the
//! requesting namespace and hands a safe view of the request to
//! `crate::control`.

use super::{
    bindings,
    genetlink::{Dump, Request},
    pernet,
};
use crate::{control, handover, Node};
use kernel::ffi::c_int;

/// Runs a `doit` handler.
///
/// # Safety
///
/// `info` must be the argument of a running `doit` of the family.
unsafe fn doit(
    info: *mut bindings::genl_info,
    handler: fn(&Node, &Request<'_>) -> kernel::error::Result,
) -> c_int {
    // SAFETY: by the caller's contract.
    let req = unsafe { Request::from_raw(info) };
    // SAFETY: the requesting socket holds its namespace; the family is
    // registered after, and unregistered before, the per-namespace nodes.
    let node = unsafe { pernet::state::<Node>(req.net()) };
    match handler(node, &req) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Runs a `dumpit` handler.
///
/// # Safety
///
/// `skb` and `cb` must be the arguments of a running `dumpit` of the family.
unsafe fn dumpit(
    skb: *mut bindings::sk_buff,
    cb: *mut bindings::netlink_callback,
    handler: fn(&Node, &mut Dump<'_>) -> i32,
) -> c_int {
    // SAFETY: by the caller's contract.
    let mut dump = unsafe { Dump::from_raw(skb, cb) };
    // SAFETY: as in `doit`; a dump in progress also holds the module.
    let node = unsafe { pernet::state::<Node>(dump.net()) };
    handler(node, &mut dump)
}

macro_rules! doit_entry {
    ($($name:ident => $handler:path;)*) => {$(
        /// `doit` of the operation of the same name (see `netlink_gen.c`).
        ///
        /// # Safety
        ///
        /// Called by the generic netlink core only.
        #[no_mangle]
        unsafe extern "C" fn $name(_skb: *mut bindings::sk_buff, info: *mut bindings::genl_info) -> c_int {
            // SAFETY: called by the core for a request of the family.
            unsafe { doit(info, $handler) }
        }
    )*};
}

macro_rules! dumpit_entry {
    ($($name:ident => $handler:path;)*) => {$(
        /// `dumpit` of the operation of the same name (see `netlink_gen.c`).
        ///
        /// # Safety
        ///
        /// Called by the generic netlink core only.
        #[no_mangle]
        unsafe extern "C" fn $name(skb: *mut bindings::sk_buff, cb: *mut bindings::netlink_callback) -> c_int {
            // SAFETY: called by the core for a dump of the family.
            unsafe { dumpit(skb, cb, $handler) }
        }
    )*};
}

doit_entry! {
    tpcluster_nl_node_get_doit => control::node_get;
    tpcluster_nl_node_set_doit => control::node_set;
    tpcluster_nl_peer_add_doit => control::peer_add;
    tpcluster_nl_peer_del_doit => control::peer_del;
    tpcluster_nl_vip_add_doit => control::vip_add;
    tpcluster_nl_vip_del_doit => control::vip_del;
    tpcluster_nl_service_add_doit => control::service_add;
    tpcluster_nl_service_del_doit => control::service_del;
    tpcluster_nl_service_set_doit => control::service_set;
    tpcluster_nl_handover_doit => handover::handover;
    tpcluster_nl_replica_set_primary_doit => control::replica_set_primary;
}

dumpit_entry! {
    tpcluster_nl_peer_get_dumpit => control::peer_dump;
    tpcluster_nl_vip_get_dumpit => control::vip_dump;
    tpcluster_nl_service_get_dumpit => control::service_dump;
    tpcluster_nl_member_get_dumpit => control::member_dump;
    tpcluster_nl_stats_get_dumpit => control::stats_dump;
    tpcluster_nl_replica_get_dumpit => control::replica_dump;
}

// SPDX-License-Identifier: GPL-2.0

//! The thin binding layer between tpcluster and the kernel's C API.
//!
//! Every `unsafe` call into C lives here, behind a safe wrapper whose
//! documentation states what it relies on. The rest of the module is
//! ordinary Rust. Items come from the kernel crate where it has them, and
//! otherwise from this module's own bindgen pass (see `Kbuild`).

pub(crate) mod arp_tap;
pub(crate) mod bindings;
pub(crate) mod clock;
pub(crate) mod crypto;
pub(crate) mod genetlink;
pub(crate) mod log;
pub(crate) mod netdev;
pub(crate) mod netfilter;
pub(crate) mod netlink;
pub(crate) mod percpu;
pub(crate) mod pernet;
pub(crate) mod rcu;
pub(crate) mod seq_file;
pub(crate) mod skbuff;
pub(crate) mod sockhook;
pub(crate) mod sync;
pub(crate) mod tcp;
pub(crate) mod ticker;
pub(crate) mod udp;
pub(crate) mod waitq;

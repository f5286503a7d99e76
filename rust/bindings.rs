// SPDX-License-Identifier: GPL-2.0

//! Output of the module's own bindgen pass, over `bindings_helper.h`.
//!
//! The pass is non-recursive: the types its items mention come from
//! `kernel::bindings` through the glob import below, so that values are
//! interchangeable with the kernel crate's.

#![allow(
    dead_code,
    clippy::all,
    clippy::undocumented_unsafe_blocks,
    missing_docs,
    non_camel_case_types,
    non_upper_case_globals,
    non_snake_case,
    improper_ctypes,
    unreachable_pub,
    unsafe_op_in_unsafe_fn
)]

pub(crate) use kernel::bindings::*;

include!("bindings_generated.rs");

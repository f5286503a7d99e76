//! tpctl as a library: what applications call, in one call, to hand a
//! connection of a splice service to another node.

mod extack;
mod handover;
#[allow(dead_code)]
mod netlink;
#[allow(dead_code)]
mod uapi;

pub use handover::{handover, handover_cookie, handover_stream, Connection};

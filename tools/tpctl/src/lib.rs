//! tpctl as a library: what applications call, in one call, to hand a
//! connection of a splice service to another node.

#[allow(dead_code)]
mod client;
#[allow(dead_code)]
mod genl;
mod handover;
#[allow(dead_code)]
mod uapi;

pub use handover::{handover, handover_cookie, handover_stream, Connection};

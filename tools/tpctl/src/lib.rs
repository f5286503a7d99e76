//! tpctl as a library: what applications call, in one call, to hand a
//! connection of a splice service to another node.

mod extack;
mod handover;
#[allow(dead_code)]
mod netlink;
#[allow(dead_code)]
mod uapi;

// The codec tpctl used before netlink-packet-*, kept for tools/tptest;
// built here for the test that the requests did not change on the wire.
#[cfg(test)]
#[allow(dead_code)]
mod genl;

pub use handover::{handover, handover_cookie, handover_stream, Connection};

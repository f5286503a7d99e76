//! `-n NAME`: act on the node of a named network namespace, as `ip -n`
//! does: enter /var/run/netns/NAME (made by `ip netns add`) before opening
//! any socket or reading anything of the namespace.

use crate::Failure;
use std::os::fd::AsRawFd as _;

/// Where `ip netns` keeps its namespaces.
const NETNS_RUN_DIR: &str = "/var/run/netns";

pub(crate) fn enter(name: &str) -> Result<(), Failure> {
    let path = format!("{NETNS_RUN_DIR}/{name}");
    let ns = std::fs::File::open(&path).map_err(|e| {
        Failure::Failed(format!(
            "cannot open network namespace \"{name}\": {}",
            crate::io_text(&e)
        ))
    })?;
    // SAFETY: setns(2) on a descriptor we own; no memory is involved.
    if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(Failure::Failed(format!(
            "cannot enter network namespace \"{name}\": {}",
            crate::io_text(&std::io::Error::last_os_error())
        )));
    }
    Ok(())
}

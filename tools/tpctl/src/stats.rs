//! `tpctl stats`: the node's counters, from the `stats-get` dump (the same
//! pairs, in the same order, as `/proc/net/tpcluster`).

use crate::{
    netlink::{Client, Error},
    output::Counters,
    uapi::{A_COUNTER_NAME, A_COUNTER_VALUE, CMD_STATS_GET},
    Failure,
};

pub(crate) fn show(json: bool) -> Result<String, Failure> {
    let mut client = Client::connect()?;
    let counters = client
        .dump(CMD_STATS_GET)?
        .iter()
        .map(
            |a| match (a.string(A_COUNTER_NAME), a.u64(A_COUNTER_VALUE)) {
                (Some(name), Some(value)) => Ok((name, value)),
                _ => Err(Error {
                    errno: 0,
                    text: "malformed counter in the kernel's reply".into(),
                }),
            },
        )
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Counters(counters).render(json))
}

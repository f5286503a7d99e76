//! `tpctl stats`: the node's counters, from the `stats-get` dump (the same
//! pairs, in the same order, as `/proc/net/tpcluster`).

use crate::{
    cli::StatsFormat,
    netlink::{Client, Error},
    objects,
    output::Counters,
    prometheus,
    uapi::{A_COUNTER_NAME, A_COUNTER_VALUE, CMD_STATS_GET},
    Failure,
};

pub(crate) fn show(json: bool, format: StatsFormat) -> Result<String, Failure> {
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
    Ok(match format {
        StatsFormat::Prometheus => {
            let node = objects::node_get(&mut client)?;
            prometheus::render(&counters, node.id)
        }
        StatsFormat::Json => Counters(counters).render(true),
        StatsFormat::Text => Counters(counters).render(json),
    })
}

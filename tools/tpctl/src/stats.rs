//! `tpctl stats`: the node's counters, from the `stats-get` dump (the same
//! pairs as `/proc/net/tpcluster`).

use crate::client::Client;
use crate::genl;
use crate::uapi::{A_COUNTER_NAME, A_COUNTER_VALUE, CMD_STATS_GET};
use crate::Failure;
use std::fmt::Write as _;

/// Renders counters as aligned text or as one JSON object.
pub(crate) fn render(counters: &[(String, u64)], json: bool) -> String {
    let mut out = String::new();
    if json {
        let fields: Vec<String> = counters
            .iter()
            .map(|(n, v)| format!("\"{n}\":{v}"))
            .collect();
        let _ = writeln!(out, "{{{}}}", fields.join(","));
    } else {
        let width = counters.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
        for (name, value) in counters {
            let _ = writeln!(out, "{name:<width$}  {value}");
        }
    }
    out
}

pub(crate) fn show(json: bool) -> Result<String, Failure> {
    let mut client = Client::connect()?;
    let counters = client
        .dump(CMD_STATS_GET)?
        .iter()
        .map(|a| {
            match (
                genl::get_str(a, A_COUNTER_NAME),
                genl::get_u64(a, A_COUNTER_VALUE),
            ) {
                (Some(name), Some(value)) => Ok((name, value)),
                _ => Err(Failure::Failed("malformed counter in the reply".into())),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(render(&counters, json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders() {
        let c = vec![("hook_packets".into(), 12), ("hook_bytes".into(), 1008)];
        assert_eq!(
            render(&c, true),
            "{\"hook_packets\":12,\"hook_bytes\":1008}\n"
        );
        assert_eq!(render(&c, false), "hook_packets  12\nhook_bytes    1008\n");
    }
}

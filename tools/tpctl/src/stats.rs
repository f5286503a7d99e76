//! `tpctl stats`: the node's counters, from `/proc/net/tpcluster`.

use crate::Failure;
use std::fmt::Write as _;

const PROC_FILE: &str = "/proc/net/tpcluster";

/// Parses the module's `name value` lines. Unknown names are kept (the
/// module may be newer than tpctl); malformed lines are an error.
pub(crate) fn parse(text: &str) -> Result<Vec<(String, u64)>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let mut it = line.split_whitespace();
            match (it.next(), it.next().map(str::parse::<u64>), it.next()) {
                (Some(name), Some(Ok(value)), None) => Ok((name.to_string(), value)),
                _ => Err(format!("malformed counter line: '{line}'")),
            }
        })
        .collect()
}

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
    let text = std::fs::read_to_string(PROC_FILE).map_err(|e| {
        Failure::Failed(match e.kind() {
            std::io::ErrorKind::NotFound => {
                format!("{PROC_FILE} not found: is the tpcluster module loaded?")
            }
            _ => format!("reading {PROC_FILE}: {e}"),
        })
    })?;
    let counters = parse(&text).map_err(Failure::Failed)?;
    Ok(render(&counters, json))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders() {
        let c = parse("hook_packets 12\nhook_bytes 1008\n").unwrap();
        assert_eq!(
            c,
            vec![("hook_packets".into(), 12), ("hook_bytes".into(), 1008)]
        );
        assert_eq!(
            render(&c, true),
            "{\"hook_packets\":12,\"hook_bytes\":1008}\n"
        );
        assert_eq!(render(&c, false), "hook_packets  12\nhook_bytes    1008\n");
    }

    #[test]
    fn rejects_malformed_lines() {
        assert!(parse("hook_packets\n").is_err());
        assert!(parse("hook_packets -1\n").is_err());
        assert!(parse("hook_packets 1 2\n").is_err());
    }
}

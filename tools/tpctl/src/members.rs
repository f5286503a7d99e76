//! `tpctl cluster show` and `tpctl monitor`: the members of the cluster as
//! this node sees them, and their changes as they happen.

use crate::client::Client;
use crate::genl::{self, Attr};
use crate::uapi::*;
use crate::{objects::render, Failure};
use std::io::Write as _;

/// One member's fields, in display order.
fn member_row(a: &[Attr]) -> Vec<(&'static str, String, bool)> {
    let state = genl::get_u32(a, A_MEMBER_STATE)
        .and_then(|s| MEMBER_STATES.get(s as usize))
        .copied()
        .unwrap_or("unknown");
    let last = match genl::get_u32(a, A_MEMBER_LAST_HEARD_MS) {
        Some(u32::MAX) | None => "never".to_string(),
        Some(ms) => ms.to_string(),
    };
    let addr = genl::get(a, A_MEMBER_ADDR)
        .filter(|v| v.len() == 4)
        .map(|v| format!("{}.{}.{}.{}", v[0], v[1], v[2], v[3]))
        .unwrap_or_else(|| "-".into());
    vec![
        (
            "id",
            genl::get_u32(a, A_MEMBER_ID).unwrap_or(0).to_string(),
            true,
        ),
        ("addr", addr, false),
        ("state", state.to_string(), false),
        (
            "incarnation",
            genl::get_u32(a, A_MEMBER_INCARNATION)
                .unwrap_or(0)
                .to_string(),
            true,
        ),
        ("last_heard_ms", last.clone(), last != "never"),
    ]
}

/// `tpctl cluster [show]`.
pub(crate) fn cluster(args: &[&str], json: bool) -> Result<String, Failure> {
    match args {
        [] | ["show"] => {
            let mut client = Client::connect()?;
            let rows: Vec<_> = client
                .dump(CMD_MEMBER_GET)?
                .iter()
                .map(|a| member_row(a))
                .collect();
            Ok(render(&rows, json, true))
        }
        _ => Err(Failure::Usage("usage: tpctl cluster [show]".into())),
    }
}

/// `tpctl monitor [node ID] [count N]`: prints each membership change as it
/// happens (of node ID only, if given), one line (or JSON object) each;
/// with `count`, exits after N.
pub(crate) fn monitor(args: &[&str], json: bool) -> Result<String, Failure> {
    let usage = || Failure::Usage("usage: tpctl monitor [node ID] [count N]".into());
    let (mut node, mut limit) = (None, None);
    let mut rest = args;
    while let [key, value, tail @ ..] = rest {
        let n = value
            .parse::<u64>()
            .map_err(|_| Failure::Usage(format!("invalid {key} '{value}'")))?;
        match *key {
            "node" => node = Some(u32::try_from(n).map_err(|_| usage())?),
            "count" => limit = Some(n),
            _ => return Err(usage()),
        }
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(usage());
    }
    let mut client = Client::connect()?;
    client.subscribe(MCGRP_MONITOR)?;
    let mut seen = 0u64;
    let stdout = std::io::stdout();
    while limit.map_or(true, |l| seen < l) {
        for (cmd, attrs) in client.notifications()? {
            if cmd != CMD_MEMBER_NTF
                || node.is_some_and(|id| genl::get_u32(&attrs, A_MEMBER_ID) != Some(id))
            {
                continue;
            }
            let text = render(&[member_row(&attrs)], json, false);
            let mut out = stdout.lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            seen += 1;
        }
    }
    Ok(String::new())
}

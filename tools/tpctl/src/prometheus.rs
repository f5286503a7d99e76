//! `tpctl stats show -f prometheus`: the counters in the Prometheus text
//! exposition format, for node_exporter's textfile collector (a file per
//! node, rewritten by a timer: `tpctl stats show -f prometheus > FILE.$$ &&
//! mv FILE.$$ FILE.prom`).
//!
//! Each counter is `tpcluster_NAME{node="ID"}` with a `# HELP` line: the
//! kernel's own description of it, the doc comment of its variant in
//! `stats.rs`, taken in at build time so the two never differ.

use std::fmt::Write as _;

/// The module's counter definitions (`Variant => "name"`, each after its
/// doc comment).
const STATS_RS: &str = include_str!("../../../stats.rs");

/// The description of counter `name` in `stats.rs`, on one line; `None`
/// for a counter this tpctl does not know (a newer module).
pub(crate) fn help(name: &str) -> Option<String> {
    let quoted = format!("=> \"{name}\"");
    let mut doc: Vec<&str> = Vec::new();
    for line in STATS_RS.lines().map(str::trim) {
        if let Some(text) = line.strip_prefix("///") {
            doc.push(text.trim());
        } else if line.ends_with(&format!("{quoted},")) {
            return (!doc.is_empty()).then(|| doc.join(" "));
        } else {
            doc.clear();
        }
    }
    None
}

/// Whether `name` is a gauge (it goes up and down): defined after the
/// gauges' marker line of `stats.rs`. Anything else is a counter.
pub(crate) fn is_gauge(name: &str) -> bool {
    let (Some(marker), Some(at)) = (
        STATS_RS.find("// Gauges below this line"),
        STATS_RS.find(&format!("=> \"{name}\",")),
    ) else {
        return false;
    };
    at > marker
}

/// Escapes a HELP text as the format asks: backslash and line feed.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// The exposition of `counters` of node `node`.
pub(crate) fn render(counters: &[(String, u64)], node: u32) -> String {
    let mut out = String::new();
    for (name, value) in counters {
        // Counter names are lower case, digits and underscores already;
        // anything else becomes an underscore, as the format allows no more.
        let metric: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let text = help(name).unwrap_or_else(|| format!("tpcluster counter {name}"));
        let _ = writeln!(out, "# HELP tpcluster_{metric} {}", escape(&text));
        let kind = if is_gauge(name) { "gauge" } else { "counter" };
        let _ = writeln!(out, "# TYPE tpcluster_{metric} {kind}");
        let _ = writeln!(out, "tpcluster_{metric}{{node=\"{node}\"}} {value}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_counter_of_the_module_has_its_help() {
        // Every `=> "name",` line of stats.rs is a counter.
        let names: Vec<&str> = STATS_RS
            .lines()
            .filter_map(|l| {
                l.trim()
                    .strip_prefix("=> \"")
                    .or_else(|| l.split("=> \"").nth(1))
            })
            .filter_map(|rest| rest.strip_suffix("\","))
            .collect();
        assert!(names.len() > 50, "{} counters found", names.len());
        for n in names {
            let h = help(n).unwrap_or_default();
            assert!(h.len() > 10, "{n}: {h:?}");
        }
        assert_eq!(
            help("member_up").as_deref(),
            Some("Peers that became live.")
        );
        assert_eq!(help("no_such_counter"), None);
        assert!(is_gauge("replica_entries"));
        assert!(!is_gauge("replica_connections"));
        assert!(!is_gauge("no_such_counter"));
    }

    #[test]
    fn exposition() {
        let c = vec![("member_up".to_string(), 3), ("odd-name".to_string(), 1)];
        assert_eq!(
            render(&c, 2),
            "# HELP tpcluster_member_up Peers that became live.\n\
             # TYPE tpcluster_member_up counter\n\
             tpcluster_member_up{node=\"2\"} 3\n\
             # HELP tpcluster_odd_name tpcluster counter odd-name\n\
             # TYPE tpcluster_odd_name counter\n\
             tpcluster_odd_name{node=\"2\"} 1\n"
        );
        assert_eq!(escape("a\\b\nc"), "a\\\\b\\nc");
    }
}

//! `serve PORT echo` and `hold`: long-lived connections that keep talking,
//! to see whether a connection stalls, resets, or changes server.

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader, Write},
    net::TcpStream,
    sync::mpsc,
    time::{Duration, Instant},
};

/// A connection that waits this long for an answer counts as stalled,
/// unless `TPTEST_STALL_MS` says how long.
const STALLED: Duration = Duration::from_secs(5);

pub(crate) fn stalled_after() -> Duration {
    std::env::var("TPTEST_STALL_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(STALLED, Duration::from_millis)
}

/// The name an echo server puts before each line: `TPTEST_NAME` if set,
/// else the host name. Replicas of a replicate service must answer alike
/// (the module checks that they do), so their tests name them all the same.
pub(crate) fn echo_name() -> std::io::Result<String> {
    match std::env::var("TPTEST_NAME") {
        Ok(name) => Ok(name),
        Err(_) => Ok(std::fs::read_to_string("/proc/sys/kernel/hostname")?
            .trim()
            .to_string()),
    }
}

/// Serves one echo connection: each line comes back as `NAME LINE`
/// ([`echo_name`]).
pub(crate) fn echo(conn: TcpStream) -> std::io::Result<()> {
    let name = echo_name()?;
    let mut out = conn.try_clone()?;
    for line in BufReader::new(conn).lines() {
        writeln!(out, "{name} {}", line?)?;
    }
    Ok(())
}

/// What one held connection saw.
pub(crate) struct Held {
    /// The server that answered first.
    pub(crate) server: String,
    /// Round trips completed.
    pub(crate) answered: u64,
    /// Longest round trip.
    pub(crate) max_rtt: Duration,
    /// Answers from another server than the first.
    pub(crate) changed: u64,
    /// Why it ended early, if it did.
    pub(crate) error: Option<String>,
}

fn hold_one(host: &str, port: u16, until: Instant, interval: Duration) -> Held {
    let mut held = Held {
        server: "none".into(),
        answered: 0,
        max_rtt: Duration::ZERO,
        changed: 0,
        error: None,
    };
    let result = (|| -> std::io::Result<()> {
        let conn = TcpStream::connect((host, port))?;
        conn.set_read_timeout(Some(stalled_after()))?;
        let mut out = conn.try_clone()?;
        let mut lines = BufReader::new(conn).lines();
        let mut seq = 0u64;
        while Instant::now() < until {
            let sent = Instant::now();
            writeln!(out, "{seq}")?;
            let line = lines.next().ok_or_else(|| {
                std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed by the server")
            })??;
            held.max_rtt = held.max_rtt.max(sent.elapsed());
            let (server, echoed) = line.split_once(' ').unwrap_or(("?", ""));
            if echoed != seq.to_string() {
                return Err(std::io::Error::other(format!("echo {echoed}, want {seq}")));
            }
            if held.answered == 0 {
                held.server = server.to_string();
            } else if server != held.server {
                held.changed += 1;
            }
            held.answered += 1;
            seq += 1;
            std::thread::sleep(interval);
        }
        Ok(())
    })();
    if let Err(e) = result {
        held.error = Some(error_name(&e));
    }
    held
}

/// What `hold` and `hold-many` call an error: `stalled` (no answer in
/// time), `reset`, or the error itself.
pub(crate) fn error_name(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => "stalled".into(),
        std::io::ErrorKind::ConnectionReset => "reset".into(),
        _ => e.to_string(),
    }
}

/// `hold HOST PORT N SECONDS [INTERVAL_MS]`: N echo connections, each
/// sending a numbered line every INTERVAL_MS (default 50) for SECONDS and
/// checking the answer. Prints `held=N` and one line per server:
/// `SERVER connections=C ok=K failed=F max_rtt_ms=M changed=X errors=...`,
/// where a connection is ok if it kept answering until the end, and
/// `changed` counts answers from another server than its first.
pub(crate) fn hold(host: &str, port: u16, n: u32, seconds: u64, interval_ms: u64) -> String {
    let until = Instant::now() + Duration::from_secs(seconds);
    let interval = Duration::from_millis(interval_ms);
    let (tx, rx) = mpsc::channel();
    for _ in 0..n {
        let (tx, host) = (tx.clone(), host.to_string());
        std::thread::spawn(move || {
            let _ = tx.send(hold_one(&host, port, until, interval));
        });
        // Spread the connections' rhythm.
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(tx);
    summary(n, rx)
}

/// The report of `hold` and `hold-many` on `n` connections: `held=N`, then
/// a line per server (see [`hold`]).
pub(crate) fn summary(n: u32, held: impl IntoIterator<Item = Held>) -> String {
    #[derive(Default)]
    struct PerServer {
        connections: u32,
        ok: u32,
        max_rtt: Duration,
        changed: u64,
        errors: BTreeMap<String, u32>,
    }
    let mut servers = BTreeMap::<String, PerServer>::new();
    for held in held {
        let s = servers.entry(held.server).or_default();
        s.connections += 1;
        s.max_rtt = s.max_rtt.max(held.max_rtt);
        s.changed += held.changed;
        match held.error {
            None => s.ok += 1,
            Some(e) => *s.errors.entry(e).or_default() += 1,
        }
    }
    let mut out = format!("held={n}");
    for (name, s) in servers {
        let errors: Vec<String> = s.errors.iter().map(|(e, c)| format!("{e}:{c}")).collect();
        out += &format!(
            "\n{name} connections={} ok={} failed={} max_rtt_ms={} changed={} errors={}",
            s.connections,
            s.ok,
            s.connections - s.ok,
            s.max_rtt.as_millis(),
            s.changed,
            if errors.is_empty() {
                "-".into()
            } else {
                errors.join(",")
            }
        );
    }
    out
}

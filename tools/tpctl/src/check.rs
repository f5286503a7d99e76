//! `tpctl service check`: a health checker of one service on this node.
//!
//! The module itself knows only whether an application listens (its
//! readiness). Whether that application answers correctly is for a check
//! the admin chooses: a TCP connect, an HTTP request, a command. It runs
//! here, in userspace, as keepalived's checkers do: it may block, spawn
//! programs and speak protocols, none of which belongs in softirq or in a
//! kernel thread, and it can be supervised, restarted and replaced without
//! touching the module. Each time its verdict changes it tells the module
//! (`service-set`, attribute `healthy`); the module then counts the service
//! as not ready on this node, and the other members take its new
//! connections (connections the node holds stay).

use crate::{
    args,
    netlink::{self, Client},
    objects,
};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a check does once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Probe {
    /// Connects: passes when the connection is accepted.
    Tcp,
    /// `GET PATH`: passes on a 2xx or 3xx status.
    Http { path: String },
    /// Runs `sh -c COMMAND`: passes when it exits 0.
    Exec { command: String },
}

/// `service check VIP:PORT PROBE [addr A] [port P] [interval MS]
/// [timeout MS] [rise N] [fall N]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Check {
    /// The service whose health this node's verdict sets.
    pub(crate) vip: Ipv4Addr,
    pub(crate) port: u16,
    pub(crate) probe: Probe,
    /// Where a TCP or HTTP probe connects: 127.0.0.1 and the service's
    /// port unless given (a health endpoint may listen elsewhere).
    pub(crate) target: SocketAddr,
    /// Time between the starts of two probes.
    pub(crate) interval: Duration,
    /// Longest a probe may take; a slower one fails.
    pub(crate) timeout: Duration,
    /// Passes in a row that make the service healthy.
    pub(crate) rise: u32,
    /// Failures in a row that make it unhealthy.
    pub(crate) fall: u32,
}

/// Parses the words after `service check VIP:PORT`.
pub(crate) fn parse(service: &str, words: &[String]) -> Result<Check, String> {
    let (vip, port) = args::endpoint("service", service)?;
    let (probe, rest) = match words {
        [kind, rest @ ..] if kind == "tcp" => (Probe::Tcp, rest),
        [kind, path, rest @ ..] if kind == "http" => {
            if !path.starts_with('/') || path.chars().any(|c| c.is_ascii_whitespace()) {
                return Err(format!(
                    "bad HTTP path '{path}': it starts with '/' and has no space"
                ));
            }
            (Probe::Http { path: path.clone() }, rest)
        }
        [kind, command, rest @ ..] if kind == "exec" => (
            Probe::Exec {
                command: command.clone(),
            },
            rest,
        ),
        [kind] if kind == "http" || kind == "exec" => {
            return Err(format!(
                "'{kind}' needs a value ({})",
                if kind == "http" {
                    "a path"
                } else {
                    "a command"
                }
            ))
        }
        _ => return Err("missing the probe: tcp, http PATH or exec COMMAND".into()),
    };
    let mut check = Check {
        vip,
        port,
        probe,
        target: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        interval: Duration::from_millis(1000),
        timeout: Duration::from_millis(1000),
        rise: 2,
        fall: 3,
    };
    let ms = |what: &str, v: &str| -> Result<Duration, String> {
        match args::number::<u64>(what, v)? {
            0 => Err(format!("'{what}' must be above 0 ms")),
            n => Ok(Duration::from_millis(n)),
        }
    };
    let count = |what: &str, v: &str| -> Result<u32, String> {
        match args::number::<u32>(what, v)? {
            0 => Err(format!("'{what}' must be at least 1")),
            n => Ok(n),
        }
    };
    let known = ["addr", "port", "interval", "timeout", "rise", "fall"];
    let mut timeout = None;
    for (k, v) in args::pairs(rest, &known)? {
        match k {
            "addr" => check.target.set_ip(args::ipv4("addr", v)?.into()),
            "port" => match args::number::<u16>("port", v)? {
                0 => return Err("'port' must be 1 to 65535".into()),
                p => check.target.set_port(p),
            },
            "interval" => check.interval = ms("interval", v)?,
            "timeout" => timeout = Some(ms("timeout", v)?),
            "rise" => check.rise = count("rise", v)?,
            _ => check.fall = count("fall", v)?,
        }
    }
    // A probe slower than the interval would overlap the next one.
    check.timeout = timeout.unwrap_or(check.timeout).min(check.interval);
    Ok(check)
}

/// The verdict that a run of probe results makes.
///
/// # Invariants
///
/// At most one of `passes` and `failures` is above 0: each counts results
/// in a row, and a result of the other kind ends the run.
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    healthy: Option<bool>,
    passes: u32,
    failures: u32,
}

impl Verdict {
    /// Takes one result; returns the verdict when it forms or changes:
    /// after `rise` passes in a row, or `fall` failures in a row.
    pub(crate) fn take(&mut self, passed: bool, rise: u32, fall: u32) -> Option<bool> {
        if passed {
            self.failures = 0;
            self.passes = self.passes.saturating_add(1);
        } else {
            self.passes = 0;
            self.failures = self.failures.saturating_add(1);
        }
        let now = if self.passes >= rise {
            true
        } else if self.failures >= fall {
            false
        } else {
            return None;
        };
        (self.healthy != Some(now)).then(|| {
            self.healthy = Some(now);
            now
        })
    }

    /// The verdict, once formed.
    pub(crate) fn healthy(&self) -> Option<bool> {
        self.healthy
    }
}

/// Probes once; `Err` says why it failed.
pub(crate) fn probe(check: &Check) -> Result<(), String> {
    match &check.probe {
        Probe::Tcp => connect(check).map(drop),
        Probe::Http { path } => http(check, path),
        Probe::Exec { command } => exec(command, check.timeout),
    }
}

fn connect(check: &Check) -> Result<TcpStream, String> {
    let stream = TcpStream::connect_timeout(&check.target, check.timeout)
        .map_err(|e| format!("connect to {}: {}", check.target, crate::io_text(&e)))?;
    let io = |e: std::io::Error| format!("{}: {}", check.target, crate::io_text(&e));
    stream.set_read_timeout(Some(check.timeout)).map_err(io)?;
    stream.set_write_timeout(Some(check.timeout)).map_err(io)?;
    Ok(stream)
}

/// Longest response head an HTTP probe reads.
const HTTP_HEAD_MAX: usize = 16 * 1024;

fn http(check: &Check, path: &str) -> Result<(), String> {
    let started = Instant::now();
    let mut stream = connect(check)?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}:{}\r\nUser-Agent: tpctl-check\r\nConnection: close\r\n\r\n",
        check.vip, check.port
    );
    let io = |e: std::io::Error| format!("HTTP {path}: {}", crate::io_text(&e));
    stream.write_all(request.as_bytes()).map_err(io)?;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    loop {
        if started.elapsed() > check.timeout {
            return Err(format!("HTTP {path}: no answer within the timeout"));
        }
        // Each read waits only for what is left of the timeout.
        let left = check.timeout.saturating_sub(started.elapsed());
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .map_err(io)?;
        let n = stream.read(&mut buf).map_err(io)?;
        if n == 0 {
            return Err(format!("HTTP {path}: connection closed before a status"));
        }
        head.extend_from_slice(&buf[..n]);
        match status_of(&head)? {
            Some(code) if (200..400).contains(&code) => return Ok(()),
            Some(code) => return Err(format!("HTTP {path}: status {code}")),
            None if head.len() >= HTTP_HEAD_MAX => {
                return Err(format!(
                    "HTTP {path}: response head over {HTTP_HEAD_MAX} bytes"
                ))
            }
            None => {}
        }
    }
}

/// The status of an HTTP response whose first bytes are `head`, once its
/// head is complete; `Err` if it is not HTTP.
pub(crate) fn status_of(head: &[u8]) -> Result<Option<u16>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(head) {
        Ok(httparse::Status::Complete(_)) => Ok(response.code),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(format!("not an HTTP response: {e}")),
    }
}

fn exec(command: &str, timeout: Duration) -> Result<(), String> {
    // Its own process group, so that a probe that outlives its timeout goes
    // with everything it started (`a | b`, `a && b`), not only the shell.
    let mut child = Command::new("sh")
        .args(["-c", command])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("exec {command:?}: {}", crate::io_text(&e)))?;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("exec {command:?}: {status}")),
            Ok(None) if started.elapsed() >= timeout => {
                if let Ok(pgid) = libc::pid_t::try_from(child.id()) {
                    // SAFETY: kill(2) with a negative pid signals the
                    // process group the child leads (`process_group(0)`);
                    // it has not been reaped, so the id names it still.
                    unsafe { libc::kill(-pgid, libc::SIGKILL) };
                }
                let _ = child.wait();
                return Err(format!("exec {command:?}: still running after the timeout"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("exec {command:?}: {}", crate::io_text(&e))),
        }
    }
}

/// Probes every interval and tells the module the verdict after every
/// probe once it has formed (a service deleted and added again, or
/// restored, starts healthy: it learns the verdict at once), until the
/// module refuses it (the service was deleted, the module unloaded).
/// Prints each change of verdict.
pub(crate) fn run(c: &mut Client, check: &Check) -> Result<(), netlink::Error> {
    let mut verdict = Verdict::default();
    loop {
        let started = Instant::now();
        let result = probe(check);
        let changed = verdict.take(result.is_ok(), check.rise, check.fall);
        if let Some(healthy) = verdict.healthy() {
            objects::service_health(c, check.vip, check.port, healthy)?;
        }
        if let Some(healthy) = changed {
            let why = match &result {
                Ok(()) => format!("{} passes in a row", check.rise),
                Err(e) => format!("{} failures in a row, the last: {e}", check.fall),
            };
            println!(
                "{}:{} {} ({why})",
                check.vip,
                check.port,
                if healthy { "healthy" } else { "unhealthy" }
            );
        }
        std::thread::sleep(check.interval.saturating_sub(started.elapsed()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn parses_every_probe_and_option() {
        let c = parse(
            "10.0.0.100:80",
            &words("http /health port 8081 interval 100 rise 1 fall 2"),
        )
        .unwrap();
        assert_eq!(
            c.probe,
            Probe::Http {
                path: "/health".into()
            }
        );
        assert_eq!(c.target, "127.0.0.1:8081".parse().unwrap());
        assert_eq!(c.interval, Duration::from_millis(100));
        assert_eq!(
            c.timeout,
            Duration::from_millis(100),
            "never above the interval"
        );
        assert_eq!((c.rise, c.fall), (1, 2));
        let c = parse("10.0.0.100:80", &words("tcp addr 10.0.0.100")).unwrap();
        assert_eq!(c.target, "10.0.0.100:80".parse().unwrap());
        assert_eq!((c.rise, c.fall), (2, 3));
        let c = parse(
            "10.0.0.100:80",
            &["exec".to_string(), "test -f /run/ok".to_string()],
        )
        .unwrap();
        assert_eq!(
            c.probe,
            Probe::Exec {
                command: "test -f /run/ok".into()
            }
        );
        for bad in [
            "",
            "ping",
            "http",
            "http health",
            "tcp interval 0",
            "tcp rise 0",
            "tcp port 0",
            "tcp fall",
            "tcp rise 2 rise 3",
            "tcp colour red",
        ] {
            assert!(parse("10.0.0.100:80", &words(bad)).is_err(), "{bad:?}");
        }
        assert!(parse("10.0.0.100", &words("tcp")).is_err());
    }

    #[test]
    fn verdict_needs_a_run_of_rise_or_fall() {
        let mut v = Verdict::default();
        assert_eq!(v.take(false, 2, 3), None);
        assert_eq!(v.take(false, 2, 3), None);
        assert_eq!(v.take(true, 2, 3), None, "a pass ends the run of failures");
        assert_eq!(v.take(true, 2, 3), Some(true), "formed: told");
        assert_eq!(v.take(true, 2, 3), None, "unchanged: not told again");
        assert_eq!(v.take(false, 2, 3), None);
        assert_eq!(v.take(false, 2, 3), None);
        assert_eq!(v.take(false, 2, 3), Some(false));
        assert_eq!(v.take(false, 2, 3), None);
        assert_eq!(v.take(true, 1, 3), Some(true));
    }

    #[test]
    fn http_status_from_the_head() {
        assert_eq!(status_of(b"HTTP/1.1 200 OK\r\n\r\n"), Ok(Some(200)));
        assert_eq!(
            status_of(b"HTTP/1.0 404 Not Found\r\nA: b\r\n\r\nbody"),
            Ok(Some(404))
        );
        assert_eq!(status_of(b"HTTP/1.1 200 OK\r\nA: b"), Ok(None));
        assert!(status_of(b"SSH-2.0-OpenSSH\r\n").is_err());
    }

    /// A one-shot HTTP server on a loopback port answering `status`.
    fn serve_once(status: &'static str) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
            let _ =
                s.write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes());
        });
        addr
    }

    fn check_of(probe: Probe, target: SocketAddr) -> Check {
        Check {
            vip: Ipv4Addr::new(10, 0, 0, 100),
            port: 80,
            probe,
            target,
            interval: Duration::from_millis(2000),
            timeout: Duration::from_millis(2000),
            rise: 1,
            fall: 1,
        }
    }

    #[test]
    fn probes_pass_and_fail_as_the_server_answers() {
        let http = |status| {
            let path = "/health".to_string();
            probe(&check_of(Probe::Http { path }, serve_once(status)))
        };
        assert_eq!(http("200 OK"), Ok(()));
        assert_eq!(http("302 Found"), Ok(()));
        assert_eq!(
            http("503 Service Unavailable"),
            Err("HTTP /health: status 503".into())
        );
        // Nothing listens on a port just closed.
        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        assert!(probe(&check_of(Probe::Tcp, closed)).is_err());
        assert!(probe(&check_of(Probe::Tcp, serve_once("200 OK"))).is_ok());
        let exec = |command: &str| {
            let command = command.to_string();
            probe(&check_of(Probe::Exec { command }, closed))
        };
        assert_eq!(exec("true"), Ok(()));
        assert!(exec("exit 3").is_err());
        let mut slow = check_of(
            Probe::Exec {
                command: "sleep 5".into(),
            },
            closed,
        );
        slow.timeout = Duration::from_millis(100);
        let started = Instant::now();
        assert!(probe(&slow).is_err());
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "killed at the timeout"
        );
    }
}

//! `tptest http`: an HTTP/1.1 client keeping one connection for a list of
//! requests, sent one at a time or all at once (pipelined), as any
//! keep-alive client would.

use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;

/// Requests each path of `paths` on one connection to `host:port`; prints
/// one line per response: `PATH served-by=NODE bytes=N sha256=HEX`, then
/// `responses=N failed=F`. With `pipelined`, every request is written
/// before the first response is read.
pub(crate) fn get(
    host: &str,
    port: u16,
    paths: &[String],
    pipelined: bool,
) -> std::io::Result<String> {
    let conn = TcpStream::connect((host, port))?;
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    let request =
        |p: &str| format!("GET {p} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n");
    if pipelined {
        let all: String = paths.iter().map(|p| request(p)).collect();
        writer.write_all(all.as_bytes())?;
    }
    let mut out = String::new();
    let mut failed = 0;
    for path in paths {
        if !pipelined {
            writer.write_all(request(path).as_bytes())?;
        }
        match response(&mut reader) {
            Ok((served_by, bytes, sha)) => out.push_str(&format!(
                "{path} served-by={served_by} bytes={bytes} sha256={sha}\n"
            )),
            Err(e) => {
                failed += 1;
                out.push_str(&format!("{path} error={e}\n"));
                break;
            }
        }
    }
    out.push_str(&format!(
        "responses={} failed={failed}",
        paths.len() - failed
    ));
    Ok(out)
}

/// Like [`get`], but the paths come one per line from standard input and
/// each response's line is printed (and flushed) as it completes, so that a
/// script can act between requests of one connection.
pub(crate) fn get_stdin(host: &str, port: u16) -> std::io::Result<String> {
    let conn = TcpStream::connect((host, port))?;
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    let (mut ok, mut failed) = (0, 0);
    for path in std::io::stdin().lines() {
        let path = path?;
        writer.write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n")
                .as_bytes(),
        )?;
        let line = match response(&mut reader) {
            Ok((served_by, bytes, sha)) => {
                ok += 1;
                format!("{path} served-by={served_by} bytes={bytes} sha256={sha}")
            }
            Err(e) => {
                failed += 1;
                format!("{path} error={e}")
            }
        };
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}")?;
        out.flush()?;
        if failed > 0 {
            break;
        }
    }
    Ok(format!("responses={ok} failed={failed}"))
}

/// Reads one response: its `X-Served-By` node, body length and hash.
fn response(r: &mut BufReader<TcpStream>) -> std::io::Result<(String, u64, String)> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let mut line = String::new();
    r.read_line(&mut line)?;
    if !line.starts_with("HTTP/1.1 200") {
        return Err(bad(&format!("status '{}'", line.trim())));
    }
    let (mut len, mut served_by) = (None, String::from("?"));
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Err(bad("connection closed in the head"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            match k.to_ascii_lowercase().as_str() {
                "content-length" => len = v.trim().parse().ok(),
                "x-served-by" => served_by = v.trim().trim_start_matches("node ").to_string(),
                _ => {}
            }
        }
    }
    let len: u64 = len.ok_or_else(|| bad("no Content-Length"))?;
    let mut h = Sha256::new();
    let mut left = len;
    let mut buf = vec![0u8; 64 * 1024];
    while left > 0 {
        let n = r.read(&mut buf[..left.min(64 * 1024) as usize])?;
        if n == 0 {
            return Err(bad("connection closed in the body"));
        }
        h.update(&buf[..n]);
        left -= n as u64;
    }
    Ok((served_by, len, format!("{:x}", h.finalize())))
}

/// Requests `count` times, cycling through `paths`, on one connection;
/// prints `requests=N bytes=B seconds=S req_per_s=R mbit_s=M
/// ttfb_p50_ms=T ttfb_p99_ms=T`, the time to first byte being from the
/// request's write to its response's first byte.
pub(crate) fn bench(
    host: &str,
    port: u16,
    count: usize,
    paths: &[String],
) -> std::io::Result<String> {
    let conn = TcpStream::connect((host, port))?;
    conn.set_nodelay(true)?;
    let mut writer = conn.try_clone()?;
    let mut reader = BufReader::new(conn);
    let mut ttfb = Vec::with_capacity(count);
    let mut bytes = 0u64;
    let start = std::time::Instant::now();
    for path in paths.iter().cycle().take(count) {
        let sent = std::time::Instant::now();
        writer.write_all(format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())?;
        reader.fill_buf()?;
        ttfb.push(sent.elapsed().as_secs_f64() * 1000.0);
        let (_, n, _) = response(&mut reader)?;
        bytes += n;
    }
    let secs = start.elapsed().as_secs_f64();
    ttfb.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        ttfb.get(((ttfb.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    Ok(format!(
        "requests={count} bytes={bytes} seconds={secs:.3} req_per_s={:.1} mbit_s={:.1} ttfb_p50_ms={:.2} ttfb_p99_ms={:.2}",
        count as f64 / secs,
        bytes as f64 * 8.0 / secs / 1e6,
        pct(0.5),
        pct(0.99)
    ))
}

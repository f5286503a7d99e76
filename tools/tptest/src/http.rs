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

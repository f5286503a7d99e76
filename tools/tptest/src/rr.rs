//! Request/response over one connection, deterministic on both ends so
//! that every replica of a replicate service answers alike.
//!
//! A request is the line `SIZE SEED`; the answer is SIZE bytes of the
//! stream of SEED. The client sends each request in two halves with a
//! pause between them (so a failover can fall in the middle of one), reads
//! the answer, checks its SHA-256 and times it.

use crate::{digest, generate, CHUNK};
use sha2::{Digest, Sha256};
use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    time::{Duration, Instant},
};

/// Longest answer a server gives.
const MAX_SIZE: u64 = 64 << 20;

/// Serves requests on `conn` until the client closes it.
pub(crate) fn serve(conn: TcpStream) -> std::io::Result<()> {
    let mut out = conn.try_clone()?;
    for line in BufReader::new(conn).lines() {
        let line = line?;
        let mut words = line.split_whitespace().map(str::parse::<u64>);
        let (Some(Ok(size)), Some(Ok(seed))) = (words.next(), words.next()) else {
            return Err(std::io::Error::other(format!("bad request '{line}'")));
        };
        generate(size.min(MAX_SIZE), seed, |c| out.write_all(c))?;
    }
    Ok(())
}

/// `count` requests for `size` bytes each on one connection, each sent in
/// two halves `split` apart. Prints how many answers were right and the
/// round-trip times: `requests=N ok=K p50_ms=.. p99_ms=.. max_ms=..`.
pub(crate) fn client(
    host: &str,
    port: u16,
    count: u64,
    size: u64,
    split: Duration,
) -> std::io::Result<String> {
    let mut conn = TcpStream::connect((host, port))?;
    conn.set_nodelay(true)?;
    let mut timeline = crate::timeline::Timeline::from_env()?;
    let mut buf = vec![0u8; CHUNK];
    let mut times = Vec::new();
    let mut ok = 0;
    for seed in 0..count {
        let request = format!("{size} {seed}\n");
        let (first, second) = request.split_at(request.len() / 2);
        let start = Instant::now();
        conn.write_all(first.as_bytes())?;
        if !split.is_zero() {
            std::thread::sleep(split);
        }
        conn.write_all(second.as_bytes())?;
        let mut h = Sha256::new();
        let mut left = size;
        while left > 0 {
            let n = conn.read(&mut buf[..left.min(CHUNK as u64) as usize])?;
            if n == 0 {
                return Err(std::io::Error::other(format!(
                    "closed after {ok} of {count} answers"
                )));
            }
            timeline.moved(n)?;
            h.update(&buf[..n]);
            left -= n as u64;
        }
        times.push(start.elapsed());
        if crate::report(size, h) == digest(size, seed) {
            ok += 1;
        }
    }
    timeline.finish()?;
    times.sort();
    let at = |q: f64| {
        times
            .get(((times.len() as f64 - 1.0) * q).round() as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Ok(format!(
        "requests={count} ok={ok} p50_ms={:.2} p99_ms={:.2} max_ms={:.2}",
        at(0.5),
        at(0.99),
        at(1.0)
    ))
}

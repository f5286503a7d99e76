//! tptest: traffic for VM tests, as unmodified client and server programs
//! would make it.
//!
//! A source sends a deterministic pseudo-random byte stream (seeded), so
//! both ends can compute the SHA-256 of what should arrive without shipping
//! the data around; a sink hashes whatever really arrives.
//!
//!   tptest sink PORT                 accept one connection, read to EOF,
//!                                    print `bytes=N sha256=HEX`
//!   tptest source HOST PORT BYTES [SEED] [PAUSE_MS]
//!                                    send BYTES bytes in 64 KiB chunks
//!                                    (`TPTEST_CHUNK` bytes, if set),
//!                                    pausing PAUSE_MS between chunks; print
//!                                    `bytes=N sha256=HEX` of what was sent
//!   tptest digest BYTES [SEED]       print `bytes=N sha256=HEX` of the stream
//!   tptest run-as UID PROG [ARGS]    run PROG as user and group UID, with no
//!                                    capabilities (for permission tests)
//!   tptest serve PORT MODE [BYTES [SEED]]
//!                                    serve connections until killed, each in
//!                                    a thread; MODE `name`: send this host's
//!                                    name; `hash`: read to EOF, answer
//!                                    `bytes=N sha256=HEX`; `stream`: send
//!                                    the stream of BYTES and SEED; `echo`:
//!                                    answer each line with `NAME LINE`
//!                                    (NAME: `TPTEST_NAME`, or the host's);
//!                                    `echo-poll`: the same, every
//!                                    connection served by one thread;
//!                                    `rr`: answer each request (rr.rs);
//!                                    `stats`: this node's counters and CPU
//!                                    time (`cpu_busy_ticks`).
//!                                    It listens on 0.0.0.0, or on the
//!                                    address `TPTEST_LISTEN` names (`::`:
//!                                    dual-stack), with `TPTEST_REUSEPORT`
//!                                    sockets in one SO_REUSEPORT group
//!                                    (default 1, no group), a backlog of
//!                                    `TPTEST_BACKLOG` (default 128); `hash` also
//!                                    appends its answer to the file
//!                                    `TPTEST_LOG` names, if set
//!   tptest rr HOST PORT COUNT SIZE [SPLIT_MS]
//!                                    COUNT requests for SIZE bytes on one
//!                                    connection, each sent in two halves
//!                                    SPLIT_MS apart; print `requests=N ok=K`
//!                                    and round-trip percentiles
//!   tptest connect-many HOST PORT N  N connections one after the other, each
//!                                    read to EOF; print `connections=N
//!                                    failed=F` and `REPLY=COUNT` per reply
//!   tptest fetch HOST PORT           one connection read to EOF; print
//!                                    `bytes=N sha256=HEX` of what arrived
//!   (`fetch`, `source` and `rr` write a timeline of the transfer to the file
//!   `TPTEST_TIMELINE` names, if set: see timeline.rs)
//!   tptest hold HOST PORT N SECONDS [INTERVAL_MS]
//!                                    N long-lived connections to an `echo`
//!                                    server, each talking every INTERVAL_MS;
//!                                    per server: how many kept answering,
//!                                    failed (stalled, reset), longest round
//!                                    trip, answers from another server
//!                                    (stalled: no answer for 5 s, or the
//!                                    `TPTEST_STALL_MS` the environment sets)
//!   tptest hold-many HOST PORT N SECONDS [ROUND_MS]
//!                                    as `hold`, for tens of thousands of
//!                                    connections from one thread (opened
//!                                    128 at a time; once all are open, a
//!                                    line each every ROUND_MS, default
//!                                    1000), until
//!                                    SECONDS or the file TPTEST_STOP_FILE
//!                                    names exists; `established=E` in the
//!                                    file TPTEST_STATUS_FILE names (and
//!                                    `serve PORT echo-poll` its
//!                                    `connections=N` there)
//!   tptest http HOST PORT [--pipeline] PATH... | --stdin
//!                                    one keep-alive connection, a GET per
//!                                    PATH (or per line of standard input);
//!                                    per response `PATH served-by=NODE
//!                                    bytes=N sha256=HEX`
//!   tptest http-bench HOST PORT COUNT PATH...
//!                                    COUNT GETs on one connection, cycling
//!                                    through the PATHs; print throughput,
//!                                    requests/s and time to first byte
//!   tptest nl-raw CMD [TYPE:HEX...]  a tpcluster netlink request with raw
//!                                    attributes; print `ok` or the refusal
//!   tptest nl-fuzz COUNT [SEED [check]]
//!                                    COUNT random and mutated requests of the
//!                                    family (nlfuzz.rs); with `check`, none
//!                                    refused may change the configuration
//!   tptest icmp-frag-needed TO SRC SPORT DST DPORT [MTU]
//!                                    send TO an ICMP "fragmentation needed"
//!                                    about the segment SRC:SPORT -> DST:DPORT
//!                                    (next-hop MTU, default 1400)
//!   tptest tcp-syn SRC SPORT DST DPORT SEQ
//!                                    send DST a bare SYN from SRC:SPORT (this
//!                                    host's address) with sequence SEQ
//!   tptest syn-flood COUNT DST DPORT [PER_SECOND]
//!                                    COUNT SYNs from hosts that do not
//!                                    exist (10.0.0.50-99, ports from
//!                                    1024), each a connection of its own,
//!                                    as a SYN flood sends them; at most
//!                                    PER_SECOND a second if given
//!   tptest tcp-raw SRC SPORT DST DPORT SEQ ACK FLAGS [BYTES]
//!                                    send DST a TCP segment from any SRC
//!                                    (its own IPv4 header), FLAGS a number,
//!                                    with BYTES bytes of payload
//!   tptest inject HOST PORT BYTES [SEED]
//!                                    a `hash` connection with a forged
//!                                    segment in the middle: in window, of
//!                                    unsent data acknowledged (inject.rs);
//!                                    print the server's answer
//!   tptest rogue capture IFNAME PORT COUNT FILE [KIND [DST]]
//!   tptest rogue send IFNAME PORT FILE replay|forge|short|magic|redirect
//!                                    capture others' UDP datagrams to PORT
//!                                    from the wire, send them back replayed,
//!                                    forged (a bit flipped) or mangled
//!
//! Exit status: 0 success, 1 I/O failure, 2 bad usage.

use seedstream::Stream;
use sha2::{Digest, Sha256};
use std::{
    io::{Read, Write},
    net::{Shutdown, TcpListener, TcpStream},
    process::ExitCode,
    time::Duration,
};

mod hold;
mod hold_many;
mod http;
mod icmp;
mod inject;
mod listen;
mod nlfuzz;
mod rogue;
mod rr;
mod timeline;

// A raw generic netlink codec and socket of its own, to send requests
// tpctl would never build (attributes of the wrong type, length or
// nesting: nl-raw, nl-fuzz) and see the kernel refuse them; the family's
// numbers are tpctl's.
#[allow(dead_code)]
mod client;
#[allow(dead_code)]
mod genl;
#[allow(dead_code)]
#[path = "../../tpctl/src/uapi.rs"]
mod uapi;

/// `nl-raw CMD [TYPE:HEX...]`: a request of the tpcluster family with
/// attributes given raw; prints `ok` or the kernel's refusal.
fn nl_raw(cmd: u8, attrs: &[String]) -> Result<String, String> {
    let mut raw = Vec::new();
    for a in attrs {
        let (ty, hex) = a.split_once(':').ok_or(format!("not TYPE:HEX: '{a}'"))?;
        let ty: u16 = ty.parse().map_err(|_| format!("bad type '{ty}'"))?;
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("x"), 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| format!("bad hex '{hex}'"))?;
        raw.push((ty, bytes));
    }
    let mut c = client::Client::connect().map_err(|e| e.0)?;
    Ok(match c.request(cmd, &raw) {
        Ok(_) => "ok".into(),
        Err(e) => format!("refused: {}", e.0),
    })
}

const CHUNK: usize = 64 * 1024;

/// Generates `bytes` bytes of the stream of `seed` in chunks, handing each to `out`.
fn generate(
    bytes: u64,
    seed: u64,
    out: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    generate_in(bytes, seed, CHUNK, out)
}

/// [`generate`] in chunks of `chunk` bytes (rounded down to a multiple of
/// 8, at least 8): the same stream.
fn generate_in(
    bytes: u64,
    seed: u64,
    chunk: usize,
    mut out: impl FnMut(&[u8]) -> std::io::Result<()>,
) -> std::io::Result<()> {
    // Whole words of the stream: the same bytes whatever the chunk.
    let chunk = (chunk / 8).max(1) * 8;
    let mut stream = Stream::new(seed);
    let mut buf = vec![0u8; chunk];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk as u64) as usize;
        stream.fill(&mut buf[..n]);
        out(&buf[..n])?;
        left -= n as u64;
    }
    Ok(())
}

fn report(bytes: u64, hasher: Sha256) -> String {
    format!("bytes={bytes} sha256={:x}", hasher.finalize())
}

fn digest(bytes: u64, seed: u64) -> String {
    let mut h = Sha256::new();
    generate(bytes, seed, |c| {
        h.update(c);
        Ok(())
    })
    .expect("hashing cannot fail");
    report(bytes, h)
}

fn sink(port: u16) -> std::io::Result<String> {
    sink_on(&TcpListener::bind(("0.0.0.0", port))?)
}

fn sink_on(listener: &TcpListener) -> std::io::Result<String> {
    let (mut conn, _) = listener.accept()?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        total += n as u64;
    }
    Ok(report(total, h))
}

/// Reads `conn` to EOF: the byte count and SHA-256 of what arrived.
fn drain(conn: &mut TcpStream) -> std::io::Result<String> {
    let mut timeline = timeline::Timeline::from_env()?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            timeline.finish()?;
            return Ok(report(total, h));
        }
        timeline.moved(n)?;
        h.update(&buf[..n]);
        total += n as u64;
    }
}

fn serve_one(mut conn: TcpStream, mode: &str, bytes: u64, seed: u64) -> std::io::Result<()> {
    match mode {
        "name" => {
            let name = std::fs::read_to_string("/proc/sys/kernel/hostname")?;
            conn.write_all(name.trim().as_bytes())?;
        }
        "hash" => {
            let line = drain(&mut conn)?;
            if let Some(log) = std::env::var_os("TPTEST_LOG") {
                let mut f = std::fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(log)?;
                writeln!(f, "{line}")?;
            }
            conn.write_all(line.as_bytes())?;
        }
        "echo" => return hold::echo(conn),
        "rr" => return rr::serve(conn),
        // This node's counters: how a test tells which replica is primary.
        "stats" => {
            // The counters while the module is loaded; the CPU time always.
            if let Ok(counters) = std::fs::read("/proc/net/tpcluster") {
                conn.write_all(&counters)?;
            }
            conn.write_all(cpu_busy().as_bytes())?;
        }
        _ => generate(bytes, seed, |c| conn.write_all(c))?,
    }
    conn.shutdown(Shutdown::Write)
}

/// This host's CPU time so far, as `stats` adds it to the counters: busy
/// ticks over all CPUs (user, nice, system, irq, softirq, steal: all but
/// idle and iowait, from /proc/stat) and how many ticks make a second.
fn cpu_busy() -> String {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let busy: u64 = stat
        .lines()
        .find(|l| l.starts_with("cpu "))
        .map(|l| {
            let f: Vec<u64> = l
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            [0, 1, 2, 5, 6, 7].iter().filter_map(|&i| f.get(i)).sum()
        })
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    format!("cpu_busy_ticks {busy}\ncpu_ticks_per_s {hz}\n")
}

fn serve(port: u16, mode: &str, bytes: u64, seed: u64) -> std::io::Result<String> {
    let listeners = listen::from_env(port)?;
    let mut threads = Vec::new();
    for listener in listeners {
        let mode = mode.to_string();
        threads.push(std::thread::spawn(move || -> std::io::Result<()> {
            loop {
                let (conn, _) = listener.accept()?;
                let mode = mode.clone();
                std::thread::spawn(move || serve_one(conn, &mode, bytes, seed));
            }
        }));
    }
    for t in threads {
        t.join().unwrap_or(Ok(()))?;
    }
    Ok(String::new())
}

fn connect_many(host: &str, port: u16, n: u32) -> String {
    let mut replies = std::collections::BTreeMap::<String, u32>::new();
    let mut failed = 0;
    for _ in 0..n {
        let reply = TcpStream::connect((host, port)).and_then(|mut c| {
            let mut s = String::new();
            c.read_to_string(&mut s)?;
            Ok(s)
        });
        match reply {
            Ok(r) if !r.is_empty() => *replies.entry(r).or_default() += 1,
            _ => failed += 1,
        }
    }
    let mut out = format!("connections={n} failed={failed}");
    for (reply, count) in replies {
        out += &format!("\n{reply}={count}");
    }
    out
}

fn source(
    host: &str,
    port: u16,
    bytes: u64,
    seed: u64,
    pause: Duration,
) -> std::io::Result<String> {
    let mut conn = TcpStream::connect((host, port))?;
    let mut timeline = timeline::Timeline::from_env()?;
    let mut h = Sha256::new();
    // TPTEST_CHUNK: bytes written at a time (64 KiB by default), the pause
    // after each.
    let chunk = std::env::var("TPTEST_CHUNK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CHUNK);
    generate_in(bytes, seed, chunk, |c| {
        conn.write_all(c)?;
        timeline.moved(c.len())?;
        h.update(c);
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
        Ok(())
    })?;
    conn.shutdown(Shutdown::Write)?;
    // Wait for the peer to close: every byte has then been received. A
    // `hash` server's answer comes first.
    let mut answer = String::new();
    conn.read_to_string(&mut answer)?;
    timeline.finish()?;
    let sent = report(bytes, h);
    Ok(if answer.is_empty() {
        sent
    } else {
        format!("{sent} answer {answer}")
    })
}

fn number<T: std::str::FromStr>(
    args: &[String],
    i: usize,
    default: Option<T>,
) -> Result<T, String> {
    match args.get(i) {
        Some(a) => a.parse().map_err(|_| format!("not a number: '{a}'")),
        None => default.ok_or_else(|| "missing argument".to_string()),
    }
}

fn run(args: &[String]) -> Result<std::io::Result<String>, String> {
    match args.first().map(String::as_str) {
        Some("sink") => Ok(sink(number(args, 1, None)?)),
        Some("source") => {
            let host = args.get(1).ok_or("missing HOST")?;
            let port = number(args, 2, None)?;
            let bytes = number(args, 3, None)?;
            let seed = number(args, 4, Some(1))?;
            let pause = Duration::from_millis(number(args, 5, Some(0))?);
            Ok(source(host, port, bytes, seed, pause))
        }
        Some("digest") => Ok(Ok(digest(number(args, 1, None)?, number(args, 2, Some(1))?))),
        Some("serve") => {
            let mode = args.get(2).map(String::as_str).ok_or("missing MODE")?;
            if !["name", "hash", "stream", "echo", "echo-poll", "stats", "rr"].contains(&mode) {
                return Err(format!("unknown mode '{mode}'"));
            }
            if mode == "echo-poll" {
                let port = number(args, 1, None)?;
                return Ok(listen::from_env(port).and_then(hold_many::echo_poll));
            }
            Ok(serve(number(args, 1, None)?, mode, number(args, 3, Some(0))?, number(args, 4, Some(1))?))
        }
        Some("connect-many") => {
            let host = args.get(1).ok_or("missing HOST")?;
            Ok(Ok(connect_many(host, number(args, 2, None)?, number(args, 3, None)?)))
        }
        Some("fetch") => {
            let host = args.get(1).ok_or("missing HOST")?;
            let port: u16 = number(args, 2, None)?;
            Ok(TcpStream::connect((host.as_str(), port)).and_then(|mut c| drain(&mut c)))
        }
        Some("rr") => {
            let host = args.get(1).ok_or("missing HOST")?;
            Ok(rr::client(
                host,
                number(args, 2, None)?,
                number(args, 3, None)?,
                number(args, 4, None)?,
                Duration::from_millis(number(args, 5, Some(0))?),
            ))
        }
        Some("cat") => {
            let host = args.get(1).ok_or("missing HOST")?;
            let port: u16 = number(args, 2, None)?;
            Ok(TcpStream::connect((host.as_str(), port)).and_then(|mut c| {
                let mut s = String::new();
                c.read_to_string(&mut s)?;
                Ok(s.trim_end().to_string())
            }))
        }
        Some("hold") => {
            let host = args.get(1).ok_or("missing HOST")?;
            Ok(Ok(hold::hold(
                host,
                number(args, 2, None)?,
                number(args, 3, None)?,
                number(args, 4, None)?,
                number(args, 5, Some(50))?,
            )))
        }
        Some("hold-many") => {
            let host = args.get(1).ok_or("missing HOST")?;
            Ok(hold_many::hold_many(
                host,
                number(args, 2, None)?,
                number(args, 3, None)?,
                number(args, 4, None)?,
                number(args, 5, Some(1000))?,
            ))
        }
        Some("icmp-frag-needed") => {
            let to: std::net::Ipv4Addr = args.get(1).ok_or("missing TO")?.parse().map_err(|e| format!("TO: {e}"))?;
            let src: std::net::Ipv4Addr = args.get(2).ok_or("missing SRC")?.parse().map_err(|e| format!("SRC: {e}"))?;
            let dst: std::net::Ipv4Addr = args.get(4).ok_or("missing DST")?.parse().map_err(|e| format!("DST: {e}"))?;
            let msg = icmp::frag_needed(src, number(args, 3, None)?, dst, number(args, 5, None)?, 0, number(args, 6, Some(1400))?);
            Ok(icmp::send(to, &msg).map(|()| "sent".to_string()))
        }
        Some("nl-fuzz") => Ok(nlfuzz::nl_fuzz(
            number(args, 1, None)?,
            number(args, 2, Some(1))?,
            args.get(3).is_some_and(|a| a == "check"),
        )
        .map_err(std::io::Error::other)),
        Some("tcp-syn") => {
            let src: std::net::Ipv4Addr = args.get(1).ok_or("missing SRC")?.parse().map_err(|e| format!("SRC: {e}"))?;
            let dst: std::net::Ipv4Addr = args.get(3).ok_or("missing DST")?.parse().map_err(|e| format!("DST: {e}"))?;
            let seg = icmp::tcp_syn(src, number(args, 2, None)?, dst, number(args, 4, None)?, number(args, 5, None)?);
            Ok(icmp::send_tcp(dst, &seg).map(|()| "sent".to_string()))
        }
        Some("tcp-raw") => {
            let src: std::net::Ipv4Addr = args.get(1).ok_or("missing SRC")?.parse().map_err(|e| format!("SRC: {e}"))?;
            let dst: std::net::Ipv4Addr = args.get(3).ok_or("missing DST")?.parse().map_err(|e| format!("DST: {e}"))?;
            let payload = vec![b'X'; number(args, 8, Some(0))?];
            let seg = icmp::tcp_segment(
                src,
                number(args, 2, None)?,
                dst,
                number(args, 4, None)?,
                number(args, 5, None)?,
                number(args, 6, None)?,
                number(args, 7, None)?,
                &payload,
            );
            Ok(icmp::send_tcp_from(src, dst, &seg).map(|()| "sent".to_string()))
        }
        Some("syn-flood") => {
            let count: u32 = number(args, 1, None)?;
            let dst: std::net::Ipv4Addr = args.get(2).ok_or("missing DST")?.parse().map_err(|e| format!("DST: {e}"))?;
            let dport: u16 = number(args, 3, None)?;
            let rate: u32 = number(args, 4, Some(0))?;
            Ok(icmp::syn_flood(count, dst, dport, rate).map(|sent| format!("sent={sent}")))
        }
        Some("inject") => {
            let host = args.get(1).ok_or("missing HOST")?;
            Ok(inject::inject(host, number(args, 2, None)?, number(args, 3, None)?, number(args, 4, Some(1))?))
        }
        Some("rogue") => {
            let what = args.get(1).map(String::as_str);
            let ifname = args.get(2).ok_or("missing IFNAME")?;
            let port = number(args, 3, None)?;
            match what {
                Some("capture") => {
                    let file = args.get(5).ok_or("missing FILE")?;
                    let kind = number(args, 6, Some(0))?;
                    let dst = args.get(7).map(String::as_str);
                    Ok(rogue::capture(ifname, port, number(args, 4, None)?, file, kind, dst))
                }
                Some("send") => {
                    let file = args.get(4).ok_or("missing FILE")?;
                    let mode = args.get(5).ok_or("missing MODE")?;
                    Ok(rogue::send(ifname, port, file, mode))
                }
                _ => Err("usage: tptest rogue capture IFNAME PORT COUNT FILE | rogue send IFNAME PORT FILE MODE".into()),
            }
        }
        Some("nl-raw") => Ok(Ok(nl_raw(number(args, 1, None)?, &args[2..])?)),
        Some("http-bench") => {
            let host = args.get(1).ok_or("missing HOST")?;
            let port = number(args, 2, None)?;
            let count = number(args, 3, None)?;
            Ok(http::bench(host, port, count, &args[4..]))
        }
        Some("http") => {
            let host = args.get(1).ok_or("missing HOST")?;
            let port = number(args, 2, None)?;
            if args.get(3).is_some_and(|a| a == "--stdin") {
                return Ok(http::get_stdin(host, port));
            }
            let pipelined = args.get(3).is_some_and(|a| a == "--pipeline");
            let paths = &args[if pipelined { 4 } else { 3 }..];
            Ok(http::get(host, port, paths, pipelined))
        }
        Some("run-as") => {
            use std::os::unix::process::CommandExt;
            let uid = number(args, 1, None)?;
            let prog = args.get(2).ok_or("missing PROG")?;
            // exec only returns on failure; with a uid set, std also drops
            // the supplementary groups.
            let err = std::process::Command::new(prog).args(&args[3..]).uid(uid).gid(uid).exec();
            Ok(Err(err))
        }
        _ => Err("usage: tptest sink PORT | source HOST PORT BYTES [SEED] [PAUSE_MS] | digest BYTES [SEED] | cat HOST PORT \
                  | run-as UID PROG [ARGS] | serve PORT MODE [BYTES [SEED]] \
                  | connect-many HOST PORT N | fetch HOST PORT | rr HOST PORT COUNT SIZE [SPLIT_MS] | hold HOST PORT N SECONDS [INTERVAL_MS] | hold-many HOST PORT N SECONDS [ROUND_MS] \
                  | rogue capture IFNAME PORT COUNT FILE | rogue send IFNAME PORT FILE MODE \
                  | nl-raw CMD [TYPE:HEX...] | http HOST PORT [--pipeline] PATH... | http HOST PORT --stdin \
                  | http-bench HOST PORT COUNT PATH..."
            .into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(Ok(line)) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Ok(Err(e)) => {
            eprintln!("tptest: {e}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("tptest: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_matches_what_a_sink_receives() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || sink_on(&listener).unwrap());
        let sent = source("127.0.0.1", port, 1_000_003, 7, Duration::ZERO).unwrap();
        assert_eq!(server.join().unwrap(), sent);
        assert_eq!(sent, digest(1_000_003, 7));
        assert_ne!(sent, digest(1_000_003, 8));
    }
}

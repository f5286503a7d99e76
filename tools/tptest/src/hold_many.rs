//! `hold-many` and `serve PORT echo-poll`: tens of thousands of long-lived
//! echo connections, each side one thread over `mio`. `hold` and `echo`
//! take a thread per connection, which a small guest cannot afford at
//! that scale (a thread's stacks cost more than its socket).

use crate::hold::{error_name, stalled_after, summary, Held};
use mio::{
    net::{TcpListener, TcpStream},
    Events, Interest, Poll, Token,
};
use std::{
    io::{self, ErrorKind, Read, Write},
    net::{SocketAddr, ToSocketAddrs},
    time::{Duration, Instant},
};

/// Connects in flight at once while `hold-many` opens its connections: a
/// burst of thousands of SYNs would overflow the servers' listen queues.
const OPENING: usize = 128;

/// How often `hold-many` goes over every connection (to send what is due
/// and to find stalls).
const SCAN: Duration = Duration::from_millis(100);

/// Raises this process's open-file limit to `want` descriptors (root may
/// raise the hard limit too, up to `fs.nr_open`).
fn allow_files(want: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a live rlimit for getrlimit(2) to fill.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 || lim.rlim_cur >= want {
        return;
    }
    let raised = libc::rlimit {
        rlim_cur: want,
        rlim_max: lim.rlim_max.max(want),
    };
    // SAFETY: `raised` is a live rlimit; a refusal leaves the limit as it was.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        let fallback = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: as above.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &fallback) };
    }
}

/// Writes a line to the file `TPTEST_STATUS_FILE` names, if it does, at
/// most once a second (`last`): a test reads how far a run
/// is from there, which costs the guest nothing, where reading tens of
/// thousands of sockets from /proc takes an emulated guest seconds.
struct Status {
    path: Option<std::ffi::OsString>,
    last: Option<Instant>,
    written: String,
}

impl Status {
    fn new() -> Self {
        Self {
            path: std::env::var_os("TPTEST_STATUS_FILE"),
            last: None,
            written: String::new(),
        }
    }

    /// Writes the line `line` makes, if a second has passed since the last
    /// write (and it says something new).
    fn write(&mut self, line: impl FnOnce() -> String) {
        let Some(path) = &self.path else {
            return;
        };
        if self
            .last
            .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        let line = line();
        if line == self.written {
            return;
        }
        // Whole or not at all: written aside, then renamed over.
        let mut tmp = path.clone();
        tmp.push(".new");
        if std::fs::write(&tmp, format!("{line}\n")).is_ok() && std::fs::rename(&tmp, path).is_ok()
        {
            self.written = line;
            self.last = Some(Instant::now());
        }
    }
}

/// Whole lines out of `buf` (consumed), without their newline.
fn take_lines(buf: &mut Vec<u8>) -> Vec<String> {
    let mut lines = Vec::new();
    while let Some(at) = buf.iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = buf.drain(..=at).collect();
        lines.push(String::from_utf8_lossy(&line[..at]).into_owned());
    }
    lines
}

/// Reads what `s` has into `buf`: `Ok(false)` once the peer has closed.
fn read_some(s: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<bool> {
    let mut chunk = [0u8; 4096];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => return Ok(false),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(true),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Writes what it can of `out` (consumed as written).
fn write_some(s: &mut TcpStream, out: &mut Vec<u8>) -> io::Result<()> {
    while !out.is_empty() {
        match s.write(out) {
            Ok(n) => {
                out.drain(..n);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One echo connection of `echo-poll`.
struct Echoed {
    stream: TcpStream,
    input: Vec<u8>,
    output: Vec<u8>,
}

/// `serve PORT echo-poll`: as `serve PORT echo` (each line comes back as
/// `NAME LINE`), every connection served by this one thread. Writes
/// `connections=N`, the connections open, to `TPTEST_STATUS_FILE`.
pub(crate) fn echo_poll(listeners: Vec<std::net::TcpListener>) -> io::Result<String> {
    allow_files(1 << 20);
    let name = crate::hold::echo_name()?;
    let mut poll = Poll::new()?;
    let mut listening = Vec::new();
    for (i, l) in listeners.into_iter().enumerate() {
        l.set_nonblocking(true)?;
        let mut l = TcpListener::from_std(l);
        poll.registry()
            .register(&mut l, Token(i), Interest::READABLE)?;
        listening.push(l);
    }
    let first = listening.len();
    let mut conns: Vec<Option<Echoed>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut events = Events::with_capacity(1024);
    let mut status = Status::new();
    loop {
        status.write(|| format!("connections={}", conns.len() - free.len()));
        if let Err(e) = poll.poll(&mut events, Some(Duration::from_secs(1))) {
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        for ev in events.iter() {
            let t = ev.token().0;
            if t < first {
                loop {
                    match listening[t].accept() {
                        Ok((mut stream, _)) => {
                            let i = free.pop().unwrap_or_else(|| {
                                conns.push(None);
                                conns.len() - 1
                            });
                            poll.registry().register(
                                &mut stream,
                                Token(first + i),
                                Interest::READABLE,
                            )?;
                            conns[i] = Some(Echoed {
                                stream,
                                input: Vec::new(),
                                output: Vec::new(),
                            });
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        // Out of descriptors or memory: the rest wait.
                        Err(_) => break,
                    }
                }
                continue;
            }
            let i = t - first;
            let Some(c) = conns.get_mut(i).and_then(Option::as_mut) else {
                continue;
            };
            let open = read_some(&mut c.stream, &mut c.input).and_then(|open| {
                for line in take_lines(&mut c.input) {
                    c.output
                        .extend_from_slice(format!("{name} {line}\n").as_bytes());
                }
                write_some(&mut c.stream, &mut c.output)?;
                let interest = if c.output.is_empty() {
                    Interest::READABLE
                } else {
                    Interest::READABLE | Interest::WRITABLE
                };
                poll.registry()
                    .reregister(&mut c.stream, Token(t), interest)?;
                Ok(open)
            });
            if !matches!(open, Ok(true)) {
                if let Some(mut c) = conns[i].take() {
                    let _ = poll.registry().deregister(&mut c.stream);
                }
                free.push(i);
            }
        }
    }
}

/// Where one held connection of `hold-many` is.
enum State {
    /// Not started yet.
    Waiting,
    /// Its connect is in flight.
    Opening(TcpStream, Instant),
    /// Connected: sends a numbered line each round, one at a time.
    Open {
        stream: TcpStream,
        input: Vec<u8>,
        output: Vec<u8>,
        /// The line in flight and when it was sent.
        asked: Option<(u64, Instant)>,
        next: u64,
        due: Instant,
    },
    /// Over: it ran to the end or failed.
    Done,
}

/// `hold-many HOST PORT N SECONDS [ROUND_MS]`: N echo connections (opened
/// [`OPENING`] at a time); once all are open (opening is what an emulated
/// guest can least afford to share), each sends a numbered line every
/// ROUND_MS (default 1000, the connections' lines spread evenly over it)
/// until SECONDS after the first connect and checking each
/// answer; a connection whose answer takes longer than `TPTEST_STALL_MS`
/// (default 5 s) counts as stalled and is closed; all end early once the
/// file `TPTEST_STOP_FILE` names exists. Prints what `hold` does; writes
/// `established=E started=S` to `TPTEST_STATUS_FILE` as it goes.
pub(crate) fn hold_many(
    host: &str,
    port: u16,
    n: u32,
    seconds: u64,
    round_ms: u64,
) -> io::Result<String> {
    allow_files(u64::from(n) + 1024);
    let addr: SocketAddr = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "no address"))?;
    let stall = stalled_after();
    let round = Duration::from_millis(round_ms.max(1));
    let start = Instant::now();
    let mut until = start + Duration::from_secs(seconds);
    // Ends early once this file exists: a test ends the hold when it has
    // seen what it waited for.
    let stop_file = std::env::var_os("TPTEST_STOP_FILE");
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(4096);
    let count = n as usize;
    let mut states: Vec<State> = (0..count).map(|_| State::Waiting).collect();
    let mut held: Vec<Held> = (0..count)
        .map(|_| Held {
            server: "none".into(),
            answered: 0,
            max_rtt: Duration::ZERO,
            changed: 0,
            error: None,
        })
        .collect();
    let (mut started, mut opening) = (0usize, 0usize);
    let mut status = Status::new();
    let mut next_scan = start;
    let mut rounds_from = None;
    let (mut live, mut open) = (0usize, 0usize);
    let fail = |h: &mut Held, why: String| {
        h.error.get_or_insert(why);
    };
    loop {
        let now = Instant::now();
        if now < until
            && stop_file
                .as_ref()
                .is_some_and(|f| std::path::Path::new(f).exists())
        {
            until = now;
        }
        // Open more, up to OPENING at a time.
        while started < count && opening < OPENING && now < until {
            let i = started;
            started += 1;
            match TcpStream::connect(addr) {
                Ok(mut s) => {
                    poll.registry()
                        .register(&mut s, Token(i), Interest::WRITABLE)?;
                    states[i] = State::Opening(s, now);
                    opening += 1;
                }
                Err(e) => {
                    fail(&mut held[i], format!("connect: {e}"));
                    states[i] = State::Done;
                }
            }
        }
        // Send what is due, end what is over or stalled: a pass over every
        // connection, so at most every SCAN (a pass per wakeup made the
        // client's own CPU what limited it, at tens of thousands).
        let scan = now >= next_scan;
        if scan {
            next_scan = now + SCAN;
            live = 0;
            open = 0;
        }
        for (i, st) in states.iter_mut().enumerate().filter(|_| scan) {
            let h = &mut held[i];
            let over = match st {
                State::Waiting | State::Done => continue,
                State::Opening(_, since) => {
                    live += 1;
                    if now.duration_since(*since) > stall {
                        fail(h, "stalled".into());
                        opening -= 1;
                        true
                    } else if now >= until {
                        fail(h, "not connected by the end".into());
                        opening -= 1;
                        true
                    } else {
                        false
                    }
                }
                State::Open {
                    stream,
                    output,
                    asked,
                    next,
                    due,
                    ..
                } => {
                    live += 1;
                    open += 1;
                    match asked {
                        Some((_, at)) if now.duration_since(*at) > stall => {
                            fail(h, "stalled".into());
                            true
                        }
                        Some(_) => false,
                        None if now >= until => true,
                        None if now >= *due => {
                            output.extend_from_slice(format!("{next}\n").as_bytes());
                            *asked = Some((*next, now));
                            *due += round;
                            let r = write_some(stream, output).and_then(|()| {
                                if output.is_empty() {
                                    Ok(())
                                } else {
                                    poll.registry().reregister(
                                        stream,
                                        Token(i),
                                        Interest::READABLE | Interest::WRITABLE,
                                    )
                                }
                            });
                            if let Err(e) = r {
                                fail(h, error_name(&e));
                                true
                            } else {
                                false
                            }
                        }
                        None => false,
                    }
                }
            };
            if over {
                *st = State::Done;
            }
        }
        // Every connection open (or failed): the rounds begin, each
        // connection's line at its own moment of the round, spread evenly.
        if scan && rounds_from.is_none() && started >= count && opening == 0 {
            rounds_from = Some(now);
            for (i, st) in states.iter_mut().enumerate() {
                if let State::Open { due, .. } = st {
                    *due = now + round.mul_f64((i % 1000) as f64 / 1000.0);
                }
            }
        }
        if scan {
            status.write(|| format!("established={open} started={started}"));
            if started >= count && live == 0 {
                break;
            }
            if now >= until + stall + Duration::from_secs(1) {
                break;
            }
        }
        let wait = next_scan
            .saturating_duration_since(now)
            .min(Duration::from_millis(20));
        if let Err(e) = poll.poll(&mut events, Some(wait)) {
            if e.kind() != ErrorKind::Interrupted {
                return Err(e);
            }
        }
        let now = Instant::now();
        for ev in events.iter() {
            let i = ev.token().0;
            let (Some(st), Some(h)) = (states.get_mut(i), held.get_mut(i)) else {
                continue;
            };
            match std::mem::replace(st, State::Done) {
                State::Opening(mut s, since) => {
                    opening -= 1;
                    let connected = s
                        .take_error()
                        .and_then(|e| e.map_or(Ok(()), Err))
                        .and_then(|()| s.peer_addr().map(|_| ()));
                    match connected {
                        Ok(()) => {
                            poll.registry()
                                .reregister(&mut s, Token(i), Interest::READABLE)?;
                            // No line before every connection is open (the
                            // first round's dates are set then).
                            let offset = Duration::from_secs(1 << 30);
                            *st = State::Open {
                                stream: s,
                                input: Vec::new(),
                                output: Vec::new(),
                                asked: None,
                                next: 0,
                                due: now.max(since) + offset,
                            };
                        }
                        Err(e) if e.kind() == ErrorKind::NotConnected => {
                            // Not yet: a spurious wakeup.
                            *st = State::Opening(s, since);
                            opening += 1;
                        }
                        Err(e) => fail(h, format!("connect: {}", error_name(&e))),
                    }
                }
                State::Open {
                    mut stream,
                    mut input,
                    mut output,
                    mut asked,
                    mut next,
                    due,
                } => {
                    let r = (|| -> io::Result<bool> {
                        let open = read_some(&mut stream, &mut input)?;
                        for line in take_lines(&mut input) {
                            let (server, echoed) = line.split_once(' ').unwrap_or(("?", ""));
                            let Some((seq, at)) = asked.take() else {
                                return Err(io::Error::other(format!("unasked answer '{line}'")));
                            };
                            if echoed != seq.to_string() {
                                return Err(io::Error::other(format!("echo {echoed}, want {seq}")));
                            }
                            h.max_rtt = h.max_rtt.max(now.duration_since(at));
                            if h.answered == 0 {
                                h.server = server.to_string();
                            } else if server != h.server {
                                h.changed += 1;
                            }
                            h.answered += 1;
                            next += 1;
                        }
                        write_some(&mut stream, &mut output)?;
                        if !open {
                            return Err(io::Error::new(
                                ErrorKind::UnexpectedEof,
                                "closed by the server",
                            ));
                        }
                        let interest = if output.is_empty() {
                            Interest::READABLE
                        } else {
                            Interest::READABLE | Interest::WRITABLE
                        };
                        poll.registry()
                            .reregister(&mut stream, Token(i), interest)?;
                        Ok(true)
                    })();
                    match r {
                        Ok(_) => {
                            *st = State::Open {
                                stream,
                                input,
                                output,
                                asked,
                                next,
                                due,
                            }
                        }
                        Err(e) => fail(h, error_name(&e)),
                    }
                }
                other => *st = other,
            }
        }
    }
    for (st, h) in states.iter().zip(held.iter_mut()) {
        if !matches!(st, State::Done) {
            fail(h, "unfinished".into());
        }
    }
    Ok(summary(n, held))
}

//! tprouter: an HTTP/1.1 server for a tpcluster splice service that routes
//! by path. Every node runs it on the service's VIP and port. It reads each
//! request's line and Host; if another node serves that path, it hands the
//! live connection to that node (the bytes it read are replayed there), and
//! the router on that node answers. Persistent connections move with every
//! request whose path lives elsewhere.
//!
//! Usage: tprouter --node ID --listen VIP:PORT [--route PREFIX=NODE]...
//!        [--host NAME=NODE]... [--default NODE|local] [--config FILE] [--backend]
//!
//! Routing, by the first request of each connection (and each later one
//! that reaches the router): a `--host` route whose name is the request's
//! Host (without its port, case-insensitive) wins; else the longest
//! `--route` prefix of the path; else `--default` (`local`, the default:
//! this node). `--config FILE` reads the same from a file, one per line:
//! `route PREFIX NODE`, `host NAME NODE`, `default NODE|local`; `#` starts
//! a comment.
//!
//! With `--backend` the service has a backend port (`tpctl service add ...
//! backend-port P`): every request goes to a stock server on P, this
//! node's own included (the connection moves to it inside the node, and
//! the router never relays a byte), and a handover that is refused is
//! answered `502 Bad Gateway` with the reason; the router serves nothing
//! itself.
//!
//! Paths it serves itself: `.../bytes/N[?seed=S]`, N bytes of the seeded
//! stream (the one `tptest digest N S` hashes); anything else, a line
//! naming the node, the Host and the path. Every response carries
//! `X-Served-By: node ID`. One line per request goes to stderr.

use seedstream::Stream;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;

/// Longest request head read before answering 431.
const MAX_HEAD: usize = 8 * 1024;
/// Most header fields in a request head; more are answered 431.
const MAX_HEADERS: usize = 64;

struct Router {
    node: u32,
    /// Host name (lower case, no port) and node.
    hosts: Vec<(String, u32)>,
    /// Where a request no route names goes.
    default: u32,
    /// The service has a backend port: hand every connection over, to
    /// this node's backend too, and never serve it here.
    backend: bool,
    /// Path prefix and node, longest prefix first.
    routes: Vec<(String, u32)>,
}

impl Router {
    /// The node serving a request for `path` with Host `host`: the host
    /// route's, else the longest matching prefix's, else the default.
    fn owner(&self, host: &str, path: &str) -> u32 {
        let name = host_name(host);
        if let Some((_, n)) = self.hosts.iter().find(|(h, _)| *h == name) {
            return *n;
        }
        self.routes
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix.as_str()))
            .map_or(self.default, |(_, n)| *n)
    }
}

/// A Host header's name: lower case, without its port (and without the
/// brackets of an IPv6 literal's).
fn host_name(host: &str) -> String {
    let host = host.trim();
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.to_ascii_lowercase()
}

/// A parsed request head.
struct Request {
    method: String,
    path: String,
    host: String,
    /// Bytes of the head, blank line included.
    head_len: usize,
    body_len: usize,
    keep_alive: bool,
    /// The body is chunked: the router hands such a request over (the
    /// target reads the chunks), or serves it only if it has no body.
    chunked: bool,
}

/// Why a request head is refused.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    /// 400: malformed.
    Bad(&'static str),
    /// 431: too many header fields, or a head over [`MAX_HEAD`].
    TooLarge,
}

/// Parses the head at the start of `buf` (with `httparse`), if all of it
/// is there.
fn parse_head(buf: &[u8]) -> Option<Result<Request, Refusal>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let end = match parsed.parse(buf) {
        // A head still incomplete past the limit is too large as well; the
        // caller, which reads it, says so (it knows whether more can come).
        Ok(httparse::Status::Partial) => return None,
        // Whole, but over the limit: it may have come in one read.
        Ok(httparse::Status::Complete(end)) if end > MAX_HEAD => {
            return Some(Err(Refusal::TooLarge))
        }
        Ok(httparse::Status::Complete(end)) => end,
        Err(httparse::Error::TooManyHeaders) => return Some(Err(Refusal::TooLarge)),
        Err(_) => return Some(Err(Refusal::Bad("malformed request head"))),
    };
    let (Some(method), Some(path), Some(version)) = (parsed.method, parsed.path, parsed.version)
    else {
        return Some(Err(Refusal::Bad("incomplete request line")));
    };
    let mut req = Request {
        method: method.to_string(),
        path: path.to_string(),
        host: String::new(),
        head_len: end,
        body_len: 0,
        keep_alive: version == 1,
        chunked: false,
    };
    for h in parsed.headers.iter() {
        let Ok(value) = std::str::from_utf8(h.value) else {
            return Some(Err(Refusal::Bad("header value is not UTF-8")));
        };
        let value = value.trim();
        match h.name.to_ascii_lowercase().as_str() {
            "host" => req.host = value.to_string(),
            "content-length" => match value.parse() {
                Ok(n) => req.body_len = n,
                Err(_) => return Some(Err(Refusal::Bad("bad Content-Length"))),
            },
            "transfer-encoding" => req.chunked = value.to_ascii_lowercase().ends_with("chunked"),
            "connection" if value.eq_ignore_ascii_case("close") => req.keep_alive = false,
            "connection" if value.eq_ignore_ascii_case("keep-alive") => req.keep_alive = true,
            _ => {}
        }
    }
    Some(Ok(req))
}

/// `N` and the seed of a path ending in `/bytes/N[?seed=S]`.
fn bytes_path(path: &str) -> Option<(u64, u64)> {
    let rest = &path[path.find("/bytes/")? + "/bytes/".len()..];
    let (n, query) = rest.split_once('?').unwrap_or((rest, ""));
    let seed = query
        .strip_prefix("seed=")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    Some((n.parse().ok()?, seed))
}

/// Writes the response to `req`.
fn respond(node: u32, conn: &mut TcpStream, req: &Request) -> std::io::Result<()> {
    let connection = if req.keep_alive {
        "keep-alive"
    } else {
        "close"
    };
    if let Some((n, seed)) = bytes_path(&req.path) {
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {n}\r\nContent-Type: application/octet-stream\r\n\
             X-Served-By: node {node}\r\nConnection: {connection}\r\n\r\n"
        );
        if req.method == "HEAD" {
            return conn.write_all(head.as_bytes());
        }
        // The head goes out with the first chunk: one write, one segment
        // for a small response.
        let mut stream = Stream::new(seed);
        let mut chunk = head.into_bytes();
        let mut left = n;
        loop {
            let k = left.min(64 * 1024) as usize;
            let at = chunk.len();
            chunk.resize(at + k, 0);
            stream.fill(&mut chunk[at..]);
            conn.write_all(&chunk)?;
            left -= k as u64;
            if left == 0 {
                return Ok(());
            }
            chunk.clear();
        }
    }
    let body = format!("node {node} host {} path {}\n", req.host, req.path);
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: text/plain\r\n\
         X-Served-By: node {node}\r\nConnection: {connection}\r\n\r\n",
        body.len()
    );
    let mut out = head.into_bytes();
    if req.method != "HEAD" {
        out.extend_from_slice(body.as_bytes());
    }
    conn.write_all(&out)
}

/// Serves one connection until it closes or leaves for another node.
fn serve(router: &Router, mut conn: TcpStream) -> std::io::Result<()> {
    let peer = conn.peer_addr()?;
    // Responses are written whole: nothing to gain from Nagle's delay.
    conn.set_nodelay(true)?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let req = loop {
            match parse_head(&buf) {
                Some(Ok(req)) => break req,
                Some(Err(Refusal::Bad(why))) => {
                    eprintln!("node {} {peer}: 400 {why}", router.node);
                    conn.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
                    return Ok(());
                }
                Some(Err(Refusal::TooLarge)) => {
                    eprintln!(
                        "node {} {peer}: 431 more than {MAX_HEADERS} header fields or {MAX_HEAD} bytes",
                        router.node
                    );
                    conn.write_all(b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
                    return Ok(());
                }
                None if buf.len() > MAX_HEAD => {
                    conn.write_all(b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
                    return Ok(());
                }
                None => {}
            }
            let n = conn.read(&mut chunk)?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let owner = router.owner(&req.host, &req.path);
        if owner != router.node || router.backend {
            // Everything read from the current request on is replayed to
            // the target's router, pipelined requests included.
            let started = std::time::Instant::now();
            match tpctl::handover_stream(conn, owner, &buf) {
                Ok(()) => {
                    eprintln!(
                        "node {} {peer}: {} {} -> handed to node {owner} in {:.1} ms",
                        router.node,
                        req.method,
                        req.path,
                        started.elapsed().as_secs_f64() * 1000.0
                    );
                    return Ok(());
                }
                Err((mut c, why)) if router.backend => {
                    eprintln!(
                        "node {} {peer}: {} {} -> 502: handover to node {owner} refused ({why})",
                        router.node, req.method, req.path
                    );
                    let body = format!("handover to node {owner} refused: {why}\n");
                    let head = format!(
                        "HTTP/1.1 502 Bad Gateway\r\nContent-Length: {}\r\nContent-Type: text/plain\r\n\
                         X-Served-By: node {}\r\nConnection: close\r\n\r\n",
                        body.len(),
                        router.node
                    );
                    c.write_all(head.as_bytes())?;
                    c.write_all(body.as_bytes())?;
                    return Ok(());
                }
                Err((c, why)) => {
                    eprintln!(
                        "node {} {peer}: {} {} -> handover to node {owner} failed ({why}); served here",
                        router.node, req.method, req.path
                    );
                    conn = c;
                }
            }
        }
        if req.chunked {
            // A chunked body is for the node that serves the request; the
            // router serves none of its own.
            eprintln!("node {} {peer}: 501 chunked body served here", router.node);
            conn.write_all(
                b"HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )?;
            return Ok(());
        }
        while buf.len() < req.head_len + req.body_len {
            let n = conn.read(&mut chunk)?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        buf.drain(..req.head_len + req.body_len);
        eprintln!(
            "node {} {peer}: {} {} -> served",
            router.node, req.method, req.path
        );
        respond(router.node, &mut conn, &req)?;
        if !req.keep_alive {
            return Ok(());
        }
    }
}

/// Routes as the command line and the configuration file give them.
#[derive(Default)]
struct Routes {
    routes: Vec<(String, u32)>,
    hosts: Vec<(String, u32)>,
    /// `None`: this node (`local`).
    default: Option<u32>,
}

impl Routes {
    /// Adds one route of `kind` (`route`, `host` or `default`) to `to`.
    fn add(&mut self, kind: &str, what: &str, to: &str) -> Result<(), String> {
        let node = |to: &str| -> Result<u32, String> {
            to.parse()
                .ok()
                .filter(|&n| n > 0)
                .ok_or(format!("bad node '{to}' for {kind} {what}"))
        };
        match kind {
            "route" if what.starts_with('/') => self.routes.push((what.to_string(), node(to)?)),
            "route" => return Err(format!("route prefix '{what}' must start with /")),
            "host" if !what.is_empty() => self.hosts.push((host_name(what), node(to)?)),
            "default" if to == "local" => self.default = None,
            "default" => self.default = Some(node(to)?),
            _ => return Err(format!("bad {kind} '{what}'")),
        }
        Ok(())
    }

    /// Reads `route PREFIX NODE`, `host NAME NODE` and `default NODE|local`
    /// lines from `text`.
    fn read(&mut self, text: &str) -> Result<(), String> {
        for (i, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            let words: Vec<&str> = line.split_whitespace().collect();
            let at = |e: String| format!("line {}: {e}", i + 1);
            match words.as_slice() {
                [] => {}
                ["default", to] => self.add("default", "", to).map_err(at)?,
                [kind @ ("route" | "host"), what, to] => self.add(kind, what, to).map_err(at)?,
                _ => return Err(at(format!("cannot read '{line}'"))),
            }
        }
        Ok(())
    }
}

fn parse_args(args: &[String]) -> Result<(Router, String), String> {
    let mut node = None;
    let mut listen = None;
    let mut routes = Routes::default();
    let mut backend = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--node" => node = Some(value()?.parse().map_err(|_| "bad --node")?),
            "--listen" => listen = Some(value()?.clone()),
            "--backend" => backend = true,
            "--route" | "--host" => {
                let v = value()?;
                let (what, n) = v.split_once('=').ok_or(format!("{a} NAME=NODE"))?;
                routes.add(&a[2..], what, n)?;
            }
            "--default" => routes.add("default", "", value()?)?,
            "--config" => {
                let path = value()?;
                let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
                routes.read(&text).map_err(|e| format!("{path}: {e}"))?;
            }
            _ => return Err(format!("unknown argument {a}")),
        }
    }
    routes
        .routes
        .sort_by_key(|(p, _): &(String, u32)| std::cmp::Reverse(p.len()));
    let node = node.ok_or("--node is required")?;
    Ok((
        Router {
            node,
            hosts: routes.hosts,
            default: routes.default.unwrap_or(node),
            backend,
            routes: routes.routes,
        },
        listen.ok_or("--listen is required")?,
    ))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (router, listen) = match parse_args(&args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tprouter: {e}\nusage: tprouter --node ID --listen VIP:PORT [--route PREFIX=NODE]... [--host NAME=NODE]... [--default NODE|local] [--config FILE] [--backend]");
            return ExitCode::from(2);
        }
    };
    let listener = match TcpListener::bind(&listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("tprouter: listen on {listen}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let router = std::sync::Arc::new(router);
    for conn in listener.incoming() {
        let Ok(conn) = conn else { continue };
        let router = router.clone();
        std::thread::spawn(move || {
            if let Err(e) = serve(&router, conn) {
                eprintln!("node {}: connection ended: {e}", router.node);
            }
        });
    }
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_parse_only_when_whole() {
        assert!(parse_head(b"GET / HTTP/1.1\r\nHost: a\r\n").is_none());
        let r = parse_head(b"GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET")
            .unwrap()
            .unwrap();
        assert_eq!(
            (r.path.as_str(), r.host.as_str(), r.body_len),
            ("/x", "a", 3)
        );
        assert!(r.keep_alive);
        let r = parse_head(b"GET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
        assert!(!r.keep_alive);
        assert!(parse_head(b"GARBAGE\r\n\r\n").unwrap().is_err());
    }

    #[test]
    fn the_longest_prefix_routes() {
        let (r, _) = parse_args(
            &[
                "--node", "1", "--listen", "x", "--route", "/a=2", "--route", "/a/b=3",
            ]
            .map(String::from),
        )
        .unwrap();
        assert_eq!(r.owner("h", "/a/b/c"), 3);
        assert_eq!(r.owner("h", "/a/x"), 2);
        assert_eq!(r.owner("h", "/z"), 1);
    }

    #[test]
    fn hosts_win_then_prefixes_then_the_default() {
        let (r, _) = parse_args(
            &[
                "--node",
                "1",
                "--listen",
                "x",
                "--route",
                "/a=2",
                "--host",
                "Img.Example:8080=3",
                "--default",
                "4",
            ]
            .map(String::from),
        )
        .unwrap();
        assert_eq!(r.owner("img.example", "/a/x"), 3);
        assert_eq!(r.owner("IMG.example:80", "/"), 3);
        assert_eq!(r.owner("other", "/a/x"), 2);
        assert_eq!(r.owner("other", "/b"), 4);
        assert_eq!(host_name("[2001:db8::1]:8080"), "2001:db8::1");
    }

    #[test]
    fn configuration_files_read_and_refuse_with_the_line() {
        let mut routes = Routes::default();
        routes
            .read("# routes\nroute /api/ 2\nhost www.example 3 # a comment\ndefault local\n\n")
            .unwrap();
        assert_eq!(routes.routes, vec![("/api/".to_string(), 2)]);
        assert_eq!(routes.hosts, vec![("www.example".to_string(), 3)]);
        assert_eq!(routes.default, None);
        assert_eq!(
            Routes::default().read("route /x 0").unwrap_err(),
            "line 1: bad node '0' for route /x"
        );
        assert_eq!(
            Routes::default().read("route x 2").unwrap_err(),
            "line 1: route prefix 'x' must start with /"
        );
        assert!(Routes::default().read("routes /x 2").is_err());
    }

    #[test]
    fn heads_over_the_field_limit_are_too_large_and_garbage_is_bad() {
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            head.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        assert!(matches!(parse_head(&head), Some(Err(Refusal::TooLarge))));
        // One field, but a whole head over 8 KiB (curl sends it in one go,
        // so it is whole when first read).
        let long = format!("GET / HTTP/1.1\r\nX-Long: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        assert!(matches!(
            parse_head(long.as_bytes()),
            Some(Err(Refusal::TooLarge))
        ));
        assert!(matches!(
            parse_head(b"GET / HTTP/1.1\r\nBad Header\r\n\r\n"),
            Some(Err(Refusal::Bad(_)))
        ));
        let r = parse_head(
            b"POST /u HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        assert!(r.chunked);
    }

    #[test]
    fn bytes_paths() {
        assert_eq!(bytes_path("/bytes/10"), Some((10, 1)));
        assert_eq!(bytes_path("/bytes/10?seed=7"), Some((10, 7)));
        assert_eq!(bytes_path("/n2/bytes/5?seed=3"), Some((5, 3)));
        assert_eq!(bytes_path("/other"), None);
    }
}

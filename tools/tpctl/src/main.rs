//! tpctl: control and inspect the tpcluster node of the current network
//! namespace.
//!
//! Exit status: 0 success, 1 the operation failed (the message says why),
//! 2 bad usage.

use std::{fmt::Write as _, process::ExitCode};

mod client;
mod conns;
mod genl;
mod members;
mod objects;
mod stats;
// Shared with the library, whose handover numbers the command reaches
// through it.
#[allow(dead_code)]
mod uapi;

const USAGE: &str = "\
Usage: tpctl [-j|--json] OBJECT COMMAND

Objects and commands (the node of the current network namespace):
  node show                          this node's settings
  node set [id N] [addr A] [port P] [key HEX64] [heartbeat MS] [dead MS]
  peer show | add id N addr A | del id N
  vip show | add ADDR mac MAC dev IFNAME | del ADDR
  service show | add VIP:PORT [mode balance|splice|replicate] [replicas R]
          | del VIP:PORT
  cluster show                       the members and their state
  conn show                          this node's TCP connections to its VIPs;
                                     replicated ones with role and replica set
  conn handover CLIENT:PORT VIP:PORT to N [replay FILE]
  conn handover cookie C to N [replay FILE]
                                     hand a connection of a splice service
                                     to node N (FILE: bytes to replay first)
  stats show                         counters
  monitor [node ID] [count N]        print membership changes as they happen

Changes need CAP_NET_ADMIN. Errors print the kernel's reason.

Options:
  -j, --json      print JSON instead of text
  -h, --help      print this help
";

/// A failure with its exit status.
pub(crate) enum Failure {
    /// The command line is wrong: status 2, usage printed.
    Usage(String),
    /// The operation failed: status 1.
    Failed(String),
}

struct Options {
    json: bool,
}

fn run(args: &[String]) -> Result<String, Failure> {
    let mut opts = Options { json: false };
    let mut words = Vec::new();
    for arg in args {
        match arg.as_str() {
            "-j" | "--json" => opts.json = true,
            "-h" | "--help" | "help" => return Ok(USAGE.to_string()),
            a if a.starts_with('-') => return Err(Failure::Usage(format!("unknown option '{a}'"))),
            a => words.push(a),
        }
    }
    match words.as_slice() {
        ["stats"] | ["stats", "show"] => stats::show(opts.json),
        ["cluster", rest @ ..] => members::cluster(rest, opts.json),
        ["conn", rest @ ..] => conns::run(rest, opts.json),
        ["monitor", rest @ ..] => members::monitor(rest, opts.json),
        [object @ ("node" | "peer" | "vip" | "service"), rest @ ..] => {
            objects::run(object, rest, opts.json)
        }
        [] => Err(Failure::Usage("missing object".into())),
        _ => Err(Failure::Usage(format!(
            "unknown command '{}'",
            words.join(" ")
        ))),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(Failure::Usage(msg)) => {
            let mut text = format!("tpctl: {msg}\n\n");
            let _ = write!(text, "{USAGE}");
            eprint!("{text}");
            ExitCode::from(2)
        }
        Err(Failure::Failed(msg)) => {
            eprintln!("tpctl: {msg}");
            ExitCode::from(1)
        }
    }
}

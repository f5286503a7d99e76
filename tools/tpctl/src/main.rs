//! tpctl: control and inspect the tpcluster node of a network namespace.
//!
//! Exit status: 0 success (also when whoever read the output went away),
//! 1 the operation failed (the message says why), 2 bad usage.

use std::{io::Write as _, process::ExitCode};

mod args;
mod check;
mod cli;
mod conns;
mod extack;
mod members;
// Shared with the library, which uses some of it only.
#[allow(dead_code)]
mod netlink;
mod netns;
mod objects;
mod output;
mod prometheus;
mod save;
mod stats;
// Shared with the library, whose handover numbers the command reaches
// through it.
#[allow(dead_code)]
mod uapi;

use cli::{Command, Parsed};

/// Why tpctl stops before its work is done.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The command line (or a restore file) is wrong: status 2.
    Usage(clap::Error),
    /// The operation failed: status 1, with the reason.
    Failed(String),
    /// Nobody reads the output any more: status 0, quietly.
    Closed,
}

impl From<netlink::Error> for Failure {
    fn from(e: netlink::Error) -> Self {
        Failure::Failed(e.text)
    }
}

/// An I/O error as tpctl prints it: the system's text, without Rust's
/// " (os error N)".
pub(crate) fn io_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(" (os error ") {
        Some((message, _)) => message.to_string(),
        None => text,
    }
}

/// Says something on standard error that does not stop tpctl.
pub(crate) fn warn(msg: &str) {
    let _ = writeln!(std::io::stderr(), "tpctl: warning: {msg}");
}

/// Writes `text` to standard output now. A closed pipe ends tpctl quietly,
/// as it ends `ip`.
pub(crate) fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Failure::Closed),
        Err(e) => Err(Failure::Failed(format!("writing the output: {e}"))),
    }
}

/// `--version`: tpctl's, and the loaded module's.
fn version() -> String {
    let module = match std::fs::read_to_string("/sys/module/tpcluster/version") {
        Ok(v) => v.trim().to_string(),
        Err(_) if std::path::Path::new("/sys/module/tpcluster").exists() => "unknown".into(),
        Err(_) => "not loaded".into(),
    };
    format!("tpctl {}\nmodule: {module}\n", env!("CARGO_PKG_VERSION"))
}

/// Runs `command` in the current network namespace.
fn execute(command: Command, json: bool) -> Result<(), Failure> {
    use netlink::Client;
    let connect = || Client::connect().map_err(Failure::from);
    let text = match command {
        Command::NodeShow => {
            let mut client = connect()?;
            let mut node = objects::node_get(&mut client)?;
            let vips: Vec<_> = objects::vips(&mut client)?.iter().map(|v| v.addr).collect();
            node.held_connections = conns::held(&vips)?;
            output::one(&node, json)
        }
        Command::NodeSet(set) => {
            let change = set.resolve()?;
            objects::node_set(&mut connect()?, &change)?;
            String::new()
        }
        Command::PeerShow => output::list(&objects::peers(&mut connect()?)?, json),
        Command::PeerAdd(p) => {
            objects::peer_add(&mut connect()?, &p)?;
            String::new()
        }
        Command::PeerDel(id) => {
            objects::peer_del(&mut connect()?, id)?;
            String::new()
        }
        Command::VipShow => output::list(&objects::vips(&mut connect()?)?, json),
        Command::VipAdd(add) => {
            let vip = add.resolve()?;
            objects::vip_add(&mut connect()?, &vip)?;
            String::new()
        }
        Command::VipDel(addr) => {
            objects::vip_del(&mut connect()?, addr)?;
            String::new()
        }
        Command::ServiceShow => output::list(&objects::services(&mut connect()?)?, json),
        Command::ServiceAdd(add) => {
            objects::service_add(&mut connect()?, &add)?;
            String::new()
        }
        Command::ServiceSet(set) => {
            objects::service_set(&mut connect()?, &set)?;
            String::new()
        }
        Command::ServiceCheck(check) => {
            check::run(&mut connect()?, &check)?;
            String::new()
        }
        Command::ServiceDel(vip, port) => {
            objects::service_del(&mut connect()?, vip, port)?;
            String::new()
        }
        Command::ClusterShow => members::show(json)?,
        Command::ConnShow => conns::show(json)?,
        Command::ConnPrimary(p) => {
            conns::set_primary(&mut connect()?, &p)?;
            String::new()
        }
        Command::ConnHandover(h) => {
            conns::handover(&h)?;
            String::new()
        }
        Command::StatsShow(format) => stats::show(json, format)?,
        Command::Monitor { node, count } => {
            members::monitor(node, count, json)?;
            String::new()
        }
        Command::Save => save::save(&mut connect()?)?.render(),
        Command::Restore(file) => {
            save::restore(&file)?;
            String::new()
        }
        Command::Flush => {
            save::flush()?;
            String::new()
        }
        Command::Completions(shell) => {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cli::command(), "tpctl", &mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        }
        Command::Man(path) => {
            String::from_utf8_lossy(&cli::man_page(&path).map_err(Failure::Usage)?).into_owned()
        }
    };
    print(&text)
}

fn run() -> Result<(), Failure> {
    match cli::parse(std::env::args_os()).map_err(Failure::Usage)? {
        Parsed::Version => print(&version()),
        Parsed::Run {
            json,
            netns,
            command,
        } => {
            if let Some(name) = &netns {
                netns::enter(name)?;
            }
            execute(command, json)
        }
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(()) | Err(Failure::Closed) => ExitCode::SUCCESS,
        Err(Failure::Usage(e)) => {
            // Help goes to standard output, errors to standard error; a
            // closed pipe is no reason to say more.
            let _ = e.print();
            ExitCode::from(e.exit_code().clamp(0, 255) as u8)
        }
        Err(Failure::Failed(msg)) => {
            let _ = writeln!(std::io::stderr(), "tpctl: {msg}");
            ExitCode::from(1)
        }
    }
}

//! `tpctl save`, `tpctl restore` and `tpctl flush`: the node's whole
//! configuration as tpctl command lines, and applying such lines all or
//! nothing, as `ipvsadm -S`/`-R` and `nft -f` do.
//!
//! `save` prints `node set`, `peer add`, `vip add` and `service add` lines
//! in the words the commands take. The key never leaves the kernel: a
//! comment stands where it would be.
//!
//! `restore` reads the whole file and checks every line before it sends
//! anything; then it applies the lines in order, recording how to undo
//! each. When the kernel refuses a line, it undoes what it applied, newest
//! first: deletes what it added, adds back what a `flush` line deleted, and
//! sets the node's settings back. Two things cannot be undone, since the
//! kernel never returns them: a key the file set (the node keeps it), and
//! an id, address or port the node did not have before (they cannot be
//! unset). Timers that followed the module's parameters are set back to
//! the values they had, and no longer follow the parameters.

use crate::{
    cli::{self, Command, Parsed},
    netlink::{Client, Error},
    objects::{self, KeyArg, NodeChange, NodeSet, ServiceAdd, VipAdd},
    output::{self, KeyState},
    Failure,
};
use clap::error::ErrorKind;
use std::{io::Read as _, net::Ipv4Addr};

/// A configuration as `save` prints it and `restore` reads it back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Saved {
    /// The node's settings, those it has (never the key).
    pub(crate) node: NodeSet,
    pub(crate) key: Option<KeyState>,
    pub(crate) peers: Vec<output::Peer>,
    pub(crate) vips: Vec<VipAdd>,
    pub(crate) services: Vec<ServiceAdd>,
}

fn mac_text(mac: [u8; 6]) -> String {
    output::Mac(mac).to_string()
}

fn service_words(s: &ServiceAdd) -> String {
    let mut line = format!("service add {}:{}", s.vip, s.port);
    if let Some(m) = s.mode {
        line += &format!(" mode {}", m.name());
    }
    if let Some(r) = s.replicas {
        line += &format!(" replicas {r}");
    }
    if let Some(a) = s.affinity {
        line += &format!(" affinity {}", a.name());
    }
    if let Some(p) = s.backend_port {
        line += &format!(" backend-port {p}");
    }
    line
}

impl Saved {
    /// The lines of the configuration.
    pub(crate) fn render(&self) -> String {
        let mut out =
            String::from("# tpcluster configuration (tpctl save); apply with tpctl restore\n");
        if self.node != NodeSet::default() {
            out += &self.node.words();
            out.push('\n');
        }
        match self.key {
            Some(KeyState::Set) => {
                out += "# key: set; the kernel never gives it back: add key-file FILE to node set\n"
            }
            Some(KeyState::Unset) => out += "# key: unset\n",
            None => {}
        }
        for p in &self.peers {
            out += &format!("peer add id {} addr {}\n", p.id, p.addr);
        }
        for v in &self.vips {
            out += &format!("vip add {} mac {} dev {}\n", v.addr, mac_text(v.mac), v.dev);
        }
        for s in &self.services {
            out += &service_words(s);
            out.push('\n');
        }
        out
    }
}

/// The node's configuration, as `save` prints it.
pub(crate) fn save(c: &mut Client) -> Result<Saved, Failure> {
    let node = objects::node_get(c)?;
    let set = |v: bool| v.then_some(());
    let mut vips = Vec::new();
    for v in objects::vips(c)? {
        let dev = objects::ifname(v.ifindex).ok_or_else(|| {
            Failure::Failed(format!(
                "VIP {}: no interface with index {} in this namespace",
                v.addr, v.ifindex
            ))
        })?;
        vips.push(VipAdd {
            addr: v.addr,
            mac: v.mac.0,
            dev,
        });
    }
    let services = objects::services(c)?
        .iter()
        .map(|s| {
            s.to_add().ok_or_else(|| {
                Failure::Failed(format!(
                    "service {}:{}: mode '{}' unknown to this tpctl",
                    s.vip, s.port, s.mode
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    Ok(Saved {
        node: NodeSet {
            id: set(node.id != 0).map(|_| node.id),
            addr: set(!node.addr.is_unspecified()).map(|_| node.addr),
            port: set(node.port != 0).map(|_| node.port),
            key: None,
            heartbeat: Some(node.heartbeat_ms),
            dead: Some(node.dead_ms),
            // Always, as the timers: a restored file sets them back.
            weight: Some(node.weight),
            drain: Some(node.drain),
        },
        key: Some(node.key),
        peers: objects::peers(c)?,
        vips,
        services,
    })
}

/// One command of a restore file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Flush,
    NodeSet(NodeSet),
    PeerAdd(output::Peer),
    VipAdd(VipAdd),
    ServiceAdd(ServiceAdd),
}

/// The words of a line, up to a `#` that starts a word.
fn words(line: &str) -> Vec<String> {
    line.split_whitespace()
        .take_while(|w| !w.starts_with('#'))
        .map(String::from)
        .collect()
}

/// Parses and checks a restore file: its commands with their line numbers.
/// An error names the line and says why.
pub(crate) fn parse(text: &str) -> Result<Vec<(usize, Op)>, String> {
    let mut ops = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let w = words(line);
        if w.is_empty() {
            continue;
        }
        let bad = |why: String| format!("line {n}: {why}");
        if w[0].starts_with('-') {
            return Err(bad(format!(
                "options such as '{}' are not taken here",
                w[0]
            )));
        }
        let parsed = cli::parse(std::iter::once("tpctl".to_string()).chain(w.iter().cloned()))
            .map_err(|e| match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    bad("help is not taken here".into())
                }
                _ => bad(clap_reason(&e)),
            })?;
        let op = match parsed {
            Parsed::Run { command, .. } => match command {
                Command::Flush if ops.is_empty() => Op::Flush,
                Command::Flush => {
                    return Err(bad("flush is only taken as the first command".into()))
                }
                Command::NodeSet(s) => Op::NodeSet(s),
                Command::PeerAdd(p) => Op::PeerAdd(p),
                Command::VipAdd(v) => Op::VipAdd(v),
                Command::ServiceAdd(s) => Op::ServiceAdd(s),
                _ => {
                    return Err(bad(format!(
                    "'{}' is not taken here (only flush, node set, peer add, vip add, service add)",
                    w.join(" ")
                )))
                }
            },
            Parsed::Version => return Err(bad("not a command".into())),
        };
        ops.push((n, op));
    }
    Ok(ops)
}

/// The first line of a clap error, without its `error: ` prefix.
fn clap_reason(e: &clap::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("").trim();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// A command of the file, ready to send.
enum Step {
    Flush,
    NodeSet(NodeChange),
    PeerAdd(output::Peer),
    VipAdd(output::Vip),
    ServiceAdd(ServiceAdd),
}

/// How to take back one applied change.
enum Undo {
    NodeSet(NodeChange),
    PeerDel(u32),
    PeerAdd(output::Peer),
    VipDel(Ipv4Addr),
    VipAdd(output::Vip),
    ServiceDel(Ipv4Addr, u16),
    ServiceAdd(ServiceAdd),
}

/// Applies `step`, recording how to undo what it changed in `undo`.
fn apply(c: &mut Client, step: &Step, undo: &mut Vec<Undo>) -> Result<(), Error> {
    match step {
        Step::Flush => {
            let services = objects::services(c)?;
            let adds: Vec<ServiceAdd> = services.iter().filter_map(|s| s.to_add()).collect();
            if adds.len() != services.len() {
                return Err(Error {
                    errno: 0,
                    text: "a service has a mode unknown to this tpctl, which could not add it back"
                        .into(),
                });
            }
            for s in adds {
                objects::service_del(c, s.vip, s.port)?;
                undo.push(Undo::ServiceAdd(s));
            }
            for v in objects::vips(c)? {
                objects::vip_del(c, v.addr)?;
                undo.push(Undo::VipAdd(v));
            }
            for p in objects::peers(c)? {
                objects::peer_del(c, p.id)?;
                undo.push(Undo::PeerAdd(p));
            }
        }
        Step::NodeSet(change) => {
            let before = objects::node_get(c)?;
            objects::node_set(c, change)?;
            // What can be set back: a value the node had (ids and ports
            // are never 0 once set, nor the address 0.0.0.0).
            let back = NodeChange {
                id: change.id.and((before.id != 0).then_some(before.id)),
                addr: change
                    .addr
                    .and((!before.addr.is_unspecified()).then_some(before.addr)),
                port: change.port.and((before.port != 0).then_some(before.port)),
                key: None,
                heartbeat: change.heartbeat.map(|_| before.heartbeat_ms),
                dead: change.dead.map(|_| before.dead_ms),
                weight: change.weight.map(|_| before.weight),
                drain: change.drain.map(|_| before.drain),
            };
            if back != NodeChange::default() {
                undo.push(Undo::NodeSet(back));
            }
        }
        Step::PeerAdd(p) => {
            objects::peer_add(c, p)?;
            undo.push(Undo::PeerDel(p.id));
        }
        Step::VipAdd(v) => {
            objects::vip_add(c, v)?;
            undo.push(Undo::VipDel(v.addr));
        }
        Step::ServiceAdd(s) => {
            objects::service_add(c, s)?;
            undo.push(Undo::ServiceDel(s.vip, s.port));
        }
    }
    Ok(())
}

/// Undoes `undo`, newest first; says on standard error what could not be
/// undone. Returns whether all of it was.
fn roll_back(c: &mut Client, undo: Vec<Undo>) -> bool {
    let mut whole = true;
    for u in undo.into_iter().rev() {
        let (what, done) = match &u {
            Undo::NodeSet(n) => ("setting the node back".to_string(), objects::node_set(c, n)),
            Undo::PeerDel(id) => (format!("deleting peer {id}"), objects::peer_del(c, *id)),
            Undo::PeerAdd(p) => (
                format!("adding peer {} back", p.id),
                objects::peer_add(c, p),
            ),
            Undo::VipDel(a) => (format!("deleting VIP {a}"), objects::vip_del(c, *a)),
            Undo::VipAdd(v) => (
                format!("adding VIP {} back", v.addr),
                objects::vip_add(c, v),
            ),
            Undo::ServiceDel(a, p) => (
                format!("deleting service {a}:{p}"),
                objects::service_del(c, *a, *p),
            ),
            Undo::ServiceAdd(s) => (
                format!("adding service {}:{} back", s.vip, s.port),
                objects::service_add(c, s),
            ),
        };
        if let Err(e) = done {
            crate::warn(&format!("undoing: {what}: {e}"));
            whole = false;
        }
    }
    whole
}

/// Reads `file` (`-`: standard input).
fn read(file: &str) -> Result<String, Failure> {
    let failed =
        |e: std::io::Error| Failure::Failed(format!("reading {file}: {}", crate::io_text(&e)));
    if file == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(failed)?;
        Ok(text)
    } else {
        std::fs::read_to_string(file).map_err(failed)
    }
}

/// Applies `steps` (each with what to call it in a message) all or
/// nothing.
fn transaction(steps: &[(String, Step)]) -> Result<(), Failure> {
    let mut c = Client::connect()?;
    let mut undo = Vec::new();
    for (i, (name, step)) in steps.iter().enumerate() {
        if let Err(e) = apply(&mut c, step, &mut undo) {
            let key_kept = steps[..i]
                .iter()
                .any(|(_, s)| matches!(s, Step::NodeSet(n) if n.key.is_some()));
            let whole = roll_back(&mut c, undo);
            let mut msg = format!("{name}: {e}; ");
            msg += if whole {
                "the changes made before it were undone"
            } else {
                "undoing the changes made before it failed in part (see above)"
            };
            if key_kept {
                msg += " (the key set before stays: the kernel never gives the previous one back)";
            }
            return Err(Failure::Failed(msg));
        }
    }
    Ok(())
}

/// `tpctl restore FILE`.
pub(crate) fn restore(file: &str) -> Result<(), Failure> {
    let text = read(file)?;
    let usage =
        |msg: String| Failure::Usage(cli::usage_error(&["restore"], format!("{file}: {msg}")));
    let ops = parse(&text).map_err(usage)?;
    // Everything a line needs from this machine, before anything is sent.
    let mut steps = Vec::new();
    for (n, op) in ops {
        let name = format!("{file}: line {n}");
        let at = |f: Failure| match f {
            Failure::Failed(m) => Failure::Failed(format!("{name}: {m}")),
            Failure::Usage(e) => usage(format!("line {n}: {}", clap_reason(&e))),
            other => other,
        };
        let step = match op {
            Op::Flush => Step::Flush,
            Op::NodeSet(s) => {
                if file == "-" && s.key == Some(KeyArg::File("-".into())) {
                    return Err(usage(format!(
                        "line {n}: key-file - would read standard input, which holds this file"
                    )));
                }
                Step::NodeSet(s.resolve().map_err(at)?)
            }
            Op::PeerAdd(p) => Step::PeerAdd(p),
            Op::VipAdd(v) => Step::VipAdd(v.resolve().map_err(at)?),
            Op::ServiceAdd(s) => Step::ServiceAdd(s),
        };
        steps.push((name, step));
    }
    transaction(&steps)
}

/// `tpctl flush`: every service, VIP and peer deleted, or none.
pub(crate) fn flush() -> Result<(), Failure> {
    transaction(&[("flush".to_string(), Step::Flush)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::{Affinity, Mode};

    /// The commands that make `saved`, in `render`'s order.
    fn ops_of(saved: &Saved) -> Vec<Op> {
        let mut ops = Vec::new();
        if saved.node != NodeSet::default() {
            ops.push(Op::NodeSet(saved.node.clone()));
        }
        ops.extend(saved.peers.iter().cloned().map(Op::PeerAdd));
        ops.extend(saved.vips.iter().cloned().map(Op::VipAdd));
        ops.extend(saved.services.iter().cloned().map(Op::ServiceAdd));
        ops
    }

    fn sample() -> Saved {
        Saved {
            node: NodeSet {
                id: Some(1),
                addr: Some(Ipv4Addr::new(10, 0, 0, 1)),
                port: Some(7000),
                key: None,
                heartbeat: Some(100),
                dead: Some(300),
                weight: Some(2),
                drain: None,
            },
            key: Some(KeyState::Set),
            peers: vec![
                output::Peer {
                    id: 2,
                    addr: Ipv4Addr::new(10, 0, 0, 2),
                },
                output::Peer {
                    id: 3,
                    addr: Ipv4Addr::new(10, 0, 0, 3),
                },
            ],
            vips: vec![VipAdd {
                addr: Ipv4Addr::new(10, 0, 0, 100),
                mac: [1, 0, 0x5e, 0, 0, 0x64],
                dev: "eth0".into(),
            }],
            services: vec![
                ServiceAdd {
                    vip: Ipv4Addr::new(10, 0, 0, 100),
                    port: 80,
                    mode: Some(Mode::Balance),
                    replicas: None,
                    affinity: Some(Affinity::Source),
                    backend_port: None,
                },
                ServiceAdd {
                    vip: Ipv4Addr::new(10, 0, 0, 100),
                    port: 81,
                    mode: Some(Mode::Replicate),
                    replicas: Some(3),
                    affinity: None,
                    backend_port: None,
                },
            ],
        }
    }

    #[test]
    fn save_prints_the_commands() {
        assert_eq!(
            sample().render(),
            "# tpcluster configuration (tpctl save); apply with tpctl restore\n\
             node set id 1 addr 10.0.0.1 port 7000 heartbeat 100 dead 300 weight 2\n\
             # key: set; the kernel never gives it back: add key-file FILE to node set\n\
             peer add id 2 addr 10.0.0.2\n\
             peer add id 3 addr 10.0.0.3\n\
             vip add 10.0.0.100 mac 01:00:5e:00:00:64 dev eth0\n\
             service add 10.0.0.100:80 mode balance affinity source\n\
             service add 10.0.0.100:81 mode replicate replicas 3\n"
        );
    }

    #[test]
    fn restore_reads_what_save_prints() {
        let saved = sample();
        let ops: Vec<Op> = parse(&saved.render())
            .unwrap()
            .into_iter()
            .map(|(_, op)| op)
            .collect();
        assert_eq!(ops, ops_of(&saved));
        // A node without id, address or port yet: only its timers.
        let fresh = Saved {
            node: NodeSet {
                heartbeat: Some(50),
                dead: Some(200),
                ..NodeSet::default()
            },
            key: Some(KeyState::Unset),
            ..Saved::default()
        };
        let text = fresh.render();
        assert!(text.contains("node set heartbeat 50 dead 200\n"), "{text}");
        let ops: Vec<Op> = parse(&text)
            .unwrap()
            .into_iter()
            .map(|(_, op)| op)
            .collect();
        assert_eq!(ops, ops_of(&fresh));
    }

    #[test]
    fn restore_files() {
        let text = "\
flush
# the node
node set id 2 addr 10.0.0.2 port 7000 key-file /etc/tpcluster/key   # mode 600

p a id 1 addr 10.0.0.1
service add 10.0.0.100:80 mode splice
";
        let ops = parse(text).unwrap();
        assert_eq!(ops.len(), 4);
        assert_eq!(ops[0], (1, Op::Flush));
        assert_eq!(
            ops[1],
            (
                3,
                Op::NodeSet(NodeSet {
                    id: Some(2),
                    addr: Some(Ipv4Addr::new(10, 0, 0, 2)),
                    port: Some(7000),
                    key: Some(KeyArg::File("/etc/tpcluster/key".into())),
                    ..NodeSet::default()
                })
            )
        );
        assert_eq!(ops[2].0, 5);
        assert_eq!(parse("").unwrap(), vec![]);
    }

    #[test]
    fn bad_restore_files_name_the_line() {
        let cases = [
            (
                "peer add id 2 addr 10.0.0.2\npeer add id 3\n",
                "line 2: missing 'addr'",
            ),
            (
                "vip add 10.0.0.300 mac 01:00:5e:00:00:64 dev eth0",
                "line 1: invalid VIP address '10.0.0.300'",
            ),
            (
                "# c\npeer del id 2\n",
                "line 2: 'peer del id 2' is not taken here",
            ),
            ("node show", "line 1: 'node show' is not taken here"),
            (
                "peer add id 2 addr 10.0.0.2\nflush\n",
                "line 2: flush is only taken as the first command",
            ),
            (
                "-j peer add id 2 addr 10.0.0.2",
                "line 1: options such as '-j' are not taken here",
            ),
            ("frob", "line 1: unrecognized subcommand 'frob'"),
            (
                "service add 10.0.0.100:80 mode fast",
                "line 1: unknown mode 'fast'",
            ),
            (
                "node set key abc",
                "line 1: the key is 64 hexadecimal digits",
            ),
            ("peer add --help", "line 1: help is not taken here"),
        ];
        for (text, want) in cases {
            let e = parse(text).unwrap_err();
            assert!(e.starts_with(want), "{text:?}: '{e}', want '{want}'");
        }
    }
}

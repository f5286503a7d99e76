//! tpctl's command line: objects and commands as clap defines them (help,
//! abbreviations, completions and the man page come from here), and the
//! ip-style `keyword value` arguments read by tpctl's own typed parser
//! (`args.rs`) into a [`Command`].

use crate::{
    args::{self, Affinity, Mode},
    check,
    objects::{Handover, KeyArg, NodeSet, ServiceAdd, ServiceSet, Target, VipAdd},
    output,
};
use clap::{error::ErrorKind, CommandFactory, FromArgMatches, Parser, Subcommand};
use std::{ffi::OsString, net::Ipv4Addr};

const AFTER_HELP: &str = "\
Objects and commands may be abbreviated to a unique prefix (tpctl serv sh);
an object without a command is shown. Changes need CAP_NET_ADMIN, showing
does not.

Exit status: 0 success, 1 the operation failed (the kernel's reason is
printed), 2 bad usage.";

/// Configure and inspect the tpcluster node of a network namespace.
#[derive(Parser, Debug)]
// The version is for the man page; `-V` is tpctl's own, to name the
// module's version too.
#[command(
    name = "tpctl",
    version,
    disable_version_flag = true,
    arg_required_else_help = true,
    after_help = AFTER_HELP
)]
pub(crate) struct Cli {
    /// Print JSON instead of text
    #[arg(short, long, global = true)]
    json: bool,

    /// Act on the node of network namespace NAME (/var/run/netns/NAME), as
    /// `ip -n` does
    #[arg(short, long, value_name = "NAME", global = true)]
    netns: Option<String>,

    /// Print tpctl's version and the loaded module's
    #[arg(short = 'V', long)]
    version: bool,

    #[command(subcommand)]
    object: Option<Object>,
}

#[derive(Subcommand, Debug)]
enum Object {
    /// This node's settings: id, address, port, key, timers
    Node {
        #[command(subcommand)]
        cmd: Option<NodeCmd>,
    },
    /// The other nodes of the cluster
    Peer {
        #[command(subcommand)]
        cmd: Option<PeerCmd>,
    },
    /// Virtual IP addresses and their cluster MACs
    Vip {
        #[command(subcommand)]
        cmd: Option<VipCmd>,
    },
    /// Services: TCP ports of a VIP, and how their connections are served
    Service {
        #[command(subcommand)]
        cmd: Option<ServiceCmd>,
    },
    /// The members of the cluster as this node sees them
    Cluster {
        #[command(subcommand)]
        cmd: Option<ClusterCmd>,
    },
    /// This node's TCP connections to its VIPs
    Conn {
        #[command(subcommand)]
        cmd: Option<ConnCmd>,
    },
    /// The node's counters (as /proc/net/tpcluster)
    Stats {
        #[command(subcommand)]
        cmd: Option<StatsCmd>,
    },
    /// Print membership changes and diverging replicas as they happen
    #[command(
        override_usage = "tpctl monitor [node ID] [count N]",
        after_help = "\
Prints a line like those of `cluster show` (with -j, a JSON object) for
each change of a member's state. For a death, last_heard_ms is the silence
after which it was declared dead. Prints a line starting `event
replica-diverged` (with -j, an object with \"event\":\"replica-diverged\")
each time this node finds that a replica of a replicated connection wrote
other bytes than it; the backup of the two left the connection's set.

Keywords:
  node ID    events of node ID only (its changes, its replicas diverging)
  count N    exit after N events"
    )]
    Monitor {
        #[arg(hide = true)]
        args: Vec<String>,
    },
    /// Print the configuration as tpctl commands, for `tpctl restore`
    #[command(after_help = "\
Prints `node set`, `peer add`, `vip add` and `service add` lines. The key
is never printed (the kernel does not give it back): a comment stands where
it would be; add `key-file FILE` to the node set line to restore it.")]
    Save,
    /// Apply a saved configuration, all of it or nothing
    #[command(after_help = "\
FILE (or - for standard input) holds tpctl commands without the leading
`tpctl`: node set, peer add, vip add, service add; # comments and blank
lines. It is read and checked whole before anything is applied. It adds to
the configuration in place unless its first command is `flush`. If the
kernel refuses a line, what was applied is undone, and tpctl exits with 1
naming the line and the reason.")]
    Restore {
        /// The file to apply, - for standard input
        file: String,
    },
    /// Delete every service, VIP and peer (node settings stay)
    Flush,
    /// Print a shell completion script
    #[command(hide = true)]
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) of tpctl, or of one of its commands
    #[command(hide = true)]
    Man {
        /// The command, as `node` or `node set` (pages tpctl-node,
        /// tpctl-node-set)
        command: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
enum NodeCmd {
    /// Show this node's settings
    Show,
    /// Change this node's settings; those not given are kept
    #[command(
        override_usage = "tpctl node set [id N] [addr A] [port P] [key HEX64 | key-file FILE] [heartbeat MS] [dead MS] [weight W] [drain on|off]",
        after_help = "\
Keywords:
  id N            this node's id, unique in the cluster, not 0
  addr A          this node's own IPv4 address, where the channel listens
  port P          UDP port of the cluster channel, the same on every node
  key HEX64       the cluster key, 64 hex digits (visible in ps and in the
                  shell's history: prefer key-file)
  key-file FILE   read the key from FILE (- for standard input): 64 hex
                  digits; warns if group or others may read the file
  heartbeat MS    interval between heartbeats (10 to 10000)
  dead MS         silence after which a peer is dead (30 to 60000, at least
                  twice the interval)
  weight W        this node's share of new connections, relative to the
                  others' (0 to 65535; default 1; 0 takes none)
  drain on|off    on: take no new connection, serve those the node has
                  (the weight is kept for when it is off again)

The channel opens once id, addr, port and key are set."
    )]
    Set {
        #[arg(hide = true)]
        args: Vec<String>,
    },
    /// Take no new connections, serve those this node has (node set drain on)
    Drain,
    /// Take new connections again at this node's weight (node set drain off)
    Undrain,
}

#[derive(Subcommand, Debug)]
enum PeerCmd {
    /// List the peers
    Show,
    /// Add a peer: every node lists every other one
    #[command(override_usage = "tpctl peer add id N addr A")]
    Add {
        #[arg(hide = true)]
        args: Vec<String>,
    },
    /// Delete a peer
    #[command(override_usage = "tpctl peer del id N", visible_alias = "delete")]
    Del {
        #[arg(hide = true)]
        args: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
enum VipCmd {
    /// List the VIPs
    Show,
    /// Add a VIP, served with its cluster MAC on interface IFNAME
    #[command(
        override_usage = "tpctl vip add ADDR mac MAC dev IFNAME",
        after_help = "\
Keywords:
  mac MAC      the cluster MAC answered in ARP for the VIP: a multicast
               Ethernet address, the same on every node (01:00:5e:00:00:64)
  dev IFNAME   the interface the clients reach"
    )]
    Add {
        /// The virtual IPv4 address
        #[arg(value_name = "ADDR")]
        addr: String,
        #[arg(hide = true)]
        args: Vec<String>,
    },
    /// Delete a VIP and its services
    #[command(visible_alias = "delete")]
    Del {
        /// The VIP to delete
        #[arg(value_name = "ADDR")]
        addr: String,
    },
}

#[derive(Subcommand, Debug)]
enum ServiceCmd {
    /// List the services
    Show,
    /// Add a service: a TCP port of a VIP
    #[command(
        override_usage = "tpctl service add VIP:PORT [mode balance|splice|replicate] [replicas R] [affinity none|source] [backend-port P]",
        after_help = "\
Keywords:
  mode balance     each new connection to one node (the default)
  mode splice      balance, and connections can be handed to another node
  mode replicate   each connection served by R nodes (experimental)
  replicas R       R for replicate: 2 to 4 (default 2)
  affinity source  every connection of one client address to one node, as
                   long as the members stay (default none: each connection
                   hashed on its own)
  backend-port P   splice: hand each connection to the port P of the target
                   node's stack, where any server listens (nginx, httpd);
                   the module translates the port both ways. The router
                   listens on PORT. Set only as the service is added.

A node takes a service's new connections only while an application
listens for it there (on the VIP or the wildcard address)."
    )]
    Add {
        /// The VIP and the TCP port, as 10.0.0.100:80
        #[arg(value_name = "VIP:PORT")]
        service: String,
        #[arg(hide = true)]
        args: Vec<String>,
    },
    /// Change a service's settings
    #[command(
        override_usage = "tpctl service set VIP:PORT [affinity none|source] [health up|down]",
        after_help = "\
Keywords:
  affinity none|source  as for service add
  health down           this node takes none of the service's new
                        connections, whatever listens (a failed health
                        check); health up, the default, gives it back to
                        readiness alone. Not saved: a restore starts up."
    )]
    Set {
        /// The VIP and the TCP port, as 10.0.0.100:80
        #[arg(value_name = "VIP:PORT")]
        service: String,
        #[arg(hide = true)]
        args: Vec<String>,
    },
    /// Check a service's health on this node, and tell the module each
    /// change (runs until stopped)
    #[command(
        override_usage = "tpctl service check VIP:PORT tcp|http PATH|exec COMMAND [addr A] [port P] [interval MS] [timeout MS] [rise N] [fall N]",
        after_help = "\
Probes:
  tcp            connect; passes when the connection is accepted
  http PATH      GET PATH; passes on a 2xx or 3xx status
  exec COMMAND   sh -c COMMAND (one word: quote it); passes on exit 0
Keywords:
  addr A, port P  where tcp and http connect (default 127.0.0.1 and the
                  service's port)
  interval MS     between probes (default 1000)
  timeout MS      longest a probe may take (default 1000, at most the
                  interval)
  rise N, fall N  passes (default 2) or failures (default 3) in a row that
                  make the service healthy or unhealthy here

Each change is printed and set as with 'service set VIP:PORT health'. An
unhealthy service takes no new connection on this node; those it holds
stay. Stopping the checker leaves the last verdict in place."
    )]
    Check {
        /// The VIP and the TCP port, as 10.0.0.100:80
        #[arg(value_name = "VIP:PORT")]
        service: String,
        #[arg(hide = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Delete a service
    #[command(visible_alias = "delete")]
    Del {
        /// The service to delete
        #[arg(value_name = "VIP:PORT")]
        service: String,
    },
}

#[derive(Subcommand, Debug)]
enum ClusterCmd {
    /// Show the members: id, address, state, incarnation, last heard
    Show,
}

#[derive(Subcommand, Debug)]
enum StatsCmd {
    /// Show the counters
    Show {
        /// text (default; -j: JSON), json, or prometheus: the text
        /// exposition format, for node_exporter's textfile collector
        #[arg(short = 'f', long = "format", value_enum, default_value_t = StatsFormat::Text)]
        format: StatsFormat,
    },
}

/// How `stats show` prints the counters.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StatsFormat {
    /// `name  value` lines (JSON with -j)
    Text,
    /// One JSON object
    Json,
    /// The Prometheus text exposition format
    Prometheus,
}

#[derive(Subcommand, Debug)]
enum ConnCmd {
    /// Show this node's TCP connections to its VIPs; replicated ones with
    /// this node's role and the replica set
    Show,
    /// Hand a connection of a splice service to node N (FILE: bytes the
    /// target's application reads first)
    #[command(override_usage = "\
tpctl conn handover CLIENT:PORT VIP:PORT to N [replay FILE]
       tpctl conn handover cookie C to N [replay FILE]")]
    Handover {
        #[arg(hide = true)]
        args: Vec<String>,
    },
    /// Make node N the primary of a replicated connection this node sends
    /// on: its next replica, which takes over at once (a planned
    /// switchover); this node then leaves the connection
    #[command(override_usage = "tpctl conn primary CLIENT:PORT VIP:PORT to N")]
    Primary {
        #[arg(hide = true)]
        args: Vec<String>,
    },
}

/// A command, its arguments checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    NodeShow,
    NodeSet(NodeSet),
    PeerShow,
    PeerAdd(output::Peer),
    PeerDel(u32),
    VipShow,
    VipAdd(VipAdd),
    VipDel(Ipv4Addr),
    ServiceShow,
    ServiceAdd(ServiceAdd),
    ServiceSet(ServiceSet),
    ServiceCheck(check::Check),
    ServiceDel(Ipv4Addr, u16),
    ClusterShow,
    ConnShow,
    ConnHandover(Handover),
    ConnPrimary(SetPrimary),
    StatsShow(StatsFormat),
    Monitor {
        node: Option<u32>,
        count: Option<u64>,
    },
    Save,
    Restore(String),
    Flush,
    Completions(clap_complete::Shell),
    /// The man page of the command with these names (none: tpctl's).
    Man(Vec<String>),
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// `-V`: the versions.
    Version,
    Run {
        json: bool,
        netns: Option<String>,
        command: Command,
    },
}

/// The clap command, every level taking unique prefixes of its
/// subcommands as `ip` does.
pub(crate) fn command() -> clap::Command {
    let mut cmd = unbuilt();
    cmd.build();
    cmd
}

fn unbuilt() -> clap::Command {
    fn infer(cmd: clap::Command) -> clap::Command {
        cmd.infer_subcommands(true).mut_subcommands(infer)
    }
    infer(Cli::command())
}

/// The man page (roff) of the command `path` (from the top; empty for
/// tpctl's own), its subcommands named `tpctl-node(8)` and so on.
pub(crate) fn man_page(path: &[String]) -> Result<Vec<u8>, clap::Error> {
    let mut cmd = unbuilt().disable_help_subcommand(true);
    cmd.build();
    for (i, name) in path.iter().enumerate() {
        let sub = cmd
            .get_subcommands()
            .find(|s| !s.is_hide_set() && s.get_name() == name)
            .cloned();
        cmd = sub.ok_or_else(|| {
            usage_error(
                &["man"],
                format!("no man page for '{}'", path[..=i].join(" ")),
            )
        })?;
    }
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd)
        .section("8")
        .source(format!("tpctl {}", env!("CARGO_PKG_VERSION")))
        .manual("tpcluster")
        .render(&mut page)
        .map_err(|e| usage_error(&["man"], e))?;
    Ok(page)
}

/// A usage error about the command `path` (from the top, as `["peer",
/// "add"]`), with that command's usage.
pub(crate) fn usage_error(path: &[&str], msg: impl std::fmt::Display) -> clap::Error {
    fn descend(cmd: clap::Command, path: &[&str]) -> clap::Command {
        let sub = path
            .split_first()
            .and_then(|(name, rest)| Some((cmd.find_subcommand(name)?.clone(), rest)));
        match sub {
            Some((sub, rest)) => descend(sub, rest),
            None => cmd,
        }
    }
    descend(command(), path).error(ErrorKind::ValueValidation, msg)
}

/// The object's word of `args` written out in full when it is a unique
/// prefix of a visible object's name. clap infers prefixes too, but counts
/// the hidden generators (`completions`, `man`), which would make `co` and
/// `m` ambiguous; the commands under the objects have no hidden ones.
fn expand_object(cmd: &clap::Command, mut args: Vec<OsString>) -> Vec<OsString> {
    let mut i = 1;
    while let Some(word) = args.get(i).and_then(|a| a.to_str()) {
        match word {
            "--" => break,
            "-n" | "--netns" => i += 2,
            w if w.starts_with("--") => i += 1,
            // Short options, maybe together (-jn NAME, -nNAME).
            w if w.starts_with('-') => i += if w.ends_with('n') { 2 } else { 1 },
            w => {
                if cmd.find_subcommand(w).is_none() {
                    let mut visible = cmd
                        .get_subcommands()
                        .filter(|s| !s.is_hide_set() && s.get_name().starts_with(w));
                    if let (Some(only), None) = (visible.next(), visible.next()) {
                        args[i] = only.get_name().into();
                    }
                }
                break;
            }
        }
    }
    args
}

/// Parses a command line (the program name first).
pub(crate) fn parse<I, T>(args: I) -> Result<Parsed, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut cmd = command();
    let args = expand_object(&cmd, args.into_iter().map(Into::into).collect());
    let matches = cmd.try_get_matches_from_mut(args)?;
    let cli = Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))?;
    if cli.version {
        return Ok(Parsed::Version);
    }
    let Some(object) = cli.object else {
        return Err(cmd.error(ErrorKind::MissingSubcommand, "missing object"));
    };
    if let Some(name) = &cli.netns {
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return Err(cmd.error(
                ErrorKind::ValueValidation,
                format!("invalid network namespace name '{name}'"),
            ));
        }
    }
    Ok(Parsed::Run {
        json: cli.json,
        netns: cli.netns,
        command: typed(object)?,
    })
}

/// Checks the arguments of `object` and gives the command they make.
fn typed(object: Object) -> Result<Command, clap::Error> {
    let at = |path: &'static [&'static str]| move |msg: String| usage_error(path, msg);
    Ok(match object {
        Object::Node { cmd } => match cmd {
            None | Some(NodeCmd::Show) => Command::NodeShow,
            Some(NodeCmd::Set { args }) => {
                Command::NodeSet(node_set(&args).map_err(at(&["node", "set"]))?)
            }
            Some(NodeCmd::Drain) => Command::NodeSet(NodeSet {
                drain: Some(true),
                ..NodeSet::default()
            }),
            Some(NodeCmd::Undrain) => Command::NodeSet(NodeSet {
                drain: Some(false),
                ..NodeSet::default()
            }),
        },
        Object::Peer { cmd } => match cmd {
            None | Some(PeerCmd::Show) => Command::PeerShow,
            Some(PeerCmd::Add { args }) => {
                Command::PeerAdd(peer_add(&args).map_err(at(&["peer", "add"]))?)
            }
            Some(PeerCmd::Del { args }) => {
                Command::PeerDel(peer_del(&args).map_err(at(&["peer", "del"]))?)
            }
        },
        Object::Vip { cmd } => match cmd {
            None | Some(VipCmd::Show) => Command::VipShow,
            Some(VipCmd::Add { addr, args }) => {
                Command::VipAdd(vip_add(&addr, &args).map_err(at(&["vip", "add"]))?)
            }
            Some(VipCmd::Del { addr }) => {
                Command::VipDel(args::ipv4("VIP address", &addr).map_err(at(&["vip", "del"]))?)
            }
        },
        Object::Service { cmd } => match cmd {
            None | Some(ServiceCmd::Show) => Command::ServiceShow,
            Some(ServiceCmd::Add { service, args }) => {
                Command::ServiceAdd(service_add(&service, &args).map_err(at(&["service", "add"]))?)
            }
            Some(ServiceCmd::Set { service, args }) => {
                Command::ServiceSet(service_set(&service, &args).map_err(at(&["service", "set"]))?)
            }
            Some(ServiceCmd::Check { service, args }) => Command::ServiceCheck(
                check::parse(&service, &args).map_err(at(&["service", "check"]))?,
            ),
            Some(ServiceCmd::Del { service }) => {
                let (vip, port) =
                    args::endpoint("service", &service).map_err(at(&["service", "del"]))?;
                Command::ServiceDel(vip, port)
            }
        },
        Object::Cluster { cmd: None }
        | Object::Cluster {
            cmd: Some(ClusterCmd::Show),
        } => Command::ClusterShow,
        Object::Stats { cmd: None } => Command::StatsShow(StatsFormat::Text),
        Object::Stats {
            cmd: Some(StatsCmd::Show { format }),
        } => Command::StatsShow(format),
        Object::Conn { cmd } => match cmd {
            None | Some(ConnCmd::Show) => Command::ConnShow,
            Some(ConnCmd::Handover { args }) => {
                Command::ConnHandover(handover(&args).map_err(at(&["conn", "handover"]))?)
            }
            Some(ConnCmd::Primary { args }) => {
                Command::ConnPrimary(conn_primary(&args).map_err(at(&["conn", "primary"]))?)
            }
        },
        Object::Monitor { args } => {
            let (node, count) = monitor(&args).map_err(at(&["monitor"]))?;
            Command::Monitor { node, count }
        }
        Object::Save => Command::Save,
        Object::Restore { file } => Command::Restore(file),
        Object::Flush => Command::Flush,
        Object::Completions { shell } => Command::Completions(shell),
        Object::Man { command } => Command::Man(command),
    })
}

/// `node set [id N] [addr A] [port P] [key HEX64 | key-file FILE]
/// [heartbeat MS] [dead MS]`.
pub(crate) fn node_set(words: &[String]) -> Result<NodeSet, String> {
    let mut set = NodeSet::default();
    for (k, v) in args::pairs(
        words,
        &[
            "id",
            "addr",
            "port",
            "key",
            "key-file",
            "heartbeat",
            "dead",
            "weight",
            "drain",
        ],
    )? {
        match k {
            "id" => set.id = Some(args::number("id", v)?),
            "addr" => set.addr = Some(args::ipv4("address", v)?),
            "port" => set.port = Some(args::number("port", v)?),
            "key" | "key-file" if set.key.is_some() => {
                return Err("give the key once: key or key-file".into())
            }
            "key" => set.key = Some(KeyArg::Hex(args::key(v)?)),
            "key-file" => set.key = Some(KeyArg::File(v.to_string())),
            "heartbeat" => set.heartbeat = Some(args::number("heartbeat", v)?),
            "dead" => set.dead = Some(args::number("dead", v)?),
            "weight" => set.weight = Some(args::number("weight", v)?),
            _ => set.drain = Some(args::on_off("drain", v)?),
        }
    }
    Ok(set)
}

/// `peer add id N addr A`: both are needed.
pub(crate) fn peer_add(words: &[String]) -> Result<output::Peer, String> {
    let (mut id, mut addr) = (None, None);
    for (k, v) in args::pairs(words, &["id", "addr"])? {
        match k {
            "id" => id = Some(args::number("id", v)?),
            _ => addr = Some(args::ipv4("address", v)?),
        }
    }
    match (id, addr) {
        (Some(id), Some(addr)) => Ok(output::Peer { id, addr }),
        (None, _) => Err("missing 'id': a peer needs id N and addr A".into()),
        (_, None) => Err("missing 'addr': a peer needs id N and addr A".into()),
    }
}

/// `peer del id N`.
fn peer_del(words: &[String]) -> Result<u32, String> {
    match args::pairs(words, &["id"])?.as_slice() {
        [(_, id)] => args::number("id", id),
        _ => Err("missing 'id': which peer (id N)".into()),
    }
}

/// `vip add ADDR mac MAC dev IFNAME`: the kernel needs all three, so tpctl
/// asks for them.
pub(crate) fn vip_add(addr: &str, words: &[String]) -> Result<VipAdd, String> {
    let addr = args::ipv4("VIP address", addr)?;
    let (mut mac, mut dev) = (None, None);
    for (k, v) in args::pairs(words, &["mac", "dev"])? {
        match k {
            "mac" => mac = Some(args::mac(v)?),
            _ => dev = Some(args::ifname(v)?),
        }
    }
    match (mac, dev) {
        (Some(mac), Some(dev)) => Ok(VipAdd { addr, mac, dev }),
        (None, _) => Err("missing 'mac': a VIP needs its cluster MAC (mac MAC)".into()),
        (_, None) => Err("missing 'dev': a VIP needs its interface (dev IFNAME)".into()),
    }
}

/// `service add VIP:PORT [mode M] [replicas R] [affinity A] [backend-port P]`.
pub(crate) fn service_add(service: &str, words: &[String]) -> Result<ServiceAdd, String> {
    let (vip, port) = args::endpoint("service", service)?;
    let mut add = ServiceAdd {
        vip,
        port,
        mode: None,
        replicas: None,
        affinity: None,
        backend_port: None,
    };
    for (k, v) in args::pairs(words, &["mode", "replicas", "affinity", "backend-port"])? {
        match k {
            "mode" => add.mode = Some(Mode::parse(v)?),
            "replicas" => add.replicas = Some(args::number("replicas", v)?),
            "backend-port" => add.backend_port = Some(args::number("backend-port", v)?),
            _ => add.affinity = Some(Affinity::parse(v)?),
        }
    }
    Ok(add)
}

/// `service set VIP:PORT [affinity A] [health up|down]`.
fn service_set(service: &str, words: &[String]) -> Result<ServiceSet, String> {
    let (vip, port) = args::endpoint("service", service)?;
    let mut set = ServiceSet {
        vip,
        port,
        affinity: None,
        healthy: None,
    };
    for (k, v) in args::pairs(words, &["affinity", "health"])? {
        match k {
            "affinity" => set.affinity = Some(Affinity::parse(v)?),
            _ => {
                set.healthy = Some(match v {
                    "up" => true,
                    "down" => false,
                    _ => return Err(format!("bad health '{v}' (up or down)")),
                })
            }
        }
    }
    if set.affinity.is_none() && set.healthy.is_none() {
        return Err("nothing to change: give affinity none|source or health up|down".into());
    }
    Ok(set)
}

/// `monitor [node ID] [count N]`.
fn monitor(words: &[String]) -> Result<(Option<u32>, Option<u64>), String> {
    let (mut node, mut count) = (None, None);
    for (k, v) in args::pairs(words, &["node", "count"])? {
        match k {
            "node" => node = Some(args::number("node", v)?),
            _ => count = Some(args::number("count", v)?),
        }
    }
    Ok((node, count))
}

/// `conn handover CLIENT:PORT VIP:PORT | cookie C`, then `to N [replay
/// FILE]`.
fn handover(words: &[String]) -> Result<Handover, String> {
    let (target, rest) = match words {
        [c, cookie, rest @ ..] if c == "cookie" => {
            (Target::Cookie(args::number("cookie", cookie)?), rest)
        }
        [client, service, rest @ ..] => (
            Target::Tuple(
                args::endpoint("client", client)?,
                args::endpoint("service", service)?,
            ),
            rest,
        ),
        _ => return Err("name the connection: CLIENT:PORT VIP:PORT, or cookie C".into()),
    };
    let (mut to, mut replay) = (None, None);
    for (k, v) in args::pairs(rest, &["to", "replay"])? {
        match k {
            "to" => to = Some(args::number("node", v)?),
            _ => replay = Some(v.to_string()),
        }
    }
    let to = to.ok_or("missing 'to': the node to hand the connection to (to N)")?;
    Ok(Handover { target, to, replay })
}

/// `conn primary CLIENT:PORT VIP:PORT to N`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SetPrimary {
    pub(crate) client: (Ipv4Addr, u16),
    pub(crate) service: (Ipv4Addr, u16),
    /// The node to make primary.
    pub(crate) to: u32,
}

fn conn_primary(words: &[String]) -> Result<SetPrimary, String> {
    let [client, service, rest @ ..] = words else {
        return Err("name the connection: CLIENT:PORT VIP:PORT".into());
    };
    let client = args::endpoint("client", client)?;
    let service = args::endpoint("service", service)?;
    match args::pairs(rest, &["to"])?.as_slice() {
        [(_, n)] => Ok(SetPrimary {
            client,
            service,
            to: args::number("node", n)?,
        }),
        _ => Err("missing 'to': the node to make primary (to N)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &str) -> Result<Command, clap::Error> {
        let args = std::iter::once("tpctl").chain(line.split_whitespace());
        match parse(args)? {
            Parsed::Run { command, .. } => Ok(command),
            Parsed::Version => panic!("{line}: version"),
        }
    }

    fn ok(line: &str) -> Command {
        run(line).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    /// The line is a usage error (status 2) whose message has `text`.
    fn usage(line: &str, text: &str) {
        match run(line) {
            Ok(c) => panic!("{line}: parsed as {c:?}"),
            Err(e) => {
                assert_eq!(e.exit_code(), 2, "{line}: {e}");
                let msg = e.to_string();
                assert!(msg.contains(text), "{line}: '{msg}' lacks '{text}'");
            }
        }
    }

    const KEY: &str = "abababababababababababababababababababababababababababababababab";

    #[test]
    fn every_documented_invocation_parses() {
        let node = ok(&format!("node set id 1 addr 10.0.0.1 port 7000 key {KEY}"));
        assert_eq!(
            node,
            Command::NodeSet(NodeSet {
                id: Some(1),
                addr: Some(Ipv4Addr::new(10, 0, 0, 1)),
                port: Some(7000),
                key: Some(KeyArg::Hex([0xab; 32])),
                ..NodeSet::default()
            })
        );
        assert_eq!(
            ok("node set heartbeat 100 dead 300"),
            Command::NodeSet(NodeSet {
                heartbeat: Some(100),
                dead: Some(300),
                ..NodeSet::default()
            })
        );
        assert_eq!(ok("node set"), Command::NodeSet(NodeSet::default()));
        assert_eq!(ok("node show"), Command::NodeShow);
        assert_eq!(ok("node"), Command::NodeShow);
        assert_eq!(
            ok("peer add id 2 addr 10.0.0.2"),
            Command::PeerAdd(output::Peer {
                id: 2,
                addr: Ipv4Addr::new(10, 0, 0, 2)
            })
        );
        // Id 0 is the kernel's to refuse (its policy says so).
        assert!(matches!(
            ok("peer add id 0 addr 10.0.0.9"),
            Command::PeerAdd(_)
        ));
        assert_eq!(ok("peer show"), Command::PeerShow);
        assert_eq!(ok("peer del id 4"), Command::PeerDel(4));
        assert_eq!(ok("peer delete id 4"), Command::PeerDel(4));
        assert_eq!(
            ok("vip add 10.0.0.100 mac 01:00:5e:00:00:64 dev eth0"),
            Command::VipAdd(VipAdd {
                addr: Ipv4Addr::new(10, 0, 0, 100),
                mac: [1, 0, 0x5e, 0, 0, 0x64],
                dev: "eth0".into()
            })
        );
        assert_eq!(ok("vip show"), Command::VipShow);
        assert_eq!(
            ok("vip del 10.0.0.100"),
            Command::VipDel(Ipv4Addr::new(10, 0, 0, 100))
        );
        assert_eq!(
            ok("service add 10.0.0.100:80"),
            Command::ServiceAdd(ServiceAdd {
                vip: Ipv4Addr::new(10, 0, 0, 100),
                port: 80,
                mode: None,
                replicas: None,
                affinity: None,
                backend_port: None,
            })
        );
        assert_eq!(
            ok("service add 10.0.0.100:81 mode replicate replicas 3"),
            Command::ServiceAdd(ServiceAdd {
                vip: Ipv4Addr::new(10, 0, 0, 100),
                port: 81,
                mode: Some(Mode::Replicate),
                replicas: Some(3),
                affinity: None,
                backend_port: None,
            })
        );
        for m in ["balance", "splice", "replicate"] {
            ok(&format!("service add 10.0.0.100:80 mode {m}"));
        }
        assert_eq!(
            ok("service add 10.0.0.100:80 affinity source").clone(),
            Command::ServiceAdd(ServiceAdd {
                vip: Ipv4Addr::new(10, 0, 0, 100),
                port: 80,
                mode: None,
                replicas: None,
                affinity: Some(Affinity::Source),
                backend_port: None,
            })
        );
        assert_eq!(
            ok("service add 10.0.0.100:80 mode splice backend-port 8080").clone(),
            Command::ServiceAdd(ServiceAdd {
                vip: Ipv4Addr::new(10, 0, 0, 100),
                port: 80,
                mode: Some(Mode::Splice),
                replicas: None,
                affinity: None,
                backend_port: Some(8080),
            })
        );
        assert_eq!(
            ok("service set 10.0.0.100:80 affinity none"),
            Command::ServiceSet(ServiceSet {
                vip: Ipv4Addr::new(10, 0, 0, 100),
                port: 80,
                affinity: Some(Affinity::None),
                healthy: None,
            })
        );
        assert_eq!(
            ok("conn primary 10.0.0.4:40000 10.0.0.100:85 to 3"),
            Command::ConnPrimary(SetPrimary {
                client: (Ipv4Addr::new(10, 0, 0, 4), 40000),
                service: (Ipv4Addr::new(10, 0, 0, 100), 85),
                to: 3,
            })
        );
        usage("conn primary 10.0.0.4:40000 10.0.0.100:85", "missing 'to'");
        assert_eq!(
            ok("service set 10.0.0.100:80 health down"),
            Command::ServiceSet(ServiceSet {
                vip: Ipv4Addr::new(10, 0, 0, 100),
                port: 80,
                affinity: None,
                healthy: Some(false),
            })
        );
        assert_eq!(
            ok("node set weight 3 drain off"),
            Command::NodeSet(NodeSet {
                weight: Some(3),
                drain: Some(false),
                ..NodeSet::default()
            })
        );
        assert_eq!(
            ok("node drain"),
            Command::NodeSet(NodeSet {
                drain: Some(true),
                ..NodeSet::default()
            })
        );
        assert_eq!(
            ok("node undrain"),
            Command::NodeSet(NodeSet {
                drain: Some(false),
                ..NodeSet::default()
            })
        );
        assert!(matches!(
            ok("service add 10.0.0.100:82 replicas 2"),
            Command::ServiceAdd(_)
        ));
        assert_eq!(
            ok("service del 10.0.0.100:80"),
            Command::ServiceDel(Ipv4Addr::new(10, 0, 0, 100), 80)
        );
        assert_eq!(ok("service show"), Command::ServiceShow);
        assert_eq!(ok("stats show"), Command::StatsShow(StatsFormat::Text));
        assert_eq!(
            ok("stats show -f prometheus"),
            Command::StatsShow(StatsFormat::Prometheus)
        );
        assert_eq!(ok("stats"), Command::StatsShow(StatsFormat::Text));
        assert_eq!(ok("cluster show"), Command::ClusterShow);
        assert_eq!(ok("conn show"), Command::ConnShow);
        assert_eq!(
            ok("conn handover 192.0.2.7:40312 10.0.0.100:80 to 2 replay FILE"),
            Command::ConnHandover(Handover {
                target: Target::Tuple(
                    (Ipv4Addr::new(192, 0, 2, 7), 40312),
                    (Ipv4Addr::new(10, 0, 0, 100), 80)
                ),
                to: 2,
                replay: Some("FILE".into())
            })
        );
        assert_eq!(
            ok("conn handover cookie 0 to 1"),
            Command::ConnHandover(Handover {
                target: Target::Cookie(0),
                to: 1,
                replay: None
            })
        );
        assert_eq!(
            ok("monitor"),
            Command::Monitor {
                node: None,
                count: None
            }
        );
        assert_eq!(
            ok("monitor node 3 count 1"),
            Command::Monitor {
                node: Some(3),
                count: Some(1)
            }
        );
        assert_eq!(ok("save"), Command::Save);
        assert_eq!(ok("restore -"), Command::Restore("-".into()));
        assert_eq!(ok("flush"), Command::Flush);
    }

    #[test]
    fn options() {
        let args = ["tpctl", "-j", "monitor", "node", "3", "count", "1"];
        assert_eq!(
            parse(args).unwrap(),
            Parsed::Run {
                json: true,
                netns: None,
                command: Command::Monitor {
                    node: Some(3),
                    count: Some(1)
                }
            }
        );
        // Options after the command too, as before.
        let args = ["tpctl", "peer", "show", "--json", "-n", "blue"];
        assert_eq!(
            parse(args).unwrap(),
            Parsed::Run {
                json: true,
                netns: Some("blue".into()),
                command: Command::PeerShow
            }
        );
        assert_eq!(parse(["tpctl", "-V"]).unwrap(), Parsed::Version);
        assert_eq!(parse(["tpctl", "--version"]).unwrap(), Parsed::Version);
        for bad in [
            &["tpctl", "-n", "../x", "node"][..],
            &["tpctl", "-j"],
            &["tpctl", "-x", "node"],
        ] {
            let e = parse(bad.iter().copied()).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad:?}");
        }
        // Help is no error: status 0.
        let e = parse(["tpctl", "--help"]).unwrap_err();
        assert_eq!(e.exit_code(), 0);
        let e = parse(["tpctl", "service", "add", "--help"]).unwrap_err();
        assert_eq!(e.exit_code(), 0);
        assert!(e.to_string().contains("replicas R"), "{e}");
    }

    #[test]
    fn abbreviations() {
        assert_eq!(ok("serv sh"), Command::ServiceShow);
        assert_eq!(ok("n"), Command::NodeShow);
        assert_eq!(
            ok("p a id 2 addr 10.0.0.2"),
            ok("peer add id 2 addr 10.0.0.2")
        );
        assert_eq!(
            ok("vi de 10.0.0.100"),
            Command::VipDel(Ipv4Addr::new(10, 0, 0, 100))
        );
        assert_eq!(ok("st"), Command::StatsShow(StatsFormat::Text));
        assert_eq!(ok("cl"), Command::ClusterShow);
        assert_eq!(ok("co sh"), Command::ConnShow);
        assert_eq!(ok("-j co"), Command::ConnShow);
        assert_eq!(ok("-n blue co"), Command::ConnShow);
        assert_eq!(ok("-jn blue co"), Command::ConnShow);
        assert_eq!(
            ok("m"),
            Command::Monitor {
                node: None,
                count: None
            }
        );
        assert_eq!(ok("man"), Command::Man(vec![]));
        assert_eq!(
            ok("mon count 2"),
            Command::Monitor {
                node: None,
                count: Some(2)
            }
        );
        // Ambiguous: service, stats, save; node show, node set.
        usage("s a 10.0.0.100:80", "unrecognized subcommand");
        usage("node s", "unrecognized subcommand");
        usage("c", "unrecognized subcommand");
    }

    #[test]
    fn bad_invocations_say_why() {
        usage(
            "vip add 10.0.0.300 mac 01:00:5e:00:00:64 dev eth0",
            "invalid VIP address '10.0.0.300'",
        );
        usage(
            "vip add 10.0.0.100 mac 01:00:5e:00:00 dev eth0",
            "invalid MAC address",
        );
        usage("vip add 10.0.0.101 dev eth0", "missing 'mac'");
        usage("vip add 10.0.0.101 mac 01:00:5e:00:00:64", "missing 'dev'");
        usage(
            "vip add 10.0.0.101 mac 01:00:5e:00:00:64 dev a/b",
            "invalid interface name",
        );
        usage("vip del 10.0.0", "invalid VIP address");
        usage(
            "service add 10.0.0.100:80 mode splice backend-port 70000",
            "invalid backend-port '70000'",
        );
        usage("node set key abcd", "64 hexadecimal digits");
        usage(
            &format!("node set key {}", "é".repeat(32)),
            "64 hexadecimal digits",
        );
        usage(
            &format!("node set key {KEY} key-file /k"),
            "give the key once",
        );
        usage("node set port 70000", "invalid port '70000'");
        usage("node set id -1", "unexpected argument");
        usage("node set id x", "invalid id 'x'");
        usage("node set addr 10.0.0.1 addr 10.0.0.2", "'addr' given twice");
        usage("node set nodeid 1", "unknown keyword 'nodeid' (expected one of: id, addr, port, key, key-file, heartbeat, dead, weight, drain)");
        usage("node set heartbeat", "'heartbeat' needs a value");
        usage("peer add addr 10.0.0.9", "missing 'id'");
        usage("peer add id 9", "missing 'addr'");
        usage(
            "peer add id 9 addr 10.0.0.9 port 1",
            "unknown keyword 'port' (expected one of: id, addr)",
        );
        usage("peer add id 9 id 10 addr 10.0.0.9", "'id' given twice");
        usage("peer del 9", "unknown keyword '9'");
        usage("peer del", "missing 'id'");
        usage("service add 10.0.0.100:83 mode fast", "unknown mode 'fast'");
        usage("service add 10.0.0.100", "expected ADDR:PORT");
        usage(
            "service add 10.0.0.100:80 replicas many",
            "invalid replicas 'many'",
        );
        usage("service del 10.0.0.100:x", "expected ADDR:PORT");
        usage("monitor node x", "invalid node 'x'");
        usage("monitor count", "'count' needs a value");
        usage("monitor since 1", "unknown keyword 'since'");
        usage("conn handover cookie x to 1", "invalid cookie");
        usage("conn handover 10.0.0.4:9 10.0.0.100:80", "missing 'to'");
        usage(
            "conn handover 10.0.0.4 10.0.0.100:80 to 1",
            "invalid client",
        );
        usage("conn handover", "name the connection");
        usage("node frob", "unrecognized subcommand 'frob'");
        usage("frob", "unrecognized subcommand 'frob'");
        usage("completions tcsh", "invalid value 'tcsh'");
    }

    #[test]
    fn usage_errors_show_the_commands_usage() {
        let e = run("peer add id 9").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("Usage: tpctl peer add id N addr A"), "{text}");
    }
}

//! The built `tpctl` as a shell runs it: exit statuses, what it says, and
//! no panic when whoever reads its output goes away. Nothing here needs
//! the module: what does is in the VM tests.

use std::{
    io::Write as _,
    os::fd::{FromRawFd as _, OwnedFd},
    process::{Command, Output, Stdio},
};

const TPCTL: &str = env!("CARGO_BIN_EXE_tpctl");

fn tpctl(args: &[&str]) -> Output {
    Command::new(TPCTL)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn with_input(args: &[&str], input: &str) -> Output {
    let mut child = Command::new(TPCTL)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Runs tpctl with standard output a pipe whose reader has gone already,
/// as in `tpctl --help | true`: its exit code and standard error.
fn into_closed_pipe(args: &[&str]) -> (Option<i32>, String) {
    let mut fds = [0; 2];
    // SAFETY: pipe(2) fills the two descriptors, which we then own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(reader);
    let out = Command::new(TPCTL)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_closed_pipe_ends_tpctl_quietly() {
    for args in [
        &["--help"][..],
        &["service", "add", "--help"],
        &["--version"],
        &["completions", "bash"],
        &["man"],
    ] {
        let (code, err) = into_closed_pipe(args);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(code, Some(0), "{args:?}: {err}");
        assert_eq!(err, "", "{args:?}");
    }
}

#[test]
fn help_per_object_and_command() {
    let o = tpctl(&["service", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("Usage: tpctl service"),
        "{}",
        stdout(&o)
    );
    let o = tpctl(&["service", "add", "--help"]);
    assert!(stdout(&o).contains("mode replicate"), "{}", stdout(&o));
    let o = tpctl(&[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Usage: tpctl"));
}

#[test]
fn version_names_the_module_too() {
    let o = tpctl(&["-V"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(
        text.starts_with(&format!("tpctl {}\nmodule: ", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
}

#[test]
fn bad_usage_is_status_2_before_any_netlink() {
    // Whether or not the module is loaded: these never reach the kernel.
    for (args, text) in [
        (
            &[
                "vip",
                "add",
                "10.0.0.300",
                "mac",
                "01:00:5e:00:00:64",
                "dev",
                "eth0",
            ][..],
            "invalid VIP address '10.0.0.300'",
        ),
        (&["peer", "add", "addr", "10.0.0.9"], "missing 'id'"),
        (&["node", "set", "key", "abcd"], "64 hexadecimal digits"),
        (
            &["node", "set", "key", "ééééééééééééééééééééééééééééééééé"],
            "64 hexadecimal digits",
        ),
        (
            &["service", "add", "10.0.0.100:83", "mode", "fast"],
            "unknown mode 'fast'",
        ),
        (&["peer", "add", "id", "1", "id", "2"], "'id' given twice"),
        (&["frobnicate"], "unrecognized subcommand"),
    ] {
        let o = tpctl(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(text), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?}");
        assert_eq!(stdout(&o), "");
    }
}

#[test]
fn restore_checks_the_whole_file_first() {
    let o = with_input(
        &["restore", "-"],
        "# a node\npeer add id 2 addr 10.0.0.2\n\nvip add 10.0.0.100 mac 01:00:5e:00:00:64\n",
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("-: line 4: missing 'dev'"),
        "{}",
        stderr(&o)
    );
    let o = with_input(&["restore", "-"], "node set key-file -\n");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("line 1: key-file -"), "{}", stderr(&o));
}

#[test]
fn without_the_module_says_so() {
    if std::path::Path::new("/sys/module/tpcluster").exists() {
        return;
    }
    for args in [&["node", "show"][..], &["-j", "stats", "show"], &["save"]] {
        let o = tpctl(args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr(&o),
            "tpctl: the tpcluster netlink family is not registered: is the tpcluster module loaded?\n"
        );
    }
    let o = tpctl(&["-V"]);
    assert!(
        stdout(&o).ends_with("module: not loaded\n"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn generators() {
    for shell in ["bash", "zsh", "fish"] {
        let o = tpctl(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0));
        assert!(stdout(&o).contains("tpctl"), "{shell}");
    }
    let o = tpctl(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    let page = stdout(&o);
    assert!(page.contains(".TH tpctl 8"), "{page}");
    assert!(
        !page.contains("completions"),
        "hidden commands stay out of the page"
    );
}

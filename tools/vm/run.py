#!/usr/bin/env python3
"""Runs VM tests: a cluster of QEMU guests on one private L2 hub.

Each test is a folder with one script per VM (vm1.sh, vm2.sh, ...) and an
optional test.conf (timeout=SECONDS, capture=1). For every test the runner
creates a private network namespace holding a bridge (the hub, ageing 0) and
one tap per VM, boots the VMs from the shared initramfs plus a per-VM overlay
carrying its script, and serves each VM's control channel (its second serial
port) for barriers, results and failure primitives. A VM that outlives the
timeout is killed and fails its test. Console logs, control transcripts and a
capture of the hub (if asked for) are kept under the results folder.

No test traffic leaves the namespace: the hub has no uplink and no address.
"""

import argparse
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpio  # noqa: E402

# Kernel messages that fail a test wherever they appear on a console.
KERNEL_TROUBLE = re.compile(
    r"BUG:|WARNING:|Oops|Kernel panic|general protection|INFO: possible|"
    r"INFO: task .* blocked|UBSAN|KASAN|kmemleak: .*new suspected|"
    r"unreferenced object|Call Trace:|segfault"
)
# The kernel's message as it starts the guest's init: the end of its boot.
BOOT_DONE = "Run /init as init process"
DEFAULT_TIMEOUT = 240


def log(msg):
    print(msg, flush=True)


def sh(*args, check=True):
    return subprocess.run(args, check=check, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


class Hub:
    """A private network namespace with a bridge and one tap per VM."""

    def __init__(self, nvms):
        self.ns = "tpc-%d-%d" % (os.getpid(), int(time.time() * 1000) % 100000)
        sh("ip", "netns", "add", self.ns)
        self._ip("link", "add", "hub", "type", "bridge", "ageing_time", "0", "mcast_snooping", "0")
        self._ip("link", "set", "hub", "up")
        for n in range(1, nvms + 1):
            self._ip("tuntap", "add", self.tap(n), "mode", "tap")
            self._ip("link", "set", self.tap(n), "master", "hub", "up")
        # Where drop_acks sends what it takes away: a tap left down, which
        # drops all it is given.
        self._ip("tuntap", "add", "sink", "mode", "tap")

    @staticmethod
    def tap(n):
        return "tap%d" % n

    def _ip(self, *args):
        return sh("ip", "-n", self.ns, *args)

    def exec_prefix(self):
        return ["ip", "netns", "exec", self.ns]

    def link(self, n, up):
        self._ip("link", "set", self.tap(n), "up" if up else "down")

    def drop_acks(self, n, port):
        """From now on the hub drops, on their way to VM n, the pure
        acknowledgments (no payload, timestamps option) sent to TCP port
        `port`: a client's handshake ACK, for one. IPv4 without options."""
        sh(*self.exec_prefix(), "tc", "qdisc", "replace", "dev", self.tap(n), "clsact")
        sh(*self.exec_prefix(), "tc", "filter", "add", "dev", self.tap(n), "egress", "protocol", "ip",
           "prio", "1", "u32",
           "match", "u16", "52", "0xffff", "at", "2",  # total length: 20 + 20 + 12
           "match", "u8", "6", "0xff", "at", "9",  # TCP
           "match", "u16", str(port), "0xffff", "at", "22",  # destination port
           "match", "u8", "0x10", "0xff", "at", "33",  # flags: ACK alone
           "action", "mirred", "egress", "redirect", "dev", "sink")

    def drop_acks_clear(self, n):
        sh(*self.exec_prefix(), "tc", "qdisc", "del", "dev", self.tap(n), "clsact", check=False)

    def destroy(self):
        sh("ip", "netns", "del", self.ns, check=False)


class Vm:
    """One guest: its QEMU process and its control channel."""

    def __init__(self, n, test, run_dir):
        self.n = n
        self.test = test
        self.dir = run_dir
        self.proc = None
        self.conn = None
        self.buf = b""
        self.exit_code = None
        self.killed = False  # power-cut on purpose by a failure primitive
        self.waiting = None  # barrier name this VM waits at
        self.boot = 0  # how many times it was started
        self.transcript = open(os.path.join(run_dir, "vm%d.ctl.log" % n), "w")
        self.sock_path = os.path.join(run_dir, "vm%d.ctl.sock" % n)
        self.agent_path = os.path.join(run_dir, "vm%d.agent.sock" % n)
        self.listener = self.agent_listener = self.agent = None

    def console(self, boot=None):
        """The console log of a boot: vmN.console.log, then vmN.bootK.console.log."""
        boot = boot or self.boot
        suffix = "" if boot == 1 else ".boot%d" % boot
        return os.path.join(self.dir, "vm%d%s.console.log" % (self.n, suffix))

    def start(self, hub, initrd, memory, args):
        """Boots the VM (again, after a power cut): a fresh guest with the
        same script, told its boot number in TP_BOOT."""
        self.boot += 1
        self.killed = False
        self.exit_code = None
        self.waiting = None
        self.buf = b""
        self.conn = self.agent = None
        for path in (self.sock_path, self.agent_path):
            if os.path.exists(path):
                os.unlink(path)
        self.listener = listen(self.sock_path)
        self.agent_listener = listen(self.agent_path)
        self.proc = subprocess.Popen(
            hub.exec_prefix() + qemu_command(args, self.n, initrd, self.sock_path, self.console(), memory),
            stdin=subprocess.DEVNULL,
            stdout=open(os.path.join(self.dir, "vm%d.qemu.log" % self.n), "a"),
            stderr=subprocess.STDOUT)

    @property
    def done(self):
        return self.killed or self.exit_code is not None or (self.proc and self.proc.poll() is not None)

    def send(self, line):
        self.transcript.write("<< %s\n" % line)
        self.transcript.flush()
        try:
            self.conn.sendall(line.encode() + b"\n")
        except OSError:
            pass

    def ask_agent(self, line):
        """Runs a command by the VM's agent (tools/vm/guest/tp-agent.sh)."""
        if self.done:
            return "ERR vm%d is not running" % self.n
        if self.agent is None:
            self.agent_listener.settimeout(10)
            try:
                self.agent, _ = self.agent_listener.accept()
            except OSError:
                return "ERR vm%d has no agent" % self.n
        self.agent.settimeout(20)
        reply = b""
        try:
            self.agent.sendall(line.encode() + b"\n")
            while not reply.endswith(b"\n"):
                chunk = self.agent.recv(256)
                if not chunk:
                    break
                reply += chunk
        except OSError as e:
            return "ERR agent of vm%d: %s" % (self.n, e)
        return reply.decode(errors="replace").strip() or "ERR agent of vm%d gave no answer" % self.n

    def close(self):
        self.power_cut()
        self.transcript.close()
        self.close_channels()
        for path in (self.sock_path, self.agent_path):
            if os.path.exists(path):
                os.unlink(path)

    def close_channels(self, sel=None):
        for s in (self.listener, self.agent_listener, self.conn, self.agent):
            if s is None:
                continue
            if sel is not None:
                try:
                    sel.unregister(s)
                except (KeyError, ValueError):
                    pass
            s.close()

    def power_cut(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()


class Test:
    def __init__(self, path, args):
        self.path = path.rstrip("/")
        self.name = os.path.basename(self.path)
        self.args = args
        self.conf = {"timeout": str(DEFAULT_TIMEOUT), "capture": "0", "memory": "256"}
        conf_path = os.path.join(self.path, "test.conf")
        if os.path.exists(conf_path):
            for line in open(conf_path):
                line = line.split("#", 1)[0].strip()
                if "=" in line:
                    k, v = line.split("=", 1)
                    self.conf[k.strip()] = v.strip()
        scripts = sorted(f for f in os.listdir(self.path) if re.fullmatch(r"vm\d+\.sh", f))
        self.nvms = len(scripts)
        if [f"vm{i}.sh" for i in range(1, self.nvms + 1)] != sorted(scripts, key=lambda s: int(s[2:-3])):
            raise SystemExit("%s: scripts must be vm1.sh .. vmN.sh" % self.path)
        self.results = []  # (vm, "PASS"/"FAIL", text)

    def record(self, who, kind, text):
        """A check's result; `who` is a VM's number, or "host" or "runner"."""
        label = "vm%d" % who if isinstance(who, int) else who
        self.results.append((label, kind, text))
        if kind in ("FAIL", "NOTE") or self.args.verbose:
            log("  [%s] %s %s" % (label, kind, text))

    def initrd(self, vm_dir, n, boot=1):
        with open(self.args.initrd, "rb") as f:
            base = f.read()
        w = cpio.Writer()
        env = "TP_VM=%d\nTP_NVMS=%d\nTP_TEST=%s\nTP_BOOT=%d\n" % (n, self.nvms, self.name, boot)
        # The benchmarks' knobs (BENCH_ROUNDS, ...) and the scale tests'
        # (TP_SCALE_CONNS), as the host has them.
        for k, v in sorted(os.environ.items()):
            if k.startswith(("BENCH_", "TP_SCALE_")) and re.fullmatch(r"[A-Za-z0-9_.,-]*", v):
                env += "%s=%s\n" % (k, v)
        w.file("etc/tp/env", env.encode())
        w.copy("etc/tp/test.sh", os.path.join(self.path, "vm%d.sh" % n), 0o755)
        out = os.path.join(vm_dir, "vm%d.boot%d.initrd" % (n, boot))
        with open(out, "wb") as f:
            f.write(base + w.finish())
        return out

    def run(self):
        run_dir = self.run_dir = os.path.join(self.args.results, self.name)
        shutil.rmtree(run_dir, ignore_errors=True)
        os.makedirs(run_dir)
        start = time.monotonic()
        hub = Hub(self.nvms)
        capture = None
        vms = []
        try:
            if self.conf["capture"] == "1":
                capture = subprocess.Popen(
                    hub.exec_prefix() + ["tcpdump", "-q", "-n", "-U", "-s", "128", "-i", "hub", "-w",
                                         os.path.join(run_dir, "hub.pcap")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.sel = selectors.DefaultSelector()
            for n in range(1, self.nvms + 1):
                vm = Vm(n, self, run_dir)
                vms.append(vm)
                vm.start(hub, self.initrd(run_dir, n), self.conf["memory"], self.args)
                self.sel.register(vm.listener, selectors.EVENT_READ, ("accept", vm))
            timed_out = self.serve(vms, hub, start + self.timeout())
        finally:
            for vm in vms:
                vm.close()
            if capture:
                capture.terminate()
                capture.wait()
            hub.destroy()
        self.host_checks(run_dir)
        return self.verdict(vms, run_dir, timed_out, time.monotonic() - start)

    def host_checks(self, run_dir):
        """Runs the test's check.py, if any, on the host over the results
        (the hub capture, say); its PASS and FAIL lines count as checks."""
        check = os.path.join(self.path, "check.py")
        if not os.path.exists(check):
            return
        out = subprocess.run([sys.executable, check, run_dir], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=600)
        with open(os.path.join(run_dir, "check.log"), "w") as f:
            f.write(out.stdout)
        for line in out.stdout.splitlines():
            word, _, rest = line.partition(" ")
            if word in ("PASS", "FAIL"):
                self.record("host", word, rest)
        if out.returncode != 0:
            self.record("host", "FAIL", "check.py exited with %d" % out.returncode)

    def timeout(self):
        """The test's timeout in seconds: its test.conf's, times --slow."""
        return int(self.conf["timeout"]) * self.args.slow

    def serve(self, vms, hub, deadline):
        """Serves the control channels until every VM is done; True on timeout."""
        sel = self.sel
        while not all(vm.done for vm in vms):
            if time.monotonic() > deadline:
                for vm in vms:
                    if not vm.done:
                        self.record(vm.n, "FAIL", "timeout after %s s" % self.timeout())
                        vm.power_cut()
                return True
            for key, _ in sel.select(timeout=0.2):
                kind, vm = key.data
                if kind == "accept":
                    vm.conn, _ = vm.listener.accept()
                    sel.unregister(vm.listener)
                    sel.register(vm.conn, selectors.EVENT_READ, ("data", vm))
                    continue
                try:
                    data = vm.conn.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(vm.conn)
                    continue
                vm.buf += data
                while b"\n" in vm.buf:
                    line, vm.buf = vm.buf.split(b"\n", 1)
                    self.handle(vm, line.decode(errors="replace").strip("\r"), vms, hub)
            self.release_barriers(vms)
        return False

    def handle(self, vm, line, vms, hub):
        vm.transcript.write(">> %s\n" % line)
        vm.transcript.flush()
        word, _, rest = line.partition(" ")
        if word in ("PASS", "FAIL"):
            self.record(vm.n, word, rest)
        elif word == "INFO":
            if self.args.show_info:
                log("  [vm%d] %s" % (vm.n, rest))
        elif word == "DATA":
            pass  # for the host's tools (plots): in the transcript only
        elif word == "EXIT":
            vm.exit_code = int(rest) if rest.strip().lstrip("-").isdigit() else 1
        elif word == "BARRIER":
            vm.waiting = rest.split()
        elif word == "HOST":
            vm.send(self.host_command(rest.split(), vms, hub))
        else:
            self.record(vm.n, "FAIL", "unknown control line: %r" % line)

    def host_command(self, argv, vms, hub):
        try:
            cmd, n = argv[0], int(argv[1])
            if not 1 <= n <= len(vms):
                return "ERR no vm %d" % n
            if cmd == "kill":
                vms[n - 1].killed = True
                vms[n - 1].power_cut()
            elif cmd == "restart":
                # Power cut (if still running), then a fresh boot with the
                # same script, TP_BOOT one higher. Its barriers count again
                # once it reaches one.
                vm = vms[n - 1]
                vm.killed = True
                vm.power_cut()
                vm.close_channels(self.sel)
                vm.start(hub, self.initrd(self.run_dir, n, vm.boot + 1), self.conf["memory"], self.args)
                self.sel.register(vm.listener, selectors.EVENT_READ, ("accept", vm))
            elif cmd == "link-down":
                hub.link(n, False)
            elif cmd == "link-up":
                hub.link(n, True)
            elif cmd == "drop-acks":
                hub.drop_acks(n, int(argv[2]))
            elif cmd == "drop-acks-clear":
                hub.drop_acks_clear(n)
            elif cmd in ("netem", "netem-clear", "mute", "unmute"):
                reply = vms[n - 1].ask_agent(" ".join(argv[:1] + argv[2:]))
                if not reply.startswith("OK"):
                    return reply
            else:
                return "ERR unknown command %s" % cmd
        except (IndexError, ValueError):
            return "ERR usage: kill|restart|link-down|link-up|drop-acks|drop-acks-clear|netem|netem-clear|mute|unmute N [args]"
        except subprocess.CalledProcessError as e:
            return "ERR %s" % e.output.strip().replace("\n", " ")
        return "OK"

    @staticmethod
    def release_barriers(vms):
        live = [vm for vm in vms if not vm.done]
        waiting = [vm for vm in live if vm.waiting]
        if not live or len(waiting) != len(live):
            return
        names = {vm.waiting[0] for vm in waiting}
        if len(names) != 1:
            return  # VMs wait at different barriers: the timeout will tell
        values = " ".join(kv for vm in waiting for kv in vm.waiting[1:])
        name = names.pop()
        for vm in waiting:
            vm.waiting = None
            vm.send(("GO %s %s" % (name, values)).rstrip())

    def verdict(self, vms, run_dir, timed_out, seconds):
        for vm in vms:
            for boot in range(1, vm.boot + 1):
                console = vm.console(boot)
                text = open(console, errors="replace").read() if os.path.exists(console) else ""
                # Before init runs, only the kernel's own boot has run (the
                # module loads later, from the test): trouble there is the
                # emulated platform's, noted but no failure of this project.
                booting, started, after = text.partition(BOOT_DONE)
                if not started:
                    booting, after = "", text
                for line in booting.splitlines():
                    if KERNEL_TROUBLE.search(line):
                        self.record(vm.n, "NOTE", "kernel, while booting, before init: " + line.strip())
                        break
                for line in after.splitlines():
                    if KERNEL_TROUBLE.search(line):
                        self.record(vm.n, "FAIL", "kernel: " + line.strip())
                        break
            if vm.killed:
                continue
            if vm.exit_code is None and not timed_out:
                self.record(vm.n, "FAIL", "VM stopped without reporting (see vm%d.console.log)" % vm.n)
            elif vm.exit_code not in (None, 0):
                self.record(vm.n, "FAIL", "test script exited with %d" % vm.exit_code)
        passes = sum(1 for r in self.results if r[1] == "PASS")
        fails = [r for r in self.results if r[1] == "FAIL"]
        if passes == 0 and not fails:
            self.record("runner", "FAIL", "the test asserted nothing")
            fails = [1]
        ok = not fails
        with open(os.path.join(run_dir, "result.txt"), "w") as f:
            for label, kind, text in self.results:
                f.write("%s %s %s\n" % (label, kind, text))
            f.write("%s %.1fs\n" % ("PASSED" if ok else "FAILED", seconds))
        log("%s %s (%d checks, %.0f s)" % ("PASS" if ok else "FAIL", self.name, passes, seconds))
        return ok


def listen(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(1)
    return s


def qemu_command(args, n, initrd, sock, console, memory):
    return [
        "qemu-system-x86_64", "-accel", args.accel, "-m", memory, "-smp", "1",
        "-nodefaults", "-no-reboot", "-display", "none", "-cpu", "max" if args.accel == "tcg" else "host",
        "-kernel", args.kernel, "-initrd", initrd,
        "-append", "console=ttyS0 panic=-1 oops=panic softlockup_panic=1 %s" % args.cmdline,
        "-serial", "file:" + console,
        "-chardev", "socket,id=ctl,path=" + sock, "-serial", "chardev:ctl",
        "-chardev", "socket,id=agent,path=" + sock.replace(".ctl.sock", ".agent.sock"), "-serial", "chardev:agent",
        "-netdev", "tap,id=net0,ifname=%s,script=no,downscript=no" % Hub.tap(n),
        "-device", "virtio-net-pci,netdev=net0,mac=52:54:00:00:00:%02x" % n,
    ]


def probe_accel(args):
    """KVM only when it really boots a guest here; TCG otherwise."""
    if args.accel != "auto":
        return args.accel
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "tcg"
    try:
        out = subprocess.run(
            ["qemu-system-x86_64", "-accel", "kvm", "-cpu", "host", "-m", "128", "-nodefaults", "-no-reboot",
             "-display", "none", "-serial", "stdio", "-kernel", args.kernel, "-initrd", args.initrd,
             "-append", "console=ttyS0 tp.probe"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20).stdout
        return "kvm" if b"TP-PROBE-OK" in out else "tcg"
    except subprocess.TimeoutExpired:
        return "tcg"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kernel", required=True, help="bzImage")
    p.add_argument("--initrd", required=True, help="base initramfs (tools/vm/initramfs.py)")
    p.add_argument("--results", required=True, help="folder for logs and results")
    p.add_argument("--accel", default=os.environ.get("TP_ACCEL", "auto"), choices=["auto", "kvm", "tcg"])
    p.add_argument("--cmdline", default="", help="extra kernel command line")
    p.add_argument("--slow", type=int, default=1,
                   help="multiply every test's timeout (the debug kernel runs several times slower)")
    p.add_argument("--show-info", action="store_true", help="print the VMs' INFO lines")
    p.add_argument("-v", "--verbose", action="store_true", help="print every check")
    p.add_argument("tests", nargs="+", help="test folders")
    args = p.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run.py: needs root (network namespaces and taps)")
    os.makedirs(args.results, exist_ok=True)
    args.accel = probe_accel(args)
    log("vm: accelerator %s" % args.accel)
    passed = failed = 0
    for path in args.tests:
        if Test(path, args).run():
            passed += 1
        else:
            failed += 1
    with open(os.path.join(args.results, "summary.txt"), "w") as f:
        f.write("%d passed, %d failed\n" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Builds the base initramfs shared by every test VM.

Contents: a static busybox with a link per applet, the guest /init and test
helpers (tools/vm/guest), tpcluster.ko at /lib/tpcluster.ko, statically
linked tools such as tpctl in /bin, and a few dynamically linked host tools
(iproute2's tc, for netem) in /sbin with the libraries they load. Each VM appends an overlay with its own
script (tools/vm/run.py).
"""

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpio  # noqa: E402

GUEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest")


def shared_libraries(binary):
    """The shared libraries `binary` loads, the dynamic loader included."""
    out = subprocess.run(["ldd", binary], check=True, capture_output=True, text=True).stdout
    libs = []
    for line in out.splitlines():
        for word in line.split():
            if word.startswith("/"):
                libs.append(word)
                break
    return libs


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--busybox", default="/bin/busybox")
    p.add_argument("--module", required=True, help="tpcluster.ko")
    p.add_argument("--tool", action="append", default=[], help="static binary for /bin (repeatable)")
    p.add_argument("--dynamic", action="append", default=[],
                   help="dynamically linked host binary for /sbin, copied with its libraries (repeatable)")
    p.add_argument("--out", required=True)
    args = p.parse_args()

    applets = subprocess.run([args.busybox, "--list"], check=True, capture_output=True, text=True).stdout.split()
    w = cpio.Writer()
    for d in ("bin", "sbin", "dev", "proc", "sys", "tmp", "run", "etc/tp", "lib"):
        w.dir(d)
    w.copy("bin/busybox", args.busybox, 0o755)
    dynamic_names = {os.path.basename(b) for b in args.dynamic}
    for applet in applets:
        if applet != "busybox" and applet not in dynamic_names:
            w.symlink("bin/" + applet, "busybox")
    copied = set()
    for binary in args.dynamic:
        w.copy("sbin/" + os.path.basename(binary), binary, 0o755)
        for lib in shared_libraries(binary):
            if lib not in copied:
                copied.add(lib)
                w.copy(lib.lstrip("/"), lib, 0o755)
    # tc's netem delay distributions.
    tc_data = "/usr/lib/x86_64-linux-gnu/tc"
    if any(os.path.basename(b) == "tc" for b in args.dynamic) and os.path.isdir(tc_data):
        for name in sorted(os.listdir(tc_data)):
            if name.endswith(".dist"):
                w.copy(tc_data.lstrip("/") + "/" + name, os.path.join(tc_data, name), 0o644)
    w.copy("init", os.path.join(GUEST, "init"), 0o755)
    w.copy("lib/tp.sh", os.path.join(GUEST, "tp.sh"), 0o644)
    w.copy("lib/tp-agent.sh", os.path.join(GUEST, "tp-agent.sh"), 0o755)
    w.copy("lib/tpcluster.ko", args.module, 0o644)
    for tool in args.tool:
        w.copy("bin/" + os.path.basename(tool), tool, 0o755)
    with open(args.out, "wb") as f:
        f.write(w.finish())


if __name__ == "__main__":
    main()

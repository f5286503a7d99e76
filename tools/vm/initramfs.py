#!/usr/bin/env python3
"""Builds the base initramfs shared by every test VM.

Contents: a static busybox with a link per applet, the guest /init and test
helpers (tools/vm/guest), tpcluster.ko at /lib/tpcluster.ko and statically
linked tools such as tpctl in /bin. Each VM appends an overlay with its own
script (tools/vm/run.py).
"""

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cpio  # noqa: E402

GUEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest")


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--busybox", default="/bin/busybox")
    p.add_argument("--module", required=True, help="tpcluster.ko")
    p.add_argument("--tool", action="append", default=[], help="static binary for /bin (repeatable)")
    p.add_argument("--out", required=True)
    args = p.parse_args()

    applets = subprocess.run([args.busybox, "--list"], check=True, capture_output=True, text=True).stdout.split()
    w = cpio.Writer()
    for d in ("bin", "sbin", "dev", "proc", "sys", "tmp", "run", "etc/tp", "lib"):
        w.dir(d)
    w.copy("bin/busybox", args.busybox, 0o755)
    for applet in applets:
        if applet != "busybox":
            w.symlink("bin/" + applet, "busybox")
    w.copy("init", os.path.join(GUEST, "init"), 0o755)
    w.copy("lib/tp.sh", os.path.join(GUEST, "tp.sh"), 0o644)
    w.copy("lib/tpcluster.ko", args.module, 0o644)
    for tool in args.tool:
        w.copy("bin/" + os.path.basename(tool), tool, 0o755)
    with open(args.out, "wb") as f:
        f.write(w.finish())


if __name__ == "__main__":
    main()

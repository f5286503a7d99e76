"""Host-side check of the traffic-policy test from the hub capture: each
replicated stream on port 85 changed sender once, from the primary that
drained (or was asked to hand it over) to its backup, and never back; and
how long the client's network heard nothing of the service across that
change (the last segment of the old primary to the first of the new one),
the switchover's stall as the wire sees it, one clock for both."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hubcheck  # noqa: E402

run_dir = sys.argv[1]
# A failover waits at least the dead timeout (200 ms with the defaults).
DEAD_S = 0.2

out = subprocess.run(["tcpdump", "-nn", "-e", "-r", run_dir + "/hub.pcap",
                      "tcp and src host 10.0.0.100 and src port 85"],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
conns = {}
for line in out.splitlines():
    m = hubcheck.EMITTED.match(line)
    if not m:
        continue
    stamp, mac, _, client = m.groups()
    h, mi, sec = stamp.split(":")
    conns.setdefault(client, []).append(((int(h) * 60 + int(mi)) * 60 + float(sec), mac))

# One stream whose primary drains, one handed over on request.
print("%s replicated streams on port 85: %d (want 2)" % ("PASS" if len(conns) == 2 else "FAIL", len(conns)))
for client, segs in conns.items():
    macs = [segs[0][1]]
    stall = None
    for (t0, m0), (t1, m1) in zip(segs, segs[1:]):
        if m1 != m0:
            macs.append(m1)
            if stall is None:
                stall = t1 - t0
    print("%s senders of the stream to %s in turn: %d (want 2: the old primary, then its backup)"
          % ("PASS" if len(macs) == 2 else "FAIL", client, len(macs)))
    if stall is not None:
        print("INFO switchover on the wire: %.1f ms from the old primary's last segment to the new one's first"
              % (stall * 1000))
        print("%s switchover stall on the wire (%.1f ms) below a failover's least (%.0f ms)"
              % ("PASS" if stall < DEAD_S else "FAIL", stall * 1000, DEAD_S * 1000))

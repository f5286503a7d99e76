"""Host-side checks of a test from the capture on the hub (hub.pcap): no
TCP reset, and no connection attempt answered by two nodes.

A connection attempt is a client SYN: its 4-tuple and the client's initial
sequence number, which the SYN-ACK acknowledges. The client reuses a port
once its previous connection is closed, and then another node may own the
new connection; two nodes answering one attempt show as SYN-ACKs for the
same 4-tuple and acknowledgement from two MAC addresses.

Used by the tests' check.py: `hubcheck.run(run_dir, at_least)` prints
PASS/FAIL lines, `at_least` being how many connections the test made."""

import re
import subprocess

LINE = re.compile(r"^\S+ (\S+) > \S+, .*?: (\S+) > (\S+): Flags \[([^\]]*)\](?:, seq (\d+))?(?:, ack (\d+))?")


def run(run_dir, at_least):
    out = subprocess.run(["tcpdump", "-nn", "-e", "-r", run_dir + "/hub.pcap", "tcp"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    resets = 0
    synacks = {}
    segments = 0
    for line in out.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        segments += 1
        mac, src, dst, flags, seq, ack = m.groups()
        if "R" in flags:
            resets += 1
        if flags == "S.":
            synacks.setdefault((src, dst, ack), set()).add((mac, seq))
    answered = len(synacks)
    duplicated = sum(1 for answers in synacks.values() if len({mac for mac, _ in answers}) > 1)
    print("INFO %d TCP segments, %d 4-tuples, %d connections answered"
          % (segments, len({(s, d) for s, d, _ in synacks}), answered))
    print("%s connections answered on the hub: %d (at least %d)"
          % ("PASS" if answered >= at_least else "FAIL", answered, at_least))
    print("%s TCP resets on the hub: %d" % ("PASS" if resets == 0 else "FAIL", resets))
    print("%s connections answered by two nodes: %d" % ("PASS" if duplicated == 0 else "FAIL", duplicated))

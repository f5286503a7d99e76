"""Host-side checks of the balance test from the capture on the hub: no
TCP reset, and no connection answered by two nodes.

A connection is a SYN-ACK's 4-tuple and initial sequence number: the client
reuses a port once its previous connection is closed, and the same node
(the tuple's owner) then answers again, with a new sequence number. Two
nodes answering show as one 4-tuple answered from two MAC addresses."""

import re
import subprocess
import sys

run_dir = sys.argv[1]
out = subprocess.run(["tcpdump", "-nn", "-e", "-r", run_dir + "/hub.pcap", "tcp"],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
line_re = re.compile(r"^\S+ (\S+) > \S+, .*?: (\S+) > (\S+): Flags \[([^\]]*)\](?:, seq (\d+))?")
resets = 0
synacks = {}
segments = 0
for line in out.splitlines():
    m = line_re.match(line)
    if not m:
        continue
    segments += 1
    mac, src, dst, flags, seq = m.groups()
    if "R" in flags:
        resets += 1
    if flags == "S.":
        synacks.setdefault((src, dst), set()).add((mac, seq))
answered = sum(len({seq for _, seq in answers}) for answers in synacks.values())
duplicated = sum(1 for answers in synacks.values() if len({mac for mac, _ in answers}) > 1)
print("INFO %d TCP segments, %d 4-tuples, %d connections answered" % (segments, len(synacks), answered))
print("%s connections answered on the hub: %d (at least 3000)" % ("PASS" if answered >= 3000 else "FAIL", answered))
print("%s TCP resets on the hub: %d" % ("PASS" if resets == 0 else "FAIL", resets))
print("%s connections answered by two nodes: %d" % ("PASS" if duplicated == 0 else "FAIL", duplicated))

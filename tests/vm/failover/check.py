"""Host-side checks of the failover test from the hub capture: through a
node's death and return, no reset and no connection answered by two nodes
(two rounds of 300 connections, 60 held ones); and no segment the client
sent on a held connection served by a survivor (vm1, vm2) lost: none was
sent again before the survivor had acknowledged it. That is the direction
the nodes' hooks judge; what the servers send never meets a tpcluster hook
(the client has none), and on the slow debug kernel the client itself may
lose or acknowledge late. (A slow emulated guest can acknowledge a segment
just as its sender's timer fires: that spurious retransmission of an
acknowledged segment is no loss.)"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hubcheck  # noqa: E402

run_dir = sys.argv[1]
hubcheck.run(run_dir, 660)

SURVIVORS = {"52:54:00:00:00:01": "vm1", "52:54:00:00:00:02": "vm2"}
SEGMENT = re.compile(r"^\S+ (\S+) > \S+, .*?: (\S+) > (\S+): Flags \[([^\]]*)\]"
                     r"(?:, seq (\d+):(\d+))?(?:, ack (\d+))?")
out = subprocess.run(["tcpdump", "-nn", "-e", "-r", run_dir + "/hub.pcap", "tcp port 83"],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
server = {}  # client endpoint -> MAC of the node that answered its SYN
sent = set()
acked = {}  # (sender, receiver) -> highest sequence the receiver acknowledged
retransmitted = {}
for line in out.splitlines():
    m = SEGMENT.match(line)
    if not m:
        continue
    mac, src, dst, flags, start, end, ack = m.groups()
    client = dst if src.endswith(".83") else src
    if flags == "S.":
        server[client] = mac
    if ack is not None and "S" not in flags:
        acked[(dst, src)] = max(acked.get((dst, src), 0), int(ack))
    if start is None:
        continue
    key = (src, dst, start, end)
    from_client = not src.endswith(".83")
    if from_client and key in sent and acked.get((src, dst), 0) < int(end):
        node = SURVIVORS.get(server.get(client), "vm3")
        retransmitted[node] = retransmitted.get(node, 0) + 1
    sent.add(key)
held = sum(1 for mac in server.values() if mac in SURVIVORS)
print("INFO held connections served by vm1 or vm2: %d; segments lost, by server: %s" % (held, retransmitted))
survivors = sum(n for node, n in retransmitted.items() if node != "vm3")
print("%s client segments of the survivors' held connections lost: %d (of %d connections)"
      % ("PASS" if survivors == 0 and held >= 30 else "FAIL", survivors, held))

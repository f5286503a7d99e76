"""Host-side checks of the replicate_many test from the hub capture: every
connection the client held answered, none by two nodes, no reset (a
takeover at scale that lost a connection's state would answer with one)."""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hubcheck  # noqa: E402

run_dir = sys.argv[1]
# How many the client held (a third on the debug kernel), as it said.
held = 0
with open(os.path.join(run_dir, "vm4.ctl.log"), errors="replace") as f:
    for line in f:
        m = re.search(r"every connection established .*: (\d+)$", line.strip())
        if m:
            held = int(m.group(1))
print("%s connections the client held: %d" % ("PASS" if held > 0 else "FAIL", held))
hubcheck.run(run_dir, max(held, 1), "tcp and host 10.0.0.100")

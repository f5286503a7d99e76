"""Host-side checks of the replicate test from the hub capture: no reset,
no connection attempt answered by two nodes, and every connection of a
replicate service (ports 80-86) served by exactly one node, every replica
up: the backups' stacks ran it too, but only the primary's segments left."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hubcheck  # noqa: E402

run_dir = sys.argv[1]
hubcheck.run(run_dir, 4, "tcp and host 10.0.0.100")
turns, _ = hubcheck.emitters(run_dir, "80-86")
many = [conn for conn, macs in turns.items() if len(set(macs)) != 1]
print("%s replicated connections, each with one sender: %d of %d %s"
      % ("PASS" if turns and not many else "FAIL", len(turns) - len(many), len(turns), many[:5]))
for conn in many[:2]:
    hubcheck.show_turns(run_dir, conn)

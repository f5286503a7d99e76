"""Host-side checks of the replicate test from the hub capture: no reset,
no connection attempt answered by two nodes, and every connection of a
replicate service (ports 80-86) served by exactly one node, every replica
up: the backups' stacks ran it too, but only the primary's segments left.
With the nodes' tables full, one connection attempt got no answer at all."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hubcheck  # noqa: E402

run_dir = sys.argv[1]
hubcheck.run(run_dir, 4 + 8, "tcp and host 10.0.0.100")
turns, _ = hubcheck.emitters(run_dir, "80-86")
many = [conn for conn, macs in turns.items() if len(set(macs)) != 1]
print("%s replicated connections, each with one sender: %d of %d %s"
      % ("PASS" if turns and not many else "FAIL", len(turns) - len(many), len(turns), many[:5]))
# The echo service (port 85) with the tables full: 8 connections
# answered, and the one more attempted never was (by no node).
syns, synacks = hubcheck.attempts(run_dir, 85)
unanswered = syns - synacks
print("%s echo connections answered with the tables full: %d (want 8), unanswered: %d (want 1)"
      % ("PASS" if len(synacks) == 8 and len(unanswered) == 1 else "FAIL", len(synacks), len(unanswered)))
for conn in many[:2]:
    hubcheck.show_turns(run_dir, conn)

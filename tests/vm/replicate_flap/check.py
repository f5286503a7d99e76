"""Host-side checks of the replicate_flap test from the hub capture: every
connection of every round answered, none by two nodes, no reset (a
connection whose close a flap disturbed must still end in FINs)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hubcheck  # noqa: E402

# 9 rounds of 24 connections (vm4.sh).
hubcheck.run(sys.argv[1], 9 * 24, "tcp and host 10.0.0.100")

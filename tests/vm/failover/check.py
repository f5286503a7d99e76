"""Host-side checks of the failover test from the hub capture: through a
node's death and return, no reset and no connection answered by two nodes
(two rounds of 300 connections, 60 held ones)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hubcheck  # noqa: E402

hubcheck.run(sys.argv[1], 660)

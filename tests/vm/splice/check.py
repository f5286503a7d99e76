"""Host-side checks of the splice test from the hub capture: every
connection to the router one consistent sequence space with no reset, and
handed-over connections among them (one across all three nodes)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import splicecheck  # noqa: E402

splicecheck.run(sys.argv[1], 80, 3)

"""Host-side checks of the splice_backend test from the hub capture: every
connection to the VIP's port 80 one consistent sequence space with no
reset, on port 80 as the client knows it (the backend port never shows),
and handed-over connections among them."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import splicecheck  # noqa: E402

splicecheck.run(sys.argv[1], 80, 3, most_nodes=2)
splicecheck.port_never_seen(sys.argv[1], 8080)

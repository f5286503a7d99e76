"""Host-side checks of the replicate_scale test from the hub capture: the
client's connections to the VIP (400 held, 8 transfers) answered, none
reset (vm3 is power-cut with every held connection open: its connections
go on from their other replica), none answered by two nodes. The flood's
SYNs come from hosts that do not exist and are left out."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hubcheck  # noqa: E402

hubcheck.run(sys.argv[1], 400 + 8, "tcp and host 10.0.0.4 and host 10.0.0.100")

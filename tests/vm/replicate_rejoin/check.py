"""Host-side checks of the replicate_rejoin test from the hub capture: no
reset, no connection answered by two nodes (a replica brought into a set
later answers its own stack's SYN-ACK to nobody), and on each connection
one node emitting at a time."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hubcheck  # noqa: E402

run_dir = sys.argv[1]
# The request/response connection, the upload re-protected and the upload
# past the log's bound.
hubcheck.run(run_dir, 3, "tcp and host 10.0.0.100")
turns, silence = hubcheck.emitters(run_dir, "82-87", 0.3)
for conn, macs in sorted(turns.items()):
    print("INFO %s: emitted by %s in turn, longest silence %.2f s"
          % (conn, " then ".join(macs), silence.get(conn, 0.0)))
    # A node that handed over (it was cut) never emits again.
    print("%s %s: one node at a time, none twice" % ("PASS" if len(set(macs)) == len(macs) else "FAIL", conn))
    if len(set(macs)) != len(macs):
        hubcheck.show_turns(run_dir, conn)

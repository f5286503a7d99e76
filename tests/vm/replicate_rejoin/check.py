"""Host-side checks of the replicate_rejoin test from the hub capture: no
reset, no connection answered by two nodes (a replica brought into a set
later answers its own stack's SYN-ACK to nobody), and on each connection
one node emitting at a time, in the order the cuts make."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hubcheck  # noqa: E402

run_dir = sys.argv[1]
# The request/response connection, the upload re-protected and the upload
# past the log's bound.
hubcheck.run(run_dir, 3, "tcp and host 10.0.0.100")
turns, silence = hubcheck.emitters(run_dir, "82-87", 0.3)
# Who may send in turn on each connection (vm4.sh): on port 84 three nodes
# one after the other (two primaries cut); on 87 the first primary, then
# the other replica, then the first again, which came back after its power
# cut and was brought in (the only two nodes serving it); on 82 two (one
# cut). A node that handed over never emits before its turn comes again.
def expected(port, macs):
    if port == "84":
        return len(macs) == 3 and len(set(macs)) == 3
    if port == "87":
        return len(macs) == 3 and macs[0] == macs[2] != macs[1]
    return len(macs) == 2 and macs[0] != macs[1]


for conn, macs in sorted(turns.items()):
    print("INFO %s: emitted by %s in turn, longest silence %.2f s"
          % (conn, " then ".join(macs), silence.get(conn, 0.0)))
    ok = expected(conn[0], macs)
    print("%s %s: one node at a time, in the order of the cuts" % ("PASS" if ok else "FAIL", conn))
    if not ok:
        hubcheck.show_turns(run_dir, conn)

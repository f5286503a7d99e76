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

# Part 2's upload, while the node that came back was brought in: the
# primary read and acknowledged the client's bytes on, while the channel
# fed that node the stream from the primary's log. From the first chunk
# fed to the moment the feed first reached its furthest byte (which,
# before that node takes the live stream, is all the primary acknowledged),
# the service's acknowledgment must move past where it stood.
feed = hubcheck.catch_up_feed(run_dir, 87)
acks = hubcheck.service_acks(run_dir, 87)
if not feed:
    print("FAIL part 2: a catch-up fed the node brought back (no chunk on the channel)")
for client, chunks in sorted(feed.items()):
    dest = chunks[0][1]
    first = []
    for c in chunks:
        if c[1] != dest:
            break
        first.append(c)
    t0, start = first[0][0], first[0][2]
    end, t1 = None, t0
    for t, _, seq, n in first:
        e = (seq + n) % (1 << 32)
        if end is None or hubcheck.seq_after(e, end):
            end, t1 = e, t
    told = None
    for t, a in acks.get(client, []):
        if t < t0 and (told is None or hubcheck.seq_after(a, told)):
            told = a
    moved = sorted({a for t, a in acks.get(client, [])
                    if t0 <= t < t1 and told is not None and hubcheck.seq_after(a, told)},
                   key=lambda a: (a - told) % (1 << 32))
    gained = (moved[-1] - told) % (1 << 32) if moved else 0
    print("INFO part 2 %s: fed %d bytes to %s in %.2f s (%d chunks); the service acknowledged "
          "%d more client bytes meanwhile, in %d steps"
          % (client, (end - start) % (1 << 32), dest, t1 - t0, len(first), gained, len(moved)))
    print("%s part 2 %s: the primary acknowledged the client's bytes while the node brought back was fed"
          % ("PASS" if moved else "FAIL", client))

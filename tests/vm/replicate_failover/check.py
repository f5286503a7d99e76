"""Host-side checks of the replicate failover test from the hub capture:
no reset, no connection attempt answered by two nodes, and on every
connection of a replicate service (ports 80-86) one node emitting at a
time: once another replica has taken over, the one before never emits
again (a power-cut primary cannot; a fenced one must not), but for what
its device still held when it learnt: segments within TAIL of the new
sender's first. Also prints,
per connection, the longest silence of the service on it (the stall a
failover caused, as the client's network sees it, and the time the
client waits for its FIN to be acknowledged)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import hubcheck  # noqa: E402

run_dir = sys.argv[1]
# Connections whose primary the client cut: 2 x 10 transfers, 2 of
# requests, 2 partitions, 2 one-way cuts; and 2 more whose backup it cut.
takeovers = 26
# The nodes' own addresses are left out: the client asks a rebooting
# node for its counters until it answers.
hubcheck.run(run_dir, takeovers + 2, "tcp and host 10.0.0.100")

# A node falsely counted dead (a starved guest: the test runs the default
# timers) may have segments in its device's queue that passed its hook
# while it was still primary; they leave when its guest runs again.
TAIL = 0.3
turns, silence = hubcheck.emitters(run_dir, "80-86", TAIL)
took_over = sum(1 for macs in turns.values() if len(macs) > 1)
back = [conn for conn, macs in turns.items() if len(set(macs)) != len(macs)]
print("INFO %d replicated connections, %d taken over by another replica" % (len(turns), took_over))
print("%s connections on which a replica emitted again after another took over: %d %s"
      % ("PASS" if not back else "FAIL", len(back), back[:5]))
print("%s connections taken over: %d (at least %d)"
      % ("PASS" if took_over >= takeovers else "FAIL", took_over, takeovers))
print("INFO longest silence of the service per connection, ms: %s"
      % sorted(int(gap * 1000) for gap in silence.values()))

# A node of the replicate_many test (vm1..vm3 are this one script): an
# R=2 replicate `echo-poll` service (one thread, every connection) whose
# replicas answer alike. The client holds 10,000 connections through it,
# then power-cuts vm3 (replicate_many/vm4.sh).
# Relaxed timers: opening 10,000 connections starves the emulated guests
# (one sent its heartbeats 2.3 s apart), and a node counted dead for a
# moment is taken out of the sets of the connections it shares with the
# one that counted it out: with 2 s, such a flap left a connection on
# vm3 alone before the cut, and the cut ended it (a set only shrinks:
# Documentation/replicate.rst). The test is about the tables, the
# progress of many connections and a takeover at scale, not failure
# detection.
TP_KO="$TP_KO heartbeat_ms=100 dead_ms=$((5000 * TP_SLOW))"
tp_join_cluster "$(printf '1e%.0s' $(seq 32))"
# The client closes every connection at once at the end: each server
# socket then waits in LAST_ACK until the client acknowledges its FIN,
# which leaves only once the backup reported the client's FIN, seconds
# under this load. Room for all of them (the guest's default, sized for
# its memory, is a few thousand; past it the stack reset the rest: 479
# resets on the hub, with catch-up on).
sysctl -qw net.ipv4.tcp_max_orphans=65536
TPTEST_NAME=replica TPTEST_BACKLOG=4096 tptest serve 83 echo-poll &
sleep 0.3
tpctl service add 10.0.0.100:83 mode replicate replicas 2
tp_wait_full_member 30
tptest serve 90 stats &
tp_barrier ready
tp_barrier held
tp_info "vm$TP_VM, every connection open: $(grep -E '^(replica_entries|replica_half_open|replica_table_full|replica_alloc_failed|heartbeat_late|replica_excluded) ' /proc/net/tpcluster | tr '\n' ' ')$(grep -E '^(MemFree|Slab):' /proc/meminfo | tr -s ' ' | tr '\n' ' ')"
tp_barrier done

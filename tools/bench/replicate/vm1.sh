# A server (vm1..vm3 are this one script), in two phases:
#  plain:     no module; vm1 serves on its own address.
#  replicate: tpcluster on all three; the VIP's services replicate on two
#             nodes (R=2), every replica running the same servers.
# Servers: port 82 streams 100 MiB (seed 7), port 84 answers requests
# (`tptest rr`). Port 90 tells this node's counters.
tptest serve 82 stream $((100 * 1024 * 1024)) 7 &
tptest serve 84 rr &
tp_barrier servers
tp_barrier plain-done
tp_join_cluster "$(printf '5b%.0s' $(seq 32))"
tpctl service add 10.0.0.100:82 mode replicate replicas 2
tpctl service add 10.0.0.100:84 mode replicate replicas 2
tp_wait_full_member 30
tptest serve 90 stats &
tp_barrier cluster
tp_barrier replicate-done
tp_pass "vm$TP_VM served"

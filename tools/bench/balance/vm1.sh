# A server (vm1..vm3 are this one script). Phase "plain": no module, vm1
# serves on its own address. Phase "balance": tpcluster on every node, the
# same servers behind the VIP.
tptest serve 80 name &
tptest serve 82 stream $((100 * 1024 * 1024)) 7 &
tp_barrier servers
tp_barrier plain-done
tp_join_cluster "$(printf '5a%.0s' $(seq 32))" 80 82
tp_wait_full_member 30
tp_barrier cluster
tp_barrier balance-done
tp_pass "vm$TP_VM served"

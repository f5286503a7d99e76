# A server of the replicate benchmark (vm1..vm3 are this one script, also
# after a power cut). The module runs on every node, with the VIP's
# replicate services: 82 (100 MiB stream, R=2), 84 (requests, R=2), 83
# (stream, R=3), 81 (upload: answers the SHA-256, R=2), 85 (upload, R=3),
# 86 and 87 (32 MiB streams, R=2 and R=3, for the failovers).
# The baseline servers are the same programs on ports that are no service
# (92 stream, 94 requests): plain TCP to a node's own address, on the same
# node with the same module loaded, and no gate. Port 90 tells this node's
# counters and CPU time. BENCH_LOG_BYTES sets replica_log_bytes (the
# client log that catch-up needs; 1048576 by default): a run with 0
# beside one with the default tells what keeping the log costs a read.
BYTES=$((100 * 1024 * 1024))
tp_join_cluster "$(printf '5b%.0s' $(seq 32))"
[ -z "${BENCH_LOG_BYTES:-}" ] || echo "$BENCH_LOG_BYTES" > /sys/module/tpcluster/parameters/replica_log_bytes
tptest serve 82 stream $BYTES 7 &
tptest serve 83 stream $BYTES 7 &
tptest serve 84 rr &
tptest serve 81 hash &
tptest serve 85 hash &
tptest serve 86 stream $((32 * 1024 * 1024)) 7 &
tptest serve 87 stream $((32 * 1024 * 1024)) 7 &
tptest serve 92 stream $BYTES 7 &
tptest serve 94 rr &
sleep 0.3
for s in 82:2 84:2 81:2 83:3 85:3 86:2 87:3; do
	tpctl service add 10.0.0.100:${s%:*} mode replicate replicas ${s#*:}
done
tp_wait_full_member 30
tptest serve 90 stats &
tp_barrier done
tp_pass "vm$TP_VM served (boot $TP_BOOT)"

# A node of the replicate_scale test (vm1..vm3 are this one script): two
# replicate services (R=2) on a module that tracks at most 500 half-open
# replicated connections (replica_half_open=500), while the client holds
# 400 connections open (more than a node could track before its table was
# hashed: 256) and floods SYNs from hosts that do not exist.
#   82  tptest hash: reads to EOF, answers the SHA-256
#   83  tptest echo: the held connections
# Timers for four emulated guests on two cores under this load: with the
# defaults (50 ms, 200 ms) a starved guest is counted dead, and every such
# churn fences connections; failure detection is not what this test is about.
TP_KO="$TP_KO replica_half_open=500 heartbeat_ms=100 dead_ms=$((2000 * TP_SLOW))"
tp_join_cluster "$(printf '6d%.0s' $(seq 32))"
tptest serve 82 hash &
# A backlog above the client's bursts: a replica whose stack drops a SYN
# the others take lacks that connection (replicate.rst).
# Replicas must write the same bytes (the module checks that they do): the
# echo names no node.
TPTEST_NAME=replica TPTEST_BACKLOG=1024 tptest serve 83 echo &
sleep 0.3
tpctl service add 10.0.0.100:82 mode replicate replicas 2
tpctl service add 10.0.0.100:83 mode replicate replicas 2
tp_wait_full_member 30
tptest serve 90 stats &
# With nothing tracked, the bytes are the index alone.
index_bytes=$(tp_stat replica_bytes)
tp_barrier ready

# The half-open entries, sampled while the flood lasts: never above the cap.
echo 0 > /tmp/most_half_open
(
	most=0
	while :; do
		h=$(tp_stat replica_half_open)
		if [ "${h:-0}" -gt $most ]; then
			most=$h
			echo $most > /tmp/most_half_open
		fi
		sleep 0.1
	done
) &
sampler=$!
tp_barrier flooded
kill $sampler
most=$(cat /tmp/most_half_open)
evicted=$(tp_stat replica_half_open_evicted)
tp_info "vm$TP_VM: most half-open $most; $(grep -E '^replica_(entries|half_open|capacity|bytes|connections|table_full|alloc_failed|half_open_evicted|drop_untracked) ' /proc/net/tpcluster | tr '\n' ' ')"
tp_expect "half-open entries at most the cap (most seen: $most)" [ "$most" -le 500 ]
tp_expect "the flood reached the cap and the oldest went first ($evicted evicted)" [ "$evicted" -ge 1 ]
tp_expect_eq "connections not tracked: table full, no memory" \
	"$(tp_stat replica_table_full) $(tp_stat replica_alloc_failed)" "0 0"
entries=$(tp_stat replica_entries)
per_entry=$(( ($(tp_stat replica_bytes) - index_bytes) / (entries > 0 ? entries : 1) ))
tp_info "vm$TP_VM: index $index_bytes bytes for $(tp_stat replica_capacity) slots; $entries entries, $per_entry bytes each"
tp_expect "an entry costs at most 256 bytes beyond the index ($per_entry)" [ "$entries" -gt 0 -a "$per_entry" -le 256 ]
tp_barrier checked

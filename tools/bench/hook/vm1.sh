# The node of the hook benchmark: tpcluster alone (a cluster of one), its
# hooks timing themselves (module parameter hook_timing), a balance
# service streaming on port 82 and a replicate service (R=2, its only replica here) on port 85.
# The client's SYN floods at port 85 leave half-open replicated
# connections in the node's table: none, then about 10,000, then about
# 100,000 tracked. Every segment of the stream's connection is looked up
# in that table on its way in and out, so the hooks' cost per packet shows
# how the lookup scales (flat is the goal). The SYN queue is made room
# for (backlog, no SYN cookies), so each half-open connection keeps its
# request socket, and its entry, while the stack sends its SYN-ACK again
# (8 times, for over 8 minutes).
SIZES=${HOOK_SIZES:-0 10000 100000}
echo 262144 > /proc/sys/net/core/somaxconn
echo 262144 > /proc/sys/net/ipv4/tcp_max_syn_backlog
echo 0 > /proc/sys/net/ipv4/tcp_syncookies
# SYN-ACKs sent again for over 8 minutes: the entries outlive the run.
echo 8 > /proc/sys/net/ipv4/tcp_synack_retries
TP_KO="$TP_KO hook_timing=1 replica_conns=262144 replica_half_open=262144"
TP_CLUSTER=1 tp_join_cluster "$(printf '5a%.0s' $(seq 32))" 82
tpctl service add 10.0.0.100:85 mode replicate replicas 2
TPTEST_BACKLOG=262144 tptest serve 85 echo &
tptest serve 82 stream $((64 * 1024 * 1024)) 7 &
tp_wait_full_member 30
tp_barrier servers

# counters: reads the hooks' timing counters; per_packet DIR: ns per
# packet of hook DIR (in, out) since.
counters() { for d in in out; do eval "p_$d=$(tp_stat hook_${d}_timed_packets) n_$d=$(tp_stat hook_${d}_timed_ns)"; done; }
per_packet() {
	eval "p=\$(($(tp_stat hook_$1_timed_packets) - p_$1)) ns=\$(($(tp_stat hook_$1_timed_ns) - n_$1))"
	echo $((p > 0 ? ns / p : 0))
}
for n in $SIZES; do
	tp_barrier flooded-$n
	# The entries are made as the stack answers the flood's SYNs: wait
	# until their count stops growing.
	last=-1
	while [ "$(tp_stat replica_entries)" != "$last" ]; do
		last=$(tp_stat replica_entries)
		sleep 1
	done
	tracked=$(tp_stat replica_entries)
	tp_info "flood of $n SYNs: $tracked connections tracked, $(tp_stat replica_half_open_evicted) evicted"
	for i in 1 2 3; do
		counters
		tp_barrier fetch-$n-$i
		tp_barrier fetched-$n-$i
		in_ns=$(per_packet in) out_ns=$(per_packet out)
		tp_metric "in_ns_per_packet.$n" ns "$in_ns"
		tp_metric "out_ns_per_packet.$n" ns "$out_ns"
		tp_metric "tracked.$n" connections "$tracked"
		tp_info "flood of $n: $tracked tracked: PRE_ROUTING $in_ns ns, POST_ROUTING $out_ns ns a packet"
		eval "sum_in_$n=\$((\${sum_in_$n:-0} + in_ns)) sum_out_$n=\$((\${sum_out_$n:-0} + out_ns))"
	done
	# Against the first size (none tracked): flat is 1.00.
	first=${first:-$n}
	for d in in out; do
		r=$(eval "awk -v a=\$sum_${d}_$n -v b=\$sum_${d}_$first" "'BEGIN { printf \"%.2f\", b ? a / b : 0 }'")
		tp_metric "${d}_ratio.$n" ratio "$r"
		tp_info "flood of $n: ${d} cost $r times that with $first"
	done
done
tp_barrier done
tp_pass "vm1 served"

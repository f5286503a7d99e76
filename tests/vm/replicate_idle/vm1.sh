# A node of the replicate_idle test (vm1..vm3 are this one script): 600
# replicated echo connections (R=3), each talking once a minute. Between
# two lines a connection is idle, and its replicas hear of it through the
# nodes' progress summaries (replicate/summary.rs), not a report of its
# own every few hundred ms: while idle, the progress entries a node sends
# are a small fraction of what per-connection reports cost (each
# connection, to two peers, 2.5 times a second), and no backup is taken
# out of a set for its silence.
N=600
# Relaxed timers: 600 connections opening starve the emulated guests for
# hundreds of ms, and a node counted dead for a moment is taken out of
# every set (balance_scale does the same). Silence still takes a replica
# out after 3 x dead_ms (4.5 s), well within the quiet window below.
TP_KO="$TP_KO heartbeat_ms=100 dead_ms=$((1500 * TP_SLOW))"
tp_join_cluster "$(printf '1d%.0s' $(seq 32))"
TPTEST_NAME=replica TPTEST_BACKLOG=1024 tptest serve 83 echo-poll & # replicas answer alike
sleep 0.3
tpctl service add 10.0.0.100:83 mode replicate replicas 3
tp_wait_full_member 30
excluded0=$(tp_stat replica_excluded)
tp_barrier ready

tp_barrier idle_start
t0=$(tp_uptime_ms)
tx0=$(tp_stat replica_progress_tx)
heard0=$(tp_stat replica_summary_heard)
tp_barrier idle_end
ms=$(($(tp_uptime_ms) - t0))
tx=$(($(tp_stat replica_progress_tx) - tx0))
heard=$(($(tp_stat replica_summary_heard) - heard0))
tp_info "vm$TP_VM over ${ms} ms: $tx progress entries sent, $heard connections heard by summary; $(grep -E '^replica_(summary_tx|summary_rx|summary_differing|entries) ' /proc/net/tpcluster | tr '\n' ' ')"
# Per-connection reports would be N x 2 peers x 2.5 a second.
tp_info "vm$TP_VM: $(awk -v t=$tx -v n=$N -v ms=$ms 'BEGIN { printf "%.3f", t / n / (ms / 1000) }') progress entries per connection a second while idle (per-connection reports: 5)"
tp_expect "progress entries while idle: $tx in $ms ms, below one per connection a second" \
	[ $((tx * 1000)) -lt $((N * ms)) ]
tp_expect "idle connections heard through summaries ($heard)" [ "$heard" -gt "$N" ]
tp_barrier talked
tp_expect_eq "backups taken out of a set" "$(($(tp_stat replica_excluded) - excluded0))" 0
tp_barrier done

# The client: the same workloads against plain TCP to vm1 and against the
# VIP served by a replicate service (R=2), ROUNDS times each; prints each
# figure and the ratios of the medians to plain. Then one download from
# the replicated service whose primary is power-cut 2 s in: the longest
# pause the application saw, and its timeline (bytes read over time) for
# the plot the host draws.
ROUNDS=3
REQUESTS=500
BYTES=$((100 * 1024 * 1024))
want=$(tptest digest $BYTES 7)

# measure TARGET: one round, appends "mbps p50_ms" to /tmp/TARGET.
measure() {
	if [ "$1" = plain ]; then addr=10.0.0.1; else addr=10.0.0.100; fi
	t0=$(tp_uptime_ms)
	got=$(tptest fetch $addr 82)
	t1=$(tp_uptime_ms)
	rr=$(tptest rr $addr 84 $REQUESTS 1000)
	[ "$got" = "$want" ] || tp_fail "$1: stream damaged: $got"
	case "$rr" in "requests=$REQUESTS ok=$REQUESTS "*) ;; *) tp_fail "$1: requests: $rr" ;; esac
	mbps=$(awk -v b=$BYTES -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", b * 8 / 1000 / ms }')
	p50=$(echo "$rr" | sed -n 's/.*p50_ms=\([^ ]*\).*/\1/p')
	echo "$mbps $p50" >> /tmp/$1
	tp_info "$1 round: $mbps Mbit/s (100 MiB, one connection); requests of 1000 bytes: $rr"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a=$1 -v b=$2 'BEGIN { printf "%.2f", a / b }'; }

tp_barrier servers
# The intra-cluster round trip: guest to guest on the hub, as node to node.
rtt=$(ping -c 20 -i 0.2 10.0.0.2 | sed -n 's/.*time=\([0-9.]*\) ms/\1/p' | median)
for r in $(seq $ROUNDS); do measure plain; done
tp_barrier plain-done
tp_barrier cluster
sleep 2
for r in $(seq $ROUNDS); do measure replicate; done
p=$(cut -d' ' -f1 /tmp/plain | median)
b=$(cut -d' ' -f1 /tmp/replicate | median)
tp_info "RESULT throughput (Mbit/s): plain $p, replicate $b (ratio $(ratio $b $p), goal >= 0.7)"
p=$(cut -d' ' -f2 /tmp/plain | median)
b=$(cut -d' ' -f2 /tmp/replicate | median)
added=$(awk -v a=$b -v b=$p 'BEGIN { printf "%.2f", a - b }')
tp_info "RESULT request/response median (ms): plain $p, replicate $b: added $added ms; intra-cluster round trip $rtt ms (goal: added <= one round trip)"

# Failover: the primary (the node whose replica_out moves) power-cut 2 s in.
TPTEST_TIMELINE=/tmp/timeline tptest fetch 10.0.0.100 82 > /tmp/failover &
pid=$!
w=0
while [ ! -s /tmp/timeline ] && [ $w -lt 100 ]; do sleep 0.1; w=$((w + 1)); done
sleep 2
victim=$(tp_sending_node)
if [ $victim = 0 ]; then tp_fail "failover: no node sends the download"; fi
t_kill=$(awk 'END { print $1 }' /tmp/timeline)
tp_host kill $victim
wait $pid || true
[ "$(cat /tmp/failover)" = "$want" ] || tp_fail "failover: stream damaged: $(cat /tmp/failover)"
gap=$(tp_longest_gap /tmp/timeline)
tp_info "RESULT failover stall (ms): $gap, primary vm$victim power-cut at $t_kill ms (goal <= 300)"
# The timeline, for the host's plot.
tp_timeline_data /tmp/timeline $t_kill
tp_barrier replicate-done
tp_pass "measured"

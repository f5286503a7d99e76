# The client of the replicate benchmark (servers: vm1.sh).
#  1. BENCH_ROUNDS (default 5) alternating rounds, plain then replicate
#     (R=2): 100 MiB down on one connection, then 500 requests of 1000
#     bytes; throughput, median round trip, the ratio of each round's
#     replicate figure to its plain one, and each node's CPU-seconds per
#     GiB downloaded, by role (plain: the server; replicate: the primary,
#     the backup, the node that is no replica).
#  2. BENCH_CUTS (default 5) failovers each of: download and upload of
#     32 MiB, R=2 and R=3, 20 in all. The primary is power-cut once the
#     transfer has moved a random 30 to 70 % of its bytes (not after some
#     time: how long a transfer takes changes with the code); the stall is
#     the longest pause the application saw, and the transfer must be
#     byte-exact.
# Every figure is a METRIC data line (raw values, one per measurement),
# which tools/bench_report.py gathers into the run's JSON and Markdown.
ROUNDS=${BENCH_ROUNDS:-5}
CUTS=${BENCH_CUTS:-5}
BYTES=$((100 * 1024 * 1024))
REQUESTS=500
WANT_DOWN=$(tptest digest $BYTES 7)
# The failovers move 32 MiB each: the stall does not depend on the size,
# and every cut costs a reboot besides.
CUT_BYTES=$((32 * 1024 * 1024))
WANT_CUT_DOWN=$(tptest digest $CUT_BYTES 7)
WANT_CUT_UP=$(tptest digest $CUT_BYTES 9)

# wait_node N: until node N answers on its counters port (once a full
# member), at most 180 s.
wait_node() {
	w=0
	while ! tptest cat 10.0.0.$1 90 > /dev/null 2>&1 && [ $w -lt 900 ]; do sleep 0.2; w=$((w + 1)); done
}
for n in 1 2 3; do wait_node $n; done
sleep 2
w=0
while [ "$(tp_node_stat 1 cpu_ticks_per_s)" -le 0 ] && [ $w -lt 50 ]; do sleep 0.1; w=$((w + 1)); done
hz=$(tp_node_stat 1 cpu_ticks_per_s)
[ "$hz" -gt 0 ] || { tp_fail "no CPU time from vm1"; hz=100; }

# round R TARGET: one round against TARGET (plain or replicate).
round() {
	if [ $2 = plain ]; then addr=10.0.0.1 down=92 req=94; else addr=10.0.0.100 down=82 req=84; fi
	for n in 1 2 3; do
		eval "c0_$n=$(tp_node_stat $n cpu_busy_ticks) o0_$n=$(tp_node_stat $n replica_out) s0_$n=$(tp_node_stat $n replica_suppressed)"
	done
	t0=$(tp_uptime_ms)
	got=$(tptest fetch $addr $down)
	t1=$(tp_uptime_ms)
	for n in 1 2 3; do
		eval "c1_$n=$(tp_node_stat $n cpu_busy_ticks) o1_$n=$(tp_node_stat $n replica_out) s1_$n=$(tp_node_stat $n replica_suppressed)"
	done
	rr=$(tptest rr $addr $req $REQUESTS 1000)
	[ "$got" = "$WANT_DOWN" ] || tp_fail "$2 round $1: stream damaged: $got"
	case "$rr" in "requests=$REQUESTS ok=$REQUESTS "*) ;; *) tp_fail "$2 round $1: requests: $rr" ;; esac
	mbps=$(awk -v b=$BYTES -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", b * 8 / 1000 / ms }')
	p50=$(echo "$rr" | sed -n 's/.*p50_ms=\([^ ]*\).*/\1/p')
	tp_metric "$2.throughput" Mbit/s "$mbps"
	tp_metric "$2.rr_p50" ms "$p50"
	eval "${2}_mbps=$mbps ${2}_p50=$p50"
	# CPU-seconds per GiB of each node, by its part in the download.
	cost=""
	for n in 1 2 3; do
		eval "ticks=\$((c1_$n - c0_$n)) out=\$((o1_$n - o0_$n)) sup=\$((s1_$n - s0_$n))"
		if [ $2 = plain ]; then
			role=$([ $n = 1 ] && echo server || echo other)
		elif [ $out -gt 0 ]; then role=primary
		elif [ $sup -gt 0 ]; then role=backup
		else role=other
		fi
		v=$(awk -v t=$ticks -v hz=$hz -v b=$BYTES 'BEGIN { printf "%.2f", t / hz / (b / 1073741824) }')
		tp_metric "$2.cpu_s_per_gib.$role" s/GiB "$v"
		cost="$cost vm$n $role $v"
	done
	tp_info "$2 round $1: $mbps Mbit/s (100 MiB, one connection), requests p50 $p50 ms; CPU-s/GiB:$cost"
}

for r in $(seq $ROUNDS); do
	round $r plain
	round $r replicate
	tp_metric "ratio.throughput" x "$(awk -v a=$replicate_mbps -v b=$plain_mbps 'BEGIN { printf "%.3f", a / b }')"
	tp_metric "added.rr_p50" ms "$(awk -v a=$replicate_p50 -v b=$plain_p50 'BEGIN { printf "%.3f", a - b }')"
done

# power_cut_trial I WAY PORT R: transfer WAY (down or up) on PORT (an R-replica
# service), its primary power-cut at a random 30-70 % of its bytes.
power_cut_trial() {
	rm -f /tmp/timeline
	case $2 in
	down) TPTEST_TIMELINE=/tmp/timeline tptest fetch 10.0.0.100 $3 > /tmp/transfer 2>&1 & want=$WANT_CUT_DOWN ;;
	up) TPTEST_TIMELINE=/tmp/timeline tptest source 10.0.0.100 $3 $CUT_BYTES 9 > /tmp/transfer 2>&1 &
		want="$WANT_CUT_UP answer $WANT_CUT_UP" ;;
	esac
	pid=$!
	pct=$(awk -v r=$RANDOM 'BEGIN { printf "%d", 30 + r % 41 }')
	at=$((CUT_BYTES / 100 * pct))
	w=0
	while [ ! -s /tmp/timeline ] && [ $w -lt 300 ]; do sleep 0.05; w=$((w + 1)); done
	tp_info "cut $1 ($2, R=$4): transfer moving ($(tail -n 1 /tmp/timeline 2>/dev/null)), cut at $pct %"
	victim=$(tp_sending_node)
	tp_info "cut $1: primary vm$victim"
	moved() { tail -n 1 /tmp/timeline 2>/dev/null | cut -d' ' -f2; }
	w=0
	while [ "$(moved)" -lt $at ] && kill -0 $pid 2>/dev/null && [ $w -lt 1200 ]; do sleep 0.02; w=$((w + 1)); done
	cut_bytes=$(moved)
	cut_bytes=${cut_bytes:-0}
	cut_ms=$(tail -n 1 /tmp/timeline 2>/dev/null | cut -d' ' -f1)
	cut_ms=${cut_ms:-0}
	if [ $victim -ne 0 ] && kill -0 $pid 2>/dev/null; then
		tp_host restart $victim
	else
		tp_fail "cut $1 ($2, R=$4): no primary found, or the transfer was over (vm$victim)"
		victim=0
	fi
	j=0
	while kill -0 $pid 2>/dev/null && [ $j -lt $((120 * TP_SLOW)) ]; do sleep 1; j=$((j + 1)); done
	kill $pid 2>/dev/null || true
	wait $pid || true
	gap=$(tp_longest_gap /tmp/timeline)
	[ "$(cat /tmp/transfer)" = "$want" ] || tp_fail "cut $1 ($2, R=$4): transfer damaged: $(cat /tmp/transfer)"
	pct_real=$((cut_bytes * 100 / CUT_BYTES))
	tp_metric "failover.stall.$2.r$4" ms "$gap"
	tp_metric "failover.stall.all" ms "$gap"
	tp_metric "failover.cut_at.$2.r$4" % "$pct_real"
	tp_info "cut $1 ($2, R=$4): primary vm$victim power-cut at $pct_real % ($cut_ms ms in), stall $gap ms"
	# The first download's timeline, for the plot the host draws.
	if [ $1 = 1 ] && [ $2 = down ] && [ $4 = 2 ]; then tp_timeline_data /tmp/timeline $cut_ms; fi
	[ $victim -ne 0 ] && wait_node $victim
	sleep 1
}

for c in $(seq $CUTS); do
	for t in down:86:2 up:81:2 down:87:3 up:85:3; do
		way=${t%%:*} rest=${t#*:}
		power_cut_trial $c $way ${rest%:*} ${rest#*:}
	done
done
tp_barrier done
tp_pass "measured: $ROUNDS rounds, $CUTS cuts of each kind"

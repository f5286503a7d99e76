# The client of the balance benchmark: in each of BENCH_ROUNDS rounds
# (default 5), the same workloads against plain TCP to vm1, against the
# VIP served by vm1 alone (solo) and by three nodes (balance): 100 MiB
# down on one connection, then 1000 connections one after the other.
# Throughput, connections/s, the ratio of each round's figures to its
# plain ones, and each node's CPU-seconds per GiB and per 1000
# connections, by its part: the server (plain), the owner of the
# connection, the other nodes that drop its frames. Every figure is a
# METRIC line (tools/bench_report.py).
ROUNDS=${BENCH_ROUNDS:-5}
CONNS=1000
BYTES=$((100 * 1024 * 1024))
want=$(tptest digest $BYTES 7)

# cpu_all PREFIX: each node's busy ticks and new connections taken, into
# PREFIX_N and PREFIXn_N.
cpu_all() {
	for n in 1 2 3; do
		eval "$1_$n=$(tp_node_stat $n cpu_busy_ticks) $1n_$n=$(tp_node_stat $n vip_new_connections)"
	done
}
# cost TARGET WHAT PER UNIT: each node's CPU-seconds per PER units of the
# phase between the a_ and b_ readings, as TARGET.cpu_s_per_WHAT.ROLE.
cost() {
	out=""
	for n in 1 2 3; do
		eval "ticks=\$((b_$n - a_$n)) taken=\$((bn_$n - an_$n))"
		if [ $1 = plain ]; then role=$([ $n = 1 ] && echo server || echo other)
		elif [ $taken -gt 0 ]; then role=owner
		else role=other
		fi
		v=$(awk -v t=$ticks -v hz=$hz -v p=$3 'BEGIN { printf "%.3f", t / hz / p }')
		tp_metric "$1.cpu_s_per_$2.$role" s "$v"
		out="$out vm$n $role $v"
	done
	echo "$out"
}

# measure R TARGET: one round against TARGET.
measure() {
	if [ "$2" = plain ]; then addr=10.0.0.1; else addr=10.0.0.100; fi
	cpu_all a
	t0=$(tp_uptime_ms)
	got=$(tptest fetch $addr 82)
	t1=$(tp_uptime_ms)
	cpu_all b
	per_gib=$(cost $2 gib "$(awk -v b=$BYTES 'BEGIN { print b / 1073741824 }')")
	cpu_all a
	t2=$(tp_uptime_ms)
	out=$(tptest connect-many $addr 80 $CONNS)
	t3=$(tp_uptime_ms)
	cpu_all b
	per_kconn=$(cost $2 1000_connections "$(awk -v c=$CONNS 'BEGIN { print c / 1000 }')")
	[ "$got" = "$want" ] || tp_fail "$2: stream damaged: $got"
	[ "$(echo "$out" | head -n 1)" = "connections=$CONNS failed=0" ] || tp_fail "$2: $(echo "$out" | head -n 1)"
	mbps=$(awk -v b=$BYTES -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", b * 8 / 1000 / ms }')
	cps=$(awk -v n=$CONNS -v ms=$((t3 - t2)) 'BEGIN { printf "%.0f", n * 1000 / ms }')
	tp_metric "$2.throughput" Mbit/s "$mbps"
	tp_metric "$2.conns_per_s" 1/s "$cps"
	eval "${2}_mbps=$mbps ${2}_cps=$cps"
	tp_info "$2 round $1: $mbps Mbit/s (100 MiB, one connection), $cps connections/s ($CONNS, one at a time); CPU-s/GiB:$per_gib; CPU-s/1000 connections:$per_kconn"
}
ratio() { awk -v a=$1 -v b=$2 'BEGIN { printf "%.3f", a / b }'; }

tp_barrier servers
# Ticks per second of /proc/stat (USER_HZ), as the nodes tell it.
w=0
while [ "$(tp_node_stat 1 cpu_ticks_per_s)" -le 0 ] && [ $w -lt 50 ]; do sleep 0.1; w=$((w + 1)); done
hz=$(tp_node_stat 1 cpu_ticks_per_s)
[ "$hz" -gt 0 ] || { tp_fail "no CPU time from vm1"; hz=100; }
for r in $(seq $ROUNDS); do
	tp_barrier plain-$r
	measure $r plain
	tp_barrier plain-done-$r
	tp_barrier solo-$r
	measure $r solo
	tp_barrier solo-done-$r
	tp_barrier cluster-$r
	measure $r balance
	tp_barrier balance-done-$r
	for t in solo balance; do
		eval "m=\$${t}_mbps c=\$${t}_cps"
		tp_metric "ratio.$t.throughput" x "$(ratio $m $plain_mbps)"
		tp_metric "ratio.$t.conns_per_s" x "$(ratio $c $plain_cps)"
	done
done
tp_barrier done
tp_pass "measured: $ROUNDS rounds"

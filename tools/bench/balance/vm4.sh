# The client: the same workloads against plain TCP to vm1 and against the
# VIP in balance mode, alternating, ROUNDS times each; prints each figure
# and the ratio of the medians (balance / plain).
ROUNDS=3
CONNS=1000
BYTES=$((100 * 1024 * 1024))
want=$(tptest digest $BYTES 7)

# measure TARGET: one round, appends "mbps conns_per_s" to /tmp/TARGET.
measure() {
	host=$1
	[ "$host" = plain ] && addr=10.0.0.1 || addr=10.0.0.100
	t0=$(tp_uptime_ms)
	got=$(tptest fetch $addr 82)
	t1=$(tp_uptime_ms)
	out=$(tptest connect-many $addr 80 $CONNS)
	t2=$(tp_uptime_ms)
	[ "$got" = "$want" ] || tp_fail "$host: stream damaged: $got"
	[ "$(echo "$out" | head -n 1)" = "connections=$CONNS failed=0" ] || tp_fail "$host: $(echo "$out" | head -n 1)"
	mbps=$(awk -v b=$BYTES -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", b * 8 / 1000 / ms }')
	cps=$(awk -v n=$CONNS -v ms=$((t2 - t1)) 'BEGIN { printf "%.0f", n * 1000 / ms }')
	echo "$mbps $cps" >> /tmp/$host
	tp_info "$host round: $mbps Mbit/s (100 MiB, one connection), $cps connections/s ($CONNS, one at a time)"
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

tp_barrier servers
for r in $(seq $ROUNDS); do measure plain; done
tp_barrier plain-done
tp_barrier cluster
for r in $(seq $ROUNDS); do measure balance; done
for i in 1 2; do
	p=$(cut -d' ' -f$i /tmp/plain | median)
	b=$(cut -d' ' -f$i /tmp/balance | median)
	what=$([ $i = 1 ] && echo "throughput (Mbit/s)" || echo "connections/s")
	tp_info "RESULT $what: plain $p, balance $b, ratio $(awk -v b=$b -v p=$p 'BEGIN { printf "%.2f", b / p }') (goal >= 0.95)"
done
tp_barrier balance-done
tp_pass "measured"

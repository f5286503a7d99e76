# The client: the same workloads against plain TCP to vm1, against the VIP
# served by vm1 alone (solo) and by three nodes (balance), ROUNDS times
# each; prints each figure and the ratios of the medians to plain.
ROUNDS=3
CONNS=1000
BYTES=$((100 * 1024 * 1024))
want=$(tptest digest $BYTES 7)

# measure TARGET: one round, appends "mbps conns_per_s" to /tmp/TARGET.
measure() {
	host=$1
	if [ "$host" = plain ]; then addr=10.0.0.1; else addr=10.0.0.100; fi
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
tp_barrier solo
for r in $(seq $ROUNDS); do measure solo; done
tp_barrier solo-done
tp_barrier cluster
for r in $(seq $ROUNDS); do measure balance; done
ratio() { awk -v a=$1 -v b=$2 'BEGIN { printf "%.2f", a / b }'; }
for i in 1 2; do
	p=$(cut -d' ' -f$i /tmp/plain | median)
	s=$(cut -d' ' -f$i /tmp/solo | median)
	b=$(cut -d' ' -f$i /tmp/balance | median)
	what=$([ $i = 1 ] && echo "throughput (Mbit/s)" || echo "connections/s")
	tp_info "RESULT $what: plain $p, solo $s (ratio $(ratio $s $p)), balance $b (ratio $(ratio $b $p), goal >= 0.95)"
done
tp_barrier balance-done
tp_pass "measured"

# The client of the hook benchmark: for each size, a SYN flood of that
# many connections from hosts that do not exist at the node's replicate
# service (the same tuples each time, so that the table holds about the
# largest flood), then three 64 MiB fetches from its balance service,
# whose packets the node's hooks time.
SIZES=${HOOK_SIZES:-0 10000 100000}
BYTES=$((64 * 1024 * 1024))
want=$(tptest digest $BYTES 7)
tp_barrier servers
for n in $SIZES; do
	if [ $n -gt 0 ]; then
		t0=$(tp_uptime_ms)
		# At a rate the emulated node keeps up with (it drops SYNs beyond).
		out=$(tptest syn-flood $n 10.0.0.100 85 800)
		tp_info "flood of $n SYNs: $out in $(($(tp_uptime_ms) - t0)) ms"
	fi
	tp_barrier flooded-$n
	for i in 1 2 3; do
		tp_barrier fetch-$n-$i
		got=$(tptest fetch 10.0.0.100 82)
		tp_barrier fetched-$n-$i
		tp_expect_eq "64 MiB fetched intact with $n SYNs flooded" "$got" "$want"
	done
done
tp_barrier done

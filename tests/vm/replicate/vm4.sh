# The client of the replicate test: unmodified tptest, one connection per
# transfer, every replica up, each way: to ports 81 (R=2) and 82 (R=3),
# whose servers answer the SHA-256 of what they read, and from ports 80
# (R=2) and 83 (R=3).
BYTES=$((100 * 1024 * 1024))
WANT=$(tptest digest $BYTES 7)
# wait_nodes: until every node answers on its counters port.
wait_nodes() {
	for n in 1 2 3; do
		i=0
		while ! tptest cat 10.0.0.$n 90 > /dev/null 2>&1 && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
	done
}
wait_nodes
sleep 3

# watch PID WHAT: waits for the transfer PID, at most 100 s (300 s on the debug kernel); on time out
# shows every node's replica counters and kills it.
watch() {
	i=0
	while kill -0 $1 2>/dev/null && [ $i -lt $((100 * TP_SLOW)) ]; do sleep 1; i=$((i + 1)); done
	if kill -0 $1 2>/dev/null; then
		for n in 1 2 3; do
			tp_info "$2 stuck: vm$n: $(tptest cat 10.0.0.$n 90 2>/dev/null | grep -E '^(replica|channel_rx_good|vip_drop|splice_drop)' | tr '\n' ' ')"
		done
		kill $1
	fi
	wait $1 || true
}

WANT_UP=$(tptest digest $BYTES 9)
for port in 81 82; do
	tptest source 10.0.0.100 $port $BYTES 9 > /tmp/transfer.up 2>&1 &
	watch $! "port $port"
	tp_expect_eq "port $port, all replicas up: bytes and SHA-256" "$(cat /tmp/transfer.up)" "$WANT_UP answer $WANT_UP"
done
for port in 80 83; do
	tptest fetch 10.0.0.100 $port > /tmp/transfer.up 2>&1 &
	watch $! "port $port"
	tp_expect_eq "port $port, all replicas up: bytes and SHA-256" "$(cat /tmp/transfer.up)" "$WANT"
done
# Each connection had one primary, which sent, and one (R=2) or two (R=3)
# backups, whose stacks' output was held back.
senders=0
backups=0
for n in 1 2 3; do
	o=$(tp_node_stat $n replica_out)
	s=$(tp_node_stat $n replica_suppressed)
	[ "$o" -gt 0 ] && senders=$((senders + 1))
	[ "$s" -gt 0 ] && backups=$((backups + 1))
	tp_info "vm$n: replica_out=$o suppressed=$s clamped=$(tp_node_stat $n replica_ack_clamped)"
done
tp_expect "primaries sent ($senders nodes) and at least two nodes held a backup's output back ($backups)" \
	[ $senders -ge 1 -a $backups -ge 2 ]

tp_barrier done
tp_barrier reported

# The client of the replicate_idle test: 600 echo connections held through
# the VIP, a line on each once a minute (the lines spread over the
# minute); a quiet window of 20 s measured on the nodes; then a round
# more on every connection: each keeps answering, none stalls.
N=600
ROUND_MS=60000
sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
tp_barrier ready
TPTEST_STATUS_FILE=/tmp/hold.status TPTEST_STOP_FILE=/tmp/stop TPTEST_STALL_MS=$((20000 * TP_SLOW)) \
	tptest hold-many 10.0.0.100 83 $N $((400 * TP_SLOW)) $ROUND_MS > /tmp/held 2> /tmp/held.err &
hold=$!
tp_wait_established /tmp/hold.status $N $((120 * TP_SLOW))
tp_expect_eq "every connection established" "$(tp_established /tmp/hold.status)" "$N"
# The opening's reports die down (their repeats take a few hundred ms).
sleep 5
tp_barrier idle_start
sleep 20
tp_barrier idle_end
# A round more: every connection talks again after its quiet time.
sleep $((ROUND_MS / 1000 + 5))
touch /tmp/stop
wait $hold || true
tp_info "held: $(tr '\n' ' ' < /tmp/held) $(head -c 300 /tmp/held.err)"
tp_expect "every connection kept answering" grep -q "^replica connections=$N ok=$N failed=0 " /tmp/held
tp_barrier talked
tp_barrier done

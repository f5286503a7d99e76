# The client of the balance_scale test: TP_SCALE_CONNS (default 20,000)
# echo connections held through the VIP, a numbered line on each every
# round, while vm3 is power-cut. Every connection a survivor (vm1, vm2)
# serves keeps answering, from the same node, with no reset and no stall;
# vm3's die with it. On the debug kernel (KASAN, lockdep), a third as
# many: at 20,000 its emulated guests answered some round trips only
# after 90 s, and its checks are of memory and locks, not of scale.
N=${TP_SCALE_CONNS:-$((20000 / TP_SLOW))}
# The client's own ports: one per connection to the one VIP:port.
sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
# A line on each connection per round, the connections' lines spread over
# it: 20,000 connections make about 220 round trips a second, what four
# emulated guests on two cores sustain (at 400 a second the round trips
# took 10 s).
ROUND_MS=90000
# Under this load a round trip can take seconds on four emulated guests
# sharing two cores; one the cluster lost never answers.
STALL_MS=45000
# At most (the hold ends two rounds after the cut, by its stop file).
SECONDS_HELD=$((600 * TP_SLOW))
tp_barrier ready
start=$(tp_uptime_ms)
TPTEST_STATUS_FILE=/tmp/hold.status TPTEST_STOP_FILE=/tmp/stop TPTEST_STALL_MS=$STALL_MS tptest hold-many 10.0.0.100 84 $N $SECONDS_HELD $ROUND_MS > /tmp/held 2> /tmp/held.err &
hold=$!
tp_wait_established /tmp/hold.status $N $((300 * TP_SLOW))
up=$(tp_established /tmp/hold.status)
tp_info "$up of $N connections established after $((($(tp_uptime_ms) - start) / 1000)) s"
tp_expect_eq "every connection established" "$up" "$N"
# A round on every connection before the cut (the rounds begin once every
# connection is open).
sleep $((ROUND_MS / 1000 + 5))
tp_barrier held
tp_barrier counted
counted="$(tp_value conns1) $(tp_value conns2) $(tp_value conns3)"
tp_barrier dead
cut=$(tp_uptime_ms)
# A round more on every connection, then the hold ends.
sleep $((ROUND_MS / 1000 + 5))
touch /tmp/stop
wait $hold
tp_info "held: $(tr '\n' ' ' < /tmp/held) $(head -c 300 /tmp/held.err)"
tp_info "vm3 cut $(((cut - start) / 1000)) s after the first connect; the last round ended $((($(tp_uptime_ms) - cut) / 1000)) s after the cut"

field() {
	sed -n "s/^$1 .*$2=\([^ ]*\).*/\1/p" /tmp/held
}
tp_expect_eq "the connections each node counted are those it answered" "$counted" \
	"$(field vm1 connections) $(field vm2 connections) $(field vm3 connections)"
tp_expect_eq "every connection answered by a node" \
	"$(($(field vm1 connections) + $(field vm2 connections) + $(field vm3 connections)))" "$N"
for vm in vm1 vm2; do
	tp_expect_eq "$vm's connections: failed, changed server" \
		"$(field $vm failed) $(field $vm changed)" "0 0"
	rtt=$(field $vm max_rtt_ms)
	tp_expect "$vm's connections never stalled (longest round trip $rtt ms)" [ "${rtt:-99999}" -lt $STALL_MS ]
done
tp_expect "vm3's connections died with it ($(field vm3 connections) of them, $(field vm3 ok) ok)" \
	[ "$(field vm3 connections)" -gt 0 -a "$(field vm3 ok)" = 0 ]
tp_barrier done
tp_barrier reported

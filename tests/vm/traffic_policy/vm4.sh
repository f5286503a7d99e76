# The client of the traffic-policy test, unmodified programs only (tptest
# as any client, iperf3). It checks what the nodes' policy makes of its
# connections: a node whose server stopped gets none (and none is
# refused), weights 1:2:3 split them 1:2:3, a draining node takes no new
# one and finishes what it has, and source affinity keeps one client on
# one node, iperf3's control and data connections included.

# served OUT VM: how many of the connections of `connect-many` output OUT
# node VM answered.
served() { c=$(echo "$1" | sed -n "s/^$2=//p"); echo "${c:-0}"; }

# The nodes agree on a change within a few heartbeat intervals: 300 ms
# with the default timers.
settle=$((TP_HEARTBEAT_MS * 6 > 300 ? TP_HEARTBEAT_MS * 6 : 300))
sleep_ms() { sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"; }

tp_barrier ready
tp_barrier stopped
sleep_ms $settle
n=300
out=$(tptest connect-many 10.0.0.100 80 $n)
tp_info "vm2's server stopped: $(echo "$out" | tr '\n' ' ')"
tp_expect_eq "connections $settle ms after vm2's server stopped, and failed (refused) ones" \
	"$(echo "$out" | head -n 1)" "connections=$n failed=0"
tp_expect_eq "connections vm2 took without a server" "$(served "$out" vm2)" 0
tp_barrier counted
tp_barrier restarted
out=$(tptest connect-many 10.0.0.100 80 $n)
tp_info "vm2's server back: $(echo "$out" | tr '\n' ' ')"
tp_expect_eq "connections once it is back, and failed ones" "$(echo "$out" | head -n 1)" "connections=$n failed=0"
tp_expect "vm2 takes its share again ($(served "$out" vm2) of $n)" [ "$(served "$out" vm2)" -ge $((n / 3 * 70 / 100)) ]
tp_barrier counted-again

tp_barrier flapping
sleep_ms $settle
out=$(tptest connect-many 10.0.0.100 80 $n)
tp_info "vm2's server restarting in a loop: $(echo "$out" | tr '\n' ' ')"
tp_expect_eq "connections while vm2's server restarts in a loop, and failed (refused) ones" \
	"$(echo "$out" | head -n 1)" "connections=$n failed=0"
tp_expect_eq "connections vm2 took while its server restarts in a loop" "$(served "$out" vm2)" 0
tp_barrier flap-counted
tp_barrier flap-settled

tp_barrier unhealthy
out=$(tptest connect-many 10.0.0.100 80 $n)
tp_info "vm2's health check failing: $(echo "$out" | tr '\n' ' ')"
tp_expect_eq "connections while vm2's health check fails, and failed ones" "$(echo "$out" | head -n 1)" "connections=$n failed=0"
tp_expect_eq "connections vm2 took, unhealthy" "$(served "$out" vm2)" 0
tp_barrier counted-unhealthy
tp_barrier healthy-again
out=$(tptest connect-many 10.0.0.100 80 $n)
tp_info "vm2 healthy again: $(echo "$out" | tr '\n' ' ')"
tp_expect_eq "connections once vm2 is healthy, and failed ones" "$(echo "$out" | head -n 1)" "connections=$n failed=0"
tp_expect "vm2 takes its share again ($(served "$out" vm2) of $n)" [ "$(served "$out" vm2)" -ge $((n / 3 * 70 / 100)) ]
tp_barrier counted-healthy

tp_barrier weighted
n=3000
out=$(tptest connect-many 10.0.0.100 80 $n)
tp_info "weights 1:2:3: $(echo "$out" | tr '\n' ' ')"
tp_expect_eq "connections, and failed ones" "$(echo "$out" | head -n 1)" "connections=$n failed=0"
for w in 1 2 3; do
	c=$(served "$out" vm$w)
	want=$((n * w / 6))
	tp_expect "vm$w (weight $w) served $c, within 15% of $want" \
		[ "$c" -ge $((want * 85 / 100)) -a "$c" -le $((want * 115 / 100)) ]
done
tp_barrier weights-counted

# 60 held echo connections, each talking every 500 ms, and a 100 MiB
# stream, while the node that serves the stream drains.
hold_s=$((40 * TP_SLOW))
TPTEST_STALL_MS=$((5000 * TP_SLOW)) tptest hold 10.0.0.100 83 60 $hold_s 500 > /tmp/held 2>&1 &
held=$!
tptest fetch 10.0.0.100 82 > /tmp/stream 2>&1 &
stream=$!
sleep 2
tp_barrier streaming
tp_barrier drained
drained=$(tp_value drained)
tp_info "draining: $drained"
n=300
out=$(tptest connect-many 10.0.0.100 80 $n)
tp_info "while $drained drains: $(echo "$out" | tr '\n' ' ')"
tp_expect_eq "connections while a node drains, and failed ones" "$(echo "$out" | head -n 1)" "connections=$n failed=0"
tp_expect_eq "new connections the draining node took" "$(served "$out" "$drained")" 0
tp_barrier drain-counted
wait $stream
tp_expect_eq "100 MiB stream from the draining node: what arrived" \
	"$(cat /tmp/stream)" "$(tptest digest $((100 * 1024 * 1024)) 9)"
wait $held
tp_info "held: $(tr '\n' ' ' < /tmp/held)"
tp_expect_eq "held connections, and failed (stalled, reset) ones" \
	"$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^(connections|ok)=/) { split($i, a, "="); s[a[1]] += a[2] } } END { print s["connections"] + 0, s["ok"] + 0 }' /tmp/held)" "60 60"
tp_expect "the draining node held some of them" grep -q "^$drained connections=[1-9]" /tmp/held
tp_barrier transfers-done

# A replicated 100 MiB stream (port 85, R=2) whose primary hands it to its
# backup mid-transfer, without a failover: the client's side.
# replicated_stream STARTED DONE VALUE HOW: fetches the stream, past barrier
# STARTED once it moves; at barrier DONE the nodes say in VALUE which one
# handed it over (HOW), while it still ran; what arrives is byte-exact.
# Leaves in $before and $at the bytes read at the two barriers.
replicated_stream() {
	rm -f /tmp/timeline
	TPTEST_TIMELINE=/tmp/timeline tptest fetch 10.0.0.100 85 > /tmp/rstream 2>&1 &
	rstream=$!
	w=0
	while [ ! -s /tmp/timeline ] && [ $w -lt 100 ]; do sleep 0.1; w=$((w + 1)); done
	sleep 0.5
	before=$(tail -n 1 /tmp/timeline | cut -d' ' -f2)
	tp_barrier "$1"
	tp_barrier "$2"
	by=$(tp_value "$3" || echo none)
	running=no
	kill -0 $rstream 2>/dev/null && running=yes
	at=$(tail -n 1 /tmp/timeline | cut -d' ' -f2)
	tp_expect "the primary of the replicated stream ($by) $4 mid-transfer (at ${at:-?} bytes)" \
		[ "$by" != none -a $running = yes ]
	wait $rstream || true
	tp_expect_eq "replicated 100 MiB stream across the switchover ($4): what arrived" \
		"$(cat /tmp/rstream)" "$(tptest digest $((100 * 1024 * 1024)) 7)"
}

replicated_stream replicated-streaming switched switched "drained and let it go"
# The application's longest wait between two reads while the switchover
# ran (the reads from the first barrier to the second), and over the
# whole stream.
switch_gap=$(awk -v a="${before:-0}" -v b="${at:-0}" \
	'NR > 1 && p2 >= a && p2 <= b { g = $1 - p; if (g > m) m = g } { p = $1; p2 = $2 } END { print m + 0 }' /tmp/timeline)
# (check.py measures the stall on the wire; this is the application's
# view, which the guests' scheduling also delays.)
tp_info "longest wait of the application: $switch_gap ms during the switchover, $(tp_longest_gap /tmp/timeline) ms over the stream"
tp_barrier switch-counted
tp_barrier switch-checked
took=$(($(tp_value took1) + $(tp_value took2) + $(tp_value took3)))
tp_expect_eq "connections taken over by the drained primary's backup" "$took" 1

# The same on request (tpctl conn primary on the primary).
replicated_stream replicated-streaming-again moved moved "handed it over on request"
tp_barrier move-checked

tp_barrier affinity
n=200
out=$(tptest connect-many 10.0.0.100 84 $n)
tp_info "source affinity: $(echo "$out" | tr '\n' ' ')"
tp_expect_eq "connections of one client with source affinity, and failed ones" "$(echo "$out" | head -n 1)" "connections=$n failed=0"
tp_expect_eq "nodes that served them" "$(echo "$out" | grep -c '^vm[1-3]=')" 1
out=$(tptest connect-many 10.0.0.100 80 $n)
tp_expect "without affinity, one client's connections spread ($(echo "$out" | grep -c '^vm[1-3]=') nodes)" \
	[ "$(echo "$out" | grep -c '^vm[1-3]=')" = 3 ]
for dir in "" -R; do
	rc=0
	iperf3 -c 10.0.0.100 -p 5201 -t 3 $dir > /tmp/iperf3.log 2>&1 || rc=$?
	tp_info "iperf3 $dir: $(grep -E 'sender|receiver|error' /tmp/iperf3.log | tr '\n' ' ')"
	tp_expect_eq "iperf3 ${dir:-(upload)} through the VIP: exit status" "$rc" 0
	tp_expect "iperf3 ${dir:-(upload)}: the receiver counted bytes" grep -Eq '[1-9][0-9.]* [KMG]Bytes .* receiver' /tmp/iperf3.log
done
tp_barrier done

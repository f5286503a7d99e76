# The client of the replicate_flap test: each round holds 24 echo
# connections (R=3) for a few seconds and closes them; as they close, one
# node's datagrams to the other nodes are dropped for twice the dead
# timeout (0.4 s), so the others count it out and take over its
# connections while it still reaches the client, and then hear it again.
# A starved node that misses its heartbeats flaps the same way.
# open85: the client's sockets to port 85 not yet done (TIME_WAIT is done).
open85() {
	awk 'NR > 1 { split($3, r, ":"); if (r[2] == "0055" && $4 != "06") n++ } END { print n + 0 }' /proc/net/tcp
}
tp_wait_stats
tp_barrier ready
ROUNDS=9
SECONDS_HELD=4
round=1
while [ $round -le $ROUNDS ]; do
	victim=$((round % 3 + 1))
	others=$(for n in 1 2 3; do [ $n = $victim ] || printf '10.0.0.%s ' $n; done)
	tptest hold 10.0.0.100 85 24 $SECONDS_HELD 100 > /tmp/h 2>&1 &
	held=$!
	# The connections close SECONDS_HELD s after they open: the flap
	# brackets that.
	sleep $((SECONDS_HELD - 1)).$(awk -v r=$RANDOM 'BEGIN { printf "%02d", 70 + r % 30 }')
	tp_expect "round $round: vm$victim's datagrams to the other nodes dropped" tp_host mute $victim $others
	sleep "$(awk -v d=$TP_DEAD_MS 'BEGIN { print 2 * d / 1000 }')"
	tp_expect "round $round: vm$victim's datagrams to the other nodes pass again" tp_host unmute $victim $others
	wait $held || true
	tp_expect "round $round (vm$victim flapped as they closed): 24 connections answered to the end: $(tr '\n' ' ' < /tmp/h)" \
		grep -q ' ok=24 failed=0 .* changed=0 ' /tmp/h
	tp_barrier "closed$round"
	# The client's side of each: done too (TIME_WAIT), none left waiting
	# for the cluster to acknowledge its FIN.
	i=0
	while [ "$(open85)" -gt 0 ] && [ $i -lt $((100 * TP_SLOW)) ]; do sleep 0.1; i=$((i + 1)); done
	tp_expect_eq "round $round: the client's sockets still closing 10 s after it closed" "$(open85)" 0
	tp_barrier "checked$round"
	sleep 1
	round=$((round + 1))
done
tp_barrier done

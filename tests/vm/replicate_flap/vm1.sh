# A node of the replicate_flap test (vm1..vm3 are this one script): an R=3
# echo service whose connections close while one node is counted out for
# a moment and then heard again (a flap), round after round. However the
# flap falls, every replica's socket of a connection the client closed
# must close too: none may stay ESTABLISHED on a node.
tp_join_cluster "$(printf '5d%.0s' $(seq 32))"
TPTEST_NAME=replica tptest serve 85 echo &
tpctl service add 10.0.0.100:85 mode replicate replicas 3
tp_wait_full_member 30
tptest serve 90 stats &
tp_barrier ready

# open85: this node's sockets of port 85 connections not yet
# closed by both sides (ESTABLISHED, CLOSE_WAIT, LAST_ACK, FIN_WAIT*).
open85() {
	awk 'NR > 1 { split($2, l, ":"); if (l[2] == "0055" && $4 != "0A" && $4 != "06") n++ } END { print n + 0 }' \
		/proc/net/tcp
}
# As many rounds as the client's script runs.
ROUNDS=9
down=$(tp_stat member_down)
for round in $(seq $ROUNDS); do
	tp_barrier "closed$round"
	# The round's flap happened: the others counted the muted node out
	# (it, hearing them all along, counted nobody out).
	victim=$((round % 3 + 1))
	if [ "$TP_VM" != $victim ]; then
		now=$(tp_stat member_down)
		tp_expect "round $round: vm$victim counted out here as the connections closed (member_down $down, then $now)" \
			[ "$now" -gt "$down" ]
	fi
	i=0
	while [ "$(open85)" -gt 0 ] && [ $i -lt $((100 * TP_SLOW)) ]; do sleep 0.1; i=$((i + 1)); done
	left=$(open85)
	if [ "$left" -gt 0 ]; then
		tp_info "round $round: open sockets: $(awk 'NR > 1 && $4 != "0A" && $4 != "06"' /proc/net/tcp | tr -s ' ' | tr '\n' '|')"
		tp_info "round $round: conn show: $(tpctl conn show 2>&1 | tr -s ' ' | tr '\n' '|')"
	fi
	tp_expect_eq "round $round: port 85 sockets still open 10 s after the client closed" "$left" 0
	down=$(tp_stat member_down)
	tp_barrier "checked$round"
done
tp_info "vm$TP_VM: $(grep -E '^(replica_(drop_ack_unsent|ack_played|takeover|fenced|excluded|drop_untracked|drop_fenced)|member_down)' /proc/net/tpcluster | tr '\n' ' ')"
tp_barrier done

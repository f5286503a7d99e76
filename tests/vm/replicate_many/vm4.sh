# The client of the replicate_many test: 10,000 replicated echo
# connections (R=2) held through the VIP, a numbered line on each every
# minute (each echoed line checked), then vm3 power-cut with all of them
# open: about a third lose their primary (taken over by their other
# replica), a third their backup. Every connection must go on answering
# the next round, from one server (the replicas answer alike), with no
# reset on the hub (check.py). A third as many on the debug kernel.
N=${TP_SCALE_REPLICATED:-$((10000 / TP_SLOW))}
# 10,000 lines a minute: about 170 round trips a second, well within
# what the emulated guests sustain.
ROUND_MS=60000
# Under this load, right after the cut, a round trip took up to 10 s on
# four emulated guests sharing two cores; one the cluster lost never
# answers.
STALL_MS=$((45000 * TP_SLOW))
sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
# The client closes every connection at once at the end: room for all of
# them in FIN-WAIT-2 and TIME_WAIT (the guest's defaults, sized for its
# memory, are a few thousand; past them the stack forgets a closed socket
# and answers the server's FIN with a reset: 7,559 of them on the hub).
sysctl -qw net.ipv4.tcp_max_tw_buckets=65536 net.ipv4.tcp_max_orphans=65536
tp_wait_stats
tp_barrier ready
start=$(tp_uptime_ms)
TPTEST_STATUS_FILE=/tmp/hold.status TPTEST_STOP_FILE=/tmp/stop TPTEST_STALL_MS=$STALL_MS \
	tptest hold-many 10.0.0.100 83 $N $((900 * TP_SLOW)) $ROUND_MS > /tmp/held 2> /tmp/held.err &
hold=$!
tp_wait_established /tmp/hold.status $N $((300 * TP_SLOW))
tp_expect_eq "every connection established ($((($(tp_uptime_ms) - start) / 1000)) s)" \
	"$(tp_established /tmp/hold.status)" "$N"
# A round on every connection before the cut (the rounds begin once every
# connection is open).
sleep $((ROUND_MS / 1000 + 5))
entries=$(tp_stat_sum replica_entries "1 2 3")
tp_expect "every connection tracked by its two replicas ($entries entries)" [ "$entries" -ge $((2 * N)) ]
# Nobody counted out before the cut: a replica taken out of a set leaves
# its connections with one replica, which the cut may end.
tp_expect_eq "replicas taken out of a set before the cut" "$(tp_stat_sum replica_excluded "1 2 3")" 0
tp_barrier held
takeovers=$(tp_stat_sum replica_takeovers "1 2")
down=$(tp_stat_sum member_down "1 2")
tp_host kill 3
cut=$(tp_uptime_ms)
# A round more on every connection after the cut, then the hold ends.
sleep $((ROUND_MS / 1000 + 15))
touch /tmp/stop
wait $hold || true
tp_info "held: $(tr '\n' ' ' < /tmp/held) $(head -c 300 /tmp/held.err)"
tp_info "the last round ended $((($(tp_uptime_ms) - cut) / 1000)) s after the cut"
# (Each survivor counts vm3 down once; a survivor starved past the dead
# timeout right after the cut, when every third connection is taken over,
# is counted down by the other for a moment too: 5 in one run.)
downs=$(($(tp_stat_sum member_down "1 2") - down))
tp_expect "both survivors counted vm3 dead ($downs members counted down)" [ "$downs" -ge 2 ]
taken=$(($(tp_stat_sum replica_takeovers "1 2") - takeovers))
tp_expect "connections taken over from vm3 ($taken; about a third of $N)" [ "$taken" -ge $((N / 6)) ]
tp_expect "every connection kept answering across vm3's power cut, each line echoed intact, from one server" \
	grep -q "^replica connections=$N ok=$N failed=0 .* changed=0 " /tmp/held
tp_barrier done

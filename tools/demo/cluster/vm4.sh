# The client: each round, 5 pings to one node; the nodes' counters then show
# who received what.
tp_barrier loaded
for round in 1 2 3; do
	node=$round
	tp_info "round $round: 5 pings to node vm$node (10.0.0.$node)"
	ping -c 5 -i 0.2 -q 10.0.0.$node > /tmp/ping.log
	tp_expect "round $round: all 5 pings answered" grep -q "5 packets received" /tmp/ping.log
	for turn in 1 2 3; do
		tp_barrier "round$round-turn$turn"
	done
	tp_barrier "round$round-reported"
done

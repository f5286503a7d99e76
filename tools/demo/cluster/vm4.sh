# The client: each round, pings to one node; the
# nodes' counters show who received what.
tp_barrier loaded
for round in 1 2 3; do
	node=$round
	tp_info "round $round: client sends 5 pings to node vm$node (10.0.0.$node)"
	ping -c 5 -i 0.2 -q 10.0.0.$node > /tmp/ping.log
	tp_expect "round $round: all 5 pings answered" grep -q "5 packets received" /tmp/ping.log
	tp_barrier "round$round"
	tp_barrier "reported$round"
done

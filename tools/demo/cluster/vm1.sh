# A cluster node (vm1..vm3 are this one script): load tpcluster, then after
# each round of client traffic report the node's counters, in turn, so the
# screen reads in order.
insmod $TP_KO
tp_info "node $(hostname) at 10.0.0.$TP_VM: tpcluster loaded"
tp_barrier loaded
for round in 1 2 3; do
	for turn in 1 2 3; do
		tp_barrier "round$round-turn$turn"
		[ "$turn" = "$TP_VM" ] &&
			tp_info "after round $round: $(tpctl stats show | awk '{ printf "%s=%-6s ", $1, $2 }')"
	done
	tp_barrier "round$round-reported"
done
tp_pass "node $TP_VM reported its counters"

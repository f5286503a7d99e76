# A cluster node: load tpcluster, then report the node's counters after each
# round of client traffic.
insmod $TP_KO
tp_info "node $(hostname) at 10.0.0.$TP_VM: tpcluster loaded"
tp_barrier loaded
for round in 1 2 3; do
	tp_barrier "round$round"
	tp_info "round $round: $(tpctl stats show | awk '{ printf "%s=%s  ", $1, $2 }')"
	tp_barrier "reported$round"
done
tp_pass "node $TP_VM reported its counters"

# A server of the balance benchmark (vm1..vm3 are this one script). Each of
# BENCH_ROUNDS rounds (default 5) has three phases, so that baseline and
# subject alternate on the same VMs:
#  plain:   no module; vm1 serves on its own address.
#  solo:    tpcluster on vm1 alone, a cluster of one behind the VIP: the
#           cost of the hook and the channel on the serving node.
#  balance: tpcluster on all three behind the VIP: also what the other
#           nodes spend receiving (and dropping) every frame of the VIP.
# Port 90 tells this node's CPU time (and counters while loaded).
ROUNDS=${BENCH_ROUNDS:-5}
tptest serve 80 name &
tptest serve 82 stream $((100 * 1024 * 1024)) 7 &
tptest serve 90 stats &
key=$(printf '5a%.0s' $(seq 32))
tp_barrier servers
for r in $(seq $ROUNDS); do
	tp_barrier plain-$r
	tp_barrier plain-done-$r
	if [ $TP_VM = 1 ]; then
		TP_CLUSTER=1 tp_join_cluster $key 80 82
		tp_wait_full_member 30
	fi
	tp_barrier solo-$r
	tp_barrier solo-done-$r
	if [ $TP_VM = 1 ]; then
		tpctl peer add id 2 addr 10.0.0.2
		tpctl peer add id 3 addr 10.0.0.3
	else
		tp_join_cluster $key 80 82
	fi
	tp_wait_full_member 30
	tp_barrier cluster-$r
	tp_barrier balance-done-$r
	# Back to no module for the next round's baseline.
	tpctl vip del 10.0.0.100
	ip addr del 10.0.0.100/32 dev lo
	rmmod tpcluster
done
tp_barrier done
tp_pass "vm$TP_VM served"

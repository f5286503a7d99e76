# A server (vm1..vm3 are this one script), in three phases:
#  plain:   no module; vm1 serves on its own address.
#  solo:    tpcluster on vm1 alone, a cluster of one behind the VIP: the
#           cost of the hook and the channel on the serving node.
#  balance: tpcluster on all three behind the VIP: also what the other
#           nodes spend receiving (and dropping) every frame of the VIP.
tptest serve 80 name &
tptest serve 82 stream $((100 * 1024 * 1024)) 7 &
key=$(printf '5a%.0s' $(seq 32))
tp_barrier servers
tp_barrier plain-done
if [ $TP_VM = 1 ]; then
	TP_CLUSTER=1 tp_join_cluster $key 80 82
	tp_wait_full_member 30
fi
tp_barrier solo
tp_barrier solo-done
if [ $TP_VM = 1 ]; then
	tpctl peer add id 2 addr 10.0.0.2
	tpctl peer add id 3 addr 10.0.0.3
else
	tp_join_cluster $key 80 82
fi
tp_wait_full_member 30
tp_barrier cluster
tp_barrier balance-done
tp_pass "vm$TP_VM served"

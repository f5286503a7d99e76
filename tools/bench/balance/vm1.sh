# A server (vm1..vm3 are this one script). Phase "plain": no module, vm1
# serves on its own address. Phase "balance": tpcluster on every node, the
# same servers behind the VIP.
key=$(printf '5a%.0s' $(seq 32))
ip addr add 10.0.0.100/32 dev lo
echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore
echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce
tptest serve 80 name &
tptest serve 82 stream $((100 * 1024 * 1024)) 7 &
tp_barrier servers
tp_barrier plain-done
insmod $TP_KO
tpctl node set id $TP_VM addr 10.0.0.$TP_VM port 7000 key $key
for peer in 1 2 3; do
	[ $peer = $TP_VM ] || tpctl peer add id $peer addr 10.0.0.$peer
done
tpctl vip add 10.0.0.100 mac 01:00:5e:00:00:64 dev eth0
tpctl service add 10.0.0.100:80
tpctl service add 10.0.0.100:82
tp_wait_full_member 30
tp_barrier cluster
tp_barrier balance-done
tp_pass "vm$TP_VM served"

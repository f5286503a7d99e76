# A cluster node (vm1..vm3 are this one script). Each node has the VIP
# 10.0.0.100 on lo (arp_ignore keeps the kernel from answering ARP for it
# with the node's own MAC), tpcluster answers ARP with the cluster MAC, and
# serves three services: its name (80), a hash of what it receives (81), a
# 50 MiB stream (82).
key=$(printf '5a%.0s' $(seq 32))
mac=01:00:5e:00:00:64
insmod $TP_KO
ip addr add 10.0.0.100/32 dev lo
echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore
echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce
tpctl node set id $TP_VM addr 10.0.0.$TP_VM port 7000 key $key
for peer in 1 2 3; do
	[ $peer = $TP_VM ] || tpctl peer add id $peer addr 10.0.0.$peer
done
tpctl vip add 10.0.0.100 mac $mac dev eth0
for port in 80 81 82; do tpctl service add 10.0.0.100:$port; done
tp_expect "joined the cluster MAC" grep -q 01005e000064 /proc/net/dev_mcast
tptest serve 80 name &
tptest serve 81 hash &
tptest serve 82 stream $((50 * 1024 * 1024)) 9 &
sleep 0.3
tp_barrier ready
tp_barrier done
owned=$(tp_stat vip_owned)
dropped=$(tp_stat vip_drop_not_owner)
tp_info "vm$TP_VM: $(tpctl stats show | tr '\n' ' ')"
tp_expect "kept its share and dropped the others' ($owned kept, $dropped dropped)" [ "$owned" -gt 0 -a "$dropped" -gt 0 ]
tp_expect_eq "fragments and unconfigured drops" "$(tp_stat vip_drop_fragment) $(tp_stat vip_drop_unconfigured)" "0 0"
tpctl vip del 10.0.0.100
tp_expect "left the cluster MAC with the VIP" sh -c '! grep -q 01005e000064 /proc/net/dev_mcast'
tp_barrier reported
rmmod tpcluster

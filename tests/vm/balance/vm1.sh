# A cluster node (vm1..vm3 are this one script). Each node has the VIP
# 10.0.0.100 on lo (arp_ignore keeps the kernel from answering ARP for it
# with the node's own MAC), tpcluster answers ARP with the cluster MAC, and
# serves three services: its name (80), a hash of what it receives (81), a
# 50 MiB stream (82).
tp_join_cluster "$(printf '5a%.0s' $(seq 32))" 80 81 82
tp_expect "joined the cluster MAC" grep -q 01005e000064 /proc/net/dev_mcast
tptest serve 80 name &
tptest serve 81 hash &
tptest serve 82 stream $((50 * 1024 * 1024)) 9 &
tp_wait_full_member
tp_info "vm$TP_VM: $(tpctl cluster show | tr '\n' ' ')"
channel_drops() { awk '/^channel_drop_/ { n += $2 } END { print n + 0 }' /proc/net/tpcluster; }
# Heartbeats of peers not yet added are refused while the nodes configure
# themselves; from here on, nothing may be.
drops_before=$(channel_drops)
sleep 0.3
tp_barrier ready
tp_barrier done
owned=$(tp_stat vip_new_connections)
dropped=$(tp_stat vip_drop_not_owner)
tp_info "vm$TP_VM: $(tpctl stats show | tr '\n' ' ')"
tp_expect "kept its share and dropped the others' ($owned kept, $dropped dropped)" [ "$owned" -gt 0 -a "$dropped" -gt 0 ]
tp_expect_eq "fragments, unconfigured and not-member drops" \
	"$(tp_stat vip_drop_fragment) $(tp_stat vip_drop_unconfigured) $(tp_stat vip_drop_not_member)" "0 0 0"
tp_expect "later segments of the others' connections dropped ($(tp_stat vip_drop_not_held))" [ "$(tp_stat vip_drop_not_held)" -gt 0 ]
tp_expect_eq "channel datagrams refused once the cluster formed" "$(($(channel_drops) - drops_before))" "0"
tp_expect "heartbeats sent and received ($(tp_stat channel_tx) sent, $(tp_stat channel_rx_good) received)" \
	[ "$(tp_stat channel_rx_good)" -gt 0 -a "$(tp_stat channel_tx_errors)" = 0 ]
tpctl vip del 10.0.0.100
tp_expect "left the cluster MAC with the VIP" sh -c '! grep -q 01005e000064 /proc/net/dev_mcast'
tp_barrier reported
rmmod tpcluster

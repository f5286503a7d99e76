# A cluster node (vm1..vm3 are this one script). Each node has the VIP
# 10.0.0.100 on lo (arp_ignore keeps the kernel from answering ARP for it
# with the node's own MAC), tpcluster answers ARP with the cluster MAC, and
# serves four services: its name (80), a hash of what it receives (81), a
# 50 MiB stream (82), an echo of each line with its name (83).
tp_join_cluster "$(printf '5a%.0s' $(seq 32))" 80 81 82 83
tp_expect "joined the cluster MAC" grep -q 01005e000064 /proc/net/dev_mcast
tptest serve 80 name &
tptest serve 81 hash &
tptest serve 82 stream $((50 * 1024 * 1024)) 9 &
tptest serve 83 echo &
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
# ICMP errors about a connection reach the node that holds it: the client
# sends a "fragmentation needed" about each of its held connections.
unreachable() { awk '$1 == "Icmp:" { if (!h) { for (i = 2; i <= NF; i++) if ($i == "InDestUnreachs") c = i; h = 1 } else print $c }' /proc/net/snmp; }
tp_barrier icmp
before=$(unreachable)
# The client's connections to port 83 this node holds.
mine=$(awk 'NR > 1 && $2 == "6400000A:0053" && $4 == "01"' /proc/net/tcp | wc -l)
# Counted before the client sends the first one.
tp_barrier icmp-counted
tp_barrier icmp-sent
tp_expect_eq "ICMP errors received: one per held connection of this node ($mine), none of the others'" \
	"$(($(unreachable) - before))" "$mine"
# Under a SYN flood the stack answers with SYN cookies and keeps no state
# until the client's ACK: tcp_syncookies=2 sends them always. That ACK
# finds no socket on any node; the node whose cookie it acknowledges
# takes it, the others drop it.
echo 2 > /proc/sys/net/ipv4/tcp_syncookies
tp_barrier cookies
tp_barrier cookies-done
tp_info "vm$TP_VM: cookies sent $(tp_netstat SyncookiesSent), received $(tp_netstat SyncookiesRecv), failed $(tp_netstat SyncookiesFailed)"
tp_expect "connections completed from SYN cookies ($(tp_netstat SyncookiesRecv))" [ "$(tp_netstat SyncookiesRecv)" -gt 0 ]
tp_expect_eq "cookie ACKs that reached a node whose cookie it was not" "$(tp_netstat SyncookiesFailed)" 0
echo 1 > /proc/sys/net/ipv4/tcp_syncookies
tpctl vip del 10.0.0.100
tp_expect "left the cluster MAC with the VIP" sh -c '! grep -q 01005e000064 /proc/net/dev_mcast'
tp_barrier reported
rmmod tpcluster

# The client, unmodified programs only: it sees one address. 3000
# connections must each be answered by exactly one node, evenly; a ping
# answered once; 50 MiB each way intact.
tp_barrier ready
n=3000
out=$(tptest connect-many 10.0.0.100 80 $n)
tp_info "$(echo "$out" | tr '\n' ' ')"
tp_expect_eq "connections, and failed ones" "$(echo "$out" | head -n 1)" "connections=$n failed=0"
total=0
for vm in vm1 vm2 vm3; do
	c=$(echo "$out" | sed -n "s/^$vm=//p")
	c=${c:-0}
	total=$((total + c))
	# Within 15% of an even third.
	tp_expect "$vm served $c of $n" [ "$c" -ge $((n / 3 * 85 / 100)) -a "$c" -le $((n / 3 * 115 / 100)) ]
done
tp_expect_eq "every connection served by one of the nodes" "$total" "$n"
tp_expect_eq "the VIP's MAC as the client learnt it" \
	"$(ip neigh show 10.0.0.100 | sed -n 's/.*lladdr \([0-9a-f:]*\).*/\1/p')" "01:00:5e:00:00:64"
ping -c 10 -i 0.1 10.0.0.100 > /tmp/ping.log || true
tp_expect "10 pings to the VIP, 10 answers" grep -q "10 packets transmitted, 10 packets received" /tmp/ping.log
tp_expect "no duplicate answer" sh -c '! grep -q DUP /tmp/ping.log'
bytes=$((50 * 1024 * 1024))
up=$(tptest source 10.0.0.100 81 $bytes 5)
tp_expect_eq "50 MiB up: what the node received" "${up#* answer }" "$(tptest digest $bytes 5)"
tp_expect_eq "50 MiB down: what arrived" "$(tptest fetch 10.0.0.100 82)" "$(tptest digest $bytes 9)"
tp_barrier done
# 9 connections held to the echo service; an ICMP "fragmentation needed"
# about each (as a router on the path would send one) must reach the node
# that holds it, whatever the ICMP's own addresses hash to.
for i in $(seq 9); do
	(echo hi; sleep 30) | nc 10.0.0.100 83 > /tmp/nc$i 2>&1 &
done
sleep 2
tp_barrier icmp
tp_barrier icmp-counted
# The client ports of the established connections to 10.0.0.100:83.
sent=0
for p in $(awk 'NR > 1 && $3 == "6400000A:0053" && $4 == "01" { split($2, l, ":"); print l[2] }' /proc/net/tcp); do
	tptest icmp-frag-needed 10.0.0.100 10.0.0.100 83 10.0.0.4 $((0x$p)) > /dev/null
	sent=$((sent + 1))
done
tp_expect_eq "ICMP errors sent, one per held connection" "$sent" 9
sleep 1
tp_barrier icmp-sent
killall nc 2>/dev/null || true
# The nodes answer every SYN with a cookie now (tcp_syncookies=2).
tp_barrier cookies
n=300
out=$(tptest connect-many 10.0.0.100 80 $n)
tp_info "with SYN cookies: $(echo "$out" | tr '\n' ' ')"
tp_expect_eq "connections answered from SYN cookies, and failed ones" "$(echo "$out" | head -n 1)" "connections=$n failed=0"
for vm in vm1 vm2 vm3; do
	tp_expect "$vm served some of them" [ "$(echo "$out" | sed -n "s/^$vm=//p")" -gt 0 ]
done
tp_expect_eq "50 MiB down on a connection made from a SYN cookie" "$(tptest fetch 10.0.0.100 82)" "$(tptest digest $bytes 9)"
tp_barrier cookies-done
tp_barrier reported

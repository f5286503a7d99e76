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
tp_barrier reported

# The rogue: on the cluster's segment, not in the cluster. It captures
# genuine heartbeats between the nodes, then sends them back replayed,
# forged (one bit of the body flipped) and mangled (truncated, wrong magic)
# with the genuine senders' addresses; then kills vm3 and replays again.

# count OUTPUT ADDR: how many datagrams a tptest rogue line gave to ADDR.
count() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

tp_barrier ready
cap=$(tptest rogue capture eth0 7000 60 /tmp/cap)
tp_info "$cap"
tp_expect "captured heartbeats to every node" \
	[ -n "$(count "$cap" 10.0.0.1)" -a -n "$(count "$cap" 10.0.0.2)" -a -n "$(count "$cap" 10.0.0.3)" ]
tp_barrier captured
tp_barrier armed
for mode in replay forge short magic; do
	out=$(tptest rogue send eth0 7000 /tmp/cap $mode)
	tp_info "$out"
	tp_expect_eq "$mode: sent all" "${out%% *}" "$mode=60"
done
sleep 0.2
tp_barrier sent to1=$(count "$cap" 10.0.0.1) to2=$(count "$cap" 10.0.0.2) to3=$(count "$cap" 10.0.0.3)
tp_barrier checked
tp_host kill 3
tp_barrier dead
out=$(tptest rogue send eth0 7000 /tmp/cap replay)
tp_info "after vm3's death: $out"
sleep 0.2
tp_barrier replayed to1=$(count "$cap" 10.0.0.1) to2=$(count "$cap" 10.0.0.2)
tp_barrier done

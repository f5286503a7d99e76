# The rogue: on the cluster's segment, not in the cluster. It captures
# genuine heartbeats between the nodes, then sends them back replayed,
# forged (one bit of the body flipped) and mangled (truncated, wrong magic)
# with the genuine senders' addresses; then kills vm3 and replays again.

# count OUTPUT ADDR: how many datagrams a tptest rogue line gave to ADDR.
count() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# count0 OUTPUT ADDR: the same, 0 for none.
count0() { c=$(count "$1" "$2"); echo "${c:-0}"; }

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

# Progress datagrams between the replicas of two replicated connections,
# each sent to the third node.
tp_barrier service
tptest hold 10.0.0.100 85 2 6 200 > /tmp/held 2>&1 &
held=$!
sleep 2
pcap=$(tptest rogue capture eth0 7000 20 /tmp/progress 3)
tp_info "progress: $pcap"
wait $held || true
tp_barrier progress-captured
tp_barrier redirect-armed
out=$(tptest rogue send eth0 7000 /tmp/progress redirect)
tp_info "$out"
sleep 0.2
tp_barrier redirected to1=$(count0 "$out" 10.0.0.1) to2=$(count0 "$out" 10.0.0.2) to3=$(count0 "$out" 10.0.0.3)

# What vm2 and vm3 send vm1, replayed to it once it reloaded.
cap1=$(tptest rogue capture eth0 7000 30 /tmp/to1 0 10.0.0.1)
tp_info "to vm1: $cap1"
tp_barrier captured1
tp_barrier reloaded
tp_barrier counted1
out=$(tptest rogue send eth0 7000 /tmp/to1 replay)
tp_info "$out"
sleep 0.2
tp_barrier replayed1 to1=$(count0 "$out" 10.0.0.1)
tp_host kill 3
tp_barrier dead
out=$(tptest rogue send eth0 7000 /tmp/cap replay)
tp_info "after vm3's death: $out"
sleep 0.2
tp_barrier replayed to1=$(count "$cap" 10.0.0.1) to2=$(count "$cap" 10.0.0.2)
tp_barrier done

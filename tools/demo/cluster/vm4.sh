# The client: an unmodified program opening connections to one address,
# 10.0.0.100, served by whichever node owns each.
shares() {
	out=$(tptest connect-many 10.0.0.100 80 300)
	tp_info "$1: $(echo "$out" | tr '\n' ' ')"
	tp_expect_eq "$1: every connection answered" "$(echo "$out" | head -n 1)" "connections=300 failed=0"
}

tp_barrier formed
tp_info "act 1: 300 connections to 10.0.0.100:80, each answered with the name of the node that served it"
shares "act 1"
tp_barrier act1
tp_barrier act1-turn1
tp_barrier act1-turn2
tp_barrier act1-turn3
tp_info "act 2: 20 long-lived connections talk to the cluster while vm3 loses power"
tptest hold 10.0.0.100 83 20 8 > /tmp/hold &
hold=$!
sleep 2
tp_barrier held
tp_barrier killed
shares "act 2, vm3 dead: the survivors take its share"
wait $hold
tp_info "the long-lived connections, by server: $(tail -n +2 /tmp/hold | awk '{ printf "%s: %s %s %s; ", $1, $3, $4, $5 }')"
tp_info "(vm1's and vm2's kept answering; vm3's died with it: balance mode does not move a live connection, replicate mode will)"
tp_barrier act2
tp_barrier act2-turn1
tp_barrier act2-turn2
tp_barrier act2-turn3
tp_barrier done

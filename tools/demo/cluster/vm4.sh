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
tp_info "act 2: one keep-alive HTTP connection to 10.0.0.100:8080; each request's path names the node"
tp_info "that serves it, and the router that reads it hands the live connection there (splice)"
out=$(tptest http 10.0.0.100 8080 /n1/ /n2/ '/n3/bytes/1048576?seed=5' /n1/ /n3/ /n2/)
echo "$out" | while read -r line; do tp_info "    $line"; done
tp_expect_eq "act 2: all six requests answered on one connection" "$(echo "$out" | tail -n 1)" "responses=6 failed=0"
tp_expect_eq "act 2: the 1 MiB body from node 3, intact" \
	"$(echo "$out" | sed -n 's|^/n3/bytes/1048576?seed=5 ||p')" "served-by=3 $(tptest digest 1048576 5)"
tp_barrier splice
tp_barrier splice-turn1
tp_barrier splice-turn2
tp_barrier splice-turn3
tp_info "act 3: 20 long-lived connections talk to the cluster while vm3 loses power"
tptest hold 10.0.0.100 83 20 8 > /tmp/hold &
hold=$!
sleep 2
tp_barrier held
tp_barrier killed
shares "act 3, vm3 dead: the survivors take its share"
wait $hold
tp_info "the long-lived connections, by server: $(tail -n +2 /tmp/hold | awk '{ printf "%s: %s %s %s; ", $1, $3, $4, $5 }')"
tp_info "(vm1's and vm2's kept answering; vm3's died with it: balance mode does not move a live connection, replicate mode will)"
tp_barrier act3
tp_barrier act3-turn1
tp_barrier act3-turn2
tp_barrier act3-turn3
tp_barrier done

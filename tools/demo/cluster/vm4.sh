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
tp_info "act 2b: the same with Debian's nginx as the server: port 81 is a splice service with backend port"
tp_info "8081; the router on whichever node takes the connection hands it to nginx on 8081 of the node"
tp_info "the path names, its own included (curl, three requests, each on a new connection):"
for n in 1 2 3; do
	body=$(curl -s "http://10.0.0.100:81/n$n/")
	tp_info "    curl http://10.0.0.100:81/n$n/  ->  $body"
	tp_expect_eq "act 2b: /n$n/ answered by nginx on node $n" "$body" "hello from nginx on node $n"
done
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
tp_info "(vm1's and vm2's kept answering; vm3's died with it: balance mode does not move a live connection, replicate mode does: act 4)"
tp_barrier act3
tp_barrier act3-turn1
tp_barrier act3-turn2
tp_barrier act3-turn3

tp_info "act 4: vm3 boots again and rejoins. Then one download of 64 MiB from 10.0.0.100:85, a replicate"
tp_info "service (R=2): two nodes' stacks both run the connection, one sends. Mid-download that one loses power;"
tp_info "the other replica takes over in the client's sequence space and the download carries on"
tp_host restart 3
w=0
while ! tptest cat 10.0.0.3 90 > /dev/null 2>&1 && [ $w -lt 300 ]; do sleep 0.2; w=$((w + 1)); done
sleep 1
TPTEST_TIMELINE=/tmp/timeline tptest fetch 10.0.0.100 85 > /tmp/fetch &
pid=$!
w=0
while [ ! -s /tmp/timeline ] && [ $w -lt 100 ]; do sleep 0.1; w=$((w + 1)); done
victim=$(tp_sending_node)
if [ $victim = 0 ]; then tp_fail "act 4: no node sends the download"; fi
# The cut by bytes, not by time: at 40 % of the download, whatever its
# speed, so that the recovery is on screen.
w=0
while [ "$(tail -n 1 /tmp/timeline | cut -d' ' -f2)" -lt $((64 * 1024 * 1024 * 4 / 10)) ] &&
	kill -0 $pid 2>/dev/null && [ $w -lt 1500 ]; do
	sleep 0.02
	w=$((w + 1))
done
at=$(awk 'END { print $1 " ms, " $2 " bytes" }' /tmp/timeline)
t_kill=$(awk 'END { print $1 }' /tmp/timeline)
tp_host kill $victim
tp_info "act 4: vm$victim, the primary, power-cut at $at into the download"
wait $pid || true
gap=$(tp_longest_gap /tmp/timeline)
tp_info "act 4: download done in $(awk 'END { print $1 }' /tmp/timeline) ms; the longest the client waited for data: $gap ms"
tp_expect_eq "act 4: 64 MiB through the failover, intact" "$(cat /tmp/fetch)" "$(tptest digest $((64 * 1024 * 1024)) 9)"
for n in 1 2 3; do
	[ $n = $victim ] || tp_info "vm$n: $(tptest cat 10.0.0.$n 90 | grep -E '^replica_(out|suppressed|takeovers|excluded) ' | tr '\n' ' ')"
done
tp_timeline_data /tmp/timeline $t_kill
tp_barrier done

# The client of the splice test: unmodified HTTP clients (tptest http, a
# keep-alive client; busybox wget) against the one VIP. Every response must
# come from the node its path names, with exactly the bytes it should.

# expect_body OUT PATH NODE BYTES SEED: the response to PATH in OUT came
# from NODE with the BYTES bytes of the stream of SEED.
expect_body() {
	line=$(echo "$1" | grep -F "$2 " | head -n 1)
	tp_expect_eq "$3: $2" "${line#"$2 "}" "served-by=$4 $(tptest digest "$5" "$6")"
}

tp_barrier ready

# A chain of handovers on one keep-alive connection (A to B to C and back
# to A), with bodies of 0 B, 1 B, 1 KiB, 1 MiB and 100 MiB.
out=$(tptest http 10.0.0.100 80 /n1/ /n2/bytes/0 '/n3/bytes/1?seed=3' '/n1/bytes/1024?seed=4' \
	'/n2/bytes/1048576?seed=5' '/n3/bytes/104857600?seed=6' '/n1/bytes/1000?seed=7' /n2/)
tp_info "chain: $(echo "$out" | tr '\n' ' ')"
tp_expect_eq "chain: responses, failed" "$(echo "$out" | tail -n 1)" "responses=8 failed=0"
tp_expect_eq "chain: /n1/ served by node 1" "$(echo "$out" | sed -n 's|^/n1/ served-by=\([0-9]*\) .*|\1|p')" "1"
expect_body "$out" "/n2/bytes/0" chain 2 0 1
expect_body "$out" "/n3/bytes/1?seed=3" chain 3 1 3
expect_body "$out" "/n1/bytes/1024?seed=4" chain 1 1024 4
expect_body "$out" "/n2/bytes/1048576?seed=5" chain 2 1048576 5
expect_body "$out" "/n3/bytes/104857600?seed=6" chain 3 104857600 6
expect_body "$out" "/n1/bytes/1000?seed=7" chain 1 1000 7

# Pipelined: all three requests are written at once, so the later ones are
# in flight, or waiting unread, while the first handovers happen.
out=$(tptest http 10.0.0.100 80 --pipeline '/n2/bytes/1000?seed=8' '/n3/bytes/2000?seed=9' \
	'/n1/bytes/3000?seed=10' '/n2/bytes/4000?seed=11')
tp_info "pipelined: $(echo "$out" | tr '\n' ' ')"
expect_body "$out" "/n2/bytes/1000?seed=8" pipelined 2 1000 8
expect_body "$out" "/n3/bytes/2000?seed=9" pipelined 3 2000 9
expect_body "$out" "/n1/bytes/3000?seed=10" pipelined 1 3000 10
expect_body "$out" "/n2/bytes/4000?seed=11" pipelined 2 4000 11

# busybox wget, one request per connection.
for n in 1 2 3; do
	got=$(wget -q -O - "http://10.0.0.100/n$n/bytes/1048576?seed=2$n" | sha256sum | cut -d' ' -f1)
	tp_expect_eq "wget /n$n/bytes/1048576" "bytes=1048576 sha256=$got" "$(tptest digest 1048576 2$n)"
done

# A handover to a node that does not exist fails; the connection stays
# with its dispatcher and keeps working.
out=$(tptest http 10.0.0.100 80 /n9/ '/n2/bytes/5000?seed=12')
tp_info "unknown node: $(echo "$out" | tr '\n' ' ')"
tp_expect "unknown node: /n9/ answered by the dispatcher" \
	sh -c "echo '$out' | grep -q '^/n9/ served-by=[123] '"
expect_body "$out" "/n2/bytes/5000?seed=12" "unknown node, then" 2 5000 12

# A handover during a membership change fails too: the connection is on
# node 1 when node 1 drops node 3 from its peers, so that its view and its
# peers' differ; asked to move to node 2 then, it stays and keeps serving.
mkfifo /tmp/requests
# A client that stopped early must fail the checks below, not kill the script.
trap '' PIPE
tptest http 10.0.0.100 80 --stdin < /tmp/requests > /tmp/responses 2> /tmp/client.err &
client=$!
exec 5> /tmp/requests
# ask PATH N: sends PATH, waits for the N-th response.
ask() {
	echo "$1" >&5
	i=0
	while [ "$(wc -l < /tmp/responses)" -lt "$2" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
}
ask '/n1/bytes/10?seed=31' 1
tp_barrier reconfigure
tp_barrier reconfigured
ask '/n2/bytes/20?seed=32' 2
tp_barrier restore
tp_barrier restored
ask '/n2/bytes/30?seed=33' 3
exec 5>&-
wait $client
out=$(cat /tmp/responses)
tp_info "membership change: $(echo "$out" | tr '\n' ' ') $(cat /tmp/client.err)"
expect_body "$out" "/n1/bytes/10?seed=31" "before the change" 1 10 31
expect_body "$out" "/n2/bytes/20?seed=32" "during the change, the connection stays" 1 20 32
expect_body "$out" "/n2/bytes/30?seed=33" "after the change, it moves" 2 30 33

# 5% loss and reordering on every link of the hub.
for n in 1 2 3 4; do tp_host netem $n delay 2ms reorder 75% loss 5%; done
out=$(tptest http 10.0.0.100 80 '/n1/bytes/1048576?seed=13' '/n2/bytes/1048576?seed=14' \
	'/n3/bytes/1048576?seed=15' '/n1/bytes/1?seed=16' '/n2/bytes/0?seed=18' '/n3/bytes/1024?seed=19')
for n in 1 2 3 4; do tp_host netem-clear $n; done
tp_info "lossy: $(echo "$out" | tr '\n' ' ')"
expect_body "$out" "/n1/bytes/1048576?seed=13" lossy 1 1048576 13
expect_body "$out" "/n2/bytes/1048576?seed=14" lossy 2 1048576 14
expect_body "$out" "/n3/bytes/1048576?seed=15" lossy 3 1048576 15
expect_body "$out" "/n1/bytes/1?seed=16" lossy 1 1 16
expect_body "$out" "/n2/bytes/0?seed=18" lossy 2 0 18
expect_body "$out" "/n3/bytes/1024?seed=19" lossy 3 1024 19

tp_barrier done
tp_barrier cut
sleep $((2 * TP_SLOW))
tp_barrier dead
# Node 3 is dead: a handover to it is refused, and the connection works on.
out=$(tptest http 10.0.0.100 80 /n3/ '/n1/bytes/2000?seed=17' /n3/)
tp_info "dead node: $(echo "$out" | tr '\n' ' ')"
tp_expect "dead node: /n3/ answered by a live dispatcher" \
	sh -c "echo '$out' | grep -q '^/n3/ served-by=[12] '"
expect_body "$out" "/n1/bytes/2000?seed=17" "dead node, then" 1 2000 17
tp_barrier checked
tp_barrier reported

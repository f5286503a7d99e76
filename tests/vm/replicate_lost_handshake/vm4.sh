# The client of the replicate_lost_handshake test: transfers to a
# replicate service while a SYN flood makes its replicas forget every
# handshake not completed at once, and every segment of this client leaves
# 300 ms late. Each transfer's acknowledgment of the SYN-ACK finds no
# entry on its replicas, whose stacks (SYN cookies) kept nothing either:
# without the module playing the handshake again, the client would send
# into a black hole. Every transfer must be answered, byte-exact.
tp_wait_stats
tp_barrier ready

BYTES=65536
# transfer SEED: one transfer of BYTES, answered with its digest; says
# what came back.
transfer() {
	want=$(tptest digest $BYTES $1)
	got=$(timeout $((60 * TP_SLOW)) tptest source 10.0.0.100 82 $BYTES $1 2>&1) || got="$got (exit $?)"
	if [ "$got" = "$want answer $want" ]; then echo ok; else echo "$got"; fi
}
tp_expect_eq "a transfer before the flood" "$(transfer 1)" ok

node_counters() {
	for n in 1 2 3; do
		printf 'vm%s: %s %s; ' $n "$(tp_node_stat $n replica_half_open_evicted)" \
			"$(tp_node_stat $n replica_handshake_recovered)"
	done
}
# 50 SYNs a second from hosts that do not exist: each takes the one
# half-open entry of the replicas it maps to, a few times in the 300 ms
# that this client's acknowledgment is late.
tp_host netem 4 delay 300ms
tptest syn-flood 1000000 10.0.0.100 82 50 > /dev/null 2>&1 &
flood=$!
sleep 2
ok=0
for seed in 2 3 4 5; do
	got=$(transfer $seed)
	if [ "$got" = ok ]; then ok=$((ok + 1)); else tp_info "transfer $seed: $got"; fi
done
kill $flood
tp_host netem-clear 4
recovered=0
evicted=0
no_options=0
for n in 1 2 3; do
	recovered=$((recovered + $(tp_node_stat $n replica_handshake_recovered)))
	evicted=$((evicted + $(tp_node_stat $n replica_half_open_evicted)))
	no_options=$((no_options + $(tp_node_stat $n replica_handshake_no_options)))
done
tp_info "evicted, recovered: $(node_counters)"
tp_expect_eq "transfers whose handshake the replicas had forgotten, answered byte-exact" "$ok" 4
tp_expect "handshakes played again on their replicas ($recovered), their entries forgotten ($evicted)" \
	[ "$recovered" -ge 4 -a "$evicted" -ge 4 ]
# The replicas remembered the client's SYN options (MSS, window scale,
# SACK) and offered them again; a flood SYN that took a slot since makes
# one fall back to the safe options now and then (4,096 slots, 50 SYNs a
# second): most must not.
tp_expect "handshakes played again with the client's own SYN options: $((recovered - no_options)) of $recovered" \
	[ $((2 * no_options)) -le "$recovered" ]
tp_expect_eq "a transfer after the flood" "$(transfer 6)" ok
tp_barrier done

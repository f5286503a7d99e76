# The client of the replicate test under a lossy cluster channel: every
# node's egress loses 10% of its packets, duplicates 10% and reorders a
# quarter (netem; the test kernel has no classifier to single out the
# channel's UDP port, so the primary's segments to the client suffer too,
# which TCP repairs). Progress reports and heartbeats are datagrams: the
# replicas must still agree on every byte, and the transfers still finish.
# Uploads (ports 81 R=2, 82 R=3: the primary sends the client only
# acknowledgments) and requests (port 84) carry the bulk; a download of
# 8 MiB (port 86, R=3) shows the other direction (TCP over a 10% lossy
# path is slow, whatever the cluster does).
BYTES=$((100 * 1024 * 1024))
WANT_DOWN=$(tptest digest $((8 * 1024 * 1024)) 7)
WANT_UP=$(tptest digest $BYTES 9)

# wait_node N: until node N answers on its counters port (it does once a
# full member), at most 180 s.
wait_node() {
	w=0
	while ! tptest cat 10.0.0.$1 90 > /dev/null 2>&1 && [ $w -lt 900 ]; do sleep 0.2; w=$((w + 1)); done
}
# run WHAT WANT COMMAND...: runs a transfer, at most 300 s (900 s on the debug kernel).
run() {
	what=$1 want=$2
	shift 2
	"$@" > /tmp/transfer 2>&1 &
	pid=$!
	j=0
	while kill -0 $pid 2>/dev/null && [ $j -lt $((300 * TP_SLOW)) ]; do sleep 1; j=$((j + 1)); done
	kill $pid 2>/dev/null || true
	wait $pid || true
	tp_info "$what: $j s"
	got=$(cat /tmp/transfer)
	case $what in requests*) tp_info "$what: $got"; got=$(echo "$got" | cut -d' ' -f1-2) ;; esac
	tp_expect_eq "lossy channel, $what" "$got" "$want"
}

for n in 1 2 3; do wait_node $n; done
sleep 2
for n in 1 2 3; do
	tp_host netem $n loss 10% duplicate 10% delay 4ms reorder 25%
done
run "to port 81 (R=2)" "$WANT_UP answer $WANT_UP" tptest source 10.0.0.100 81 $BYTES 9
run "to port 82 (R=3)" "$WANT_UP answer $WANT_UP" tptest source 10.0.0.100 82 $BYTES 9
run "requests on port 84 (R=2)" "requests=200 ok=200" tptest rr 10.0.0.100 84 200 20000
run "from port 86 (R=3)" "$WANT_DOWN" tptest fetch 10.0.0.100 86
for n in 1 2 3; do
	tp_info "vm$n: $(tptest cat 10.0.0.$n 90 | grep -E '^(replica_(progress|takeovers|excluded|fenced)|channel_rx_good|channel_drop_replay)' | tr '\n' ' ')"
	tp_host netem-clear $n
done
tp_barrier done
tp_barrier reported

# The client of the replicate_listeners test: unmodified programs (tptest
# hold, busybox wget and nc) through the VIP, then to each node directly
# once the module is gone.
tp_wait_stats
tp_barrier ready

# ok_total FILE: connections of `tptest hold` that answered to the end.
ok_total() {
	sed -n 's/.* ok=\([0-9]*\) .*/\1/p' "$1" | awk '{ s += $1 } END { print s + 0 }'
}

tptest hold 10.0.0.100 85 12 $((10 * TP_SLOW)) 200 > /tmp/h85 2>&1 &
held=$!
sleep $((4 * TP_SLOW))
tp_barrier held85
tp_barrier counted85
# A forged SYN on each held connection's ports, with another sequence
# number, as an attacker on the segment sends it: every replica's stack
# answers with a challenge ACK (RFC 5961) and the connections go on.
forged=0
for p in $(awk 'NR > 1 && $3 == "6400000A:0055" && $4 == "01" { split($2, l, ":"); print l[2] }' /proc/net/tcp); do
	tptest tcp-syn 10.0.0.4 $((0x$p)) 10.0.0.100 85 $((0x$p * 7919)) > /dev/null
	forged=$((forged + 1))
done
tp_expect_eq "forged SYNs sent, one per held connection" "$forged" 12
wait $held || true
tp_info "85: $(tr '\n' ' ' < /tmp/h85)"
tp_expect_eq "connections to the reuseport group that answered to the end, forged SYNs or not" "$(ok_total /tmp/h85)" 12

tptest hold 10.0.0.100 86 6 $((8 * TP_SLOW)) 200 > /tmp/h86 2>&1 &
held=$!
sleep $((4 * TP_SLOW))
tp_barrier held86
tp_barrier counted86
wait $held || true
tp_info "86: $(tr '\n' ' ' < /tmp/h86)"
tp_expect_eq "connections to the dual-stack group that answered to the end" "$(ok_total /tmp/h86)" 6

want=$(seq 1 200000 | sha256sum | cut -d' ' -f1)
for i in 1 2; do
	rm -f /tmp/file
	timeout 30 wget -q -O /tmp/file http://10.0.0.100:8080/file || true
	tp_expect_eq "busybox wget of a file from busybox httpd ([::]:8080) through the VIP, SHA-256 ($i)" \
		"$(sha256sum < /tmp/file | cut -d' ' -f1)" "$want"
done
tp_barrier fetched

tp_barrier unloaded
for n in 1 2 3; do
	tp_expect_eq "vm$n's reuseport listener, once ungated and unloaded, answers" \
		"$(echo hello | timeout 10 nc -w 3 10.0.0.$n 85 2>&1)" "replica hello"
	rm -f /tmp/file
	timeout 30 wget -q -O /tmp/file http://10.0.0.$n:8080/file || true
	tp_expect_eq "vm$n's httpd, once ungated and unloaded, serves the file" \
		"$(sha256sum < /tmp/file | cut -d' ' -f1)" "$want"
done
tp_barrier direct

# A node of the splice test (vm1..vm3 are this one script): the VIP's port
# 80 is a splice service served by tprouter, which hands each request's
# connection to the node its path names (/nK/ to node K; /n9/ to a node
# that does not exist).
tp_leaks_clear
tp_join_cluster "$(printf '5b%.0s' $(seq 32))"
tpctl service add 10.0.0.100:80 mode splice
tprouter --node $TP_VM --listen 10.0.0.100:80 \
	--route /n1/=1 --route /n2/=2 --route /n3/=3 --route /n9/=9 2> /tmp/router.log &
router=$!
tp_wait_full_member
if [ "$TP_VM" = 2 ]; then
	# Bad requests: a clear refusal each, nothing else happens.
	tp_expect "a connection that does not exist: refused" \
		sh -c "tpctl conn handover 10.0.0.4:9 10.0.0.100:80 to 1 2>&1 | grep -q 'no established connection'"
	tp_expect "cookie 0: refused" sh -c "tpctl conn handover cookie 0 to 1 2>&1 | grep -q 'cookie 0 names no socket'"
	tp_expect "a cookie no socket has: refused" \
		sh -c "tpctl conn handover cookie 123456789 to 1 2>&1 | grep -q 'no established connection'"
	tp_expect "without CAP_NET_ADMIN: refused" \
		sh -c "tptest run-as 65534 /bin/tpctl conn handover 10.0.0.4:9 10.0.0.100:80 to 1 2>&1 | grep -q 'not permitted'"
	tp_expect_eq "handovers failed and made by the refused requests" \
		"$(tp_stat handover_failed) $(tp_stat handover_out)" "0 0"
fi
tp_barrier ready
tp_barrier reconfigure
if [ "$TP_VM" = 1 ]; then
	tpctl peer del id 3
	i=0
	while tpctl -j node show | grep -q '"full_member":true' && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	tp_expect "node 1 without node 3 is no full member (views differ)" \
		sh -c "tpctl -j node show | grep -q '\"full_member\":false'"
fi
tp_barrier reconfigured
tp_barrier restore
if [ "$TP_VM" = 1 ]; then
	tpctl peer add id 3 addr 10.0.0.3
	tp_wait_full_member
	tp_expect "the membership change refused a handover with a reason" grep -q "membership is changing" /tmp/router.log
fi
tp_barrier restored
tp_barrier done
tp_info "vm$TP_VM: $(grep -E '^(handover|splice)_' /proc/net/tpcluster | tr '\n' ' ')"
tp_info "vm$TP_VM router: $(tail -n 40 /tmp/router.log | tr '\n' ';')"
tp_expect "handed connections away ($(tp_stat handover_out)) and took some ($(tp_stat handover_in))" \
	[ "$(tp_stat handover_out)" -gt 0 -a "$(tp_stat handover_in)" -gt 0 ]
tp_expect "rewrote segments both ways ($(tp_stat splice_rewritten_in) in, $(tp_stat splice_rewritten_out) out)" \
	[ "$(tp_stat splice_rewritten_in)" -gt 0 -a "$(tp_stat splice_rewritten_out)" -gt 0 ]
tp_expect_eq "segments it could not rewrite" "$(tp_stat splice_drop_unwritable)" "0"
if [ "$TP_VM" = 3 ]; then
	tp_barrier cut
	# Node 3 leaves the segment; the others see it die.
	ip link set eth0 down
	tp_barrier dead
else
	tp_barrier cut
	tp_barrier dead
fi
tp_barrier checked
if [ "$TP_VM" != 3 ]; then
	tp_info "vm$TP_VM router after node 3 died: $(grep -c 'node is dead' /tmp/router.log) handovers refused"
fi
# Unloading after connections were handed over and in leaves nothing
# behind (kmemleak, on the debug kernel).
kill $router
rmmod tpcluster
tp_expect "module unloaded after the handovers" sh -c '! lsmod | grep -q "^tpcluster "'
tp_expect_no_leaks "after the handovers"
tp_barrier reported

# A node of the splice test (vm1..vm3 are this one script): the VIP's port
# 80 is a splice service served by tprouter, which hands each request's
# connection to the node its path names (/nK/ to node K; /n9/ to a node
# that does not exist).
tp_join_cluster "$(printf '5b%.0s' $(seq 32))"
tpctl service add 10.0.0.100:80 mode splice
tprouter --node $TP_VM --listen 10.0.0.100:80 \
	--route /n1/=1 --route /n2/=2 --route /n3/=3 --route /n9/=9 2> /tmp/router.log &
tp_wait_full_member
tp_barrier ready
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
tp_barrier reported

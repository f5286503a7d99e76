# A server (vm1..vm3 are this one script). The same application serves both
# set-ups: tprouter, serving every path itself on the node's own address
# (port 9000, HAProxy's back-ends), and routing by path on the VIP (port
# 8080, a splice service: DTS). vm1 also runs HAProxy (Debian's), in http
# mode, switching on the same path prefixes to the same back-ends.
tp_join_cluster "$(printf '5c%.0s' $(seq 32))"
tpctl service add 10.0.0.100:8080 mode splice
tprouter --node $TP_VM --listen 10.0.0.100:8080 --route /n1/=1 --route /n2/=2 --route /n3/=3 2> /dev/null &
tprouter --node $TP_VM --listen 10.0.0.$TP_VM:9000 2> /dev/null &
if [ $TP_VM = 1 ]; then
	tp_start_haproxy 8081 9000
fi
tp_wait_full_member 30
tptest serve 90 stats &
tp_barrier ready
tp_barrier done
if [ $TP_VM = 1 ]; then
	tp_info "vm1: $(grep -E '^(handover_out|handover_in|handover_failed) ' /proc/net/tpcluster | tr '\n' ' ')"
fi
tp_pass "vm$TP_VM served"

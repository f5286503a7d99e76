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
	cat > /tmp/haproxy.cfg <<'CFG'
global
	maxconn 1000
	nbthread 1
defaults
	mode http
	option http-keep-alive
	timeout connect 5s
	timeout client 60s
	timeout server 60s
frontend paths
	bind 10.0.0.1:8081
	use_backend n2 if { path_beg /n2/ }
	use_backend n3 if { path_beg /n3/ }
	default_backend n1
backend n1
	server n1 10.0.0.1:9000
backend n2
	server n2 10.0.0.2:9000
backend n3
	server n3 10.0.0.3:9000
CFG
	haproxy -f /tmp/haproxy.cfg -db 2> /tmp/haproxy.log &
	sleep 1
	kill -0 $! 2>/dev/null || tp_fail "HAProxy did not start: $(cat /tmp/haproxy.log)"
fi
tp_wait_full_member 30
tptest serve 90 stats &
tp_barrier ready
tp_barrier done
if [ $TP_VM = 1 ]; then
	tp_info "vm1: $(grep -E '^(handover_out|handover_in|handover_failed) ' /proc/net/tpcluster | tr '\n' ' ')"
fi
tp_pass "vm$TP_VM served"

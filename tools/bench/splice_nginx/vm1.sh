# A server of the splice_nginx benchmark (vm1..vm3 are this one script):
# Debian's nginx, unmodified, on port 8080 of every node, serving that
# node's files (/nK/1k, /nK/1m). DTS: the VIP's port 80 is a splice
# service with backend port 8080, tprouter --backend on it hands every
# connection to the nginx of the node its path names (the router's own
# node included) and relays no byte. The baseline: HAProxy (Debian's, http
# mode) on vm1, switching on the same path prefixes to the same nginx
# servers, relaying every byte.
tp_join_cluster "$(printf '5e%.0s' $(seq 32))"
tpctl service add 10.0.0.100:80 mode splice backend-port 8080
mkdir -p /tmp/www/n$TP_VM
head -c 1024 /dev/urandom > /tmp/www/n$TP_VM/1k
head -c 1048576 /dev/urandom > /tmp/www/n$TP_VM/1m
tp_start_nginx 8080 /tmp/www || tp_fail "nginx did not start: $(cat /tmp/nginx/error.log)"
tprouter --node $TP_VM --listen 10.0.0.100:80 --backend \
	--route /n1/=1 --route /n2/=2 --route /n3/=3 2> /tmp/router.log &
if [ $TP_VM = 1 ]; then
	tp_start_haproxy 8081 8080
fi
tp_wait_full_member 30
tptest serve 90 stats &
tp_barrier ready
tp_barrier done
tp_info "vm$TP_VM: $(grep -E '^(handover_out|handover_in|handover_failed|splice_drop_unwritable) ' /proc/net/tpcluster | tr '\n' ' ')"
tp_pass "vm$TP_VM served"

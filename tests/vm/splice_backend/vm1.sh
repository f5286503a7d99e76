# A node of the splice_backend test (vm1..vm3 are this one script): the
# VIP's port 80 is a splice service with backend port 8080. tprouter
# listens on port 80 and hands every request's connection to the node its
# path names (/nK/ to node K, itself included); a stock server that knows
# nothing of the cluster serves it on port 8080 there: Debian's nginx on
# node 2, busybox httpd on nodes 1 and 3. Each node's server has only its
# own /nK/ files, so a response from the wrong node is a 404. Node 3 has no
# server on 8080 at first. Nodes 1 and 2 serve a 100 MiB file too.
tp_leaks_clear
# No node dies here: timers for four emulated guests busy with 100 MiB
# transfers and ApacheBench, so that a starved guest is not counted dead
# (a handover to a node counted dead is refused: a 502). The debug kernel
# starves them longer (2.5 s seen under ab's 16 transfers of 4.3 MB).
TP_KO="$TP_KO heartbeat_ms=100 dead_ms=$((2000 * TP_SLOW))"
tp_join_cluster "$(printf '5d%.0s' $(seq 32))"
tpctl service add 10.0.0.100:80 mode splice backend-port 8080
tp_expect "service show names the backend port" \
	sh -c "tpctl service show | grep -q 'port 80  mode splice .*backend-port 8080'"
tp_expect "service show -j names the backend port" \
	sh -c "tpctl -j service show | grep -q '\"backend_port\":8080'"
tp_expect "a backend port for a balance service: refused with the reason" \
	sh -c "tpctl service add 10.0.0.100:81 backend-port 8081 2>&1 | grep -q 'only for splice services'"
tp_expect "a backend port that is another service's port: refused" \
	sh -c "tpctl service add 10.0.0.100:8080 2>&1 | grep -q \"another service's backend port\""
tp_expect_eq "the refused service-adds left no service behind" "$(tpctl service show | grep -c .)" 1
www=/tmp/www/n$TP_VM
mkdir -p $www
: > $www/empty
printf '%s' "$TP_VM" > $www/one
echo "node $TP_VM" > $www/small
seq 1 400000 | sed "s/^/n$TP_VM /" > $www/big
# 100 MiB behind nginx (node 2) and busybox httpd (node 1); the client
# learns its SHA-256 at the first barrier.
huge=
if [ "$TP_VM" != 3 ]; then
	dd if=/dev/urandom of=$www/huge bs=1M count=100 2> /dev/null
	huge="huge$TP_VM=$(sha256sum < $www/huge | cut -d' ' -f1)"
fi
# start_server: this node's stock server on port 8080.
start_server() {
	if [ "$TP_VM" = 2 ]; then
		tp_expect "nginx starts on port 8080" tp_start_nginx 8080 /tmp/www
	else
		httpd -p 8080 -h /tmp/www
	fi
}
if [ "$TP_VM" != 3 ]; then
	start_server
fi
tprouter --node $TP_VM --listen 10.0.0.100:80 --backend \
	--route /n1/=1 --route /n2/=2 --route /n3/=3 2> /tmp/router.log &
router=$!
tp_wait_full_member
tp_barrier ready $huge
tp_barrier refused
if [ "$TP_VM" = 3 ]; then
	start_server
fi
tp_barrier serving
tp_barrier done
tp_info "vm$TP_VM: $(grep -E '^(handover|splice)_' /proc/net/tpcluster | tr '\n' ' ')"
tp_info "vm$TP_VM router: $(tail -n 8 /tmp/router.log | tr '\n' ';')"
# Handed to this node's own backend: the connection moved from the
# router's socket on port 80 to httpd's on 8080 inside the node.
self=$(grep -c "node $TP_VM .* handed to node $TP_VM " /tmp/router.log)
tp_expect "connections handed to this node's own backend ($self)" [ "$self" -gt 0 ]
tp_expect "connections handed in ($(tp_stat handover_in)) and out ($(tp_stat handover_out))" \
	[ "$(tp_stat handover_in)" -gt 0 -a "$(tp_stat handover_out)" -gt 0 ]
tp_expect_eq "segments it could not rewrite" "$(tp_stat splice_drop_unwritable)" "0"
if [ "$TP_VM" = 2 ]; then
	tp_info "vm2 nginx errors: $(grep -v 'open() .* failed' /tmp/nginx/error.log | tail -n 5 | tr '\n' ';')"
fi
kill $router
tpctl service del 10.0.0.100:80
rmmod tpcluster
tp_expect "module unloaded after the handovers" sh -c '! lsmod | grep -q "^tpcluster "'
tp_expect_no_leaks "after the handovers"
tp_barrier reported

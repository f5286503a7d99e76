# A cluster node (vm1..vm3 are this one script): tpcluster behind the VIP
# 10.0.0.100, in balance mode on ports 80 and 83, splice mode on 8080,
# where tprouter hands each request's connection to the node its path
# names (/nK/ to node K), splice mode on 81 with backend port 8081, where
# tprouter hands it to Debian's nginx on that node, and replicate mode
# (R=2) on 85, which streams 64 MiB. The nodes report in turn, so the screen reads in order; vm1 also
# speaks for the cluster and, in act 3, power-cuts vm3. In act 4 the client
# boots vm3 again: it rejoins and serves, then waits for the end.
tp_join_cluster "$(printf '5a%.0s' $(seq 32))" 80 83
tpctl service add 10.0.0.100:8080 mode splice
tptest serve 80 name &
tptest serve 83 echo &
tptest serve 85 stream $((64 * 1024 * 1024)) 9 &
tpctl service add 10.0.0.100:85 mode replicate replicas 2
if [ "$TP_BOOT" -gt 1 ]; then
	tp_wait_full_member 60
	tptest serve 90 stats &
	tp_info "vm$TP_VM (boot $TP_BOOT) is back: $(tpctl cluster show | tr '\n' ' ')"
	tp_barrier done
	exit 0
fi
tptest serve 90 stats &
tprouter --node $TP_VM --listen 10.0.0.100:8080 --route /n1/=1 --route /n2/=2 --route /n3/=3 \
	2> /tmp/router.log &
# nginx, unmodified, on port 8081 of every node, behind the router on 81.
tpctl service add 10.0.0.100:81 mode splice backend-port 8081
mkdir -p /tmp/www/n$TP_VM
echo "hello from nginx on node $TP_VM" > /tmp/www/n$TP_VM/index.html
tp_start_nginx 8081 /tmp/www
tprouter --node $TP_VM --listen 10.0.0.100:81 --backend --route /n1/=1 --route /n2/=2 --route /n3/=3 \
	2> /tmp/router81.log &
tp_wait_full_member 30

# report WHAT: each node in turn prints its share of new connections.
report() {
	for turn in 1 2 3; do
		tp_barrier "$1-turn$turn"
		if [ "$turn" = "$TP_VM" ]; then
			tp_info "vm$TP_VM: $(tpctl stats show | awk '$1 ~ /^(vip_new_connections|vip_drop_not_owner|vip_drop_not_held|channel_rx_good)$/ { printf "%s=%s  ", $1, $2 }')"
		fi
	done
}

# show_cluster TITLE: tpctl cluster show, a line each.
show_cluster() {
	tp_info "$1 (tpctl cluster show):"
	tpctl cluster show | while read -r line; do tp_info "    $line"; done
}

if [ $TP_VM = 1 ]; then show_cluster "the cluster as vm1 sees it"; fi
tp_barrier formed
tp_barrier act1
report act1
tp_barrier splice
for turn in 1 2 3; do
	tp_barrier "splice-turn$turn"
	if [ "$turn" = "$TP_VM" ]; then
		tp_info "vm$TP_VM's router:"
		while read -r line; do tp_info "    $line"; done < /tmp/router.log
		tp_info "vm$TP_VM: $(tpctl stats show | awk '$1 ~ /^(handover_out|handover_in|splice_rewritten_in|splice_rewritten_out)$/ { printf "%s=%s  ", $1, $2 }')"
	fi
done
tp_barrier held
case $TP_VM in
1)
	shown=$(tp_kill_watched 3 /tmp/down)
	silent=$(sed -n 's/.*last_heard_ms *\([0-9]*\).*/\1/p' /tmp/down)
	tp_info "vm3 power-cut: vm1 declared it dead $silent ms after its last heartbeat (tpctl monitor, $shown ms after the cut in these emulated guests): $(cat /tmp/down)"
	show_cluster "the cluster as vm1 sees it now"
	;;
3) tp_barrier killed ;;
esac
tp_barrier killed
tp_barrier act3
report act3
tp_barrier done
tp_pass "node $TP_VM served its share"

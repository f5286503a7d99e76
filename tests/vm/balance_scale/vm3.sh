# A node of the balance_scale test (vm1..vm3 are this one script): one
# balance service on port 84 served by an echo server that holds every
# connection in one thread (`tptest serve 84 echo-poll`). The client holds
# tens of thousands of connections through the VIP; vm1 power-cuts vm3 in
# the middle. The module tracks no balanced connection: this is the hash's
# and the hook's test at scale, and of the survivors' stacks keeping every
# connection they own when the membership changes.
# Timers for four emulated guests on two cores busy with the connections:
# a starved guest must not be counted dead (this test is about who keeps
# which connection, not about detection delay).
TP_KO="$TP_KO heartbeat_ms=100 dead_ms=2000"
tp_join_cluster "$(printf '7e%.0s' $(seq 32))" 84
sysctl -qw net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=4096
TPTEST_STATUS_FILE=/tmp/echo.status TPTEST_BACKLOG=4096 tptest serve 84 echo-poll &
tp_wait_full_member 30
tp_barrier ready
tp_barrier held
# The connections the echo server holds, as it says in its status file
# (reading tens of thousands of sockets from /proc, or with `tpctl conn
# show`, takes an emulated guest many seconds).
established() {
	sed -n 's/^connections=//p' /tmp/echo.status 2> /dev/null
}
tp_barrier counted conns$TP_VM=$(established)
case $TP_VM in
3)
	# Power-cut while it waits here.
	tp_barrier dead
	;;
1)
	tp_host kill 3
	;;
esac
# vm3_dead: this node's membership says node 3 is dead.
vm3_dead() {
	tpctl -j cluster show | grep -q '"id":3,"addr":"10.0.0.3","state":"dead"'
}
i=0
while ! vm3_dead && [ $i -lt 300 ]; do
	sleep 0.2
	i=$((i + 1))
done
tp_expect "vm$TP_VM sees vm3 dead" vm3_dead
tp_expect "vm$TP_VM is a full member without vm3" tp_wait_full_member 30
tp_barrier dead
tp_barrier done
tp_info "vm$TP_VM: $(established) established; $(tpctl stats show | grep -E '^(vip_|member_|heartbeat_late)' | tr -s ' ' | tr '\n' ' ')"
tp_barrier reported

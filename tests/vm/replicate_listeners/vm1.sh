# A node of the replicate_listeners test (vm1..vm3 are this one script):
# replicate services behind the listener shapes real servers use, and
# the module's references while listeners and connections carry its
# socket gate, until they all give it back and the module unloads.
# Every service is R=3, so each node holds every connection:
#   85    tptest echo, 4 IPv4 wildcard listeners in one SO_REUSEPORT group
#   86    tptest echo, 3 dual-stack listeners on [::] in one group
#   8080  busybox httpd -p 8080: one dual-stack listener on [::]
# /sys/module/tpcluster/refcnt counts one reference per gated listener
# and one per socket (TIME_WAIT included) that still points at the gate.
tp_join_cluster "$(printf '5c%.0s' $(seq 32))"
# No node dies in this test: relaxed timers keep a guest that its neighbours
# starve for 200 ms from counting a peer out and in again. This test is
# about listeners and references; connections that close across such a
# flap are replicate_flap's.
tpctl node set heartbeat 100 dead 1000
refcnt() { cat /sys/module/tpcluster/refcnt; }
# wait_refcnt WANT SECONDS: until the references are WANT, at most SECONDS.
wait_refcnt() {
	i=0
	while [ "$(refcnt)" != "$1" ] && [ $i -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
}
mkdir -p /tmp/www
seq 1 200000 > /tmp/www/file
# Replicas must write the same bytes (the module checks that they do): the
# echo servers name no node.
TPTEST_NAME=replica TPTEST_REUSEPORT=4 tptest serve 85 echo &
TPTEST_NAME=replica TPTEST_LISTEN=:: TPTEST_REUSEPORT=3 tptest serve 86 echo &
srv86=$!
httpd -p 8080 -h /tmp/www
sleep 0.5
# /proc/net/tcp6: [::]:8080 listening (state 0A).
tp_expect "busybox httpd listens dual-stack on [::]:8080" \
	grep -q '00000000000000000000000000000000:1F90 .* 0A ' /proc/net/tcp6
for port in 85 86 8080; do
	tpctl service add 10.0.0.100:$port mode replicate replicas 3
done
tp_wait_full_member 30
tptest serve 90 stats &
tp_expect_eq "module references before any connection" "$(refcnt)" 0
tp_barrier ready

# 12 connections held to the reuseport group of 4: whichever member the
# stack picked for each, the member and the connection carry the gate.
tp_barrier held85
tp_expect_eq "module references while 12 connections to a reuseport group of 4 are held (4 + 12)" \
	"$(refcnt)" 16
tp_barrier counted85

# 6 held to the dual-stack group of 3 (IPv4 clients of IPv6 sockets).
tp_barrier held86
r=$(refcnt)
tp_expect "module references while 6 connections to a dual-stack group of 3 are held: $r, at least 4 + 3 + 6" \
	[ "$r" -ge 13 ]
tp_barrier counted86

# The client fetched a file from busybox httpd through the VIP.
tp_barrier fetched
for c in replica_drop_no_listener replica_drop_foreign_listener replica_drop_listeners_full; do
	tp_expect_eq "SYNs dropped, $c" "$(tp_stat $c)" 0
done

# Giving the gate back. An application that closes its listeners: they
# are released. First the 86 connections' own sockets must be gone (a
# replica's may take seconds to close), so that only the listeners move.
sockets86() {
	awk 'NR > 1 { split($2, l, ":"); if (l[2] == "0056" && $4 != "0A") n++ } END { print n + 0 }' \
		/proc/net/tcp /proc/net/tcp6
}
i=0
while [ "$(sockets86)" -gt 0 ] && [ $i -lt $((300 * TP_SLOW)) ]; do sleep 0.1; i=$((i + 1)); done
tp_expect_eq "sockets of the 86 connections left" "$(sockets86)" 0
before=$(refcnt)
kill $srv86
wait_refcnt $((before - 3)) 2
tp_expect_eq "module references after the 86 server closed its 3 listeners" "$(refcnt)" $((before - 3))
# A listener still gated, or a socket that points at the gate, keeps the
# module loaded.
tp_expect "rmmod refused while gated listeners remain" sh -c '! rmmod tpcluster 2>/dev/null'
tp_expect "module still loaded" grep -q '^tpcluster ' /proc/modules
# service del gives the 85 group TCP's proto back, vip del the httpd one.
tpctl service del 10.0.0.100:85
tpctl vip del 10.0.0.100
# What is left is the connections' sockets: httpd closes first, so its
# side of each fetch waits in TIME_WAIT for 60 s.
wait_refcnt 0 $((75 * TP_SLOW))
if [ "$(refcnt)" != 0 ]; then
	tp_info "sockets left: $(awk 'NR > 1 && $4 != "0A"' /proc/net/tcp /proc/net/tcp6 | tr -s ' ' | tr '\n' '|')"
	tp_info "conn show: $(tpctl conn show 2>&1 | tr -s ' ' | tr '\n' '|')"
fi
tp_info "vm$TP_VM: $(grep -E '^replica_(drop_ack_unsent|ack_played|handshake_played|drop_untracked)' /proc/net/tpcluster | tr '\n' ' ')"
tp_expect_eq "module references once the sockets of past connections are gone" "$(refcnt)" 0
tp_expect "rmmod" rmmod tpcluster
tp_barrier unloaded
# The client connects to the listeners that had the gate, directly: each
# must clone its connection from TCP's proto, not from the unloaded one.
tp_barrier direct
tp_info "vm$TP_VM: $(dmesg | grep -c tpcluster) tpcluster lines in the log"

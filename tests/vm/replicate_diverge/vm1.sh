# A node of the replicate_diverge test (vm1..vm3 are this one script):
# busybox httpd behind an R=3 replicate service, serving a page whose every
# line names the node, as a page that shows its host does. The replicas'
# applications write different bytes: each connection's replicas must find
# that out and the backups leave its set before any of them could take
# over and serve the client another page.
tp_join_cluster "$(printf '5d%.0s' $(seq 32))"
# No node dies here: relaxed timers keep starved guests from counting
# each other out (see replicate_listeners).
tpctl node set heartbeat 100 dead 1000
mkdir -p /tmp/www
# The same length and time on every node: the same headers but the date.
seq 1 20000 | sed "s/\$/ served by node $TP_VM/" > /tmp/www/page
touch -d '2026-01-01 00:00:00' /tmp/www/page
httpd -p 8080 -h /tmp/www
tpctl service add 10.0.0.100:8080 mode replicate replicas 3
tp_wait_full_member 30
tptest serve 90 stats &
# Every finding is also an event on the monitor group.
tpctl monitor > /tmp/monitor &
monitor=$!
tp_barrier ready

# Quick fetches, then slow ones under way: each node drains in turn. A
# draining primary hands its connections to their next replica still in
# the set; every backup left, having served another page, so there is
# none, and the connection stays where it is.
tp_barrier started
for n in 1 2 3; do
	if [ $n = "$TP_VM" ]; then
		tpctl node drain
		sleep 1.5
		tpctl node undrain
	fi
	tp_barrier drained$n
done
tp_barrier fetched
tp_info "vm$TP_VM: $(grep -E '^replica_(diverged|stepped_down|fenced|excluded|connections) ' /proc/net/tpcluster | tr '\n' ' ')"
tp_expect_eq "connections this node handed to another replica while draining" \
	"$(tp_stat replica_stepped_down)" 0
kill $monitor
tp_expect_eq "replica-diverged events on the monitor group, one per finding" \
	"$(grep -c '^event replica-diverged .* service 10.0.0.100:8080 ' /tmp/monitor)" \
	"$(tp_stat replica_diverged)"
logged=$(dmesg | grep -c 'differs from this node' || true)
tp_expect "findings logged with their connection (rate-limited: 10 per 5 s): $logged" \
	[ "$logged" -ge 1 -o "$(tp_stat replica_diverged)" = 0 ]
tp_barrier done

# The attacker and the client of the replicate_forged test: forged
# segments from raw sockets (tptest tcp-raw, tptest inject), as anyone on
# the segment can send them, and a real connection around them.
tp_wait_stats
tp_barrier ready

# SYNs from 10.0.0.77:4001..4004, then an ACK on each whose number is
# spread over the sequence space: whatever the cluster's ISN, some are
# beyond anything sent and some before it.
i=0
for ack in 1 1073741824 2147483648 3221225472; do
	i=$((i + 1))
	tptest tcp-raw 10.0.0.77 $((4000 + i)) 10.0.0.100 82 1000 0 2 > /dev/null
done
sleep 0.5
i=0
for ack in 1 1073741824 2147483648 3221225472; do
	i=$((i + 1))
	tptest tcp-raw 10.0.0.77 $((4000 + i)) 10.0.0.100 82 1001 $ack 16 > /dev/null
done
tp_barrier forged_acks
tp_barrier handshakes_checked

want=$(tptest digest 65536 11)
tp_expect_eq "the server's answer on the attacked connection: the hash of the real stream" \
	"$(tptest inject 10.0.0.100 82 65536 11 2>&1)" "$want"
tp_barrier injected
dropped=0
for n in 1 2 3; do
	c=$(tptest cat 10.0.0.$n 90 | awk '$1 == "replica_drop_ack_unsent" { print $2 }')
	dropped=$((dropped + ${c:-0}))
done
tp_expect "the backups dropped the forged segments ($dropped), at least the injected one each" \
	[ "$dropped" -ge 2 ]
tp_barrier reported

# Connections held across the echo service's delete on every node: each
# keeps answering, from the one server it had, with no stall or reset.
tp_barrier echo_service
sleep 1
TPTEST_STALL_MS=$((5000 * TP_SLOW)) tptest hold 10.0.0.100 83 12 $((10 * TP_SLOW)) 100 > /tmp/held 2>&1 &
held=$!
sleep $((3 * TP_SLOW))
tp_barrier holding
tp_barrier deleted
wait $held || true
tp_info "held across the delete: $(tr '\n' ' ' < /tmp/held)"
tp_expect "12 connections kept answering across the delete, none failed" \
	grep -q '^replica connections=12 ok=12 failed=0 .* changed=0 ' /tmp/held
# New connections to the port are balanced ones now, served by one node.
tptest hold 10.0.0.100 83 4 2 100 > /tmp/after 2>&1 || true
tp_info "new connections after the delete: $(tr '\n' ' ' < /tmp/after)"
tp_expect "new connections after the delete answered" grep -q '^replica connections=4 ok=4 failed=0 ' /tmp/after
tp_barrier held

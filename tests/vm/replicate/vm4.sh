# The client of the replicate test: unmodified tptest, one connection per
# transfer, every replica up, each way: to ports 81 (R=2) and 82 (R=3),
# whose servers answer the SHA-256 of what they read, and from ports 80
# (R=2) and 83 (R=3).
BYTES=$((100 * 1024 * 1024))
WANT=$(tptest digest $BYTES 7)
tp_wait_stats
sleep 3

# watch PID WHAT: waits for the transfer PID, at most 100 s (300 s on the debug kernel); on time out
# shows every node's replica counters and kills it.
watch() {
	i=0
	while kill -0 $1 2>/dev/null && [ $i -lt $((100 * TP_SLOW)) ]; do sleep 1; i=$((i + 1)); done
	if kill -0 $1 2>/dev/null; then
		for n in 1 2 3; do
			tp_info "$2 stuck: vm$n: $(tptest cat 10.0.0.$n 90 2>/dev/null | grep -E '^(replica|channel_rx_good|vip_drop|splice_drop)' | tr '\n' ' ')"
		done
		kill $1
	fi
	wait $1 || true
}

# A node tracks at most `replica_conns` replicated connections, 8 here. 8
# echo connections held open on the R=3 service (port 85) fill every
# node's table; one more is never answered: every replica's stack answers
# its SYN and every replica drops that SYN-ACK, as it cannot track the
# connection (an answer outside the replicas' sequence space would compete
# with theirs). The 8 keep answering meanwhile. First, while the table is
# empty.
# total NAME: counter NAME summed over the nodes.
total() {
	sum=0
	for n in 1 2 3; do sum=$((sum + $(tp_node_stat $n $1))); done
	echo $sum
}
untracked=$(total replica_drop_untracked)
full=$(total replica_table_full)
tptest hold 10.0.0.100 85 8 $((15 * TP_SLOW)) 200 > /tmp/held 2>&1 &
held=$!
sleep $((4 * TP_SLOW))
if echo one-too-many | timeout 10 nc -w 4 10.0.0.100 85 > /tmp/extra 2>&1; then
	extra="answered: $(cat /tmp/extra)"
else
	extra=unanswered
fi
tp_expect_eq "a 9th connection while 8 fill the table" "$extra" unanswered
now_untracked=$(total replica_drop_untracked)
now_full=$(total replica_table_full)
tp_expect "every replica dropped its SYN-ACK: table full $full -> $now_full, untracked segments dropped $untracked -> $now_untracked" \
	[ $((now_full - full)) -ge 3 -a $((now_untracked - untracked)) -ge 3 ]
wait $held || true
tp_info "held: $(tr '\n' ' ' < /tmp/held)"
tp_expect_eq "the 8 held connections kept answering" \
	"$(sed -n 's/.* ok=\([0-9]*\) .*/\1/p' /tmp/held | awk '{ ok += $1 } END { print ok + 0 }')" 8
# Their entries go 5 s after their sockets.
sleep $((7 * TP_SLOW))

# The client's handshake ACK lost at one replica: the hub drops it on its
# way to vm1. A backup's stack would stay in SYN-RECV (its SYN-ACK
# retransmissions are held back, so the client never acknowledges again)
# and the primary's writes, which wait for every backup, would wait a
# minute, until that stack gives up. Its replica plays the acknowledgment
# the others saw to its stack at the stack's first retransmission. vm1 is
# a backup of a connection to the R=3 service two times in three (as
# primary, its retransmission reaches the client, which answers): fetches
# of 8 MiB from port 86 until vm1 has played one, at most 6.
WANT86=$(tptest digest $((8 * 1024 * 1024)) 7)
played=0
tries=0
while [ $played -eq 0 -a $tries -lt 6 ]; do
	tries=$((tries + 1))
	before=$(tp_node_stat 1 replica_handshake_played)
	rm -f /tmp/timeline86
	tp_host drop-acks 1 86
	TPTEST_TIMELINE=/tmp/timeline86 tptest fetch 10.0.0.100 86 > /tmp/transfer86 2>&1 &
	pid=$!
	sleep 0.5
	tp_host drop-acks-clear 1
	watch $pid "port 86, try $tries"
	played=$(($(tp_node_stat 1 replica_handshake_played) - before))
	first=$(head -n 1 /tmp/timeline86 2>/dev/null | cut -d' ' -f1)
	tp_expect_eq "handshake ACK lost at vm1, try $tries (vm1 played it $played times): bytes and SHA-256" \
		"$(cat /tmp/transfer86)" "$WANT86"
	tp_expect "handshake ACK lost at vm1, try $tries: first byte after ${first:-?} ms (not a minute)" \
		[ "${first:-999999}" -lt $((10000 * TP_SLOW)) ]
done
tp_expect "vm1 as a backup had the lost handshake ACK played ($tries tries)" [ $played -ge 1 ]

WANT_UP=$(tptest digest $BYTES 9)
for port in 81 82; do
	tptest source 10.0.0.100 $port $BYTES 9 > /tmp/transfer.up 2>&1 &
	watch $! "port $port"
	tp_expect_eq "port $port, all replicas up: bytes and SHA-256" "$(cat /tmp/transfer.up)" "$WANT_UP answer $WANT_UP"
done
for port in 80 83; do
	tptest fetch 10.0.0.100 $port > /tmp/transfer.up 2>&1 &
	watch $! "port $port"
	tp_expect_eq "port $port, all replicas up: bytes and SHA-256" "$(cat /tmp/transfer.up)" "$WANT"
done
# A backup blind for half a second: the hub drops everything to and from
# it while the client uploads 32 MiB to the R=3 service, within the dead
# timeout (1 s here), so nobody is counted out. The primary holds its
# acknowledgment back to what that backup has, and the client, which hears
# of no SACK beyond it, must get the bytes it lacks to it at the pace of
# any loss recovery. It did not: the acknowledgment of each
# retransmission echoed the TSval of an older segment (the primary's stack
# had the bytes, and took the retransmission for a duplicate), the client
# took its timeout for spurious and undid its recovery, and sent one
# segment per timeout, with backoff (`replica::echo_at_least`). Four
# trials in five stalled that way.
BLINK_BYTES=$((32 * 1024 * 1024))
WANT_BLINK=$(tptest digest $BLINK_BYTES 11)
for trial in 1 2 3; do
	TPTEST_TIMELINE=/tmp/timeline tptest source 10.0.0.100 82 $BLINK_BYTES 11 > /tmp/transfer.blink 2>&1 &
	pid=$!
	sleep 1
	sender=$(tp_sending_node)
	blind=1
	[ "$sender" = 1 ] && blind=2
	tp_host link-down $blind
	sleep 0.5
	tp_host link-up $blind
	watch $pid "port 82, vm$blind blind"
	tp_expect_eq "port 82, a backup (vm$blind) blind for 0.5 s, trial $trial: bytes and SHA-256 (application's longest wait $(tp_longest_gap /tmp/timeline) ms)" \
		"$(cat /tmp/transfer.blink)" "$WANT_BLINK answer $WANT_BLINK"
done

# Each connection had one primary, which sent, and one (R=2) or two (R=3)
# backups, whose stacks' output was held back.
senders=0
backups=0
for n in 1 2 3; do
	o=$(tp_node_stat $n replica_out)
	s=$(tp_node_stat $n replica_suppressed)
	[ "$o" -gt 0 ] && senders=$((senders + 1))
	[ "$s" -gt 0 ] && backups=$((backups + 1))
	tp_info "vm$n: replica_out=$o suppressed=$s clamped=$(tp_node_stat $n replica_ack_clamped)"
done
tp_expect "primaries sent ($senders nodes) and at least two nodes held a backup's output back ($backups)" \
	[ $senders -ge 1 -a $backups -ge 2 ]
# Every replica's application (tptest) wrote the same bytes: no node found
# any replica's output different from its own, over 100 MiB each way, in
# segments of every size and through retransmissions.
tp_expect_eq "replicas whose output was found different from another's (no false alarm)" \
	"$(total replica_diverged)" 0

tp_barrier done
tp_barrier reported

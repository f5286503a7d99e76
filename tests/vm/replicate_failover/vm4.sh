# The client of the replicate failover test: unmodified tptest, one
# connection per trial. In each trial one replica of the connection is
# power-cut at a random point of it, and the connection must go on with no
# byte lost, none duplicated and no reset (check.py reads the capture).
#  - TRIALS per direction with the primary cut: downloads and uploads of
#    $BYTES alternate, R=2 and R=3: ports 80 (from the service, R=2), 81
#    (to it, R=2), 83 (from, R=3), 82 (to, R=3). The next replica takes
#    over.
#  - Two request/response trials (port 84, R=2): the primary is cut while
#    requests go on, each sent in two halves 20 ms apart.
#  - Two trials with a backup cut (ports 80 and 82): the primary goes on.
#  - Two partitions (ports 80 and 82): the primary's link is cut for 3 s
#    instead; the majority takes over, and the cut-off primary, fenced,
#    never sends on the connection again once its link is back.
#  - Two one-way cuts (ports 83 and 81): for 3 s nothing the primary sends
#    reaches the other nodes, while it still hears them and still reaches
#    the client. The majority takes over; the primary must fall silent
#    before the new one speaks (check.py: no replica emits again after
#    another took over), and it is fenced.
# Between trials the cut node boots again (or its link comes back) and
# rejoins.
BYTES=$((100 * 1024 * 1024))
TRIALS=10
WANT_DOWN=$(tptest digest $BYTES 7)
WANT_UP=$(tptest digest $BYTES 9)
REQUESTS=300

# wait_node N: until node N answers on its counters port (it does once a
# full member), at most 180 s.
wait_node() {
	w=0
	while ! tptest cat 10.0.0.$1 90 > /dev/null 2>&1 && [ $w -lt 900 ]; do sleep 0.2; w=$((w + 1)); done
}
# replica_of primary|backup: the node that sends on the running connection
# (its replica_out moves), or one whose stack's output is held back (its
# replica_suppressed moves) and that does not send.
replica_of() {
	for n in 1 2 3; do eval "o$n=$(tp_node_stat $n replica_out) s$n=$(tp_node_stat $n replica_suppressed)"; done
	sleep 0.3
	found=0
	for n in 1 2 3; do
		eval "do=\$(($(tp_node_stat $n replica_out) - o$n)) ds=\$(($(tp_node_stat $n replica_suppressed) - s$n))"
		case $1 in
		primary) [ $do -gt 0 ] && found=$n ;;
		backup) [ $do -eq 0 -a $ds -gt 0 ] && found=$n ;;
		esac
	done
	echo $found
}

# trial N PORT ROLE [partition|oneway]: transfer N on PORT, its ROLE
# replica cut in the middle: power cut, or with `partition` its link cut
# for 3 s, or with `oneway` what it sends to the other nodes dropped for
# 3 s.
trial() {
	rm -f /tmp/timeline
	case $2 in
	80 | 83) TPTEST_TIMELINE=/tmp/timeline tptest fetch 10.0.0.100 $2 > /tmp/transfer 2>&1 &
		want=$WANT_DOWN way="from port $2" ;;
	81 | 82) TPTEST_TIMELINE=/tmp/timeline tptest source 10.0.0.100 $2 $BYTES 9 > /tmp/transfer 2>&1 &
		want="$WANT_UP answer $WANT_UP" way="to port $2" ;;
	84) TPTEST_TIMELINE=/tmp/timeline tptest rr 10.0.0.100 84 $REQUESTS 20000 20 > /tmp/transfer 2>&1 &
		want="requests=$REQUESTS ok=$REQUESTS" way="requests on port 84" ;;
	esac
	pid=$!
	# Once it moves (a node that just rejoined may make the SYN wait for a
	# retransmission), a random point of it: 0.3 s to 2.3 s in.
	w=0
	while [ ! -s /tmp/timeline ] && [ $w -lt 100 ]; do sleep 0.1; w=$((w + 1)); done
	sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.2f", 0.3 + (r % 2000) / 1000 }')"
	victim=$(replica_of $3)
	running=no
	kill -0 $pid 2>/dev/null && running=yes
	fenced_before=$(tp_node_stat $victim replica_fenced)
	if [ $victim -eq 0 ]; then
		:
	elif [ "${4:-}" = partition ]; then
		tp_host link-down $victim
		sleep 3
		tp_host link-up $victim
	elif [ "${4:-}" = oneway ]; then
		others=$(for n in 1 2 3; do [ $n = $victim ] || printf '10.0.0.%s ' $n; done)
		tp_host mute $victim $others
		sleep 3
		tp_host unmute $victim $others
	else
		tp_host restart $victim
	fi
	at=$(tail -n 1 /tmp/timeline 2>/dev/null | cut -d' ' -f2)
	j=0
	while kill -0 $pid 2>/dev/null && [ $j -lt $((120 * TP_SLOW)) ]; do sleep 1; j=$((j + 1)); done
	if kill -0 $pid 2>/dev/null; then
		for n in 1 2 3; do
			tp_info "trial $1 stuck: vm$n: $(tptest cat 10.0.0.$n 90 2>/dev/null | grep -E '^(replica|channel_rx_good)' | tr '\n' ' ')"
		done
		kill $pid
	fi
	wait $pid || true
	tp_expect "trial $1 ($way): $3 vm$victim ${4:-power}-cut mid-transfer (at ${at:-?} bytes)" \
		[ $victim -ne 0 -a $running = yes ]
	got=$(cat /tmp/transfer)
	[ $2 = 84 ] && got=$(echo "$got" | cut -d' ' -f1-2) && tp_info "trial $1: $(cat /tmp/transfer)"
	tp_expect_eq "trial $1 ($way): bytes and SHA-256 (application's longest wait $(tp_longest_gap /tmp/timeline) ms)" \
		"$got" "$want"
	if [ -n "${4:-}" ]; then
		sleep 2
		fenced=$(($(tp_node_stat $victim replica_fenced) - fenced_before))
		tp_expect "trial $1: the cut-off primary vm$victim fenced its connection ($fenced)" [ "$fenced" -ge 1 ]
	fi
	[ $victim -ne 0 ] && wait_node $victim
	sleep 1
}

for n in 1 2 3; do wait_node $n; done
sleep 2
i=0
while [ $i -lt $((2 * TRIALS)) ]; do
	port=$(echo "80 81 83 82" | cut -d' ' -f$((i % 4 + 1)))
	i=$((i + 1))
	trial $i $port primary
done
trial $((i + 1)) 84 primary
trial $((i + 2)) 84 primary
trial $((i + 3)) 80 backup
trial $((i + 4)) 82 backup
trial $((i + 5)) 80 primary partition
trial $((i + 6)) 82 primary partition
trial $((i + 7)) 83 primary oneway
trial $((i + 8)) 81 primary oneway

tp_barrier done
tp_barrier reported

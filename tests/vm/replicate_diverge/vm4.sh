# The client of the replicate_diverge test: curl through the VIP to busybox
# httpd on an R=3 replicate service whose page differs on every node.
# Whatever the replicas do, the client must get one node's page whole,
# never a mix; and the nodes must have found every backup's output
# different from its primary's.
tp_wait_stats
tp_barrier ready
pages=""
for n in 1 2 3; do
	pages="$pages $(seq 1 20000 | sed "s/\$/ served by node $n/" | sha256sum | cut -d' ' -f1)"
done
# expect_page WHAT FILE: FILE is one node's page, whole.
expect_page() {
	got=$(sha256sum < "$2" | cut -d' ' -f1)
	n=0
	for p in $pages; do
		n=$((n + 1))
		if [ "$p" = "$got" ]; then
			tp_pass "$1: node $n's page, whole"
			return
		fi
	done
	tp_fail "$1: no node's page: $(wc -c < "$2") bytes, lines from $(sed 's/.* //' "$2" | uniq -c | tr -s ' \n' ' ')"
}
total() {
	sum=0
	for n in 1 2 3; do sum=$((sum + $(tp_node_stat $n $1))); done
	echo $sum
}

QUICK=6
for i in $(seq $QUICK); do
	rm -f /tmp/quick
	timeout 30 curl -s -o /tmp/quick http://10.0.0.100:8080/page || true
	expect_page "quick fetch $i through the VIP" /tmp/quick
done

# Slow fetches (about 15 s each) while every node drains in turn.
SLOW=3
for i in $(seq $SLOW); do
	timeout $((60 * TP_SLOW)) curl -s --limit-rate 30k -o /tmp/slow$i http://10.0.0.100:8080/page &
done
sleep 2
tp_barrier started
for n in 1 2 3; do tp_barrier drained$n; done
wait || true
for i in $(seq $SLOW); do
	expect_page "slow fetch $i, every node drained during it" /tmp/slow$i
done

# Each connection's two backups wrote another page than its primary: each
# pair was found out at least once, by the primary or by the backup.
sleep 2
diverged=$(total replica_diverged)
tp_expect "replicas found to differ from their primary: $diverged, at least 2 for each of $((QUICK + SLOW)) connections" \
	[ "$diverged" -ge $((2 * (QUICK + SLOW))) ]
tp_barrier fetched
tp_barrier done

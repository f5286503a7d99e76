# A node of the replicate tests (vm1..vm3 are this one script, also after
# a power cut; replicate_failover runs it too).
# Services, all replicate: port 80 (R=2) and 83 (R=3) stream the same
# $BYTES from seed 7 to each client; 81 (R=2) and 82 (R=3) read what the
# client sends and answer its SHA-256; 84 (R=2) answers requests
# (`tptest rr`); 85 (R=3) echoes lines (`tptest hold`); 86 (R=3) streams
# 8 MiB. Port 90 on the node's own address
# tells its counters, once the node is a full member.
BYTES=$((100 * 1024 * 1024))
# The replicate test checks that with every replica up only the primary
# sends: no node may be counted out. Under emulation a busy guest's
# heartbeats go out 100-200 ms late now and then (its heartbeat_late
# counter, printed below), so there the dead timeout is 1 s; the failover
# test runs the defaults (and counts such a false death as one more
# takeover, which must be as clean as the others).
# It also fills the table of replicated connections, made small for that.
if [ "$TP_TEST" = replicate ]; then
	TP_KO="$TP_KO replica_conns=8"
	[ "$TP_KERNEL" = debug ] || TP_KO="$TP_KO dead_ms=1000"
fi
tp_join_cluster "$(printf '5c%.0s' $(seq 32))"
tptest serve 80 stream $BYTES 7 &
tptest serve 83 stream $BYTES 7 &
tptest serve 81 hash &
tptest serve 82 hash &
tptest serve 84 rr &
# Replicas must write the same bytes (the module checks that they do): the
# echo names no node.
TPTEST_NAME=replica tptest serve 85 echo &
tptest serve 86 stream $((8 * 1024 * 1024)) 7 &
sleep 0.3
tpctl service add 10.0.0.100:80 mode replicate replicas 2
tpctl service add 10.0.0.100:83 mode replicate replicas 3
tpctl service add 10.0.0.100:81 mode replicate replicas 2
tpctl service add 10.0.0.100:82 mode replicate replicas 3
tpctl service add 10.0.0.100:84 mode replicate replicas 2
tpctl service add 10.0.0.100:85 mode replicate replicas 3
tpctl service add 10.0.0.100:86 mode replicate replicas 3
tp_wait_full_member 30
tptest serve 90 stats &
# In the replicate test, what `tpctl conn show` says of the replicated
# connections, twice a second.
if [ "$TP_TEST" = replicate ]; then
	while :; do tpctl conn show >> /tmp/conns 2>&1 || true; sleep 0.5; done &
	sampler=$!
fi
tp_barrier done
if [ "$TP_TEST" = replicate ]; then
	kill $sampler 2>/dev/null || true
	# A connection of the R=3 service on port 83: every node is in its
	# set, which conn show lists with each replica's role and offsets.
	rcv='rcv=[0-9]+ snd=[0-9]+\)'
	row=$(grep -E "10\.0\.0\.100:83 .*replicate (primary|backup) +set [0-9]\(primary $rcv [0-9]\(backup $rcv [0-9]\(backup $rcv" /tmp/conns | tail -n 1)
	tp_info "conn show: $row"
	role=$(echo "$row" | sed -n 's/.*replicate \([a-z]*\) .*/\1/p')
	tp_expect "tpctl conn show lists an R=3 connection, its set with roles and offsets, this node a ${role:-?} in it" \
		grep -q " $TP_VM(${role:-none} " <<-EOF
		$row
		EOF
	# Every transfer is over: every replica's socket of it has closed
	# (TIME_WAIT at most), a backup's too, though the client acknowledged
	# the primary's FIN before that backup's stack had sent its own (the
	# backup plays the acknowledgment to its stack). /proc/net/tcp: the
	# local port in hex, 0x50-0x56 (80-86); states 0A LISTEN, 06
	# TIME_WAIT, and 03 SYN-RECV: the ninth connection of the full table
	# stage, never answered, waits there for a minute.
	closing() {
		awk 'NR > 1 { split($2, l, ":"); if (l[2] ~ /^005[0-6]$/ && $4 !~ /^(0A|06|03)$/) n++ } END { print n + 0 }' /proc/net/tcp
	}
	i=0
	while [ "$(closing)" -gt 0 ] && [ $i -lt $((10 * TP_SLOW)) ]; do sleep 0.5; i=$((i + 1)); done
	tp_info "sockets of the services at the end: $(awk 'NR > 1 { split($2, l, ":"); if (l[2] ~ /^005[0-6]$/) s[$4]++ } END { for (k in s) printf "%s:%d ", k, s[k] }' /proc/net/tcp)(ack played $(tp_stat replica_ack_played))"
	if [ "$(closing)" -gt 0 ]; then
		tp_info "still closing: $(awk 'NR > 1 { split($2, l, ":"); if (l[2] ~ /^005[0-6]$/ && $4 !~ /^(0A|06|03)$/) print }' /proc/net/tcp | tr -s ' ' | tr '\n' '|')"
		tp_info "conn show: $(tpctl conn show 2>&1 | grep replicate | tr -s ' ' | tr '\n' '|')"
	fi
	tp_expect_eq "sockets of the finished connections still closing, 5 s after the last" "$(closing)" 0
	# Honest clients acknowledge only what the primary sent, and the
	# primary sends only what every backup has: no backup drops any of
	# their segments as acknowledging unsent data (RFC 5961 5.2).
	tp_expect_eq "client segments a backup dropped as acknowledging unsent data" \
		"$(tp_stat replica_drop_ack_unsent)" 0
fi
tp_info "vm$TP_VM (boot $TP_BOOT): $(grep -E '^(replica|channel_rx_good|channel_tx |heartbeat_late|member_down)' /proc/net/tpcluster | tr '\n' ' ')"
tp_expect_eq "segments it could not rewrite" "$(tp_stat splice_drop_unwritable)" "0"
# Every replica's application writes the same bytes (tptest streams, hashes,
# requests and echo lines naming no node): through takeovers, loss,
# duplication and reordering, no node finds any replica's output different
# from its own (no false alarm of the output check).
tp_expect_eq "replicas found writing other bytes than this node" "$(tp_stat replica_diverged)" 0
# And the check ran to the end: the hook saw every byte this node's stack
# sent, so no connection lost its digest.
tp_expect_eq "connections whose output digest was lost" "$(tp_stat replica_output_unchecked)" 0
tp_barrier reported

# A node of the replicate_forged test (vm1..vm3 are this one script): a
# replicate service with every node in each connection's set (R=3), so
# each connection has a primary and two backups here, and an attacker on
# the segment (the client VM, from raw sockets) whose segments acknowledge
# what no replica sent. Every replica's stack must take from them exactly
# what the primary's takes, nothing (RFC 5961, section 5.2).
#   82  tptest hash: reads to EOF, answers (and logs) the SHA-256
tp_join_cluster "$(printf '5c%.0s' $(seq 32))"
TPTEST_LOG=/tmp/hashes tptest serve 82 hash &
sleep 0.3
tpctl service add 10.0.0.100:82 mode replicate replicas 3
tp_wait_full_member 30
tptest serve 90 stats &
tp_barrier ready

# Forged handshakes: SYNs from 10.0.0.77, a host that does not exist (so
# nothing answers the SYN-ACKs with a reset), then ACKs whose numbers
# acknowledge no SYN-ACK. The primary's stack answers each with a reset;
# a backup must not complete the handshake either, by the hook's rewrite
# or by playing the handshake when its stack sends the SYN-ACK again (at
# 1 s and 3 s).
tp_barrier forged_acks
sleep $((5 * TP_SLOW))
# /proc/net/tcp: remote 10.0.0.77 is 4D00000A; state 01 ESTABLISHED.
forged_established() {
	awk 'NR > 1 && $3 ~ /^4D00000A:/ && $4 == "01"' /proc/net/tcp | wc -l
}
tp_info "sockets from 10.0.0.77: $(awk 'NR > 1 && $3 ~ /^4D00000A:/ { print $4 }' /proc/net/tcp | sort | uniq -c | tr -s ' \n' ' ')"
tp_expect_eq "connections a forged ACK established here" "$(forged_established)" 0
tp_barrier handshakes_checked

# The client sent the first half of a stream, a forged segment at the
# connection's next sequence number with an acknowledgment of unsent
# data, and the real rest: this node's server, primary or backup, hashed
# the real stream alone.
tp_barrier injected
i=0
while [ ! -s /tmp/hashes ] && [ $i -lt $((100 * TP_SLOW)) ]; do sleep 0.1; i=$((i + 1)); done
tp_expect_eq "what this node's server read of the attacked connection" \
	"$(sed -n 1p /tmp/hashes)" "$(tptest digest 65536 11)"
tp_info "vm$TP_VM: $(grep -E '^replica_(drop_ack_unsent|handshake_played|ack_played|takeovers|excluded)' /proc/net/tpcluster | tr '\n' ' ')"
tp_expect_eq "segments it could not rewrite" "$(tp_stat splice_drop_unwritable)" "0"
tp_barrier reported

# Replicate services deleted under live connections (every one: the node
# then replicates no service): new connections are no longer theirs, but
# those they have go on, replicated and translated, until they close. The
# client holds connections talking across the delete.
TPTEST_NAME=replica tptest serve 83 echo & # replicas answer alike
sleep 0.3
tpctl service add 10.0.0.100:83 mode replicate replicas 3
tp_barrier echo_service
tp_barrier holding
tpctl service del 10.0.0.100:83
tpctl service del 10.0.0.100:82
tp_barrier deleted
tp_barrier held
tp_info "vm$TP_VM after the delete: $(grep -E '^replica_(takeovers|excluded|drop_untracked)' /proc/net/tpcluster | tr '\n' ' ')"

# A node of the replicate_lost_handshake test (vm1..vm3 are this one
# script): a replicate service (R=2) whose nodes keep nothing of a
# handshake in their stacks (tcp_syncookies=2: every SYN is answered with
# a SYN cookie) and track at most one half-open replicated connection
# (replica_half_open=1), while a SYN flood comes in: a client whose
# acknowledgment of the SYN-ACK comes late finds its entry forgotten on
# both replicas (replicate/lost_handshake.rs).
#   82  tptest hash: reads to EOF, answers the SHA-256
TP_KO="$TP_KO replica_half_open=1"
echo 2 > /proc/sys/net/ipv4/tcp_syncookies
tp_join_cluster "$(printf '4e%.0s' $(seq 32))"
tptest serve 82 hash &
sleep 0.3
tpctl service add 10.0.0.100:82 mode replicate replicas 2
tp_wait_full_member 30
tptest serve 90 stats &
tp_barrier ready
tp_barrier done
tp_info "vm$TP_VM: $(grep -E '^replica_(connections|half_open_evicted|handshake_recovered|handshake_no_options|handshake_played|drop_untracked) ' /proc/net/tpcluster | tr '\n' ' ')"

# A node of the replicate test (vm1..vm3 are this one script, also after
# a power cut).
# Services, both replicate: port 80 (R=2) and 83 (R=3) stream the same
# $BYTES from seed 7 to each client. Port 90 on the node's own address
# tells its counters.
BYTES=$((24 * 1024 * 1024))
tp_join_cluster "$(printf '5c%.0s' $(seq 32))"
tptest serve 80 stream $BYTES 7 &
tptest serve 83 stream $BYTES 7 &
tptest serve 90 stats &
sleep 0.3
tpctl service add 10.0.0.100:80 mode replicate replicas 2
tpctl service add 10.0.0.100:83 mode replicate replicas 3
tp_wait_full_member 30
tp_barrier done
tp_info "vm$TP_VM (boot $TP_BOOT): $(grep -E '^(replica|channel_rx_good|channel_tx )' /proc/net/tpcluster | tr '\n' ' ')"
tp_expect_eq "segments it could not rewrite" "$(tp_stat splice_drop_unwritable)" "0"
tp_barrier reported

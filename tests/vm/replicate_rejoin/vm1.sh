# A node of the replicate_rejoin test (vm1..vm3 are this one script, also
# after a power cut): an R=2 request/response service on port 84; services
# that read what the client sends and answer its SHA-256: R=3 on port 82,
# and R=2 on port 87, served by vm1 and vm2 only (vm3 listens on none: it
# is no candidate). A connection that lost a replica brings a live node
# serving it into its set (catch-up); the client cuts the new primary
# after that, and the connection must survive the second failure too.
tp_join_cluster "$(printf '5e%.0s' $(seq 32))"
# Each replicated connection keeps up to 2 MiB of its client's stream
# (the default is 1 MiB): part 2's upload is fed to the node brought back
# for long enough to see the primary acknowledge on meanwhile.
echo 2097152 > /sys/module/tpcluster/parameters/replica_log_bytes
tptest serve 84 rr &
tptest serve 82 hash &
[ "$TP_VM" = 3 ] || tptest serve 87 hash &
sleep 0.3
tpctl service add 10.0.0.100:84 mode replicate replicas 2
tpctl service add 10.0.0.100:82 mode replicate replicas 3
tpctl service add 10.0.0.100:87 mode replicate replicas 2
tp_wait_full_member 30
tptest serve 90 stats &
# What `tpctl conn show` says here, five times a second, served on the
# node's own address (port 91) for the client to read.
mkdir -p /tmp/www
while :; do tpctl conn show > /tmp/www/c.tmp 2>&1 && mv /tmp/www/c.tmp /tmp/www/conns; sleep 0.2; done &
httpd -p 10.0.0.$TP_VM:91 -h /tmp/www
tp_barrier done
tp_info "catch-up counters: $(for c in replica_catch_ups replica_caught_up replica_catch_up_abandoned replica_joined replica_join_played replica_catch_up_played replica_catch_up_tx replica_catch_up_rx replica_log_bound replica_log_lost replica_takeovers replica_excluded replica_fenced; do printf '%s=%s ' $c "$(tp_stat $c)"; done)"
tp_barrier reported

# Node 1 of the restore test, configured by hand; node 2 saves its
# configuration, forgets it (the module reloaded) and comes back from the
# saved file through tpcluster-up, what the systemd unit runs at boot.
TP_CLUSTER="1 2"
tp_join_cluster "$(printf '5c%.0s' $(seq 32))" 80
tptest serve 80 name &
tp_wait_full_member 30
tp_barrier ready
tp_barrier restored
tp_barrier fetched
# The service's own count of new connections taken here: every SYN this
# node took (the node's vip_new_connections), at least the client's
# connections it served (a SYN sent again counts again).
served=$(tp_value vm$TP_VM)
conns=$(tpctl -j service show | sed -n 's/.*"port":80,[^}]*"connections":\([0-9]*\).*/\1/p')
tp_expect_eq "the service's connections are the node's new connections" "$conns" "$(tp_stat vip_new_connections)"
tp_expect "and at least the $served the client had from this node: $conns" [ "${conns:-0}" -ge "${served:-1}" -a "${served:-0}" -gt 0 ]

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

# Node 2 of the restore test: configured by hand, then `tpctl save`, the
# module unloaded and loaded again (a node that booted), and the saved
# file applied by tpcluster-up (packaging/), the key from a file of its
# own. It must join the cluster and take its share again, and save the
# same configuration as before.
TP_CLUSTER="1 2"
key=$(printf '5c%.0s' $(seq 32))
tp_join_cluster "$key" 80
tptest serve 80 name &
tp_wait_full_member 30
tp_barrier ready
tpctl save > /tmp/saved
tp_info "saved: $(tr '\n' '|' < /tmp/saved)"
tp_expect "the saved configuration has the node, its peer, the VIP and the service" sh -c \
	"grep -q '^node set id 2 addr 10.0.0.2 port 7000' /tmp/saved && grep -q '^peer add id 1 addr 10.0.0.1' /tmp/saved &&
	 grep -q '^vip add 10.0.0.100 mac 01:00:5e:00:00:64 dev eth0' /tmp/saved && grep -q '^service add 10.0.0.100:80' /tmp/saved"
tp_expect "the saved configuration does not hold the key" sh -c "! grep -qi '$key' /tmp/saved"

# A file the kernel refuses at its last line (a service of no VIP):
# restore applies none of it.
printf 'peer add id 7 addr 10.0.0.7\nservice add 10.0.0.99:80\n' > /tmp/refused
tp_expect "restore of a file the kernel refuses fails" sh -c '! tpctl restore /tmp/refused 2>/tmp/refused.err'
tp_info "restore said: $(cat /tmp/refused.err)"
tp_expect_eq "and applied nothing of it" "$(tpctl -j peer show)" '[{"id":1,"addr":"10.0.0.1"}]'

# The node forgets everything, as after a reboot.
tpctl flush
tp_expect_eq "flush leaves no VIP" "$(tpctl -j vip show)" "[]"
ip addr del 10.0.0.100/32 dev lo
tp_expect "rmmod" rmmod tpcluster
insmod $TP_KO
tp_expect_eq "a fresh node has no peer" "$(tpctl -j peer show)" "[]"

printf '%s\n' "$key" > /tmp/key
chmod 600 /tmp/key
sed 's|^node set .*|& key-file /tmp/key|' /tmp/saved > /tmp/tpcluster.conf
tp_expect "tpcluster-up brings the node back from the saved file" tpcluster-up /tmp/tpcluster.conf
tp_wait_full_member 30
tpctl save > /tmp/again
tp_expect_eq "save after restore gives the same file" "$(cat /tmp/again)" "$(cat /tmp/saved)"
tp_barrier restored
tp_barrier fetched
# The service's own count of new connections taken here: every SYN this
# node took (the node's vip_new_connections), at least the client's
# connections it served (a SYN sent again counts again).
served=$(tp_value vm$TP_VM)
conns=$(tpctl -j service show | sed -n 's/.*"port":80,[^}]*"connections":\([0-9]*\).*/\1/p')
tp_expect_eq "the service's connections are the node's new connections" "$conns" "$(tp_stat vip_new_connections)"
tp_expect "and at least the $served the client had from this node: $conns" [ "${conns:-0}" -ge "${served:-1}" -a "${served:-0}" -gt 0 ]
tp_expect "tpcluster-down takes the node out" tpcluster-down /tmp/tpcluster.conf
tp_expect_eq "no VIP left" "$(tpctl -j vip show)" "[]"

# A cluster node (vm1..vm3 are this one script) under attack from the
# rogue vm4, which replays, forges and mangles genuine channel datagrams it
# captured: each must be dropped and counted under its reason, with the
# membership unchanged; a killed node's replayed heartbeats do not revive it.
key=$(printf 'c3%.0s' $(seq 32))
insmod $TP_KO
tpctl node set id $TP_VM addr 10.0.0.$TP_VM port 7000 key $key
for peer in 1 2 3; do
	[ $peer = $TP_VM ] || tpctl peer add id $peer addr 10.0.0.$peer
done
tp_wait_full_member 30

# states: the state of every member, by id.
states() {
	tpctl -j cluster show | grep -o '"id":[0-9]*,"addr":"[0-9.]*","state":"[a-z]*"' |
		sed 's/"addr":"[0-9.]*",//' | sort | tr '\n' ' '
}

tp_barrier ready
tp_barrier captured
before_states=$(states)
for c in channel_drop_replay channel_drop_bad_mac channel_drop_too_short channel_drop_bad_magic \
	channel_drop_too_old member_up member_down; do
	eval "before_$c=$(tp_stat $c)"
done
tp_barrier armed
tp_barrier sent
n=$(tp_value to$TP_VM)
tp_info "vm$TP_VM: the rogue sent $n datagrams of each kind here"
delta() { echo $(($(tp_stat $1) - $(eval echo \$before_$1))); }
tp_expect_eq "replayed datagrams dropped as replays" "$(delta channel_drop_replay) $(delta channel_drop_too_old)" "$n 0"
tp_expect_eq "forged datagrams dropped for their MAC" "$(delta channel_drop_bad_mac)" "$n"
tp_expect_eq "truncated datagrams dropped as too short" "$(delta channel_drop_too_short)" "$n"
tp_expect_eq "datagrams with a wrong magic dropped" "$(delta channel_drop_bad_magic)" "$n"
tp_expect_eq "membership unchanged: no member went up or down" "$(delta member_up) $(delta member_down)" "0 0"
tp_expect_eq "membership unchanged: states" "$(states)" "$before_states"
tp_expect "still a full member" tp_wait_full_member 1
tp_barrier checked

# Replays across recipients: the rogue records progress datagrams between
# the two replicas of replicated connections and sends each to the third
# node. The MAC binds the recipient: each is dropped as another node's.
ip addr add 10.0.0.100/32 dev lo
echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore
echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce
tpctl vip add 10.0.0.100 mac 01:00:5e:00:00:64 dev eth0
TPTEST_NAME=replica tptest serve 85 echo &  # replicas answer alike
tpctl service add 10.0.0.100:85 mode replicate replicas 2
tp_barrier service
tp_barrier progress-captured
before_states=$(states)
before_wrong=$(tp_stat channel_drop_wrong_recipient)
tp_barrier redirect-armed
tp_barrier redirected
tp_expect_eq "progress datagrams of two other nodes replayed here, dropped as another node's" \
	"$(($(tp_stat channel_drop_wrong_recipient) - before_wrong))" "$(tp_value to$TP_VM)"
tp_expect_eq "membership unchanged by them" "$(states)" "$before_states"
tpctl vip del 10.0.0.100
# Replays across a restart: the rogue records what the others send vm1,
# vm1 reloads the module (a new channel epoch), and the rogue replays the
# recording to it: bound to the old epoch, every datagram is dropped.
tp_barrier captured1
if [ $TP_VM = 1 ]; then
	i=0
	while ! rmmod tpcluster 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	insmod $TP_KO
	tpctl node set id $TP_VM addr 10.0.0.$TP_VM port 7000 key $key
	for peer in 2 3; do tpctl peer add id $peer addr 10.0.0.$peer; done
	tp_wait_full_member 30
	tp_info "vm1 reloaded: $(tpctl cluster show | tr '\n' ' ')"
fi
tp_barrier reloaded
channels() { grep '^channel_' /proc/net/tpcluster | tr '\n' ' '; }
before_stale=$(tp_stat channel_drop_stale_epoch)
before_channels=$(channels)
# The rogue replays only once the counters before are read.
tp_barrier counted1
tp_barrier replayed1
if [ $TP_VM = 1 ]; then
	n=$(tp_value to1)
	# The guest may still be taking them in (it just reloaded the module):
	# wait until as many as were sent are counted, or 5 s.
	i=0
	while [ $(($(tp_stat channel_drop_stale_epoch) - before_stale)) -lt "$n" ] && [ $i -lt $((50 * TP_SLOW)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
	tp_info "channel counters before the replay: $before_channels"
	tp_info "channel counters after: $(channels)"
	tp_expect_eq "datagrams recorded before the reload, replayed to the reloaded node: dropped as of an old epoch" \
		"$(($(tp_stat channel_drop_stale_epoch) - before_stale))" "$n"
fi
tp_expect "a full member after the reload and the replays" tp_wait_full_member 5
if [ $TP_VM = 3 ]; then
	# Killed by the rogue while waiting here.
	tp_barrier dead
fi
i=0
while ! states | grep -q '"id":3,"state":"dead"' && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
tp_expect "vm3 seen dead" sh -c "tpctl -j cluster show | grep -q '\"id\":3,\"addr\":\"10.0.0.3\",\"state\":\"dead\"'"
before_channel_drop_replay=$(tp_stat channel_drop_replay)
before_channel_drop_stale_epoch=$(tp_stat channel_drop_stale_epoch)
before_channel_drop_too_old=$(tp_stat channel_drop_too_old)
before_member_up=$(tp_stat member_up)
tp_barrier dead
tp_barrier replayed
n=$(tp_value to$TP_VM)
# Several heartbeat intervals for a wrong revival to show.
sleep 0.5
# Each dropped as a replay; vm1's own heartbeats from before its reload
# as too old (its counters jumped with the reload); on vm1, reloaded since
# the recording, everything as of an old epoch.
tp_expect_eq "vm3's replayed heartbeats (among $n replays) do not revive it" \
	"$(($(delta channel_drop_replay) + $(delta channel_drop_too_old) + $(delta channel_drop_stale_epoch))) $(delta member_up)" "$n 0"
tp_expect "vm3 still dead" sh -c "tpctl -j cluster show | grep -q '\"id\":3,\"addr\":\"10.0.0.3\",\"state\":\"dead\"'"
tp_barrier done
tp_unload

# The tpcluster netlink family through tpctl: configuration round trips,
# dumps, and a clear refusal (errno, extended-ack text, exit status) for
# every bad request; per-namespace state; unprivileged callers.
insmod $TP_KO

# expect_refusal WHAT STATUS TEXT COMMAND...: COMMAND fails with exit STATUS
# and prints TEXT.
expect_refusal() {
	what=$1 status=$2 text=$3
	shift 3
	rc=0
	"$@" >/tmp/out 2>&1 || rc=$?
	if [ "$rc" = "$status" ] && grep -qF -- "$text" /tmp/out; then
		tp_pass "$what: $(head -n 1 /tmp/out)"
	else
		tp_fail "$what: exit $rc, '$(cat /tmp/out)'; want exit $status and '$text'"
	fi
}

key=$(printf 'ab%.0s' $(seq 32))
tpctl node set id 1 addr 10.0.0.1 port 7000 key "$key"
tp_expect_eq "node settings" "$(tpctl -j node show)" \
	"{\"id\":1,\"addr\":\"10.0.0.1\",\"port\":7000,\"key\":\"set\",\"heartbeat_ms\":$TP_HEARTBEAT_MS,\"dead_ms\":$TP_DEAD_MS,\"full_member\":true,\"weight\":1,\"drain\":false,\"held_connections\":0}"
tpctl node set heartbeat 100 dead 300
tp_expect_eq "timers changed, the rest kept" "$(tpctl -j node show)" \
	'{"id":1,"addr":"10.0.0.1","port":7000,"key":"set","heartbeat_ms":100,"dead_ms":300,"full_member":true,"weight":1,"drain":false,"held_connections":0}'

tpctl peer add id 2 addr 10.0.0.2
tpctl peer add id 3 addr 10.0.0.3
tp_expect_eq "members: this node, and two peers never heard from" \
	"$(tpctl -j cluster show)" \
	'[{"id":1,"addr":"10.0.0.1","state":"self","incarnation":0,"last_heard_ms":0,"weight":1,"ready_services":0},{"id":2,"addr":"10.0.0.2","state":"dead","incarnation":0,"last_heard_ms":null,"weight":null,"ready_services":null},{"id":3,"addr":"10.0.0.3","state":"dead","incarnation":0,"last_heard_ms":null,"weight":null,"ready_services":null}]'
tp_expect_eq "alone among three, no full member" "$(tpctl -j node show | grep -o '"full_member":[a-z]*')" '"full_member":false'
tp_expect "the channel socket is bound to the node's address" grep -q "0100000A:1B58" /proc/net/udp
tp_expect_eq "peer dump" "$(tpctl -j peer show)" '[{"id":2,"addr":"10.0.0.2"},{"id":3,"addr":"10.0.0.3"}]'
tpctl vip add 10.0.0.100 mac 01:00:5e:00:00:64 dev eth0
ifindex=$(cat /sys/class/net/eth0/ifindex)
tp_expect_eq "vip dump" "$(tpctl -j vip show)" "[{\"addr\":\"10.0.0.100\",\"mac\":\"01:00:5e:00:00:64\",\"ifindex\":$ifindex}]"
tpctl service add 10.0.0.100:80
tpctl service add 10.0.0.100:81 mode replicate replicas 3 affinity source
# Nothing listens here: not ready; this node alone stands in (no member
# is ready).
tp_expect_eq "service dump" "$(tpctl -j service show)" \
	'[{"vip":"10.0.0.100","port":80,"mode":"balance","replicas":1,"connections":0,"affinity":"none","healthy":true,"ready":false,"candidates":1},{"vip":"10.0.0.100","port":81,"mode":"replicate","replicas":3,"connections":0,"affinity":"source","healthy":true,"ready":false,"candidates":1}]'
# An application listening (the wildcard address): ready within a
# heartbeat interval.
tptest serve 80 name &
listener=$!
sleep 0.5
tp_expect_eq "a listener on the wildcard makes the node ready" \
	"$(tpctl -j service show | grep -o '"port":80,[^}]*"ready":[a-z]*')" \
	'"port":80,"mode":"balance","replicas":1,"connections":0,"affinity":"none","healthy":true,"ready":true'
# A health verdict of down (what `tpctl service check` sets when its probe
# fails) takes the service out while the listener stays; up gives it back.
health_ready() { tpctl -j service show | grep -o '"port":80,[^}]*"ready":[a-z]*' | grep -o '"healthy":[a-z]*,"ready":[a-z]*'; }
tpctl service set 10.0.0.100:80 health down
sleep 0.5
tp_expect_eq "health down: not ready, though the listener stays" "$(health_ready)" '"healthy":false,"ready":false'
tpctl service set 10.0.0.100:80 health up
sleep 0.5
tp_expect_eq "health up: ready again" "$(health_ready)" '"healthy":true,"ready":true'
expect_refusal "unknown health" 2 "bad health 'sick'" tpctl service set 10.0.0.100:80 health sick
expect_refusal "conn primary of no replicated connection" 1 "no replicated connection by that name here" \
	tpctl conn primary 10.0.0.9:4000 10.0.0.100:81 to 2
tp_expect_eq "and the member shows it" "$(tpctl -j cluster show | grep -o '"id":1,[^}]*')" \
	'"id":1,"addr":"10.0.0.1","state":"self","incarnation":0,"last_heard_ms":0,"weight":1,"ready_services":1'
kill $listener
wait $listener 2>/dev/null || true
sleep 0.5
tp_expect_eq "and not ready once it is gone" "$(tpctl -j service show | grep -o '"port":80,[^}]*"ready":[a-z]*' | grep -o '"ready":[a-z]*')" '"ready":false'
tpctl service set 10.0.0.100:81 affinity none
tp_expect_eq "affinity changed" "$(tpctl -j service show | grep -o '"port":81,[^}]*"affinity":"[a-z]*"' | grep -o '"affinity":"[a-z]*"')" '"affinity":"none"'
expect_refusal "service set of no service" 1 "No such file or directory: unknown service" tpctl service set 10.0.0.100:82 affinity source
expect_refusal "unknown affinity" 2 "unknown affinity 'sticky'" tpctl service set 10.0.0.100:81 affinity sticky
tpctl node set weight 5
tpctl node drain
tp_expect_eq "weight set, draining" "$(tpctl -j node show | grep -o '"weight":[0-9]*,"drain":[a-z]*')" '"weight":5,"drain":true'
tp_expect_eq "a draining node announces weight 0" "$(tpctl -j cluster show | grep -o '"id":1,[^}]*' | grep -o '"weight":[0-9]*')" '"weight":0'
tpctl node undrain
tpctl node set weight 1
tp_expect_eq "weight back, not draining" "$(tpctl -j node show | grep -o '"weight":[0-9]*,"drain":[a-z]*')" '"weight":1,"drain":false'
expect_refusal "a weight beyond 65535" 2 "weight" tpctl node set weight 65536

# A full table (63 peers), dumped over more than one reply buffer, comes
# back complete and in order.
for i in $(seq 4 64); do tpctl peer add id $i addr 10.0.1.$i; done
tp_expect_eq "long peer dump" "$(tpctl peer show | awk '{ print $2 }' | tr '\n' ' ')" "$(seq 2 64 | tr '\n' ' ')"
expect_refusal "full peer table" 1 "No space left on device: too many peers" tpctl peer add id 99 addr 10.0.2.1
for i in $(seq 4 64); do tpctl peer del id $i; done

expect_refusal "duplicate peer id" 1 "File exists: a peer with this id exists" tpctl peer add id 2 addr 10.0.0.9
expect_refusal "duplicate peer address" 1 "File exists: a peer with this address exists" tpctl peer add id 9 addr 10.0.0.2
# tpctl asks for what the kernel requires before it sends anything (usage,
# status 2); the kernel's own refusal of the same requests, sent raw
# (tptest prints it and exits 0).
expect_refusal "missing peer id (tpctl)" 2 "missing 'id'" tpctl peer add addr 10.0.0.9
expect_refusal "missing peer address (tpctl)" 2 "missing 'addr'" tpctl peer add id 9
expect_refusal "missing peer id" 0 "refused: Invalid argument: missing peer id" tptest nl-raw 3 2:0a000009
expect_refusal "missing peer address" 0 "refused: Invalid argument: missing peer address" tptest nl-raw 3 1:09000000
expect_refusal "peer id 0 (policy)" 1 "Numerical result out of range: integer out of range" tpctl peer add id 0 addr 10.0.0.9
expect_refusal "peer is self" 1 "peer id is this node's id" tpctl peer add id 1 addr 10.0.0.9
expect_refusal "unknown peer" 1 "No such file or directory: no peer with this id" tpctl peer del id 9
expect_refusal "multicast VIP" 1 "VIP must be a unicast IPv4 address" tpctl vip add 224.0.0.1 mac 01:00:5e:00:00:01 dev eth0
expect_refusal "unicast cluster MAC" 1 "cluster MAC must be a multicast Ethernet address" \
	tpctl vip add 10.0.0.101 mac 02:00:00:00:00:01 dev eth0
expect_refusal "VIP without MAC (tpctl)" 2 "missing 'mac'" tpctl vip add 10.0.0.101 dev eth0
expect_refusal "VIP without MAC" 0 "refused: Invalid argument: missing cluster MAC" tptest nl-raw 6 1:0a000065
expect_refusal "duplicate VIP" 1 "File exists: VIP exists" tpctl vip add 10.0.0.100 mac 01:00:5e:00:00:64 dev eth0
expect_refusal "service of an unknown VIP" 1 "unknown VIP" tpctl service add 10.0.0.99:80
expect_refusal "unknown service" 1 "No such file or directory: unknown service" tpctl service del 10.0.0.100:99
expect_refusal "replicas on a balance service" 1 "replicas is only for replicate services" \
	tpctl service add 10.0.0.100:82 replicas 2
expect_refusal "heartbeat out of range (policy)" 1 "Numerical result out of range" tpctl node set heartbeat 5
expect_refusal "dead not above heartbeat" 1 "dead-ms must be at least twice heartbeat-ms" tpctl node set dead 150
expect_refusal "empty node set" 1 "nothing to change" tpctl node set
# Requests tpctl would never build: attributes of the wrong size, unknown
# attributes. The policy generated from the YNL spec refuses them.
for bad in "node id of 8 bytes:2 1:0100000000000000" "peer address of 2 bytes:3 1:09000000 2:0a00" \
	"cluster MAC of 4 bytes:6 1:0a000065 2:01005e00 3:02000000" "unknown attribute:3 1:09000000 2:0a000009 99:00"; do
	what=${bad%%:*}
	out=$(tptest nl-raw ${bad#*:})
	tp_expect "raw request, $what: $out" sh -c "echo '$out' | grep -q '^refused: Invalid argument: ..*\|^refused: Numerical result out of range: ..*'"
done
expect_refusal "channel address not local" 1 "cannot open the cluster channel" tpctl node set addr 10.9.9.9
tp_expect_eq "the refused address was not taken" "$(tpctl -j node show | grep -o '"addr":"[0-9.]*"')" '"addr":"10.0.0.1"'
params=/sys/module/tpcluster/parameters
tp_expect_eq "default timers (module parameters)" "$(cat $params/heartbeat_ms) $(cat $params/dead_ms)" "$TP_HEARTBEAT_MS $TP_DEAD_MS"
tp_expect "an out-of-range parameter is refused" sh -c "! echo 5 > $params/heartbeat_ms"
tp_expect_eq "replicated connections a node tracks (module parameter, read-only)" \
	"$(cat $params/replica_conns) $(stat -c %a $params/replica_conns)" "65536 444"
tp_expect_eq "half-open ones and handover ones (module parameters, read-only)" \
	"$(cat $params/replica_half_open) $(cat $params/splice_conns)" "16384 65536"
echo 80 > $params/heartbeat_ms
tp_expect_eq "a node without timers of its own follows the parameters" \
	"$(unshare -n tpctl -j node show | grep -o '"heartbeat_ms":[0-9]*,"dead_ms":[0-9]*')" "\"heartbeat_ms\":80,\"dead_ms\":$TP_DEAD_MS"
tp_expect_eq "a node with its own timers keeps them" \
	"$(tpctl -j node show | grep -o '"heartbeat_ms":[0-9]*,"dead_ms":[0-9]*')" '"heartbeat_ms":100,"dead_ms":300'
echo $TP_HEARTBEAT_MS > $params/heartbeat_ms
tp_expect_eq "counters over netlink are the /proc/net/tpcluster counters" \
	"$(tpctl stats show | awk '{ print $1 }' | tr '\n' ' ')" "$(awk '{ print $1 }' /proc/net/tpcluster | tr '\n' ' ')"
# The Prometheus exposition: per counter a HELP, a TYPE and the sample,
# labelled with the node, with the value /proc/net/tpcluster has (counters
# that move by themselves, heartbeats and the hook's, left out).
tpctl stats show -f prometheus > /tmp/prom
tp_expect_eq "Prometheus samples, one per counter" \
	"$(grep -c '^tpcluster_[a-z0-9_]*{node="1"} [0-9]*$' /tmp/prom)" "$(wc -l < /proc/net/tpcluster)"
tp_expect_eq "and as many HELP and TYPE lines" \
	"$(grep -c '^# HELP tpcluster_' /tmp/prom) $(grep -cE '^# TYPE tpcluster_[a-z0-9_]* (counter|gauge)$' /tmp/prom)" \
	"$(wc -l < /proc/net/tpcluster) $(wc -l < /proc/net/tpcluster)"
tp_expect_eq "the table gauges typed as gauges, after the counters" \
	"$(grep '^# TYPE tpcluster_[a-z0-9_]* gauge$' /tmp/prom | cut -d' ' -f3 | tr '\n' ' ')" \
	"tpcluster_replica_entries tpcluster_replica_half_open tpcluster_replica_capacity tpcluster_replica_bytes tpcluster_splice_entries tpcluster_splice_capacity tpcluster_splice_bytes "
tp_expect_eq "the replica table's capacity" "$(tp_stat replica_capacity)" 65536
tp_expect_eq "a counter's sample" "$(grep '^tpcluster_vip_drop_fragment{' /tmp/prom)" \
	"tpcluster_vip_drop_fragment{node=\"1\"} $(tp_stat vip_drop_fragment)"
expect_refusal "bad key (tpctl)" 2 "64 hexadecimal digits" tpctl node set key abcd
expect_refusal "unknown mode (tpctl)" 2 "unknown mode" tpctl service add 10.0.0.100:83 mode fast
expect_refusal "unknown interface (tpctl)" 1 "no interface 'eth9'" tpctl vip add 10.0.0.102 mac 01:00:5e:00:00:66 dev eth9
# sit0 (IPv6-in-IPv4) has 4-byte hardware addresses, lo no ARP: neither
# can take a cluster MAC.
expect_refusal "VIP on a tunnel device" 1 "not an Ethernet interface" tpctl vip add 10.0.0.102 mac 01:00:5e:00:00:66 dev sit0
expect_refusal "VIP on the loopback device" 1 "not an Ethernet interface" tpctl vip add 10.0.0.102 mac 01:00:5e:00:00:66 dev lo
tp_expect_eq "neither added a VIP" "$(tpctl -j vip show | grep -c 10.0.0.102 || true)" 0
expect_refusal "unprivileged change" 1 "Operation not permitted" tptest run-as 65534 /bin/tpctl peer add id 7 addr 10.0.0.7
tp_expect_eq "unprivileged read" "$(tptest run-as 65534 /bin/tpctl -j peer show)" \
	'[{"id":2,"addr":"10.0.0.2"},{"id":3,"addr":"10.0.0.3"}]'
tp_expect_eq "nothing changed by the refusals" "$(tpctl -j peer show)" \
	'[{"id":2,"addr":"10.0.0.2"},{"id":3,"addr":"10.0.0.3"}]'

tp_expect_eq "another namespace is another node" "$(unshare -n tpctl -j peer show)" "[]"
tpctl vip del 10.0.0.100
tp_expect_eq "services go with their VIP" "$(tpctl -j service show)" "[]"
rmmod tpcluster
expect_refusal "module not loaded" 1 "is the tpcluster module loaded?" tpctl node show

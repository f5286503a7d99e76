# Helpers for VM test scripts, sourced by /init. fd 3 is the control channel.
# Protocol (one line each way, see tools/vm/run.py):
#   BARRIER name [k=v...] -> GO name [k=v...]   wait for every live VM, share values
#   HOST cmd args...      -> OK | ERR reason     failure primitives run by the host
#   PASS text | FAIL text | INFO text            results and progress
# shellcheck shell=sh

TP_KO=/lib/tpcluster.ko
# Default timers (module parameters). The debug kernel (KASAN, lockdep) in
# an emulated CPU runs several times slower, too slow for heartbeats every
# 50 ms to arrive within 200 ms: there the tests load the module with
# relaxed timers (the production defaults are asserted on the default
# kernel).
TP_HEARTBEAT_MS=50
TP_DEAD_MS=200
if [ "$TP_KERNEL" = debug ]; then
	TP_HEARTBEAT_MS=100
	TP_DEAD_MS=1000
	TP_KO="$TP_KO heartbeat_ms=$TP_HEARTBEAT_MS dead_ms=$TP_DEAD_MS"
fi

# One protocol line each, whatever newlines the text holds.
tp_line() { printf '%s\n' "$(printf '%s' "$*" | tr '\n' ' ')" >&3; }
tp_info() { tp_line "INFO $*"; }
tp_pass() { tp_line "PASS $*"; }
tp_fail() { tp_line "FAIL $*"; }
# tp_data WORDS: a line for the host's tools (a plot's points, say): kept
# in the transcript, never shown.
tp_data() { tp_line "DATA $*"; }

# tp_barrier NAME [KEY=VALUE...]: wait until every live VM of the test has
# reached NAME; afterwards tp_value KEY returns what any of them shared.
tp_barrier() {
	echo "BARRIER $*" >&3
	read -r TP_REPLY <&3
	case "$TP_REPLY" in
	"GO $1"*) TP_VALUES=${TP_REPLY#GO $1} ;;
	*) tp_fail "barrier $1: unexpected reply: $TP_REPLY"; return 1 ;;
	esac
}

tp_value() {
	for kv in $TP_VALUES; do
		[ "${kv%%=*}" = "$1" ] && { echo "${kv#*=}"; return 0; }
	done
	return 1
}

# tp_host CMD ARGS: ask the host for a failure primitive: kill N, link-down N,
# link-up N, netem N QDISC-ARGS..., netem-clear N, mute N ADDR... (VM N's
# packets to ADDR... dropped: a one-way cut), unmute N ADDR..., drop-acks N
# PORT (pure ACKs to PORT dropped on their way to VM N), drop-acks-clear N.
tp_host() {
	echo "HOST $*" >&3
	read -r TP_REPLY <&3
	case "$TP_REPLY" in
	OK*) return 0 ;;
	*) tp_info "host $*: $TP_REPLY"; return 1 ;;
	esac
}

# tp_start_haproxy FRONT BACK: HAProxy (Debian's, which `make bench` ships)
# on this node's address, port FRONT, in http mode, switching /n2/ and /n3/
# to nodes 2 and 3 and every other path to node 1, each on its own address,
# port BACK: the benchmarks' proxy baseline.
tp_start_haproxy() {
	cat > /tmp/haproxy.cfg <<-CFG
		global
		maxconn 1000
		nbthread 1
		defaults
		mode http
		option http-keep-alive
		timeout connect 5s
		timeout client 60s
		timeout server 60s
		frontend paths
		bind 10.0.0.$TP_VM:$1
		use_backend n2 if { path_beg /n2/ }
		use_backend n3 if { path_beg /n3/ }
		default_backend n1
		backend n1
		server n1 10.0.0.1:$2
		backend n2
		server n2 10.0.0.2:$2
		backend n3
		server n3 10.0.0.3:$2
	CFG
	haproxy -f /tmp/haproxy.cfg -db 2> /tmp/haproxy.log &
	sleep 1
	kill -0 $! 2> /dev/null || tp_fail "HAProxy did not start: $(cat /tmp/haproxy.log)"
}

# tp_start_nginx PORT ROOT: Debian's nginx (in the initramfs), unmodified,
# serving the files under ROOT on PORT of every address; its own files in
# /tmp/nginx (error.log among them). Its workers run as a named user, and
# the guest has no /etc/passwd of its own: root is written there.
tp_start_nginx() {
	echo 'root:x:0:0:root:/:/bin/sh' > /etc/passwd
	echo 'root:x:0:' > /etc/group
	mkdir -p /tmp/nginx
	cat > /tmp/nginx/nginx.conf <<-CONF
		worker_processes 1;
		user root;
		pid /tmp/nginx/nginx.pid;
		error_log /tmp/nginx/error.log;
		events { worker_connections 512; }
		http {
			access_log off;
			client_body_temp_path /tmp/nginx/body;
			proxy_temp_path /tmp/nginx/proxy;
			fastcgi_temp_path /tmp/nginx/fastcgi;
			uwsgi_temp_path /tmp/nginx/uwsgi;
			scgi_temp_path /tmp/nginx/scgi;
			default_type application/octet-stream;
			server {
				listen $1;
				root $2;
			}
		}
	CONF
	nginx -p /tmp/nginx -e /tmp/nginx/error.log -c /tmp/nginx/nginx.conf
}

# tp_expect_eq WHAT GOT WANT
tp_expect_eq() {
	if [ "$2" = "$3" ]; then tp_pass "$1: $2"; else tp_fail "$1: got '$2', want '$3'"; fi
}

# tp_expect WHAT COMMAND...: pass when COMMAND succeeds.
tp_expect() {
	what=$1; shift
	if "$@"; then tp_pass "$what"; else tp_fail "$what"; fi
}

# tp_stat KEY [FILE]: one counter of /proc/net/tpcluster in this namespace.
tp_stat() {
	awk -v k="$1" '$1 == k { print $2; found = 1 } END { exit !found }' "${2:-/proc/net/tpcluster}"
}

# tp_netstat NAME: a TcpExt counter of /proc/net/netstat (SyncookiesRecv...).
tp_netstat() {
	awk -v k="$1" '$1 == "TcpExt:" { if (!h) { for (i = 2; i <= NF; i++) col[$i] = i; h = 1 } else print $(col[k]) }' /proc/net/netstat
}

# tp_wait_full_member [SECONDS]: wait until this node takes new connections
# (sees a majority live, and every live peer reports the same live set);
# fails after SECONDS (default 10), times TP_SLOW: its peers may still be
# booting, which the debug kernel does several times slower.
tp_wait_full_member() {
	limit=$((${1:-10} * TP_SLOW))
	i=0
	while ! tpctl -j node show | grep -q '"full_member":true'; do
		i=$((i + 1))
		[ $i -gt $((limit * 10)) ] && { tp_fail "not a full member after $limit s: $(tpctl cluster show | tr '\n' ' ')"; return 1; }
		sleep 0.1
	done
}

# tp_wait_for WHAT CMD...: waits until CMD succeeds, polling every 0.1 s;
# a failed check after 10 s (times TP_SLOW).
tp_wait_for() {
	what=$1
	shift
	i=0
	while ! "$@" > /dev/null 2>&1; do
		i=$((i + 1))
		[ $i -gt $((100 * TP_SLOW)) ] && { tp_fail "$what: not after $((10 * TP_SLOW)) s"; return 1; }
		sleep 0.1
	done
}

# tp_unload: rmmod tpcluster as a check. The module is held while a
# listener keeps its gate or a socket of a replicated connection lives
# (a closing one retransmits for a while): waits for them up to 30 s
# (times TP_SLOW), then fails saying what still held it.
tp_unload() {
	i=0
	while ! err=$(rmmod tpcluster 2>&1); do
		i=$((i + 1))
		if [ $i -gt $((300 * TP_SLOW)) ]; then
			tp_fail "rmmod tpcluster: $err; after $((30 * TP_SLOW)) s: $(tp_module_holders)" \
				"conns: $(tpctl conn show 2>&1 | head -n 20)"
			return 1
		fi
		[ $i = 1 ] && tp_info "rmmod tpcluster: $err: $(tp_module_holders)"
		sleep 0.1
	done
	tp_pass "module unloaded (waited $((i * 100)) ms)"
}

# tp_module_holders: the module's line of /proc/modules (its reference
# count) and this node's TCP sockets but listeners (local, remote, state).
tp_module_holders() {
	echo "$(grep '^tpcluster ' /proc/modules), sockets:" \
		"$(awk 'FNR > 1 && $4 != "0A" { print $2, $3, $4 }' /proc/net/tcp /proc/net/tcp6 | head -n 20)"
}

# tp_leaks_clear: forget what kmemleak found so far (debug kernel; no-op
# elsewhere). tp_expect_no_leaks WHAT: kmemleak finds no object leaked
# since (an unloaded module's frames are bare addresses in its
# backtraces, so every new report counts); on other kernels, says so.
TP_KMEMLEAK=/sys/kernel/debug/kmemleak
tp_leaks_clear() {
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
	[ -w $TP_KMEMLEAK ] && echo clear > $TP_KMEMLEAK
	return 0
}
tp_expect_no_leaks() {
	if [ -w $TP_KMEMLEAK ]; then
		echo scan > $TP_KMEMLEAK
		sleep 1
		echo scan > $TP_KMEMLEAK
		leaks=$(grep -c "unreferenced object" $TP_KMEMLEAK || true)
		tp_expect_eq "objects kmemleak reports leaked $1" "$leaks" 0
		[ "$leaks" = 0 ] || head -n 60 $TP_KMEMLEAK
	else
		tp_info "kmemleak not in this kernel (make test KERNEL=debug has it)"
	fi
}

# tp_node_stat N NAME: counter NAME of node N (10.0.0.N) as its
# `tptest serve 90 stats` tells it; -1 if it does not answer.
tp_node_stat() {
	tptest cat 10.0.0.$1 90 2>/dev/null | sed -n "s/^$2 //p" | grep . || echo -1
}

# tp_wait_stats: until every node (1 .. TP_NVMS-1) answers on its counters
# port (90, `tptest serve 90 stats`), at most a minute each.
tp_wait_stats() {
	for n in $(seq $((TP_NVMS - 1))); do
		i=0
		while ! tptest cat 10.0.0.$n 90 > /dev/null 2>&1 && [ $i -lt 300 ]; do sleep 0.2; i=$((i + 1)); done
	done
}

# tp_stat_sum NAME NODES: counter NAME (as tp_node_stat) summed over the
# nodes NODES ("1 2 3"). A node that does not answer (its guest busy with
# thousands of connections) is asked again, up to 10 times, so that one
# lost reading is not counted as a loss.
tp_stat_sum() {
	_sum=0
	for _n in $2; do
		_try=0
		while _v=$(tp_node_stat $_n $1) && [ "$_v" -lt 0 ] && [ $_try -lt 10 ]; do
			sleep 0.5
			_try=$((_try + 1))
		done
		_sum=$((_sum + _v))
	done
	echo $_sum
}

# tp_established FILE: the connections `tptest hold-many` has established,
# as its status file FILE (TPTEST_STATUS_FILE) says; 0 before it wrote
# one. (Reading them from /proc takes an emulated guest many seconds each
# time, which it then lacks for opening them.)
tp_established() {
	_v=$(sed -n 's/^established=\([0-9]*\).*/\1/p' "$1" 2> /dev/null)
	echo "${_v:-0}"
}

# tp_wait_established FILE N SECONDS: until hold-many's status file FILE
# says N connections are established, at most SECONDS.
tp_wait_established() {
	_waited=0
	while [ "$(tp_established "$1")" -lt "$2" ] && [ $_waited -lt "$3" ]; do
		sleep 1
		_waited=$((_waited + 1))
	done
}

# tp_sending_node: the node (1 .. TP_NVMS-1) whose replica_out moves over
# 0.2 s, 0 if none: the primary of the replicated transfer under way.
tp_sending_node() {
	nodes=$(seq $((TP_NVMS - 1)))
	for n in $nodes; do eval "out_$n=$(tp_node_stat $n replica_out)"; done
	sleep 0.2
	sender=0
	for n in $nodes; do
		eval "moved=\$(($(tp_node_stat $n replica_out) - out_$n))"
		if [ $moved -gt 0 ]; then sender=$n; fi
	done
	echo $sender
}

# tp_longest_gap FILE: the longest time (ms) between two lines of a
# tptest timeline (TPTEST_TIMELINE).
tp_longest_gap() {
	awk 'NR > 1 { g = $1 - p; if (g > m) m = g } { p = $1 } END { print m + 0 }' "$1"
}

# tp_timeline_data FILE KILL_MS: a tptest timeline in 50 ms steps, and when
# the primary was cut, as the DATA line tools/plot_timeline.py draws.
tp_timeline_data() {
	tp_data "TIMELINE kill=$2 $(awk '{ b = int($1 / 50); v[b] = $2; if (b > n) n = b }
		END { for (i = 0; i <= n; i++) { if (!(i in v)) v[i] = v[i - 1]; printf "%d:%d ", i * 50, v[i] } }' "$1")"
}

# tp_uptime_ms: milliseconds since boot, 10 ms resolution.
tp_uptime_ms() {
	awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime
}

# The longest round trip a held connection may take without counting as
# stalled. Four emulated guests share two host cores: a guest booting can
# delay the others' answers by a second without any packet lost (the
# failover test's capture check proves none is); the debug kernel is
# several times slower still.
TP_STALL_MS=3000
# How much longer timed phases last on the debug kernel.
TP_SLOW=1
if [ "$TP_KERNEL" = debug ]; then
	# Only no answer at all within tptest hold's 5 s counts as a stall.
	TP_STALL_MS=5000
	TP_SLOW=3
fi

# tp_join_cluster KEY [PORT...]: makes this VM node $TP_VM of the cluster
# vm1..vm3 that serves the VIP 10.0.0.100 on eth0 with the cluster MAC
# 01:00:5e:00:00:64: the module loaded, the VIP on lo with arp_ignore=1 and
# arp_announce=2 (so that only tpcluster answers ARP for it, with the
# cluster MAC), the channel on 10.0.0.$TP_VM:7000 with the 64-hex-digit
# KEY, the other nodes as peers, and a service for each PORT. The nodes are
# those of $TP_CLUSTER (default "1 2 3").
tp_join_cluster() {
	key=$1
	shift
	insmod $TP_KO
	ip addr add 10.0.0.100/32 dev lo
	echo 1 > /proc/sys/net/ipv4/conf/all/arp_ignore
	echo 2 > /proc/sys/net/ipv4/conf/all/arp_announce
	tpctl node set id $TP_VM addr 10.0.0.$TP_VM port 7000 key $key
	for peer in ${TP_CLUSTER:-1 2 3}; do
		[ $peer = $TP_VM ] || tpctl peer add id $peer addr 10.0.0.$peer
	done
	tpctl vip add 10.0.0.100 mac 01:00:5e:00:00:64 dev eth0
	for port in "$@"; do
		tpctl service add 10.0.0.100:$port
	done
}

# tp_kill_watched N FILE [-j]: power-cuts VM N while `tpctl monitor` watches
# for node N's next change (written to FILE, as JSON with -j); prints the
# milliseconds from just before the power cut to the monitor's report.
tp_kill_watched() {
	tpctl ${3:-} monitor node "$1" count 1 > "$2" &
	watcher=$!
	sleep 0.5
	t0=$(tp_uptime_ms)
	tp_host kill "$1"
	wait $watcher
	echo $(($(tp_uptime_ms) - t0))
}

# tp_metric NAME UNIT VALUE: one measurement of a benchmark figure, as a
# DATA line that tools/bench_report.py gathers (raw values, one a line).
tp_metric() {
	tp_data "METRIC $1 $2 $3"
}

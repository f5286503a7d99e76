# The client of the splice benchmark: the same requests on one keep-alive
# connection, to DTS (the VIP, where every request whose path lives on
# another node moves the connection there) and to HAProxy (which relays
# every byte), alternating over BENCH_ROUNDS rounds (default 5) on the same
# VMs: 30 responses of 1 MiB, 300 of 1 KiB, each on another node; and
# DTS with every request on one node (no handover). Throughput,
# requests/s, time to first byte, the ratio of each round's DTS figure to
# its HAProxy one, and the CPU-seconds per GiB of each node and of the
# three together. Every figure is a METRIC line (tools/bench_report.py).
ROUNDS=${BENCH_ROUNDS:-5}
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
bench() { tptest http-bench "$@"; }
big="/n1/bytes/1048576 /n2/bytes/1048576 /n3/bytes/1048576"
small="/n1/bytes/1024 /n2/bytes/1024 /n3/bytes/1024"
tp_barrier ready
# Ticks per second of /proc/stat (USER_HZ), as the nodes tell it.
hz=$(tp_node_stat 1 cpu_ticks_per_s)
[ "$hz" -gt 0 ] || { tp_fail "no CPU time from vm1"; hz=100; }
# shellcheck disable=SC2086
{
	bench 10.0.0.100 8080 3 $small > /dev/null # warm up both
	bench 10.0.0.1 8081 3 $small > /dev/null
}
# run_big WHO ADDR PORT: 30 responses of 1 MiB, with each node's CPU time.
run_big() {
	for n in 1 2 3; do eval "c0_$n=$(tp_node_stat $n cpu_busy_ticks)"; done
	# shellcheck disable=SC2086
	out=$(bench $2 $3 30 $big)
	cost="" total=0
	for n in 1 2 3; do
		eval "t=\$(($(tp_node_stat $n cpu_busy_ticks) - c0_$n))"
		total=$((total + t))
		v=$(awk -v t=$t -v hz=$hz 'BEGIN { printf "%.2f", t / hz / (30 / 1024) }')
		tp_metric "$1.cpu_s_per_gib.vm$n" s/GiB "$v"
		cost="$cost vm$n $v"
	done
	tp_metric "$1.cpu_s_per_gib.all" s/GiB "$(awk -v t=$total -v hz=$hz 'BEGIN { printf "%.2f", t / hz / (30 / 1024) }')"
	tp_metric "$1.throughput_1mib" Mbit/s "$(field "$out" mbit_s)"
	tp_info "$1, 1 MiB responses, each request on another node: $out; CPU-s/GiB:$cost"
	eval "${1}_mbps=$(field "$out" mbit_s)"
}
# run_small WHO ADDR PORT PATHS...: 300 responses of 1 KiB.
run_small() {
	who=$1 addr=$2 port=$3
	shift 3
	out=$(bench $addr $port 300 "$@")
	tp_metric "$who.req_per_s_1kib" 1/s "$(field "$out" req_per_s)"
	tp_metric "$who.ttfb_p50" ms "$(field "$out" ttfb_p50_ms)"
	tp_metric "$who.ttfb_p99" ms "$(field "$out" ttfb_p99_ms)"
	tp_info "$who, 1 KiB responses: $out"
	eval "${who}_rps=$(field "$out" req_per_s) ${who}_p50=$(field "$out" ttfb_p50_ms)"
}
for r in $(seq $ROUNDS); do
	run_big dts 10.0.0.100 8080
	run_big haproxy 10.0.0.1 8081
	# shellcheck disable=SC2086
	run_small dts 10.0.0.100 8080 $small
	# shellcheck disable=SC2086
	run_small haproxy 10.0.0.1 8081 $small
	run_small local 10.0.0.100 8080 /n1/bytes/1024
	tp_metric ratio.throughput_1mib x "$(ratio "$dts_mbps" "$haproxy_mbps")"
	tp_metric ratio.req_per_s_1kib x "$(ratio "$dts_rps" "$haproxy_rps")"
	tp_metric added.ttfb_p50_by_handover ms "$(awk -v a="$dts_p50" -v b="$local_p50" 'BEGIN { printf "%.3f", a - b }')"
	tp_info "round $r: DTS/HAProxy throughput $(ratio "$dts_mbps" "$haproxy_mbps") (goal >= 3), requests/s $(ratio "$dts_rps" "$haproxy_rps") (goal >= 1.0)"
done
tp_expect "every benchmark ran" [ -n "$dts_mbps" -a -n "$haproxy_mbps" -a -n "$dts_rps" -a -n "$haproxy_rps" ]
tp_barrier done

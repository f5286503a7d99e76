# The client of the splice_nginx benchmark: ApacheBench (Debian's ab),
# 16 concurrent clients, against DTS (the VIP: tprouter hands each
# connection to the nginx of the node its path names) and against HAProxy
# (on vm1, relaying every byte to the same nginx servers), alternating over
# BENCH_ROUNDS rounds (default 5): 1 MiB responses (throughput) and 1 KiB
# responses (requests/s), each with a new connection per request and with
# keep-alive. Each round's path names another node. Also each node's
# CPU-seconds per GiB served, the dispatchers' figure: for DTS every node
# dispatches (the VIP's hash spreads the connections), for HAProxy vm1.
# Every figure is a METRIC line (tools/bench_report.py).
ROUNDS=${BENCH_ROUNDS:-5}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
tp_barrier ready
hz=$(tp_node_stat 1 cpu_ticks_per_s)
[ "$hz" -gt 0 ] || { tp_fail "no CPU time from vm1"; hz=100; }
# ab_run N URL [-k]: ab's figures, `rps=R mbit_s=M failed=F non2xx=X`.
ab_run() {
	out=$(timeout $((600 * TP_SLOW)) ab -q -c 16 -n $1 $3 "$2" 2>&1)
	rps=$(echo "$out" | sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p')
	kbs=$(echo "$out" | sed -n 's/^Transfer rate: *\([0-9.]*\).*/\1/p')
	failed=$(echo "$out" | sed -n 's/^Failed requests: *//p')
	non2xx=$(echo "$out" | sed -n 's/^Non-2xx responses: *//p')
	echo "rps=${rps:-0} mbit_s=$(awk -v k="${kbs:-0}" 'BEGIN { printf "%.1f", k * 8 * 1024 / 1e6 }') failed=${failed:-?} non2xx=${non2xx:-0}"
}
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# measure WHO KIND URL N [-k]: one ab run, its figures and each node's CPU
# time per GiB (KIND big) as METRIC lines; sets ${WHO}_${KIND}.
measure() {
	who=$1 kind=$2 url=$3 n=$4 ka=${5:-}
	for v in 1 2 3; do eval "c0_$v=$(tp_node_stat $v cpu_busy_ticks)"; done
	out=$(ab_run $n "$url" $ka)
	tag=$who.$kind${ka:+.keepalive}
	tp_info "$tag: $url: $out"
	[ "$(field "$out" failed) $(field "$out" non2xx)" = "0 0" ] || tp_fail "$tag: requests failed: $out"
	if [ $kind = 1mib ]; then
		tp_metric "$tag.throughput" Mbit/s "$(field "$out" mbit_s)"
		total=0
		for v in 1 2 3; do
			eval "t=\$(($(tp_node_stat $v cpu_busy_ticks) - c0_$v))"
			total=$((total + t))
			tp_metric "$tag.cpu_s_per_gib.vm$v" s/GiB "$(awk -v t=$t -v hz=$hz -v n=$n 'BEGIN { printf "%.2f", t / hz / (n / 1024) }')"
		done
		tp_metric "$tag.cpu_s_per_gib.all" s/GiB "$(awk -v t=$total -v hz=$hz -v n=$n 'BEGIN { printf "%.2f", t / hz / (n / 1024) }')"
		eval "${who}_v=$(field "$out" mbit_s)"
	else
		tp_metric "$tag.req_per_s" 1/s "$(field "$out" rps)"
		eval "${who}_v=$(field "$out" rps)"
	fi
}
# Warm up both (nginx's and HAProxy's first connections).
ab_run 16 http://10.0.0.100/n1/1k > /dev/null
ab_run 16 http://10.0.0.1:8081/n1/1k > /dev/null
for r in $(seq $ROUNDS); do
	node=$(((r - 1) % 3 + 1))
	for ka in "" -k; do
		measure dts 1mib http://10.0.0.100/n$node/1m 64 $ka
		measure haproxy 1mib http://10.0.0.1:8081/n$node/1m 64 $ka
		tp_metric "ratio.throughput_1mib${ka:+.keepalive}" x "$(ratio "$dts_v" "$haproxy_v")"
		big="$(ratio "$dts_v" "$haproxy_v")"
		measure dts 1kib http://10.0.0.100/n$node/1k 320 $ka
		measure haproxy 1kib http://10.0.0.1:8081/n$node/1k 320 $ka
		tp_metric "ratio.req_per_s_1kib${ka:+.keepalive}" x "$(ratio "$dts_v" "$haproxy_v")"
		tp_info "round $r${ka:+ (keep-alive)}, node $node: DTS/HAProxy throughput $big (goal >= 3), requests/s $(ratio "$dts_v" "$haproxy_v") (goal >= 1.0)"
	done
done
tp_barrier done

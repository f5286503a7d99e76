# The client: the same requests on one keep-alive connection, to DTS (the
# VIP, where every request whose path lives on another node moves the
# connection there) and to HAProxy (which relays every byte), one after the
# other on the same VMs. Prints the figures and the ratios.
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
bench() { tptest http-bench "$@"; }
big="/n1/bytes/1048576 /n2/bytes/1048576 /n3/bytes/1048576"
small="/n1/bytes/1024 /n2/bytes/1024 /n3/bytes/1024"
tp_barrier ready
# shellcheck disable=SC2086
{
	bench 10.0.0.100 8080 3 $small > /dev/null # warm up both
	bench 10.0.0.1 8081 3 $small > /dev/null
	dts_big=$(bench 10.0.0.100 8080 30 $big)
	hap_big=$(bench 10.0.0.1 8081 30 $big)
	dts_small=$(bench 10.0.0.100 8080 300 $small)
	hap_small=$(bench 10.0.0.1 8081 300 $small)
	dts_local=$(bench 10.0.0.100 8080 300 /n1/bytes/1024)
}
tp_info "DTS, 1 MiB responses, each request on another node:  $dts_big"
tp_info "HAProxy, the same:                                     $hap_big"
tp_info "DTS, 1 KiB responses, each request on another node:  $dts_small"
tp_info "HAProxy, the same:                                     $hap_small"
tp_info "DTS, 1 KiB responses, all on one node (no handover):  $dts_local"
tp_info "throughput, 1 MiB responses: DTS/HAProxy = $(ratio "$(field "$dts_big" mbit_s)" "$(field "$hap_big" mbit_s)") (goal >= 3)"
tp_info "requests/s, 1 KiB responses: DTS/HAProxy = $(ratio "$(field "$dts_small" req_per_s)" "$(field "$hap_small" req_per_s)") (goal >= 1.0)"
tp_info "time to first byte added by a handover: median $(awk -v a="$(field "$dts_small" ttfb_p50_ms)" -v b="$(field "$dts_local" ttfb_p50_ms)" 'BEGIN { printf "%.2f", a - b }') ms, p99 $(awk -v a="$(field "$dts_small" ttfb_p99_ms)" -v b="$(field "$dts_local" ttfb_p99_ms)" 'BEGIN { printf "%.2f", a - b }') ms (DTS moving against DTS staying); HAProxy's median $(field "$hap_small" ttfb_p50_ms) ms"
tp_expect "every benchmark ran" [ -n "$(field "$dts_big" mbit_s)" -a -n "$(field "$hap_big" mbit_s)" -a -n "$(field "$dts_small" req_per_s)" -a -n "$(field "$hap_small" req_per_s)" ]
tp_barrier done

# The client of the splice_backend test: busybox wget and nc, curl and
# ApacheBench, unmodified, against the one VIP. Every response must come from the node its path
# names (its httpd serves only its own files), with exactly its bytes.

# content FILE NODE: the file FILE of node NODE, as the node makes it.
content() {
	case $1 in
	empty) printf '' ;;
	one) printf '%s' "$2" ;;
	small) echo "node $2" ;;
	big) seq 1 400000 | sed "s/^/n$2 /" ;;
	esac
}
# The SHA-256 of each, made once (the big ones take seconds here).
for n in 1 2 3; do
	for f in empty one small big; do
		eval "sha_${f}_$n=$(content $f $n | sha256sum | cut -d' ' -f1)"
	done
done
# want FILE NODE: the SHA-256 of the file FILE of node NODE.
want() { eval "echo \$sha_$1_$2"; }
# fetch NODE FILE: the SHA-256 of what wget got for /nNODE/FILE, or why not.
fetch() {
	rm -f /tmp/got
	if timeout $((60 * TP_SLOW)) wget -q -O /tmp/got "http://10.0.0.100/n$1/$2" 2> /tmp/wget.err; then
		sha256sum < /tmp/got | cut -d' ' -f1
	else
		echo "failed: $(tr '\n' ' ' < /tmp/wget.err)"
	fi
}

tp_barrier ready
# The 100 MiB files' SHA-256, as nodes 1 and 2 made them.
huge_1=$(tp_value huge1)
huge_2=$(tp_value huge2)
# Node 3's backend does not listen: the router that has the connection
# answers 502 with the reason, on the connection (no reset). The client
# keeps its side open (nc would close it at the end of its input, and a
# half-closed connection is no longer one to hand over).
resp=$( (printf 'GET /n3/small HTTP/1.1\r\nHost: vip\r\nConnection: close\r\n\r\n'
	sleep $((5 * TP_SLOW))) | timeout $((30 * TP_SLOW)) nc 10.0.0.100 80 | tr -d '\r')
tp_info "node 3 not listening: $(echo "$resp" | tr '\n' ' ')"
tp_expect "a handover to a backend that does not listen: 502 from the router" \
	sh -c "echo '$resp' | head -n 1 | grep -q '^HTTP/1.1 502 '"
tp_expect "the 502 says why" sh -c "echo '$resp' | grep -q 'handover to node 3 refused: .*refused'"
tp_barrier refused
tp_barrier serving

# Each node's files, 0 B to 4.3 MB, several times (each lands on whichever
# node the VIP's hash picks, so some are handed to the node's own backend).
ok=0
total=0
for round in 1 2 3; do
	for n in 1 2 3; do
		for f in empty one small big; do
			got=$(fetch $n $f)
			total=$((total + 1))
			if [ "$got" = "$(want $f $n)" ]; then
				ok=$((ok + 1))
			else
				tp_info "round $round /n$n/$f: $got"
			fi
		done
	done
done
tp_expect_eq "files fetched through the router from each node's httpd, SHA-256 exact" "$ok" "$total"
# Many small requests: every node's router gets some for its own node.
ok=0
for i in $(seq 1 30); do
	for n in 1 2 3; do
		[ "$(fetch $n small)" = "$(want small $n)" ] && ok=$((ok + 1))
	done
done
tp_expect_eq "small files, 30 from each node" "$ok" 90

# curl, three URLs per command, on one keep-alive connection where the
# server keeps it (nginx; busybox httpd closes after each response): the
# first request moves the connection to its node's server, which answers
# the later ones itself (Documentation/splice.rst).
for n in 1 2 3; do
	out=$(curl -s -o /tmp/c1 -o /tmp/c2 -o /tmp/c3 -w '%{http_code} %{num_connects}\n' \
		"http://10.0.0.100/n$n/big" "http://10.0.0.100/n$n/small" "http://10.0.0.100/n$n/one" 2>&1 | tr '\n' ' ')
	tp_info "curl, node $n: $out"
	tp_expect_eq "curl, three files of node $n: statuses" "$(echo "$out" | awk '{ print $1, $3, $5 }')" "200 200 200"
	if [ $n = 2 ]; then
		tp_expect_eq "curl, three files of node 2's nginx on one connection: connections opened" \
			"$(echo "$out" | awk '{ print $2, $4, $6 }')" "1 0 0"
	fi
	tp_expect_eq "curl, three files of node $n on one connection: SHA-256" \
		"$(sha256sum < /tmp/c1 | cut -d' ' -f1) $(sha256sum < /tmp/c2 | cut -d' ' -f1) $(sha256sum < /tmp/c3 | cut -d' ' -f1)" \
		"$(want big $n) $(want small $n) $(want one $n)"
done
# Node 2's file, then node 1's on the same connection: nginx has it, and
# answers the second request too, with a 404 (it has no file of node 1).
out=$(curl -s -o /dev/null -o /dev/null -w '%{http_code} %{num_connects} ' \
	"http://10.0.0.100/n2/small" "http://10.0.0.100/n1/small" 2>&1)
tp_expect_eq "curl, node 2's file then node 1's on one connection: nginx answers both" \
	"$out" "200 1 404 0 "

# One client port, three connections in a row to node 3's httpd: httpd
# closes first, so node 3's stack keeps each connection in TIME_WAIT on the
# backend port, and the client (whose side is closed) may reuse the port
# at once. The handover must end that TIME_WAIT as the stack does for a new
# SYN, not refuse the connection (it did: a 502, "File exists").
# Which side closes first is a race (curl may close after the body, before
# httpd's FIN arrives), and a client left in TIME_WAIT could not bind the
# port again (curl exits 45). The client keeps no TIME_WAIT meanwhile, so
# the only TIME_WAIT in play is node 3's, the one under test.
tw_buckets=$(cat /proc/sys/net/ipv4/tcp_max_tw_buckets)
echo 0 > /proc/sys/net/ipv4/tcp_max_tw_buckets
codes=""
for i in 1 2 3; do
	code=$(timeout $((30 * TP_SLOW)) curl -s -o /dev/null -w '%{http_code}' --local-port 45678 \
		http://10.0.0.100/n3/small) || code="$code(curl exited $?)"
	codes="$codes $code"
done
echo "$tw_buckets" > /proc/sys/net/ipv4/tcp_max_tw_buckets
tp_expect_eq "three connections from one client port in a row, node 3's httpd" "$codes" " 200 200 200"

# 100 MiB from each stock server, nginx (node 2) and busybox httpd (node
# 1), each through a handover, straight into sha256sum.
for n in 1 2; do
	got=$(timeout $((300 * TP_SLOW)) curl -s "http://10.0.0.100/n$n/huge" | sha256sum | cut -d' ' -f1)
	tp_expect_eq "100 MiB from node $n's server through the router, SHA-256" "$got" "$(eval echo \$huge_$n)"
done

# ApacheBench, unmodified, 16 concurrent clients: with keep-alive against
# nginx (each connection moved once, then served by nginx), without it
# against busybox httpd. ab counts a response of another length than the
# first (a 404 from a wrong node) as failed.
# ab_check WHAT N ARGS...: ab completed N requests, none failed, all 2xx.
ab_check() {
	what=$1
	n=$2
	shift 2
	out=$(timeout $((300 * TP_SLOW)) ab -q -n $n "$@" 2>&1) || tp_info "$what: ab exited with $?"
	tp_info "$what: $(echo "$out" | grep -E '^(Complete|Failed|Non-2xx|Keep-Alive|Requests per second|Time per request)' | tr -s ' ' | tr '\n' ';')"
	tp_expect_eq "$what: complete, failed, non-2xx" \
		"$(echo "$out" | sed -n 's/^Complete requests: *//p') $(echo "$out" | sed -n 's/^Failed requests: *//p') $(echo "$out" | sed -n 's/^Non-2xx responses: *//p')" \
		"$n 0 "
}
ab_check "ab -k -c 16, node 2's nginx" 320 -k -c 16 http://10.0.0.100/n2/small
ab_check "ab -c 16, node 1's httpd" 160 -c 16 http://10.0.0.100/n1/small
ab_check "ab -k -c 16, node 3's httpd, 4.3 MB each" 32 -k -c 16 http://10.0.0.100/n3/big

# Request heads the router refuses, through the VIP: a malformed one (400)
# and one over its 8 KiB limit (431), answered on the connection.
resp=$( (printf 'GARBAGE\r\n\r\n'; sleep $((3 * TP_SLOW))) | timeout $((30 * TP_SLOW)) nc 10.0.0.100 80 | head -n 1 | tr -d '\r')
tp_expect_eq "a malformed request head: the router's answer" "$resp" "HTTP/1.1 400 Bad Request"
long=$(head -c 9000 /dev/zero | tr '\0' a)
tp_expect_eq "a request head over 8 KiB: the router's answer" \
	"$(timeout $((30 * TP_SLOW)) curl -s -o /dev/null -w '%{http_code}' -H "X-Long: $long" http://10.0.0.100/n1/small)" "431"

# 5% loss and reordering on every link of the hub.
for n in 1 2 3 4; do tp_host netem $n delay 2ms reorder 75% loss 5%; done
ok=0
for n in 1 2 3; do
	for f in big small; do
		[ "$(fetch $n $f)" = "$(want $f $n)" ] && ok=$((ok + 1))
	done
done
for n in 1 2 3 4; do tp_host netem-clear $n; done
tp_expect_eq "under 5% loss and reordering: files SHA-256 exact" "$ok" 6
tp_barrier done
tp_barrier reported

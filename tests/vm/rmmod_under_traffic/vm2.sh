# The client: a paced TCP stream (24 MiB over ~6 s) and a ping every 50 ms
# to the node while it cycles the module; every byte must arrive and every
# ping be answered.
bytes=$((24 * 1024 * 1024))
tp_barrier listening
tptest source 10.0.0.1 5000 $bytes 42 15 > /tmp/source.out &
source=$!
ping -i 0.05 10.0.0.1 > /tmp/ping.log &
pinger=$!
sleep 0.5
tp_barrier flowing
tp_barrier cycled
wait $source || tp_fail "tptest source failed"
kill -INT $pinger; wait $pinger
tp_barrier done
tp_expect_eq "bytes and SHA-256 received by the node" "$(tp_value received)" "$(tptest digest $bytes 42 | tr ' ' ',')"
set -- $(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) packets received.*/\1 \2/p' /tmp/ping.log)
tp_info "pings: $1 sent, $2 answered"
tp_expect "pings sent throughout" [ "$1" -ge 40 ]
# The last request may still be in flight when ping is stopped.
tp_expect "no ping lost ($1 sent, $2 answered)" [ $(( $1 - $2 )) -le 1 ]

# The node: its hook must count exactly the IPv4 packets the client sends it,
# fragments one by one, and the bytes of each; and each namespace counts
# only its own packets.
insmod $TP_KO
tp_expect_eq "counter of a fresh node" "$(tp_stat hook_packets)" 0
tp_barrier loaded

tp_barrier pinged
small=$(tp_value small_sent)
large=$(tp_value large_sent)
size=$(tp_value large_size)
mtu=$(cat /sys/class/net/eth0/mtu)
# An echo request carries size + 8 bytes of ICMP; IPv4 fragments carry
# multiples of 8 bytes of payload, each behind its own 20-byte header.
per_frag=$(( (mtu - 20) / 8 * 8 ))
icmp=$((size + 8))
frags=$(( (icmp + per_frag - 1) / per_frag ))
want_packets=$((small + large * frags))
want_bytes=$((small * (56 + 8 + 20) + large * (icmp + 20 * frags)))
tp_info "$small small + $large large pings of $frags fragments: $want_packets packets, $want_bytes bytes"
[ "$frags" -gt 1 ] || tp_fail "large pings must be fragmented (size $size, mtu $mtu)"
tp_expect_eq "hook_packets" "$(tp_stat hook_packets)" "$want_packets"
tp_expect_eq "hook_bytes" "$(tp_stat hook_bytes)" "$want_bytes"
tpctl stats show
tp_expect_eq "tpctl -j stats" "$(tpctl -j stats show | cut -d, -f1-2)" "{\"hook_packets\":$want_packets,\"hook_bytes\":$want_bytes"

# A new namespace is a separate node: 3 pings over its loopback are 3
# requests and 3 replies through its PRE_ROUTING, nothing else.
ns=$(unshare -n sh -c 'ip link set lo up; ping -c 3 -i 0.2 -q 127.0.0.1 >/dev/null; cat /proc/net/tpcluster')
tp_expect_eq "loopback pings in a new namespace" "$(echo "$ns" | head -n 2 | tr '\n' ' ')" "hook_packets 6 hook_bytes $((6 * 84)) "
tp_expect_eq "initial namespace untouched by it" "$(tp_stat hook_packets)" "$want_packets"
rmmod tpcluster
rc=0
tpctl stats show 2>/tmp/err || rc=$?
tp_expect_eq "tpctl exit status without the module" "$rc" 1
tp_expect "tpctl says why: $(cat /tmp/err)" grep -q "is the tpcluster module loaded" /tmp/err

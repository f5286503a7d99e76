# The client: known numbers of small and fragmented pings to the node.
tp_barrier loaded
small=7
large=4
size=3000
ping -c $small -i 0.2 10.0.0.1 > /tmp/small.log
ping -c $large -i 0.2 -s $size 10.0.0.1 > /tmp/large.log
sent() { sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) packets received.*/\1 \2/p' "$1"; }
tp_expect_eq "small pings sent and answered" "$(sent /tmp/small.log)" "$small $small"
tp_expect_eq "large pings sent and answered" "$(sent /tmp/large.log)" "$large $large"
tp_barrier pinged small_sent="$(sent /tmp/small.log | cut -d' ' -f1)" \
	large_sent="$(sent /tmp/large.log | cut -d' ' -f1)" large_size=$size

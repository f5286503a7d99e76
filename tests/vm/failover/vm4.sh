# The client: long-lived echo connections held across a node's death and
# return, and new connections at each stage. Unmodified programs only.

# held_field FILE SERVER FIELD: a field of `tptest hold`'s line for SERVER.
held_field() {
	sed -n "s/^$2 .*$3=\([^ ]*\).*/\1/p" "$1"
}

# survivors_kept FILE WHAT: every connection held by vm1 and vm2 kept
# answering, with no stall (every round trip under $TP_STALL_MS) and no
# change of server. (check.py adds, from the capture, that none of their
# client segments was lost: sent again before the node acknowledged it.)
survivors_kept() {
	for vm in vm1 vm2; do
		tp_expect_eq "$2: $vm's connections failed, changed server" \
			"$(held_field "$1" $vm failed) $(held_field "$1" $vm changed)" "0 0"
		rtt=$(held_field "$1" $vm max_rtt_ms)
		tp_expect "$2: $vm's connections never stalled (longest round trip $rtt ms)" [ "${rtt:-99999}" -lt $TP_STALL_MS ]
	done
}

# new_connections WHAT WANT_VM3: 300 new connections all succeed; vm3 serves
# none (WANT_VM3=none) or some (WANT_VM3=some).
new_connections() {
	out=$(tptest connect-many 10.0.0.100 80 300)
	tp_info "$1: $(echo "$out" | tr '\n' ' ')"
	tp_expect_eq "$1: new connections, failed" "$(echo "$out" | head -n 1)" "connections=300 failed=0"
	n3=$(echo "$out" | sed -n 's/^vm3=//p')
	case $2 in
	none) tp_expect_eq "$1: served by vm3" "${n3:-0}" "0" ;;
	some) tp_expect "$1: vm3 serves its share again (${n3:-0} of 300)" [ "${n3:-0}" -ge 60 ] ;;
	esac
}

tp_barrier ready
tptest hold 10.0.0.100 83 30 $((15 * TP_SLOW)) > /tmp/hold1 &
hold1=$!
sleep $((3 * TP_SLOW))
tp_barrier held
tp_barrier counted
held_by="$(tp_value conns1) $(tp_value conns2) $(tp_value conns3)"
tp_barrier dead
new_connections "vm3 dead" none
wait $hold1
tp_info "held across the death: $(tr '\n' ' ' < /tmp/hold1)"
survivors_kept /tmp/hold1 "held across the death"
tp_expect_eq "each node listed (tpctl conn show) the held connections it served" "$held_by" \
	"$(held_field /tmp/hold1 vm1 connections) $(held_field /tmp/hold1 vm2 connections) $(held_field /tmp/hold1 vm3 connections)"
tp_expect "vm3's connections were held too, and died with it" \
	[ -n "$(held_field /tmp/hold1 vm3 connections)" -a "$(held_field /tmp/hold1 vm3 ok)" = 0 ]

start=$(tp_uptime_ms)
tptest hold 10.0.0.100 83 30 $((60 * TP_SLOW)) > /tmp/hold2 &
hold2=$!
sleep $((3 * TP_SLOW))
tp_barrier survived
tp_barrier returned
back=$(tp_uptime_ms)
new_connections "vm3 back" some
wait $hold2
tp_info "held across the return: $(tr '\n' ' ' < /tmp/hold2)"
tp_expect "vm3 returned while the second set was held ($(((back - start) / 1000)) s of $((60 * TP_SLOW)))" \
	[ $((back - start)) -lt $((60000 * TP_SLOW)) ]
tp_expect_eq "connections made while vm3 was dead all ran to the end" \
	"$(($(held_field /tmp/hold2 vm1 ok) + $(held_field /tmp/hold2 vm2 ok)))" "30"
survivors_kept /tmp/hold2 "held across the return"
tp_barrier done
tp_barrier reported

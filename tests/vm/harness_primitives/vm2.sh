# The failure primitives later tests rely on, checked from a peer: link cut
# and restored, netem loss, and a power cut.
reach() { ping -c "${2:-3}" -i 0.2 -W 1 -w 3 10.0.0.1 >/dev/null 2>&1; }
answered() { ping -c 20 -i 0.05 -W 1 -w 4 10.0.0.1 | sed -n 's/.* \([0-9]*\) packets received.*/\1/p'; }
tp_barrier up
tp_expect "peer reachable" reach
tp_host link-down 1
tp_expect "link cut: peer unreachable" sh -c '! ping -c 2 -W 1 -w 2 10.0.0.1 >/dev/null 2>&1'
tp_host link-up 1
tp_expect "link restored: peer reachable" reach
tp_host netem 1 loss 100%
tp_expect_eq "netem loss 100%: answers" "$(answered)" 0
tp_host netem 1 loss 50%
got=$(answered)
tp_expect "netem loss 50%: some but not all answered ($got/20)" [ "$got" -gt 0 -a "$got" -lt 20 ]
tp_host netem-clear 1
tp_expect_eq "netem cleared: answers" "$(answered)" 20
if tp_host kill 9; then tp_fail "host accepted a kill of a VM that does not exist"; else tp_pass "host refuses a bad primitive"; fi
tp_barrier checked
tp_host kill 1
tp_expect "powered off: peer unreachable" sh -c '! ping -c 2 -W 1 -w 2 10.0.0.1 >/dev/null 2>&1'

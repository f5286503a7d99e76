# The control plane under hostile input: 100,000 random and mutated
# requests of the tpcluster netlink family (tptest nl-fuzz: any command,
# do or dump, any attribute set, lengths and nesting, valid requests with
# bytes flipped, cut, repeated or dropped), 20,000 from an unprivileged
# caller and 80,000 from root. The runner fails the test on any oops, WARN
# or lockdep report; a refused request must leave the configuration as it
# was; the module still works and unloads, and on the debug kernel
# kmemleak finds nothing leaked.
tp_leaks_clear
insmod $TP_KO
tpctl node set id 1 addr 10.0.0.1 port 7000 key "$(printf 'ab%.0s' $(seq 32))"
tpctl peer add id 2 addr 10.0.0.2
tpctl vip add 10.0.0.100 mac 01:00:5e:00:00:64 dev eth0
tpctl service add 10.0.0.100:80
tpctl service add 10.0.0.100:81 mode replicate replicas 2
snapshot() { for o in node peer vip service; do tpctl -j $o show; done; }
snapshot > /tmp/before

out=$(tptest run-as 1000 tptest nl-fuzz $((20000 / TP_SLOW)) 7)
tp_info "unprivileged: $out"
snapshot > /tmp/after
tp_expect "the configuration is unchanged by an unprivileged caller's requests" cmp -s /tmp/before /tmp/after
tp_expect "an unprivileged caller had every write refused ($(echo "$out" | head -n 1))" \
	sh -c "echo '$out' | head -n 1 | grep -q 'refused=[1-9]'"

out=$(tptest nl-fuzz $((80000 / TP_SLOW)) 11 check)
tp_info "root: $(echo "$out" | head -n 1)"
tp_expect_eq "requests refused that changed the configuration" \
	"$(echo "$out" | head -n 1 | sed 's/.*changed_by_refused=//')" 0
[ "$(echo "$out" | wc -l)" -gt 1 ] && tp_info "$out"

# Still a working control plane, and a clean unload.
tpctl node set id 1 addr 10.0.0.1 port 7000 key "$(printf 'cd%.0s' $(seq 32))"
tp_expect "the node answers after the fuzzing" sh -c 'tpctl -j node show | grep -q "\"id\":1"'
i=0
while ! rmmod tpcluster 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
tp_expect "module unloaded" sh -c '! grep -q "^tpcluster " /proc/modules'
tp_expect_no_leaks "after the fuzzing"

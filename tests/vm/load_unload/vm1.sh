# Load and unload tpcluster 20 times. Each cycle must create the node of the
# initial namespace, create and destroy the node of a new namespace, and
# leave nothing behind on unload. The runner fails the test on any BUG, WARN,
# Oops or lockdep report on the console; on the debug kernel, kmemleak must
# find no object leaked since the cycles began (an unloaded module's frames
# are bare addresses in kmemleak's backtraces, so every new report counts).

tp_leaks_clear

cycles=20
good=0
for i in $(seq $cycles); do
	insmod $TP_KO || { tp_fail "cycle $i: insmod failed"; break; }
	[ "$(tp_stat hook_packets)" = 0 ] || tp_fail "cycle $i: counter of a fresh node is not 0"
	# A namespace created and destroyed while loaded: pernet init and exit.
	[ "$(unshare -n cat /proc/net/tpcluster | awk '$1 == "hook_packets" { print $2 }')" = 0 ] ||
		tp_fail "cycle $i: no fresh node in a new namespace"
	rmmod tpcluster || { tp_fail "cycle $i: rmmod failed"; break; }
	[ -e /proc/net/tpcluster ] && tp_fail "cycle $i: /proc/net/tpcluster left after rmmod"
	good=$((good + 1))
done
tp_expect_eq "clean load/unload cycles" "$good" "$cycles"
tp_expect "module gone from lsmod" sh -c '! lsmod | grep -q "^tpcluster "'

tp_expect_no_leaks "during the cycles"

# The node: unload and reload the module ten times while the client streams
# TCP data and pings; the kernel must stay healthy and the traffic intact.
insmod $TP_KO
tptest sink 5000 > /tmp/sink.out &
sink=$!
tp_barrier listening
tp_barrier flowing
for i in $(seq 10); do
	rmmod tpcluster
	sleep 0.1
	insmod $TP_KO
	sleep 0.1
done
before=$(tp_stat hook_packets)
sleep 1
after=$(tp_stat hook_packets)
tp_expect "hook counts the continuing traffic after the cycles ($before -> $after)" [ "$after" -gt "$before" ]
tp_barrier cycled
wait $sink
tp_barrier done received="$(cat /tmp/sink.out | tr ' ' ',')"
rmmod tpcluster

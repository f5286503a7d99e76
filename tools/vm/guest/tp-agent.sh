#!/bin/sh
# The VM's agent: runs the failure primitives the host asks for on this VM,
# one command per line, and answers each with OK or ERR reason. iproute2's
# tc is called by its full path: busybox's shell prefers its own applets.
#   netem QDISC-ARGS...   impair what this VM sends (netem on eth0's egress)
#   netem-clear           remove it
#   mute ADDR...          drop what this VM sends to ADDR... (blackhole
#                         routes): a one-way cut, it still hears them and
#                         still reaches every other address
#   unmute ADDR...        remove those routes
while read -r cmd args; do
	case "$cmd" in
	netem) out=$(/sbin/tc qdisc replace dev eth0 root netem $args 2>&1) ;;
	netem-clear) out=$(/sbin/tc qdisc del dev eth0 root 2>&1) ;;
	mute) out=$(for a in $args; do ip route add blackhole "$a/32" || exit 1; done 2>&1) ;;
	unmute) out=$(for a in $args; do ip route del blackhole "$a/32" || exit 1; done 2>&1) ;;
	*) echo "ERR unknown agent command $cmd"; continue ;;
	esac
	if [ $? = 0 ]; then echo OK; else echo "ERR $(echo "$out" | tr '\n' ' ')"; fi
done

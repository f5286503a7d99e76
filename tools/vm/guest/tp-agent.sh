#!/bin/sh
# The VM's agent: runs the failure primitives the host asks for on this VM,
# one command per line, and answers each with OK or ERR reason. iproute2's
# tc is called by its full path: busybox's shell prefers its own applets.
#   netem QDISC-ARGS...   impair what this VM sends (netem on eth0's egress)
#   netem-clear           remove it
while read -r cmd args; do
	case "$cmd" in
	netem) out=$(/sbin/tc qdisc replace dev eth0 root netem $args 2>&1) ;;
	netem-clear) out=$(/sbin/tc qdisc del dev eth0 root 2>&1) ;;
	*) echo "ERR unknown agent command $cmd"; continue ;;
	esac
	if [ $? = 0 ]; then echo OK; else echo "ERR $(echo "$out" | tr '\n' ' ')"; fi
done

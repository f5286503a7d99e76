#!/usr/bin/env bash
# `make demo`: a cluster of three tpcluster nodes plus a client, each a VM on
# one private L2 hub, showing balance mode: one address served by three
# nodes, each new connection by one of them; splice mode: a live keep-alive
# connection handed from node to node by an HTTP router; a node power-cut
# and the survivors taking its share; replicate mode: a download carrying
# on, byte-exact, while the node sending it is power-cut (and a plot of
# the client's throughput over time across it).
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/kernel/paths.sh

results=results/demo-$(date +%Y%m%d-%H%M%S)
mkdir -p "$results"
echo "==> building tpcluster.ko, tpctl, the VM tools and the initramfs"
tools/vm/build.sh "$results/base.initrd" > "$results/build.log" 2>&1 ||
	{ tail -n 40 "$results/build.log"; echo "build failed (log: $results/build.log)"; exit 1; }
cat <<'TEXT'
==> booting vm1..vm3 (nodes, 10.0.0.1-3) and vm4 (client, 10.0.0.4) on one hub
    Each node loads tpcluster.ko, joins the cluster (shared key, heartbeats
    over the cluster channel) and serves the VIP 10.0.0.100.
    Act 1: the client opens 300 connections to the VIP; each is answered by
    exactly one node, about a third each.
    Act 2: one keep-alive HTTP connection, six requests; the router on the
    node holding it reads each request and hands the live connection to
    the node its path names, which answers directly (X-Served-By). Then
    the same in front of Debian's nginx (a splice service with a backend
    port): each connection ends up at nginx on the node the path names.
    Act 3: vm1 power-cuts vm3 while the client holds 20 connections; the
    survivors see it dead within ~250 ms, keep their connections, and take
    all new connections between them.
    Act 4: vm3 comes back. A download from a replicate service (R=2): two
    nodes' stacks run the connection, one sends; that one is power-cut
    mid-download and the other takes over: no byte lost, no reset.
TEXT
tools/vm/run.py --kernel "$(tpc_kdir)/arch/x86/boot/bzImage" --initrd "$results/base.initrd" \
	--results "$results" --show-info tools/demo/cluster
python3 tools/plot_timeline.py "$results/cluster/vm4.ctl.log" "$results/replicate-failover.svg" \
	"act 4: client throughput of a replicated download across its primary's power cut" &&
	echo "==> act 4's throughput over time: $results/replicate-failover.svg"
echo "==> consoles and transcripts: $results/cluster"

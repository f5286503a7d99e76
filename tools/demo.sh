#!/usr/bin/env bash
# `make demo`: a cluster of three tpcluster nodes plus a client, each a VM on
# one private L2 hub, showing what the module does today: every node's
# netfilter hook counts the traffic the client sends it.
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
    Each node loads tpcluster.ko. In three rounds the client pings node 1,
    then 2, then 3; after each round every node prints its counters
    (tpctl stats show): only the node just pinged moves, by 5 requests of
    84 bytes each.
TEXT
tools/vm/run.py --kernel "$(tpc_kdir)/arch/x86/boot/bzImage" --initrd "$results/base.initrd" \
	--results "$results" --show-info tools/demo/cluster
echo "==> consoles and transcripts: $results/cluster"

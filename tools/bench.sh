#!/usr/bin/env bash
# `make bench`: benchmarks, separate from the tests. Each prints its figures
# and the ratios against a baseline measured in the same run on the same VMs.
#   table:   the connection table's lookup on the host (the same source
#            the module builds): ns per lookup of a tracked and of an
#            untracked connection with 0, 10,000, 100,000 and 1,000,000
#            connections tracked in 2^20 slots.
#   digest:  the replicas' output digest on the host (the same source the
#            module builds): ns per KiB and MiB/s, in pieces of 1448 bytes
#            (a segment) and 64 KiB (a GSO packet).
#   hook:    the hooks' own cost per packet, in the guest (module
#            parameter hook_timing): a node alone streams 64 MiB on a
#            balance connection while its replicate service's table holds
#            0, about 10,000 and about 100,000 half-open connections (left
#            by SYN floods); ns per packet at PRE_ROUTING and POST_ROUTING,
#            and each size's ratio to none tracked (flat is the goal).
#   splice-nginx: DTS in front of Debian's nginx on every node (backend
#            port; tprouter hands each connection to the nginx of the node
#            its path names) against HAProxy in front of the same nginx
#            servers: ApacheBench with 16 concurrent clients, 1 MiB and
#            1 KiB responses, a connection per request and keep-alive; each
#            node's CPU-seconds per GiB.
#   splice:  DTS (tprouter handing each request's connection to the node its
#            path names) against HAProxy from Debian (http mode, the same
#            path switching to the same application): throughput with 1 MiB
#            responses, requests/s with 1 KiB, time to first byte added.
#   balance: tpcluster balance mode behind the VIP against plain TCP to one
#            of the same servers with the module not loaded: single-stream
#            throughput and connections per second; also the VIP served by
#            one node alone, which tells the hook's own cost from what the
#            other nodes' receiving every frame costs on shared host cores.
#   replicate: replicate mode (R=2) against plain TCP to the same node:
#            throughput, request round trip; then the primary power-cut at a
#            random 30-70 % of a transfer, BENCH_CUTS times (default 5) for
#            each of download and upload, R=2 and R=3 (20 in all): the
#            stall's p50, p99 and max, per kind and over all.
# Balance and replicate alternate baseline and subject over BENCH_ROUNDS
# rounds (default 5) and report each node's CPU-seconds per GiB (and per
# 1000 connections) by its part. Every figure's raw values go to
# results/bench-*/bench.json, with a Markdown table (bench.md);
# tools/bench-compare A.json B.json puts two runs side by side.
# BENCH="part ..." runs only those parts (table, digest, hook,
# splice-nginx, splice, balance, replicate).
# The VMs run under TCG unless KVM really works, so absolute figures are
# those of emulated CPUs; the ratios are what to read.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/kernel/paths.sh
results=results/bench-$(date +%Y%m%d-%H%M%S)
mkdir -p "$results"
command -v haproxy > /dev/null ||
	{ echo "==> installing haproxy (the splice benchmark's baseline)"; apt-get install -y --no-install-recommends haproxy > "$results/haproxy-install.log" 2>&1; }
export TPC_EXTRA_DYNAMIC=$(command -v haproxy)
echo "==> building"
tools/vm/build.sh "$results/base.initrd" > "$results/build.log" 2>&1 ||
	{ tail -n 40 "$results/build.log"; echo "build failed (log: $results/build.log)"; exit 1; }
# part NAME: whether BENCH (default: all) names this part.
part() { case " ${BENCH:-table digest hook splice-nginx splice balance replicate} " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
if part table; then
	echo "==> the connection table's lookup cost, on the host (results in $results)"
	mkdir -p "$results/table"
	cargo test --release --locked -q -p tpcluster-host-tests table_lookup_cost -- --ignored --nocapture \
		2>&1 | grep '^>> DATA' | tee "$results/table/host.ctl.log"
fi
if part digest; then
	echo "==> the replicas' output digest's cost per byte, on the host (results in $results)"
	mkdir -p "$results/digest"
	cargo test --release --locked -q -p tpcluster-host-tests output_digest_cost -- --ignored --nocapture \
		2>&1 | grep '^>> DATA' | tee "$results/digest/host.ctl.log"
fi
if part hook; then
	echo "==> the hooks' cost per packet with 0 to 100,000 connections tracked (results in $results)"
	tools/vm/run.py --kernel "$(tpc_kdir)/arch/x86/boot/bzImage" --initrd "$results/base.initrd" \
		--results "$results" --show-info tools/bench/hook
fi
if part splice-nginx; then
	echo "==> splice (DTS) in front of nginx against HAProxy in front of nginx (results in $results)"
	tools/vm/run.py --kernel "$(tpc_kdir)/arch/x86/boot/bzImage" --initrd "$results/base.initrd" \
		--results "$results" --show-info tools/bench/splice_nginx
fi
if part splice; then
	echo "==> splice (DTS) against HAProxy (results in $results)"
	tools/vm/run.py --kernel "$(tpc_kdir)/arch/x86/boot/bzImage" --initrd "$results/base.initrd" \
		--results "$results" --show-info tools/bench/splice
fi
if part balance; then
	echo "==> balance mode against plain TCP (results in $results)"
	tools/vm/run.py --kernel "$(tpc_kdir)/arch/x86/boot/bzImage" --initrd "$results/base.initrd" \
		--results "$results" --show-info tools/bench/balance
fi
if part replicate; then
	echo "==> replicate mode against plain TCP (results in $results)"
	tools/vm/run.py --kernel "$(tpc_kdir)/arch/x86/boot/bzImage" --initrd "$results/base.initrd" \
		--results "$results" --show-info tools/bench/replicate
	python3 tools/plot_timeline.py "$results/replicate/vm4.ctl.log" "$results/replicate-failover.svg" \
		"replicate (R=2): client throughput while the primary is power-cut" &&
		echo "==> plot: $results/replicate-failover.svg"
fi
echo "==> figures (results/$(basename "$results")/bench.json, bench.md)"
python3 tools/bench_report.py "$results"

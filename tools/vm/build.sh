#!/usr/bin/env bash
# build.sh INITRD: build tpcluster.ko, tpctl and the VM test tools, and the
# base initramfs every VM boots from. Output of the builds goes to stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
. tools/kernel/paths.sh
[ -x "$TPC_NGINX" ] || { echo "no $TPC_NGINX: run make setup"; exit 1; }
out=$1
make --no-print-directory all
RUSTFLAGS="-C target-feature=+crt-static" cargo build --locked --release \
	--target x86_64-unknown-linux-gnu -p tpctl -p tptest -p tprouter
bin=target/x86_64-unknown-linux-gnu/release
# TPC_EXTRA_DYNAMIC: more host binaries for /sbin (the benchmarks' HAProxy).
extra=()
for b in ${TPC_EXTRA_DYNAMIC:-}; do extra+=(--dynamic "$b"); done
tools/vm/initramfs.py --module tpcluster.ko --tool $bin/tpctl --tool $bin/tptest --tool $bin/tprouter \
	--tool packaging/tpcluster-up --tool packaging/tpcluster-down \
	--dynamic /sbin/tc --dynamic /usr/bin/iperf3 --dynamic /usr/bin/curl --dynamic /usr/bin/ab --dynamic "$TPC_NGINX" \
	"${extra[@]}" --out "$out"

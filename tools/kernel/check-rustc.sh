#!/usr/bin/env bash
# check-rustc.sh KDIR [RUSTC=...]: a Rust module must be built by exactly the
# rustc that built the kernel tree; say so clearly instead of failing deep in
# the build with a metadata mismatch.
set -euo pipefail
kdir=$1; shift
rustc=rustc
for a in "$@"; do case "$a" in RUSTC=*) rustc=${a#RUSTC=} ;; esac; done
want=$(sed -n 's/^CONFIG_RUSTC_VERSION_TEXT="\(.*\)"$/\1/p' "$kdir/.config" 2>/dev/null || true)
if [ -z "$want" ]; then
	grep -q '^CONFIG_RUST=y' "$kdir/.config" 2>/dev/null ||
		{ echo "error: $kdir is not a Rust-enabled kernel tree (CONFIG_RUST=y)"; exit 1; }
	exit 0
fi
have=$("$rustc" --version 2>/dev/null || echo "no $rustc")
if [ "$have" != "$want" ]; then
	echo "error: $kdir was built with '$want' but '$rustc' is '$have'."
	echo "       Pass the tree's own compiler: make KDIR=$kdir RUSTC=/path/to/that/rustc (and its LLVM=...)."
	exit 1
fi

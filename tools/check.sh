#!/usr/bin/env bash
# `make check`: formatting and lints, warnings as failures.
#  - rustfmt over the module (crate root and every file it includes) and the
#    host crates;
#  - the module built with the kernel's own Rust lints and CLIPPY=1;
#  - cargo clippy over the host crates;
#  - the netlink code generated from the YNL spec is current;
#  - the fuzz targets (a package of their own) still compile against the
#    module's sources they include.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
echo "==> rustfmt"
rustfmt --check --edition 2021 tpcluster.rs || status=1
cargo fmt --all --check || status=1
echo "==> module with CLIPPY=1"
touch tpcluster.rs
log=$(make --no-print-directory module CLIPPY=1 2>&1) || { echo "$log"; status=1; }
if grep -E 'warning|error' <<<"$log"; then status=1; fi
echo "==> cargo clippy"
cargo clippy --locked --workspace --all-targets -- -D warnings || status=1
echo "==> generated netlink code"
tools/ynl-regen.sh --check || status=1
echo "==> fuzz targets compile"
(cd fuzz && cargo check --locked --quiet) || status=1
[ $status = 0 ] && echo "check: clean"
exit $status

#!/usr/bin/env bash
# Static builds of the userspace programs that run inside the test VMs.
set -euo pipefail
cd "$(dirname "$0")/.."
RUSTFLAGS="-C target-feature=+crt-static" cargo build --locked --release \
	--target x86_64-unknown-linux-gnu -p tpctl -p tptest

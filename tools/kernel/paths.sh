# Shared locations of the build cache; sourced by the setup and test scripts.
# The cache lives outside the repository so that a fresh clone reuses it.
# shellcheck shell=bash

TPC_CACHE=${TPC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tpcluster}
TPC_KERNEL=${KERNEL:-default}           # "default" or "debug" (KASAN + kmemleak)
TPC_RUSTC=/usr/bin/rustc                 # Debian's rustc-web: the kernel's and the module's compiler
TPC_CLIPPY_DRIVER=/usr/bin/clippy-driver  # the same release's clippy, for CLIPPY=1
TPC_LLVM=-19
TPC_RUST_LIB_SRC=/usr/lib/rustlib/src/rust/library
TPC_BINDGEN_VERSION=0.71.1
TPC_BINDGEN=$TPC_CACHE/bindgen-$TPC_BINDGEN_VERSION/bin/bindgen
# Debian's nginx, unpacked (not installed: no service is started), for the
# VM tests' stock backends.
TPC_NGINX=$TPC_CACHE/nginx/usr/sbin/nginx
TPC_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# The configuration fragments that define a kernel variant.
tpc_fragments() {
	echo "$TPC_REPO/tools/kernel/tpcluster.config"
	if [ "$TPC_KERNEL" = debug ]; then
		echo "$TPC_REPO/tools/kernel/debug.config"
	fi
}

# The cached kernel tree for this variant: keyed by the kernel source
# version, the compiler and the configuration fragments.
tpc_kdir() {
	local kver key
	kver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) || return 1
	[ -n "$kver" ] || return 1
	key=$( { echo "$kver"; "$TPC_RUSTC" --version 2>/dev/null; cat $(tpc_fragments); } |
		sha256sum | cut -c1-12)
	echo "$TPC_CACHE/linux-$kver-$TPC_KERNEL-$key"
}

#!/usr/bin/env bash
# `make setup`: install the build and test toolchain and build the pinned
# kernel into the cache. Idempotent; with a warm cache it only checks.
set -euo pipefail
. "$(dirname "$0")/kernel/paths.sh"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

RUST_PIN=1.85.0+dfsg3-1~deb12u3
PACKAGES=(
	"rustc-web=$RUST_PIN" "rust-web-src=$RUST_PIN"
	"libstd-rust-web-dev=$RUST_PIN" "libstd-rust-web-1.85=$RUST_PIN" "rust-web-clippy=$RUST_PIN"
	linux-source-6.12 clang-19 lld-19 llvm-19 libclang-19-dev
	flex bison bc libelf-dev libssl-dev make xz-utils cpio kmod
	qemu-system-x86 busybox-static iproute2 tcpdump iperf3 curl apache2-utils
)

packages_missing() {
	local p name want have
	for p in "${PACKAGES[@]}"; do
		name=${p%%=*}
		want=${p#*=}; [ "$want" = "$p" ] && want=
		have=$(dpkg-query -W -f='${db:Status-Abbrev} ${Version}' "$name" 2>/dev/null || true)
		case "$have" in
		"ii "*) [ -z "$want" ] || [ "${have#ii  }" = "$want" ] || echo "$p" ;;
		*) echo "$p" ;;
		esac
	done
}

step "Debian packages"
missing=$(packages_missing)
if [ -n "$missing" ]; then
	[ "$(id -u)" = 0 ] || die "missing packages and not root: apt-get install $missing"
	echo "installing: $missing"
	apt-get update -q || die "apt-get update failed: check the machine's apt sources"
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		--allow-downgrades $missing ||
		die "apt-get install failed for: $missing (rustc-web must be $RUST_PIN, from bookworm-security)"
	missing=$(packages_missing)
	[ -z "$missing" ] || die "still missing after install: $missing"
else
	echo "all present"
fi
"$TPC_RUSTC" --version | grep -q '^rustc 1\.85\.' || die "$TPC_RUSTC is not rustc 1.85"
[ -d "$TPC_RUST_LIB_SRC/core" ] || die "no Rust library source at $TPC_RUST_LIB_SRC (package rust-web-src)"

step "bindgen-cli $TPC_BINDGEN_VERSION"
if [ -x "$TPC_BINDGEN" ] && "$TPC_BINDGEN" --version | grep -q "$TPC_BINDGEN_VERSION"; then
	echo "present: $TPC_BINDGEN"
else
	command -v cargo >/dev/null || die "cargo not found: bindgen-cli is installed with cargo"
	mkdir -p "$TPC_CACHE"
	LIBCLANG_PATH=/usr/lib/llvm-19/lib cargo install --locked --root "${TPC_BINDGEN%/bin/bindgen}" \
		bindgen-cli --version "$TPC_BINDGEN_VERSION" || die "cargo install bindgen-cli failed"
fi

step "nginx for the VM tests (unpacked into the cache, not installed)"
if [ -x "$TPC_NGINX" ]; then
	echo "present: $TPC_NGINX"
else
	tmp=$(mktemp -d)
	if ! (cd "$tmp" && apt-get download -q nginx) >/dev/null 2>&1; then
		[ "$(id -u)" = 0 ] || die "apt-get download nginx failed and not root to update the package lists"
		apt-get update -q >/dev/null || die "apt-get update failed: check the machine's apt sources"
		(cd "$tmp" && apt-get download -q nginx) >/dev/null 2>&1 || die "apt-get download nginx failed"
	fi
	rm -rf "$TPC_CACHE/nginx.tmp" && mkdir -p "$TPC_CACHE/nginx.tmp"
	dpkg-deb -x "$tmp"/nginx_*.deb "$TPC_CACHE/nginx.tmp" || die "cannot unpack the nginx package"
	rm -rf "$tmp" "$TPC_CACHE/nginx" && mv "$TPC_CACHE/nginx.tmp" "$TPC_CACHE/nginx"
	if ldd "$TPC_NGINX" | grep -q 'not found'; then
		die "nginx needs libraries this machine lacks: $(ldd "$TPC_NGINX" | grep 'not found' | tr -s ' \t' ' ')"
	fi
	echo "unpacked: $TPC_NGINX ($("$TPC_NGINX" -v 2>&1))"
fi

KDIR=$(tpc_kdir) || die "cannot determine the kernel version (linux-source-6.12 installed?)"
step "kernel ($TPC_KERNEL) in $KDIR"
KMAKE=(make -C "$KDIR" -j"$(nproc)" LLVM="$TPC_LLVM" RUSTC="$TPC_RUSTC" BINDGEN="$TPC_BINDGEN"
	RUST_LIB_SRC="$TPC_RUST_LIB_SRC")
if [ -f "$KDIR/.tpc-built" ]; then
	echo "cached"
else
	lock="$TPC_CACHE/kernel-build.lock"
	mkdir -p "$TPC_CACHE"
	exec 9>"$lock"
	flock -n 9 || { echo "another kernel build is running; waiting"; flock 9; }
	if [ ! -f "$KDIR/.tpc-built" ]; then
		if [ ! -f "$KDIR/Makefile" ]; then
			tarball=$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | head -n1)
			[ -n "$tarball" ] || die "no /usr/src/linux-source-6.12.tar.* (package linux-source-6.12)"
			echo "unpacking $tarball"
			rm -rf "$KDIR.tmp" && mkdir -p "$KDIR.tmp"
			tar -xf "$tarball" -C "$KDIR.tmp" --strip-components=1
			mv "$KDIR.tmp" "$KDIR"
		fi
		"${KMAKE[@]}" -s tinyconfig
		# shellcheck disable=SC2046
		(cd "$KDIR" && scripts/kconfig/merge_config.sh -m .config $(tpc_fragments) >/dev/null)
		"${KMAKE[@]}" -s olddefconfig
		# Every option the fragments ask for must have survived the dependency resolution.
		bad=0
		while IFS= read -r line; do
			case "$line" in
			CONFIG_*=n) grep -qx "${line%=n}=y" "$KDIR/.config" && { echo "not off: $line"; bad=1; } ;;
			CONFIG_*) grep -qx "$line" "$KDIR/.config" || { echo "not set: $line"; bad=1; } ;;
			esac
		done < <(cat $(tpc_fragments))
		[ "$bad" = 0 ] || die "the kernel configuration lost options (above); is Rust available? try: make -C $KDIR LLVM=$TPC_LLVM rustavailable"
		echo "building bzImage and modules (about 16 minutes on 2 cores)"
		start=$SECONDS
		log="$KDIR/build.log"
		# Progress: the kernel's own quiet output, reduced to the link and Rust steps.
		"${KMAKE[@]}" bzImage modules >"$log" 2>&1 &
		pid=$!
		tail -n +1 -F --pid=$pid "$log" 2>/dev/null | grep --line-buffered -E '^\s*(LD|RUSTC)\b|error|warning:' &
		wait $pid || { tail -n 30 "$log"; die "kernel build failed (log: $log)"; }
		[ -f "$KDIR/arch/x86/boot/bzImage" ] && [ -f "$KDIR/Module.symvers" ] ||
			die "kernel build produced no bzImage or Module.symvers"
		echo "kernel built in $((SECONDS - start)) s"
		touch "$KDIR/.tpc-built"
	fi
fi
echo "KDIR=$KDIR"

#!/usr/bin/env bash
# `make install DESTDIR=...` and `make dkms-source DESTDIR=...` lay out the
# expected files; the systemd unit passes `systemd-analyze verify` (where
# the machine has it). Run by tools/test.sh after the build; prints PASS or
# FAIL lines and exits non-zero on a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
failed=0
check() {
	if "${@:2}"; then echo "PASS $1"; else echo "FAIL $1"; failed=1; fi
}
make --no-print-directory install DESTDIR="$dest" > "$dest.log" 2>&1 ||
	{ tail -n 20 "$dest.log"; echo "FAIL make install"; exit 1; }
kver=$(ls "$dest/lib/modules")
for f in "lib/modules/$kver/extra/tpcluster.ko" "lib/modules/$kver/modules.dep" \
	usr/sbin/tpctl usr/share/man/man8/tpctl.8 usr/share/man/man8/tpctl-service-add.8 \
	usr/share/bash-completion/completions/tpctl usr/share/zsh/vendor-completions/_tpctl \
	usr/share/fish/vendor_completions.d/tpctl.fish usr/lib/systemd/system/tpcluster.service \
	usr/lib/systemd/system/tpcluster-check@.service usr/share/man/man8/tpctl-service-check.8 \
	usr/libexec/tpcluster/tpcluster-up usr/libexec/tpcluster/tpcluster-down \
	usr/share/doc/tpcluster/examples/tpcluster.conf \
	usr/share/doc/tpcluster/examples/modprobe.d/tpcluster.conf; do
	check "make install lays out /$f" test -s "$dest/$f"
done
check "depmod knows the module" grep -q '^extra/tpcluster.ko:' "$dest/lib/modules/$kver/modules.dep"
check "/etc/tpcluster is private" test "$(stat -c %a "$dest/etc/tpcluster")" = 700
check "the installed tpctl runs" "$dest/usr/sbin/tpctl" --version
check "the man page is roff" grep -q '^\.TH' "$dest/usr/share/man/man8/tpctl.8"
if command -v systemd-analyze > /dev/null; then
	# The unit as installed, its programs found under the staging root.
	sed "s|/usr/libexec/|$dest/usr/libexec/|g" "$dest/usr/lib/systemd/system/tpcluster.service" \
		> "$dest/tpcluster.service"
	check "systemd-analyze verify accepts the unit" \
		systemd-analyze verify --man=no "$dest/tpcluster.service"
	# The health-check template, as one instance of it beside the unit it
	# requires.
	sed "s|/usr/sbin/|$dest/usr/sbin/|g" "$dest/usr/lib/systemd/system/tpcluster-check@.service" \
		> "$dest/tpcluster-check@web.service"
	check "systemd-analyze verify accepts the health-check unit" \
		systemd-analyze verify --man=no "$dest/tpcluster.service" "$dest/tpcluster-check@web.service"
else
	echo "INFO systemd-analyze not available: unit not verified"
fi
make --no-print-directory dkms-source DESTDIR="$dest/dkms" > "$dest.log" 2>&1
src="$dest/dkms/usr/src/tpcluster-$(sed -n 's/^TPC_VERSION := //p' Kbuild)"
check "make dkms-source lays out the tree with dkms.conf" test -s "$src/dkms.conf" -a -s "$src/Kbuild"
check "dkms.conf names the version" grep -q "^PACKAGE_VERSION=\"$(sed -n 's/^TPC_VERSION := //p' Kbuild)\"" "$src/dkms.conf"
rm -f "$dest.log"
exit $failed

#!/usr/bin/env bash
# ynl-regen.sh [--check]: generate the netlink family's kernel policy and ops
# tables (rust/netlink_gen.[ch]) and the UAPI header
# (include/uapi/linux/tpcluster.h) from Documentation/netlink/specs/tpcluster.yaml
# with the kernel tree's ynl-gen-c.py, as the kernel does for its own
# families. With --check, only report whether the committed files are current.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/kernel/paths.sh
kdir=${KDIR:-$(tpc_kdir)}
gen=$kdir/tools/net/ynl/ynl-gen-c.py
[ -f "$gen" ] || { echo "ynl-regen: no $gen (run make setup)"; exit 1; }
python3 -c 'import yaml, jsonschema' 2>/dev/null ||
	{ echo "ynl-regen: python3 needs the yaml and jsonschema modules"; exit 1; }

# ynl-gen-c.py expects a kernel-shaped tree: the spec under
# Documentation/netlink/specs, the schema one level up, a MAINTAINERS file
# at the root.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/Documentation/netlink/specs" "$work/out"
touch "$work/MAINTAINERS"
cp "$kdir/Documentation/netlink/genetlink.yaml" "$work/Documentation/netlink/"
cp Documentation/netlink/specs/tpcluster.yaml "$work/Documentation/netlink/specs/"
spec=$work/Documentation/netlink/specs/tpcluster.yaml
(cd "$work/out" &&
	python3 "$gen" --mode kernel --spec "$spec" --source -o netlink_gen.c &&
	python3 "$gen" --mode kernel --spec "$spec" --header -o netlink_gen.h &&
	python3 "$gen" --mode uapi --spec "$spec" --header -o tpcluster.h) >/dev/null

status=0
for pair in netlink_gen.c:rust/netlink_gen.c netlink_gen.h:rust/netlink_gen.h \
	tpcluster.h:include/uapi/linux/tpcluster.h; do
	new=$work/out/${pair%%:*}
	dest=${pair#*:}
	if [ "${1:-}" = --check ]; then
		cmp -s "$new" "$dest" || { echo "ynl-regen: $dest is stale: run tools/ynl-regen.sh"; status=1; }
	else
		mkdir -p "$(dirname "$dest")"
		cp "$new" "$dest"
	fi
done
exit $status

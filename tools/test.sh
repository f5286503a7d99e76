#!/usr/bin/env bash
# `make test`: host unit tests, then the VM tests; ends with `N passed, M failed`.
# Environment: KERNEL=debug for the KASAN + kmemleak kernel, TESTS="name ..."
# to run some VM tests only, TP_ACCEL=tcg|kvm to skip the accelerator probe.
set -uo pipefail
cd "$(dirname "$0")/.."
. tools/kernel/paths.sh
passed=0
failed=0

results=results/test-$(date +%Y%m%d-%H%M%S)
mkdir -p "$results"
ln -sfn "$(basename "$results")" results/latest

echo "==> host unit tests (cargo test)"
cargo test --locked --workspace 2>&1 | tee "$results/host-tests.log" | grep -E '^test |test result|error' || true
while read -r ok bad; do
	passed=$((passed + ok)); failed=$((failed + bad))
done < <(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$results/host-tests.log")
grep -q '^test result:' "$results/host-tests.log" || { echo "host tests did not run"; failed=$((failed + 1)); }

echo "==> build"
if tools/vm/build.sh "$results/base.initrd" > "$results/build.log" 2>&1; then
	echo "module, tools and initramfs built"
	echo "==> install layout (make install, make dkms-source)"
	tools/install-check.sh > "$results/install.log" 2>&1
	grep -E '^(FAIL|INFO)' "$results/install.log" || true
	ok=$(grep -c '^PASS' "$results/install.log"); bad=$(grep -c '^FAIL' "$results/install.log")
	echo "$ok passed, $bad failed"
	passed=$((passed + ok)); failed=$((failed + bad))
	echo "==> VM tests (results in $results)"
	KDIR=$(tpc_kdir)
	if [ -n "${TESTS:-}" ]; then
		tests=$(for t in $TESTS; do echo "tests/vm/$t"; done)
	else
		tests=$(ls -d tests/vm/*/)
	fi
	# shellcheck disable=SC2086
	# The debug kernel under emulation (KASAN, lockdep, four guests on two
	# host cores) can take the RCU grace-period thread off the CPU for
	# longer than the 21 s default (parsing ACPI tables at boot, for one):
	# its stall report would fail a test for the emulation's slowness alone.
	# Its virtio-net interrupts routed through ACPI stall there too (every
	# guest's transmit queue times out, module loaded or not): acpi=noirq
	# keeps the ACPI timers (the clocksource) and routes interrupts the
	# legacy way.
	# Its guests also run their timed phases three times as long (TP_SLOW
	# in tools/vm/guest/tp.sh), so each test gets three times its timeout.
	cmdline="" slow=1
	[ "$TPC_KERNEL" = debug ] && cmdline="rcupdate.rcu_cpu_stall_timeout=300 acpi=noirq" slow=3
	tools/vm/run.py --kernel "$KDIR/arch/x86/boot/bzImage" --initrd "$results/base.initrd" \
		--cmdline "$cmdline" --slow $slow --results "$results/vm" $tests
	read -r vp _ vf _ < "$results/vm/summary.txt" || { vp=0; vf=1; }
	passed=$((passed + vp)); failed=$((failed + vf))
else
	tail -n 40 "$results/build.log"
	echo "build failed (log: $results/build.log)"
	failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

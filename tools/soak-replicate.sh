#!/usr/bin/env bash
# tools/soak-replicate.sh [ROUNDS]: the replicate failover test, ROUNDS
# times (10 unless given): each round power-cuts the primary of 20
# transfers of 100 MiB (10 each way, R=2 and R=3) and of two
# request/response runs, cuts a backup twice and partitions the primary
# twice, every one checked byte-exact with the capture checked for resets
# and second senders. Ends with `ROUNDS rounds: N passed, M failed` and the
# longest stall of every round (from the capture). Not part of `make test`:
# a round takes about ten minutes on two emulated cores.
set -uo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-10}
passed=0
failed=0
for r in $(seq "$rounds"); do
	echo "==> round $r of $rounds"
	if TESTS=replicate_failover tools/test.sh > /dev/null 2>&1; then
		passed=$((passed + 1))
		verdict=pass
	else
		failed=$((failed + 1))
		verdict=FAIL
	fi
	run=$(readlink -f results/latest)
	echo "    $verdict: $(grep -h 'longest silence' "$run/vm/replicate_failover/check.log" 2>/dev/null) ($run)"
done
echo "$rounds rounds: $passed passed, $failed failed"
[ "$failed" = 0 ]

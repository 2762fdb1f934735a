#!/bin/sh
# `ledger-bench cluster` on a tiny scale: it must start three nodes, run every
# phase, judge (exit 0 or 1: targets are timing, not checked here) and see no
# batch fail. Usage: bench_cluster_check.sh LEDGER_BENCH
set -u
out=$("$1" cluster --clients 2 --window 4 --duration 0.5 --kills 1 --quiet 2>&1)
status=$?
printf '%s\n' "$out"
fail () { echo "bench_cluster_runs: $*" >&2; exit 1; }
[ "$status" -le 1 ] || fail "exit status $status"
for row in "dqlite-direct, 1-op transactions" "ledgerd, 1-op keyed batches" "ledgerd, 1000-op batches, 1 client"; do
    line=$(printf '%s\n' "$out" | grep -F "$row") || fail "no row '$row'"
    # batches/s rows/s p50 p99 max failed: the failed count is the 6th figure.
    failed=$(printf '%s\n' "${line#"$row"}" | awk '{ print $6 }')
    ok=$(printf '%s\n' "${line#"$row"}" | awk '{ print $1 }')
    [ "$failed" = 0 ] || fail "'$row': $failed failed"
    [ "$ok" != 0 ] || fail "'$row': nothing done"
done
printf '%s\n' "$out" | grep -q '^failover: .* over 1 kills (0 batches not ok)$' || fail "no clean failover line"
printf '%s\n' "$out" | grep -q '^3\. kill -9 of the leader' || fail "no verdict on the failover target"

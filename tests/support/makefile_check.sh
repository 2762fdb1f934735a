#!/bin/sh
# The top-level Makefile configures once: with a configured build directory
# `make run` and `make test` do not run `cmake -S` again, and `make run`
# builds ledgerd and the quick start's tools, not the tests. Checked with `make -n`, which runs
# nothing. Usage: makefile_check.sh SOURCE_DIR BUILD_DIR
set -eu
src=$1 build=$2
[ -f "$build/CMakeCache.txt" ] || { echo "makefile_check: $build is not configured" >&2; exit 1; }
dry () {
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -n -C "$src" --no-print-directory BUILD="$build" "$1"
}
fail=0
for target in run test; do
    out=$(dry $target)
    if printf '%s\n' "$out" | grep -q 'cmake -S'; then
        echo "makefile_check: 'make $target' configures again:" >&2
        printf '%s\n' "$out" | grep 'cmake -S' >&2
        fail=1
    fi
done
if ! dry run | grep -q -- '--build .* --target ledgerd ledgerctl raw_request \(-j\|$\)'; then
    echo "makefile_check: 'make run' does not build ledgerd, ledgerctl and raw_request alone:" >&2
    dry run >&2
    fail=1
fi
[ $fail -eq 0 ] && echo "makefile_check: make run and make test configure once; make run builds ledgerd, ledgerctl and raw_request only"
exit $fail

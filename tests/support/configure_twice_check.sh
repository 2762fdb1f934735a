#!/bin/sh
# A second configure of a fresh build directory changes no compile or link
# line: if it did, every `make` after a re-configure (each `make run` and
# `make test` once ran one) would rebuild the whole tree.
# Usage: configure_twice_check.sh SOURCE_DIR C_COMPILER
set -eu
src=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/ledger-configure-XXXXXX")
trap 'rm -rf "$dir"' EXIT
configure () {
    cmake -S "$src" -B "$dir/build" -DCMAKE_C_COMPILER="$2" -DCMAKE_BUILD_TYPE=Release \
          -DLEDGER_WERROR=ON >"$dir/configure.log" 2>&1 || { cat "$dir/configure.log" >&2; exit 1; }
}
snapshot () {
    (cd "$dir/build" && find . \( -name flags.make -o -name link.txt \) -exec cat {} + | sort) >"$dir/$1"
}
configure "$src" "$2"
snapshot first
configure "$src" "$2"
snapshot second
if ! diff "$dir/first" "$dir/second" >"$dir/diff"; then
    head -n 20 "$dir/diff" >&2
    echo "configure_twice: the second configure changed the lines above (< first, > second)" >&2
    exit 1
fi
echo "configure_twice: the second configure changed no compile or link line"

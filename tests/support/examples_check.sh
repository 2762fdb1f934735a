#!/bin/sh
# The examples check their arguments and their calls: --help prints a usage
# line and exits 0, a bad argument or endpoint exits non-zero at once with a
# line that says why. None may wait: each run gets 5 s.
# Usage: examples_check.sh RAW_REQUEST PRODUCER
set -u
dir=$(mktemp -d "${TMPDIR:-/tmp}/ledger-examples-XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail=0
# expect RC PATTERN PROGRAM ARGS...: exit code RC, PATTERN in its output.
expect () {
    want=$1 pattern=$2
    shift 2
    timeout 5 "$@" >"$dir/out" 2>&1
    rc=$?
    if [ $rc -eq 124 ]; then
        echo "examples_check: '$*' still running after 5 s" >&2
        fail=1
    elif [ $rc -ne "$want" ] || ! grep -q -- "$pattern" "$dir/out"; then
        echo "examples_check: '$*' exited $rc (want $want) with:" >&2
        sed 's/^/    /' "$dir/out" >&2
        echo "    (want a line matching '$pattern')" >&2
        fail=1
    fi
}
for program in "$1" "$2"; do
    name=$(basename "$program")
    expect 0 "^usage: $name" "$program" --help
    expect 2 "^usage: $name" "$program" --bogus
    expect 2 "^usage: $name" "$program" tcp://127.0.0.1:5555 extra
done
expect 1 "^raw_request: cannot connect to 'bogus-endpoint'" "$1" bogus-endpoint
expect 2 "^producer: bad endpoint 'bogus-endpoint'" "$2" bogus-endpoint
[ $fail -eq 0 ] && echo "examples_check: raw_request and producer check their arguments and endpoints"
exit $fail

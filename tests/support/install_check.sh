#!/bin/sh
# `cmake --install` installs what the README lists (ledgerd among the
# programs, the manual pages under share/man, and never the test build
# ledgerd_test), and the installed ledger.pc is self-contained: with no other
# .pc file in reach, `pkg-config --cflags --libs ledger` works, --cflags is
# the prefix's include dir alone, and the example producer compiles with it.
# Usage: install_check.sh BUILD_DIR SOURCE_DIR C_COMPILER
set -eu
build=$1 src=$2 cc=$3
prefix=$(mktemp -d "${TMPDIR:-/tmp}/ledger-install-XXXXXX")
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
fail=0
for file in bin/ledgerd bin/ledgerctl include/ledger.h \
            share/man/man8/ledgerd.8 share/man/man1/ledgerctl.1 share/man/man1/ledger-bench.1 share/man/man3/ledger.3; do
    [ -e "$prefix/$file" ] || { echo "install_check: $file not installed" >&2; fail=1; }
done
# The test build of the worker (ledgerd_test, with test hooks) never ships.
if [ -n "$(find "$prefix" -name 'ledgerd_test*')" ]; then
    echo "install_check: ledgerd_test, the worker with test hooks, is installed" >&2
    fail=1
fi
pc=$(find "$prefix" -name ledger.pc)
lib=$(find "$prefix" -name 'libledger.so.0')
[ -n "$pc" ] && [ -n "$lib" ] || { echo "install_check: ledger.pc or libledger.so.0 not installed" >&2; exit 1; }
# PKG_CONFIG_LIBDIR replaces the system's search path: only ledger.pc is found.
export PKG_CONFIG_LIBDIR="$(dirname "$pc")" PKG_CONFIG_PATH=
if ! cflags=$(pkg-config --cflags ledger) || ! pkg-config --libs ledger >/dev/null; then
    echo "install_check: pkg-config ledger needs other .pc files" >&2
    exit 1
fi
cflags=$(echo $cflags)
case "$cflags" in
    -I*" "*|"") ;;
    -I*) [ "$(cd "${cflags#-I}" && pwd -P)" = "$(cd "$prefix/include" && pwd -P)" ] && cflags_ok=1 ;;
esac
if [ -z "${cflags_ok:-}" ]; then
    echo "install_check: pkg-config --cflags ledger gives '$cflags', want -I with $prefix/include alone" >&2
    fail=1
fi
"$cc" -fsyntax-only $cflags "$src/examples/producer.c" || { echo "install_check: producer.c does not compile with ledger.pc's flags" >&2; fail=1; }
# An installed page is found by name through the prefix's manual path.
if [ -e "$prefix/share/man/man8/ledgerd.8" ] && ! LC_ALL=C MANPATH="$prefix/share/man" man -w ledgerd >/dev/null 2>&1; then
    echo "install_check: man cannot find ledgerd(8) under $prefix/share/man" >&2
    fail=1
fi
[ $fail -eq 0 ] && echo "install_check: ledgerd, ledgerctl, libledger, a self-contained ledger.pc and the manual pages installed"
exit $fail

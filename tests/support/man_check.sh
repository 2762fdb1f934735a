#!/bin/sh
# The manual pages cannot drift from the programs: each page renders with
# man -l (man-db) without a warning, has its sections, and names every
# option its program's --help prints -- ledgerd, ledgerctl and every
# command's --help, ledger-bench and every subcommand's -- and, for
# ledger(3), every function client/ledger.h declares. Pages are rendered
# wide, unhyphenated and unjustified in the C locale, so that an option
# name is never split at a line's end or turned into Unicode hyphens.
# Usage: man_check.sh MAN_DIR SOURCE_DIR LEDGERD LEDGERCTL LEDGER_BENCH
set -u
mandir=$1 src=$2 ledgerd=$3 ledgerctl=$4 bench=$5
if ! command -v man >/dev/null 2>&1; then
    echo "man_check: man not found: install the Debian package man-db (scripts/install-deps.sh test)" >&2
    exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ledger-man-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail=0
export LC_ALL=C MANWIDTH=10000
unset MAN_KEEP_FORMATTING MANPAGER PAGER

# Render page (ledgerd.8) into $tmp/page.txt; a missing page or any word
# from groff on stderr fails.
render () {
    if [ ! -f "$mandir/$1" ]; then
        echo "man_check: $mandir/$1 was not built (is scdoc installed? scripts/install-deps.sh)" >&2
        fail=1
        return 1
    fi
    man --no-hyphenation --no-justification -l "$mandir/$1" >"$tmp/$1.txt" 2>"$tmp/$1.err"
    if [ $? -ne 0 ] || [ -s "$tmp/$1.err" ]; then
        echo "man_check: man -l $1 failed or warned:" >&2
        cat "$tmp/$1.err" >&2
        fail=1
    fi
    for section in NAME SYNOPSIS DESCRIPTION 'SEE ALSO'; do
        grep -q "^$section\$" "$tmp/$1.txt" || { echo "man_check: $1 has no $section section" >&2; fail=1; }
    done
}

# True if $tmp/page.txt holds word whole (not as part of a longer name).
says () {
    grep -qE -- "(^|[^A-Za-z0-9_-])$2([^A-Za-z0-9_-]|\$)" "$tmp/$1.txt"
}

# True if file has an entry for option: a line that starts with it, after
# indentation and any other names of the same entry ("--desc TEXT,
# --description TEXT").
has_entry () {
    grep -qE -- "^ +(--[a-z0-9-]+[^,]*, )*$2([ ,=]|\$)" "$1"
}

# Every --option in the help text in file must be in page: as an entry of
# its own when the help gives it one (a line starting with it), else
# named somewhere (an option another program takes, named in prose).
# what says where the help came from.
check_options () {
    page=$1 what=$2 help=$3
    for option in $(grep -oE -- '--[a-z][a-z0-9-]*' "$help" | sort -u); do
        if has_entry "$help" "$option"; then
            has_entry "$tmp/$page.txt" "$option" ||
                { echo "man_check: $page has no entry for $option ($what lists it)" >&2; fail=1; }
        else
            says "$page" "$option" ||
                { echo "man_check: $page does not mention $option ($what names it)" >&2; fail=1; }
        fi
    done
}

# Run program with its arguments and --help, its help into $tmp/help, or
# fail. (No pipelines around these calls: a pipeline's stages are subshells,
# and a failure set there would be lost.)
help_of () {
    if ! "$@" --help >"$tmp/help" 2>&1; then
        echo "man_check: $* --help failed" >&2
        fail=1
    fi
}

# ledgerd(8): every option of its usage text.
if render ledgerd.8; then
    help_of "$ledgerd"
    check_options ledgerd.8 "ledgerd --help" "$tmp/help"
fi

# ledgerctl(1): the connection options, every command (the first word of
# each line under "Commands:"), and each command's own --help, which for a
# group (get, update, cluster...) shows every command in it.
if render ledgerctl.1; then
    help_of "$ledgerctl"
    cp "$tmp/help" "$tmp/ctl"
    check_options ledgerctl.1 "ledgerctl --help" "$tmp/ctl"
    commands=$(sed -n '/^Commands:/,/^$/p' "$tmp/ctl" | sed -n 's/^  \([a-z][a-z-]*\).*/\1/p' | sort -u)
    [ -n "$commands" ] || { echo "man_check: no commands under \"Commands:\" in ledgerctl --help" >&2; fail=1; }
    for command in $commands; do
        help_of "$ledgerctl" "$command"
        check_options ledgerctl.1 "ledgerctl $command --help" "$tmp/help"
        # The command's full name, from each of its usage lines: "get txn".
        sed -n 's/^usage: ledgerctl \([a-z][a-z-]*\( [a-z][a-z-]*\)*\).*/\1/p' "$tmp/help" >"$tmp/names"
        while read -r name; do
            grep -qF -- "$name" "$tmp/ledgerctl.1.txt" ||
                { echo "man_check: ledgerctl.1 does not name the command '$name'" >&2; fail=1; }
        done <"$tmp/names"
    done
fi

# ledger-bench(1): its usage text, and every subcommand main.c dispatches
# on, each with its own --help (summary's options are its own).
if render ledger-bench.1; then
    help_of "$bench"
    check_options ledger-bench.1 "ledger-bench --help" "$tmp/help"
    subcommands=$(sed -n 's/.*strcmp (argv \[1\], "\([a-z][a-z-]*\)").*/\1/p' "$src/bench/main.c" | sort -u)
    [ -n "$subcommands" ] || { echo "man_check: no subcommands found in bench/main.c" >&2; fail=1; }
    for subcommand in $subcommands; do
        says ledger-bench.1 "$subcommand" || { echo "man_check: ledger-bench.1 does not name '$subcommand'" >&2; fail=1; }
        help_of "$bench" "$subcommand"
        check_options ledger-bench.1 "ledger-bench $subcommand --help" "$tmp/help"
    done
fi

# ledger(3): every function ledger.h declares (a prototype starts at the
# line's start; comments and macros do not).
if render ledger.3; then
    functions=$(grep -E '^[a-z]' "$src/client/ledger.h" | grep -vE '^(typedef|extern)' |
                grep -oE '[a-z_0-9]+ \(' | sed 's/ (//' | grep '^ledger_' | sort -u)
    [ -n "$functions" ] || { echo "man_check: no functions found in client/ledger.h" >&2; fail=1; }
    for function in $functions; do
        says ledger.3 "$function" || { echo "man_check: ledger.3 does not document $function" >&2; fail=1; }
    done
fi

[ $fail -eq 0 ] && echo "man_check: ledgerd.8, ledgerctl.1, ledger-bench.1 and ledger.3 render and cover every option and function"
exit $fail

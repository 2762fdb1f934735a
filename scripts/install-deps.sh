#!/bin/sh
# Installs the Debian packages ledgerd needs to build and test, and only the
# missing ones, so that `make run` and `make test` work on a fresh machine.
set -eu

# What building needs; `install-deps.sh test` adds what `make test` uses
# beyond it (docker-compose, to check docker-compose.yml without an engine;
# Python and the modules the Python client's tests and examples use; venv,
# setuptools and wheel for the suite's check that the package installs into a
# virtual environment as the README says, with nothing from the network;
# prometheus for promtool and a real scrape of /metrics; man-db to render the
# manual pages),
# `install-deps.sh valgrind` what `make test-valgrind` runs the worker under,
# `install-deps.sh fuzz` what the fuzzer needs.
PACKAGES="gcc make cmake pkg-config libzmq3-dev libczmq-dev libmsgpack-dev \
libsqlite3-dev libjansson-dev libdqlite-dev libmicrohttpd-dev scdoc libsodium-dev"
case "${1:-}" in
    test) PACKAGES="$PACKAGES docker-compose python3 python3-zmq python3-msgpack python3-pytest \
python3-pandas python3-hypothesis python3-matplotlib python3-venv python3-setuptools python3-wheel \
prometheus man-db" ;;
    valgrind) PACKAGES="$PACKAGES valgrind" ;;
    # libFuzzer's runtime is in libclang-rt-14-dev, which clang only recommends.
    fuzz) PACKAGES="$PACKAGES clang libclang-rt-14-dev" ;;
esac

missing=""
for pkg in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $pkg"
    fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install-deps: need root (or sudo) to install:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing

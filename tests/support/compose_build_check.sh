#!/bin/sh
# docker-compose.yml builds its one image once (one service has `build:`,
# in the default and the cluster profile alike), and every healthcheck's
# timeout holds a whole `ledgerctl ping`, which gives up after 1 s by
# default. Usage: compose_build_check.sh DOCKER_COMPOSE
set -eu
for profile in "" "--profile cluster"; do
    # shellcheck disable=SC2086  # $profile is two words or none
    out=$("$1" -f docker-compose.yml $profile config)
    builds=$(printf '%s\n' "$out" | grep -c '^    build:' || true)
    [ "$builds" -eq 1 ] || { echo "compose_build_check ($profile): $builds services build the image, want 1" >&2; exit 1; }
    for timeout in $(printf '%s\n' "$out" | grep '^      timeout:' | grep -o '[0-9]*'); do
        [ "$timeout" -ge 2 ] || { echo "compose_build_check ($profile): a healthcheck timeout of ${timeout}s is shorter than a ping (1 s) plus start-up" >&2; exit 1; }
    done
    checks=$(printf '%s\n' "$out" | grep -c '^    healthcheck:' || true)
    [ "$checks" -ge 1 ] || { echo "compose_build_check ($profile): no healthcheck" >&2; exit 1; }
done
echo "compose_build_check: one build; healthcheck timeouts hold a ping"

#!/bin/sh
# The docker-compose cluster profile is valid and starts three nodes, ids 1-3,
# each joining (but node 1) through the others. Usage: compose_cluster_check.sh DOCKER_COMPOSE
set -eu
out=$("$1" -f docker-compose.yml --profile cluster config)
ids=$(printf '%s\n' "$out" | grep -A1 -- '- --cluster-id$' | grep -v -- '--cluster-id' | grep -o "[0-9]*" | sort | tr '\n' ' ')
[ "$ids" = "1 2 3 " ] || { echo "compose_cluster_config: cluster ids '$ids', want '1 2 3 '" >&2; exit 1; }
joins=$(printf '%s\n' "$out" | grep -c -- '- --cluster-join$' || true)
[ "$joins" -eq 2 ] || { echo "compose_cluster_config: $joins nodes with --cluster-join, want 2" >&2; exit 1; }
echo "compose_cluster_config: nodes 1 2 3, two joining"

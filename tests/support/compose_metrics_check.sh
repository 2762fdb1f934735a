#!/bin/sh
# docker-compose.yml's metrics: a `prometheus` service on the official
# image, its scrape configuration (deploy/prometheus.yml) valid for
# promtool, and every target it names a ledgerd service of the compose
# file serving --metrics-bind on that port.
# Usage: compose_metrics_check.sh DOCKER_COMPOSE PROMTOOL
set -eu
out=$("$1" -f docker-compose.yml --profile cluster config)
printf '%s\n' "$out" | grep -q '^  prometheus:' || { echo "compose_metrics_check: no prometheus service" >&2; exit 1; }
printf '%s\n' "$out" | grep -q 'image: prom/prometheus' || { echo "compose_metrics_check: prometheus is not the official image (prom/prometheus)" >&2; exit 1; }
"$2" check config deploy/prometheus.yml >/dev/null || { echo "compose_metrics_check: promtool refuses deploy/prometheus.yml" >&2; exit 1; }
targets=$(grep -o '"[a-z0-9]*:[0-9]*"' deploy/prometheus.yml | tr -d '"')
[ -n "$targets" ] || { echo "compose_metrics_check: no targets in deploy/prometheus.yml" >&2; exit 1; }
for target in $targets; do
    service=${target%:*}
    port=${target#*:}
    # The service's block: from its name to the next service at the same indent.
    block=$(printf '%s\n' "$out" | awk -v s="  $service:" '$0 == s {on = 1; next} on && /^  [a-z]/ {on = 0} on')
    [ -n "$block" ] || { echo "compose_metrics_check: target $target names no service" >&2; exit 1; }
    printf '%s\n' "$block" | grep -q -- "--metrics-bind" || { echo "compose_metrics_check: $service has no --metrics-bind" >&2; exit 1; }
    printf '%s\n' "$block" | grep -q "0.0.0.0:$port" || { echo "compose_metrics_check: $service serves metrics elsewhere than port $port" >&2; exit 1; }
done
echo "compose_metrics_check: prometheus scrapes $(echo $targets | wc -w) ledgerd services"

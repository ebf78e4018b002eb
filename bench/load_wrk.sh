#!/usr/bin/env bash
# Load test: wrk against a running `newsearch serve` on loopback, rotating through a query mix.
#
#   newsearch serve --index DIR --host 127.0.0.1 --port 8080 &
#   bench/load_wrk.sh [BASE_URL]            # default http://127.0.0.1:8080
#
# Environment: DURATION (30s), THREADS (wrk threads, 1), CONNECTIONS (8), ENDPOINT (/api/search;
# also /search for the HTML page). Prints the exact wrk command and a table with req/s,
# latency percentiles and errors (socket errors plus non-2xx/3xx answers).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BASE="${1:-http://127.0.0.1:8080}"
BASE="${BASE%/}"
DURATION="${DURATION:-30s}"
THREADS="${THREADS:-1}"
CONNECTIONS="${CONNECTIONS:-8}"
export ENDPOINT="${ENDPOINT:-/api/search}"

case "$BASE" in
    http://127.0.0.1:*|http://localhost:*|http://\[::1\]:*) ;;
    *) echo "load_wrk.sh: only loopback targets (http://127.0.0.1:PORT), got $BASE" >&2; exit 2 ;;
esac
command -v wrk >/dev/null || { echo "load_wrk.sh: wrk is not installed (apt-get install wrk)" >&2; exit 2; }

health="$(curl -fsS "$BASE/healthz")" || { echo "load_wrk.sh: no server answering at $BASE/healthz" >&2; exit 2; }
echo "server: $BASE  health: $health"
echo "cores: $(nproc)  load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# Warm the engine's caches with one pass over the mix, so the run measures steady state.
wrk -t1 -c1 -d2s -s "$HERE/wrk_queries.lua" "$BASE" >/dev/null

cmd=(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --timeout 10s --latency -s "$HERE/wrk_queries.lua" "$BASE")
echo "command: ENDPOINT=$ENDPOINT ${cmd[*]}"
"${cmd[@]}"

#!/usr/bin/env bash
# Load test of the webhook: build release, start `flink-admission serve --dev` on 127.0.0.1,
# drive POST /validate (or /mutate) with wrk for a bounded time, print requests/s and p50/p99.
#
#   scripts/load.sh                          # 10 s, 2 threads, 16 connections, /validate
#   DURATION=30s CONNECTIONS=64 ENDPOINT=/mutate scripts/load.sh
#   REVIEW=tests/fixtures/admission/flinkdeployment-create.json scripts/load.sh
#
# Needs wrk (`apt-get install -y wrk`; installed here automatically when run as root) and curl.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-10s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
ENDPOINT=${ENDPOINT:-/validate}
REVIEW=${REVIEW:-tests/fixtures/admission/jobmanager-deployment-update.json}
PORT=${PORT:-18443}
PROBE_PORT=${PROBE_PORT:-18080}

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  else
    echo "wrk not found: apt-get install -y wrk" >&2
    exit 1
  fi
fi

cargo build --release --quiet --bin flink-admission

tmp=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

./target/release/flink-admission serve --dev --dev-dir "$tmp/dev" \
  --addr "127.0.0.1:$PORT" --probe-addr "127.0.0.1:$PROBE_PORT" --shutdown-delay 0s \
  >"$tmp/stdout" 2>"$tmp/server.log" &
pid=$!

for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$PROBE_PORT/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then cat "$tmp/server.log" >&2; exit 1; fi
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$PROBE_PORT/readyz" >/dev/null

# One request first: the review must be answered (uid echoed), not rejected.
curl -fsS --cacert "$tmp/dev/ca.crt" -H 'Content-Type: application/json' \
  --data-binary "@$REVIEW" "https://localhost:$PORT$ENDPOINT" >"$tmp/first.json"
grep -q '"uid"' "$tmp/first.json" || { echo "unexpected answer: $(cat "$tmp/first.json")" >&2; exit 1; }

cat >"$tmp/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("REVIEW"), "rb"))
wrk.body = f:read("*a")
f:close()

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("requests: %d in %.1f s, errors: %d\n", summary.requests, secs, bad))
  io.write(string.format("requests/s: %.0f\n", summary.requests / secs))
  io.write(string.format("latency p50: %.2f ms, p99: %.2f ms, max: %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
LUA

echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION POST https://127.0.0.1:$PORT$ENDPOINT ($REVIEW)"
REVIEW="$REVIEW" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$tmp/post.lua" \
  "https://127.0.0.1:$PORT$ENDPOINT" | sed -n '/^requests:/,$p'

kill -TERM "$pid"
wait "$pid" && echo "server stopped cleanly on SIGTERM"
pid=""

#!/usr/bin/env bash
# Peak RSS of `flink-admission serve --no-cluster` under hostile clients (docs/reliability.md,
# issue 23). Modes:
#
#   scripts/hostile-rss.sh BIN [N] [SIZE]      # N reviews at once, each SIZE bytes (default
#                                              # just under the 3 MiB body limit): the
#                                              # FlinkDeployment CREATE fixture with `spec.x`
#                                              # set to an array of 1s
#   MODE=stall scripts/hostile-rss.sh BIN [N]  # N connections send headers and 2.9 MB of a
#                                              # 3,000,000-byte body, then nothing (default 150)
#   MODE=headers scripts/hostile-rss.sh BIN [N]  # N connections send 390 KB of headers that
#                                              # never end (default 1000)
#
# Prints RSS once ready, then VmHWM/VmRSS under the load and what the clients got.
# The bodies and clients are scripts/hostile_clients.py's (scripts/load.sh drives the same).
# Needs curl and python3. Ports: PORT (19443), PROBE_PORT (19080); EXTRA: more serve flags.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$1
MODE=${MODE:-body}
PORT=${PORT:-19443}; PP=${PROBE_PORT:-19080}
work=$(mktemp -d)
PID=
cleanup() { if [ -n "$PID" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT
"$BIN" certs --service localhost --namespace x --out "$work/pki" >/dev/null
# shellcheck disable=SC2086
"$BIN" serve --no-cluster --tls-cert "$work/pki/tls.crt" --tls-key "$work/pki/tls.key" \
  --addr 127.0.0.1:$PORT --probe-addr 127.0.0.1:$PP ${EXTRA:-} >/dev/null 2>&1 &
PID=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:$PP/readyz >/dev/null && break; sleep 0.1; done
kill -0 "$PID" || { echo "the server did not start (port $PORT or $PP taken?)" >&2; exit 1; }
echo "ready: $(grep VmRSS /proc/$PID/status)"
rss() { echo "$1: $(grep -E 'VmHWM|VmRSS' /proc/$PID/status | tr '\n' ' ') readyz: $(curl -s -m 2 http://127.0.0.1:$PP/readyz)"; }

case $MODE in
body)
  N=${2:-1}; SIZE=${3:-$((3 * 1024 * 1024 - 4096))}
  python3 scripts/hostile_clients.py body "$SIZE" "$work/body.json"
  echo "body: $(wc -c <"$work/body.json") bytes, $N at once"
  P=()
  for i in $(seq "$N"); do
    curl -sk -o "$work/out.$i" -w "%{http_code} " -H 'Content-Type: application/json' \
      --data-binary @"$work/body.json" https://localhost:$PORT/validate & P+=($!)
  done
  wait "${P[@]}"
  echo
  sleep 0.2
  rss after
  head -c 200 "$work/out.1"; echo
  ;;
stall|headers)
  N=${2:-$([ "$MODE" = stall ] && echo 150 || echo 1000)}
  python3 scripts/hostile_clients.py "$MODE" "$PORT" "$N" &
  PY=$!
  sleep 6
  rss "under $MODE"
  wait $PY
  ;;
*) echo "MODE is body, stall or headers" >&2; exit 2 ;;
esac

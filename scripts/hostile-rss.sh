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
  python3 - "$SIZE" "$work/body.json" <<'PY'
import json, sys
r = json.load(open('tests/fixtures/admission/flinkdeployment-create.json'))
base = len(json.dumps(r, separators=(',', ':')))
r['request']['object']['spec']['x'] = [1] * ((int(sys.argv[1]) - base - 20) // 2)
open(sys.argv[2], 'w').write(json.dumps(r, separators=(',', ':')))
PY
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
  python3 - "$PORT" "$N" "$MODE" <<'PY' &
import socket, ssl, sys, threading, time
port, n, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.set_alpn_protocols(['http/1.1'])
held, failed, lock = [], [0], threading.Lock()
def one():
    try:
        s = ctx.wrap_socket(socket.create_connection(('127.0.0.1', port)), server_hostname='localhost')
        if mode == 'stall':
            s.sendall(b'POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 3000000\r\n\r\n')
            s.settimeout(0.05)
            sent = 0
            while sent < 2_900_000:
                try:
                    s.sendall(b'1' * 65536)
                    sent += 65536
                except OSError:
                    break
        else:
            s.settimeout(2)
            s.sendall(b'POST /validate HTTP/1.1\r\nHost: x\r\nX-Pad: ')
            for _ in range(390):
                s.sendall(b'a' * 1000)
        with lock:
            held.append(s)
    except OSError:
        with lock:
            failed[0] += 1
threads = [threading.Thread(target=one) for _ in range(n)]
for t in threads: t.start()
for t in threads: t.join()
time.sleep(1)
got = {}
for s in held:
    s.settimeout(0.01)
    try:
        d = s.recv(100)
        k = d.split(b' ')[1].decode() if d else 'closed'
    except OSError:
        k = 'nothing yet'
    got[k] = got.get(k, 0) + 1
print(f'{len(held)} connections held; answers: {got}; failed while sending: {failed[0]}', flush=True)
time.sleep(4)
PY
  PY=$!
  sleep 6
  rss "under $MODE"
  wait $PY
  ;;
*) echo "MODE is body, stall or headers" >&2; exit 2 ;;
esac

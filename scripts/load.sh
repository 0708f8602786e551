#!/usr/bin/env bash
# Load test of the webhook beside its floor, in one run:
#
#   1. builds `flink-admission` (release) and the floor server (`benches/floor.rs`: the same
#      crates, TLS settings and runtime, answering every POST with a fixed body, no parsing);
#   2. makes certificates with `flink-admission certs` (rcgen);
#   3. times start-up to ready without a cluster (`serve --no-cluster`, spawn until
#      GET /readyz answers 200), STARTS times;
#   4. starts our server, the floor, and the floor with `--parse` (it parses each body into a
#      JSON value and echoes the uid: the least any webhook that reads the object does), and
#      drives them with wrk over HTTPS keep-alive, POSTing real AdmissionReview bodies
#      (FlinkDeployment CREATE, standalone JobManager Deployment UPDATE, a non-Flink
#      Deployment CREATE) to /validate and /mutate at each concurrency;
#   5. prints requests/s, p50/p95/p99, errors, RSS, each server's requests/s as a ratio of the
#      floor's for the same body and concurrency (row `parse-flr`: the parsing floor), and the
#      server's CPU time (user+sys, /proc/PID/stat) per request: on a busy machine the figure
#      that stays fair;
#   6. drives hostile clients at our server (HOSTILE), each for DURATION while wrk sends the
#      first body to /validate at 4 connections beside it, and prints what the attack got, how
#      the ordinary requests fared, and the server's peak RSS in that run (VmHWM, reset before
#      each run through /proc/PID/clear_refs) and its CPU time. The bodies and slow clients are
#      scripts/hostile_clients.py's (scripts/hostile-rss.sh drives them one at a time):
#        values   bodies of HOSTILE_SIZE (3 MiB - 4 KiB) with an unknown field holding an array
#                 of 1s (past --max-values: 413), HOSTILE_CONNS (16) connections through wrk
#        string   the same size with the field one long string (judged: 200), the same way
#        stall    150 connections each stalling after 2.9 MB of a 3 MB body
#        headers  1,000 connections each sending 390 KB of headers that never end
#
#   scripts/load.sh                                  # the whole matrix, 5 s per run
#   DURATION=10s CONCURRENCY="4 64" BODIES=jobmanager ENDPOINTS=validate scripts/load.sh
#   NO_BUILD=1 scripts/load.sh                       # use the binaries already built
#   NO_BUILD=1 BIN=DIR/flink-admission FLOOR=DIR/floor-HASH scripts/load.sh   # other builds
#
# Knobs: DURATION (wrk -d, default 5s), CONCURRENCY ("1 4 16 64 256"), THREADS (wrk threads,
# default 2, never more than the connections), BODIES ("flinkdeployment jobmanager web"),
# ENDPOINTS ("validate mutate"), STARTS (start-up samples, 10), PORT/FLOOR_PORT/PARSE_PORT/PROBE_PORT,
# FLOOR (a floor executable built before; default: build it with cargo bench --no-run),
# HOSTILE ("values string stall headers"; empty: none), HOSTILE_SIZE, HOSTILE_CONNS,
# SERVER_LOG (where our server's per-request log lines go; default /dev/null), RUST_LOG,
# PIN=1 (servers on core 0, wrk on core 1 with one thread, by taskset: the latency runs; without
# it the servers and wrk share both cores and the tails are the scheduler's).
# Needs wrk (installed with apt-get when run as root), curl, python3 and bash 5.
# Not part of CI: the figures depend on the machine; BENCHMARKS.md says how they were taken.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5s}
CONCURRENCY=${CONCURRENCY:-"1 4 16 64 256"}
THREADS=${THREADS:-2}
BODIES=${BODIES:-"flinkdeployment jobmanager web"}
ENDPOINTS=${ENDPOINTS:-"validate mutate"}
STARTS=${STARTS:-10}
PORT=${PORT:-18443}
FLOOR_PORT=${FLOOR_PORT:-18444}
PARSE_PORT=${PARSE_PORT:-18445}
PROBE_PORT=${PROBE_PORT:-18080}
SERVER_LOG=${SERVER_LOG:-/dev/null}
HOSTILE=${HOSTILE-values string stall headers}
HOSTILE_SIZE=${HOSTILE_SIZE:-$((3 * 1024 * 1024 - 4096))}
HOSTILE_CONNS=${HOSTILE_CONNS:-16}
on_server=()
on_client=()
if [ -n "${PIN:-}" ]; then
  command -v taskset >/dev/null || { echo "PIN needs taskset (util-linux)" >&2; exit 1; }
  [ "$(nproc)" -ge 2 ] || { echo "PIN needs 2 cores" >&2; exit 1; }
  on_server=(taskset -c 0)
  on_client=(taskset -c 1)
  THREADS=1
fi

# name -> review file, and what /validate must decide for it (checked before the load).
declare -A REVIEW=(
  [flinkdeployment]=tests/fixtures/admission/flinkdeployment-create.json
  [jobmanager]=tests/fixtures/admission/jobmanager-deployment-update.json
  [web]=benches/reviews/deployment-web-create.json
)
declare -A ALLOWED=([flinkdeployment]=false [jobmanager]=false [web]=true)

for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool not found" >&2; exit 1; }
done
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  else
    echo "wrk not found: apt-get install -y wrk" >&2
    exit 1
  fi
fi

BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/flink-admission}
if [ -z "${NO_BUILD:-}" ]; then
  cargo build --release --quiet --bin flink-admission
fi
# The floor is a bench target (release settings); cargo names the executable. FLOOR=PATH
# uses one built before (it depends on nothing the webhook's changes touch but the TLS set-up).
if [ -z "${FLOOR:-}" ]; then
  FLOOR=$(cargo bench --quiet --bench floor --no-run --message-format=json 2>/dev/null |
    python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "floor" and m.get("executable"):
        print(m["executable"])')
fi
[ -x "$BIN" ] && [ -x "$FLOOR" ] || { echo "build failed: $BIN / floor '$FLOOR'" >&2; exit 1; }

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

"$BIN" certs --service flink-admission --namespace webhooks --out "$tmp/certs" >/dev/null
HOST=flink-admission.webhooks.svc
mkdir -p "$tmp/bodies"
for b in $BODIES; do
  # API servers send compact JSON.
  python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1])), separators=(",", ":")))' \
    "${REVIEW[$b]}" >"$tmp/bodies/$b.json"
done

serve() { # exec: $! is the server itself
  exec "${on_server[@]}" "$BIN" serve --tls-cert "$tmp/certs/tls.crt" --tls-key "$tmp/certs/tls.key" --no-cluster \
    --addr "127.0.0.1:$PORT" --probe-addr "127.0.0.1:$PROBE_PORT" --shutdown-delay 0s "$@"
}

# GET /readyz on the probe port through bash's /dev/tcp (no process per poll); 0 when 200.
ready() {
  local line
  { exec 9<>"/dev/tcp/127.0.0.1/$PROBE_PORT"; } 2>/dev/null || return 1
  printf 'GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&9
  IFS= read -r line <&9 || true
  exec 9<&-
  [[ $line == "HTTP/1.1 200"* ]]
}

stop() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# ---------------------------------------------------------------- start-up to ready
samples=()
for _ in $(seq "$STARTS"); do
  t0=$EPOCHREALTIME
  serve >/dev/null 2>"$tmp/start.log" &
  p=$!
  pids+=("$p")
  until ready; do
    if ! kill -0 "$p" 2>/dev/null; then cat "$tmp/start.log" >&2; exit 1; fi
  done
  t1=$EPOCHREALTIME
  samples+=("$(python3 -c "print(f'{($t1 - $t0) * 1000:.1f}')")")
  stop "$p"
done
python3 - "${samples[@]}" <<'PY'
import statistics, sys
ms = sorted(float(x) for x in sys.argv[1:])
print(f"start-up to ready (serve --no-cluster, spawn to first 200 from /readyz), {len(ms)} starts: "
      f"median {statistics.median(ms):.1f} ms, min {ms[0]:.1f} ms, max {ms[-1]:.1f} ms")
PY
echo

# ---------------------------------------------------------------- servers
serve >/dev/null 2>"$SERVER_LOG" &
ours=$!
pids+=("$ours")
"${on_server[@]}" "$FLOOR" --cert "$tmp/certs/tls.crt" --key "$tmp/certs/tls.key" --addr "127.0.0.1:$FLOOR_PORT" \
  >"$tmp/floor.log" 2>&1 &
floor=$!
pids+=("$floor")
# The same floor parsing each body into a JSON value (what reading the review costs alone).
"${on_server[@]}" "$FLOOR" --cert "$tmp/certs/tls.crt" --key "$tmp/certs/tls.key" --addr "127.0.0.1:$PARSE_PORT" \
  --parse >"$tmp/parse-floor.log" 2>&1 &
parse_floor=$!
pids+=("$parse_floor")
for _ in $(seq 200); do ready && break; sleep 0.05; done
ready || { echo "our server did not get ready" >&2; exit 1; }
for _ in $(seq 200); do grep -q '^floor: https' "$tmp/floor.log" && break; sleep 0.05; done
grep -q '^floor: https' "$tmp/floor.log" || { cat "$tmp/floor.log" >&2; exit 1; }
for _ in $(seq 200); do grep -q '^floor: https' "$tmp/parse-floor.log" && break; sleep 0.05; done
grep -q '^floor: https' "$tmp/parse-floor.log" || { cat "$tmp/parse-floor.log" >&2; exit 1; }

# Every body is answered as expected by ours (uid echoed, the decision right), once each,
# through a client that checks the certificate against the CA and the Service name.
post() { # port path body-file
  curl -fsS --cacert "$tmp/certs/ca.crt" --resolve "$HOST:$1:127.0.0.1" \
    -H 'Content-Type: application/json' --data-binary "@$3" "https://$HOST:$1$2"
}
for b in $BODIES; do
  for ep in $ENDPOINTS; do
    post "$PORT" "/$ep" "$tmp/bodies/$b.json" | python3 -c '
import json, sys
body, ep, allowed = sys.argv[1], sys.argv[2], sys.argv[3] == "true"
r = json.load(sys.stdin)["response"]
want = json.load(open(body))["request"]["uid"]
assert r["uid"] == want, f"{body} {ep}: uid {r['uid']!r}, sent {want!r}"
if ep == "validate":
    assert r["allowed"] == allowed, f"{body}: allowed {r['allowed']}, expected {allowed}"
' "$tmp/bodies/$b.json" "$ep" "${ALLOWED[$b]}"
  done
  post "$FLOOR_PORT" /validate "$tmp/bodies/$b.json" | grep -q '"allowed":true'
  post "$PARSE_PORT" /validate "$tmp/bodies/$b.json" | grep -q '"allowed":true'
done

# Both wrk scripts POST the file named by BODY.
cat >"$tmp/body.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.body = f:read("*a")
f:close()
LUA
cat "$tmp/body.lua" - >"$tmp/post.lua" <<'LUA'

function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local errors = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %d %.3f %d %.0f %.3f %.3f %.3f %.3f\n",
    summary.requests, secs, errors, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
end
LUA

rss_mib() { awk -v k="$2:" '$1 == k {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
# CPU time (user + sys) a process has used, in clock ticks; per request in µs.
TCK=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
cpu_us() { # pid ticks-before requests
  python3 -c "print(f'{($(cpu_ticks "$1") - $2) / $TCK * 1e6 / $3:.0f}' if $3 else '-')"
}

# wrk against one URL; prints "rps p50 p95 p99 errors requests".
drive() { # url body conns
  local t=$THREADS
  [ "$3" -lt "$t" ] && t=$3
  BODY="$2" "${on_client[@]}" wrk -t"$t" -c"$3" -d"$DURATION" -s "$tmp/post.lua" "$1" | awk '/^RESULT/ {print $5, $6, $7, $8, $4, $2}'
}

# Warm both up (connections, allocator, caches) before anything is recorded.
BODY="$tmp/bodies/$(set -- $BODIES; echo "$1").json" wrk -t1 -c4 -d1s -s "$tmp/post.lua" \
  "https://127.0.0.1:$PORT/validate" >/dev/null
BODY="$tmp/bodies/$(set -- $BODIES; echo "$1").json" wrk -t1 -c4 -d1s -s "$tmp/post.lua" \
  "https://127.0.0.1:$FLOOR_PORT/validate" >/dev/null

echo "wrk: HTTPS keep-alive, $DURATION per run, up to $THREADS threads on this machine${PIN:+; servers pinned to core 0, wrk to core 1}"
fmt='%-16s %-9s %5s %9s %8s %8s %8s %7s %8s %6s %7s\n'
# shellcheck disable=SC2059
printf "$fmt" body endpoint conns req/s p50_ms p95_ms p99_ms errors rss_MiB ratio cpu_us
for b in $BODIES; do
  body="$tmp/bodies/$b.json"
  for c in $CONCURRENCY; do
    t0=$(cpu_ticks "$floor")
    read -r frps f50 f95 f99 ferr n < <(drive "https://127.0.0.1:$FLOOR_PORT/validate" "$body" "$c")
    # shellcheck disable=SC2059
    printf "$fmt" "$b" floor "$c" "$frps" "$f50" "$f95" "$f99" "$ferr" "$(rss_mib "$floor" VmRSS)" 1.00 \
      "$(cpu_us "$floor" "$t0" "$n")"
    t0=$(cpu_ticks "$parse_floor")
    read -r prps p50 p95 p99 err n < <(drive "https://127.0.0.1:$PARSE_PORT/validate" "$body" "$c")
    ratio=$(python3 -c "print(f'{$prps / $frps:.2f}' if $frps else '-')")
    # shellcheck disable=SC2059
    printf "$fmt" "$b" parse-flr "$c" "$prps" "$p50" "$p95" "$p99" "$err" "$(rss_mib "$parse_floor" VmRSS)" \
      "$ratio" "$(cpu_us "$parse_floor" "$t0" "$n")"
    for ep in $ENDPOINTS; do
      t0=$(cpu_ticks "$ours")
      read -r rps p50 p95 p99 err n < <(drive "https://127.0.0.1:$PORT/$ep" "$body" "$c")
      ratio=$(python3 -c "print(f'{$rps / $frps:.2f}' if $frps else '-')")
      # shellcheck disable=SC2059
      printf "$fmt" "$b" "$ep" "$c" "$rps" "$p50" "$p95" "$p99" "$err" "$(rss_mib "$ours" VmRSS)" "$ratio" \
        "$(cpu_us "$ours" "$t0" "$n")"
    done
  done
done
echo
echo "our server under the matrix: peak RSS $(rss_mib "$ours" VmHWM) MiB, RSS now $(rss_mib "$ours" VmRSS) MiB;" \
  "floor: peak RSS $(rss_mib "$floor" VmHWM) MiB"

# ---------------------------------------------------------------- hostile clients
cat "$tmp/body.lua" - >"$tmp/hostile.lua" <<'LUA'
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local all, keys, parts = {}, {}, {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do all[k] = (all[k] or 0) + v end
  end
  for k in pairs(all) do table.insert(keys, k) end
  table.sort(keys)
  for _, k in ipairs(keys) do table.insert(parts, k .. "x" .. all[k]) end
  local e = summary.errors
  io.write(string.format("HOSTILE %d requests: %s; socket errors %d\n", summary.requests,
    table.concat(parts, " "), e.connect + e.read + e.write + e.timeout))
end
LUA

# One hostile run: the attack ($2...) in the background, ordinary reviews beside it.
hostile_run() { # name attack...
  local name=$1 t0 out
  shift
  [ -w "/proc/$ours/clear_refs" ] && echo 5 >"/proc/$ours/clear_refs"
  t0=$(cpu_ticks "$ours")
  "$@" >"$tmp/attack.out" 2>&1 &
  local attack=$!
  read -r rps _ _ p99 err n < <(drive "https://127.0.0.1:$PORT/validate" "$legit" 4)
  wait "$attack" || true
  out=$(grep -E '^HOSTILE|connections held' "$tmp/attack.out" | sed 's/^HOSTILE //' || true)
  [ -n "$out" ] || out="attack failed: $(tail -c 300 "$tmp/attack.out")"
  ready || { echo "our server stopped answering /readyz after the $name run" >&2; exit 1; }
  printf '%-8s %9s %8s %6s %9s %8s %7s  %s\n' "$name" "$rps" "$p99" "$err" \
    "$(rss_mib "$ours" VmHWM)" "$(rss_mib "$ours" VmRSS)" \
    "$(python3 -c "print(f'{($(cpu_ticks "$ours") - $t0) / $TCK:.2f}')")" "$out"
}

if [ -n "$HOSTILE" ]; then
  legit="$tmp/bodies/$(set -- $BODIES; echo "$1").json"
  hold=$(python3 -c "import re; d = '$DURATION'; print(int(re.sub('[a-z]', '', d)) * {'s': 1, 'm': 60, 'h': 3600}.get(d[-1], 1) + 2)")
  echo
  echo "hostile clients, $DURATION each, beside wrk sending $(basename "$legit" .json) to /validate at 4 connections" \
    "(peak_MiB: the server's VmHWM in that run; cpu_s: its CPU time in that run)"
  printf '%-8s %9s %8s %6s %9s %8s %7s  %s\n' run req/s p99_ms errors peak_MiB rss_MiB cpu_s "what the attack got"
  for h in $HOSTILE; do
    case $h in
    values | string)
      kind=array
      [ "$h" = string ] && kind=string
      python3 scripts/hostile_clients.py body "$HOSTILE_SIZE" "$tmp/hostile-$h.json" "$kind"
      hostile_run "$h" env BODY="$tmp/hostile-$h.json" "${on_client[@]}" wrk -t1 -c"$HOSTILE_CONNS" \
        -d"$DURATION" -s "$tmp/hostile.lua" "https://127.0.0.1:$PORT/validate"
      ;;
    stall) hostile_run "$h" "${on_client[@]}" python3 scripts/hostile_clients.py stall "$PORT" 150 "$hold" ;;
    headers) hostile_run "$h" "${on_client[@]}" python3 scripts/hostile_clients.py headers "$PORT" 1000 "$hold" ;;
    *) echo "HOSTILE: unknown run $h (values, string, stall, headers)" >&2; exit 2 ;;
    esac
  done
fi

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

stop "$floor"
stop "$parse_floor"
kill -TERM "$ours"
if wait "$ours"; then echo "our server stopped cleanly on SIGTERM"; else echo "our server exited $? on SIGTERM" >&2; exit 1; fi

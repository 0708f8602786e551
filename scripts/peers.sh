#!/usr/bin/env bash
# flink-lint beside the tools users would pick instead, on the same inputs:
#
#   - Checkov (`checkov -d DIR --framework kubernetes -o json`) and kubernetes-validate (every
#     YAML file, schema validation), both installed from PyPI into a virtualenv by this script;
#   - `flink-lint --format json DIR` (release build);
#
# on ../shared/corpus (when it is there; CORPUS=DIR for another) and on a generated monorepo of
# 10,000 objects (scripts/gen-corpus.py). Each run is timed with /usr/bin/time; the script
# prints wall and CPU seconds, peak RSS, objects/s and flink-lint's objects/s as a multiple
# of each peer's. Objects: the YAML/JSON documents with `apiVersion` and `kind` in the
# `*.yaml`, `*.yml` and `*.json` files (the same count for every tool).
#
#   scripts/peers.sh
#   OBJECTS=1000 RUNS=3 scripts/peers.sh       # a smaller generated corpus, best of 3
#   NO_BUILD=1 PEERS_VENV=/tmp/venv scripts/peers.sh
#   NO_BUILD=1 LINT=/path/to/flink-lint scripts/peers.sh   # another build of flink-lint
#
# Needs python3 (with venv), pip access to PyPI, /usr/bin/time (`apt-get install -y time`).
# Not part of CI; BENCHMARKS.md says how the figures there were taken.
set -euo pipefail
cd "$(dirname "$0")/.."

OBJECTS=${OBJECTS:-10000}
RUNS=${RUNS:-1}
CORPUS=${CORPUS:-../shared/corpus}
VENV=${PEERS_VENV:-target/peers-venv}
CHECKOV_VERSION=${CHECKOV_VERSION:-3.3.30}
KV_VERSION=${KV_VERSION:-1.37.0}
LINT=${LINT:-target/release/flink-lint}

[ -x /usr/bin/time ] || { echo "/usr/bin/time not found: apt-get install -y time" >&2; exit 1; }
if [ ! -x "$VENV/bin/checkov" ] || [ ! -x "$VENV/bin/kubernetes-validate" ] ||
  [ "$("$VENV/bin/checkov" --version 2>/dev/null)" != "$CHECKOV_VERSION" ]; then
  echo "installing checkov==$CHECKOV_VERSION kubernetes-validate==$KV_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "checkov==$CHECKOV_VERSION" "kubernetes-validate==$KV_VERSION"
fi
if [ -z "${NO_BUILD:-}" ]; then
  cargo build --release --quiet --bin flink-lint
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Checkov must not phone home: no guideline download, no version check, no platform.
export BC_SKIP_MAPPING=TRUE CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false ENABLE_DEFINITION_KEY=false

count_objects() { # dir
  "$VENV/bin/python" - "$1" <<'PY'
import os, sys, yaml, json
n = 0
for root, _, files in os.walk(sys.argv[1]):
    for f in files:
        if not f.endswith((".yaml", ".yml", ".json")):
            continue
        try:
            with open(os.path.join(root, f), encoding="utf-8") as fh:
                text = fh.read()
            docs = [json.loads(text)] if f.endswith(".json") else list(yaml.safe_load_all(text))
        except Exception:
            continue
        n += sum(1 for d in docs if isinstance(d, dict) and "apiVersion" in d and "kind" in d)
print(n)
PY
}

# Runs "$@" RUNS times under /usr/bin/time; prints the best run's "wall cpu rss_MiB".
timed() {
  local best="" line
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$@" >"$tmp/out" 2>"$tmp/err" || true
    # (a non-zero exit adds a line before the figures: findings are expected here)
    line=$(tail -n1 "$tmp/time" | awk '{printf "%.2f %.2f %.1f", $1, $2 + $3, $4 / 1024}')
    if [ -z "$best" ] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN {exit !(a < b)}'; then
      best=$line
    fi
  done
  echo "$best"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "versions: $("$LINT" --version), checkov $("$VENV/bin/checkov" --version), kubernetes-validate $("$VENV/bin/kubernetes-validate" --version)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

corpora=()
if [ -d "$CORPUS" ]; then corpora+=("$CORPUS"); fi
python3 scripts/gen-corpus.py "$tmp/generated" --objects "$OBJECTS" >/dev/null
corpora+=("$tmp/generated")

printf '\n%-26s %-20s %8s %8s %8s %8s %10s %12s %7s %7s\n' corpus tool objects wall_s cpu_s rss_MiB objects/s objects/cpu-s lint_x lint_xc
for dir in "${corpora[@]}"; do
  name=$dir
  [ "$dir" = "$tmp/generated" ] && name="generated ($OBJECTS)"
  objects=$(count_objects "$dir")
  find "$dir" -type f \( -name '*.yaml' -o -name '*.yml' \) -print0 >"$tmp/files"
  declare -A rate=() cpu_rate=()
  for tool in flink-lint checkov kubernetes-validate; do
    case $tool in
      flink-lint) read -r wall cpu rss < <(timed "$LINT" --format json "$dir") ;;
      checkov) read -r wall cpu rss < <(timed "$VENV/bin/checkov" -d "$dir" --framework kubernetes \
        -o json --quiet --compact --skip-download) ;;
      kubernetes-validate) read -r wall cpu rss < <(timed xargs -0 -a "$tmp/files" \
        "$VENV/bin/kubernetes-validate" --quiet) ;;
    esac
    rate[$tool]=$(awk -v n="$objects" -v t="$wall" 'BEGIN {printf "%.0f", (t > 0 ? n / t : 0)}')
    cpu_rate[$tool]=$(awk -v n="$objects" -v t="$cpu" 'BEGIN {printf "%.0f", (t > 0 ? n / t : 0)}')
    x=$(awk -v a="${rate[flink-lint]}" -v b="${rate[$tool]}" 'BEGIN {printf "%.1f", (b > 0 ? a / b : 0)}')
    xc=$(awk -v a="${cpu_rate[flink-lint]}" -v b="${cpu_rate[$tool]}" 'BEGIN {printf "%.1f", (b > 0 ? a / b : 0)}')
    printf '%-26s %-20s %8s %8s %8s %8s %10s %12s %7s %7s\n' "$name" "$tool" "$objects" "$wall" "$cpu" \
      "$rss" "${rate[$tool]}" "${cpu_rate[$tool]}" "$x" "$xc"
  done
done
echo "lint_x: flink-lint's objects/s over the tool's (wall clock), lint_xc: the same per CPU second"
echo "(RUNS=$RUNS, the run with the shortest wall time; objects/cpu-s is the fairer figure on a busy machine)"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

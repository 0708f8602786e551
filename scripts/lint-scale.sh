#!/usr/bin/env bash
# How flink-lint scales: build release, generate a Flink monorepo of 1,000 and 10,000 objects
# (scripts/gen-corpus.py), lint each with `--format json` and `--format human` under
# `/usr/bin/time -v`, and print objects/s, wall and CPU time, peak RSS, input size, RSS/input and the
# growth exponent log(t10k/t1k)/log(10) per format.
#
#   scripts/lint-scale.sh                 # 1000 and 10000 objects, best of 1 run
#   SIZES="1000 10000" RUNS=3 scripts/lint-scale.sh
#   NO_BUILD=1 scripts/lint-scale.sh      # use the existing target/release/flink-lint
#   ARGS="--select FLK305" scripts/lint-scale.sh   # extra flink-lint arguments (here: reading
#                                         # and rendering, without the cross-object rules)
#   LAYOUTS="monorepo one flat ns" scripts/lint-scale.sh   # the adversarial layouts too
#                                         # (scripts/layouts.py): one file, one flat directory,
#                                         # one team copied into many namespaces, same names
#
# Targets (issue 7): >= 10,000 objects/s, growth <= n^1.15 from 1k to 10k, peak RSS < 256 MiB
# and < 10x the input. flink-lint exits 1 when it finds something; that is expected here.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"1000 10000"}
RUNS=${RUNS:-1}
FORMATS=${FORMATS:-"json human"}
WORK=${WORK:-$(mktemp -d)}
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/flink-lint}
LAYOUTS=${LAYOUTS:-monorepo}
ARGS=${ARGS:-}

if [ ! -x /usr/bin/time ]; then
  echo "/usr/bin/time not found: apt-get install -y time" >&2
  exit 1
fi
if [ -z "${NO_BUILD:-}" ]; then
  cargo build --release --quiet --bin flink-lint
fi

declare -A SECS CPU
printf '%-8s %-7s %-6s %9s %8s %10s %9s %10s %9s %8s\n' layout objects format wall_s cpu_s objects/s rss_MiB input_MiB rss/input findings
for layout in $LAYOUTS; do
for n in $SIZES; do
  mono="$WORK/corpus-$n"
  [ -d "$mono" ] || python3 scripts/gen-corpus.py "$mono" --objects "$n" >/dev/null
  case $layout in
    monorepo) dir=$mono ;;
    one) dir="$WORK/one-$n.yaml"; [ -f "$dir" ] || python3 scripts/layouts.py one "$mono" "$dir" ;;
    flat) dir="$WORK/flat-$n"; [ -d "$dir" ] || python3 scripts/layouts.py flat "$mono" "$dir" ;;
    ns)
      team="$WORK/corpus-100"
      [ -d "$team" ] || python3 scripts/gen-corpus.py "$team" --objects 100 >/dev/null
      dir="$WORK/ns-$n"; [ -d "$dir" ] || python3 scripts/layouts.py ns "$team" "$dir" $((n / 100)) ;;
    *) echo "unknown layout $layout" >&2; exit 2 ;;
  esac
  input=$(find "$dir" -type f -name '*.yaml' -printf '%s\n' | awk '{s+=$1} END {print s}')
  for fmt in $FORMATS; do
    best=""
    best_rss=0
    for _ in $(seq "$RUNS"); do
      set +e
      /usr/bin/time -v -o "$WORK/time.txt" "$BIN" $ARGS --format "$fmt" "$dir" >"$WORK/out.$fmt" 2>"$WORK/err.txt"
      rc=$?
      set -e
      if [ "$rc" -gt 1 ]; then
        echo "flink-lint failed (exit $rc):" >&2
        cat "$WORK/err.txt" >&2
        exit 1
      fi
      wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/time.txt" |
        awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
      rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")
      cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$WORK/time.txt")
      if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN {exit !(a < b)}'; then
        best=$wall
        best_rss=$rss
        best_cpu=$cpu
      fi
    done
    if [ "$fmt" = json ]; then
      findings=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["findings"]))' "$WORK/out.json" 2>/dev/null || echo "?")
    else
      findings=$(grep -cE '^(error|warning|info)\[' "$WORK/out.$fmt" || true)
    fi
    SECS[$layout.$n.$fmt]=$best
    CPU[$layout.$n.$fmt]=$best_cpu
    awk -v lay="$layout" -v n="$n" -v f="$fmt" -v t="$best" -v c="$best_cpu" -v rss="$best_rss" -v in_b="$input" -v fi="$findings" 'BEGIN {
      t2 = (t > 0 ? t : 0.001)
      printf "%-8s %-7d %-6s %9.2f %8.2f %10.0f %9.1f %10.1f %9.1f %8s\n", lay, n, f, t, c, n / t2, rss / 1024, in_b / 1048576, rss * 1024 / in_b, fi
    }'
  done
done
done

set -- $SIZES
if [ $# -ge 2 ]; then
  small=$1
  shift $(($# - 1))
  large=$1
  for layout in $LAYOUTS; do
  for fmt in $FORMATS; do
    awk -v lay="$layout" -v a="${SECS[$layout.$small.$fmt]}" -v b="${SECS[$layout.$large.$fmt]}" -v ca="${CPU[$layout.$small.$fmt]}" -v cb="${CPU[$layout.$large.$fmt]}" -v s="$small" -v l="$large" -v f="$fmt" 'BEGIN {
      if (a <= 0) a = 0.001
      if (ca <= 0) ca = 0.001
      printf "growth %-8s %-6s wall t(%d)/t(%d) = %.2f, exponent %.2f; cpu %.2f, exponent %.2f\n", lay, f, l, s, b / a, log(b / a) / log(l / s), cb / ca, log(cb / ca) / log(l / s)
    }'
  done
  done
fi
echo "work dir: $WORK"

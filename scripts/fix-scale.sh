#!/usr/bin/env bash
# How `flink-lint fix` scales on the adversarial layout: every object of a generated Flink
# monorepo (scripts/gen-corpus.py) in ONE multi-document file, fixed with `fix --diff` (nothing
# written) under `/usr/bin/time -v`. Prints wall and CPU time, peak RSS, the number of diff
# lines and the growth exponent log(t_big/t_small)/log(ratio): 1.0 is linear.
#
#   scripts/fix-scale.sh                   # 1000 and 10000 objects
#   SIZES="500 5000" scripts/fix-scale.sh
#   NO_BUILD=1 BIN=path/to/flink-lint scripts/fix-scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"1000 10000"}
WORK=${WORK:-$(mktemp -d)}
BIN=${BIN:-target/release/flink-lint}

if [ ! -x /usr/bin/time ]; then
  echo "/usr/bin/time not found: apt-get install -y time" >&2
  exit 1
fi
if [ -z "${NO_BUILD:-}" ]; then
  cargo build --release --quiet --bin flink-lint
fi

printf '%-8s %9s %8s %9s %11s\n' objects wall_s cpu_s rss_MiB diff_lines
prev_n=""
prev_t=""
for n in $SIZES; do
  dir="$WORK/corpus-$n"
  [ -d "$dir" ] || python3 scripts/gen-corpus.py "$dir" --objects "$n" >/dev/null
  one="$WORK/one-$n.yaml"
  find "$dir" -type f -name '*.yaml' | sort | while read -r f; do
    printf -- '---\n'
    cat "$f"
  done >"$one"
  set +e
  /usr/bin/time -v -o "$WORK/time.txt" "$BIN" fix --diff --unsafe-fixes "$one" >"$WORK/diff.txt" 2>"$WORK/err.txt"
  rc=$?
  set -e
  if [ "$rc" -gt 1 ]; then
    echo "flink-lint fix failed (exit $rc):" >&2
    cat "$WORK/err.txt" >&2
    exit 1
  fi
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/time.txt" |
    awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$WORK/time.txt")
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$WORK/time.txt")
  printf '%-8s %9s %8s %9s %11s\n' "$n" "$wall" "$cpu" "$rss" "$(wc -l <"$WORK/diff.txt")"
  if [ -n "$prev_n" ]; then
    awk -v a="$prev_t" -v b="$wall" -v m="$prev_n" -v n="$n" \
      'BEGIN { if (a > 0) printf "growth %s -> %s objects: n^%.2f\n", m, n, log(b / a) / log(n / m) }'
  fi
  prev_n=$n
  prev_t=$wall
done

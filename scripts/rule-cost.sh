#!/usr/bin/env bash
# What each rule costs flink-lint on one input: the CPU time (user+sys) of the whole run
# (`flink-lint --format json INPUT`, every rule) minus that of the run without it (`--ignore ID`),
# as a share of the whole run. Prints the rules by cost, most first, the reading, parsing and
# rendering alone (`--select FLK001`) for scale, and says whether any rule is above LIMIT percent
# (default 10) of the whole run (exit 1 if so). Best of RUNS (default 3) per run, so a share
# within a few tenths of a percent of zero is noise.
#
#   scripts/rule-cost.sh DIR_OR_FILE              # e.g. a 10,000-object monorepo from
#                                                 # scripts/gen-corpus.py, or a layout of
#                                                 # scripts/layouts.py
#   TOP=20 RUNS=5 BIN=path/to/flink-lint scripts/rule-cost.sh INPUT
#
# Not part of CI: the figures depend on the machine. Needs /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
input=${1:?usage: scripts/rule-cost.sh DIR_OR_FILE}
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/flink-lint}
RUNS=${RUNS:-3}
TOP=${TOP:-15}
LIMIT=${LIMIT:-10}
[ -x "$BIN" ] || cargo build --release --quiet --bin flink-lint
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Best-of-RUNS CPU seconds of flink-lint with the given arguments.
cpu() {
  local best=""
  for _ in $(seq "$RUNS"); do
    set +e
    /usr/bin/time -f '%U %S' -o "$tmp/t" "$BIN" --format json "$@" "$input" >/dev/null 2>"$tmp/err"
    local rc=$?
    set -e
    if [ "$rc" -gt 1 ]; then
      echo "flink-lint $* failed (exit $rc):" >&2
      cat "$tmp/err" >&2
      exit 1
    fi
    local t
    # GNU time puts "Command exited with non-zero status 1" first when flink-lint found something.
    t=$(tail -n 1 "$tmp/t" | awk '{print $1 + $2}')
    if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN {exit !(a < b)}'; then best=$t; fi
  done
  echo "$best"
}

whole=$(cpu)
base=$(cpu --select FLK001)
: >"$tmp/costs"
for f in policies/FLK*.yaml; do
  id=$(basename "$f" | cut -d- -f1)
  t=$(cpu --ignore "$id")
  echo "$id $t" >>"$tmp/costs"
done
echo "input: $input; whole run ${whole} s CPU; reading, parsing and rendering alone (--select FLK001) ${base} s"
# cost of a rule = whole - without it
awk -v w="$whole" '{c = w - $2; if (c < 0) c = 0; print $1, c}' "$tmp/costs" | sort -k2 -gr >"$tmp/sorted"
head -n "$TOP" "$tmp/sorted" | awk -v w="$whole" '{
  printf "%-7s %6.3f s  %5.1f%% of the whole run\n", $1, $2, 100 * $2 / w
}'
head -n 1 "$tmp/sorted" | awk -v w="$whole" -v lim="$LIMIT" '{
  share = 100 * $2 / w
  if (share > lim) { printf "over the limit: %s costs %.1f%% of the run (limit %s%%)\n", $1, share, lim; exit 1 }
  printf "no rule above %s%% of the run (most: %s, %.1f%%)\n", lim, $1, share
}'

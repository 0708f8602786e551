#!/usr/bin/env bash
# What flink-lint's memory does with pathological inputs: files near the 64 MiB input cap whose
# bytes are almost all nodes or documents (a flow list of `1`s, a block mapping of short keys, a
# block sequence, a flow mapping, millions of tiny documents, a JSON list). Each is linted with
# `--format json` under `/usr/bin/time -v`; prints the exit code, wall and CPU time, peak RSS and
# the first error, and exits 1 if any run's peak reaches LIMIT_MIB (default 1024: issue 23's
# "a node budget that stops pathological inputs before 1 GiB").
#
#   scripts/lint-hostile.sh                  # every shape at about 60 MiB, and a 16 MiB list
#   NO_BUILD=1 BIN=path/to/flink-lint SIZE_MIB=30 scripts/lint-hostile.sh
#
# Not part of CI: the figures depend on the machine (BENCHMARKS.md has them). Needs
# /usr/bin/time and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/flink-lint}
SIZE_MIB=${SIZE_MIB:-60}
LIMIT_MIB=${LIMIT_MIB:-1024}
WORK=${WORK:-$(mktemp -d)}
mkdir -p "$WORK"

if [ ! -x /usr/bin/time ]; then
  echo "/usr/bin/time not found: apt-get install -y time" >&2
  exit 1
fi
if [ -z "${NO_BUILD:-}" ]; then
  cargo build --release --quiet --bin flink-lint
fi

python3 - "$WORK" "$SIZE_MIB" <<'EOF'
import sys
work, size = sys.argv[1], int(sys.argv[2]) * 1024 * 1024

def repeat(name, unit, head="", tail="", size=size):
    n = (size - len(head) - len(tail)) // len(unit)
    with open(f"{work}/{name}", "w") as f:
        f.write(head + unit * n + tail)

def numbered(name, fmt, head="", tail=""):
    parts, total, i = [], 0, 0
    while total < size:
        p = fmt % i
        parts.append(p)
        total += len(p)
        i += 1
    with open(f"{work}/{name}", "w") as f:
        f.write(head + "".join(parts) + tail)

repeat("flow-list-16MiB.yaml", "1,", "a: [", "1]\n", size=16 * 1024 * 1024)
repeat("flow-list.yaml", "1,", "a: [", "1]\n")
repeat("block-seq.yaml", "- 1\n", "a:\n")
numbered("block-map.yaml", "k%d: 1\n")
numbered("flow-map.yaml", "k%d: 1, ", "{", "z: 1}\n")
repeat("tiny-scalar-docs.yaml", "---\na\n")
repeat("tiny-map-docs.yaml", "---\n{a: 1}\n")
repeat("tiny-objects.yaml", "---\nkind: A\n")
repeat("list.json", "1,", '{"a": [', '1]}\n')
EOF

printf '%-22s %8s %5s %7s %6s %8s  %s\n' input MiB exit wall_s cpu_s peak_MiB "first error"
worst=0
for f in flow-list-16MiB.yaml flow-list.yaml block-seq.yaml block-map.yaml flow-map.yaml \
  tiny-scalar-docs.yaml tiny-map-docs.yaml tiny-objects.yaml list.json; do
  set +e
  /usr/bin/time -v -o "$WORK/time.txt" "$BIN" --format json "$WORK/$f" >"$WORK/out.json" 2>/dev/null
  rc=$?
  set -e
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$WORK/time.txt")
  cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.2f", u+s}' "$WORK/time.txt")
  peak=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2/1024}' "$WORK/time.txt")
  mib=$(du -m --apparent-size "$WORK/$f" | cut -f1)
  first=$(python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["errors"]
print("%s:%s %s" % (e[0]["line"], e[0]["column"], e[0]["message"]) if e else "-")' "$WORK/out.json")
  printf '%-22s %8s %5s %7s %6s %8s  %s\n' "$f" "$mib" "$rc" "$wall" "$cpu" "$peak" "$first"
  [ "$peak" -gt "$worst" ] && worst=$peak
done
echo "largest peak: $worst MiB (limit $LIMIT_MIB MiB); work dir: $WORK"
[ "$worst" -lt "$LIMIT_MIB" ]

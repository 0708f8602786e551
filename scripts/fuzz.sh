#!/usr/bin/env bash
# Fuzz every cargo-fuzz target in fuzz/ (libFuzzer, nightly) for a bounded time each.
#
#   scripts/fuzz.sh                    every target, FUZZ_SECONDS (default 60) each
#   FUZZ_SECONDS=300 scripts/fuzz.sh lint fix      only these targets
#
# Installs the nightly toolchain and cargo-fuzz when they are missing. Seeds each target's
# corpus (fuzz/corpus/<target>/, not committed) from tests/fixtures and ../shared/corpus at run
# time. Exits non-zero when any target finds a crash; the input is kept under
# fuzz/artifacts/<target>/ (replay it: cargo +nightly fuzz run <target> <file>). Not run by CI.
# FUZZ_SANITIZER=none builds without AddressSanitizer (faster; the Rust code is memory-safe, so
# panics, hangs and stack overflows are found either way).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
seconds="${FUZZ_SECONDS:-60}"
sanitizer="${FUZZ_SANITIZER:-address}"
all_targets=(admission lint walker flink_config quantity fix)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "== installing the nightly toolchain"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

shared="$root/../shared/corpus"
seed() { # seed TARGET FILE...: copy files into the target's corpus (named by content hash)
  local dir="$root/fuzz/corpus/$1"; shift
  mkdir -p "$dir"
  local f
  for f in "$@"; do
    [ -f "$f" ] || continue
    [ "$(stat -c %s "$f")" -le 262144 ] || continue
    cp "$f" "$dir/seed-$(sha1sum "$f" | cut -c1-16)"
  done
}
manifests() { # every YAML/JSON manifest of the fixtures and the shared corpus
  find "$root/tests/fixtures" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \)
  [ -d "$shared" ] && find "$shared" -type f \( -name '*.yaml' -o -name '*.yml' -o -name '*.json' \)
  return 0
}

echo "== seeding fuzz/corpus/"
mapfile -t all_manifests < <(manifests)
seed lint "${all_manifests[@]}"
seed fix "${all_manifests[@]}"
mapfile -t reviews < <(find "$root/tests/fixtures/admission" -type f -name '*.json'
                      [ -d "$shared/admission-reviews" ] && find "$shared/admission-reviews" -type f -name '*.json'
                      true)
seed admission "${reviews[@]}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
i=0
for q in 1600m 2g "1024 mb" 1728Mi 1.5Gi 100m 1e3 2E 0.5 -1Gi 9223372036854775807b 2GiB 512mi 1Ki \
         "4 gibibytes" 0 "1e-9" "123456789012345678901234567890"; do
  printf '%s' "$q" >"$tmp/q$i"; i=$((i + 1))
done
seed quantity "$tmp"/q*
# Flink configuration texts: the flink-conf.yaml / config.yaml values of every ConfigMap
# (needs python3 with PyYAML; without it only the two written here).
printf 'jobmanager.rpc.address: flink-jobmanager\ntaskmanager.numberOfTaskSlots: 2\nblob.server.port: 6124\njobmanager.memory.process.size: 1600m\n' >"$tmp/c0"
printf 'jobmanager:\n  rpc:\n    address: flink-jobmanager\n    port: 6123\nhigh-availability:\n  type: kubernetes\n  storageDir: s3://b/ha\n' >"$tmp/c1"
seed flink_config "$tmp/c0" "$tmp/c1"
if python3 -c 'import yaml' 2>/dev/null; then
  python3 - "$tmp/conf" "${all_manifests[@]}" <<'PY'
import os, sys, yaml
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
n = 0
for path in sys.argv[2:]:
    try:
        docs = list(yaml.safe_load_all(open(path, encoding="utf-8")))
    except Exception:
        continue
    for d in docs:
        if not isinstance(d, dict) or d.get("kind") != "ConfigMap":
            continue
        for key, value in (d.get("data") or {}).items():
            if isinstance(value, str) and (key.endswith(".yaml") or key.endswith(".properties")):
                n += 1
                open(os.path.join(out, f"{n}"), "w", encoding="utf-8").write(value)
PY
  seed flink_config "$tmp"/conf/*
fi
printf '\x00\x00\x00\x01\x00\x02\x02\x00\x03\x00\x01\x00\x05\x00\x08\x03\x01\x02' >"$tmp/w0"
seed walker "$tmp/w0"
for t in "${targets[@]}"; do
  echo "   $t: $(find "fuzz/corpus/$t" -type f 2>/dev/null | wc -l) inputs"
done

echo "== building the targets (sanitizer: $sanitizer)"
cd fuzz
cargo +nightly fuzz build -s "$sanitizer"

failed=()
for t in "${targets[@]}"; do
  echo "== $t: ${seconds}s"
  mkdir -p "artifacts/$t"
  if ! cargo +nightly fuzz run -s "$sanitizer" "$t" "corpus/$t" -- \
      -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=65536 \
      -print_final_stats=1 2>"artifacts/$t/log.txt"; then
    failed+=("$t")
    tail -n 40 "artifacts/$t/log.txt"
  fi
  grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' \
    "artifacts/$t/log.txt" | sed 's/^/   /' || true
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in ${failed[*]} (inputs under fuzz/artifacts/)"
  exit 1
fi
echo "fuzz: every target ran ${seconds}s without a crash"

#!/usr/bin/env bash
# Check .pre-commit-hooks.yaml with pre-commit itself (pip install pre-commit): in a throwaway
# git repository, `pre-commit try-repo <this repo> HOOK` must fail on a broken manifest and name
# the finding, and pass on a clean one.
#
# Usage: scripts/precommit-check.sh [HOOK]
#   HOOK  flink-lint-system (default): the flink-lint on PATH; $FLINK_LINT_DIR (default
#         target/debug, what `cargo test` built) is put first on PATH.
#         flink-lint: the `language: rust` hook; pre-commit runs `cargo install` of this
#         repository (a release build: minutes on two cores).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
hook="${1:-flink-lint-system}"

command -v pre-commit >/dev/null || { echo "precommit-check: pre-commit not found (pip install pre-commit)" >&2; exit 2; }
command -v git >/dev/null || { echo "precommit-check: git not found" >&2; exit 2; }
if [ "$hook" = flink-lint-system ]; then
  dir="${FLINK_LINT_DIR:-$repo/${CARGO_TARGET_DIR:-target}/debug}"
  [ -x "$dir/flink-lint" ] || { echo "precommit-check: $dir/flink-lint missing (cargo build --bin flink-lint)" >&2; exit 2; }
  export PATH="$dir:$PATH"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PRE_COMMIT_HOME="$work/cache"     # never touch the user's ~/.cache/pre-commit
fail() { echo "precommit-check FAILED: $*" >&2; exit 1; }

cd "$work"
git init -q project
cd project
git config user.email ci@example.invalid
git config user.name ci
git config commit.gpgsign false
mkdir manifests
# A JobManager Deployment with two replicas and no HA: FLK101 (error), among others.
cp "$repo/tests/fixtures/FLK101/fail-deployment.yaml" manifests/jobmanager.yaml
echo "not: [a manifest" > manifests/README.txt          # not YAML by name: never passed to the hook
git add -A

echo "== pre-commit try-repo $hook on a broken manifest (must fail and name FLK101)"
code=0
pre-commit try-repo "$repo" "$hook" --files manifests/jobmanager.yaml manifests/README.txt \
  > "$work/broken.out" 2>&1 || code=$?
cat "$work/broken.out"
[ "$code" -ne 0 ] || fail "the hook passed a manifest with FLK101"
grep -q 'FLK101' "$work/broken.out" || fail "the output does not name FLK101"
grep -q 'manifests/jobmanager.yaml:' "$work/broken.out" || fail "the output does not name the file and line"
grep -q 'README.txt' "$work/broken.out" && fail "a non-YAML file reached flink-lint"

echo "== pre-commit try-repo $hook on a clean manifest (must pass)"
cp "$repo/tests/fixtures/_shared/cluster.yaml" manifests/jobmanager.yaml
git add -A
pre-commit try-repo "$repo" "$hook" --files manifests/jobmanager.yaml > "$work/clean.out" 2>&1 \
  || { cat "$work/clean.out"; fail "the hook failed on a clean manifest"; }
grep -E -q 'flink-lint.*Passed' "$work/clean.out" || { cat "$work/clean.out"; fail "no 'Passed' line"; }
echo "pre-commit hook $hook: fails on FLK101, passes a clean manifest"

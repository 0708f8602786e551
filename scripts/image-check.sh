#!/usr/bin/env bash
# Build both images (scripts/image.sh) and check them without running a container (podman run
# does not work everywhere this runs; the binary is copied out of the image instead):
#   - buildah inspect: numeric non-root user, entrypoint, OCI labels, size under 30 MiB
#   - the binary in the image is static (no ELF interpreter) and runs on the host:
#     flink-admission `serve --dev` answers one /validate request (curl with the CA it prints),
#     flink-lint finds what it should in deploy/examples/.
# Usage: scripts/image-check.sh [--no-build]   (--no-build: reuse the static binaries)
# Needs: buildah, curl, jq, readelf. Environment: as scripts/image.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

export STORAGE_DRIVER="${STORAGE_DRIVER:-vfs}"
REGISTRY="${REGISTRY:-ghcr.io/flink-admission}"
VERSION="${VERSION:-$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)}"
export REGISTRY VERSION
MAX_MIB="${MAX_MIB:-30}"              # per image (one binary each)
MAX_BYTES=$((MAX_MIB * 1024 * 1024))
SOURCE="https://github.com/flink-admission/flink-admission"

for tool in buildah curl jq readelf; do
  command -v "$tool" >/dev/null || { echo "image-check: $tool not found" >&2; exit 2; }
done
bh() { buildah --storage-driver "$STORAGE_DRIVER" "$@"; }

ENGINE=buildah scripts/image.sh "$@"

work="$(mktemp -d)"
containers=()
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  for c in "${containers[@]}"; do bh umount "$c" >/dev/null 2>&1 || true; bh rm "$c" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

fail() { echo "image-check FAILED: $*" >&2; exit 1; }

# check_image TOOL ENTRYPOINT_JSON: inspect, then copy the binary out to $work/TOOL.
check_image() {
  local tool="$1" want_entry="$2" image="$REGISTRY/$1:$VERSION"
  echo "== $image"
  bh inspect --type image "$image" > "$work/$tool.json"
  local cfg=".OCIv1.config"
  local user entry
  user="$(jq -r "$cfg.User" "$work/$tool.json")"
  entry="$(jq -c "$cfg.Entrypoint" "$work/$tool.json")"
  [ "$user" = "65532:65532" ] || fail "$image: user is '$user', want 65532:65532"
  [ "$entry" = "$want_entry" ] || fail "$image: entrypoint is $entry, want $want_entry"
  for label in org.opencontainers.image.source org.opencontainers.image.version org.opencontainers.image.licenses; do
    local value
    value="$(jq -r --arg l "$label" "$cfg.Labels[\$l] // empty" "$work/$tool.json")"
    [ -n "$value" ] || fail "$image: no label $label"
    echo "   $label=$value"
  done
  [ "$(jq -r "$cfg.Labels[\"org.opencontainers.image.version\"]" "$work/$tool.json")" = "$VERSION" ] \
    || fail "$image: version label is not $VERSION"
  [ "$(jq -r "$cfg.Labels[\"org.opencontainers.image.licenses\"]" "$work/$tool.json")" = "Apache-2.0" ] \
    || fail "$image: licence label is not Apache-2.0"
  [ "$(jq -r "$cfg.Labels[\"org.opencontainers.image.source\"]" "$work/$tool.json")" = "$SOURCE" ] \
    || fail "$image: source label is not $SOURCE"
  # One layer, the binary: its uncompressed size is what a node stores.
  local layers size
  layers="$(jq '.OCIv1.rootfs.diff_ids | length' "$work/$tool.json")"
  [ "$layers" -eq 1 ] || fail "$image: $layers layers, want 1 (FROM scratch + one COPY)"
  local ctr mnt
  ctr="$(bh from --pull=never "$image")"
  containers+=("$ctr")
  mnt="$(bh mount "$ctr")"
  # No shell, nothing but the binary.
  [ ! -e "$mnt/bin/sh" ] || fail "$image: has /bin/sh"
  local files
  files="$(cd "$mnt" && find . -type f | sort | tr '\n' ' ')"
  [ "$files" = "./usr/local/bin/$tool " ] || fail "$image: files are '$files', want only ./usr/local/bin/$tool"
  size="$(du -sb "$mnt" | cut -f1)"
  echo "   user=$user entrypoint=$entry layers=$layers size=$size bytes ($((size / 1024 / 1024)) MiB)"
  [ "$size" -lt "$MAX_BYTES" ] || fail "$image: $size bytes, over $MAX_MIB MiB"
  cp "$mnt/usr/local/bin/$tool" "$work/$tool"
  bh umount "$ctr" >/dev/null
  if readelf -l "$work/$tool" | grep -q 'Requesting program interpreter'; then
    fail "$tool in $image is dynamically linked"
  fi
}

check_image flink-admission '["/usr/local/bin/flink-admission"]'
[ "$(jq -c '.OCIv1.config.Cmd' "$work/flink-admission.json")" = '["serve","--addr=0.0.0.0:8443","--tls-cert=/certs/tls.crt","--tls-key=/certs/tls.key","--probe-addr=0.0.0.0:8080"]' ] \
  || fail "flink-admission: unexpected CMD $(jq -c '.OCIv1.config.Cmd' "$work/flink-admission.json")"
check_image flink-lint '["/usr/local/bin/flink-lint"]'

# Free loopback ports for this run.
read -r port probe < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')

echo "== the image's flink-admission: serve --dev on 127.0.0.1:$port, one /validate"
"$work/flink-admission" serve --dev --dev-dir "$work/dev" \
  --addr "127.0.0.1:$port" --probe-addr "127.0.0.1:$probe" >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
ca=""
for _ in $(seq 1 100); do
  ca="$(sed -n 's/^dev CA certificate: //p' "$work/serve.out")"
  if [ -n "$ca" ] && curl -fsS "http://127.0.0.1:$probe/readyz" >/dev/null 2>&1; then break; fi
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.err" >&2; fail "serve --dev exited"; }
  sleep 0.1
done
[ -n "$ca" ] && [ -f "$ca" ] || { cat "$work/serve.err" >&2; fail "serve --dev printed no CA"; }
fixture=tests/fixtures/admission/jobmanager-deployment-update.json
curl -fsS --cacert "$ca" -H 'Content-Type: application/json' \
  --data @"$fixture" "https://127.0.0.1:$port/validate" > "$work/validate.json" \
  || { cat "$work/serve.err" >&2; fail "/validate request failed"; }
uid="$(jq -r .request.uid "$fixture")"
jq -e --arg uid "$uid" '.response.uid == $uid and .response.allowed == false
  and (.response.status.message | test("FLK102"))' "$work/validate.json" >/dev/null \
  || fail "/validate answered $(cat "$work/validate.json")"
echo "   denied with FLK102, uid $uid"
kill "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""

echo "== the image's flink-lint on deploy/examples/"
code=0
"$work/flink-lint" --format json deploy/examples/ > "$work/lint.json" || code=$?
[ "$code" -eq 1 ] || fail "flink-lint exited $code on deploy/examples/, want 1 (findings)"
jq -e '.findings | length > 0' "$work/lint.json" >/dev/null || fail "flink-lint found nothing"
echo "   $(jq '.findings | length' "$work/lint.json") findings, exit 1"
echo "image check passed"

#!/usr/bin/env bash
# Build the static binaries and the two FROM-scratch images:
#   ghcr.io/flink-admission/flink-admission:VERSION   the webhook (what deploy/ runs)
#   ghcr.io/flink-admission/flink-lint:VERSION        the linter
#
# Usage: scripts/image.sh [--no-build]
#   --no-build   use the binaries already in $STATIC_TARGET_DIR (skip cargo)
# Environment:
#   ENGINE              buildah (default), podman or docker: all read the same Containerfile
#   STORAGE_DRIVER      buildah/podman storage driver (default vfs: works without overlayfs,
#                       e.g. inside a container or a VM without fuse-overlayfs)
#   STATIC_TARGET_DIR   cargo target dir of the static build (default target/static, apart from
#                       target/ so it never invalidates the normal build)
#   REGISTRY            image name prefix (default ghcr.io/flink-admission)
#   VERSION             image tag (default: the version in Cargo.toml)
#
# The binaries: glibc, statically linked (static-pie), for x86_64-unknown-linux-gnu. Naming the
# target triple keeps RUSTFLAGS off build scripts and proc macros, which must stay dynamic.
set -euo pipefail
cd "$(dirname "$0")/.."

build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "image.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

ENGINE="${ENGINE:-buildah}"
export STORAGE_DRIVER="${STORAGE_DRIVER:-vfs}"
STATIC_TARGET_DIR="${STATIC_TARGET_DIR:-target/static}"
REGISTRY="${REGISTRY:-ghcr.io/flink-admission}"
TRIPLE=x86_64-unknown-linux-gnu
if [ -z "${VERSION:-}" ]; then
  VERSION="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)"
fi
REVISION="$(git rev-parse HEAD 2>/dev/null || echo unknown)"

if [ "$build" -eq 1 ]; then
  echo "== static binaries ($TRIPLE, crt-static) into $STATIC_TARGET_DIR"
  RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo build --release --locked --target "$TRIPLE" --target-dir "$STATIC_TARGET_DIR" \
      --bin flink-admission --bin flink-lint
fi

bin="$STATIC_TARGET_DIR/$TRIPLE/release"
ctx="$STATIC_TARGET_DIR/image"
rm -rf "$ctx"
mkdir -p "$ctx"
for tool in flink-admission flink-lint; do
  [ -x "$bin/$tool" ] || { echo "image.sh: $bin/$tool missing (run without --no-build)" >&2; exit 2; }
  install -m 0755 "$bin/$tool" "$ctx/$tool"
done
# The context holds only the binaries: the repository (and its target/) is never sent.

engine_args=()
case "$ENGINE" in
  buildah) engine_args=(--storage-driver "$STORAGE_DRIVER") ;;
  podman) engine_args=(--storage-driver "$STORAGE_DRIVER") ;;
  docker) ;;
  *) echo "image.sh: ENGINE must be buildah, podman or docker" >&2; exit 2 ;;
esac
build_cmd=("$ENGINE" "${engine_args[@]}" build)

for tool in flink-lint flink-admission; do
  tag="$REGISTRY/$tool:$VERSION"
  echo "== $tag"
  "${build_cmd[@]}" -f Containerfile --target "$tool" \
    --build-arg VERSION="$VERSION" --build-arg REVISION="$REVISION" \
    -t "$tag" "$ctx"
done
echo "built $REGISTRY/flink-admission:$VERSION and $REGISTRY/flink-lint:$VERSION"

#!/usr/bin/env bash
# Render every kustomize overlay under deploy/overlays and validate the output against the
# Kubernetes OpenAPI schemas with kubernetes-validate (pip install kubernetes-validate), strict.
# Kinds whose CRDs are not in those schemas are skipped explicitly, by name (SKIP_KINDS).
# The self-signed overlay needs certificates: when deploy/overlays/self-signed/certs/ is empty,
# throwaway ones are made with certs/make-certs.sh (openssl) in a temporary copy (the repository is not written).
set -euo pipefail
cd "$(dirname "$0")/.."

K8S_VERSION="${K8S_VERSION:-1.33.0}"
SKIP_KINDS=(Issuer Certificate ServiceMonitor)

command -v kubectl >/dev/null || { echo "kubectl not found" >&2; exit 2; }
command -v kubernetes-validate >/dev/null || { echo "kubernetes-validate not found: pip install kubernetes-validate" >&2; exit 2; }
command -v python3 >/dev/null || { echo "python3 not found" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r deploy "$work/deploy"
certs="$work/deploy/overlays/self-signed/certs"
if [ ! -f "$certs/tls.crt" ] || [ ! -f "$certs/tls.key" ] || [ ! -f "$certs/ca.crt" ]; then
  certs/make-certs.sh flink-admission "$certs" 1 >/dev/null
fi

failed=0
for dir in "$work"/deploy/overlays/*/; do
  name="$(basename "$dir")"
  out="$work/$name"
  mkdir -p "$out"
  echo "== $name"
  if ! kubectl kustomize "$dir" > "$out/all.yaml"; then
    echo "FAIL $name: kubectl kustomize"; failed=1; continue
  fi
  # One file per object; skipped kinds are reported, not validated.
  python3 - "$out" "${SKIP_KINDS[@]}" <<'PY'
import sys, re, pathlib
out = pathlib.Path(sys.argv[1]); skip = set(sys.argv[2:])
docs = [d for d in re.split(r'(?m)^---\s*$', (out / "all.yaml").read_text()) if d.strip()]
for i, doc in enumerate(docs):
    kind = re.search(r'(?m)^kind:\s*(\S+)', doc).group(1)
    name = re.search(r'(?m)^  name:\s*(\S+)', doc).group(1)
    if kind in skip:
        print(f"   skip {kind}/{name} (CRD not in the Kubernetes schemas)")
        continue
    (out / f"{i:02d}-{kind}-{name}.yaml").write_text(doc)
PY
  files=("$out"/[0-9]*.yaml)
  if [ ! -e "${files[0]}" ]; then echo "   (nothing to validate)"; continue; fi
  if ! kubernetes-validate --strict --no-warn -k "$K8S_VERSION" "${files[@]}"; then
    echo "FAIL $name"; failed=1
  fi
done
if [ "$failed" -ne 0 ]; then echo "manifest validation FAILED"; exit 1; fi
echo "all overlays valid (Kubernetes $K8S_VERSION, strict)"

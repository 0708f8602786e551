#!/usr/bin/env bash
# Make ca.crt, tls.crt, tls.key for the flink-admission webhook Service with openssl.
# Usage: certs/make-certs.sh [namespace] [out-dir] [days]
# Writes exactly three files into out-dir: ca.crt, tls.crt, tls.key (0600). The CA key, the
# request and the serial file stay in a temporary directory that is removed.
set -euo pipefail
ns="${1:-flink-admission}"
out="${2:-$(dirname "$0")/out}"
days="${3:-365}"
svc=flink-admission
mkdir -p "$out"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days "$days" \
  -subj "/CN=flink-admission webhook CA" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
  -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
  -keyout "$tmp/ca.key" -out "$out/ca.crt" 2>/dev/null

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=$svc.$ns.svc" -keyout "$out/tls.key" -out "$tmp/tls.csr" 2>/dev/null
cat > "$tmp/ext.cnf" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:$svc.$ns.svc,DNS:$svc.$ns.svc.cluster.local,DNS:$svc.$ns,DNS:$svc
EXT
openssl x509 -req -in "$tmp/tls.csr" -CA "$out/ca.crt" -CAkey "$tmp/ca.key" \
  -CAserial "$tmp/ca.srl" -CAcreateserial \
  -days "$days" -extfile "$tmp/ext.cnf" -out "$out/tls.crt" 2>/dev/null
chmod 600 "$out/tls.key"
openssl verify -CAfile "$out/ca.crt" "$out/tls.crt" >/dev/null
echo "wrote $out/ca.crt, $out/tls.crt, $out/tls.key for $svc.$ns.svc (valid $days days)"

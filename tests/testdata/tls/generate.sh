#!/usr/bin/env bash
# Regenerates the TLS test data: a CA, a server certificate for 127.0.0.1 and localhost signed by
# it, a client certificate signed by it, and an unrelated CA (for "wrong CA" tests). Every
# certificate is valid for 100 years. Run from anywhere; writes next to this script.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
days=36500

# The CA that signs the server and client certificates.
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$days" \
  -keyout "$work/ca-key.pem" -out ca.pem -subj "/CN=Sextant Test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

# An unrelated CA: certificates above do not chain to it.
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days "$days" \
  -keyout "$work/other-ca-key.pem" -out other-ca.pem -subj "/CN=Sextant Other Test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"

# issue NAME SUBJECT EXTFILE_CONTENT: a key NAME-key.pem and a certificate NAME.pem signed by ca.pem.
issue() {
  local name=$1 subject=$2 ext=$3
  openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$name-key.pem" \
    -out "$work/$name.csr" -subj "$subject"
  printf '%s\n' "$ext" >"$work/$name.ext"
  openssl x509 -req -in "$work/$name.csr" -CA ca.pem -CAkey "$work/ca-key.pem" \
    -CAcreateserial -CAserial "$work/ca.srl" -days "$days" -sha256 \
    -extfile "$work/$name.ext" -out "$name.pem"
}

issue server "/CN=localhost" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost"

issue client "/CN=sextant-test-client" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"

chmod 644 ./*.pem

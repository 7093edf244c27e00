#!/usr/bin/env bash
# Build the release binary for x86_64-unknown-linux-musl and prove it is fully static.
# Skips (with the reason printed) only when the musl target cannot be installed here.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=x86_64-unknown-linux-musl
command -v file >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq file >/dev/null 2>&1 || true

if ! dpkg -s musl-tools >/dev/null 2>&1; then
  echo "[static] apt-get install musl-tools"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools >/dev/null 2>&1; } \
    || { echo "[static] SKIP: musl-tools cannot be installed on this machine"; exit 0; }
fi
if ! rustup target list --installed 2>/dev/null | grep -qx "$TARGET"; then
  echo "[static] rustup target add $TARGET"
  rustup target add "$TARGET" >/dev/null 2>&1 || { echo "[static] SKIP: rustup cannot install the $TARGET target here (no access to its download)"; exit 0; }
fi
echo "[static] cargo build --release --target $TARGET"
cargo build --release --locked --quiet --target "$TARGET"
BIN=${CARGO_TARGET_DIR:-target}/$TARGET/release/kyma
desc=$(file -b "$BIN")
echo "[static] file: $desc"
case "$desc" in
  *"statically linked"*|*"static-pie linked"*) ;;
  *) echo "[static] FAIL: not statically linked"; exit 1 ;;
esac
# glibc's ldd says "not a dynamic executable" for static binaries and "statically linked" for static-pie.
lddout=$(ldd "$BIN" 2>&1 || true)
case "$lddout" in
  *"not a dynamic executable"*|*"statically linked"*) echo "[static] ldd: $(echo "$lddout" | tr -d '\t')" ;;
  *) echo "[static] FAIL: ldd lists dynamic dependencies:"; echo "$lddout"; exit 1 ;;
esac
if cargo tree --locked -e normal --target "$TARGET" 2>/dev/null | grep -i openssl | grep -v openssl-probe; then
  echo "[static] FAIL: OpenSSL in the dependency tree"; exit 1
fi
size=$(stat -c %s "$BIN")
echo "[static] size: $((size / 1024)) KiB"
"$BIN" --version
# Rendering real modules needs their release assets: from the test data beside the repository (a mirror
# directory; no network), into a cache of its own.
cache=$(mktemp -d)
"$BIN" render --catalog examples/modules --modules hello >/dev/null
mirror=../shared/real-modules/mirror
if [ -d "$mirror" ]; then
  KYMA_CACHE_DIR=$cache "$BIN" render --mirror "$mirror" --modules istio,eventing >/dev/null
  echo "[static] ok: the static binary renders the example module and real modules from a mirror"
else
  echo "[static] ok: the static binary renders the example module ($mirror is absent: real modules not tried)"
fi
rm -rf "$cache"

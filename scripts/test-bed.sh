#!/usr/bin/env bash
# The kyma test bed: a real control plane (etcd + kube-apiserver + kube-controller-manager) on loopback,
# the same idea as controller-runtime's envtest. No nodes, no scheduler: tests play the kubelet when they
# need pods to be Ready.
#
#   scripts/test-bed.sh install   install packages and build/cache the binaries (idempotent)
#   scripts/test-bed.sh up        install if needed, start the control plane, wait for /readyz
#   scripts/test-bed.sh down      stop it and remove its state
#   scripts/test-bed.sh env       print `export KYMA_TEST_KUBECONFIG=…` for a running bed
#   scripts/test-bed.sh status    exit 0 when the bed answers /readyz
#
# Environment:
#   KYMA_TEST_ASSETS     directory with ready kube-apiserver and kube-controller-manager binaries
#                        (skips the build, like envtest's KUBEBUILDER_ASSETS)
#   KYMA_TEST_BED_CACHE  where built binaries are cached (default ~/.cache/kyma-test-bed/1.20.2)
#   KYMA_TEST_BED_DIR    state directory: certs, etcd data, logs, kubeconfig (default /tmp/kyma-test-bed)
#   KYMA_TEST_BED_PORT   kube-apiserver secure port (default 16443)
set -euo pipefail

K8S_VERSION=1.20.2
CACHE=${KYMA_TEST_BED_CACHE:-$HOME/.cache/kyma-test-bed/$K8S_VERSION}
STATE=${KYMA_TEST_BED_DIR:-/tmp/kyma-test-bed}
PORT=${KYMA_TEST_BED_PORT:-16443}
ETCD_PORT=${KYMA_TEST_BED_ETCD_PORT:-12379}
ETCD_PEER_PORT=$((ETCD_PORT + 1))

log() { printf '[test-bed] %s\n' "$*" >&2; }
die() { printf '[test-bed] error: %s\n' "$*" >&2; exit 1; }

assets_dir() {
  if [ -n "${KYMA_TEST_ASSETS:-}" ]; then echo "$KYMA_TEST_ASSETS"; else echo "$CACHE/bin"; fi
}

have_binaries() {
  local d; d=$(assets_dir)
  [ -x "$d/kube-apiserver" ] && [ -x "$d/kube-controller-manager" ]
}

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install() {
  apt_install etcd-server openssl curl ca-certificates
  [ -x /usr/bin/etcd ] || die "etcd-server installed but /usr/bin/etcd is missing"
  if have_binaries; then
    log "using cached binaries in $(assets_dir)"
    return 0
  fi
  [ -z "${KYMA_TEST_ASSETS:-}" ] || die "KYMA_TEST_ASSETS=$KYMA_TEST_ASSETS has no kube-apiserver/kube-controller-manager"
  build
}

# Debian ships Kubernetes 1.20.2 as a source package that vendors every dependency; build the two
# control-plane binaries from it. Takes ~5-8 minutes on 2 cores, once per machine.
build() {
  local src=/etc/apt/sources.list.d/kyma-test-bed-src.sources
  if [ ! -f "$src" ]; then
    log "adding a deb-src entry for bookworm"
    cat >"$src" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    apt-get update -qq
  fi
  apt_install golang-go rsync dpkg-dev make golang-github-modern-go-reflect2-dev
  local work="$CACHE/build"
  rm -rf "$work" && mkdir -p "$work"
  log "fetching the kubernetes $K8S_VERSION source package"
  (cd "$work" && apt-get source -qq kubernetes >/dev/null 2>&1) || die "apt-get source kubernetes failed"
  local tree
  tree=$(find "$work" -maxdepth 1 -mindepth 1 -type d -name 'kubernetes-*' | head -n1)
  [ -n "$tree" ] || die "no kubernetes-* tree after apt-get source"
  # reflect2 1.0.1 (vendored) faults under Go >= 1.18 the first time the API server serialises some
  # objects (SIGSEGV in mapiterinit); 1.0.2 from Debian fixes it.
  local r2=/usr/share/gocode/src/github.com/modern-go/reflect2
  [ -d "$r2" ] || die "reflect2 sources not found at $r2"
  rm -rf "$tree/vendor/github.com/modern-go/reflect2"
  mkdir -p "$tree/vendor/github.com/modern-go/reflect2"
  cp "$r2"/*.go "$r2"/*.s "$tree/vendor/github.com/modern-go/reflect2/" 2>/dev/null || cp "$r2"/*.go "$tree/vendor/github.com/modern-go/reflect2/"
  rm -f "$tree"/vendor/github.com/modern-go/reflect2/*_test.go
  log "building kube-apiserver and kube-controller-manager (several minutes)"
  (cd "$tree" && GOFLAGS=-mod=vendor GO111MODULE=on make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >"$CACHE/build.log" 2>&1) \
    || { tail -n 40 "$CACHE/build.log" >&2; die "build failed, full log: $CACHE/build.log"; }
  mkdir -p "$CACHE/bin"
  local out
  out=$(find "$tree/_output" -type f -name kube-apiserver -path '*bin*' | head -n1)
  [ -n "$out" ] || die "kube-apiserver not found under $tree/_output"
  cp "$(dirname "$out")/kube-apiserver" "$(dirname "$out")/kube-controller-manager" "$CACHE/bin/"
  rm -rf "$work"
  log "cached binaries in $CACHE/bin"
}

gen_certs() {
  local c="$STATE/certs"
  [ -f "$c/admin.crt" ] && return 0
  mkdir -p "$c"
  log "generating a CA, serving and client certificates"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=kyma-test-bed-ca" \
    -keyout "$c/ca.key" -out "$c/ca.crt" 2>/dev/null
  cat >"$c/server.ext" <<EOF
subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc
extendedKeyUsage=serverAuth
EOF
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout "$c/server.key" -out "$c/server.csr" 2>/dev/null
  openssl x509 -req -in "$c/server.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" -CAcreateserial -days 3650 \
    -extfile "$c/server.ext" -out "$c/server.crt" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$c/client.ext"
  openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=kyma-test-admin" -keyout "$c/admin.key" -out "$c/admin.csr" 2>/dev/null
  openssl x509 -req -in "$c/admin.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" -CAcreateserial -days 3650 \
    -extfile "$c/client.ext" -out "$c/admin.crt" 2>/dev/null
  openssl genrsa -out "$c/sa.key" 2048 2>/dev/null
  openssl rsa -in "$c/sa.key" -pubout -out "$c/sa.pub" 2>/dev/null
}

write_kubeconfig() {
  local c="$STATE/certs"
  cat >"$STATE/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kyma-test-bed
  cluster:
    server: https://127.0.0.1:$PORT
    certificate-authority: $c/ca.crt
users:
- name: kyma-test-admin
  user:
    client-certificate: $c/admin.crt
    client-key: $c/admin.key
contexts:
- name: kyma-test-bed
  context:
    cluster: kyma-test-bed
    user: kyma-test-admin
current-context: kyma-test-bed
EOF
}

readyz() {
  curl -fsS --max-time 2 --cacert "$STATE/certs/ca.crt" --cert "$STATE/certs/admin.crt" \
    --key "$STATE/certs/admin.key" "https://127.0.0.1:$PORT/readyz" >/dev/null 2>&1
}

running() { [ -f "$STATE/$1.pid" ] && kill -0 "$(cat "$STATE/$1.pid")" 2>/dev/null; }

start() {
  local name=$1; shift
  running "$name" && return 0
  setsid "$@" >"$STATE/$name.log" 2>&1 < /dev/null &
  echo $! >"$STATE/$name.pid"
}

up() {
  install
  if running kube-apiserver && readyz; then log "already up: $STATE/kubeconfig"; return 0; fi
  mkdir -p "$STATE"
  gen_certs
  write_kubeconfig
  local c="$STATE/certs" bin; bin=$(assets_dir)
  log "starting etcd on 127.0.0.1:$ETCD_PORT"
  start etcd /usr/bin/etcd --data-dir "$STATE/etcd" --name kyma-test-bed \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "kyma-test-bed=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync=true --quota-backend-bytes=4294967296
  log "starting kube-apiserver on https://127.0.0.1:$PORT"
  start kube-apiserver "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$PORT" --insecure-port 0 \
    --cert-dir "$STATE/certs" --tls-cert-file "$c/server.crt" --tls-private-key-file "$c/server.key" \
    --client-ca-file "$c/ca.crt" --authorization-mode RBAC \
    --service-account-key-file "$c/sa.pub" --service-account-signing-key-file "$c/sa.key" \
    --service-account-issuer https://kubernetes.default.svc --api-audiences https://kubernetes.default.svc \
    --service-cluster-ip-range 10.96.0.0/12 --allow-privileged=true \
    --disable-admission-plugins ServiceAccount \
    --max-requests-inflight 1000 --max-mutating-requests-inflight 1000

  for _ in $(seq 1 120); do
    readyz && break
    running kube-apiserver || { tail -n 30 "$STATE/kube-apiserver.log" >&2; die "kube-apiserver exited"; }
    sleep 0.5
  done
  readyz || { tail -n 30 "$STATE/kube-apiserver.log" >&2; die "kube-apiserver not ready after 60 s"; }
  log "kube-apiserver ready (/readyz 200)"
  start kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig "$STATE/kubeconfig" --leader-elect=false --bind-address 127.0.0.1 --port 0 --secure-port 0 \
    --service-account-private-key-file "$c/sa.key" --root-ca-file "$c/ca.crt" \
    --controllers '*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-route,-service' \
    --concurrent-deployment-syncs 10 --concurrent-replicaset-syncs 10 --concurrent-namespace-syncs 10
  sleep 1
  running kube-controller-manager || { tail -n 30 "$STATE/kube-controller-manager.log" >&2; die "kube-controller-manager exited"; }
  log "kube-controller-manager running"
  log "up: export KYMA_TEST_KUBECONFIG=$STATE/kubeconfig"
}

down() {
  local n
  for n in kube-controller-manager kube-apiserver etcd; do
    if running "$n"; then kill "$(cat "$STATE/$n.pid")" 2>/dev/null || true; fi
  done
  for n in kube-controller-manager kube-apiserver etcd; do
    for _ in $(seq 1 50); do running "$n" || break; sleep 0.1; done
    if running "$n"; then kill -9 "$(cat "$STATE/$n.pid")" 2>/dev/null || true; fi
  done
  rm -rf "$STATE"
  log "down"
}

case "${1:-}" in
  install) install ;;
  up) up ;;
  down) down ;;
  env) readyz || die "the test bed is not up (run: scripts/test-bed.sh up)"; echo "export KYMA_TEST_KUBECONFIG=$STATE/kubeconfig" ;;
  status) readyz ;;
  *) echo "usage: $0 install|up|down|env|status" >&2; exit 2 ;;
esac

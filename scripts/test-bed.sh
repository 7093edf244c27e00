#!/usr/bin/env bash
# The kyma test bed: a real Kubernetes control plane on loopback, the same idea as controller-runtime's
# envtest, in two lanes:
#
#   1.37 (default)  etcd 3.6 + kube-apiserver, kube-controller-manager and kube-scheduler v1.37, built from
#                   Go modules (testbed/), plus kwok playing the kubelet for fake Nodes: Pods are really
#                   scheduled and become Running/Ready, Deployments really roll out.
#   1.20            etcd 3.4 (Debian) + kube-apiserver and kube-controller-manager v1.20.2 built from
#                   Debian's source package: the compatibility lane for what older servers do differently.
#                   No scheduler and no kubelet: Pods stay Pending.
#
#   scripts/test-bed.sh install [OPTIONS]  install packages and build/cache the binaries (idempotent)
#   scripts/test-bed.sh up [OPTIONS]       install if needed, start the bed, wait until it is ready
#   scripts/test-bed.sh down [OPTIONS]     stop the bed in the state directory and remove its state
#   scripts/test-bed.sh env [OPTIONS]      print `export KUBECONFIG=…` lines for a running bed
#   scripts/test-bed.sh status [OPTIONS]   exit 0 when the bed answers /readyz
#   scripts/test-bed.sh kubectl [OPTIONS]  print the path of a kubectl matching the bed's version
#   scripts/test-bed.sh stop|start C       stop or start one component C (kube-apiserver, etcd) of a
#                                          running bed; pause|resume C freezes and thaws it (fault tests)
#
# Options (each also has an environment variable; the option wins):
#   --version 1.37|1.20   KYMA_TEST_BED_VERSION    lane (default 1.37)
#   --ipv6                KYMA_TEST_BED_FAMILY=ipv6  API server on [::1] only, IPv6 service range
#   --dual-stack          KYMA_TEST_BED_FAMILY=dual  IPv4 and IPv6 service ranges (API server on 127.0.0.1)
#   --dir DIR             KYMA_TEST_BED_DIR        state: certs, etcd data, logs, kubeconfig (/tmp/kyma-test-bed)
#   --port N              KYMA_TEST_BED_PORT       kube-apiserver secure port (16443)
#   --etcd-port N         KYMA_TEST_BED_ETCD_PORT  etcd client port (12379; the peer port is N+1)
#   --inflight N          KYMA_TEST_BED_INFLIGHT   API server --max-(mutating-)requests-inflight (1000);
#                                                  small values make the server itself answer 429
# Several beds run side by side when each has its own --dir, --port and --etcd-port. `down`, `env` and
# `status` read the version and ports of the bed from its state directory.
#
# Other environment:
#   KYMA_TEST_ASSETS     directory with ready binaries (skips the build, like envtest's KUBEBUILDER_ASSETS):
#                        1.37: kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok
#                        1.20: kube-apiserver kube-controller-manager (etcd from Debian)
#   KYMA_TEST_BED_CACHE  cache root (default ~/.cache/kyma-test-bed): binaries in <root>/<version>/bin.
#                        Go's module and build caches stay where `go env` puts them (outside the repo).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

log() { printf '[test-bed] %s\n' "$*" >&2; }
die() { printf '[test-bed] error: %s\n' "$*" >&2; exit 1; }

cmd=${1:-}; [ $# -gt 0 ] && shift
COMPONENT=
case "$cmd" in stop|start|pause|resume) COMPONENT=${1:-}; [ $# -gt 0 ] && shift ;; esac
VERSION=${KYMA_TEST_BED_VERSION:-}
FAMILY=${KYMA_TEST_BED_FAMILY:-}
STATE=${KYMA_TEST_BED_DIR:-/tmp/kyma-test-bed}
PORT=${KYMA_TEST_BED_PORT:-}
ETCD_PORT=${KYMA_TEST_BED_ETCD_PORT:-}
INFLIGHT=${KYMA_TEST_BED_INFLIGHT:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --version) VERSION=${2:?--version needs 1.37 or 1.20}; shift 2 ;;
    --version=*) VERSION=${1#*=}; shift ;;
    --ipv6) FAMILY=ipv6; shift ;;
    --dual-stack) FAMILY=dual; shift ;;
    --dir) STATE=${2:?--dir needs a directory}; shift 2 ;;
    --port) PORT=${2:?--port needs a number}; shift 2 ;;
    --etcd-port) ETCD_PORT=${2:?--etcd-port needs a number}; shift 2 ;;
    --inflight) INFLIGHT=${2:?--inflight needs a number}; shift 2 ;;
    *) die "unknown option $1 (see the header of $0)" ;;
  esac
done

# A running bed remembers how it was started; explicit options still win.
if [ -f "$STATE/bed.env" ] && [ "$cmd" != install ]; then
  # shellcheck disable=SC1091
  . "$STATE/bed.env"
  VERSION=${VERSION:-$BED_VERSION}; FAMILY=${FAMILY:-$BED_FAMILY}
  PORT=${PORT:-$BED_PORT}; ETCD_PORT=${ETCD_PORT:-$BED_ETCD_PORT}; INFLIGHT=${INFLIGHT:-${BED_INFLIGHT:-}}
fi
INFLIGHT=${INFLIGHT:-1000}
VERSION=${VERSION:-1.37}; FAMILY=${FAMILY:-ipv4}; PORT=${PORT:-16443}; ETCD_PORT=${ETCD_PORT:-12379}
ETCD_PEER_PORT=$((ETCD_PORT + 1))

case "$VERSION" in
  1.37|1.37.2|v1.37.2) K8S_VERSION=1.37.2 ;;
  1.20|1.20.2|v1.20.2) K8S_VERSION=1.20.2 ;;
  *) die "unsupported --version $VERSION (1.37 or 1.20)" ;;
esac
MINOR=${K8S_VERSION%.*}
KWOK_VERSION=v0.8.0
case "$FAMILY" in
  ipv4) HOST=127.0.0.1; URL_HOST=127.0.0.1; SERVICE_RANGE=10.96.0.0/12; SERVICE_IPS="IP:10.96.0.1" ;;
  ipv6) HOST=::1; URL_HOST='[::1]'; SERVICE_RANGE=fd00:10:96::/112; SERVICE_IPS="IP:fd00:10:96::1" ;;
  dual) HOST=127.0.0.1; URL_HOST=127.0.0.1; SERVICE_RANGE=10.96.0.0/12,fd00:10:96::/112
        SERVICE_IPS="IP:10.96.0.1,IP:fd00:10:96::1" ;;
  *) die "unknown address family $FAMILY (ipv4, ipv6 or dual)" ;;
esac
[ "$FAMILY" = ipv4 ] || [ "$MINOR" != 1.20 ] || die "--ipv6/--dual-stack need the 1.37 lane"
SERVER="https://$URL_HOST:$PORT"
CACHE_ROOT=${KYMA_TEST_BED_CACHE:-$HOME/.cache/kyma-test-bed}
CACHE=$CACHE_ROOT/$K8S_VERSION

if [ "$MINOR" = 1.37 ]; then
  BINARIES="kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok"
else
  BINARIES="kube-apiserver kube-controller-manager"
fi

assets_dir() {
  if [ -n "${KYMA_TEST_ASSETS:-}" ]; then echo "$KYMA_TEST_ASSETS"; else echo "$CACHE/bin"; fi
}

# What the 1.37 binaries are built from; a change to any of it rebuilds.
source_stamp() {
  cat "$ROOT/testbed/kubernetes/go.mod" "$ROOT/testbed/kubernetes/go.sum" "$ROOT/testbed/etcd/go.mod" \
    "$ROOT/testbed/etcd/go.sum" "$ROOT/testbed/etcd/main.go" | sha256sum | cut -c1-16
  echo "kwok $KWOK_VERSION"
}

have_binaries() {
  local d b; d=$(assets_dir)
  for b in $BINARIES; do [ -x "$d/$b" ] || return 1; done
  if [ -z "${KYMA_TEST_ASSETS:-}" ] && [ "$MINOR" = 1.37 ]; then
    [ "$(cat "$d/.stamp" 2>/dev/null)" = "$(source_stamp)" ] || return 1
  fi
}

apt_updated=0
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install() {
  apt_install openssl curl ca-certificates
  [ "$MINOR" = 1.20 ] && apt_install etcd-server
  if have_binaries; then
    log "using cached $K8S_VERSION binaries in $(assets_dir)"
    return 0
  fi
  [ -z "${KYMA_TEST_ASSETS:-}" ] || die "KYMA_TEST_ASSETS=$KYMA_TEST_ASSETS lacks one of: $BINARIES"
  if [ "$MINOR" = 1.37 ]; then build_137; else build_120; fi
}

# The Go toolchain for the 1.37 lane: the machine's own Go (>= 1.26), never a download of another one.
modern_go() {
  local g
  for g in /usr/local/go/bin/go "$(command -v go 2>/dev/null || true)"; do
    if [ -z "$g" ] || [ ! -x "$g" ]; then continue; fi
    local v; v=$("$g" env GOVERSION 2>/dev/null | sed 's/^go//')
    case "$v" in 1.2[6-9]*|1.[3-9][0-9]*) echo "$g"; return 0 ;; esac
  done
  die "the 1.37 lane needs Go >= 1.26 (found none in /usr/local/go/bin or PATH)"
}

build_137() {
  local go bin tmp v=v$K8S_VERSION
  go=$(modern_go)
  bin="$CACHE/bin"; tmp="$CACHE/bin.new"
  rm -rf "$tmp" && mkdir -p "$tmp"
  export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0
  # Without these /version says v0.0.0-master and every client-side version check misfires.
  local ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=37 -X $p.gitTreeState=clean"
  done
  # kubectl too: benchmarks compare against a client of the same version as the server.
  log "building kube-apiserver, kube-controller-manager, kube-scheduler, kubectl $v with $("$go" env GOVERSION) (~6 min on 2 cores, once)"
  (cd "$ROOT/testbed/kubernetes" && "$go" build -trimpath -ldflags "$ld" -o "$tmp/" \
      k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl) >"$CACHE/build.log" 2>&1 \
    || { tail -n 40 "$CACHE/build.log" >&2; die "kubernetes build failed, full log: $CACHE/build.log"; }
  log "building etcd"
  (cd "$ROOT/testbed/etcd" && "$go" build -trimpath -ldflags "-s -w" -o "$tmp/etcd" .) >>"$CACHE/build.log" 2>&1 \
    || { tail -n 40 "$CACHE/build.log" >&2; die "etcd build failed, full log: $CACHE/build.log"; }
  log "installing kwok $KWOK_VERSION"
  GOBIN="$tmp" "$go" install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >>"$CACHE/build.log" 2>&1 \
    || { tail -n 40 "$CACHE/build.log" >&2; die "kwok install failed, full log: $CACHE/build.log"; }
  source_stamp >"$tmp/.stamp"
  rm -rf "$bin" && mv "$tmp" "$bin"
  log "cached binaries in $bin"
}

# apt-get source needs a deb-src entry; make it from the machine's own `deb` entries so that whatever
# mirror this machine uses is used (and none is written into this repository).
ensure_deb_src() {
  local out=/etc/apt/sources.list.d/kyma-test-bed-src.sources
  [ -f "$out" ] && return 0
  local tmp; tmp=$(mktemp)
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # deb822: every stanza whose Types include `deb`, copied with Types: deb-src.
    awk 'BEGIN{RS=""; ORS="\n\n"} /(^|\n)Types:[^\n]*(^| )deb( |\n|$)/ {sub(/Types:[^\n]*/, "Types: deb-src"); print}' "$f" >>"$tmp"
  done
  if [ -f /etc/apt/sources.list ]; then
    # One-line format: `deb [opts] URI suite components` becomes the same line with deb-src.
    sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' /etc/apt/sources.list >"$tmp.list"
  fi
  if [ -s "$tmp" ]; then
    log "adding deb-src entries derived from this machine's apt sources"
    mv "$tmp" "$out"
  elif [ -s "$tmp.list" ]; then
    log "adding deb-src lines derived from /etc/apt/sources.list"
    mv "$tmp.list" /etc/apt/sources.list.d/kyma-test-bed-src.list
  else
    rm -f "$tmp" "$tmp.list"; die "no 'deb' entry in this machine's apt sources to derive a deb-src entry from"
  fi
  rm -f "$tmp" "$tmp.list"
  apt-get update -qq
}

# Debian ships Kubernetes 1.20.2 as a source package that vendors every dependency; build the two
# control-plane binaries from it with Debian's Go 1.19 (called by path: the machine's default Go is newer
# and cannot build this tree). Takes ~5-8 minutes on 2 cores, once per machine.
build_120() {
  ensure_deb_src
  apt_install golang-go rsync dpkg-dev make golang-github-modern-go-reflect2-dev
  local go119=/usr/lib/go-1.19/bin
  [ -x "$go119/go" ] || die "Debian's Go 1.19 is not at $go119 (package golang-1.19-go)"
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
  log "building kube-apiserver and kube-controller-manager $K8S_VERSION with $("$go119/go" version | awk '{print $3}') (several minutes)"
  (cd "$tree" && PATH="$go119:$PATH" GOTOOLCHAIN=local GOFLAGS=-mod=vendor GO111MODULE=on \
      make WHAT="cmd/kube-apiserver cmd/kube-controller-manager" >"$CACHE/build.log" 2>&1) \
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
subjectAltName=IP:127.0.0.1,IP:::1,$SERVICE_IPS,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc
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
    server: $SERVER
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
  cat >"$STATE/bed.env" <<EOF
BED_VERSION=$MINOR
BED_FAMILY=$FAMILY
BED_PORT=$PORT
BED_ETCD_PORT=$ETCD_PORT
BED_INFLIGHT=$INFLIGHT
EOF
}

api() { # METHOD PATH [JSON]
  local c="$STATE/certs"
  curl -fsS --max-time 5 --cacert "$c/ca.crt" --cert "$c/admin.crt" --key "$c/admin.key" \
    -X "$1" -H 'Content-Type: application/json' ${3:+--data "$3"} "$SERVER$2"
}

readyz() { api GET /readyz >/dev/null 2>&1; }

# A killed process can linger as a zombie until someone reaps it: that is not running.
running() {
  [ -f "$STATE/$1.pid" ] || return 1
  local pid; pid=$(cat "$STATE/$1.pid")
  kill -0 "$pid" 2>/dev/null && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$pid/stat" 2>/dev/null
}

start() {
  local name=$1; shift
  running "$name" && return 0
  rm -f "$STATE/$name.pid"
  # The process writes its own pid (then execs): `$!` would be setsid's, which forks whenever it is
  # started as a process-group leader (a shell with job control) and exits at once.
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$STATE/$name.pid" "$@" >"$STATE/$name.log" 2>&1 < /dev/null &
  for _ in $(seq 1 50); do [ -s "$STATE/$name.pid" ] && return 0; sleep 0.05; done
  die "$name did not start"
}

expect_running() {
  running "$1" || { tail -n 30 "$STATE/$1.log" >&2; die "$1 exited (log: $STATE/$1.log)"; }
}

start_etcd() {
  local etcd=/usr/bin/etcd
  [ "$MINOR" = 1.37 ] && etcd="$(assets_dir)/etcd"
  log "starting etcd $("$etcd" --version 2>/dev/null | awk '/etcd Version/ {print $3}') on 127.0.0.1:$ETCD_PORT"
  start etcd "$etcd" --data-dir "$STATE/etcd" --name kyma-test-bed \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "kyma-test-bed=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync=true --quota-backend-bytes=4294967296
}

start_apiserver() {
  local c="$STATE/certs" bin; bin=$(assets_dir)
  local args=(
    --etcd-servers "http://127.0.0.1:$ETCD_PORT"
    --bind-address "$HOST" --advertise-address "$HOST" --secure-port "$PORT"
    --cert-dir "$STATE/certs" --tls-cert-file "$c/server.crt" --tls-private-key-file "$c/server.key"
    --client-ca-file "$c/ca.crt" --authorization-mode RBAC
    --service-account-key-file "$c/sa.pub" --service-account-signing-key-file "$c/sa.key"
    --service-account-issuer https://kubernetes.default.svc --api-audiences https://kubernetes.default.svc
    --service-cluster-ip-range "$SERVICE_RANGE" --allow-privileged=true
    --max-requests-inflight "$INFLIGHT" --max-mutating-requests-inflight "$INFLIGHT"
  )
  if [ "$MINOR" = 1.20 ]; then
    # 1.20 still has an insecure port (0 turns it off); its token controller races pods the tests never
    # run, so the ServiceAccount admission plugin stays off there. 1.37 keeps it: Pods need their
    # ServiceAccount, as on any real cluster.
    args+=(--insecure-port 0 --disable-admission-plugins ServiceAccount)
  else
    # 1.37 refuses a loopback advertise address for the endpoints of the `kubernetes` Service.
    args+=(--endpoint-reconciler-type none)
  fi
  log "starting kube-apiserver $K8S_VERSION on $SERVER (service range $SERVICE_RANGE)"
  start kube-apiserver "$bin/kube-apiserver" "${args[@]}"
  for _ in $(seq 1 240); do
    readyz && break
    expect_running kube-apiserver
    sleep 0.5
  done
  readyz || { tail -n 30 "$STATE/kube-apiserver.log" >&2; die "kube-apiserver not ready after 120 s"; }
  log "kube-apiserver ready (/readyz 200): $(api GET /version | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p')"
}

start_controllers() {
  local c="$STATE/certs" bin; bin=$(assets_dir)
  # 1.20: no cloud, no node IPAM, no node lifecycle (there are no nodes). 1.37: the node lifecycle
  # controller lifts the not-ready taint admission puts on new Nodes once kwok reports them Ready, and
  # kwok renews their Leases so it never puts it back.
  if [ "$MINOR" = 1.20 ]; then
    start kube-controller-manager "$bin/kube-controller-manager" \
      --kubeconfig "$STATE/kubeconfig" --leader-elect=false --bind-address 127.0.0.1 --port 0 --secure-port 0 \
      --service-account-private-key-file "$c/sa.key" --root-ca-file "$c/ca.crt" \
      --controllers '*,-nodeipam,-nodelifecycle,-cloud-node-lifecycle,-route,-service' \
      --concurrent-deployment-syncs 10 --concurrent-replicaset-syncs 10 --concurrent-namespace-syncs 10
  else
    start kube-controller-manager "$bin/kube-controller-manager" \
      --kubeconfig "$STATE/kubeconfig" --leader-elect=false --secure-port 0 \
      --service-account-private-key-file "$c/sa.key" --root-ca-file "$c/ca.crt" \
      --controllers '*,-node-ipam-controller' \
      --concurrent-deployment-syncs 10 --concurrent-replicaset-syncs 10 --concurrent-namespace-syncs 10
    start kube-scheduler "$bin/kube-scheduler" --kubeconfig "$STATE/kubeconfig" --leader-elect=false --secure-port 0
  fi
  sleep 1
  expect_running kube-controller-manager
  log "kube-controller-manager running"
  if [ "$MINOR" = 1.37 ]; then expect_running kube-scheduler; log "kube-scheduler running"; fi
}

# Fake Nodes without taints, so any workload schedules on them as on a real cluster; kwok plays their
# kubelet with the stages in testbed/kwok/stages.yaml.
NODES="kyma-bed-node-1 kyma-bed-node-2"
start_kwok() {
  local bin; bin=$(assets_dir)
  local cidr=10.244.0.1/16 node_ip=10.0.0.1
  [ "$FAMILY" = ipv6 ] && { cidr=fd00:10:244::1/64; node_ip=fd00:10::1; }
  start kwok "$bin/kwok" --kubeconfig "$STATE/kubeconfig" --config "$ROOT/testbed/kwok/stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --cidr "$cidr" --node-ip "$node_ip" --node-lease-duration-seconds 40 --server-address ""
  local n
  for n in $NODES; do
    # Already there (a bed restarted on its own data) is as good as created.
    api GET "/api/v1/nodes/$n" >/dev/null 2>&1 && continue
    api POST /api/v1/nodes "$(printf '{"apiVersion":"v1","kind":"Node","metadata":{"name":"%s","annotations":{"kwok.x-k8s.io/node":"fake","node.alpha.kubernetes.io/ttl":"0"},"labels":{"kubernetes.io/hostname":"%s","kubernetes.io/os":"linux","kubernetes.io/arch":"amd64","type":"kwok"}}}' "$n" "$n")" >/dev/null \
      || die "could not create Node $n"
  done
  # Ready (kwok) and untainted (the node lifecycle controller lifts the not-ready taint): schedulable.
  for _ in $(seq 1 120); do
    local nodes ready
    nodes=$(api GET /api/v1/nodes)
    ready=$(grep -c '"reason": *"KubeletReady"' <<<"$nodes" || true)
    if [ "$ready" -ge 2 ] && ! grep -q '"taints"' <<<"$nodes"; then
      log "kwok running; Nodes Ready and schedulable: $NODES"; return 0
    fi
    expect_running kwok
    sleep 0.5
  done
  tail -n 30 "$STATE/kwok.log" >&2; die "the Nodes are not Ready and untainted after 60 s"
}

# A bed's processes whose pid files are gone (a killed run) still hold its ports and serve old data;
# they are ours when their command line names this bed's directory.
ports_free() {
  local hp h p pid
  for hp in "$HOST $PORT" "127.0.0.1 $ETCD_PORT"; do
    read -r h p <<<"$hp"
    port_busy "$h" "$p" || continue
    for pid in $(pgrep -f -- "$STATE/" || true); do
      [ "$pid" = $$ ] || { log "stopping a leftover process of this bed: $(tr '\0' ' ' </proc/"$pid"/cmdline | cut -c1-80)"; kill "$pid" 2>/dev/null || true; }
    done
    for _ in $(seq 1 100); do port_busy "$h" "$p" || break; sleep 0.1; done
    port_busy "$h" "$p" && die "port $p is in use by a process that is not this bed's; stop it or pick other ports (--port, --etcd-port)"
  done
  return 0
}

up() {
  install
  if running kube-apiserver && readyz; then log "already up: $STATE/kubeconfig"; return 0; fi
  # Not up: whatever is left of an earlier bed (a run killed before its cleanup, processes gone but
  # etcd's data kept) would come back with old objects and old certificates. Start from nothing.
  if [ -d "$STATE" ]; then log "clearing a stale bed in $STATE"; down; fi
  ports_free
  mkdir -p "$STATE"
  gen_certs
  write_kubeconfig
  start_etcd
  start_apiserver
  start_controllers
  if [ "$MINOR" = 1.37 ]; then start_kwok; fi
  log "up ($K8S_VERSION, $FAMILY): export KUBECONFIG=$STATE/kubeconfig"
}

down() {
  local n all="kwok kube-scheduler kube-controller-manager kube-apiserver etcd"
  for n in $all; do
    if running "$n"; then kill "$(cat "$STATE/$n.pid")" 2>/dev/null || true; fi
  done
  for n in $all; do
    for _ in $(seq 1 50); do running "$n" || break; sleep 0.1; done
    if running "$n"; then kill -9 "$(cat "$STATE/$n.pid")" 2>/dev/null || true; fi
  done
  rm -rf "$STATE"
  log "down ($STATE)"
}

# Fault tests: stop and start one component of a running bed (the others keep running), or freeze
# and thaw it (SIGSTOP/SIGCONT: a process that hangs instead of refusing).
component() {
  case "$COMPONENT" in
    kube-apiserver|etcd) ;;
    *) die "$cmd needs kube-apiserver or etcd" ;;
  esac
  [ -f "$STATE/bed.env" ] || die "no bed in $STATE"
}
stop_component() {
  component
  running "$COMPONENT" || { log "$COMPONENT not running"; return 0; }
  # Abruptly, as a crash or a node loss would: no graceful shutdown.
  kill -9 "$(cat "$STATE/$COMPONENT.pid")"
  for _ in $(seq 1 100); do running "$COMPONENT" || break; sleep 0.1; done
  running "$COMPONENT" && die "$COMPONENT did not stop"
  log "$COMPONENT stopped"
}
port_busy() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
start_component() {
  component
  local port=$PORT host=$HOST
  [ "$COMPONENT" = etcd ] && { port=$ETCD_PORT; host=127.0.0.1; }
  # A process killed a moment ago may still hold its port while the kernel tears it down.
  for _ in $(seq 1 100); do port_busy "$host" "$port" || break; sleep 0.1; done
  port_busy "$host" "$port" && die "port $port is still in use; cannot start $COMPONENT"
  case "$COMPONENT" in kube-apiserver) start_apiserver ;; etcd) start_etcd; log "etcd started" ;; esac
}

case "$cmd" in
  install) install ;;
  stop) stop_component ;;
  start) start_component ;;
  pause) component; kill -STOP "$(cat "$STATE/$COMPONENT.pid")"; log "$COMPONENT paused" ;;
  resume) component; kill -CONT "$(cat "$STATE/$COMPONENT.pid")"; log "$COMPONENT resumed" ;;
  up) up ;;
  down) down ;;
  env) readyz || die "no bed answers at $SERVER (run: scripts/test-bed.sh up)"
       echo "export KUBECONFIG=$STATE/kubeconfig"; echo "export KYMA_TEST_KUBECONFIG=$STATE/kubeconfig" ;;
  kubectl) # the kubectl of the bed's version, if it has one: `$(scripts/test-bed.sh kubectl) get nodes`
       if [ -x "$(assets_dir)/kubectl" ]; then echo "$(assets_dir)/kubectl"; else command -v kubectl; fi ;;
  status) readyz ;;
  *) echo "usage: $0 install|up|down|env|status|kubectl|stop C|start C|pause C|resume C [--version 1.37|1.20] [--ipv6|--dual-stack] [--dir DIR] [--port N] [--etcd-port N]" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Benchmarks (not tests): figures to quote, measured on the machine at hand.
#
#   scripts/bench.sh render   render a synthetic catalog of 10,000 objects (target < 0.5 s)
#   scripts/bench.sh deploy   deploy a synthetic catalog of >= 1,000 core objects across 10 modules to
#                             fresh namespaces on the test bed and compare, in the same run, with
#                             (a) kubectl apply --server-side of the same YAML and (b) the raw floor: the
#                             same server-side-apply PATCHes sent by curl --parallel over HTTP/2
#   scripts/bench.sh real     six real Kyma modules (istio, api-gateway, eventing, nats, keda, serverless;
#                             test data in ../shared/real-modules served from loopback as a mirror) on
#                             the test bed: from `kyma deploy` to all six Ready, versus Kyma's documented
#                             kubectl install (namespace, manager manifests, CRDs established, default
#                             CRs, kubectl wait on status.state); the managers are played by the tests'
#                             stand-in (Ready BENCH_MANAGER_DELAY=4.4 s after a CR appears); plus the time
#                             from the stand-in's flip to Ready to kyma's event for it.
#   scripts/bench.sh throttled  1,000 objects against a bed whose API server answers 429 (smallest inflight
#                             limits, a one-seat APF priority level that rejects): kyma vs kubectl apply
#                             --server-side under the same limits, as the same throttled user
#   scripts/bench.sh fleet      the same 1,000-object deploy into one bed, then into FLEET_N beds (3) in
#                             one run; then the operator keeping those beds (from zero, a change, at
#                             rest), extrapolated to 1,000 clusters
#   scripts/bench.sh fleet-cost requests (by verb and resource, from the server's metrics) and kyma CPU for one
#                             cluster: first deploy, unchanged re-deploy, operator resync at rest, spec change
#   scripts/bench.sh all
#
# Environment: BENCH_OBJECTS (per module, default 100), BENCH_MODULES (default 10), BENCH_RUNS (3).
set -euo pipefail
cd "$(dirname "$0")/.."

MODULES=${BENCH_MODULES:-10}
PER_MODULE=${BENCH_OBJECTS:-100}
RUNS=${BENCH_RUNS:-3}
WORK=$(mktemp -d /tmp/kyma-bench.XXXXXX)
# Processes a benchmark starts (the stand-in, an operator, a proxy) go with it, however it ends.
trap 'for p in ${BENCH_PIDS:-}; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"' EXIT

cargo build --release --quiet
KYMA=${CARGO_TARGET_DIR:-$PWD/target}/release/kyma

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc -l; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# The comparison uses a kubectl of the bed's own version (the bed builds one), not whatever is on PATH:
# an old client against a new server is outside the supported skew and not a fair rival.
use_bed_kubectl() {
  KUBECTL=$(bash scripts/test-bed.sh kubectl)
  echo "kubectl: $KUBECTL ($("$KUBECTL" version --client 2>/dev/null | head -1))"
}
kubectl() { "${KUBECTL:-$(command -v kubectl)}" "$@"; }

# A synthetic catalog: each module renders a Namespace plus objects of core kinds (ConfigMap, Secret,
# ServiceAccount, Service, Role, RoleBinding) from templates with loops and value lookups, so the
# benchmark exercises Tera, YAML parsing and planning, not just I/O.
gen_catalog() { # dir modules per_module
  python3 - "$1" "$2" "$3" <<'PY'
import os, sys
root, modules, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
kinds = 6
for m in range(1, modules + 1):
    name = f"m{m:02d}"
    d = f"{root}/{name}"
    os.makedirs(f"{d}/templates", exist_ok=True)
    open(f"{d}/module.yaml", "w").write(f"apiVersion: kyma.module/v1\nname: {name}\nversion: 1.0.0\n")
    open(f"{d}/values.yaml", "w").write(f"count: {per}\nlabel: bench\n")
    n = max(1, (per - 1) // kinds)
    ns = "{{ global.prefix }}-" + name
    open(f"{d}/templates/namespace.yaml", "w").write(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n")
    extra = (per - 1) - n * kinds
    open(f"{d}/templates/objects.yaml", "w").write(f"""{{%- for i in range(end={n}) %}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{{{{ i }}}}
  namespace: {ns}
  labels: {{app: {{{{ values.label }}}}}}
data:
  index: "{{{{ i }}}}"
  payload: "{{{{ module.name }}}}-{{{{ i }}}}-some-configuration-text"
---
apiVersion: v1
kind: Secret
metadata:
  name: secret-{{{{ i }}}}
  namespace: {ns}
type: Opaque
stringData:
  token: "t-{{{{ i }}}}"
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: sa-{{{{ i }}}}
  namespace: {ns}
---
apiVersion: v1
kind: Service
metadata:
  name: svc-{{{{ i }}}}
  namespace: {ns}
spec:
  selector: {{app: x{{{{ i }}}}}}
  ports:
  - port: 80
    targetPort: 8080
    protocol: TCP
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: role-{{{{ i }}}}
  namespace: {ns}
rules:
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: rb-{{{{ i }}}}
  namespace: {ns}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: role-{{{{ i }}}}}}
subjects:
- {{kind: ServiceAccount, name: sa-{{{{ i }}}}, namespace: {ns}}}
{{%- endfor %}}
{{%- for i in range(end={extra}) %}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: extra-{{{{ i }}}}
  namespace: {ns}
{{%- endfor %}}
""")
PY
}

modules_csv() { seq -f 'm%02g' 1 "$MODULES" | paste -sd, -; }

bench_render() {
  local cat="$WORK/render-catalog" mods
  local per=$((10000 / MODULES))
  gen_catalog "$cat" "$MODULES" "$per"
  mods=$(modules_csv)
  local count
  count=$("$KYMA" render --catalog "$cat" --modules "$mods" --set global.prefix=r | grep -c '^kind:')
  echo "render: $count objects in $MODULES modules"
  local times=()
  for _ in $(seq 1 5); do
    local t0; t0=$(now)
    "$KYMA" render --catalog "$cat" --modules "$mods" --set global.prefix=r >/dev/null
    times+=("$(elapsed "$t0")")
  done
  printf 'render: median %.3f s over 5 runs (%s)\n' "$(printf '%s\n' "${times[@]}" | median)" "$(printf '%.3f ' "${times[@]}")"
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -v "$KYMA" render --catalog "$cat" --modules "$mods" --set global.prefix=r 2>"$WORK/rss" >/dev/null
    grep 'Maximum resident' "$WORK/rss" | sed 's/^\s*/render: /'
  fi
}

# The raw floor's requests for a rendered YAML: one curl config entry per object, namespaces apart.
floor_prepare() { # yaml out-dir server certs-dir
  python3 - "$1" "$2" "$3" "$4" <<'PY'
import json, os, sys, re
src, out, server, certs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
os.makedirs(out, exist_ok=True)
docs = [d for d in open(src).read().split("\n---\n") if "kind:" in d]
plural = {"Namespace": "namespaces", "ConfigMap": "configmaps", "Secret": "secrets", "ServiceAccount": "serviceaccounts",
          "Service": "services", "Role": "roles", "RoleBinding": "rolebindings"}
ns_cfg, obj_cfg = [], []
for i, d in enumerate(docs):
    d = d.replace("---\n", "", 1) if d.startswith("---\n") else d
    kind = re.search(r"^kind: (\S+)", d, re.M).group(1)
    api = re.search(r"^apiVersion: (\S+)", d, re.M).group(1)
    name = re.search(r"^  name: (\S+)", d, re.M).group(1)
    nsm = re.search(r"^  namespace: (\S+)", d, re.M)
    base = f"{server}/api/{api}" if "/" not in api else f"{server}/apis/{api}"
    url = f"{base}/namespaces/{nsm.group(1)}/{plural[kind]}/{name}" if nsm else f"{base}/{plural[kind]}/{name}"
    path = f"{out}/{i}.yaml"
    open(path, "w").write(d)
    entry = f'url = "{url}?fieldManager=floor"\nrequest = "PATCH"\ncacert = "{certs}/ca.crt"\ncert = "{certs}/admin.crt"\nkey = "{certs}/admin.key"\nhttp2\nfail\nsilent\nshow-error\nheader = "Content-Type: application/apply-patch+yaml"\ndata-binary = "@{path}"\noutput = "/dev/null"\n'
    (ns_cfg if kind == "Namespace" else obj_cfg).append(entry)
# `next` separates transfers: without it curl applies the last data-binary to every URL.
open(f"{out}/ns.cfg", "w").write("next\n".join(ns_cfg))
open(f"{out}/obj.cfg", "w").write("next\n".join(obj_cfg))
PY
}

# Sends them: namespaces first, then everything else, maximum parallelism on HTTP/2. Per-transfer
# options (certificates, HTTP/2) live in each config entry: `next` resets them.
floor_run() { # out-dir
  local curl_args=(--parallel --parallel-immediate --parallel-max 100)
  curl "${curl_args[@]}" --config "$1/ns.cfg" 2>"$1.err" || { cat "$1.err" >&2; exit 1; }
  curl "${curl_args[@]}" --config "$1/obj.cfg" 2>"$1.err" || { cat "$1.err" >&2; exit 1; }
}

bench_deploy() {
  bash scripts/test-bed.sh up >/dev/null
  use_bed_kubectl
  local state=${KYMA_TEST_BED_DIR:-/tmp/kyma-test-bed}
  local kc="$state/kubeconfig" certs="$state/certs" server
  server=$(awk '/server:/ {print $2; exit}' "$kc")
  export KUBECONFIG=$kc
  local cat="$WORK/deploy-catalog" mods
  gen_catalog "$cat" "$MODULES" "$PER_MODULE"
  mods=$(modules_csv)
  local kyma_t=() kubectl_t=() floor_t=() redeploy_t=() total=0
  for run in $(seq 1 "$RUNS"); do
    local id; id=$(printf 'b%s%02d' "$(date +%H%M%S)" "$run")
    # kyma: render + discovery + apply, end to end, one process.
    local t0; t0=$(now)
    "$KYMA" deploy --catalog "$cat" --modules "$mods" --set "global.prefix=$id-k" --no-wait -o json >"$WORK/kyma.json" 2>"$WORK/kyma.err" \
      || { cat "$WORK/kyma.err" >&2; exit 1; }
    kyma_t+=("$(elapsed "$t0")")
    t0=$(now)
    "$KYMA" deploy --catalog "$cat" --modules "$mods" --set "global.prefix=$id-k" --no-wait -o json >/dev/null 2>&1
    redeploy_t+=("$(elapsed "$t0")")

    # kubectl: the same objects, rendered for other namespaces, in one server-side apply.
    "$KYMA" render --catalog "$cat" --modules "$mods" --set "global.prefix=$id-c" >"$WORK/kubectl.yaml"
    total=$(grep -c '^kind:' "$WORK/kubectl.yaml")
    t0=$(now)
    kubectl apply --server-side --field-manager kyma-bench -f "$WORK/kubectl.yaml" >/dev/null
    kubectl_t+=("$(elapsed "$t0")")

    # The floor: raw PATCHes, namespaces first, then everything else, maximum parallelism on HTTP/2.
    "$KYMA" render --catalog "$cat" --modules "$mods" --set "global.prefix=$id-f" >"$WORK/floor.yaml"
    floor_prepare "$WORK/floor.yaml" "$WORK/floor" "$server" "$certs"
    t0=$(now)
    floor_run "$WORK/floor"
    floor_t+=("$(elapsed "$t0")")
    rm -rf "$WORK/floor"
    # Untimed clean-up, so every run starts fresh: kyma would otherwise treat the next run (same module
    # names, other namespaces) as an upgrade and prune this one's 1,000 objects.
    "$KYMA" undeploy --modules "$mods" --timeout 5m >/dev/null 2>&1 || true
    for p in c f; do
      for m in $(seq -f 'm%02g' 1 "$MODULES"); do kubectl delete ns "$id-$p-$m" --wait=false >/dev/null 2>&1 || true; done
    done
    # Let the controller-manager finish deleting before the next run is timed, or it competes for the CPU.
    for p in k c f; do
      for m in $(seq -f 'm%02g' 1 "$MODULES"); do kubectl wait --for=delete "ns/$id-$p-$m" --timeout=300s >/dev/null 2>&1 || true; done
    done
  done
  local k c f r
  k=$(printf '%s\n' "${kyma_t[@]}" | median); c=$(printf '%s\n' "${kubectl_t[@]}" | median)
  f=$(printf '%s\n' "${floor_t[@]}" | median); r=$(printf '%s\n' "${redeploy_t[@]}" | median)
  echo "deploy: $total objects in $MODULES modules, median of $RUNS runs"
  printf '  kyma deploy --no-wait      %.3f s  (%s)\n' "$k" "$(printf '%.2f ' "${kyma_t[@]}")"
  printf '  kyma re-deploy (no change) %.3f s  (%s)\n' "$r" "$(printf '%.2f ' "${redeploy_t[@]}")"
  printf '  kubectl apply --server-side %.3f s (%s)\n' "$c" "$(printf '%.2f ' "${kubectl_t[@]}")"
  printf '  raw floor (curl, HTTP/2)   %.3f s  (%s)\n' "$f" "$(printf '%.2f ' "${floor_t[@]}")"
  printf '  kyma / floor = %.2fx   kubectl / kyma = %.2fx   first / re-deploy = %.2fx\n' \
    "$(echo "$k / $f" | bc -l)" "$(echo "$c / $k" | bc -l)" "$(echo "$k / $r" | bc -l)"
}

# The six real modules' release assets in the mirror, as Kyma's docs install them: each manager manifest,
# then each default CR.
real_assets() { # mirror-dir kind(manager|cr)
  local f
  for f in "$1"/kyma-project/*/releases/download/*/*.yaml; do
    case "$(basename "$f")" in
      *default*cr*) [ "$2" = cr ] && echo "$f" ;;
      *) [ "$2" = manager ] && echo "$f" ;;
    esac
  done
}

bench_real() {
  bash scripts/test-bed.sh up >/dev/null
  use_bed_kubectl
  local state=${KYMA_TEST_BED_DIR:-/tmp/kyma-test-bed}
  export KUBECONFIG=$state/kubeconfig KYMA_CACHE_DIR=$WORK/cache
  local mirror_dir; mirror_dir=$(cd .. && pwd)/shared/real-modules/mirror
  [ -d "$mirror_dir" ] || { echo "no real-module test data at $mirror_dir" >&2; exit 1; }
  # The managers are played by the stand-in the tests use (tests/it/stand_in.rs): Processing, then Ready
  # after the delay measured for the real keda and serverless managers (4.3-4.4 s), a finalizer on each CR.
  local delay=${BENCH_MANAGER_DELAY:-4.4}
  cargo build --release --quiet --example manager-stand-in
  local stand_in=${CARGO_TARGET_DIR:-$PWD/target}/release/examples/manager-stand-in
  local port; port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  python3 -m http.server --bind 127.0.0.1 "$port" --directory "$mirror_dir" >/dev/null 2>&1 &
  BENCH_PIDS="$!"
  "$stand_in" "$delay" >"$WORK/stand-in.log" 2>&1 &
  BENCH_PIDS="$BENCH_PIDS $!"
  local six=istio,api-gateway,eventing,nats,keda,serverless mirror="http://127.0.0.1:$port"
  # The mirror must listen before the first fetch (a loaded machine took longer than a fixed 0.5 s).
  for _ in $(seq 1 100); do curl -sf -o /dev/null "$mirror/" && break; sleep 0.1; done
  # A warm asset cache for kyma: both start from local files.
  "$KYMA" render --mirror "$mirror" --modules "$six" >/dev/null
  local crds="istios.operator.kyma-project.io apigateways.operator.kyma-project.io eventings.operator.kyma-project.io nats.operator.kyma-project.io kedas.operator.kyma-project.io serverlesses.operator.kyma-project.io"
  local kyma_t=() kubectl_t=() latency=()
  for run in $(seq 1 "$RUNS"); do
    # kyma: its events (ndjson) stamped as they arrive, to measure the time from the stand-in's flip to
    # Ready until kyma says the CR is ready.
    local t0; t0=$(now)
    "$KYMA" deploy --mirror "$mirror" --modules "$six" --timeout 300s -o json --events ndjson 2>"$WORK/kyma.err" \
      | python3 -c 'import sys, time
for line in sys.stdin:
    print(f"{time.time():.3f} {line}", end="", flush=True)' >"$WORK/kyma-events.$run" \
      || { cat "$WORK/kyma.err" >&2; exit 1; }
    kyma_t+=("$(elapsed "$t0")")
    grep -q '"exitCode": *0' "$WORK/kyma-events.$run" || { tail -50 "$WORK/kyma-events.$run" "$WORK/kyma.err" >&2; exit 1; }
    latency+=("$(python3 - "$WORK/stand-in.log" "$WORK/kyma-events.$run" "$t0" <<'PY'
import json, sys
flips = {}
for line in open(sys.argv[1]):
    parts = line.split(" ", 3)
    if len(parts) == 4 and float(parts[0]) >= float(sys.argv[3]) and parts[3].startswith("state Ready"):
        flips[(parts[1], parts[2].split("/")[-1])] = float(parts[0])
# The stand-in prints `<unix> <Kind> <ns>/<name> state Ready …`; kyma's event names the object as
# `<Kind>.<group>[/<ns>]/<name>`.
seen = []
for line in open(sys.argv[2]):
    at, _, rest = line.partition(" ")
    try:
        ev = json.loads(rest)
    except ValueError:
        continue
    if ev.get("event") != "objectReady":
        continue
    kind, _, where = ev["object"].partition(".")
    name = where.rsplit("/", 1)[-1]
    if (kind, name) in flips:
        seen.append(float(at) - flips[(kind, name)])
print(f"{max(seen) * 1000:.0f}" if seen else "nan")
PY
)")
    "$KYMA" undeploy --all --timeout 300s >/dev/null 2>&1 || true
    # Both start from a cluster without these (kyma's own kyma-installer included: a deploy into a
    # terminating one waits for it).
    kubectl wait --for=delete ns/istio-system ns/kyma-system ns/kyma-installer --timeout=300s >/dev/null 2>&1 || true

    # Kyma's documented kubectl install: the namespace, each manager manifest, the CRDs established,
    # each default CR, then wait for each CR's status.state.
    t0=$(now)
    kubectl create namespace kyma-system >/dev/null
    for f in $(real_assets "$mirror_dir" manager); do
      kubectl apply --server-side --field-manager kyma-bench -f "$f" >/dev/null
    done
    for crd in $crds; do kubectl wait --for condition=established "crd/$crd" --timeout=300s >/dev/null; done
    for f in $(real_assets "$mirror_dir" cr); do
      kubectl apply --server-side --field-manager kyma-bench -f "$f" >/dev/null
    done
    for crd in $crds; do
      kubectl wait --for=jsonpath='{.status.state}'=Ready "${crd%%.*}" --all -A --timeout=300s >/dev/null
    done
    kubectl_t+=("$(elapsed "$t0")")
    # CRs first, while the managers (the stand-in) still run their cleanup; then everything else.
    for crd in $crds; do kubectl delete "${crd%%.*}" --all -A --wait=true --timeout=300s >/dev/null 2>&1 || true; done
    for f in $(real_assets "$mirror_dir" manager); do
      kubectl delete -f "$f" --ignore-not-found --wait=true --timeout=300s >/dev/null 2>&1 || true
    done
    kubectl delete namespace kyma-system istio-system --ignore-not-found --wait=true --timeout=300s >/dev/null 2>&1 || true
  done
  local k c l; k=$(printf '%s\n' "${kyma_t[@]}" | median); c=$(printf '%s\n' "${kubectl_t[@]}" | median)
  l=$(printf '%s\n' "${latency[@]}" | median)
  echo "real modules: $six, managers played by the stand-in (Ready ${delay} s after they see a CR), deploy to all Ready, median of $RUNS runs"
  printf '  kyma deploy                                  %.2f s  (%s)\n' "$k" "$(printf '%.2f ' "${kyma_t[@]}")"
  printf '  kubectl, as Kyma documents it (apply, wait)  %.2f s  (%s)\n' "$c" "$(printf '%.2f ' "${kubectl_t[@]}")"
  printf '  kubectl / kyma = %.2fx\n' "$(echo "$c / $k" | bc -l)"
  printf '  manager flips to Ready -> kyma reports it: median over runs of the slowest of six %s ms (%s)\n' "$l" "${latency[*]}"
}

# Cost per cluster: API requests (by verb and resource, from the API server's own
# apiserver_request_total, less what the bed's controllers sent in an idle window of the same length)
# and kyma's CPU time, for (a) a first deploy, (b) an unchanged re-deploy, (c) an operator resync of an
# unchanged Kyma object, (d) a spec change. A small module set: 3 modules of a Namespace, a ConfigMap, a
# Secret, a ServiceAccount, a Service, a Role and a RoleBinding each (21 objects).
metrics_snapshot() { # out-file
  kubectl get --raw /metrics | python3 -c '
import re, sys, json
out = {}
for line in sys.stdin:
    if not line.startswith("apiserver_request_total{"):
        continue
    labels = dict(re.findall(r"(\w+)=\"([^\"]*)\"", line.split("}")[0]))
    key = labels.get("verb", "?") + " " + labels.get("resource", "?") + ("/" + labels["subresource"] if labels.get("subresource") else "")
    out[key] = out.get(key, 0) + float(line.rsplit(" ", 1)[1])
json.dump(out, sys.stdout)' >"$1"
}
metrics_diff() { # before after idle-before idle-after label
  python3 - "$@" <<'PY'
import json, sys
b, a, ib, ia, label = sys.argv[1:6]
b, a, ib, ia = (json.load(open(x)) for x in (b, a, ib, ia))
d = {k: a.get(k, 0) - b.get(k, 0) - max(0, ia.get(k, 0) - ib.get(k, 0)) for k in set(a) | set(b)}
d = {k: int(round(v)) for k, v in d.items() if round(v) > 0}
print(f"  {label}: {sum(d.values())} requests ({', '.join(f'{k} {v}' for k, v in sorted(d.items(), key=lambda x: -x[1]))})")
PY
}
cpu_of() { # command… : prints user+sys seconds of it
  /usr/bin/time -f '%U %S' -o "$WORK/time" "$@" >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; return 1; }
  awk '{printf "%.3f", $1 + $2}' "$WORK/time"
}

bench_fleet_cost() {
  bash scripts/test-bed.sh up >/dev/null
  use_bed_kubectl
  local state=${KYMA_TEST_BED_DIR:-/tmp/kyma-test-bed}
  export KUBECONFIG=$state/kubeconfig KYMA_CACHE_DIR=$WORK/cache
  local cat="$WORK/cost-catalog" prefix mods
  gen_catalog "$cat" 3 7
  mods=$(seq -f 'm%02g' 1 3 | paste -sd, -)
  prefix=cost$RANDOM
  # The cluster as a kcp workspace: the bed behind the tests' path-prefix proxy (every request reaches
  # the bed, which counts it; the proxy strips /clusters/root:cost). kyma talks to the workspace URL.
  cargo build --release --quiet --example path-proxy
  local proxy_bin=${CARGO_TARGET_DIR:-$PWD/target}/release/examples/path-proxy port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$proxy_bin" "127.0.0.1:$port" /clusters/root:cost >"$WORK/proxy.out" 2>&1 &
  local proxy=$!
  BENCH_PIDS="${BENCH_PIDS:-} $proxy"
  for _ in $(seq 1 100); do grep -q '^ready' "$WORK/proxy.out" 2>/dev/null && break; sleep 0.1; done
  local ws="$WORK/workspace.kubeconfig"
  printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: ws\n  cluster: {server: "http://127.0.0.1:%s/clusters/root:cost"}\nusers:\n- name: ws\n  user: {}\ncontexts:\n- name: ws\n  context: {cluster: ws, user: ws}\ncurrent-context: ws\n' "$port" >"$ws"
  echo "cost per cluster: 3 modules, 21 objects, one bed as a workspace through the path-prefix proxy (requests counted by the bed, net of an idle window of the same length)"
  local t0 d cpu
  # (a) first deploy, (b) unchanged re-deploy, (d) a spec change, each against an idle window.
  run_costed() { # label command…
    local label=$1; shift
    metrics_snapshot "$WORK/m0"; t0=$(now)
    cpu=$(cpu_of "$@")
    d=$(elapsed "$t0"); metrics_snapshot "$WORK/m1"
    metrics_snapshot "$WORK/i0"; sleep "$d"; metrics_snapshot "$WORK/i1"
    metrics_diff "$WORK/m0" "$WORK/m1" "$WORK/i0" "$WORK/i1" "$label"
    printf '    %.2f s wall, %s s kyma CPU\n' "$d" "$cpu"
  }
  run_costed "(a) first deploy" "$KYMA" deploy --kubeconfig "$ws" --catalog "$cat" --modules "$mods" --set "global.prefix=$prefix" --timeout 120s
  run_costed "(b) unchanged re-deploy" "$KYMA" deploy --kubeconfig "$ws" --catalog "$cat" --modules "$mods" --set "global.prefix=$prefix" --timeout 120s
  run_costed "(d) spec change (a value of one module)" "$KYMA" deploy --kubeconfig "$ws" --catalog "$cat" --modules "$mods" --set "global.prefix=$prefix" --set m01.label=changed --timeout 120s
  "$KYMA" undeploy --kubeconfig "$ws" --modules "$mods" --timeout 120s >/dev/null 2>&1 || true

  # (c) the operator keeping one unchanged Kyma object: resyncs every 2 s; requests and the operator's
  # CPU over 60 s at rest (~30 resyncs: CPU is counted in clock ticks of 10 ms), per resync.
  local ns=cost-op-$RANDOM
  kubectl create namespace "$ns" >/dev/null
  kubectl create secret generic workspace -n "$ns" --from-file=config="$ws" >/dev/null
  # The synthetic modules name their namespaces from global.prefix: central overrides carry it.
  printf 'global:\n  prefix: %s-op\n' "$prefix" >"$WORK/overrides.yaml"
  "$KYMA" operator run --catalog "$cat" --namespace "$ns" --resync 2s --overrides "$WORK/overrides.yaml" >"$WORK/operator.log" 2>&1 &
  local op=$!
  BENCH_PIDS="${BENCH_PIDS:-} $op"
  for _ in $(seq 1 100); do kubectl get crd kymas.installer.kyma-project.io >/dev/null 2>&1 && break; sleep 0.2; done
  kubectl apply -f - >/dev/null <<EOF2
apiVersion: installer.kyma-project.io/v1alpha1
kind: Kyma
metadata: {name: cost, namespace: $ns}
spec:
  kubeconfigSecretRef: {name: workspace}
  modules: [{name: m01}, {name: m02}, {name: m03}]
EOF2
  kubectl wait --for=condition=Ready "kyma/cost" -n "$ns" --timeout=120s >/dev/null || { tail -20 "$WORK/operator.log" >&2; }
  sleep 6
  local c0 c1 hz window=60 resync=2
  hz=$(getconf CLK_TCK)
  c0=$(awk '{print $14 + $15}' "/proc/$op/stat")
  metrics_snapshot "$WORK/m0"; sleep "$window"; metrics_snapshot "$WORK/m1"
  c1=$(awk '{print $14 + $15}' "/proc/$op/stat")
  local rss; rss=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$op/status")
  kubectl delete kyma cost -n "$ns" --wait=true --timeout=120s >/dev/null 2>&1 || true
  kill "$op" 2>/dev/null; wait "$op" 2>/dev/null || true
  metrics_snapshot "$WORK/i0"; sleep "$window"; metrics_snapshot "$WORK/i1"
  metrics_diff "$WORK/m0" "$WORK/m1" "$WORK/i0" "$WORK/i1" "(c) operator at rest, ${window} s of resyncs every ${resync} s (~$((window / resync)) resyncs)"
  printf '    operator CPU %.3f s over %s s (%.1f ms per resync), RSS %s MiB\n' "$(echo "($c1 - $c0) / $hz" | bc -l)" "$window" \
    "$(echo "($c1 - $c0) / $hz * 1000 / ($window / $resync)" | bc -l)" "$rss"
  kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
  kill "$proxy" 2>/dev/null; wait "$proxy" 2>/dev/null || true
}

# Real throttling: a bed of its own whose API server has the smallest inflight limits, and API Priority
# and Fairness (on, as everywhere) putting the deploying user into a priority level of one seat that
# rejects (429 with Retry-After) instead of queueing. kyma and kubectl deploy the same 1,000 objects as
# that user, in alternating order, with a pause between so the server's Retry-After cools down.
bench_throttled() {
  local dir=/tmp/kyma-bench-throttled started=0
  if ! bash scripts/test-bed.sh status --dir "$dir" 2>/dev/null; then
    bash scripts/test-bed.sh up --dir "$dir" --port 16447 --etcd-port 12387 --inflight 1 >/dev/null
    started=1
  fi
  KUBECTL=$(bash scripts/test-bed.sh kubectl --dir "$dir")
  export KUBECONFIG=$dir/kubeconfig
  kubectl apply -f - >/dev/null <<'EOF2'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kyma-bench-throttled}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: kyma-bench-throttled}]
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: PriorityLevelConfiguration
metadata: {name: kyma-bench-throttled}
spec: {type: Limited, limited: {nominalConcurrencyShares: 1, lendablePercent: 0, borrowingLimitPercent: 0, limitResponse: {type: Reject}}}
---
apiVersion: flowcontrol.apiserver.k8s.io/v1
kind: FlowSchema
metadata: {name: kyma-bench-throttled}
spec:
  priorityLevelConfiguration: {name: kyma-bench-throttled}
  matchingPrecedence: 100
  distinguisherMethod: {type: ByUser}
  rules:
  - subjects: [{kind: User, user: {name: kyma-bench-throttled}}]
    resourceRules: [{verbs: ["*"], apiGroups: ["*"], resources: ["*"], namespaces: ["*"], clusterScope: true}]
    nonResourceRules: [{verbs: ["*"], nonResourceURLs: ["*"]}]
EOF2
  sed 's/^  user:$/  user:\n    as: kyma-bench-throttled/' "$dir/kubeconfig" >"$WORK/throttled-kubeconfig"
  sleep 3
  local cat="$WORK/throttled-catalog" mods kyma_t=() kubectl_t=() drops=()
  gen_catalog "$cat" "$MODULES" "$PER_MODULE"
  mods=$(modules_csv)
  for run in $(seq 1 "$RUNS"); do
    local id; id=$(printf 't%s%02d' "$(date +%H%M%S)" "$run")
    "$KYMA" render --catalog "$cat" --modules "$mods" --set "global.prefix=$id-c" >"$WORK/throttled.yaml"
    local order="kyma kubectl"; [ $((run % 2)) = 0 ] && order="kubectl kyma"
    for tool in $order; do
      sleep 10
      local t0; t0=$(now)
      if [ "$tool" = kyma ]; then
        "$KYMA" deploy --kubeconfig "$WORK/throttled-kubeconfig" --catalog "$cat" --modules "$mods" \
          --set "global.prefix=$id-k" --no-wait --events ndjson -o json >"$WORK/kyma.out" 2>"$WORK/kyma.err" \
          || { cat "$WORK/kyma.err" >&2; exit 1; }
        kyma_t+=("$(elapsed "$t0")")
        drops+=("$(grep -c '"class":"throttled"' "$WORK/kyma.out" || true)")
      else
        KUBECONFIG=$WORK/throttled-kubeconfig kubectl apply --server-side --field-manager kyma-bench -f "$WORK/throttled.yaml" >/dev/null
        kubectl_t+=("$(elapsed "$t0")")
      fi
    done
    "$KYMA" undeploy --modules "$mods" --timeout 5m >/dev/null 2>&1 || true
    for m in $(seq -f 'm%02g' 1 "$MODULES"); do kubectl delete ns "$id-c-$m" --wait=false >/dev/null 2>&1 || true; done
  done
  local k c
  k=$(printf '%s\n' "${kyma_t[@]}" | median); c=$(printf '%s\n' "${kubectl_t[@]}" | median)
  echo "throttled (one APF seat, reject on overload): $((MODULES * PER_MODULE)) objects, median of $RUNS runs"
  printf '  kyma deploy --no-wait       %.3f s  (%s; 429 answers: %s)\n' "$k" "$(printf '%.2f ' "${kyma_t[@]}")" "${drops[*]}"
  printf '  kubectl apply --server-side %.3f s  (%s)\n' "$c" "$(printf '%.2f ' "${kubectl_t[@]}")"
  printf '  kubectl / kyma = %.2fx\n' "$(echo "$c / $k" | bc -l)"
  [ "$started" = 1 ] && bash scripts/test-bed.sh down --dir "$dir" >/dev/null
  return 0
}

# The same 1,000-object deploy into one bed, then into three beds in one run (each its own control
# plane, port and CA, all on this machine): the ratio is what a control plane driving many clusters pays.
# CPU seconds (user + system) used so far by the processes of a bed: those whose command line names its
# state directory (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok).
bed_cpu() { # state-dir
  python3 - "$1" <<'PY'
import os, sys
total = 0
for p in os.listdir("/proc"):
    if not p.isdigit():
        continue
    try:
        cmd = open(f"/proc/{p}/cmdline", "rb").read().replace(b"\0", b" ").decode()
        stat = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        continue
    if sys.argv[1] + "/" in cmd:
        total += int(stat[11]) + int(stat[12])
print(total / os.sysconf("SC_CLK_TCK"))
PY
}

bench_fleet() {
  local n=${FLEET_N:-3} dirs=() started=() i
  for i in $(seq 1 "$n"); do
    local d=/tmp/kyma-bench-fleet-$i
    dirs+=("$d")
    if ! bash scripts/test-bed.sh status --dir "$d" >/dev/null 2>&1; then
      bash scripts/test-bed.sh up --dir "$d" --port $((16449 + i)) --etcd-port $((12389 + 2 * i)) >/dev/null
      started+=("$d")
    fi
  done
  use_bed_kubectl
  # An undeploy or a namespace deletion leaves the namespace controller and etcd busy for a while;
  # each timed run starts on servers that have finished that work.
  settle() {
    local d
    for d in "${dirs[@]}"; do
      for _ in $(seq 1 240); do
        KUBECONFIG=$d/kubeconfig kubectl get ns --no-headers 2>/dev/null | grep -q Terminating || break
        sleep 0.5
      done
    done
    sleep 2
  }
  drop_namespaces() { # prefix dir...
    local p=$1 d m; shift
    for d in "$@"; do
      for m in $(seq -f 'm%02g' 1 "$MODULES"); do
        KUBECONFIG=$d/kubeconfig kubectl delete ns "$p-$m" --wait=false >/dev/null 2>&1 || true
      done
    done
    settle
  }
  local cat="$WORK/fleet-catalog" mods one_t=() three_t=() cpu_t=() fone_t=() fthree_t=() srv_t=() kcpu_t=()
  gen_catalog "$cat" "$MODULES" "$PER_MODULE"
  mods=$(modules_csv)
  local all=() d
  for d in "${dirs[@]}"; do all+=(--kubeconfig "$d/kubeconfig"); done
  settle
  # FLEET_OPERATOR_ONLY=1: the operator's part alone.
  [ "${FLEET_OPERATOR_ONLY:-0}" = 1 ] && RUNS=0
  for run in $(seq 1 "$RUNS"); do
    local id t0 s0 cpu; id=$(printf 'f%s%02d' "$(date +%H%M%S)" "$run")
    s0=$(bed_cpu "${dirs[0]}")
    t0=$(now)
    cpu=$( { TIMEFORMAT='%U+%S'; time "$KYMA" deploy --kubeconfig "${dirs[0]}/kubeconfig" --catalog "$cat" --modules "$mods" \
      --set "global.prefix=$id-a" --no-wait -o json >"$WORK/fleet1.json" 2>"$WORK/fleet.err" || { cat "$WORK/fleet.err" >&2; exit 1; }; } 2>&1 )
    one_t+=("$(elapsed "$t0")")
    srv_t+=("$(echo "$(bed_cpu "${dirs[0]}") - $s0" | bc -l)")
    kcpu_t+=("$(echo "$cpu" | bc -l)")
    # Gone before the three-cluster run: otherwise that run would be an upgrade that prunes these.
    "$KYMA" undeploy --kubeconfig "${dirs[0]}/kubeconfig" --modules "$mods" --timeout 5m >/dev/null 2>&1 || true
    settle
    t0=$(now)
    # kyma's own CPU time (user+sys) too: with every server on this machine, that is the part a real
    # fleet (each cluster on its own machines) would still share.
    cpu=$( { TIMEFORMAT='%U+%S'; time "$KYMA" deploy "${all[@]}" --catalog "$cat" --modules "$mods" \
      --set "global.prefix=$id-b" --no-wait -o json >"$WORK/fleet3.json" 2>"$WORK/fleet.err" || { cat "$WORK/fleet.err" >&2; exit 1; }; } 2>&1 )
    three_t+=("$(elapsed "$t0")")
    cpu_t+=("$(echo "$cpu" | bc -l)")
    "$KYMA" undeploy "${all[@]}" --modules "$mods" --timeout 5m >/dev/null 2>&1 || true
    settle
    # The raw floor (curl --parallel over HTTP/2, as in `bench.sh deploy`) into one bed, then into the
    # three at once: what this machine allows, without kyma.
    "$KYMA" render --catalog "$cat" --modules "$mods" --set "global.prefix=$id-c" >"$WORK/fleet-floor.yaml"
    floor_prepare "$WORK/fleet-floor.yaml" "$WORK/floor-1" "$(awk '/server:/ {print $2; exit}' "${dirs[0]}/kubeconfig")" "${dirs[0]}/certs"
    t0=$(now)
    floor_run "$WORK/floor-1"
    fone_t+=("$(elapsed "$t0")")
    drop_namespaces "$id-c" "${dirs[0]}"
    "$KYMA" render --catalog "$cat" --modules "$mods" --set "global.prefix=$id-d" >"$WORK/fleet-floor.yaml"
    for i in $(seq 0 $((n - 1))); do
      floor_prepare "$WORK/fleet-floor.yaml" "$WORK/floor3-$i" "$(awk '/server:/ {print $2; exit}' "${dirs[$i]}/kubeconfig")" "${dirs[$i]}/certs"
    done
    local pids=()
    t0=$(now)
    for i in $(seq 0 $((n - 1))); do floor_run "$WORK/floor3-$i" & pids+=($!); done
    for i in "${pids[@]}"; do wait "$i" || exit 1; done
    fthree_t+=("$(elapsed "$t0")")
    drop_namespaces "$id-d" "${dirs[@]}"
    rm -rf "$WORK"/floor-1 "$WORK"/floor3-*
  done
  if [ "$RUNS" = 0 ]; then
    fleet_operator "${dirs[@]}"
    for d in "${started[@]}"; do bash scripts/test-bed.sh down --dir "$d" >/dev/null; done
    return 0
  fi
  local a b fa fb srv kc k3
  a=$(printf '%s\n' "${one_t[@]}" | median); b=$(printf '%s\n' "${three_t[@]}" | median)
  fa=$(printf '%s\n' "${fone_t[@]}" | median); fb=$(printf '%s\n' "${fthree_t[@]}" | median)
  srv=$(printf '%s\n' "${srv_t[@]}" | median); kc=$(printf '%s\n' "${kcpu_t[@]}" | median)
  k3=$(printf '%s\n' "${cpu_t[@]}" | median)
  local bound; bound=$(echo "($n * $srv + $k3) / $(nproc)" | bc -l)
  echo "fleet: $((MODULES * PER_MODULE)) objects per cluster, median of $RUNS runs, $(nproc) CPUs"
  printf '  kyma, one cluster             %.3f s  (%s)\n' "$a" "$(printf '%.2f ' "${one_t[@]}")"
  printf "  kyma, $n clusters, one run     %.3f s  (%s)  $n / one = %.2fx\n" "$b" "$(printf '%.2f ' "${three_t[@]}")" "$(echo "$b / $a" | bc -l)"
  printf '  raw floor, one cluster        %.3f s  (%s)\n' "$fa" "$(printf '%.2f ' "${fone_t[@]}")"
  printf "  raw floor, $n at once          %.3f s  (%s)  $n / one = %.2fx\n" "$fb" "$(printf '%.2f ' "${fthree_t[@]}")" "$(echo "$fb / $fa" | bc -l)"
  printf "  kyma $n / floor $n = %.2fx   kyma one / floor one = %.2fx\n" "$(echo "$b / $fb" | bc -l)" "$(echo "$a / $fa" | bc -l)"
  # Every bed shares this machine's CPUs: three clusters cannot take less than their servers' CPU
  # time plus kyma's, spread over every CPU.
  printf "  CPU: one cluster's servers used %.2f s and kyma %.2f s; $n clusters' servers need %.2f s and kyma used %.2f s,\n" \
    "$srv" "$kc" "$(echo "$n * $srv" | bc -l)" "$k3"
  printf "       so on %s CPUs $n clusters take at least %.2f s = %.2fx one cluster's time\n" \
    "$(nproc)" "$bound" "$(echo "$bound / $a" | bc -l)"
  fleet_operator "${dirs[@]}"
  for d in "${started[@]}"; do bash scripts/test-bed.sh down --dir "$d" >/dev/null; done
  return 0
}

# The operator keeping the fleet: one `Kyma` object per cluster (its kubeconfig in a Secret, credentials
# inline), the cost catalog's 3 modules of 7 objects each. From zero to all Ready; one spec change (a
# value of one module, on every object) until every object is Ready at its new generation; then at rest
# (resync 10 s) for 60 s: CPU and requests per resync, and RSS. Extrapolated to 1,000 clusters at the
# default resync (60 s). First over the beds, then (FLEET_WORKSPACES, default 30) over that many
# workspaces of the first bed through the path-prefix proxy: many clusters to one operator, as on kcp.
fleet_operator() { # bed dirs...
  local dirs=("$@") w=${FLEET_WORKSPACES:-30} i kcs=()
  export KUBECONFIG=${dirs[0]}/kubeconfig
  for i in "${dirs[@]}"; do kcs+=("$i/kubeconfig"); done
  fleet_operator_run "${dirs[-1]}/kubeconfig" 1 "$# beds" "${kcs[@]}"
  [ "$w" -gt 0 ] || return 0
  cargo build --release --quiet --example path-proxy
  local proxy_bin=${CARGO_TARGET_DIR:-$PWD/target}/release/examples/path-proxy port prefixes=() run=$RANDOM
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  for i in $(seq 1 "$w"); do prefixes+=("/clusters/root:fleet-$run-$i"); done
  "$proxy_bin" "127.0.0.1:$port" "${prefixes[@]}" >"$WORK/proxy.out" 2>&1 &
  local proxy=$!
  BENCH_PIDS="${BENCH_PIDS:-} $proxy"
  for _ in $(seq 1 100); do grep -q '^ready' "$WORK/proxy.out" 2>/dev/null && break; sleep 0.1; done
  kcs=()
  # Each carries a CA, as a real kcp kubeconfig does (unused over the proxy's plain HTTP; without one,
  # kube gives every client the platform verifier, which loads all system roots per client).
  local ca; ca=$(base64 -w0 <"${dirs[0]}/certs/ca.crt")
  for i in $(seq 1 "$w"); do
    printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: ws\n  cluster: {server: "http://127.0.0.1:%s%s", certificate-authority-data: %s}\nusers:\n- name: ws\n  user: {}\ncontexts:\n- name: ws\n  context: {cluster: ws, user: ws}\ncurrent-context: ws\n' \
      "$port" "${prefixes[$((i - 1))]}" "$ca" >"$WORK/ws-$i.kubeconfig"
    kcs+=("$WORK/ws-$i.kubeconfig")
  done
  fleet_operator_run "${dirs[0]}/kubeconfig" "$w" "$w workspaces of one bed through the path-prefix proxy" "${kcs[@]}"
  kill "$proxy" 2>/dev/null; wait "$proxy" 2>/dev/null || true
}

fleet_operator_run() { # metrics-kubeconfig divisor label target-kubeconfigs...
  local metrics=$1 per=$2 label=$3; shift 3
  local kcs=("$@") n=$# ns=fleet-op-$RANDOM cat="$WORK/fleet-op-catalog" i
  gen_catalog "$cat" 3 7
  kubectl create namespace "$ns" >/dev/null
  for i in $(seq 0 $((n - 1))); do
    python3 - "${kcs[$i]}" >"$WORK/inline-$i" <<'PY2'
import base64, sys, yaml
kc = yaml.safe_load(open(sys.argv[1]))
def inline(entry, key):
    if key in entry:
        entry[key + "-data"] = base64.b64encode(open(entry.pop(key), "rb").read()).decode()
for c in kc["clusters"]:
    inline(c["cluster"], "certificate-authority")
for u in kc["users"]:
    for k in ("client-certificate", "client-key"):
        inline(u["user"] or {}, k)
print(yaml.safe_dump(kc))
PY2
    kubectl create secret generic "cluster-$i" -n "$ns" --from-file=config="$WORK/inline-$i" >/dev/null
  done
  printf 'global:\n  prefix: fop\n' >"$WORK/fop-overrides.yaml"
  # FLEET_CONCURRENCY: the operator's --concurrency (its default when unset).
  "$KYMA" operator run --catalog "$cat" --namespace "$ns" --resync 10s --overrides "$WORK/fop-overrides.yaml" \
    ${FLEET_CONCURRENCY:+--concurrency "$FLEET_CONCURRENCY"} >"$WORK/fleet-operator.log" 2>&1 &
  local op=$!
  BENCH_PIDS="${BENCH_PIDS:-} $op"
  for _ in $(seq 1 100); do kubectl get crd kymas.installer.kyma-project.io >/dev/null 2>&1 && break; sleep 0.2; done
  sleep 1
  local rss0; rss0=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$op/status")
  kyma_objects() { # label value
    for i in $(seq 0 $((n - 1))); do
      printf -- '---\napiVersion: installer.kyma-project.io/v1alpha1\nkind: Kyma\nmetadata: {name: cluster-%s, namespace: %s}\nspec:\n  kubeconfigSecretRef: {name: cluster-%s}\n  modules: [{name: m01, values: {label: %s}}, {name: m02}, {name: m03}]\n' "$i" "$ns" "$i" "$1"
    done
  }
  all_ready() { # generation
    for _ in $(seq 1 3000); do
      local ok; ok=$(kubectl get kymas -n "$ns" -o json | python3 -c '
import json, sys
g = int(sys.argv[1])
items = json.load(sys.stdin)["items"]
print(sum(1 for k in items if k["metadata"]["generation"] == g and k.get("status", {}).get("observedGeneration") == g
          and any(c["type"] == "Ready" and c["status"] == "True" for c in k["status"].get("conditions", []))))' "$1")
      [ "$ok" = "$n" ] && return 0
      sleep 0.1
    done
    tail -20 "$WORK/fleet-operator.log" >&2; return 1
  }
  local t0 zero change z0 z1 peak
  z0=$(awk '{print $14 + $15}' "/proc/$op/stat")
  t0=$(now); kyma_objects bench | kubectl apply -f - >/dev/null; all_ready 1; zero=$(elapsed "$t0")
  z1=$(awk '{print $14 + $15}' "/proc/$op/stat")
  # The most memory the operator held so far (its start included): the first deploys are the most it does.
  peak=$(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$op/status")
  t0=$(now); kyma_objects changed | kubectl apply -f - >/dev/null; all_ready 2; change=$(elapsed "$t0")
  sleep 12
  local hz c0 c1 window=60 resync=10 rss
  hz=$(getconf CLK_TCK)
  c0=$(awk '{print $14 + $15}' "/proc/$op/stat")
  KUBECONFIG=$metrics metrics_snapshot "$WORK/m0"; sleep "$window"; KUBECONFIG=$metrics metrics_snapshot "$WORK/m1"
  c1=$(awk '{print $14 + $15}' "/proc/$op/stat")
  rss=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$op/status")
  kill "$op" 2>/dev/null; wait "$op" 2>/dev/null || true
  KUBECONFIG=$metrics metrics_snapshot "$WORK/i0"; sleep "$window"; KUBECONFIG=$metrics metrics_snapshot "$WORK/i1"
  local resyncs cpu per_ms
  resyncs=$(echo "$n * $window / $resync" | bc -l)
  cpu=$(echo "($c1 - $c0) / $hz" | bc -l)
  per_ms=$(echo "$cpu * 1000 / $resyncs" | bc -l)
  echo "operator, $label (one Kyma object each, 3 modules of 7 objects), same machine:"
  printf '  from zero to all Ready %.2f s (operator CPU %.1f ms per object, peak RSS %s MiB); one spec change on every object to all Ready %.2f s\n' \
    "$zero" "$(echo "($z1 - $z0) * 1000 / $(getconf CLK_TCK) / $n" | bc -l)" "$peak" "$change"
  printf '  at rest (resync %s s, %s s): operator CPU %.3f s = %.1f ms per resync, %.2f %% of a core; RSS %s MiB (%s MiB before any object)\n' \
    "$resync" "$window" "$cpu" "$per_ms" "$(echo "$cpu * 100 / $window" | bc -l)" "$rss" "$rss0"
  metrics_diff "$WORK/m0" "$WORK/m1" "$WORK/i0" "$WORK/i1" "  requests at rest over $window s ($((window / resync)) resyncs of $per cluster(s) counted; net of an idle window)"
  # An upper bound: all growth since start (the runtime's, the catalog's, the kept renders') counts as
  # per-cluster here; two runs of different sizes give the growth per cluster alone.
  printf '  1,000 clusters at the default resync (60 s): %.1f %% of a core at rest, RSS at most about %.0f MiB (%.2f MiB per cluster, all growth since start counted)\n' \
    "$(echo "$per_ms * 1000 / 60 / 10" | bc -l)" "$(echo "$rss0 + ($rss - $rss0) * 1000 / $n" | bc -l)" "$(echo "($rss - $rss0) / $n" | bc -l)"
  # What the operator deployed goes: the objects are deleted (finalizer: undeploy) with the operator
  # running again.
  "$KYMA" operator run --catalog "$cat" --namespace "$ns" --overrides "$WORK/fop-overrides.yaml" >>"$WORK/fleet-operator.log" 2>&1 &
  op=$!
  kubectl delete kymas --all -n "$ns" --wait=true --timeout=300s >/dev/null 2>&1 || true
  kill "$op" 2>/dev/null; wait "$op" 2>/dev/null || true
  kubectl delete namespace "$ns" --wait=false >/dev/null 2>&1 || true
}

case "${1:-all}" in
  render) bench_render ;;
  deploy) bench_deploy ;;
  real) bench_real ;;
  fleet-cost) bench_fleet_cost ;;
  throttled) bench_throttled ;;
  fleet) bench_fleet ;;
  all) bench_render; bench_deploy; bench_real; bench_throttled; bench_fleet ;;
  *) echo "usage: $0 render|deploy|real|throttled|fleet|all" >&2; exit 2 ;;
esac

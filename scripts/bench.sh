#!/usr/bin/env bash
# Benchmarks (not tests): figures to quote, measured on the machine at hand.
#
#   scripts/bench.sh render   render a synthetic catalog of 10,000 objects (target < 0.5 s)
#   scripts/bench.sh deploy   deploy a synthetic catalog of >= 1,000 core objects across 10 modules to
#                             fresh namespaces on the test bed and compare, in the same run, with
#                             (a) kubectl apply --server-side of the same YAML and (b) the raw floor: the
#                             same server-side-apply PATCHes sent by curl --parallel over HTTP/2
#   scripts/bench.sh all
#
# Environment: BENCH_OBJECTS (per module, default 100), BENCH_MODULES (default 10), BENCH_RUNS (3).
set -euo pipefail
cd "$(dirname "$0")/.."

MODULES=${BENCH_MODULES:-10}
PER_MODULE=${BENCH_OBJECTS:-100}
RUNS=${BENCH_RUNS:-3}
WORK=$(mktemp -d /tmp/kyma-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

cargo build --release --quiet
KYMA=$PWD/target/release/kyma

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc -l; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

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

bench_deploy() {
  bash scripts/test-bed.sh up >/dev/null
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
    python3 - "$WORK/floor.yaml" "$WORK/floor" "$server" "$certs" <<'PY'
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
    # Per-transfer options (certificates, HTTP/2) live in each config entry: `next` resets them.
    local curl_args=(--parallel --parallel-immediate --parallel-max 100)
    t0=$(now)
    curl "${curl_args[@]}" --config "$WORK/floor/ns.cfg" 2>"$WORK/curl.err" || { cat "$WORK/curl.err" >&2; exit 1; }
    curl "${curl_args[@]}" --config "$WORK/floor/obj.cfg" 2>"$WORK/curl.err" || { cat "$WORK/curl.err" >&2; exit 1; }
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

case "${1:-all}" in
  render) bench_render ;;
  deploy) bench_deploy ;;
  all) bench_render; bench_deploy ;;
  *) echo "usage: $0 render|deploy|all" >&2; exit 2 ;;
esac

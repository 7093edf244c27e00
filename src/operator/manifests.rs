//! `kyma operator manifests`: what installs the operator in a cluster — its CRD, a namespace, a service
//! account with its RBAC, and a Deployment of this same static binary on a `scratch` base.
//!
//! The RBAC is computed, never `*`: with `--modules`, from what those modules render (each kind's
//! resource with the verbs kyma uses, `escalate`/`bind` only on the roles the modules carry, by name);
//! without, the control-plane profile (its `Kyma` objects, the Secrets they name, its Leases and
//! Events). Either way the printed objects pass kyma's own privilege guard.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::api;
use crate::cli::{GlobalArgs, OperatorManifestsArgs};
use crate::object::Object;
use crate::render::ClusterFacts;

pub fn print(global: &GlobalArgs, args: &OperatorManifestsArgs) -> anyhow::Result<()> {
    let profile = if args.modules.is_empty() {
        Profile::ControlPlane
    } else {
        let selection = crate::pipeline::Selection::modules(args.modules.clone());
        let fetch = crate::front::requests::fetch(global);
        let prepared = crate::pipeline::prepare(&fetch, &selection, &ClusterFacts::default())?;
        let objects: Vec<&Object> = prepared.plan.nodes.iter().map(|n| &n.object).collect();
        Profile::Modules {
            names: args.modules.clone(),
            rules: module_rules(&objects),
        }
    };
    let docs = objects(&args.image, &args.namespace, &profile);
    let text: Vec<String> = docs.iter().map(crate::yaml::to_string).collect();
    println!("{}", header(&profile).trim_end());
    println!("---");
    print!("{}", text.join("---\n"));
    Ok(())
}

/// What the operator is allowed to do.
pub enum Profile {
    /// Read `Kyma` objects and the Secrets they name; install only into the clusters those reach.
    ControlPlane,
    /// Also install these modules into the cluster it runs in, with exactly these extra rules.
    Modules { names: Vec<String>, rules: Vec<Value> },
}

fn header(profile: &Profile) -> String {
    let what = match profile {
        Profile::ControlPlane => "Control-plane profile: the operator reads its Kyma objects and the kubeconfig Secrets \
             they name, and installs only into the clusters those Secrets reach (they get nothing of ours). A Kyma \
             object without a kubeconfig Secret is refused by RBAC here; print with --modules for that."
            .to_string(),
        Profile::Modules { names, .. } => format!(
            "Single-cluster profile for {}: the ClusterRole holds each kind these modules render with the verbs \
             kyma uses, and escalate/bind only on the roles they carry. Other modules are refused by RBAC; \
             print again with them added.",
            names.join(", ")
        ),
    };
    let mut out = String::from("# kyma operator: apply with `kubectl apply --server-side -f -`.\n");
    for line in textwrap::wrap(&what, 100) {
        out.push_str(&format!("# {line}\n"));
    }
    out
}

/// The verbs kyma uses on what it applies: read and watch (readiness, ownership, drift), server-side
/// apply (`patch`, and `create` for what does not exist yet), `update` (finalizers), `delete` (prune,
/// undeploy).
const KYMA_VERBS: [&str; 7] = ["get", "list", "watch", "create", "update", "patch", "delete"];

/// The rules kyma needs to install `objects` into the cluster it runs in, beside its own bookkeeping
/// (inventory Secrets, the lock Lease, namespaces, the pods it reads to explain a slow workload).
pub fn module_rules(objects: &[&Object]) -> Vec<Value> {
    // Plurals of the kinds the render defines itself come from their CRDs; the others from kube's rule.
    let crd_plurals: BTreeMap<(String, String), String> = objects
        .iter()
        .filter(|o| o.is_crd())
        .filter_map(|o| {
            let d = &o.data;
            Some((
                (
                    d.pointer("/spec/group")?.as_str()?.to_string(),
                    d.pointer("/spec/names/kind")?.as_str()?.to_string(),
                ),
                d.pointer("/spec/names/plural")?.as_str()?.to_string(),
            ))
        })
        .collect();
    let mut resources: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut add = |group: &str, plural: &str| {
        resources
            .entry(group.to_string())
            .or_default()
            .insert(plural.to_string());
    };
    for (group, plural) in [
        ("", "namespaces"),
        ("", "secrets"),
        ("coordination.k8s.io", "leases"),
        ("apiextensions.k8s.io", "customresourcedefinitions"),
    ] {
        add(group, plural);
    }
    for o in objects {
        let plural = crd_plurals
            .get(&(o.group().to_string(), o.kind().to_string()))
            .cloned()
            .unwrap_or_else(|| {
                let gvk = kube::core::GroupVersionKind::gvk(o.group(), o.version(), o.kind());
                kube::core::ApiResource::from_gvk(&gvk).plural
            });
        add(o.group(), &plural);
    }
    let mut rules: Vec<Value> = resources
        .iter()
        .map(|(group, plurals)| json!({"apiGroups": [group], "resources": plurals, "verbs": KYMA_VERBS}))
        .collect();
    rules.push(json!({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}));
    // Creating a role that grants what the operator lacks needs `escalate` on it, a binding to a role
    // needs `bind` on that role: both only by name, for the roles these modules carry and bind.
    let names = |kinds: &[&str], at: &str| -> BTreeSet<String> {
        objects
            .iter()
            .filter(|o| o.group() == RBAC && kinds.contains(&o.kind()))
            .filter_map(|o| o.data.pointer(at).and_then(Value::as_str).map(str::to_string))
            .collect()
    };
    let by_kind = |kind: &str| -> BTreeSet<String> {
        objects
            .iter()
            .filter(|o| o.group() == RBAC && matches!(o.kind(), "RoleBinding" | "ClusterRoleBinding"))
            .filter(|o| o.data.pointer("/roleRef/kind").and_then(Value::as_str) == Some(kind))
            .filter_map(|o| {
                o.data
                    .pointer("/roleRef/name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect()
    };
    for (resource, kind) in [("roles", "Role"), ("clusterroles", "ClusterRole")] {
        let carried = names(&[kind], "/metadata/name");
        if !carried.is_empty() {
            rules.push(json!({"apiGroups": [RBAC], "resources": [resource], "verbs": ["escalate"], "resourceNames": carried}));
        }
        let bound = by_kind(kind);
        if !bound.is_empty() {
            rules.push(json!({"apiGroups": [RBAC], "resources": [resource], "verbs": ["bind"], "resourceNames": bound}));
        }
    }
    rules
}

const RBAC: &str = "rbac.authorization.k8s.io";

/// What every operator needs on the cluster it watches: its `Kyma` objects, the Secrets they name (read
/// only), its own CRD (kept up to date by name), and Events.
fn operator_rules() -> Vec<Value> {
    let crds = [api::PLURAL, api::ROLLOUT_PLURAL].map(|p| format!("{p}.{}", api::GROUP));
    vec![
        json!({"apiGroups": [api::GROUP], "resources": [api::PLURAL], "verbs": ["get", "list", "watch", "patch", "update"]}),
        json!({"apiGroups": [api::GROUP], "resources": [format!("{}/status", api::PLURAL)], "verbs": ["get", "patch", "update"]}),
        json!({"apiGroups": [api::GROUP], "resources": [api::ROLLOUT_PLURAL], "verbs": ["get", "list", "watch"]}),
        json!({"apiGroups": [api::GROUP], "resources": [format!("{}/status", api::ROLLOUT_PLURAL)], "verbs": ["get", "patch"]}),
        json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}),
        json!({"apiGroups": ["apiextensions.k8s.io"], "resources": ["customresourcedefinitions"], "verbs": ["get", "patch"], "resourceNames": crds}),
        json!({"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch"]}),
    ]
}

/// In the operator's own namespace: shard Leases, the central overrides, and the ModuleReleaseMetas
/// that map channels.
fn namespace_rules() -> Vec<Value> {
    vec![
        json!({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["get", "list", "watch", "create", "update", "patch"]}),
        json!({"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}),
        json!({"apiGroups": ["operator.kyma-project.io"], "resources": ["modulereleasemetas"], "verbs": ["get", "list", "watch"]}),
    ]
}

pub fn objects(image: &str, ns: &str, profile: &Profile) -> Vec<Value> {
    let name = "kyma-operator";
    // ClusterRoles are cluster-wide: one per operator namespace, so two operators never share one.
    let cluster_role = if ns == name {
        name.to_string()
    } else {
        format!("{name}-{ns}")
    };
    let labels = json!({"app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "kyma"});
    let mut rules = operator_rules();
    if let Profile::Modules { rules: extra, .. } = profile {
        rules.extend(extra.iter().cloned());
    }
    let subject = json!([{"kind": "ServiceAccount", "name": name, "namespace": ns}]);
    vec![
        api::crd(),
        api::rollout_crd(),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": name, "namespace": ns, "labels": labels}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": cluster_role, "labels": labels},
               "rules": rules}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": cluster_role, "labels": labels},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": cluster_role},
               "subjects": subject}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
               "metadata": {"name": name, "namespace": ns, "labels": labels},
               "rules": namespace_rules()}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": name, "namespace": ns, "labels": labels},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
               "subjects": subject}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": name,
                    "securityContext": {"runAsNonRoot": true, "runAsUser": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{
                        "name": "operator",
                        "image": image,
                        "args": ["operator", "run", "--leader-election", "--operator-namespace", ns],
                        "env": [{"name": "HOME", "value": "/tmp"}],
                        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"memory": "512Mi"}},
                        "securityContext": {"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "capabilities": {"drop": ["ALL"]}},
                        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}]
                    }],
                    "volumes": [{"name": "tmp", "emptyDir": {}}]
                }
            }
        }}),
    ]
}

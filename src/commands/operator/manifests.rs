//! `kyma operator manifests`: what installs the operator in a cluster — its CRD, a namespace, a service
//! account with its RBAC, and a Deployment of this same static binary on a `scratch` base.

use serde_json::{Value, json};

use super::api;
use crate::cli::OperatorManifestsArgs;

pub fn print(args: &OperatorManifestsArgs) -> anyhow::Result<()> {
    let docs = objects(&args.image, &args.namespace);
    let text: Vec<String> = docs.iter().map(crate::yaml::to_string).collect();
    println!("{}", HEADER.trim_end());
    print!("{}", text.join("---\n"));
    Ok(())
}

const HEADER: &str = "\
# kyma operator: apply with `kubectl apply --server-side -f -`.
# Single-cluster mode: the operator installs modules here, CRDs and RBAC included, and Kubernetes lets
# only a holder of rights grant them, so its ClusterRole below is broad. Control-plane mode: run it in the
# control plane; each user cluster is reached through the kubeconfig Secret a Kyma object names and gets
# nothing but the modules (no service account of ours).
---
";

fn objects(image: &str, ns: &str) -> Vec<Value> {
    let name = "kyma-operator";
    let labels = json!({"app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "kyma"});
    vec![
        api::crd(),
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}}),
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {"name": name, "namespace": ns, "labels": labels}}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": name, "labels": labels},
               "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": name, "labels": labels},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
               "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}]}),
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

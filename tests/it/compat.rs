//! The compatibility lane: what a Kubernetes 1.20 API server does differently from today's (1.37), each
//! provoked on both real servers side by side. The engine's error classes and the defaults kyma fills
//! rest on these answers; when a server changes them, these tests say so first.

use serde_json::{Value, json};

use kyma::cluster::ApplyOptions;

use crate::deploy::{module, module_yaml};
use crate::support::*;

/// Server-side apply of `obj` on the cluster `c`: Ok, or the server's (code, message).
async fn apply(c: &kyma::cluster::Cluster, api_version: &str, kind: &str, obj: &Value) -> Result<(), (Option<u16>, String)> {
    let r = resource(c, api_version, kind);
    c.apply(&r, obj, ApplyOptions::default()).await.map(|_| ()).map_err(|e| (e.code, e.message))
}

async fn beds() -> (kyma::cluster::Cluster, kyma::cluster::Cluster) {
    let old = cluster_at(&compat_kubeconfig()).await;
    let new = cluster().await;
    assert!(old.server_version.starts_with("v1.20."), "the compatibility bed runs {}", old.server_version);
    assert!(!new.server_version.starts_with("v1.20."), "the main bed runs {}", new.server_version);
    (old, new)
}

/// Three manifests from real Kyma modules that 1.20 refuses with a 500 and 1.37 takes as they are.
#[tokio::test]
async fn old_server_quirks_against_today() {
    let _shared = CLUSTER.read().await;
    let (old, new) = beds().await;
    let ns = unique("compat");
    create_namespace(&old, &ns).await;
    create_namespace(&new, &ns).await;

    // A Service port without `protocol`: 1.20's SSA cannot key the associative list.
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "noproto", "namespace": ns},
        "spec": {"selector": {"a": "b"}, "ports": [{"port": 80}]}});
    let (code, msg) = apply(&old, "v1", "Service", &svc).await.unwrap_err();
    assert_eq!(code, Some(500), "{msg}");
    assert!(msg.contains("protocol"), "{msg}");
    apply(&new, "v1", "Service", &svc).await.expect("1.37 defaults the protocol");

    // An integer quantity (`cpu: 1`): 1.20's SSA type-checks it against `string`.
    let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "intcpu", "namespace": ns},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "x"}}, "template": {"metadata": {"labels": {"app": "x"}},
        "spec": {"containers": [{"name": "c", "image": "busybox", "resources": {"limits": {"cpu": 1}}}]}}}});
    let (code, msg) = apply(&old, "apps/v1", "Deployment", &deploy).await.unwrap_err();
    assert_eq!(code, Some(500), "{msg}");
    assert!(msg.contains("expected string"), "{msg}");
    apply(&new, "apps/v1", "Deployment", &deploy).await.expect("1.37 takes an integer quantity");

    // A field the server does not know: webhook `matchConditions` (GA in 1.30).
    let name = format!("{ns}.kyma.test");
    let hook = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name}, "webhooks": [{"name": format!("v.{name}"), "admissionReviewVersions": ["v1"],
        "sideEffects": "None", "failurePolicy": "Ignore", "clientConfig": {"url": "https://127.0.0.1:1/validate"},
        "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["configmaps"],
            "scope": "Namespaced"}],
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}},
        "matchConditions": [{"name": "never", "expression": "false"}]}]});
    let (code, msg) = apply(&old, "admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", &hook).await.unwrap_err();
    assert_eq!(code, Some(500), "{msg}");
    assert!(msg.contains("field not declared in schema"), "{msg}");
    apply(&new, "admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", &hook).await.expect("1.37 knows matchConditions");
    let hooks = resource(&new, "admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration");
    new.delete(&hooks, None, &name).await.unwrap();
    for c in [&old, &new] {
        c.delete(&resource(c, "v1", "Namespace"), None, &ns).await.unwrap();
    }
}

/// A 500 that keeps saying the same thing (1.20: a Service port without `protocol`) fails the module
/// with the server's message long before --timeout; on 1.37 the same module simply applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeating_500_is_not_transient() {
    let _shared = CLUSTER.read().await;
    let ns = unique("svc500");
    let cat = catalog(&[
        ("svc/module.yaml", module_yaml("svc", &ns)),
        ("svc/templates/svc.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: noproto\nspec:\n  selector: {a: b}\n  ports:\n  - port: 80\n".into()),
    ]);
    let dir = cat.path().to_str().unwrap();
    let (rc, doc, stderr) = deploy_at(&compat_kubeconfig(), &["--catalog", dir, "--modules", "svc", "--timeout", "120s"]);
    let svc = module(&doc, "svc");
    assert_eq!(rc, 1, "{doc:#}\n{stderr}");
    assert_eq!(svc["state"], "Failed");
    assert!(svc["blocking"][0]["reason"].as_str().unwrap().contains("protocol"), "{svc:#}");
    assert!(svc["durationMs"].as_u64().unwrap() < 30_000, "bounded retries, not --timeout: {svc:#}");
    let out = kyma_at(&compat_kubeconfig(), &["undeploy", "--modules", "svc"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));

    let (rc, doc, stderr) = deploy_at(&kubeconfig(), &["--catalog", dir, "--modules", "svc", "--timeout", "60s"]);
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    let out = kyma(&["undeploy", "--modules", "svc"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}


//! The compatibility lane: what a Kubernetes 1.20 API server does differently from today's (1.37), each
//! provoked on both real servers side by side. The engine's error classes and the defaults kyma fills
//! rest on these answers; when a server changes them, these tests say so first.

use serde_json::{Value, json};

use kyma::testkit::cluster::ApplyOptions;

use crate::deploy::{MODULE, module, module_yaml};
use crate::support::*;

/// Server-side apply of `obj` on the cluster `c`: Ok, or the server's (code, message).
async fn apply(
    c: &kyma::testkit::cluster::Cluster,
    api_version: &str,
    kind: &str,
    obj: &Value,
) -> Result<(), (Option<u16>, String)> {
    let r = resource(c, api_version, kind);
    c.apply(&r, obj, ApplyOptions::default())
        .await
        .map(|_| ())
        .map_err(|e| (e.code, e.message))
}

async fn beds() -> (kyma::testkit::cluster::Cluster, kyma::testkit::cluster::Cluster) {
    let old = cluster_at(&compat_kubeconfig()).await;
    let new = cluster().await;
    assert!(
        old.server_version.starts_with("v1.20."),
        "the compatibility bed runs {}",
        old.server_version
    );
    assert!(
        !new.server_version.starts_with("v1.20."),
        "the main bed runs {}",
        new.server_version
    );
    (old, new)
}

/// Three manifests from real Kyma modules that 1.20 refuses with a 500 and 1.37 takes as they are.
#[tokio::test]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
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
    apply(&new, "v1", "Service", &svc)
        .await
        .expect("1.37 defaults the protocol");

    // An integer quantity (`cpu: 1`): 1.20's SSA type-checks it against `string`.
    let deploy = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "intcpu", "namespace": ns},
        "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "x"}}, "template": {"metadata": {"labels": {"app": "x"}},
        "spec": {"containers": [{"name": "c", "image": "busybox", "resources": {"limits": {"cpu": 1}}}]}}}});
    let (code, msg) = apply(&old, "apps/v1", "Deployment", &deploy).await.unwrap_err();
    assert_eq!(code, Some(500), "{msg}");
    assert!(msg.contains("expected string"), "{msg}");
    apply(&new, "apps/v1", "Deployment", &deploy)
        .await
        .expect("1.37 takes an integer quantity");

    // A field the server does not know: webhook `matchConditions` (GA in 1.30).
    let name = format!("{ns}.kyma.test");
    let hook = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": name}, "webhooks": [{"name": format!("v.{name}"), "admissionReviewVersions": ["v1"],
        "sideEffects": "None", "failurePolicy": "Ignore", "clientConfig": {"url": "https://127.0.0.1:1/validate"},
        "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["configmaps"],
            "scope": "Namespaced"}],
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}},
        "matchConditions": [{"name": "never", "expression": "false"}]}]});
    let (code, msg) = apply(
        &old,
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        &hook,
    )
    .await
    .unwrap_err();
    assert_eq!(code, Some(500), "{msg}");
    assert!(msg.contains("field not declared in schema"), "{msg}");
    apply(
        &new,
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
        &hook,
    )
    .await
    .expect("1.37 knows matchConditions");
    let hooks = resource(
        &new,
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
    );
    new.delete(&hooks, None, &name).await.unwrap();
    for c in [&old, &new] {
        c.delete(&resource(c, "v1", "Namespace"), None, &ns)
            .await
            .unwrap();
    }
}

/// What 1.20 refused above passes through kyma, which fills the defaults its server-side apply needs
/// (`protocol: TCP`, quantities as strings); what 1.20 cannot know stops its module before anything is
/// applied, in one sentence; a field no check foresaw fails at the server with the same kind of sentence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn old_server_quirks_through_kyma() {
    let _shared = CLUSTER.read().await;
    let old = cluster_at(&compat_kubeconfig()).await;
    let ns = unique("quirks");
    let cat = catalog(&[
        ("filled/module.yaml", module_yaml("filled", &ns)),
        ("filled/templates/svc.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: noproto\nspec:\n  selector: {a: b}\n  ports:\n  - port: 80\n".into()),
        ("filled/templates/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: intcpu\nspec:\n  replicas: 0\n  selector:\n    matchLabels: {app: x}\n  template:\n    metadata:\n      labels: {app: x}\n    spec:\n      containers:\n      - name: c\n        image: busybox\n        ports:\n        - containerPort: 8080\n        resources:\n          limits: {cpu: 1, memory: 64Mi}\n".into()),
        ("hooked/module.yaml", format!("{MODULE}name: hooked\nnamespace: {ns}-h\n")),
        ("hooked/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: never-applied\n".into()),
        ("hooked/templates/hook.yaml", format!("apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata:\n  name: {ns}.kyma.test\nwebhooks:\n- name: v.{ns}.kyma.test\n  admissionReviewVersions: [v1]\n  sideEffects: None\n  failurePolicy: Ignore\n  clientConfig: {{url: 'https://127.0.0.1:1/x'}}\n  rules: [{{apiGroups: [''], apiVersions: [v1], operations: [CREATE], resources: [secrets]}}]\n  matchConditions: [{{name: never, expression: 'false'}}]\n")),
        ("unforeseen/module.yaml", format!("{MODULE}name: unforeseen\nnamespace: {ns}-u\n")),
        ("unforeseen/templates/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: linux-only\nspec:\n  replicas: 0\n  selector:\n    matchLabels: {app: y}\n  template:\n    metadata:\n      labels: {app: y}\n    spec:\n      os: {name: linux}\n      containers:\n      - name: c\n        image: busybox\n".into()),
    ]);
    let dir = cat.path().to_str().unwrap();
    let (rc, doc, stderr) = deploy_at(
        &compat_kubeconfig(),
        &[
            "--catalog",
            dir,
            "--modules",
            "filled,hooked,unforeseen",
            "--timeout",
            "60s",
        ],
    );
    assert_eq!(rc, 1, "{doc:#}\n{stderr}");
    assert_eq!(module(&doc, "filled")["state"], "Ready", "{doc:#}");
    let hooked = module(&doc, "hooked");
    assert_eq!(hooked["state"], "Failed");
    assert_eq!(
        hooked["blocking"][0]["reason"],
        "hooked 1.0.0 needs Kubernetes ≥ 1.28 (webhooks[].matchConditions); this cluster runs 1.20",
        "{hooked:#}"
    );
    assert!(
        old.get(
            &resource(&old, "v1", "ConfigMap"),
            Some(&format!("{ns}-h")),
            "never-applied"
        )
        .await
        .unwrap()
        .is_none(),
        "nothing of the refused module was applied"
    );
    let unforeseen = module(&doc, "unforeseen");
    assert_eq!(unforeseen["state"], "Failed");
    let reason = unforeseen["blocking"][0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(
            "this cluster (v1.20.2) does not know a field of this object (.spec.template.spec.os"
        ),
        "{reason}"
    );
    assert!(
        reason.ends_with("the module needs a newer Kubernetes"),
        "{reason}"
    );
    assert!(
        unforeseen["durationMs"].as_u64().unwrap() < 10_000,
        "failed at once, not by rounds: {unforeseen:#}"
    );
    let svc = old
        .get(&resource(&old, "v1", "Service"), Some(&ns), "noproto")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(svc["spec"]["ports"][0]["protocol"], "TCP");
    let out = kyma_at(
        &compat_kubeconfig(),
        &["undeploy", "--modules", "filled,unforeseen"],
    );
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// Real modules on 1.20: each one that needs more than 1.20 is stopped before it is applied, saying
/// what it needs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn real_modules_too_new_for_the_server_say_so_before_applying() {
    let _shared = CLUSTER.read().await;
    let (mirror, _) = serve_dir(real_modules_mirror()).await;
    let (rc, doc, stderr) = tokio::task::spawn_blocking(move || {
        deploy_at(
            &compat_kubeconfig(),
            &[
                "--mirror",
                &mirror,
                "--modules",
                "api-gateway,istio",
                "--timeout",
                "60s",
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(rc, 1, "{doc:#}\n{stderr}");
    assert_eq!(
        module(&doc, "api-gateway")["blocking"][0]["reason"],
        "api-gateway 3.10.0 needs Kubernetes ≥ 1.28 (webhooks[].matchConditions); this cluster runs 1.20"
    );
    assert_eq!(
        module(&doc, "istio")["blocking"][0]["reason"],
        "istio 1.30.0 needs Kubernetes ≥ 1.25 (CRD validation rules, x-kubernetes-validations); this cluster runs 1.20"
    );
    let old = cluster_at(&compat_kubeconfig()).await;
    let crds = resource(&old, "apiextensions.k8s.io/v1", "CustomResourceDefinition");
    assert!(
        old.get(&crds, None, "istios.operator.kyma-project.io")
            .await
            .unwrap()
            .is_none(),
        "nothing applied"
    );
}

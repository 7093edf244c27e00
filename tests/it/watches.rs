//! Readiness watches as the API server sees them: one per kind and namespace of a module, not one per
//! object; a watch the server refuses is reported and retried with backoff, not silently spun.

use serde_json::{Value, json};

use crate::deploy::{module, module_yaml};
use crate::support::*;

/// 300 ConfigMaps and 50 Deployments in one namespace: every Deployment waits for its rollout, on one
/// shared watch. Counted at a loopback proxy in front of the bed, so it is the server's count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn waiting_objects_share_one_watch_per_kind_and_namespace() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let (m, ns) = (unique("many"), unique("many-ns"));
    let (configmaps, deployments) = (300, 50);
    let mut objects = String::new();
    for n in 0..configmaps {
        objects.push_str(&format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{n}\ndata:\n  n: \"{n}\"\n---\n"
        ));
    }
    for n in 0..deployments {
        objects.push_str(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{n}\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: d{n}}}\n  template:\n    metadata:\n      labels: {{app: d{n}}}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n        resources:\n          requests: {{cpu: 10m, memory: 8Mi}}\n---\n"
        ));
    }
    let cat = catalog(&[
        (&format!("{m}/module.yaml"), module_yaml(&m, &ns)),
        (&format!("{m}/templates/all.yaml"), objects),
    ]);
    let proxy = PathProxy::start(&kubeconfig(), &format!("/clusters/{ns}"), &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = proxy.kubeconfig(dir.path(), "counted");
    let (exit, doc, stderr) = tokio::task::spawn_blocking({
        let (cat, m) = (cat.path().to_str().unwrap().to_string(), m.clone());
        move || deploy_at(&kc, &["--catalog", &cat, "--modules", &m, "--timeout", "120s"])
    })
    .await
    .unwrap();
    assert_eq!(exit, 0, "{doc:#}\n{stderr}");
    assert_eq!(module(&doc, &m)["state"], "Ready", "{doc:#}");
    // Readiness watches only: a run waiting for the cluster lock (other tests hold it) watches its Lease.
    let watches: Vec<String> = proxy
        .seen()
        .into_iter()
        .filter(|p| p.contains("watch=true") && !p.contains("/coordination.k8s.io/"))
        .collect();
    figure(format!(
        "readiness watches: {} watch requests for {} objects ({} waiting Deployments) in 1 namespace",
        watches.len(),
        configmaps + deployments,
        deployments
    ));
    // Two kinds in one namespace; a watch the server ends early may be started again.
    assert!(
        !watches.is_empty() && watches.len() <= 4,
        "{} watch requests for {deployments} waiting Deployments:\n{}",
        watches.len(),
        watches.join("\n")
    );
    assert!(
        watches
            .iter()
            .all(|w| w.contains("labelSelector=applyset.kubernetes.io%2Fpart-of")),
        "filtered by the module's ApplySet label: {watches:#?}"
    );
    let deploy_kind = resource(&c, "apps/v1", "Deployment");
    let live = c.list(&deploy_kind, Some(&ns), None).await.unwrap();
    assert_eq!(live.len(), deployments);
    assert!(
        live.iter().all(|d| d["status"]["availableReplicas"] == 1),
        "every Deployment rolled out"
    );
    let out = kyma(&["undeploy", "--modules", &m]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// A user who may apply Deployments but not watch them: the deploy times out naming the refused watch
/// (in the event stream, and as the Deployment's reason), and the watch is retried with backoff.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_refused_watch_is_reported_and_becomes_the_reason() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let (m, ns) = (unique("nowatch"), unique("nowatch-ns"));
    let user = unique("no-watch-user");
    let who = Impersonated::new(
        &c,
        &user,
        json!([
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "create", "update", "patch", "delete"]},
            {"apiGroups": ["coordination.k8s.io"], "resources": ["*"], "verbs": ["*"]},
            {"apiGroups": [""], "resources": ["secrets", "namespaces"], "verbs": ["*"]},
        ]),
    )
    .await;
    // RBAC takes a moment to apply a new binding.
    let as_user = cluster_at(&who.kubeconfig).await;
    let namespaces = resource(&c, "v1", "Namespace");
    eventually(std::time::Duration::from_secs(10), || {
        let (as_user, namespaces) = (&as_user, &namespaces);
        async move { as_user.get(namespaces, None, "default").await.ok() }
    })
    .await
    .expect("the role applies");
    let pool = NodePool::new(&c, &ns);
    let cat = catalog(&[
        (&format!("{m}/module.yaml"), module_yaml(&m, &ns)),
        (
            &format!("{m}/templates/deploy.yaml"),
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      nodeSelector: {}\n      containers:\n      - name: web\n        image: nginx:1.27\n",
                pool.selector()
            ),
        ),
    ]);
    let out = tokio::task::spawn_blocking({
        let (kc, cat, m) = (
            who.kubeconfig.clone(),
            cat.path().to_str().unwrap().to_string(),
            m.clone(),
        );
        move || {
            kyma_at(
                &kc,
                &[
                    "deploy",
                    "-o",
                    "json",
                    "--events",
                    "ndjson",
                    "--catalog",
                    &cat,
                    "--modules",
                    &m,
                    "--timeout",
                    "8s",
                ],
            )
        }
    })
    .await
    .unwrap();
    who.remove(&c).await;
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 3, "{stdout}\n{stderr}");
    let errors: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["event"] == "watchError")
        .collect();
    assert!(!errors.is_empty(), "no watchError event:\n{stdout}\n{stderr}");
    assert_eq!(errors[0]["module"], m.as_str());
    assert_eq!(errors[0]["kind"], "Deployment");
    assert_eq!(errors[0]["namespace"], ns.as_str());
    assert!(
        errors[0]["message"].as_str().unwrap().contains("forbidden"),
        "{errors:#?}"
    );
    // The same refusal after each backoff is said once, not once per retry.
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let doc_start = stdout.rfind("\n{\n").map(|p| p + 1).unwrap_or(0);
    let doc: Value = serde_json::from_str(&stdout[doc_start..]).unwrap();
    let app = module(&doc, &m);
    assert_eq!(app["state"], "TimedOut", "{doc:#}");
    let reason = app["blocking"][0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("watching Deployment failed") && reason.contains("forbidden"),
        "{app:#}"
    );
    let out = kyma(&["undeploy", "--modules", &m]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

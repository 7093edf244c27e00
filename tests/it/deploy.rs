//! `kyma deploy` against the real test bed: ordering without help, webhooks that come up late, invalid
//! objects, readiness that needs a kubelet, idempotence, dry run, interruption, error classes.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

/// Run `kyma deploy … -o json` and return exit code, the JSON document and stderr.
fn deploy(args: &[&str]) -> (i32, Value, String) {
    deploy_at(&kubeconfig(), args)
}

pub(crate) fn module<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["modules"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["name"] == name))
        .unwrap_or_else(|| panic!("no module {name} in {doc}"))
}

pub(crate) const MODULE: &str = "apiVersion: kyma.module/v1\nversion: 1.0.0\n";

pub(crate) fn module_yaml(name: &str, ns: &str) -> String {
    format!("{MODULE}name: {name}\nnamespace: {ns}\n")
}

/// The built-in modules that depend on each other deploy in one command: custom resources listed before
/// their CRDs, a Gateway (istio's kind) in istio's namespace from api-gateway, eventing's CR selecting
/// nats. A re-run changes nothing on the server. This is the only test that uses the built-in
/// namespaces (istio-system, kyma-system).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn builtin_modules_with_relations_deploy_in_one_command_and_rerun_changes_nothing() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let (code1, doc, stderr) = deploy(&[
        "--catalog",
        FIXTURES,
        "--modules",
        "api-gateway,eventing,nats,istio",
        "--timeout",
        "120s",
        "--events",
        "ndjson",
    ]);
    assert_eq!(code1, 0, "{doc:#}\n{stderr}");
    for m in ["istio", "api-gateway", "eventing", "nats"] {
        assert_eq!(module(&doc, m)["state"], "Ready", "{m}: {doc:#}");
    }
    let gw = c.discovery.resolve("networking.istio.io/v1beta1", "Gateway");
    let gw = match gw {
        Some(r) => r,
        None => {
            c.discovery
                .refresh(&c, "networking.istio.io/v1beta1")
                .await
                .unwrap();
            resource(&c, "networking.istio.io/v1beta1", "Gateway")
        }
    };
    let live = c
        .get(&gw, Some("istio-system"), "kyma-gateway")
        .await
        .unwrap()
        .expect("the Gateway exists");
    assert_eq!(live["spec"]["servers"][0]["hosts"][0], "*.local.kyma.dev");
    c.discovery
        .refresh(&c, "operator.kyma-project.io/v1alpha1")
        .await
        .unwrap();
    let ev = resource(&c, "operator.kyma-project.io/v1alpha1", "Eventing");
    let ev = c
        .get(&ev, Some("kyma-system"), "default")
        .await
        .unwrap()
        .expect("the Eventing CR exists");
    assert_eq!(ev["spec"]["backend"]["type"], "NATS");

    // Idempotence: the same deploy again leaves every object's resourceVersion as it was.
    let rendered = text(&kyma(&[
        "render",
        "--catalog",
        FIXTURES,
        "--modules",
        "api-gateway,eventing,nats,istio",
    ]))
    .0;
    let objects = kyma::testkit::yaml::parse_all(&rendered).unwrap();
    let versions = |c: kyma::testkit::cluster::Cluster, objects: Vec<(usize, Value)>| async move {
        let mut out = Vec::new();
        for (_, o) in objects {
            let r = c
                .discovery
                .resolve(o["apiVersion"].as_str().unwrap(), o["kind"].as_str().unwrap())
                .unwrap();
            let live = c
                .get(
                    &r,
                    o["metadata"]["namespace"].as_str(),
                    o["metadata"]["name"].as_str().unwrap(),
                )
                .await
                .unwrap()
                .unwrap();
            out.push((
                o["kind"].to_string(),
                o["metadata"]["name"].to_string(),
                live["metadata"]["resourceVersion"].clone(),
            ));
        }
        out
    };
    let before = versions(c.clone(), objects.clone()).await;
    // --reapply sends every object again: server-side apply of unchanged objects must be a no-op.
    let (code2, doc2, stderr2) = deploy(&[
        "--catalog",
        FIXTURES,
        "--modules",
        "api-gateway,eventing,nats,istio",
        "--timeout",
        "60s",
        "--reapply",
    ]);
    assert_eq!(code2, 0, "{doc2:#}\n{stderr2}");
    assert_eq!(module(&doc2, "istio")["state"], "Ready", "{doc2:#}");
    // A plain re-run recognises the unchanged modules from their inventories and skips them.
    let (code3, doc3, stderr3) = deploy(&[
        "--catalog",
        FIXTURES,
        "--modules",
        "api-gateway,eventing,nats,istio",
        "--timeout",
        "60s",
    ]);
    assert_eq!(code3, 0, "{doc3:#}\n{stderr3}");
    for m in ["istio", "api-gateway", "eventing", "nats"] {
        assert_eq!(module(&doc3, m)["state"], "Skipped", "{m}: {doc3:#}");
    }
    let after = versions(c.clone(), objects).await;
    assert_eq!(before.len(), after.len());
    assert_eq!(before, after, "a re-run must not change any object");
    // These fixtures share names (and CRDs) with the real modules: leave nothing for other tests.
    let out = kyma(&["undeploy", "--modules", "api-gateway,eventing,nats,istio"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// A validating webhook that refuses connections for its first ~10 s holds the matching objects back
/// by rounds; then the deploy succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_webhook_that_starts_late_delays_objects_by_rounds_then_deploy_succeeds() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("hook");
    let label = ns.clone();
    let (open, opened) = tokio::sync::oneshot::channel();
    let (port, ca_pem) = crate::webhook::serve_when(opened).await;
    let hook_name = format!("{ns}.kyma.test");
    let vwc = resource(
        &c,
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
    );
    let config = json!({
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": hook_name},
        "webhooks": [{
            "name": hook_name,
            "clientConfig": {"url": format!("https://127.0.0.1:{port}/validate"), "caBundle": base64(&ca_pem)},
            "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["configmaps"]}],
            "namespaceSelector": {"matchLabels": {"kyma-test-hook": label}},
            "failurePolicy": "Fail",
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
            "timeoutSeconds": 5
        }]
    });
    c.apply(&vwc, &config, Default::default()).await.unwrap();
    let cat = catalog(&[
        ("hooked/module.yaml", module_yaml("hooked", &ns)),
        ("hooked/templates/ns.yaml", format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    kyma-test-hook: {label}\n")),
        ("hooked/templates/cm.yaml", "{% for i in range(end=3) %}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: guarded-{{ i }}\ndata:\n  a: b\n{% endfor %}\n".into()),
    ]);
    let run = {
        let dir = cat.path().to_str().unwrap().to_string();
        tokio::task::spawn_blocking(move || {
            let out = kyma(&[
                "deploy",
                "--catalog",
                &dir,
                "--modules",
                "hooked",
                "--timeout",
                "90s",
                "--events",
                "ndjson",
                "-o",
                "json",
            ]);
            (out, Instant::now())
        })
    };
    // The deploy may first queue for the cluster lock: the webhook stays down for 10 s from the moment
    // the deploy has really started (its namespace exists).
    let nsr = resource(&c, "v1", "Namespace");
    assert!(
        eventually(Duration::from_secs(240), || async {
            c.get(&nsr, None, &ns).await.ok().flatten()
        })
        .await
        .is_some(),
        "the deploy never started"
    );
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs(10)).await;
    let _ = open.send(());
    let (out, finished) = run.await.unwrap();
    let elapsed = finished - start;
    let (stdout, stderr) = text(&out);
    c.delete(&vwc, None, &hook_name).await.unwrap();
    assert_eq!(code(&out), 0, "{stdout}\n{stderr}");
    let retries: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["event"] == "objectRetry")
        .collect();
    assert!(
        !retries.is_empty(),
        "expected retries while the webhook was down:\n{stdout}"
    );
    assert!(
        retries.iter().all(|r| r["class"] == "webhook-unavailable"),
        "{retries:#?}"
    );
    assert!(
        retries
            .iter()
            .all(|r| r["object"].as_str().unwrap().starts_with("ConfigMap/")),
        "only the guarded objects wait: {retries:#?}"
    );
    assert!(
        elapsed >= Duration::from_secs(8),
        "the webhook was down for 10 s, deploy took {elapsed:?}"
    );
    let cm = resource(&c, "v1", "ConfigMap");
    assert!(c.get(&cm, Some(&ns), "guarded-2").await.unwrap().is_some());
    let summary: Value = serde_json::from_str(&stdout[stdout.find("{\n").unwrap()..]).unwrap();
    assert!(
        module(&summary, "hooked")["rounds"].as_u64().unwrap() >= 2,
        "{summary:#}"
    );
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// An invalid object fails its module at once, with the server's message and the template it came
/// from; the other module still becomes Ready; exit code 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn an_invalid_object_fails_its_module_at_once_and_others_still_succeed() {
    let _shared = CLUSTER.read().await;
    let ns_bad = unique("bad");
    let ns_good = unique("good");
    let cat = catalog(&[
        ("broken/module.yaml", module_yaml("broken", &ns_bad)),
        ("broken/templates/ok.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n".into()),
        ("broken/templates/workload.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: negative\nspec:\n  replicas: -1\n  selector:\n    matchLabels: {a: b}\n  template:\n    metadata:\n      labels: {a: b}\n    spec:\n      containers:\n      - name: c\n        image: busybox\n".into()),
        ("healthy/module.yaml", module_yaml("healthy", &ns_good)),
        ("healthy/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fine\n".into()),
    ]);
    let (code, doc, stderr) = deploy(&[
        "--catalog",
        cat.path().to_str().unwrap(),
        "--modules",
        "broken,healthy",
        "--timeout",
        "60s",
    ]);
    assert_eq!(code, 1, "{doc:#}\n{stderr}");
    let broken = module(&doc, "broken");
    // The module's own time (the run may first have queued for the cluster lock).
    assert!(
        broken["durationMs"].as_u64().unwrap() < 5_000,
        "failed at once, not after retries: {broken:#}"
    );
    assert_eq!(broken["state"], "Failed");
    assert_eq!(broken["rounds"], 1, "invalid is not retried: {broken:#}");
    let b = &broken["blocking"][0];
    assert_eq!(b["object"], format!("Deployment.apps/{ns_bad}/negative"));
    assert!(
        b["reason"]
            .as_str()
            .unwrap()
            .contains("must be greater than or equal to 0"),
        "{b:#}"
    );
    assert!(
        b["origin"]
            .as_str()
            .unwrap()
            .ends_with("broken/templates/workload.yaml (document 1)"),
        "{b:#}"
    );
    assert_eq!(module(&doc, "healthy")["state"], "Ready");
    // The human table names the object, the reason and the template.
    let out = kyma(&[
        "deploy",
        "--catalog",
        cat.path().to_str().unwrap(),
        "--modules",
        "broken,healthy",
        "--timeout",
        "60s",
    ]);
    let table = text(&out).0;
    assert!(
        table.contains("broken") && table.contains("Failed") && table.contains("workload.yaml"),
        "{table}"
    );
}

/// Readiness is computed from a real rollout: Deployment -> ReplicaSet -> Pods -> scheduled by
/// kube-scheduler -> Running/Ready (kwok) -> Available. While no Node can take the Pods they stay Pending
/// and the deploy times out naming the Deployment; once Nodes open up (3 s into the second run) it
/// becomes Ready, and not before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn deployment_is_ready_only_when_its_pods_are_and_times_out_while_they_cannot_run() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("ready");
    let pool = NodePool::new(&c, &ns);
    let cat = catalog(&[
        ("app/module.yaml", module_yaml("app", &ns)),
        (
            "app/templates/deploy.yaml",
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      nodeSelector: {}\n      containers:\n      - name: web\n        image: nginx:1.27\n",
                pool.selector()
            ),
        ),
    ]);
    // No Node matches: the Pods stay Pending and the deploy times out naming the Deployment.
    let (code, doc, stderr) = deploy(&[
        "--catalog",
        cat.path().to_str().unwrap(),
        "--modules",
        "app",
        "--timeout",
        "6s",
    ]);
    assert_eq!(code, 3, "{doc:#}\n{stderr}");
    let app = module(&doc, "app");
    assert_eq!(app["state"], "TimedOut");
    assert_eq!(app["blocking"][0]["object"], format!("Deployment.apps/{ns}/web"));
    assert!(
        app["blocking"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("0/2 replicas ready"),
        "{app:#}"
    );
    let pods = resource(&c, "v1", "Pod");
    let pending = c.list(&pods, Some(&ns), None).await.unwrap();
    assert_eq!(pending.len(), 2, "the ReplicaSet created both Pods");
    assert!(
        pending
            .iter()
            .all(|p| p["status"]["phase"] == "Pending" && p["spec"]["nodeName"].is_null()),
        "unscheduled: {pending:#?}"
    );

    // Nodes open 3 s in: scheduled, Running, Ready, Available; the deploy is Ready, and not before.
    let opener = {
        let pool = NodePool::new(&c, &ns);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            pool.open().await;
        })
    };
    let start = Instant::now();
    let (code, doc, stderr) = tokio::task::spawn_blocking({
        let path = cat.path().to_str().unwrap().to_string();
        move || deploy(&["--catalog", &path, "--modules", "app", "--timeout", "60s"])
    })
    .await
    .unwrap();
    opener.await.unwrap();
    pool.close().await;
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    assert_eq!(module(&doc, "app")["state"], "Ready");
    assert!(
        start.elapsed() >= Duration::from_secs(3),
        "Ready before any pod was: {:?}",
        start.elapsed()
    );
    let deployments = resource(&c, "apps/v1", "Deployment");
    let live = c.get(&deployments, Some(&ns), "web").await.unwrap().unwrap();
    assert_eq!(live["status"]["availableReplicas"], 2, "{:#}", live["status"]);
    let running = c.list(&pods, Some(&ns), None).await.unwrap();
    for p in &running {
        assert_eq!(p["status"]["phase"], "Running", "{p:#}");
        assert!(
            p["spec"]["nodeName"]
                .as_str()
                .unwrap()
                .starts_with("kyma-bed-node-"),
            "bound by the scheduler: {p:#}"
        );
    }
}

/// --dry-run goes through the server (validation, admission) but persists nothing, custom resources
/// of a CRD that does not exist yet included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn dry_run_persists_nothing() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("dry");
    let group = format!("{ns}.kyma.test");
    let crd = format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.{group}\nspec:\n  group: {group}\n  scope: Namespaced\n  names: {{kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}\n"
    );
    let cat = catalog(&[
        ("dry/module.yaml", module_yaml("dry", &ns)),
        (
            "dry/templates/a-cr.yaml",
            format!("apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: w\n"),
        ),
        ("dry/templates/b-crd.yaml", crd),
        (
            "dry/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n".into(),
        ),
    ]);
    let (code, doc, stderr) = deploy(&[
        "--catalog",
        cat.path().to_str().unwrap(),
        "--modules",
        "dry",
        "--dry-run",
    ]);
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    assert_eq!(doc["dryRun"], true);
    assert_eq!(module(&doc, "dry")["state"], "Applied");
    let nsr = resource(&c, "v1", "Namespace");
    assert!(
        c.get(&nsr, None, &ns).await.unwrap().is_none(),
        "dry run created the namespace"
    );
    let crds = resource(&c, "apiextensions.k8s.io/v1", "CustomResourceDefinition");
    assert!(
        c.get(&crds, None, &format!("widgets.{group}"))
            .await
            .unwrap()
            .is_none(),
        "dry run created the CRD"
    );
}

/// A custom resource before its CRD in template order, and objects in a namespace created by another
/// module: both resolved by the engine, the CR only attempted once the CRD is Established.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn custom_resource_waits_for_its_crd_across_modules_without_a_failed_attempt() {
    let _shared = CLUSTER.read().await;
    let ns = unique("crd");
    let group = format!("{ns}.kyma.test");
    let crd = format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gizmos.{group}\nspec:\n  group: {group}\n  scope: Namespaced\n  names: {{kind: Gizmo, plural: gizmos, singular: gizmo, listKind: GizmoList}}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    subresources: {{status: {{}}}}\n    schema:\n      openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}\n"
    );
    let cat = catalog(&[
        ("provider/module.yaml", module_yaml("provider", &ns)),
        (
            "provider/templates/ns.yaml",
            format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"),
        ),
        ("provider/templates/crd.yaml", crd),
        ("consumer/module.yaml", format!("{MODULE}name: consumer\n")),
        (
            "consumer/templates/a.yaml",
            format!(
                "apiVersion: {group}/v1\nkind: Gizmo\nmetadata:\n  name: g\n  namespace: {ns}\nspec:\n  size: 3\n"
            ),
        ),
    ]);
    let out = kyma(&[
        "deploy",
        "--catalog",
        cat.path().to_str().unwrap(),
        "--modules",
        "consumer,provider",
        "--events",
        "ndjson",
        "-o",
        "json",
        "--timeout",
        "60s",
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stdout}\n{stderr}");
    let events: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let gizmo_retries = events
        .iter()
        .filter(|e| e["event"] == "objectRetry" && e["object"].as_str().unwrap_or("").starts_with("Gizmo."))
        .count();
    assert_eq!(
        gizmo_retries, 0,
        "the Gizmo was sent before its CRD was established: {events:#?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "objectApplied" && e["object"] == format!("Gizmo.{group}/{ns}/g"))
    );
}

/// Modules tolerate each other: a module that waits on another's CRD and namespace goes ahead when
/// that module is skipped (unchanged, already on the server) or refused (it would adopt an object of
/// another module) — it is not left waiting for an apply that never comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_skipped_or_refused_module_does_not_hold_back_one_that_needs_its_crd() {
    let _shared = CLUSTER.read().await;
    let ns = unique("tol");
    let group = format!("{ns}.kyma.test");
    let (provider, consumer, other) = (unique("provider"), unique("consumer"), unique("other"));
    let crd = format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gizmos.{group}\nspec:\n  group: {group}\n  scope: Namespaced\n  names: {{kind: Gizmo, plural: gizmos, singular: gizmo, listKind: GizmoList}}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}\n"
    );
    let cm = |name: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: {ns}\n")
    };
    let gizmo = |size: u32| {
        format!(
            "apiVersion: {group}/v1\nkind: Gizmo\nmetadata:\n  name: g\n  namespace: {ns}\nspec:\n  size: {size}\n"
        )
    };
    let files = |size: u32, provider_takes: bool| {
        let mut f = vec![
            (format!("{provider}/module.yaml"), module_yaml(&provider, &ns)),
            (
                format!("{provider}/templates/ns.yaml"),
                format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"),
            ),
            (format!("{provider}/templates/crd.yaml"), crd.clone()),
            (
                format!("{consumer}/module.yaml"),
                format!("{MODULE}name: {consumer}\n"),
            ),
            (format!("{consumer}/templates/g.yaml"), gizmo(size)),
            (format!("{other}/module.yaml"), format!("{MODULE}name: {other}\n")),
            (format!("{other}/templates/cm.yaml"), cm("taken")),
        ];
        if provider_takes {
            f.push((format!("{provider}/templates/cm.yaml"), cm("taken")));
        }
        f
    };
    let run = |size: u32, provider_takes: bool, modules: String| {
        let owned = files(size, provider_takes);
        let refs: Vec<(&str, String)> = owned.iter().map(|(p, c)| (p.as_str(), c.clone())).collect();
        let cat = catalog(&refs);
        let dir = cat.path().to_str().unwrap().to_string();
        let (rc, doc, stderr) = deploy(&["--catalog", &dir, "--modules", &modules, "--timeout", "30s"]);
        (rc, doc, stderr)
    };

    let all = format!("{provider},{consumer},{other}");
    let (rc, doc, stderr) = run(3, false, all.clone());
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");

    // The consumer changes, the provider does not: the provider is skipped and the Gizmo goes out.
    let (rc, doc, stderr) = run(4, false, format!("{provider},{consumer}"));
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    assert_eq!(module(&doc, &provider)["state"], "Skipped", "{doc:#}");
    assert_eq!(module(&doc, &consumer)["state"], "Ready", "{doc:#}");
    let took = module(&doc, &consumer)["durationMs"].as_u64().unwrap();

    // The provider now renders an object another module owns: refused, nothing of it applied; the
    // consumer's change still lands (the CRD and namespace are on the server).
    let (rc, doc, stderr) = run(5, true, format!("{provider},{consumer}"));
    assert_eq!(rc, 1, "{doc:#}\n{stderr}");
    assert_eq!(module(&doc, &provider)["state"], "Failed", "{doc:#}");
    assert!(
        module(&doc, &provider).to_string().contains("refusing to adopt"),
        "{doc:#}"
    );
    assert_eq!(module(&doc, &consumer)["state"], "Ready", "{doc:#}");
    let c = cluster().await;
    c.discovery.ensure(&c, [format!("{group}/v1")]).await;
    let gizmos = c
        .discovery
        .resolve(&format!("{group}/v1"), "Gizmo")
        .expect("the Gizmo kind is served");
    let live = c.get(&gizmos, Some(&ns), "g").await.unwrap().unwrap();
    assert_eq!(live["spec"]["size"], 5, "{live:#}");
    figure(format!(
        "a changed module beside a skipped one it depends on: Ready {:.1} s after the first apply (--timeout 30s; before the fix it waited all of it)",
        took as f64 / 1000.0
    ));

    let out = kyma(&["undeploy", "--modules", &all, "--timeout", "60s"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// Ctrl-C: in-flight requests finish, the report says what was applied, exit code 130.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn interrupt_stops_cleanly_with_exit_130() {
    let _shared = CLUSTER.read().await;
    let ns = unique("intr");
    let cat = catalog(&[
        ("slow/module.yaml", module_yaml("slow", &ns)),
        ("slow/templates/ns.yaml", format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n")),
        ("slow/templates/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: never-ready\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: x}\n  template:\n    metadata:\n      labels: {app: x}\n    spec:\n      nodeSelector: {\"pool.kyma.test/never\": \"yes\"}\n      containers:\n      - name: x\n        image: busybox\n".into()),
    ]);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kyma"))
        .args([
            "deploy",
            "--catalog",
            cat.path().to_str().unwrap(),
            "--modules",
            "slow",
            "--timeout",
            "60s",
            "-o",
            "json",
            "--wait-for-lock=15m",
        ])
        .env("KUBECONFIG", kubeconfig())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the run is really applying (it may first queue for the cluster lock).
    let c = cluster().await;
    let deployments = resource(&c, "apps/v1", "Deployment");
    let applied = eventually(Duration::from_secs(240), || async {
        c.get(&deployments, Some(&ns), "never-ready").await.ok().flatten()
    })
    .await;
    assert!(applied.is_some(), "the deploy never applied its Deployment");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 130, "{stdout}\n{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    let slow = module(&doc, "slow");
    assert_eq!(slow["state"], "Interrupted");
    assert_eq!(
        slow["applied"], 2,
        "both objects were applied before the interrupt: {slow:#}"
    );
    assert_eq!(doc["interrupted"], true);
}

/// Bad credentials and a wrong CA: one clear error before any work, exit 4, no secret in the output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn unauthorized_and_untrusted_servers_exit_4() {
    let _shared = CLUSTER.read().await;
    let kc = std::fs::read_to_string(kubeconfig()).unwrap();
    let server = kc
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .unwrap()
        .to_string();
    let ca = kc
        .lines()
        .find_map(|l| l.trim().strip_prefix("certificate-authority: "))
        .unwrap()
        .to_string();
    let dir = tempfile::tempdir().unwrap();
    let token_kc = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: bed\n  cluster: {{server: '{server}', certificate-authority: '{ca}'}}\nusers:\n- name: u\n  user: {{token: not-a-real-token-1234}}\ncontexts:\n- name: intruder\n  context: {{cluster: bed, user: u}}\ncurrent-context: intruder\n"
    );
    let p = dir.path().join("token");
    std::fs::write(&p, token_kc).unwrap();
    let out = kyma(&[
        "deploy",
        "--catalog",
        FIXTURES,
        "--modules",
        "keda",
        "--kubeconfig",
        p.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 4, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("context 'intruder'")
            && stderr.contains("refused our credentials")
            && stderr.contains("401"),
        "{stderr}"
    );
    assert!(!stderr.contains("not-a-real-token-1234") && !stdout.contains("not-a-real-token-1234"));

    // A CA that did not sign the server's certificate.
    let other_ca = rcgen::generate_simple_self_signed(vec!["elsewhere".into()])
        .unwrap()
        .cert
        .pem();
    let ca_path = dir.path().join("other-ca.crt");
    std::fs::write(&ca_path, other_ca).unwrap();
    let untrusted = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: bed\n  cluster: {{server: '{server}', certificate-authority: '{}'}}\nusers:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: wrong-ca\n  context: {{cluster: bed, user: u}}\ncurrent-context: wrong-ca\n",
        ca_path.display()
    );
    let p = dir.path().join("untrusted");
    std::fs::write(&p, untrusted).unwrap();
    let out = kyma(&[
        "deploy",
        "--catalog",
        FIXTURES,
        "--modules",
        "keda",
        "--kubeconfig",
        p.to_str().unwrap(),
    ]);
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), 4, "{stderr}");
    assert!(
        stderr.contains("TLS with https://127.0.0.1:")
            && stderr.contains("(context wrong-ca)")
            && stderr.contains("not signed by the CA the kubeconfig names")
            && !stderr.contains("waiting for the cluster"),
        "{stderr}"
    );
}

/// A plain re-deploy of an unchanged module confirms the cluster before it skips: an object deleted by
/// hand, a field kyma owns edited by someone else, and the whole namespace deleted are each applied
/// again, the run exits 0 and the report names what was restored. Untouched, it is still Skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_redeploy_restores_what_was_deleted_or_edited_by_hand() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let (m, ns) = (unique("drift"), unique("drift-ns"));
    let cat = catalog(&[
        (&format!("{m}/module.yaml"), module_yaml(&m, &ns)),
        (
            &format!("{m}/templates/all.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  greeting: hello\n---\n\
             apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n  a: b\n---\n\
             apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - port: 80\n    targetPort: 8080\n---\n\
             apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n        resources:\n          limits: {cpu: 1, memory: 64Mi}\n          requests: {cpu: 0.1}\n".into(),
        ),
    ]);
    let cat_path = cat.path().to_str().unwrap().to_string();
    let run = || deploy(&["--catalog", &cat_path, "--modules", &m, "--timeout", "60s"]);
    let restored = |doc: &Value| -> Vec<(String, String)> {
        module(doc, &m)["restored"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["object"].as_str().unwrap().to_string(),
                    r["drift"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let (code1, doc1, err1) = run();
    assert_eq!(code1, 0, "{doc1:#}\n{err1}");
    assert_eq!(module(&doc1, &m)["state"], "Ready", "{doc1:#}");
    // Untouched: skipped, with the defaults the server added (protocol, quantities) not taken for drift.
    let (code2, doc2, err2) = run();
    assert_eq!(code2, 0, "{doc2:#}\n{err2}");
    assert_eq!(module(&doc2, &m)["state"], "Skipped", "{doc2:#}");

    let cms = resource(&c, "v1", "ConfigMap");
    // 1. One object deleted by hand.
    c.delete(&cms, Some(&ns), "other").await.unwrap();
    let (exit, doc, err) = run();
    assert_eq!(exit, 0, "{doc:#}\n{err}");
    assert_eq!(module(&doc, &m)["state"], "Ready", "{doc:#}");
    assert_eq!(
        restored(&doc),
        [(format!("ConfigMap/{ns}/other"), "was missing".to_string())],
        "{doc:#}"
    );
    assert!(
        c.get(&cms, Some(&ns), "other").await.unwrap().is_some(),
        "restored on the server"
    );
    let (table, _) = text(&kyma(&["deploy", "--catalog", &cat_path, "--modules", &m]));
    assert!(
        !table.contains("restored"),
        "nothing to restore any more:\n{table}"
    );

    // 2. A field kyma applied, edited by another manager.
    c.merge_patch(
        &cms,
        Some(&ns),
        "settings",
        None,
        &json!({"data": {"greeting": "edited"}}),
    )
    .await
    .unwrap();
    let out = kyma(&[
        "deploy",
        "--catalog",
        &cat_path,
        "--modules",
        &m,
        "--timeout",
        "60s",
    ]);
    let (table, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{table}\n{stderr}");
    assert!(
        table.contains(&format!(
            "{m}: restored ConfigMap/{ns}/settings (it was changed at data.greeting)"
        )),
        "the table says what was restored:\n{table}"
    );
    let live = c.get(&cms, Some(&ns), "settings").await.unwrap().unwrap();
    assert_eq!(live["data"]["greeting"], "hello", "{live:#}");

    // 3. The whole namespace deleted (and gone).
    let nss = resource(&c, "v1", "Namespace");
    c.delete(&nss, None, &ns).await.unwrap();
    let gone = eventually(Duration::from_secs(60), || async {
        c.get(&nss, None, &ns).await.unwrap().is_none().then_some(())
    })
    .await;
    assert!(gone.is_some(), "namespace {ns} still there after 60 s");
    let (exit, doc, err) = run();
    assert_eq!(exit, 0, "{doc:#}\n{err}");
    assert_eq!(module(&doc, &m)["state"], "Ready", "{doc:#}");
    let objects: Vec<String> = restored(&doc).into_iter().map(|(o, _)| o).collect();
    for o in [
        format!("Namespace/{ns}"),
        format!("ConfigMap/{ns}/settings"),
        format!("ConfigMap/{ns}/other"),
        format!("Service/{ns}/web"),
        format!("Deployment.apps/{ns}/web"),
    ] {
        assert!(objects.contains(&o), "{o} not among the restored: {objects:?}");
    }
    let (exit, doc, err) = run();
    assert_eq!(exit, 0, "{doc:#}\n{err}");
    assert_eq!(module(&doc, &m)["state"], "Skipped", "{doc:#}");
    let out = kyma(&["undeploy", "--modules", &m]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

//! The real Kyma modules on today's Kubernetes: the built-in catalog's releases (test data from
//! `../shared/real-modules`, served from loopback as a mirror of GitHub's release downloads) deploy
//! unmodified on the 1.37 bed. kube-scheduler and kwok run the managers' Pods for real; the manager
//! stand-in (`stand_in.rs`) plays what the managers' images would do (they cannot run here): status
//! through Processing to Ready, a finalizer on each CR released only while the manager runs.

use std::time::Duration;

use serde_json::{Value, json};

use crate::deploy::module;
use crate::stand_in::{self, Behaviour, StandIn};
use crate::support::*;

const SIX: &str = "istio,api-gateway,eventing,nats,keda,serverless";

/// The six real modules' managers, played by the stand-in: Processing, then Ready after `delay`.
fn managers(c: &kyma::testkit::cluster::Cluster, delay: Duration) -> StandIn {
    StandIn::start(
        c.client.clone(),
        stand_in::real(&[], |_| Behaviour::ready_after(delay)),
    )
}

fn deploy_with_cache(cache: &std::path::Path, args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["deploy", "-o", "json"];
    all.extend_from_slice(args);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kyma"))
        .args(&all)
        .arg("--wait-for-lock=15m")
        .env("KUBECONFIG", kubeconfig())
        .env("NO_COLOR", "1")
        .env("KYMA_CACHE_DIR", cache)
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    let doc = serde_json::from_str(&stdout).unwrap_or_else(|_| json!({"unparsed": stdout}));
    (code(&out), doc, stderr)
}

/// The acceptance run of the real-modules issue: six real modules from a loopback mirror, every
/// manager applied as published and Available, module CRs configured by values, all Ready; a re-run
/// skips all six; `undeploy --all` leaves nothing of kyma's and the user's object untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn six_real_modules_from_a_mirror_deploy_skip_and_undeploy_cleanly() {
    let _whole = CLUSTER.write().await;
    let c = cluster().await;
    let root = real_modules_mirror();
    let (mirror, requests) = serve_dir(root.clone()).await;
    let cache = tempfile::tempdir().unwrap();

    let managers = managers(&c, Duration::from_secs(2));
    let (rc, doc, stderr) = tokio::task::spawn_blocking({
        let (mirror, cache) = (mirror.clone(), cache.path().to_path_buf());
        move || {
            deploy_with_cache(
                &cache,
                &[
                    "--mirror",
                    &mirror,
                    "--modules",
                    SIX,
                    "--timeout",
                    "240s",
                    "--set",
                    "nats.spec.cluster.size=1",
                    "--set",
                    "eventing.spec.backend.type=NATS",
                ],
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    for (name, ..) in stand_in::REAL {
        assert_eq!(module(&doc, name)["state"], "Ready", "{name}: {doc:#}");
    }
    let fetched = requests.lock().unwrap().clone();
    assert_eq!(
        fetched.len(),
        12,
        "each module's manager manifest and default CR, once: {fetched:?}"
    );

    // Every manager applied as published (same image) and Available through a real rollout.
    let deployments = resource(&c, "apps/v1", "Deployment");
    for (name, _, _, manager) in stand_in::REAL {
        let live = c
            .get(&deployments, Some("kyma-system"), manager)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{name}: no {manager}"));
        assert!(
            live["status"]["availableReplicas"].as_i64().unwrap_or(0) >= 1,
            "{manager}: {:#}",
            live["status"]
        );
        let published = published_object(&root, &doc, name, "Deployment", manager);
        assert_eq!(
            live["spec"]["template"]["spec"]["containers"][0]["image"],
            published["spec"]["template"]["spec"]["containers"][0]["image"],
            "{manager}"
        );
    }
    // The module CRs carry the configured values, in kyma-system (the default CRs name it or not).
    let nats = get_cr(
        &c,
        "operator.kyma-project.io/v1alpha1",
        "NATS",
        Some("kyma-system"),
        "eventing-nats",
    )
    .await;
    assert_eq!(nats["spec"]["cluster"]["size"], 1);
    let eventing = get_cr(
        &c,
        "operator.kyma-project.io/v1alpha1",
        "Eventing",
        Some("kyma-system"),
        "eventing",
    )
    .await;
    assert_eq!(eventing["spec"]["backend"]["type"], "NATS");
    let keda = get_cr(
        &c,
        "operator.kyma-project.io/v1alpha1",
        "Keda",
        Some("kyma-system"),
        "default",
    )
    .await;
    assert_eq!(keda["status"]["state"], "Ready");
    get_cr(
        &c,
        "operator.kyma-project.io/v1alpha1",
        "APIGateway",
        None,
        "default",
    )
    .await;

    // A second run: nothing changed, every module Skipped, nothing fetched again (the cache).
    let (rc, doc2, stderr) = tokio::task::spawn_blocking({
        let (mirror, cache) = (mirror.clone(), cache.path().to_path_buf());
        move || {
            deploy_with_cache(
                &cache,
                &[
                    "--mirror",
                    &mirror,
                    "--modules",
                    SIX,
                    "--timeout",
                    "60s",
                    "--set",
                    "nats.spec.cluster.size=1",
                    "--set",
                    "eventing.spec.backend.type=NATS",
                ],
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(rc, 0, "{doc2:#}\n{stderr}");
    for (name, ..) in stand_in::REAL {
        if module(&doc2, name)["state"] != "Skipped" {
            let status = kyma(&["status", "--modules", name, "-o", "json"]);
            panic!(
                "{name} was not skipped: {doc2:#}\n{stderr}\nstatus now: {}\nmanagers: {:?}",
                text(&status).0,
                managers.log.entries()
            );
        }
    }
    assert_eq!(
        requests.lock().unwrap().len(),
        12,
        "the second run was served from the cache"
    );

    // The user's own object in the module namespace is not ours: undeploy keeps it (and its namespace).
    let cms = resource(&c, "v1", "ConfigMap");
    c.apply(&cms, &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "users-own", "namespace": "kyma-system"}, "data": {"a": "b"}}), Default::default())
        .await
        .unwrap();
    let out = kyma(&["undeploy", "--all", "--timeout", "120s"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    assert_eq!(
        c.get(&cms, Some("kyma-system"), "users-own")
            .await
            .unwrap()
            .unwrap()["data"]["a"],
        "b",
        "the user's object is untouched"
    );
    // Each module CR went first, while its manager ran: the manager's cleanup released its finalizer.
    for (_, _, kind, _) in stand_in::REAL {
        let log = managers.log.of(kind);
        assert!(
            log.iter().any(|w| w == "finalizer released, manager running"),
            "{kind}: {log:?}"
        );
    }
    drop(managers);
    let crds = resource(&c, "apiextensions.k8s.io/v1", "CustomResourceDefinition");
    for (_, gv, kind, manager) in stand_in::REAL {
        assert!(
            c.get(&deployments, Some("kyma-system"), manager)
                .await
                .unwrap()
                .is_none(),
            "{manager} left behind"
        );
        let plural = format!("{}s.{}", kind.to_lowercase(), gv.split('/').next().unwrap());
        let gone = eventually(Duration::from_secs(30), || async {
            c.get(&crds, None, &plural).await.unwrap().is_none().then_some(())
        })
        .await;
        assert!(gone.is_some(), "CRD {plural} left behind");
    }
    let nss = resource(&c, "v1", "Namespace");
    assert!(
        c.get(&nss, None, "istio-system")
            .await
            .unwrap()
            .is_none_or(|n| n["metadata"]["deletionTimestamp"].is_string())
    );
    assert!(
        c.get(&nss, None, kyma::testkit::store::inventory::NAMESPACE)
            .await
            .unwrap()
            .is_none_or(|n| n["metadata"]["deletionTimestamp"].is_string()),
        "kyma-installer left behind"
    );
    let labelled = c
        .list(
            &cms,
            Some("kyma-system"),
            Some(kyma::testkit::store::inventory::PART_OF_LABEL),
        )
        .await
        .unwrap();
    assert!(
        labelled.is_empty(),
        "objects still labelled as kyma's: {labelled:#?}"
    );
    c.delete(&cms, Some("kyma-system"), "users-own").await.unwrap();
    c.delete(&nss, None, "kyma-system").await.unwrap();
}

async fn get_cr(
    c: &kyma::testkit::cluster::Cluster,
    gv: &str,
    kind: &str,
    ns: Option<&str>,
    name: &str,
) -> Value {
    c.discovery.refresh(c, gv).await.unwrap();
    let r = resource(c, gv, kind);
    c.get(&r, ns, name)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no {kind} {ns:?}/{name}"))
}

/// The object as published in the module's release asset (the mirror's file).
fn published_object(root: &std::path::Path, doc: &Value, name: &str, kind: &str, object: &str) -> Value {
    let version = module(doc, name)["version"].as_str().unwrap().to_string();
    let catalog = kyma::testkit::catalog::source::builtin();
    let m = catalog.select(&format!("{name}@{version}")).unwrap();
    let url = &m.release.as_ref().unwrap().manager_manifest;
    let path = root.join(url.strip_prefix(kyma::testkit::catalog::release::GITHUB).unwrap());
    let docs = kyma::testkit::yaml::parse_all(&std::fs::read_to_string(path).unwrap()).unwrap();
    docs.into_iter()
        .map(|(_, d)| d)
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == object)
        .unwrap()
}

/// A ModuleTemplate as lifecycle-manager and the community index carry it, for the real keda release.
fn keda_template(version: &str, data: bool) -> Value {
    let base = format!("https://github.com/kyma-project/keda-manager/releases/download/{version}");
    let mut t = json!({
        "apiVersion": "operator.kyma-project.io/v1beta2", "kind": "ModuleTemplate",
        "metadata": {"name": format!("keda-{version}"), "namespace": "kyma-system",
            "labels": {"operator.kyma-project.io/module-name": "keda"},
            "annotations": {"operator.kyma-project.io/is-cluster-scoped": "false"}},
        "spec": {"moduleName": "keda", "version": version, "mandatory": false,
            "info": {"repository": "https://github.com/kyma-project/keda-manager.git"},
            "manager": {"name": "keda-manager", "namespace": "kyma-system", "group": "apps", "version": "v1", "kind": "Deployment"},
            "resources": [{"name": "rawManifest", "link": format!("{base}/keda-manager.yaml")},
                          {"name": "defaultResource", "link": format!("{base}/keda-default-cr.yaml")}],
            "descriptor": {}}
    });
    if data {
        t["spec"]["data"] = json!({"apiVersion": "operator.kyma-project.io/v1alpha1", "kind": "Keda",
            "metadata": {"name": "from-template", "namespace": "kyma-system"}, "spec": {"logging": {"operator": {"level": "debug"}}}});
    }
    t
}

/// Kyma's own catalog formats work unchanged: a directory of ModuleTemplate YAML files, and the
/// community index (a JSON array of ModuleTemplates) over HTTP; `spec.data` is the default CR when
/// present, else the `defaultResource` link. Deployed from the directory, the module ends Ready.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn module_templates_as_catalogs() {
    let _whole = CLUSTER.write().await;
    let mirror_dir = real_modules_mirror();
    let mirror = mirror_dir.to_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("keda-1.12.1.yaml"),
        kyma::testkit::yaml::to_string(&keda_template("1.12.1", true)),
    )
    .unwrap();
    let out = kyma(&[
        "render",
        "--catalog",
        dir.path().to_str().unwrap(),
        "--mirror",
        &mirror,
        "--modules",
        "keda",
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stderr}");
    assert!(
        stdout.contains("name: keda-manager")
            && stdout.contains("name: from-template")
            && stdout.contains("level: debug"),
        "{stdout}"
    );

    // The community index: a JSON array, fetched like any catalog URL; no spec.data here.
    let index = tempfile::tempdir().unwrap();
    std::fs::write(
        index.path().join("all-modules.json"),
        serde_json::to_string(&vec![keda_template("1.12.1", false)]).unwrap(),
    )
    .unwrap();
    let (base, _) = serve_dir(index.path().to_path_buf()).await;
    let out = tokio::task::spawn_blocking({
        let mirror = mirror.clone();
        move || {
            kyma(&[
                "modules",
                "show",
                "keda",
                "-o",
                "json",
                "--catalog",
                &format!("{base}/all-modules.json"),
                "--mirror",
                &mirror,
            ])
        }
    })
    .await
    .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stderr}");
    let shown: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(shown["location"], "ModuleTemplate keda-1.12.1");
    assert_eq!(
        shown["values"]["kind"], "Keda",
        "the defaultResource link: {shown:#}"
    );
    assert_eq!(shown["release"]["manager"]["name"], "keda-manager");

    let c = cluster().await;
    let managers = managers(&c, Duration::from_secs(1));
    let (rc, doc, stderr) = tokio::task::spawn_blocking({
        let (d, mirror) = (dir.path().to_str().unwrap().to_string(), mirror.clone());
        move || {
            deploy_at(
                &kubeconfig(),
                &[
                    "--catalog",
                    &d,
                    "--mirror",
                    &mirror,
                    "--modules",
                    "keda",
                    "--timeout",
                    "120s",
                ],
            )
        }
    })
    .await
    .unwrap();
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    assert_eq!(module(&doc, "keda")["state"], "Ready");
    let keda = get_cr(
        &c,
        "operator.kyma-project.io/v1alpha1",
        "Keda",
        Some("kyma-system"),
        "from-template",
    )
    .await;
    assert_eq!(keda["spec"]["logging"]["operator"]["level"], "debug");
    let out = kyma(&["undeploy", "--modules", "keda"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    drop(managers);
    let nss = resource(&c, "v1", "Namespace");
    let _ = c.delete(&nss, None, "kyma-system").await;
}

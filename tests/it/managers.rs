//! kyma against module managers that behave as the real ones do (`stand_in.rs`, after
//! `../shared/reference/real-managers.md`): the real keda release from the loopback mirror on the 1.37
//! bed, its manager played by the stand-in — Processing before Ready, Error that lasts or passes,
//! Warning, a finalizer released only while the manager runs, an APIService that blocks namespace
//! deletion.

use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use crate::deploy::module;
use crate::stand_in::{self, Behaviour, StandIn, Step};
use crate::support::*;

fn keda(c: &kyma::testkit::cluster::Cluster, behaviour: Behaviour) -> StandIn {
    StandIn::start(c.client.clone(), stand_in::real(&["keda"], |_| behaviour.clone()))
}

/// `kyma deploy -o json --mirror M --modules keda ARGS…` against `kubeconfig`, off the test's runtime;
/// with the wall-clock time it ended.
async fn deploy_keda(
    kubeconfig: std::path::PathBuf,
    mirror: &str,
    args: &[&str],
) -> (i32, Value, String, SystemTime) {
    let mut all: Vec<String> = ["--mirror", mirror, "--modules", "keda"]
        .map(String::from)
        .to_vec();
    all.extend(args.iter().map(|a| a.to_string()));
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = all.iter().map(String::as_str).collect();
        let (rc, doc, stderr) = deploy_at(&kubeconfig, &args);
        (rc, doc, stderr, SystemTime::now())
    })
    .await
    .unwrap()
}

fn status_of(kubeconfig: &std::path::Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["status", "--modules", "keda", "-o", "json"];
    args.extend_from_slice(extra);
    let out = kyma_at(kubeconfig, &args);
    let (stdout, _) = text(&out);
    (
        code(&out),
        serde_json::from_str(&stdout).unwrap_or(json!({"unparsed": stdout})),
    )
}

/// When the stand-in wrote `what` about the Keda CR, the first time.
fn logged(managers: &StandIn, what: &str) -> Option<SystemTime> {
    managers
        .log
        .entries()
        .into_iter()
        .find(|e| e.object.starts_with("Keda ") && e.what == what)
        .map(|e| e.at)
}

async fn undeploy_keda(kubeconfig: std::path::PathBuf, timeout: &str) -> std::process::Output {
    let timeout = timeout.to_string();
    tokio::task::spawn_blocking(move || {
        kyma_at(
            &kubeconfig,
            &["undeploy", "--modules", "keda", "--timeout", &timeout],
        )
    })
    .await
    .unwrap()
}

/// Undeploy keda with its manager running: exit 0.
async fn undeploy_keda_ok(kubeconfig: std::path::PathBuf) {
    let out = undeploy_keda(kubeconfig, "120s").await;
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// Stop the manager and leave no `kyma-system`.
async fn clean_up(c: &kyma::testkit::cluster::Cluster, managers: StandIn) {
    drop(managers);
    let nss = resource(c, "v1", "Namespace");
    let _ = c.delete(&nss, None, "kyma-system").await;
}

/// Undeploy keda with its manager running (exit 0), then stop the manager and leave no `kyma-system`.
async fn undeploy_and_clean_up(
    c: &kyma::testkit::cluster::Cluster,
    kubeconfig: std::path::PathBuf,
    managers: StandIn,
) {
    undeploy_keda_ok(kubeconfig).await;
    clean_up(c, managers).await;
}

/// Processing is shown as the manager says it while kyma waits; `status --check` follows the manager;
/// a changed value waits for the manager's verdict on the new spec, never the old Ready; undeploy goes
/// CR first while the manager runs, the manager's objects after, CRDs last.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn kyma_follows_the_manager_through_processing_a_change_and_undeploy() {
    let _whole = CLUSTER.write().await;
    let c = cluster().await;
    let (mirror, _) = serve_dir(real_modules_mirror()).await;
    let kc = kubeconfig();
    // From a cluster without keda: a run that failed before may have left it (the stand-in would take
    // its Ready CR as judged and never report it afresh).
    let leftover = keda(&c, Behaviour::ready_after(Duration::ZERO));
    let _ = undeploy_keda(kc.clone(), "60s").await;
    drop(leftover);
    let managers = keda(&c, Behaviour::ready_after(Duration::from_secs(6)));

    let deploy = tokio::spawn({
        let (kc, mirror) = (kc.clone(), mirror.clone());
        async move { deploy_keda(kc, &mirror, &["--timeout", "180s"]).await }
    });
    // While the manager works: `kyma status` shows its state and its own words, and --check says no.
    let last = std::sync::Arc::new(std::sync::Mutex::new(Value::Null));
    let processing = eventually(Duration::from_secs(90), || {
        let (kc, last) = (kc.clone(), last.clone());
        async move {
            let (rc, doc) = tokio::task::spawn_blocking(move || status_of(&kc, &["--check"]))
                .await
                .unwrap();
            let text = doc.to_string();
            *last.lock().unwrap() = doc.clone();
            (text.contains("Processing") && text.contains("verification in progress")).then_some((rc, doc))
        }
    })
    .await;
    let (rc, doc) = processing.unwrap_or_else(|| {
        panic!(
            "kyma status never showed the manager's Processing and its message; last: {:#}\nmanager: {:?}",
            last.lock().unwrap(),
            managers.log.of("Keda")
        )
    });
    assert_eq!(rc, 1, "status --check while the manager is Processing: {doc:#}");

    let (rc, doc, stderr, ended) = deploy.await.unwrap();
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    assert_eq!(module(&doc, "keda")["state"], "Ready", "{doc:#}");
    let ready = logged(&managers, "state Ready (generation 1)").expect("the manager reported Ready");
    assert!(ended >= ready, "kyma ended after the manager's Ready");
    assert!(
        stderr.contains("verification in progress"),
        "the progress lines carry the manager's message: {stderr}"
    );
    let (rc, doc) = status_of(&kc, &["--check"]);
    assert_eq!(rc, 0, "status --check once Ready: {doc:#}");

    // A changed value: the CR's old Ready is the verdict on the old spec. A restarted manager (it does
    // not report the unchanged CR afresh) takes 4 s for the new one; kyma ends only after that.
    drop(managers);
    let managers = keda(&c, Behaviour::ready_after(Duration::from_secs(4)));
    let _ = c.discovery.refresh(&c, "operator.kyma-project.io/v1alpha1").await;
    let crs = resource(&c, "operator.kyma-project.io/v1alpha1", "Keda");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = c
        .get(&crs, Some("kyma-system"), "default")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        before["status"]["state"], "Ready",
        "kyma will apply onto the old Ready: {before:#}"
    );
    let (rc, doc, stderr, ended) = deploy_keda(
        kc.clone(),
        &mirror,
        &[
            "--timeout",
            "120s",
            "--set",
            "keda.spec.logging.operator.level=debug",
        ],
    )
    .await;
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    assert_eq!(module(&doc, "keda")["state"], "Ready", "{doc:#}");
    let ready = logged(&managers, "state Ready (generation 2)").unwrap_or_else(|| {
        panic!(
            "the manager judged generation 2: {:?}\n{stderr}",
            managers.log.of("Keda")
        )
    });
    assert!(
        ended >= ready,
        "kyma took the Ready of generation 1 for generation 2: {:?}",
        managers.log.of("Keda")
    );

    // Undeploy with the manager running: the CR goes first and the manager's cleanup releases its
    // finalizer while its Deployment still runs; then the manager, the CRD last.
    undeploy_keda_ok(kc.clone()).await;
    let released = logged(&managers, "finalizer released, manager running");
    assert!(released.is_some(), "{:?}", managers.log.of("Keda"));
    let deployments = resource(&c, "apps/v1", "Deployment");
    assert!(
        c.get(&deployments, Some("kyma-system"), "keda-manager")
            .await
            .unwrap()
            .is_none()
    );
    let crds = resource(&c, "apiextensions.k8s.io/v1", "CustomResourceDefinition");
    assert!(
        eventually(Duration::from_secs(30), || async {
            c.get(&crds, None, "kedas.operator.kyma-project.io")
                .await
                .unwrap()
                .is_none()
                .then_some(())
        })
        .await
        .is_some(),
        "the CRD went last"
    );
    clean_up(&c, managers).await;
}

/// `Error` that lasts past `--error-grace` fails the module with the manager's message at that moment,
/// not at `--timeout`; an `Error` that passes within the grace ends Ready; `Warning` counts as Ready
/// and is shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_managers_error_fails_at_the_grace_and_passing_errors_and_warnings_do_not() {
    let _whole = CLUSTER.write().await;
    let c = cluster().await;
    let (mirror, _) = serve_dir(real_modules_mirror()).await;
    let kc = kubeconfig();
    let refused = "pods refused: no PriorityClass keda-priority-class";

    let managers = keda(
        &c,
        Behaviour::steps(vec![
            Step::new(
                "Processing",
                "Initialized",
                "initialized",
                Duration::from_millis(500),
            ),
            Step::new("Error", "ApplyObjError", refused, Duration::from_secs(3600)),
        ]),
    );
    let started = std::time::Instant::now();
    let (rc, doc, stderr, _) =
        deploy_keda(kc.clone(), &mirror, &["--timeout", "300s", "--error-grace", "5s"]).await;
    let took = started.elapsed();
    assert_eq!(rc, 1, "a module failed: {doc:#}\n{stderr}");
    assert_eq!(module(&doc, "keda")["state"], "Failed", "{doc:#}");
    assert!(
        doc.to_string().contains(refused),
        "the manager's message: {doc:#}"
    );
    assert!(
        took < Duration::from_secs(120),
        "failed when the error grace ran out, not at --timeout: {took:?}"
    );

    // The manager recovers from its Error within the grace (its dependency came up): Ready. This one
    // says which generation it judged (conditions' observedGeneration), the way kyma reads it first.
    drop(managers);
    let managers = keda(
        &c,
        Behaviour {
            reports_generation: true,
            ..Behaviour::steps(vec![
                Step::new(
                    "Processing",
                    "Initialized",
                    "initialized",
                    Duration::from_millis(500),
                ),
                Step::new("Error", "ApplyObjError", refused, Duration::from_secs(3)),
                Step::new("Ready", "Verified", "server ready", Duration::ZERO),
            ])
        },
    );
    let (rc, doc, stderr, _) = deploy_keda(
        kc.clone(),
        &mirror,
        &[
            "--timeout",
            "120s",
            "--error-grace",
            "30s",
            "--set",
            "keda.spec.logging.operator.level=debug",
        ],
    )
    .await;
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    assert_eq!(module(&doc, "keda")["state"], "Ready", "{doc:#}");
    assert!(
        managers
            .log
            .of("Keda")
            .iter()
            .any(|w| w.starts_with("state Error")),
        "the manager passed through Error: {:?}",
        managers.log.of("Keda")
    );

    // Warning: Ready, and the warning is said.
    drop(managers);
    let managers = keda(
        &c,
        Behaviour::steps(vec![
            Step::new(
                "Processing",
                "Initialized",
                "initialized",
                Duration::from_millis(500),
            ),
            Step::new(
                "Warning",
                "Verified",
                "no zone labels on the nodes",
                Duration::ZERO,
            ),
        ]),
    );
    let (rc, doc, stderr, _) = deploy_keda(
        kc.clone(),
        &mirror,
        &[
            "--timeout",
            "120s",
            "--set",
            "keda.spec.logging.operator.level=info",
        ],
    )
    .await;
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    assert_eq!(module(&doc, "keda")["state"], "Ready", "{doc:#}");
    assert!(
        doc.to_string().contains("no zone labels on the nodes"),
        "the warning is shown: {doc:#}"
    );

    undeploy_and_clean_up(&c, kc, managers).await;
}

/// keda's manager registers an APIService that is not in its release; where it cannot answer, the
/// namespace controller cannot finish any namespace deletion. Undeploy names that object and the
/// server's reason and ends once the condition has held, instead of waiting in silence until
/// `--timeout`: exit 4 as for a delete the server refuses (no wait changes it), the namespace stays
/// recorded; kyma does not touch the APIService (not its own).
/// On the fault bed: a cluster-wide block must not stall the other tests' namespaces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn an_object_the_manager_left_that_blocks_namespace_deletion_is_named() {
    let _bed = FAULT_BED.lock().await;
    let kc = fault_bed().join("kubeconfig");
    let c = cluster_at(&kc).await;
    let (mirror, _) = serve_dir(real_modules_mirror()).await;
    let managers = keda(
        &c,
        Behaviour {
            extra: Some(stand_in::keda_apiservice()),
            leaves_extra: true,
            ..Behaviour::ready_after(Duration::from_secs(1))
        },
    );
    let (rc, doc, stderr, _) = deploy_keda(kc.clone(), &mirror, &["--timeout", "180s"]).await;
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");

    let started = std::time::Instant::now();
    let out = undeploy_keda(kc.clone(), "600s").await;
    let took = started.elapsed();
    let (stdout, stderr) = text(&out);
    let said = format!("{stdout}{stderr}");
    let api_services = resource(&c, "apiregistration.k8s.io/v1", "APIService");
    let blocker = c
        .get(&api_services, None, "v1beta1.external.metrics.k8s.io")
        .await
        .unwrap();
    // Whatever happened, the next tests on this bed need namespace deletion back.
    let _ = c
        .delete(&api_services, None, "v1beta1.external.metrics.k8s.io")
        .await;
    drop(managers);
    assert_eq!(code(&out), 4, "{said}");
    assert!(
        took < Duration::from_secs(120),
        "ended once the block held, not at --timeout: {took:?}"
    );
    assert!(
        said.contains("NamespaceDeletionDiscoveryFailure")
            && said.contains("APIService v1beta1.external.metrics.k8s.io"),
        "names the condition and the object: {said}"
    );
    assert!(blocker.is_some(), "kyma left the APIService alone (not its own)");

    // With the blocker gone, the namespace finishes and a second undeploy has nothing left.
    let nss = resource(&c, "v1", "Namespace");
    let gone = eventually(Duration::from_secs(120), || async {
        c.get(&nss, None, "kyma-system")
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    assert!(
        gone.is_some(),
        "kyma-system finished deleting once the APIService was gone"
    );
    let out = undeploy_keda(kc.clone(), "60s").await;
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// A default CR published with nothing under `spec:` (btp-operator's, `# TODO(user): Add fields here`)
/// deploys as the API server takes it: the null of a field that is not nullable is pruned before
/// validation, in kyma's values check and render as on the server. Keda's manager manifest with a
/// default CR published that way, as a ModuleTemplate's `defaultResource` (a copy of the test data in a
/// temporary mirror, under a version of its own so no cached asset stands in for it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_default_cr_published_with_a_null_spec_deploys_as_the_server_takes_it() {
    let _whole = CLUSTER.write().await;
    let c = cluster().await;
    let mirror = tempfile::tempdir().unwrap();
    // A release of keda's manager whose default CR is published as btp-operator's is; `optional_spec`
    // drops `spec` from the CRD's required fields, as btp-operator's CRD (kubebuilder's) has it.
    let release = |version: &str, optional_spec: bool| {
        let base = format!("kyma-project/keda-manager/releases/download/{version}");
        std::fs::create_dir_all(mirror.path().join(&base)).unwrap();
        let manifest = std::fs::read_to_string(
            real_modules_mirror()
                .join("kyma-project/keda-manager/releases/download/1.12.1/keda-manager.yaml"),
        )
        .unwrap();
        let required = "        required:\n        - metadata\n        - spec\n        type: object\n";
        assert!(manifest.contains(required), "the Keda CRD's root requires spec");
        let manifest = if optional_spec {
            manifest.replace(required, "        type: object\n")
        } else {
            manifest
        };
        std::fs::write(mirror.path().join(&base).join("keda-manager.yaml"), manifest).unwrap();
        std::fs::write(
            mirror.path().join(&base).join("keda-default-cr.yaml"),
            "apiVersion: operator.kyma-project.io/v1alpha1\nkind: Keda\nmetadata:\n  name: default\n  namespace: kyma-system\nspec:\n  # TODO(user): Add fields here\n",
        )
        .unwrap();
        let github = format!("https://github.com/{base}");
        let template = json!({
            "apiVersion": "operator.kyma-project.io/v1beta2", "kind": "ModuleTemplate",
            "metadata": {"name": format!("keda-{version}"), "namespace": "kyma-system",
                "labels": {"operator.kyma-project.io/module-name": "keda"}},
            "spec": {"moduleName": "keda", "version": version,
                "manager": {"name": "keda-manager", "namespace": "kyma-system", "group": "apps", "version": "v1", "kind": "Deployment"},
                "resources": [{"name": "rawManifest", "link": format!("{github}/keda-manager.yaml")},
                              {"name": "defaultResource", "link": format!("{github}/keda-default-cr.yaml")}]}
        });
        let catalog = tempfile::tempdir().unwrap();
        std::fs::write(
            catalog.path().join("keda.yaml"),
            kyma::testkit::yaml::to_string(&template),
        )
        .unwrap();
        catalog
    };
    let mirror_path = mirror.path().to_str().unwrap().to_string();
    let render = |catalog: &tempfile::TempDir| {
        kyma(&[
            "render",
            "--catalog",
            catalog.path().to_str().unwrap(),
            "--mirror",
            &mirror_path,
            "--modules",
            "keda",
        ])
    };

    // Keda's own CRD requires spec: pruned, the CR lacks it, and kyma says so before anything is
    // applied — as the server would answer (422, spec: Required value).
    // Versions of this run's own: the tests' download cache keeps assets by URL across runs.
    let run = format!("{:08x}", fastrand::u32(..));
    let strict = release(&format!("1.12.2-spec-required-{run}"), false);
    let out = render(&strict);
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), 2, "{stderr}");
    assert!(stderr.contains("\"spec\" is a required property"), "{stderr}");

    let btp_like = release(&format!("1.12.2-null-spec-{run}"), true);
    let out = render(&btp_like);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stderr}");
    let cr = kyma::testkit::yaml::parse_all(&stdout)
        .unwrap()
        .into_iter()
        .map(|(_, d)| d)
        .find(|d| d["kind"] == "Keda")
        .expect("the CR is rendered");
    assert!(
        cr.get("spec").is_none(),
        "spec: null pruned as the server would: {cr:#}"
    );
    let (mirror, catalog) = (mirror_path.clone(), btp_like.path().to_str().unwrap().to_string());

    let managers = keda(&c, Behaviour::ready_after(Duration::from_secs(1)));
    let (rc, doc, stderr, _) = deploy_keda(
        kubeconfig(),
        &mirror,
        &["--catalog", &catalog, "--timeout", "120s"],
    )
    .await;
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    assert_eq!(module(&doc, "keda")["state"], "Ready", "{doc:#}");
    undeploy_and_clean_up(&c, kubeconfig(), managers).await;
}

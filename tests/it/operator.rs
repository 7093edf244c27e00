//! `kyma operator run` against the real beds, the operator process run by the test (as envtest runs a
//! controller): a `Kyma` object for this cluster, one for the 1.20 bed through a kubeconfig Secret,
//! drift restored on resync, a module taken out of the spec undeployed, deletion leaving nothing.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::deploy::module_yaml;
use crate::support::*;

struct Operator {
    child: std::process::Child,
    log: std::path::PathBuf,
}

impl Operator {
    /// An operator process for this test's `Kyma` objects only (`--selector`: tests run side by side).
    fn start(kubeconfig: &Path, catalog: &Path, log_dir: &Path, selector: &str, extra: &[&str]) -> Operator {
        let log = log_dir.join(format!("operator-{}.log", unique("op")));
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_kyma"))
            .args([
                "operator",
                "run",
                "--resync",
                "3s",
                "--timeout",
                "60s",
                "--selector",
                selector,
                "--catalog",
            ])
            .arg(catalog)
            .arg("--kubeconfig")
            .arg(kubeconfig)
            .args(extra)
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start kyma operator");
        Operator { child, log }
    }
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ready(kyma: &Value) -> bool {
    let generation = &kyma["metadata"]["generation"];
    kyma["status"]["observedGeneration"] == *generation
        && kyma["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| c["type"] == "Ready" && c["status"] == "True" && c["observedGeneration"] == *generation)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn the_operator_deploys_what_kyma_objects_ask_here_and_remotely_and_cleans_up() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let old = cluster_at(&compat_kubeconfig()).await;
    let (web, conf) = (unique("opweb"), unique("opconf"));
    let (web_ns, conf_ns, tenant) = (unique("opweb-ns"), unique("opconf-ns"), unique("tenant"));
    let cat = catalog(&[
        (&format!("{web}/module.yaml"), module_yaml(&web, &web_ns)),
        (
            &format!("{web}/templates/deploy.yaml"),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n".into(),
        ),
        (&format!("{conf}/module.yaml"), module_yaml(&conf, &conf_ns)),
        (&format!("{conf}/values.yaml"), "greeting: hello\nfarewell: bye\n".into()),
        (
            &format!("{conf}/templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  greeting: {{ values.greeting }}\n  farewell: {{ values.farewell }}\n".into(),
        ),
    ]);
    let logs = tempfile::tempdir().unwrap();
    let run = unique("run");
    let selector = format!("kyma-test/run={run}");
    // Central overrides from a ConfigMap in the operator's namespace: they win over every object.
    let operator_ns = unique("kyma-operator");
    create_namespace(&c, &operator_ns).await;
    let central = format!("{conf}:\n  farewell: central\n");
    c.apply(
        &resource(&c, "v1", "ConfigMap"),
        &json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "central", "namespace": operator_ns},
                "data": {"overrides.yaml": central}}),
        Default::default(),
    )
    .await
    .unwrap();
    let op = Operator::start(
        &kubeconfig(),
        cat.path(),
        logs.path(),
        &selector,
        &[
            "--operator-namespace",
            &operator_ns,
            "--overrides-from",
            "configmap/central",
        ],
    );

    // The operator installs its CRD; the kind is served once it is established.
    let kymas = eventually(Duration::from_secs(30), || async {
        let _ = c
            .discovery
            .refresh(&c, "installer.kyma-project.io/v1alpha1")
            .await;
        c.discovery.resolve("installer.kyma-project.io/v1alpha1", "Kyma")
    })
    .await
    .unwrap_or_else(|| panic!("the operator did not install its CRD:\n{}", op.log()));
    create_namespace(&c, &tenant).await;
    let kyma_object = |name: &str, modules: Value, secret: Option<&str>| {
        let mut spec = json!({"modules": modules});
        if let Some(s) = secret {
            spec["kubeconfigSecretRef"] = json!({"name": s});
        }
        json!({"apiVersion": "installer.kyma-project.io/v1alpha1", "kind": "Kyma",
               "metadata": {"name": name, "namespace": tenant, "labels": {"kyma-test/run": run}},
               "spec": spec})
    };
    let wait_ready = |name: &'static str| {
        let (c, kymas, tenant) = (c.clone(), kymas.clone(), tenant.clone());
        async move {
            eventually(Duration::from_secs(120), || async {
                let k = c.get(&kymas, Some(&tenant), name).await.ok()??;
                ready(&k).then_some(k)
            })
            .await
        }
    };

    // 1. This cluster: both modules Ready, the status says so the way `kubectl wait` reads it.
    let start = Instant::now();
    let local = kyma_object(
        "local",
        json!([{"name": web}, {"name": conf, "values": {"greeting": "from the operator"}}]),
        None,
    );
    c.apply(&kymas, &local, Default::default()).await.unwrap();
    let k = wait_ready("local")
        .await
        .unwrap_or_else(|| panic!("not Ready:\n{}", op.log()));
    let took = start.elapsed();
    let mut states: Vec<(&str, &str)> = k["status"]["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["state"].as_str().unwrap()))
        .collect();
    states.sort();
    let mut want = [(web.as_str(), "Ready"), (conf.as_str(), "Ready")];
    want.sort();
    assert_eq!(states, want, "{k:#}");
    assert_eq!(k["status"]["state"], "Ready", "{k:#}");
    assert!(
        k["metadata"]["finalizers"]
            .to_string()
            .contains("installer.kyma-project.io/undeploy"),
        "{k:#}"
    );
    let cms = resource(&c, "v1", "ConfigMap");
    let cm = c.get(&cms, Some(&conf_ns), "settings").await.unwrap().unwrap();
    assert_eq!(
        cm["data"]["greeting"], "from the operator",
        "the spec's values were used"
    );
    assert_eq!(
        cm["data"]["farewell"], "central",
        "and the central overrides over them: {cm:#}"
    );
    // The CLI reads what the operator deployed: same inventory.
    let out = kyma(&["status", "--modules", &format!("{web},{conf}"), "--check"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));

    // 2. Drift: the managed Deployment deleted by hand is restored on resync (3 s).
    let deployments = resource(&c, "apps/v1", "Deployment");
    let uid = c.get(&deployments, Some(&web_ns), "web").await.unwrap().unwrap()["metadata"]["uid"].clone();
    c.delete(&deployments, Some(&web_ns), "web").await.unwrap();
    let deleted = Instant::now();
    let back = eventually(Duration::from_secs(60), || async {
        let d = c.get(&deployments, Some(&web_ns), "web").await.ok()??;
        (d["metadata"]["uid"] != uid).then_some(())
    })
    .await;
    assert!(back.is_some(), "the Deployment was not restored:\n{}", op.log());
    let restored = deleted.elapsed();

    // 3. A module taken out of the spec is undeployed.
    let only_web = kyma_object("local", json!([{"name": web}]), None);
    c.apply(&kymas, &only_web, Default::default()).await.unwrap();
    let gone = eventually(Duration::from_secs(60), || async {
        match c.get(&cms, Some(&conf_ns), "settings").await {
            Ok(None) => Some(()),
            _ => None,
        }
    })
    .await;
    assert!(
        gone.is_some(),
        "the module left in the spec's past is still there:\n{}",
        op.log()
    );
    wait_ready("local").await.expect("Ready again with one module");

    // 4. Another cluster through a kubeconfig Secret: the module lands there, not here.
    let kubeconfig_text = std::fs::read_to_string(compat_kubeconfig()).unwrap();
    let secrets = resource(&c, "v1", "Secret");
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(kubeconfig_text);
    c.apply(
        &secrets,
        &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "old-cluster", "namespace": tenant},
                "data": {"config": encoded}}),
        Default::default(),
    )
    .await
    .unwrap();
    let remote = kyma_object("remote", json!([{"name": conf}]), Some("old-cluster"));
    c.apply(&kymas, &remote, Default::default()).await.unwrap();
    wait_ready("remote")
        .await
        .unwrap_or_else(|| panic!("remote not Ready:\n{}", op.log()));
    let old_cms = resource(&old, "v1", "ConfigMap");
    let there = old.get(&old_cms, Some(&conf_ns), "settings").await.unwrap();
    let there = there.expect("the module is on the 1.20 cluster");
    assert_eq!(there["data"]["greeting"], "hello", "{there:#}");
    assert_eq!(
        there["data"]["farewell"], "central",
        "central overrides there too: {there:#}"
    );
    assert!(
        c.get(&cms, Some(&conf_ns), "settings").await.unwrap().is_none(),
        "and not here"
    );

    // 5. Deleting the Kyma objects undeploys everything they deployed, here and there.
    for name in ["local", "remote"] {
        c.delete(&kymas, Some(&tenant), name).await.unwrap();
    }
    let all_gone = eventually(Duration::from_secs(120), || async {
        let left = c.list(&kymas, Some(&tenant), None).await.ok()?;
        left.is_empty().then_some(())
    })
    .await;
    assert!(
        all_gone.is_some(),
        "the Kyma objects were not released:\n{}",
        op.log()
    );
    assert!(c.get(&deployments, Some(&web_ns), "web").await.unwrap().is_none());
    assert!(
        old.get(&old_cms, Some(&conf_ns), "settings")
            .await
            .unwrap()
            .is_none()
    );
    for (cluster, module) in [(&c, &web), (&old, &conf)] {
        let secrets = resource(cluster, "v1", "Secret");
        let inv = cluster
            .get(
                &secrets,
                Some(kyma::testkit::inventory::NAMESPACE),
                &format!("kyma-{module}"),
            )
            .await;
        assert!(matches!(inv, Ok(None)), "{module}'s inventory is gone: {inv:?}");
    }
    figure(format!(
        "operator: a Kyma object with 2 modules Ready {:.1} s after it was created; a deleted Deployment restored {:.1} s later (resync 3 s)",
        took.as_secs_f64(),
        restored.as_secs_f64()
    ));
}

/// Availability and scale: two replicas of a shard, one leads (the shard's Lease) and the other takes
/// over when the leader is killed; two shards split the `Kyma` objects between them by hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_standby_takes_over_a_killed_leader_and_shards_split_the_objects() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let module = unique("opshard");
    let module_ns = unique("opshard-ns");
    // One module for the leader part, and one per sharded object (modules are cluster-wide).
    let mut files: Vec<(String, String)> = Vec::new();
    for m in std::iter::once(module.clone()).chain((0..6).map(|i| format!("{module}-{i}"))) {
        // The sharded modules in a namespace of their own: the leader part's is deleted with it.
        let ns = if m == module {
            module_ns.clone()
        } else {
            format!("{module_ns}-s")
        };
        files.push((format!("{m}/module.yaml"), module_yaml(&m, &ns)));
        files.push((
            format!("{m}/templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ values.name }}\n".into(),
        ));
        files.push((format!("{m}/values.yaml"), format!("name: {m}\n")));
    }
    let refs: Vec<(&str, String)> = files.iter().map(|(p, c)| (p.as_str(), c.clone())).collect();
    let cat = catalog(&refs);
    let logs = tempfile::tempdir().unwrap();
    let run = unique("run");
    let selector = format!("kyma-test/run={run}");
    let tenant = unique("tenant");
    let lease_ns = unique("oplease");
    let leader_args = [
        "--leader-election",
        "--lease-duration",
        "4s",
        "--operator-namespace",
        lease_ns.as_str(),
    ];
    let mut first = Operator::start(&kubeconfig(), cat.path(), logs.path(), &selector, &leader_args);
    let leads = |op: &Operator| op.log().contains("leading shard 0");
    let led = eventually(Duration::from_secs(30), || async { leads(&first).then_some(()) }).await;
    assert!(led.is_some(), "the first replica leads:\n{}", first.log());
    let second = Operator::start(&kubeconfig(), cat.path(), logs.path(), &selector, &leader_args);
    let kymas = eventually(Duration::from_secs(30), || async {
        let _ = c
            .discovery
            .refresh(&c, "installer.kyma-project.io/v1alpha1")
            .await;
        c.discovery.resolve("installer.kyma-project.io/v1alpha1", "Kyma")
    })
    .await
    .expect("the CRD is served");
    create_namespace(&c, &tenant).await;
    let object = |name: &str, module: &str, value: &str, run: &str| {
        json!({"apiVersion": "installer.kyma-project.io/v1alpha1", "kind": "Kyma",
               "metadata": {"name": name, "namespace": tenant, "labels": {"kyma-test/run": run}},
               "spec": {"modules": [{"name": module, "values": {"name": value}}]}})
    };
    let cms = resource(&c, "v1", "ConfigMap");
    let has_cm = |name: &'static str| {
        let (c, cms, ns) = (c.clone(), cms.clone(), module_ns.clone());
        async move {
            eventually(Duration::from_secs(60), || async {
                c.get(&cms, Some(&ns), name).await.ok()?.map(|_| ())
            })
            .await
        }
    };
    c.apply(&kymas, &object("ha", &module, "first", &run), Default::default())
        .await
        .unwrap();
    assert!(
        has_cm("first").await.is_some(),
        "the leader deployed:\n{}",
        first.log()
    );
    assert!(!leads(&second), "one leader at a time:\n{}", second.log());

    // The leader dies without a word (kill -9): the standby leads within the lease duration (4 s),
    // and a change made meanwhile is reconciled.
    first.child.kill().unwrap();
    let killed = Instant::now();
    c.apply(&kymas, &object("ha", &module, "second", &run), Default::default())
        .await
        .unwrap();
    let took_over = eventually(Duration::from_secs(30), || async {
        leads(&second).then(|| killed.elapsed())
    })
    .await
    .unwrap_or_else(|| panic!("the standby never led:\n{}", second.log()));
    // The lease runs out at most 4 s after the last renewal; the standby checks every 0.5 s.
    assert!(took_over < Duration::from_secs(5), "handover took {took_over:?}");
    assert!(
        has_cm("second").await.is_some(),
        "the new leader reconciled:\n{}",
        second.log()
    );
    // The module moves to the sharded objects below: this object lets go of it first.
    c.delete(&kymas, Some(&tenant), "ha").await.unwrap();
    let released = eventually(Duration::from_secs(60), || async {
        c.get(&kymas, Some(&tenant), "ha")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    assert!(
        released.is_some(),
        "the leader released the object:\n{}",
        second.log()
    );
    drop(second);
    drop(first);

    // Two shards: each object is reconciled by exactly one of them.
    let run2 = unique("run");
    let selector2 = format!("kyma-test/run={run2}");
    let shard0 = Operator::start(
        &kubeconfig(),
        cat.path(),
        logs.path(),
        &selector2,
        &["--shards", "2", "--shard", "0"],
    );
    let shard1 = Operator::start(
        &kubeconfig(),
        cat.path(),
        logs.path(),
        &selector2,
        &["--shards", "2", "--shard", "1"],
    );
    let names: Vec<String> = (0..6).map(|i| format!("sharded-{i}")).collect();
    for (i, n) in names.iter().enumerate() {
        c.apply(
            &kymas,
            &object(n, &format!("{module}-{i}"), n, &run2),
            Default::default(),
        )
        .await
        .unwrap();
    }
    let all_ready = eventually(Duration::from_secs(120), || async {
        let list = c.list(&kymas, Some(&tenant), Some(&selector2)).await.ok()?;
        (list.len() == names.len() && list.iter().all(ready)).then_some(())
    })
    .await;
    assert!(
        all_ready.is_some(),
        "shard 0:\n{}\nshard 1:\n{}",
        shard0.log(),
        shard1.log()
    );
    let (log0, log1) = (shard0.log(), shard1.log());
    let by = |log: &str| -> Vec<String> {
        names
            .iter()
            .filter(|n| log.contains(&format!("{tenant}/{n}:")))
            .cloned()
            .collect()
    };
    let (mine0, mine1) = (by(&log0), by(&log1));
    assert_eq!(
        mine0.len() + mine1.len(),
        names.len(),
        "each object once:\n{log0}\n{log1}"
    );
    assert!(
        mine0.iter().all(|n| !mine1.contains(n)),
        "no object in both shards"
    );
    assert!(
        !mine0.is_empty() && !mine1.is_empty(),
        "both shards had work: {mine0:?} {mine1:?}"
    );
    figure(format!(
        "operator: a killed leader's shard led by the standby {:.1} s later (lease 4 s); 6 objects split {}/{} between two shards",
        took_over.as_secs_f64(),
        mine0.len(),
        mine1.len()
    ));
    for n in &names {
        c.delete(&kymas, Some(&tenant), n).await.unwrap();
    }
    let gone = eventually(Duration::from_secs(120), || async {
        c.list(&kymas, Some(&tenant), None)
            .await
            .ok()?
            .is_empty()
            .then_some(())
    })
    .await;
    assert!(
        gone.is_some(),
        "the sharded objects were released:\n{}\n{}",
        shard0.log(),
        shard1.log()
    );
}

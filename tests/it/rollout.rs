//! A progressive rollout over several clusters (`--waves`, `--max-failures`): workspaces of the main bed
//! through the path-prefix proxy (each its own cluster to kyma, and the proxy sees every request each
//! gets) and the 1.20 bed, which refuses the module. A failing wave halts the rest, which get no
//! request; within the failure budget the rollout goes on.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

/// A ConfigMap module, and one with a CRD whose CEL validation a 1.20 server cannot take.
fn rollout_catalog(plain: &str, modern: &str, ns: &str) -> tempfile::TempDir {
    let group = format!("{ns}.kyma.test");
    catalog(&[
        (
            &format!("{plain}/module.yaml"),
            crate::deploy::module_yaml(plain, ns),
        ),
        (
            &format!("{plain}/templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rolled\ndata: {a: b}\n".into(),
        ),
        (
            &format!("{modern}/module.yaml"),
            format!("{}name: {modern}\n", crate::deploy::MODULE),
        ),
        (
            &format!("{modern}/templates/crd.yaml"),
            format!(
                "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gates.{group}\nspec:\n  group: {group}\n  scope: Namespaced\n  names: {{kind: Gate, plural: gates, singular: gate, listKind: GateList}}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            x-kubernetes-validations: [{{rule: \"has(self.size)\", message: \"size is required\"}}]\n            properties: {{size: {{type: integer}}}}\n"
            ),
        ),
    ])
}

/// One kubeconfig with a context per workspace of `proxy` and one for the 1.20 bed named `old`.
fn contexts(dir: &std::path::Path, proxy: &PathProxy, workspaces: &[(&str, &str)]) -> std::path::PathBuf {
    let mut parts: Vec<Value> = workspaces
        .iter()
        .map(|(name, prefix)| {
            let path = proxy.kubeconfig_for(dir, name, prefix);
            kyma::testkit::yaml::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
        })
        .collect();
    parts.push(crate::fleet::renamed(&compat_kubeconfig(), "old"));
    crate::fleet::merged(dir, &parts)
}

/// The rollout's arguments: the order of --context is the order of the rollout — a workspace, the
/// 1.20 bed, two more workspaces.
fn rollout_args(catalog: &str, modules: &str, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["--catalog", catalog, "--modules", modules, "--timeout", "120s"];
    for ctx in ["ws-a", "old", "ws-b", "ws-c"] {
        args.extend(["--context", ctx]);
    }
    args.extend_from_slice(extra);
    args.iter().map(|s| s.to_string()).collect()
}

fn cluster_of<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["clusters"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["cluster"] == name))
        .unwrap_or_else(|| panic!("no cluster {name} in {doc:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_failing_wave_halts_the_rest_and_a_budget_lets_the_rollout_go_on() {
    let _shared = CLUSTER.read().await;
    let ns = unique("rollout");
    let (plain, modern) = (unique("plain"), unique("modern"));
    let cat = rollout_catalog(&plain, &modern, &ns);
    let cat_dir = cat.path().to_str().unwrap().to_string();
    let (a, b, c) = (
        format!("/clusters/{}", unique("ws-a")),
        format!("/clusters/{}", unique("ws-b")),
        format!("/clusters/{}", unique("ws-c")),
    );
    let proxy = PathProxy::start_many(&kubeconfig(), &[(&a, &[][..]), (&b, &[]), (&c, &[])]).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = contexts(dir.path(), &proxy, &[("ws-a", &a), ("ws-b", &b), ("ws-c", &c)]);
    let modules = format!("{plain},{modern}");
    let deploy = |extra: &[&str]| {
        let args = rollout_args(&cat_dir, &modules, extra);
        let kc = kc.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let refs: Vec<&str> = args.iter().map(String::as_str).collect();
                deploy_at(&kc, &refs)
            })
            .await
            .unwrap()
        }
    };
    let requests_to = |prefix: &str| {
        proxy
            .seen()
            .iter()
            .filter(|p| under_workspace(p, prefix).is_some())
            .count()
    };

    // Waves 1, 2, then the rest; no failure allowed. The 1.20 bed (wave 2) refuses the CEL module: the
    // rollout halts, and the workspaces of wave 3 get not one request.
    let (rc, doc, stderr) = deploy(&["--waves", "1,2,100%"]).await;
    assert_eq!(rc, 7, "a halted rollout exits 7: {doc:#}\n{stderr}");
    assert_eq!(cluster_of(&doc, "ws-a")["exitCode"], 0, "{doc:#}");
    assert_eq!(cluster_of(&doc, "old")["exitCode"], 1, "{doc:#}");
    for halted in ["ws-b", "ws-c"] {
        let r = cluster_of(&doc, halted);
        assert_eq!(r["exitCode"], 7, "{doc:#}");
        assert_eq!(r["state"], "NotStarted", "{doc:#}");
    }
    assert_eq!(
        requests_to(&b) + requests_to(&c),
        0,
        "nothing was sent to the clusters not started"
    );
    assert!(requests_to(&a) > 0);
    let rollout = &doc["rollout"];
    assert_eq!(rollout["halted"], true, "{rollout:#}");
    assert_eq!(rollout["notStarted"], 2);
    assert_eq!(rollout["maxFailures"], 0);
    let states: Vec<&str> = rollout["waves"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["Ready", "Failed", "NotStarted"], "{rollout:#}");
    assert!(
        stderr.contains("wave 1/3: 1 cluster") && stderr.contains("wave 2/3: 1 cluster"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("wave 3/3"),
        "the halted wave is not announced: {stderr}"
    );

    // The table says what halted and what was not started.
    let mut args = vec!["deploy".to_string()];
    args.extend(rollout_args(&cat_dir, &modules, &["--waves", "1,2,100%"]));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = kyma_at(&kc, &args);
    let (stdout, _) = text(&out);
    assert_eq!(code(&out), 7, "{stdout}");
    assert!(
        stdout.contains("rollout: wave 1 (1 cluster) ok; wave 2 (1 cluster) 1 failed; halted (1 failure, --max-failures 0): 2 clusters not started"),
        "{stdout}"
    );
    assert!(stdout.contains("2 not started (rollout halted)"), "{stdout}");
    assert_eq!(requests_to(&b) + requests_to(&c), 0);

    // A budget of one failure: the rollout goes on past the 1.20 bed, and every workspace gets the
    // modules; the run's exit is the failed module's.
    let (rc, doc, stderr) = deploy(&["--waves", "1,2,100%", "--max-failures", "1"]).await;
    assert_eq!(rc, 1, "{doc:#}\n{stderr}");
    assert_eq!(doc["rollout"]["halted"], false, "{doc:#}");
    for ws in ["ws-a", "ws-b", "ws-c"] {
        assert_eq!(cluster_of(&doc, ws)["exitCode"], 0, "{doc:#}");
    }
    assert!(requests_to(&b) > 0 && requests_to(&c) > 0);
    assert!(
        stderr.contains("wave 3/3: 2 clusters (4 of 4 clusters reached when it is done)"),
        "{stderr}"
    );

    // Bad flags are said before anything is done; one cluster is one wave of it.
    let plain_to = |contexts: &[&str], extra: &[&str]| {
        let mut args = vec!["deploy", "--catalog", &cat_dir, "--modules", &plain];
        for c in contexts {
            args.extend(["--context", c]);
        }
        args.extend_from_slice(extra);
        kyma_at(&kc, &args)
    };
    let out = plain_to(&["ws-a"], &["--waves", "5,10%"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    let out = plain_to(&["ws-a", "ws-b"], &["--waves", "0"]);
    assert_eq!(code(&out), 2, "{:?}", text(&out));
    assert!(text(&out).1.contains("'0' is not a wave"), "{:?}", text(&out));
    let out = plain_to(&["ws-a"], &["--waves", "1", "--no-wait"]);
    assert_eq!(code(&out), 2, "{:?}", text(&out));

    // Waves by a label of the contexts (their kyma-project.io/labels extension), not by their order
    // in the kubeconfig (ws-a, ws-b, ws-c, old): ring 0 is ws-a, ring 1 the 1.20 bed, ring 2 ws-b; ws-c
    // has no label and comes last. The 1.20 bed halts the rollout: ws-b and ws-c get nothing.
    let mut doc = kyma::testkit::yaml::parse(&std::fs::read_to_string(&kc).unwrap()).unwrap();
    for ctx in doc["contexts"].as_array_mut().unwrap() {
        let ring = match ctx["name"].as_str().unwrap() {
            "ws-a" => "0",
            "old" => "1",
            "ws-b" => "2",
            _ => continue,
        };
        ctx["context"]["extensions"] =
            serde_json::json!([{"name": "kyma-project.io/labels", "extension": {"ring": ring}}]);
    }
    let labelled = dir.path().join("labelled.kubeconfig");
    std::fs::write(&labelled, kyma::testkit::yaml::to_string(&doc)).unwrap();
    let before = requests_to(&b) + requests_to(&c);
    let (rc, doc, stderr) = deploy_at(
        &labelled,
        &[
            "--catalog",
            &cat_dir,
            "--modules",
            &modules,
            "--timeout",
            "120s",
            "--all-contexts",
            "--waves-by",
            "ring",
        ],
    );
    assert_eq!(rc, 7, "{doc:#}\n{stderr}");
    assert_eq!(cluster_of(&doc, "ws-a")["exitCode"], 0, "{doc:#}");
    assert_eq!(cluster_of(&doc, "old")["exitCode"], 1, "{doc:#}");
    for halted in ["ws-b", "ws-c"] {
        assert_eq!(cluster_of(&doc, halted)["state"], "NotStarted", "{doc:#}");
    }
    assert_eq!(
        requests_to(&b) + requests_to(&c),
        before,
        "nothing sent to ring 2 and the unlabelled"
    );
    assert!(
        stderr.contains("wave 2/4: 1 cluster (2 of 4 clusters"),
        "{stderr}"
    );

    // Clean up: the main bed (through any workspace) and the 1.20 bed.
    let out = kyma_at(
        &kc,
        &[
            "undeploy",
            "--modules",
            &plain,
            "--context",
            "ws-a",
            "--context",
            "old",
        ],
    );
    assert!(code(&out) == 0, "{:?}", text(&out));
    let out = kyma_at(&kc, &["undeploy", "--modules", &modern, "--context", "ws-a"]);
    assert!(code(&out) == 0, "{:?}", text(&out));
}

/// The operator's rollout: four modules, one per `Kyma` object, each in 1.0.0 (a ConfigMap saying
/// which) and 2.0.0 (the same and a CRD with CEL validation, which a 1.20 server refuses); `fast` maps
/// all four to 1.0.0, then moves to 2.0.0.
fn channel_catalog(modules: &[String], ns: &str, fast: &str) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for (i, m) in modules.iter().enumerate() {
        for v in ["1.0.0", "2.0.0"] {
            files.push((
                format!("{m}/{v}/module.yaml"),
                format!("apiVersion: kyma.module/v1\nname: {m}\nversion: {v}\nnamespace: {ns}-{i}\n"),
            ));
            files.push((
                format!("{m}/{v}/templates/cm.yaml"),
                format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: which\ndata:\n  version: \"{v}\"\n"
                ),
            ));
        }
        let group = format!("{m}.kyma.test");
        files.push((
            format!("{m}/2.0.0/templates/crd.yaml"),
            format!(
                "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gates.{group}\nspec:\n  group: {group}\n  scope: Namespaced\n  names: {{kind: Gate, plural: gates, singular: gate, listKind: GateList}}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            x-kubernetes-validations: [{{rule: \"has(self.size)\", message: \"size is required\"}}]\n            properties: {{size: {{type: integer}}}}\n"
            ),
        ));
    }
    files.push(("releases.yaml".into(), release_metas(modules, fast)));
    files
}

fn release_metas(modules: &[String], fast: &str) -> String {
    modules
        .iter()
        .map(|m| {
            format!(
                "# fast: {fast}\napiVersion: operator.kyma-project.io/v1beta2\nkind: ModuleReleaseMeta\nmetadata: {{name: {m}, namespace: kcp-system}}\nspec:\n  moduleName: {m}\n  channels:\n  - {{channel: regular, version: 1.0.0}}\n  - {{channel: fast, version: {fast}}}\n"
            )
        })
        .collect::<Vec<_>>()
        .join("---\n")
}

/// `kubectl` as a person would run it (the bed's own).
fn kubectl(kubeconfig: &std::path::Path, args: &[&str]) -> std::process::Output {
    let root = env!("CARGO_MANIFEST_DIR");
    let which = std::process::Command::new("bash")
        .arg(format!("{root}/scripts/test-bed.sh"))
        .arg("kubectl")
        .output()
        .expect("scripts/test-bed.sh kubectl");
    let kubectl = String::from_utf8_lossy(&which.stdout).trim().to_string();
    assert!(!kubectl.is_empty(), "no kubectl: {which:?}");
    std::process::Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .unwrap()
}

/// `kubectl wait` on the rollout.
fn kubectl_wait(kubeconfig: &std::path::Path, ns: &str, condition: &str) -> (i32, String) {
    let out = kubectl(
        kubeconfig,
        &[
            "-n",
            ns,
            "wait",
            "channelrollout/fast",
            "--timeout=240s",
            &format!("--for=condition={condition}"),
        ],
    );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (code(&out), said)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn the_operator_moves_a_channel_in_waves_pauses_on_a_failure_and_resumes_by_one_edit() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let old = cluster_at(&compat_kubeconfig()).await;
    let ns = unique("oproll");
    let modules: Vec<String> = (0..4).map(|i| format!("{}-{i}", unique("roll"))).collect();
    let cat = catalog(
        &channel_catalog(&modules, &ns, "1.0.0")
            .iter()
            .map(|(p, t)| (p.as_str(), t.clone()))
            .collect::<Vec<_>>(),
    );
    let home = unique("oproll-home");
    create_namespace(&c, &home).await;
    let (op, kymas, run) = crate::operator::Operator::for_run(&c, cat.path(), &[]).await;
    let rollouts = eventually(Duration::from_secs(30), || async {
        let _ = c
            .discovery
            .refresh(&c, "installer.kyma-project.io/v1alpha1")
            .await;
        c.discovery
            .resolve("installer.kyma-project.io/v1alpha1", "ChannelRollout")
    })
    .await
    .expect("the operator serves ChannelRollout");

    // k1 → this cluster; k2 → the 1.20 bed; k3, k4 → two workspaces of this bed through the proxy (which
    // sees every request each gets).
    let (ws3, ws4) = (
        format!("/clusters/{}", unique("ws3")),
        format!("/clusters/{}", unique("ws4")),
    );
    let proxy = PathProxy::start_many(&kubeconfig(), &[(&ws3, &[][..]), (&ws4, &[])]).await;
    let dir = tempfile::tempdir().unwrap();
    let secrets = resource(&c, "v1", "Secret");
    use base64::Engine as _;
    for (name, text) in [
        ("old", inline_kubeconfig(&compat_kubeconfig())),
        (
            "ws3",
            std::fs::read_to_string(proxy.kubeconfig_for(dir.path(), "ws3", &ws3)).unwrap(),
        ),
        (
            "ws4",
            std::fs::read_to_string(proxy.kubeconfig_for(dir.path(), "ws4", &ws4)).unwrap(),
        ),
    ] {
        let data = base64::engine::general_purpose::STANDARD.encode(text);
        c.apply(
            &secrets,
            &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": home},
                    "data": {"config": data}}),
            Default::default(),
        )
        .await
        .unwrap();
    }
    let objects = [
        ("k1", None),
        ("k2", Some("old")),
        ("k3", Some("ws3")),
        ("k4", Some("ws4")),
    ];
    for ((name, secret), module) in objects.iter().zip(&modules) {
        let mut spec = json!({"channel": "fast", "modules": [{"name": module}]});
        if let Some(s) = secret {
            spec["kubeconfigSecretRef"] = json!({"name": s});
        }
        c.apply(
            &kymas,
            &crate::operator::kyma_in(name, &home, &run, spec),
            Default::default(),
        )
        .await
        .unwrap();
    }
    let rollout = json!({"apiVersion": "installer.kyma-project.io/v1alpha1", "kind": "ChannelRollout",
        "metadata": {"name": "fast", "namespace": home, "labels": {"kyma-test/run": run}},
        "spec": {"waves": ["1", "2", "100%"]}});
    c.apply(&rollouts, &rollout, Default::default()).await.unwrap();

    let version_of = |name: &'static str| {
        let (c, kymas, home) = (c.clone(), kymas.clone(), home.clone());
        async move {
            let k = c.get(&kymas, Some(&home), name).await.ok()??;
            Some((k["status"]["modules"][0].clone(), crate::operator::ready(&k)))
        }
    };
    let all_at = |want: &'static str| async move {
        eventually(Duration::from_secs(240), || async {
            for (name, _) in objects {
                let (m, ready) = version_of(name).await?;
                (m["version"] == want && ready).then_some(())?;
            }
            Some(())
        })
        .await
    };
    // New objects take the channel's version at once: nothing to keep.
    all_at("1.0.0")
        .await
        .unwrap_or_else(|| panic!("all on 1.0.0; operator log:\n{}", op.log()));
    let kc = kubeconfig();
    let wait = |condition: &'static str| {
        let (kc, home) = (kc.clone(), home.clone());
        tokio::task::spawn_blocking(move || kubectl_wait(&kc, &home, condition))
    };
    let (rc, said) = wait("Complete").await.unwrap();
    assert_eq!(rc, 0, "{said}\noperator log:\n{}", op.log());

    // The channel moves: wave 1 (k1) takes 2.0.0, wave 2 (k2, the 1.20 bed) fails, the rollout pauses
    // and k3, k4 keep 1.0.0 — not one write reaches their workspaces.
    let writes_before = proxy.writes.lock().unwrap().len();
    std::fs::write(cat.path().join("releases.yaml"), release_metas(&modules, "2.0.0")).unwrap();
    let (rc, said) = wait("Paused").await.unwrap();
    assert_eq!(rc, 0, "{said}\noperator log:\n{}", op.log());
    let r = c.get(&rollouts, Some(&home), "fast").await.unwrap().unwrap();
    let status = &r["status"];
    assert_eq!(status["state"], "Paused", "{status:#}");
    assert_eq!(status["failed"], json!(["k2"]), "{status:#}");
    assert_eq!(
        (status["wave"].as_str(), status["updated"].as_str()),
        (Some("3/3"), Some("1/4")),
        "wave 3 is the one held: {status:#}"
    );
    assert!(
        status["message"].as_str().unwrap().starts_with(
            "paused: 1 failed, more than maxFailures 0 allows: k2 (ModuleFailed); 2 objects keep their version"
        ),
        "{status:#}"
    );
    // What a person sees.
    let out = kubectl(&kc, &["-n", &home, "get", "channelrollouts"]);
    let (table, _) = text(&out);
    eprintln!("{table}");
    let row: Vec<&str> = table
        .lines()
        .nth(1)
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(row[..5], ["fast", "Paused", "3/3", "1/4", "paused:"], "{table}");
    let (m1, ready1) = version_of("k1").await.unwrap();
    assert_eq!((m1["version"].as_str(), ready1), (Some("2.0.0"), true), "{m1:#}");
    let (m2, _) = version_of("k2").await.unwrap();
    assert_eq!(m2["version"], "2.0.0", "{m2:#}");
    // Held over several resyncs (3 s each).
    tokio::time::sleep(Duration::from_secs(10)).await;
    for name in ["k3", "k4"] {
        let (m, ready) = version_of(name).await.unwrap();
        assert_eq!(
            (m["version"].as_str(), ready),
            (Some("1.0.0"), true),
            "{name}: {m:#}"
        );
        assert_eq!(m["heldBy"], "ChannelRollout fast", "{name}: {m:#}");
    }
    let cms = resource(&c, "v1", "ConfigMap");
    for i in [2, 3] {
        let cm = c
            .get(&cms, Some(&format!("{ns}-{i}")), "which")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(cm["data"]["version"], "1.0.0", "{cm:#}");
    }
    let writes: Vec<String> = proxy.writes.lock().unwrap()[writes_before..].to_vec();
    assert_eq!(
        writes,
        Vec::<String>::new(),
        "nothing written to the held workspaces"
    );
    let cm1 = c
        .get(&cms, Some(&format!("{ns}-0")), "which")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cm1["data"]["version"], "2.0.0");

    // One edit resumes: a budget of one failure lets wave 3 go.
    c.merge_patch(
        &rollouts,
        Some(&home),
        "fast",
        None,
        &json!({"spec": {"maxFailures": 1}}),
    )
    .await
    .unwrap();
    let (rc, said) = wait("Complete").await.unwrap();
    assert_eq!(rc, 0, "{said}\noperator log:\n{}", op.log());
    for name in ["k3", "k4"] {
        let (m, ready) = version_of(name).await.unwrap();
        assert_eq!(
            (m["version"].as_str(), ready),
            (Some("2.0.0"), true),
            "{name}: {m:#}\noperator log:\n{}",
            op.log()
        );
        assert_eq!(m["heldBy"], Value::Null, "{name}: {m:#}");
    }
    let r = c.get(&rollouts, Some(&home), "fast").await.unwrap().unwrap();
    assert_eq!(
        r["status"]["message"], "3 of 4 objects updated; 1 failed, within maxFailures 1: k2 (ModuleFailed)",
        "{:#}",
        r["status"]
    );
    assert!(!proxy.writes.lock().unwrap()[writes_before..].is_empty());

    // Deleting the objects undeploys what they deployed, on every cluster.
    for (name, _) in objects {
        let _ = c.delete(&kymas, Some(&home), name).await;
    }
    let gone = eventually(Duration::from_secs(240), || async {
        for (name, _) in objects {
            c.get(&kymas, Some(&home), name)
                .await
                .ok()?
                .is_none()
                .then_some(())?;
        }
        Some(())
    })
    .await;
    assert!(gone.is_some(), "operator log:\n{}", op.log());
    let old_cms = resource(&old, "v1", "ConfigMap");
    assert!(
        old.get(&old_cms, Some(&format!("{ns}-1")), "which")
            .await
            .unwrap()
            .is_none()
    );
    drop(op);
    let nss = resource(&c, "v1", "Namespace");
    let _ = c.delete(&nss, None, &home).await;
}

//! A progressive rollout over several clusters (`--waves`, `--max-failures`): workspaces of the main bed
//! through the path-prefix proxy (each its own cluster to kyma, and the proxy sees every request each
//! gets) and the 1.20 bed, which refuses the module. A failing wave halts the rest, which get no
//! request; within the failure budget the rollout goes on.

use serde_json::Value;

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

//! Several clusters in one run: the 1.37 bed, the 1.20 bed (its own port and CA) and a context whose
//! server does not answer. Each is worked on by itself; the report has a section per cluster and the
//! exit code is the most serious one.

use serde_json::{Value, json};

use crate::support::*;

/// A bed's kubeconfig with its cluster, user and context renamed `name`, so several fit in one file.
pub(crate) fn renamed(kubeconfig: &std::path::Path, name: &str) -> Value {
    let text = std::fs::read_to_string(kubeconfig).unwrap();
    let mut kc = kyma::testkit::yaml::parse(&text).unwrap();
    kc["clusters"][0]["name"] = json!(name);
    kc["users"][0]["name"] = json!(name);
    kc["contexts"][0] = json!({"name": name, "context": {"cluster": name, "user": name}});
    kc["current-context"] = json!(name);
    kc
}

pub(crate) fn merged(dir: &std::path::Path, parts: &[Value]) -> std::path::PathBuf {
    let mut all = parts[0].clone();
    for key in ["clusters", "users", "contexts"] {
        all[key] = json!(
            parts
                .iter()
                .flat_map(|p| p[key].as_array().unwrap().clone())
                .collect::<Vec<_>>()
        );
    }
    let path = dir.join("fleet.kubeconfig");
    std::fs::write(&path, kyma::testkit::yaml::to_string(&all)).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn three_clusters_in_one_run_each_reported_and_the_worst_exit_wins() {
    let _shared = CLUSTER.read().await;
    let ns = unique("fleet");
    let (plain, modern) = (unique("plain"), unique("modern"));
    let group = format!("{ns}.kyma.test");
    let cat = catalog(&[
        (
            &format!("{plain}/module.yaml"),
            crate::deploy::module_yaml(&plain, &ns),
        ),
        (
            &format!("{plain}/templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata: {a: b}\n".into(),
        ),
        (
            &format!("{modern}/module.yaml"),
            format!("{}name: {modern}\n", crate::deploy::MODULE),
        ),
        (
            // CEL validation rules: Kubernetes 1.25 and later. The 1.20 cluster refuses the module.
            &format!("{modern}/templates/crd.yaml"),
            format!(
                "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: checks.{group}\nspec:\n  group: {group}\n  scope: Namespaced\n  names: {{kind: Check, plural: checks, singular: check, listKind: CheckList}}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            x-kubernetes-validations: [{{rule: \"has(self.size)\", message: \"size is required\"}}]\n            properties: {{size: {{type: integer}}}}\n"
            ),
        ),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let mut dead = renamed(&kubeconfig(), "dead");
    dead["clusters"][0]["cluster"]["server"] = json!("https://127.0.0.1:1");
    let kc = merged(
        dir.path(),
        &[
            renamed(&kubeconfig(), "new"),
            renamed(&compat_kubeconfig(), "old"),
            dead,
        ],
    );
    let modules = format!("{plain},{modern}");
    let catalog_dir = cat.path().to_str().unwrap().to_string();
    let (kc2, m2) = (kc.clone(), modules.clone());
    let out = tokio::task::spawn_blocking(move || {
        kyma(&[
            "deploy",
            "--kubeconfig",
            kc2.to_str().unwrap(),
            "--context",
            "new",
            "--context",
            "old",
            "--context",
            "dead",
            "--catalog",
            &catalog_dir,
            "--modules",
            &m2,
            "--timeout",
            "90s",
            "--wait-for-cluster",
            "2s",
            "-o",
            "json",
        ])
    })
    .await
    .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(
        code(&out),
        4,
        "unreachable (4) outranks a failed module (1):\n{stdout}\n{stderr}"
    );
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["exitCode"], 4);
    let clusters = doc["clusters"].as_array().unwrap();
    let labels: Vec<&str> = clusters.iter().map(|c| c["cluster"].as_str().unwrap()).collect();
    assert_eq!(labels, ["new", "old", "dead"], "{doc:#}");
    let state = |c: &Value, m: &str| {
        c["modules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == m)
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(clusters[0]["exitCode"], 0, "{doc:#}");
    assert_eq!(state(&clusters[0], &plain), "Ready");
    assert_eq!(state(&clusters[0], &modern), "Ready");
    assert_eq!(clusters[1]["exitCode"], 1, "{doc:#}");
    assert_eq!(
        state(&clusters[1], &plain),
        "Ready",
        "the old cluster still gets what it can run"
    );
    assert_eq!(state(&clusters[1], &modern), "Failed");
    assert_eq!(clusters[2]["exitCode"], 4, "{doc:#}");
    assert!(
        clusters[2]["error"]
            .as_str()
            .unwrap()
            .contains("cannot reach https://127.0.0.1:1"),
        "{doc:#}"
    );
    assert!(
        stderr.contains(&format!("new/{plain}")) && stderr.contains(&format!("old/{modern}")),
        "live lines say which cluster: {stderr}"
    );
    // What the report says is on the servers.
    for bed in [kubeconfig(), compat_kubeconfig()] {
        let c = cluster_at(&bed).await;
        let cms = resource(&c, "v1", "ConfigMap");
        assert!(
            c.get(&cms, Some(&ns), "settings").await.unwrap().is_some(),
            "{}",
            bed.display()
        );
    }

    // Two kubeconfig files whose contexts share a name, in a table: a section each, told apart by
    // file, and a summary line.
    let (main, old) = (kubeconfig(), compat_kubeconfig());
    let out = kyma(&[
        "status",
        "--kubeconfig",
        main.to_str().unwrap(),
        "--kubeconfig",
        old.to_str().unwrap(),
        "--modules",
        &plain,
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stdout}\n{stderr}");
    for bed in [&main, &old] {
        assert!(
            stdout.contains(&format!("== kyma-test-bed@{} (exit 0: ok) ==", bed.display())),
            "{stdout}"
        );
    }
    assert!(stdout.contains("2 clusters: "), "{stdout}");
    assert!(
        stdout.matches(&plain).count() >= 2,
        "the module in both sections: {stdout}"
    );

    let out = kyma(&[
        "undeploy",
        "--kubeconfig",
        kc.to_str().unwrap(),
        "--context",
        "new",
        "--context",
        "old",
        "--modules",
        &modules,
        "--timeout",
        "60s",
    ]);
    let (stdout, stderr) = text(&out);
    // The old cluster never got the refused module: undeploying it there is bad input (2).
    assert!(stdout.contains("== new (exit 0: ok) =="), "{stdout}\n{stderr}");
    assert_eq!(code(&out), 2, "{stdout}\n{stderr}");
    let out = kyma(&[
        "undeploy",
        "--kubeconfig",
        kc.to_str().unwrap(),
        "--context",
        "old",
        "--modules",
        &plain,
    ]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

//! kcp workspaces and other Kubernetes-compatible endpoints, through a path-prefix proxy in front of
//! the bed (every request reaches the real server; the proxy strips `/clusters/<workspace>` and
//! records what it was asked for).

use std::collections::BTreeSet;

use crate::deploy::module_yaml;
use crate::support::*;

/// A catalog of one module: two ConfigMaps and a CRD of `group`, in namespace `ns`.
fn module_catalog(name: &str, ns: &str, group: &str) -> tempfile::TempDir {
    let files = [
        (format!("{name}/module.yaml"), module_yaml(name, ns)),
        (
            format!("{name}/templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata: {a: b}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: more\ndata: {c: d}\n".into(),
        ),
        (
            format!("{name}/templates/crd.yaml"),
            format!("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.{group}\nspec:\n  group: {group}\n  scope: Namespaced\n  names: {{kind: Widget, plural: widgets, singular: widget, listKind: WidgetList}}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}\n"),
        ),
    ];
    let refs: Vec<(&str, String)> = files.iter().map(|(p, c)| (p.as_str(), c.clone())).collect();
    catalog(&refs)
}

/// Paths with names and query strings taken out, for a readable record.
fn shapes(paths: &[String], prefix: &str, ns: &str, name: &str) -> BTreeSet<String> {
    paths
        .iter()
        .map(|p| {
            p.trim_start_matches(prefix)
                .split('?')
                .next()
                .unwrap_or("")
                .replace(ns, "NS")
                .replace(name, "MODULE")
        })
        .collect()
}

/// A workspace URL keeps its path on every request (discovery, apply, watch, inventory, lock, delete),
/// and deploy, status and diff call no API group the module does not use: for ConfigMaps and a CRD,
/// nothing under `/apis/apps`, no Pods, no Nodes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_workspace_url_keeps_its_path_and_only_groups_in_use_are_called() {
    let _shared = CLUSTER.read().await;
    let ns = unique("ws");
    let name = unique("wsmod");
    let group = format!("{ns}.kyma.test");
    let prefix = format!("/clusters/root:org:{}", unique("team"));
    let proxy = PathProxy::start(&kubeconfig(), &prefix, &[]).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = proxy.kubeconfig(dir.path(), "workspace");
    let cat = module_catalog(&name, &ns, &group);
    let catalog_dir = cat.path().to_str().unwrap().to_string();
    let run = move |args: Vec<String>| {
        let kc = kc.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                kyma_at(&kc, &args)
            })
            .await
            .unwrap()
        }
    };
    let sel = |cmd: &str| -> Vec<String> {
        let mut v: Vec<String> = vec![cmd.into(), "--catalog".into(), catalog_dir.clone()];
        v.extend(["--modules".to_string(), name.clone()]);
        v
    };
    let mut deploy = sel("deploy");
    deploy.extend(["--timeout".into(), "60s".into(), "-o".into(), "json".into()]);
    let out = run(deploy.clone()).await;
    let doc = json_of(&out);
    assert_eq!(code(&out), 0, "{doc:#}\n{}", text(&out).1);
    assert_eq!(doc["modules"][0]["state"], "Ready", "{doc:#}");
    assert_eq!(
        doc["server"].as_str().unwrap(),
        format!("{}{prefix}", proxy.base),
        "{doc:#}"
    );

    let out = run(vec![
        "status".into(),
        "--modules".into(),
        name.clone(),
        "--check".into(),
    ])
    .await;
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    let out = run(sel("diff")).await;
    assert_eq!(code(&out), 0, "no changes: {:?}", text(&out));
    // Deploy, status and diff: only what the module uses. (Undeploy, below, lists every namespaced
    // kind the server serves before it deletes the namespace it created — the guard that never takes
    // what is not ours has to look everywhere; on a workspace that is what discovery lists there.)
    let seen = proxy.seen();
    let out = run(vec![
        "undeploy".into(),
        "--modules".into(),
        name.clone(),
        "--timeout".into(),
        "60s".into(),
    ])
    .await;
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    let all = proxy.seen();
    let lost: Vec<&String> = all.iter().filter(|p| !p.starts_with(&prefix)).collect();
    assert!(
        lost.is_empty(),
        "undeploy's requests lost the workspace path: {lost:?}"
    );

    assert!(seen.len() > 10, "the proxy saw the run: {seen:?}");
    let outside: Vec<&String> = seen.iter().filter(|p| !p.starts_with(&prefix)).collect();
    assert!(
        outside.is_empty(),
        "requests lost the workspace path: {outside:?}"
    );
    let untouchable = [
        "/apis/apps",
        "/api/v1/pods",
        "/api/v1/nodes",
        "/apis/batch",
        "/apis/networking.k8s.io",
    ];
    let strayed: Vec<&String> = seen
        .iter()
        .filter(|p| {
            untouchable
                .iter()
                .any(|u| p.trim_start_matches(&prefix).starts_with(u))
        })
        .collect();
    assert!(
        strayed.is_empty(),
        "groups the module does not use were called: {strayed:?}"
    );
    let shapes = shapes(&seen, &prefix, &ns, &name);
    figure(format!(
        "a ConfigMap + CRD module through a workspace prefix (deploy, status, diff): {} requests, all under {prefix}; distinct paths: {}",
        seen.len(),
        shapes.into_iter().collect::<Vec<_>>().join(" ")
    ));
}

/// A workspace without `coordination.k8s.io`: deploy and undeploy go on without the cluster lock and
/// say so, instead of failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn without_leases_the_run_goes_on_unlocked_and_says_so() {
    let _shared = CLUSTER.read().await;
    let ns = unique("nolease");
    let name = unique("nlmod");
    let prefix = format!("/clusters/root:{}", unique("bare"));
    let proxy = PathProxy::start(&kubeconfig(), &prefix, &["coordination.k8s.io"]).await;
    let dir = tempfile::tempdir().unwrap();
    let kc = proxy.kubeconfig(dir.path(), "bare");
    let cat = module_catalog(&name, &ns, &format!("{ns}.kyma.test"));
    let c = cat.path().to_str().unwrap().to_string();
    let (kc2, name2) = (kc.clone(), name.clone());
    let out = tokio::task::spawn_blocking(move || {
        kyma_at(
            &kc2,
            &["deploy", "--catalog", &c, "--modules", &name2, "--timeout", "60s"],
        )
    })
    .await
    .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("serves no coordination.k8s.io/v1 Leases")
            && stderr.contains("without the cluster lock"),
        "{stderr}"
    );
    let out = tokio::task::spawn_blocking(move || {
        kyma_at(&kc, &["undeploy", "--modules", &name, "--timeout", "60s"])
    })
    .await
    .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stdout}\n{stderr}");
    assert!(stderr.contains("without the cluster lock"), "{stderr}");
    assert!(
        !proxy.seen().iter().any(|p| p.contains("coordination.k8s.io/v1/")),
        "nothing asked for a Lease after discovery said there are none"
    );
}

/// Two workspaces of one host (same scheme, host and port; only the path differs) in one run: each
/// gets its own discovery. `beta` serves no Leases, `alpha` does: alpha's deploy takes the cluster lock,
/// beta's goes on without it and says so — a discovery shared by host would make both do the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn two_workspaces_of_one_host_keep_their_own_discovery() {
    let _shared = CLUSTER.read().await;
    let ns = unique("twows");
    let name = unique("twomod");
    let alpha = format!("/clusters/root:org:{}", unique("alpha"));
    // One workspace's name starts with the other's: the proxy and the record below match whole path
    // segments, so neither is taken for the other.
    let beta = format!("{alpha}-beta");
    let proxy = PathProxy::start_many(
        &kubeconfig(),
        &[(alpha.as_str(), &[]), (beta.as_str(), &["coordination.k8s.io"])],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (ka, kb) = (
        proxy.kubeconfig_for(dir.path(), "alpha", &alpha),
        proxy.kubeconfig_for(dir.path(), "beta", &beta),
    );
    let cat = module_catalog(&name, &ns, &format!("{ns}.kyma.test"));
    let c = cat.path().to_str().unwrap().to_string();
    let (a, b, n) = (
        ka.to_str().unwrap().to_string(),
        kb.to_str().unwrap().to_string(),
        name.clone(),
    );
    let out = tokio::task::spawn_blocking(move || {
        kyma(&[
            "deploy",
            "--kubeconfig",
            &a,
            "--kubeconfig",
            &b,
            "--catalog",
            &c,
            "--modules",
            &n,
            "--timeout",
            "60s",
            "-o",
            "json",
        ])
    })
    .await
    .unwrap();
    let doc = json_of(&out);
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{doc:#}\n{stderr}");
    let clusters = doc["clusters"].as_array().expect("one document per workspace");
    let labels: Vec<&str> = clusters.iter().filter_map(|c| c["cluster"].as_str()).collect();
    assert_eq!(labels, ["alpha", "beta"], "{doc:#}");
    // Both workspaces are the one bed underneath: alpha may queue for the lock (other tests hold it)
    // while beta, unlocked, installs the module; alpha then finds it installed and unchanged.
    for c in clusters {
        let m = &c["modules"][0];
        assert!(
            matches!(m["state"].as_str(), Some("Ready" | "Skipped")) && m["ready"] == m["total"],
            "{doc:#}"
        );
    }
    assert_eq!(clusters[1]["modules"][0]["state"], "Ready", "{doc:#}");
    let unlocked: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("without the cluster lock"))
        .collect();
    assert_eq!(unlocked.len(), 1, "one workspace without Leases: {stderr}");
    assert!(unlocked[0].starts_with("beta: "), "{stderr}");

    let seen = proxy.seen();
    let of = |p: &str| -> Vec<String> {
        seen.iter()
            .filter_map(|s| under_workspace(s, p))
            .map(|r| r.split('?').next().unwrap_or("").to_string())
            .collect()
    };
    let (in_alpha, in_beta) = (of(&alpha), of(&beta));
    assert_eq!(
        in_alpha.len() + in_beta.len(),
        seen.len(),
        "every request under one of the workspaces: {seen:?}"
    );
    for (ws, paths) in [("alpha", &in_alpha), ("beta", &in_beta)] {
        for discovery in ["/version", "/api", "/apis"] {
            assert!(
                paths.iter().any(|p| p == discovery),
                "{ws} asked for {discovery} itself: {paths:?}"
            );
        }
    }
    assert!(
        in_alpha
            .iter()
            .any(|p| p.starts_with("/apis/coordination.k8s.io/v1/")),
        "alpha took the lock: {in_alpha:?}"
    );
    assert!(
        !in_beta
            .iter()
            .any(|p| p.starts_with("/apis/coordination.k8s.io/v1/")),
        "beta, which serves no Leases, was never asked for one: {in_beta:?}"
    );
    figure(format!(
        "two workspaces of one host in one deploy: {} requests under alpha, {} under beta, each with its own discovery",
        in_alpha.len(),
        in_beta.len()
    ));

    // Both workspaces are the one bed underneath: one undeploy removes what both deployed.
    let out = tokio::task::spawn_blocking(move || {
        kyma_at(&ka, &["undeploy", "--modules", &name, "--timeout", "60s"])
    })
    .await
    .unwrap();
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

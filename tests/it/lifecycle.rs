//! After the first deploy: upgrade with prune, adoption guard, empty renders, interruption, undeploy,
//! status drift, diff, and the cluster lock. Real test bed, no mocks.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

fn json_out(args: &[&str]) -> (i32, Value, String) {
    let mut all = args.to_vec();
    all.extend_from_slice(&["-o", "json"]);
    let out = kyma(&all);
    let (stdout, stderr) = text(&out);
    (
        code(&out),
        serde_json::from_str(&stdout).unwrap_or_else(|_| json!({"unparsed": stdout})),
        stderr,
    )
}

fn state(doc: &Value, module: &str) -> String {
    doc["modules"]
        .as_array()
        .and_then(|a| a.iter().find(|m| m["name"] == module))
        .map(|m| m["state"].as_str().unwrap_or("").to_string())
        .unwrap_or_default()
}

fn cm(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  v: \"{{{{ values.v | default(value='1') }}}}\"\n"
    )
}

/// A module `life` in two versions: v1 has ConfigMaps keep+old, v2 has keep+new.
fn two_versions(ns: &str) -> tempfile::TempDir {
    let m = |v: &str| format!("apiVersion: kyma.module/v1\nname: life\nversion: {v}\nnamespace: {ns}\n");
    catalog(&[
        ("life/1.0.0/module.yaml", m("1.0.0")),
        ("life/1.0.0/templates/a.yaml", cm("keep")),
        ("life/1.0.0/templates/b.yaml", cm("old")),
        ("life/2.0.0/module.yaml", m("2.0.0")),
        ("life/2.0.0/templates/a.yaml", cm("keep")),
        ("life/2.0.0/templates/c.yaml", cm("new")),
        ("life/3.0.0/module.yaml", m("3.0.0")),
        (
            "life/3.0.0/templates/none.yaml",
            "{% if false %}\napiVersion: v1\n{% endif %}\n".into(),
        ),
    ])
}

async fn exists(c: &kyma::testkit::cluster::Cluster, ns: &str, name: &str) -> bool {
    c.get(&resource(c, "v1", "ConfigMap"), Some(ns), name)
        .await
        .unwrap()
        .is_some()
}

/// v1 → v2 drops one object and adds another: the dropped one is deleted, the new one exists, a user's
/// object beside them survives, and the ApplySet labels are KEP-3659's. An empty render (v3) prunes
/// nothing unless --allow-empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn upgrade_prunes_only_what_was_dropped_and_empty_renders_prune_nothing() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("life");
    let cat = two_versions(&ns);
    let dir = cat.path().to_str().unwrap();
    let (rc, doc, stderr) = json_out(&["deploy", "--catalog", dir, "--modules", "life@1.0.0"]);
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    let cms = resource(&c, "v1", "ConfigMap");
    c.apply(&cms, &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "users-own", "namespace": ns}, "data": {"x": "y"}}), Default::default()).await.unwrap();

    let out = kyma(&["deploy", "--catalog", dir, "--modules", "life@2.0.0"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stdout}\n{stderr}");
    assert!(stderr.contains("life 1.0.0 → 2.0.0"), "{stderr}");
    assert!(
        stderr.contains(&format!("life: pruned ConfigMap/{ns}/old")),
        "{stderr}"
    );
    assert!(!exists(&c, &ns, "old").await, "the dropped object is deleted");
    assert!(exists(&c, &ns, "new").await && exists(&c, &ns, "keep").await);
    assert!(
        exists(&c, &ns, "users-own").await,
        "an unrelated object in the same namespace survives"
    );

    // The ApplySet as KEP-3659 (and kubectl's --applyset) expects it.
    let id = kyma::testkit::store::inventory::applyset_id("life");
    let secrets = resource(&c, "v1", "Secret");
    let parent = c
        .get(
            &secrets,
            Some(kyma::testkit::store::inventory::NAMESPACE),
            "kyma-life",
        )
        .await
        .unwrap()
        .expect("parent Secret");
    assert_eq!(
        parent["metadata"]["labels"]["applyset.kubernetes.io/id"],
        id.as_str()
    );
    assert!(
        parent["metadata"]["annotations"]["applyset.kubernetes.io/tooling"]
            .as_str()
            .unwrap()
            .starts_with("kyma/")
    );
    assert_eq!(
        parent["metadata"]["annotations"]["applyset.kubernetes.io/contains-group-kinds"],
        "ConfigMap,Namespace"
    );
    assert_eq!(
        parent["metadata"]["annotations"]["applyset.kubernetes.io/additional-namespaces"],
        ns.as_str()
    );
    let members = c
        .list(
            &cms,
            Some(&ns),
            Some(&format!("applyset.kubernetes.io/part-of={id}")),
        )
        .await
        .unwrap();
    let names: BTreeSet<&str> = members
        .iter()
        .filter_map(|m| m["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, BTreeSet::from(["keep", "new"]));
    let inv = kyma::testkit::store::inventory::Inventory::from_secret(&parent).unwrap();
    assert!(
        inv.complete
            && inv.version == "2.0.0"
            && inv.manifest_hash.len() == 64
            && inv.values_hash.len() == 64
    );

    // v3 renders nothing: refused, nothing pruned.
    let (rc, doc, stderr) = json_out(&["deploy", "--catalog", dir, "--modules", "life@3.0.0"]);
    assert_eq!(rc, 1, "{doc:#}\n{stderr}");
    assert_eq!(state(&doc, "life"), "Failed");
    assert!(doc.to_string().contains("--allow-empty"), "{doc:#}");
    assert!(
        exists(&c, &ns, "keep").await && exists(&c, &ns, "new").await,
        "an empty render pruned objects"
    );
    // With --allow-empty it is what the user asked for.
    let (rc, doc, stderr) = json_out(&[
        "deploy",
        "--catalog",
        dir,
        "--modules",
        "life@3.0.0",
        "--allow-empty",
    ]);
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    assert!(!exists(&c, &ns, "keep").await && !exists(&c, &ns, "new").await);
    assert!(exists(&c, &ns, "users-own").await);
    let out = kyma(&["undeploy", "--modules", "life"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// An object owned by a Helm release is not adopted without --adopt; the module fails before it sends
/// anything, and the object stays untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn another_tools_object_is_not_adopted_without_adopt() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("adopt");
    create_namespace(&c, &ns).await;
    let cms = resource(&c, "v1", "ConfigMap");
    let helm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared", "namespace": ns,
        "annotations": {"meta.helm.sh/release-name": "their-release", "meta.helm.sh/release-namespace": ns}}, "data": {"owner": "helm"}});
    c.apply(&cms, &helm, Default::default()).await.unwrap();
    let cat = catalog(&[
        (
            "grab/module.yaml",
            format!("apiVersion: kyma.module/v1\nname: grab\nversion: 1.0.0\nnamespace: {ns}\n"),
        ),
        (
            "grab/templates/a.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mine\n".into(),
        ),
        (
            "grab/templates/b.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\ndata:\n  owner: kyma\n".into(),
        ),
    ]);
    let dir = cat.path().to_str().unwrap();
    let (rc, doc, stderr) = json_out(&["deploy", "--catalog", dir, "--modules", "grab"]);
    assert_eq!(rc, 1, "{doc:#}\n{stderr}");
    let blocking = &doc["modules"][0]["blocking"][0];
    assert_eq!(blocking["object"], format!("ConfigMap/{ns}/shared"));
    assert!(
        blocking["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("Helm release {ns}/their-release")),
        "{blocking:#}"
    );
    let live = c.get(&cms, Some(&ns), "shared").await.unwrap().unwrap();
    assert_eq!(live["data"]["owner"], "helm", "untouched");
    assert!(
        !exists(&c, &ns, "mine").await,
        "nothing of the module was applied"
    );

    let (rc, doc, stderr) = json_out(&["deploy", "--catalog", dir, "--modules", "grab", "--adopt"]);
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    assert_eq!(
        c.get(&cms, Some(&ns), "shared").await.unwrap().unwrap()["data"]["owner"],
        "kyma"
    );
    let out = kyma(&["undeploy", "--modules", "grab"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// Ctrl-C in the middle of an upgrade, then a re-run: it converges, and nothing is orphaned (the
/// object the upgrade drops is pruned by the re-run, because the interrupted run recorded the union).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn interrupted_upgrade_then_rerun_converges_with_nothing_orphaned() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("conv");
    let m = |v: &str| format!("apiVersion: kyma.module/v1\nname: conv\nversion: {v}\nnamespace: {ns}\n");
    // `slow` cannot be scheduled until the test opens its node pool, so the first 2.0.0 run is still
    // waiting for it when it is interrupted.
    let pool = NodePool::new(&c, &ns);
    let deploy = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: slow\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: slow}}\n  template:\n    metadata:\n      labels: {{app: slow}}\n    spec:\n      nodeSelector: {}\n      containers:\n      - name: c\n        image: busybox\n",
        pool.selector()
    );
    let cat = catalog(&[
        ("conv/1.0.0/module.yaml", m("1.0.0")),
        ("conv/1.0.0/templates/a.yaml", cm("dropped-later")),
        ("conv/2.0.0/module.yaml", m("2.0.0")),
        ("conv/2.0.0/templates/b.yaml", cm("added")),
        ("conv/2.0.0/templates/d.yaml", deploy),
    ]);
    let dir = cat.path().to_str().unwrap().to_string();
    let out = kyma(&["deploy", "--catalog", &dir, "--modules", "conv@1.0.0"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kyma"))
        .args([
            "deploy",
            "--catalog",
            &dir,
            "--modules",
            "conv@2.0.0",
            "--timeout",
            "60s",
            "--wait-for-lock=15m",
        ])
        .env("KUBECONFIG", kubeconfig())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deployments = resource(&c, "apps/v1", "Deployment");
    assert!(
        eventually(Duration::from_secs(240), || async {
            c.get(&deployments, Some(&ns), "slow").await.ok().flatten()
        })
        .await
        .is_some()
    );
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(code(&out), 130, "{:?}", text(&out));
    // The interrupted run left the union recorded, marked incomplete.
    let secrets = resource(&c, "v1", "Secret");
    let parent = c
        .get(
            &secrets,
            Some(kyma::testkit::store::inventory::NAMESPACE),
            "kyma-conv",
        )
        .await
        .unwrap()
        .unwrap();
    let inv = kyma::testkit::store::inventory::Inventory::from_secret(&parent).unwrap();
    assert!(!inv.complete);
    let names: BTreeSet<String> = inv.members.iter().map(|m| m.name.clone()).collect();
    assert!(
        names.contains("dropped-later") && names.contains("added") && names.contains("slow"),
        "{names:?}"
    );
    assert!(
        exists(&c, &ns, "dropped-later").await,
        "nothing pruned by an interrupted run"
    );

    // The re-run (with room for `slow` now) converges: the dropped object goes, the inventory is exact.
    pool.open().await;
    let (rc, doc, stderr) = json_out(&[
        "deploy",
        "--catalog",
        &dir,
        "--modules",
        "conv@2.0.0",
        "--timeout",
        "60s",
    ]);
    pool.close().await;
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    assert!(!exists(&c, &ns, "dropped-later").await, "orphan left behind");
    let parent = c
        .get(
            &secrets,
            Some(kyma::testkit::store::inventory::NAMESPACE),
            "kyma-conv",
        )
        .await
        .unwrap()
        .unwrap();
    let inv = kyma::testkit::store::inventory::Inventory::from_secret(&parent).unwrap();
    let names: BTreeSet<String> = inv.members.iter().map(|m| m.name.clone()).collect();
    assert!(inv.complete);
    assert_eq!(
        names,
        BTreeSet::from(["added".to_string(), "slow".to_string(), ns.clone()])
    );
    let out = kyma(&["undeploy", "--modules", "conv"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// `kyma diff` shows a changed value and a would-be-pruned object; `kyma status` reports drift after
/// someone else edits a managed field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn diff_and_status_drift() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("drift");
    let renamed = catalog(&[
        (
            "life/module.yaml",
            format!("apiVersion: kyma.module/v1\nname: driftmod\nversion: 1.0.0\nnamespace: {ns}\n"),
        ),
        ("life/templates/a.yaml", cm("keep")),
        ("life/templates/b.yaml", cm("old")),
    ]);
    let dir = renamed.path().to_str().unwrap();
    let out = kyma(&["deploy", "--catalog", dir, "--modules", "driftmod"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    let out = kyma(&["diff", "--catalog", dir, "--modules", "driftmod"]);
    assert_eq!(code(&out), 0, "no changes right after a deploy: {:?}", text(&out));

    let changed = catalog(&[
        (
            "life/module.yaml",
            format!("apiVersion: kyma.module/v1\nname: driftmod\nversion: 1.0.0\nnamespace: {ns}\n"),
        ),
        ("life/templates/a.yaml", cm("keep")),
    ]);
    let out = kyma(&[
        "diff",
        "--catalog",
        changed.path().to_str().unwrap(),
        "--modules",
        "driftmod",
        "--set",
        "driftmod.v=2",
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("-  v: \"1\"") && stdout.contains("+  v: \"2\""),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("ConfigMap/{ns}/old would be pruned")),
        "{stdout}"
    );
    assert!(exists(&c, &ns, "old").await, "diff changed nothing");

    // Someone edits a field kyma manages.
    let edit = kube::api::PatchParams {
        field_manager: Some("kubectl-edit".into()),
        ..Default::default()
    };
    let req = kyma::testkit::cluster::Cluster::requests(&resource(&c, "v1", "ConfigMap"), Some(&ns))
        .patch(
            "keep",
            &edit,
            &kube::api::Patch::Merge(json!({"data": {"v": "hand-edited"}})),
        )
        .unwrap();
    c.send(req).await.unwrap();
    let (rc, doc, stderr) = json_out(&["status", "--modules", "driftmod"]);
    assert_eq!(rc, 0, "{stderr}");
    let m = &doc["modules"][0];
    assert_eq!(m["drifted"], 1, "{m:#}");
    let d = m["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["object"] == format!("ConfigMap/{ns}/keep"))
        .unwrap();
    assert!(d["drift"].as_str().unwrap().contains("kubectl-edit"), "{d:#}");
    let out = kyma(&["undeploy", "--modules", "driftmod"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// Two runs at once: the second fails fast naming the lock holder; with --wait-for-lock it waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn concurrent_runs_are_serialised_by_the_cluster_lock() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("lock");
    let cat = catalog(&[
        (
            "locked/module.yaml",
            format!("apiVersion: kyma.module/v1\nname: locked\nversion: 1.0.0\nnamespace: {ns}\n"),
        ),
        ("locked/templates/a.yaml", cm("a")),
    ]);
    let dir = cat.path().to_str().unwrap();
    let held = kyma::testkit::store::lock::Lock::acquire(&c, kyma::testkit::store::lock::LockWait::Forever)
        .await
        .expect("take the lock");
    let out = kyma(&[
        "deploy",
        "--catalog",
        dir,
        "--modules",
        "locked",
        "--no-lock-wait",
    ]);
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), 5, "{stderr}");
    assert!(
        stderr.contains("the cluster is locked by")
            && stderr.contains(&format!("pid {}", std::process::id()))
            && stderr.contains("since"),
        "{stderr}"
    );
    assert!(!exists(&c, &ns, "a").await, "nothing applied while locked");

    // The waiter goes through the path-prefix proxy, which records what it asks for.
    let prefix = format!("/clusters/root:{ns}");
    let proxy = PathProxy::start(&kubeconfig(), &prefix, &[]).await;
    let kc_dir = tempfile::tempdir().unwrap();
    let kc = proxy.kubeconfig(kc_dir.path(), "waiter");
    let waiter = {
        let dir = dir.to_string();
        tokio::task::spawn_blocking(move || {
            kyma_at(&kc, &["deploy", "--catalog", &dir, "--modules", "locked"])
        })
    };
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        !exists(&c, &ns, "a").await,
        "the waiting run must not proceed while the lock is held"
    );
    // It waits on a watch of the Lease, not by reading it again and again (a poll reads it every
    // second: 5 times by now).
    let lease_path = format!("{prefix}/apis/coordination.k8s.io/v1/namespaces/kyma-installer/leases");
    let asked: Vec<String> = proxy
        .seen()
        .into_iter()
        .filter(|p| p.starts_with(&lease_path))
        .collect();
    let reads = asked.iter().filter(|p| p.ends_with("/kyma-lock")).count();
    let watches = asked.iter().filter(|p| p.contains("watch=true")).count();
    assert!(
        reads <= 2 && watches >= 1,
        "the waiter's requests for the Lease: {asked:#?}"
    );
    held.release().await;
    let out = waiter.await.unwrap();
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    assert!(exists(&c, &ns, "a").await);

    // `kyma unlock` breaks a lock whose holder is gone.
    let stale = kyma::testkit::store::lock::Lock::acquire(&c, kyma::testkit::store::lock::LockWait::Forever)
        .await
        .unwrap();
    let out = kyma(&["unlock"]);
    assert_eq!(code(&out), 0);
    assert!(
        text(&out).1.contains("broke the cluster lock held by"),
        "{:?}",
        text(&out)
    );
    drop(stale);
    let out = kyma(&["undeploy", "--modules", "locked"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// Everything a cluster holds, by kind/namespace/name, minus what changes by itself.
async fn snapshot(c: &kyma::testkit::cluster::Cluster) -> BTreeSet<String> {
    c.discovery.ensure_all(c).await;
    let mut out = BTreeSet::new();
    let nsr = resource(c, "v1", "Namespace");
    let crds = resource(c, "apiextensions.k8s.io/v1", "CustomResourceDefinition");
    let mut kinds: Vec<kyma::testkit::cluster::Resource> = c.discovery.namespaced_resources();
    kinds.push(nsr);
    kinds.push(crds);
    for cr in ["ClusterRole", "ClusterRoleBinding"] {
        kinds.push(resource(c, "rbac.authorization.k8s.io/v1", cr));
    }
    let mut seen = BTreeSet::new();
    for r in kinds {
        if !seen.insert((r.group.clone(), r.kind.clone()))
            || matches!(r.kind.as_str(), "Event" | "Endpoints" | "EndpointSlice" | "Lease")
        {
            continue;
        }
        for o in c.list(&r, None, None).await.unwrap_or_default() {
            if o.pointer("/metadata/ownerReferences").is_some()
                || o.get("type").and_then(Value::as_str) == Some("kubernetes.io/service-account-token")
            {
                continue;
            }
            let ns = o
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .unwrap_or("");
            out.insert(format!(
                "{}/{ns}/{}",
                r.kind,
                o["metadata"]["name"].as_str().unwrap_or("")
            ));
        }
    }
    out
}

/// Undeploy of one module leaves the others Ready; undeploy --all leaves the cluster as it was before
/// plus nothing of kyma's. Needs the cluster to itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn undeploy_one_then_all_leaves_the_cluster_as_before() {
    let _exclusive = CLUSTER.write().await;
    let c = cluster().await;
    let out = kyma(&["undeploy", "--all", "--force", "--timeout", "120s"]);
    assert!(matches!(code(&out), 0 | 2), "{:?}", text(&out));
    // Wait for namespaces of earlier tests to finish terminating, so "before" is stable.
    let nsr = resource(&c, "v1", "Namespace");
    eventually(Duration::from_secs(120), || async {
        let list = c.list(&nsr, None, None).await.unwrap();
        list.iter()
            .all(|n| n.pointer("/status/phase").and_then(Value::as_str) != Some("Terminating"))
            .then_some(())
    })
    .await
    .expect("namespaces still terminating");
    let before = snapshot(&c).await;

    let ns_a = unique("all-a");
    let ns_b = unique("all-b");
    let group = format!("{ns_a}.kyma.test");
    let crd = format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: things.{group}\nspec:\n  group: {group}\n  scope: Namespaced\n  names: {{kind: Thing, plural: things, singular: thing, listKind: ThingList}}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}\n"
    );
    let cat = catalog(&[
        (
            "alpha/module.yaml",
            format!("apiVersion: kyma.module/v1\nname: alpha\nversion: 1.0.0\nnamespace: {ns_a}\n"),
        ),
        ("alpha/templates/crd.yaml", crd),
        (
            "alpha/templates/cr.yaml",
            format!("apiVersion: {group}/v1\nkind: Thing\nmetadata:\n  name: t\n"),
        ),
        (
            "alpha/templates/rbac.yaml",
            format!(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {ns_a}-reader\nrules:\n- apiGroups: [\"\"]\n  resources: [configmaps]\n  verbs: [get]\n"
            ),
        ),
        ("alpha/templates/cm.yaml", cm("a")),
        (
            "beta/module.yaml",
            format!(
                "apiVersion: kyma.module/v1\nname: beta\nversion: 1.0.0\nnamespace: {ns_b}\ndependsOn: alpha\n"
            ),
        ),
        ("beta/templates/cm.yaml", cm("b")),
    ]);
    let dir = cat.path().to_str().unwrap();
    let (rc1, doc, stderr) = json_out(&[
        "deploy",
        "--catalog",
        dir,
        "--modules",
        "alpha,beta",
        "--timeout",
        "60s",
    ]);
    assert_eq!(rc1, 0, "{doc:#}\n{stderr}");

    // beta lists alpha in dependsOn: removing alpha alone needs --force, and nothing happens without it.
    let out = kyma(&["undeploy", "--modules", "alpha"]);
    assert_eq!(code(&out), 2, "{:?}", text(&out));
    assert!(
        text(&out).1.contains("beta (installed) lists alpha in dependsOn")
            && text(&out).1.contains("--force"),
        "{:?}",
        text(&out)
    );
    assert!(exists(&c, &ns_a, "a").await, "nothing removed without --force");
    // One module out: the other stays Ready.
    let out = kyma(&["undeploy", "--modules", "alpha", "--force"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    assert!(!exists(&c, &ns_a, "a").await);
    let (_, status, _) = json_out(&["status"]);
    let modules: Vec<&str> = status["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(modules, vec!["beta"], "{status:#}");
    assert_eq!(status["modules"][0]["health"], "Ready");
    let crds = resource(&c, "apiextensions.k8s.io/v1", "CustomResourceDefinition");
    assert!(
        c.get(&crds, None, &format!("things.{group}"))
            .await
            .unwrap()
            .is_none(),
        "alpha owned its CRD exclusively: removed"
    );

    let out = kyma(&["undeploy", "--all"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    // A run right after the last undeploy meets kyma's own namespace still terminating: it waits for it
    // to go and creates it again (before, its inventory write failed with 403).
    let qns = unique("quick");
    let quick = catalog(&[
        (
            "q/module.yaml",
            format!("apiVersion: kyma.module/v1\nname: quick\nversion: 1.0.0\nnamespace: {qns}\n"),
        ),
        (
            "q/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: q\n".into(),
        ),
    ]);
    let out = kyma(&[
        "deploy",
        "--catalog",
        quick.path().to_str().unwrap(),
        "--modules",
        "quick",
    ]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    let out = kyma(&["undeploy", "--modules", "quick"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    eventually(Duration::from_secs(120), || async {
        let list = c.list(&nsr, None, None).await.unwrap();
        list.iter()
            .all(|n| n.pointer("/status/phase").and_then(Value::as_str) != Some("Terminating"))
            .then_some(())
    })
    .await
    .expect("namespaces still terminating");
    let after = snapshot(&c).await;
    let added: Vec<&String> = after.difference(&before).collect();
    let removed: Vec<&String> = before.difference(&after).collect();
    assert!(
        added.is_empty() && removed.is_empty(),
        "added {added:#?}\nremoved {removed:#?}"
    );
}

/// Undeploy waits for deletion and, on timeout, names what is stuck and why; it never strips finalizers
/// unless asked to.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn undeploy_names_stuck_objects_and_strips_finalizers_only_when_asked() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("stuck");
    let cat = catalog(&[
        (
            "sticky/module.yaml",
            format!("apiVersion: kyma.module/v1\nname: sticky\nversion: 1.0.0\nnamespace: {ns}\n"),
        ),
        (
            "sticky/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  finalizers: [kyma.test/hold]\n"
                .into(),
        ),
    ]);
    let out = kyma(&[
        "deploy",
        "--catalog",
        cat.path().to_str().unwrap(),
        "--modules",
        "sticky",
    ]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    let out = kyma(&["undeploy", "--modules", "sticky", "--timeout", "3s"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 3, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("stuck ConfigMap/{ns}/held: finalizers kyma.test/hold"))
            && stdout.contains("--remove-finalizers"),
        "{stdout}"
    );
    assert!(exists(&c, &ns, "held").await, "still there, finalizer intact");
    let cms = resource(&c, "v1", "ConfigMap");
    let live = c.get(&cms, Some(&ns), "held").await.unwrap().unwrap();
    assert_eq!(live["metadata"]["finalizers"], json!(["kyma.test/hold"]));
    let out = kyma(&[
        "undeploy",
        "--modules",
        "sticky",
        "--timeout",
        "10s",
        "--remove-finalizers",
    ]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    assert!(!exists(&c, &ns, "held").await);
}

/// A run that loses the cluster lock stops writing at once. The first deploy waits for a Deployment
/// that cannot become ready; it is paused (SIGSTOP) past its lease (4 s here, test-only
/// `KYMA_LOCK_LEASE_SECONDS`); a second deploy sees the Lease unchanged for that long on its own clock,
/// takes it over, changes the ConfigMap and records its inventory. Resumed, the first exits 5 saying it
/// lost the lock, and neither applies nor records anything more: the second run's state stands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_run_that_lost_the_lock_stops_without_writing() {
    // The whole cluster: this test holds the cluster lock paused, and other tests' runs would queue
    // behind it (or take it over) and blur who wrote what.
    let _whole = CLUSTER.write().await;
    let c = cluster().await;
    let ns = unique("lostlock");
    let module = unique("lostlock");
    let cat = catalog(&[
        (
            &format!("{module}/module.yaml"),
            format!("apiVersion: kyma.module/v1\nname: {module}\nversion: 1.0.0\nnamespace: {ns}\n"),
        ),
        (&format!("{module}/templates/cm.yaml"), cm("cm")),
        (
            &format!("{module}/templates/deploy.yaml"),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: never-ready\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: x}\n  template:\n    metadata:\n      labels: {app: x}\n    spec:\n      nodeSelector: {\"pool.kyma.test/never\": \"yes\"}\n      containers:\n      - name: x\n        image: busybox\n".into(),
        ),
    ]);
    let dir = cat.path().to_str().unwrap().to_string();
    let values = |v: &str| {
        let path = cat.path().join(format!("values-{v}.yaml"));
        std::fs::write(&path, format!("{module}:\n  v: {v}\n")).unwrap();
        path.display().to_string()
    };
    let (first_values, second_values) = (values("first"), values("second"));
    let first = std::process::Command::new(env!("CARGO_BIN_EXE_kyma"))
        .args([
            "deploy",
            "--catalog",
            &dir,
            "--modules",
            &module,
            "-f",
            &first_values,
        ])
        .args(["--timeout", "60s", "--wait-for-lock=15m"])
        .env("KUBECONFIG", kubeconfig())
        .env("NO_COLOR", "1")
        .env("KYMA_LOCK_LEASE_SECONDS", "4")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start kyma");
    let pid = first.id().to_string();
    let signal = |sig: &str| {
        let ok = std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig} {pid}");
    };
    let cms = resource(&c, "v1", "ConfigMap");
    let deployments = resource(&c, "apps/v1", "Deployment");
    let rv = |v: &Value| {
        v["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    // The Deployment's status is the controllers' to change; what kyma applies shows in its Apply
    // entries of managedFields.
    let applies = |v: &Value| -> Vec<Value> {
        v["metadata"]["managedFields"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["operation"] == "Apply")
            .cloned()
            .collect()
    };
    // Paused once both objects are applied: it waits for the Deployment's readiness from here on.
    let applied = eventually(Duration::from_secs(60), || async {
        let cm = c.get(&cms, Some(&ns), "cm").await.ok()??;
        c.get(&deployments, Some(&ns), "never-ready").await.ok()??;
        Some(cm)
    })
    .await;
    assert!(applied.is_some(), "the first run applied its objects");
    assert_eq!(applied.unwrap()["data"]["v"], "first");
    signal("-STOP");
    let paused = std::time::Instant::now();

    let out = kyma(&[
        "deploy",
        "--catalog",
        &dir,
        "--modules",
        &module,
        "-f",
        &second_values,
        "--no-wait",
        "--timeout",
        "60s",
    ]);
    let took_over = paused.elapsed();
    let (_, stderr) = text(&out);
    assert_eq!(
        code(&out),
        0,
        "the second run took the lock over and deployed: {stderr}"
    );
    assert!(
        took_over >= Duration::from_secs(4),
        "the second run waited out the lease on its own clock ({took_over:?})"
    );
    figure(format!(
        "lost lock: second deploy took over a paused holder's 4 s lease and finished {:.1}s after the pause",
        took_over.as_secs_f64()
    ));
    let cm_after = c.get(&cms, Some(&ns), "cm").await.unwrap().unwrap();
    assert_eq!(cm_after["data"]["v"], "second");
    let deploy_after = c
        .get(&deployments, Some(&ns), "never-ready")
        .await
        .unwrap()
        .unwrap();
    let inventory = |all: Vec<kyma::testkit::store::inventory::Inventory>| {
        all.into_iter()
            .find(|i| i.module == module)
            .map(|i| (i.complete, i.deployed_at))
    };
    let recorded = inventory(kyma::testkit::store::inventory::read_all(&c).await.unwrap());
    assert!(
        matches!(&recorded, Some((true, _))),
        "the second run recorded a complete inventory: {recorded:?}"
    );

    signal("-CONT");
    let resumed = std::time::Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(first.wait_with_output());
    });
    let out = rx
        .recv_timeout(Duration::from_secs(90))
        .expect("the resumed run ends")
        .unwrap();
    let stopped = resumed.elapsed();
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), 5, "a run that lost its lock exits 5: {stderr}");
    assert!(stderr.contains("lost the cluster lock"), "{stderr}");
    assert!(stopped < Duration::from_secs(10), "it stops at once: {stopped:?}");
    // Give any late write from the first run a moment to land before looking.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cm_end = c.get(&cms, Some(&ns), "cm").await.unwrap().unwrap();
    assert_eq!(cm_end["data"]["v"], "second", "not reverted by the resumed run");
    assert_eq!(rv(&cm_end), rv(&cm_after), "no apply from the resumed run");
    let deploy_end = c
        .get(&deployments, Some(&ns), "never-ready")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        applies(&deploy_end),
        applies(&deploy_after),
        "no apply from the resumed run"
    );
    assert_eq!(
        inventory(kyma::testkit::store::inventory::read_all(&c).await.unwrap()),
        recorded,
        "the inventory is the second run's"
    );
    // Still holding the whole cluster: a test waiting for it may undeploy everything (`--all`).
    let out = kyma(&["undeploy", "--modules", &module]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    drop(_whole);
}

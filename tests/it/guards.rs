//! Guards fail closed: when a read that decides whether to delete, prune, adopt or report is refused by
//! the server (RBAC, on the real test bed), kyma keeps the object and says why, instead of treating the
//! failed read as "nothing there".

use serde_json::json;

use crate::support::*;

const ALL: [&str; 6] = ["get", "list", "watch", "create", "patch", "delete"];

fn module(name: &str, ns: &str, v: &str) -> String {
    format!("apiVersion: kyma.module/v1\nname: {name}\nversion: {v}\nnamespace: {ns}\n")
}

fn cm(name: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n")
}

/// The module's namespace holds a user's CronJob in a group the user running undeploy may not list:
/// whether the namespace is empty cannot be known, so it stays (with the CronJob), and the report says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn undeploy_keeps_a_namespace_it_cannot_see_into() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("nsguard");
    let name = format!("nsguard-{ns}");
    let cat = catalog(&[
        ("m/module.yaml", module(&name, &ns, "1.0.0")),
        ("m/templates/cm.yaml", cm("settings")),
    ]);
    let (rc, doc, stderr) = deploy_at(
        &kubeconfig(),
        &["--catalog", cat.path().to_str().unwrap(), "--modules", &name],
    );
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    let cronjobs = resource(&c, "batch/v1", "CronJob");
    c.apply(&cronjobs, &json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "users-backup", "namespace": ns},
        "spec": {"schedule": "0 3 * * *", "suspend": true, "jobTemplate": {"spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "b", "image": "backup:1"}]}}}}}}), Default::default())
        .await
        .unwrap();

    let user = Impersonated::new(
        &c,
        &format!("nsguard-{ns}"),
        rules_with_core(json!([{"apiGroups": [""], "resources": ["configmaps", "namespaces", "serviceaccounts", "services", "pods"], "verbs": ALL}])),
    )
    .await;
    let out = kyma_at(&user.kubeconfig, &["undeploy", "--modules", &name]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!(
            "kept Namespace/{ns}: cannot check what the namespace holds"
        )) && stdout.contains("forbidden"),
        "says why it kept the namespace:\n{stdout}"
    );
    let namespaces = resource(&c, "v1", "Namespace");
    let live = c
        .get(&namespaces, None, &ns)
        .await
        .unwrap()
        .expect("the namespace is kept");
    assert!(
        live.pointer("/metadata/deletionTimestamp").is_none(),
        "and not being deleted"
    );
    assert!(
        c.get(&cronjobs, Some(&ns), "users-backup")
            .await
            .unwrap()
            .is_some(),
        "the user's CronJob is there"
    );
    let cms = resource(&c, "v1", "ConfigMap");
    assert!(
        c.get(&cms, Some(&ns), "settings").await.unwrap().is_none(),
        "the module's own object went"
    );

    user.remove(&c).await;
    c.delete(&namespaces, None, &ns).await.unwrap();
}

/// A ConfigMap that belongs to a Helm release sits where a module wants one. A user who may write
/// ConfigMaps but not list them (nor Namespaces) cannot learn who owns it: the module is refused before
/// anything is applied, and the Helm object is untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn deploy_refuses_to_adopt_what_it_cannot_list() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("adoptguard");
    create_namespace(&c, &ns).await;
    let cms = resource(&c, "v1", "ConfigMap");
    c.apply(&cms, &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "taken", "namespace": ns,
        "annotations": {"meta.helm.sh/release-name": "other", "meta.helm.sh/release-namespace": ns}}, "data": {"owner": "helm"}}), Default::default())
        .await
        .unwrap();
    let name = format!("adoptguard-{ns}");
    let cat = catalog(&[
        ("m/module.yaml", module(&name, &ns, "1.0.0")),
        ("m/templates/a.yaml", cm("fresh")),
        ("m/templates/b.yaml", cm("taken")),
    ]);
    let dir = cat.path().to_str().unwrap();
    let no_list = ["get", "watch", "create", "patch", "update", "delete"];
    let user = Impersonated::new(
        &c,
        &format!("adoptguard-{ns}"),
        rules_with_core(
            json!([{"apiGroups": [""], "resources": ["configmaps", "namespaces"], "verbs": no_list}]),
        ),
    )
    .await;
    let (rc, doc, stderr) = deploy_at(&user.kubeconfig, &["--catalog", dir, "--modules", &name]);
    assert_eq!(rc, 1, "{doc:#}\n{stderr}");
    let m = doc["modules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .expect("module in report");
    let reason = m["blocking"][0]["reason"].as_str().unwrap_or("");
    assert!(
        reason.contains("cannot check who owns it") && reason.contains("ConfigMap"),
        "{m:#}"
    );
    let taken = c.get(&cms, Some(&ns), "taken").await.unwrap().unwrap();
    assert_eq!(taken["data"]["owner"], "helm", "the Helm object is untouched");
    assert!(
        c.get(&cms, Some(&ns), "fresh").await.unwrap().is_none(),
        "nothing of the module was applied"
    );

    // With the right to list, the real owner is found and named.
    let (rc, doc, _) = deploy_at(&kubeconfig(), &["--catalog", dir, "--modules", &name]);
    assert_eq!(rc, 1, "{doc:#}");
    assert!(
        doc.to_string().contains(&format!("Helm release {ns}/other")),
        "{doc:#}"
    );

    user.remove(&c).await;
    c.delete(&resource(&c, "v1", "Namespace"), None, &ns)
        .await
        .unwrap();
}

/// A user who may read ConfigMaps but not write them cannot dry-run an apply: `diff` says the
/// object cannot be compared (exit 2, never "no changes") and `status` says drift cannot be checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn diff_and_status_say_when_they_cannot_compare() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("ro");
    let name = format!("ro-{ns}");
    let cat = catalog(&[
        ("m/module.yaml", module(&name, &ns, "1.0.0")),
        ("m/templates/cm.yaml", cm("settings")),
    ]);
    let dir = cat.path().to_str().unwrap();
    let (rc, doc, stderr) = deploy_at(&kubeconfig(), &["--catalog", dir, "--modules", &name]);
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    let user = Impersonated::new(
        &c,
        &format!("ro-{ns}"),
        rules_with_core(json!([{"apiGroups": [""], "resources": ["configmaps", "namespaces"], "verbs": ["get", "list", "watch"]}])),
    )
    .await;

    let out = kyma_at(&user.kubeconfig, &["diff", "--catalog", dir, "--modules", &name]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 2, "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("ConfigMap/{ns}/settings cannot be compared")) && stdout.contains("dry run"),
        "{stdout}"
    );
    assert!(!stderr.contains("no changes"), "{stderr}");

    let out = kyma_at(&user.kubeconfig, &["status", "--modules", &name, "-o", "json"]);
    let doc = json_of(&out);
    let d = doc["modules"][0]["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["object"] == format!("ConfigMap/{ns}/settings"))
        .cloned()
        .unwrap_or_else(|| panic!("{doc:#}"));
    assert!(
        d["drift"].as_str().unwrap_or("").starts_with("cannot check"),
        "{d:#}"
    );

    user.remove(&c).await;
    let (rc, _, stderr) = {
        let out = kyma(&["undeploy", "--modules", &name]);
        let (o, e) = text(&out);
        (code(&out), o, e)
    };
    assert_eq!(rc, 0, "{stderr}");
}

/// An upgrade drops a ConfigMap the deploying user may not read: prune cannot check that it is still
/// kyma's, so it stays — and stays recorded, so a later deploy with the rights prunes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn prune_keeps_and_remembers_what_it_cannot_read() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("pruneguard");
    let name = format!("pruneguard-{ns}");
    let cat = catalog(&[
        ("m/1.0.0/module.yaml", module(&name, &ns, "1.0.0")),
        ("m/1.0.0/templates/a.yaml", cm("keep")),
        ("m/1.0.0/templates/b.yaml", cm("old")),
        ("m/2.0.0/module.yaml", module(&name, &ns, "2.0.0")),
        ("m/2.0.0/templates/a.yaml", cm("keep")),
    ]);
    let dir = cat.path().to_str().unwrap();
    let (rc, doc, stderr) = deploy_at(
        &kubeconfig(),
        &["--catalog", dir, "--modules", &format!("{name}@1.0.0")],
    );
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    let user = Impersonated::new(
        &c,
        &format!("pruneguard-{ns}"),
        rules_with_core(json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["list", "watch", "create", "patch", "update", "delete"]},
            {"apiGroups": [""], "resources": ["namespaces"], "verbs": ALL}])),
    )
    .await;
    let (rc, doc, stderr) = deploy_at(
        &user.kubeconfig,
        &["--catalog", dir, "--modules", &format!("{name}@2.0.0")],
    );
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    let pruned = doc["pruned"][&name].to_string();
    assert!(
        pruned.contains(&format!("ConfigMap/{ns}/old")) && pruned.contains("cannot read it"),
        "{doc:#}"
    );
    let cms = resource(&c, "v1", "ConfigMap");
    assert!(c.get(&cms, Some(&ns), "old").await.unwrap().is_some());
    let status = json_of(&kyma(&["status", "--modules", &name, "-o", "json"]));
    assert!(
        status.to_string().contains(&format!("ConfigMap/{ns}/old")),
        "still a member of the inventory: {status:#}"
    );

    // Same version again, with the rights: not skipped while a dropped member is left; pruned now.
    let (rc, doc, stderr) = deploy_at(
        &kubeconfig(),
        &["--catalog", dir, "--modules", &format!("{name}@2.0.0")],
    );
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    assert!(
        c.get(&cms, Some(&ns), "old").await.unwrap().is_none(),
        "pruned on the next run: {stderr}"
    );
    let status = json_of(&kyma(&["status", "--modules", &name, "-o", "json"]));
    assert!(
        !status.to_string().contains(&format!("ConfigMap/{ns}/old")),
        "{status:#}"
    );

    user.remove(&c).await;
    let out = kyma(&["undeploy", "--modules", &name]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// The user running undeploy may not delete ConfigMaps: the server's 403 ends the run at once (exit 4,
/// not exit 3 after --timeout), naming the object and the server's reason, and the module stays
/// recorded so a run with the rights finishes the job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_refused_delete_is_said_at_once_and_stays_recorded() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("nodelete");
    let name = format!("nodelete-{ns}");
    let cat = catalog(&[
        ("m/module.yaml", module(&name, &ns, "1.0.0")),
        ("m/templates/cm.yaml", cm("settings")),
        (
            "m/templates/sa.yaml",
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: worker\n".into(),
        ),
    ]);
    let (rc, doc, stderr) = deploy_at(
        &kubeconfig(),
        &["--catalog", cat.path().to_str().unwrap(), "--modules", &name],
    );
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    let user = Impersonated::new(
        &c,
        &format!("nodelete-{ns}"),
        rules_with_core(json!([
            {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch", "create", "patch", "update"]},
            {"apiGroups": [""], "resources": ["namespaces", "serviceaccounts"], "verbs": ALL}])),
    )
    .await;

    let started = std::time::Instant::now();
    let out = kyma_at(
        &user.kubeconfig,
        &["undeploy", "--modules", &name, "--timeout", "600s"],
    );
    let took = started.elapsed();
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 4, "{stdout}\n{stderr}");
    // The run may first queue for the shared bed's lock behind other tests (CI under load saw 25 s), so
    // the bound is half the --timeout, not a few seconds: a run that waited for the deletion would take
    // all 600 s.
    assert!(
        took < std::time::Duration::from_secs(300),
        "said at once, not after --timeout: {took:?}\n{stderr}"
    );
    let said = format!("refused ConfigMap/{ns}/settings: HTTP 403");
    assert!(
        stdout.contains(&said) && stdout.contains("cannot delete resource \"configmaps\""),
        "names the object and the server's reason:\n{stdout}"
    );
    assert!(
        stderr.contains(&format!("the server refused to delete ConfigMap/{ns}/settings")),
        "{stderr}"
    );
    figure(format!(
        "undeploy with a DELETE refused (403): exit 4 after {:.2} s (--timeout 60s)",
        took.as_secs_f64()
    ));

    let cms = resource(&c, "v1", "ConfigMap");
    assert!(c.get(&cms, Some(&ns), "settings").await.unwrap().is_some());
    let sas = resource(&c, "v1", "ServiceAccount");
    assert!(
        c.get(&sas, Some(&ns), "worker").await.unwrap().is_none(),
        "what may be deleted is"
    );
    let status = json_of(&kyma(&["status", "--modules", &name, "-o", "json"]));
    assert!(
        status.to_string().contains(&format!("ConfigMap/{ns}/settings")),
        "still recorded: {status:#}"
    );

    user.remove(&c).await;
    let out = kyma(&["undeploy", "--modules", &name]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    assert!(c.get(&cms, Some(&ns), "settings").await.unwrap().is_none());
}

//! Upgrades a server will not take in place: a changed immutable field (a Deployment's selector) and a
//! CRD that drops a version the cluster still stores. Each stops with what changed and the fix; the
//! immutable one goes through, visibly, with --force-replace.

use std::time::Duration;

use crate::deploy::{MODULE, module};
use crate::support::*;

/// `kyma deploy` of one module version from a test catalog.
fn deploy_catalog(dir: &str, module: &str, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut args = vec!["--catalog", dir, "--modules", module, "--timeout", "60s"];
    args.extend_from_slice(extra);
    deploy_at(&kubeconfig(), &args)
}

fn deployment(selector: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: manager\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app.kubernetes.io/name: {selector}}}\n  template:\n    metadata:\n      labels: {{app.kubernetes.io/name: {selector}}}\n    spec:\n      containers:\n      - name: m\n        image: manager:1\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_changed_selector_fails_clearly_and_force_replace_recreates_it() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("sel");
    let m = |v: &str| format!("apiVersion: kyma.module/v1\nname: sel-{ns}\nversion: {v}\nnamespace: {ns}\n");
    let cat = catalog(&[
        ("sel/1.0.0/module.yaml", m("1.0.0")),
        ("sel/1.0.0/templates/d.yaml", deployment("manager")),
        ("sel/2.0.0/module.yaml", m("2.0.0")),
        ("sel/2.0.0/templates/d.yaml", deployment("controller-manager")),
    ]);
    let dir = cat.path().to_str().unwrap();
    let name = format!("sel-{ns}");
    let (rc, doc, stderr) = deploy_catalog(dir, &format!("{name}@1.0.0"), &[]);
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");

    let (rc, doc, stderr) = deploy_catalog(dir, &format!("{name}@2.0.0"), &[]);
    assert_eq!(rc, 1, "{doc:#}\n{stderr}");
    let b = &module(&doc, &name)["blocking"][0];
    assert_eq!(b["object"], format!("Deployment.apps/{ns}/manager"));
    let reason = b["reason"].as_str().unwrap();
    assert!(reason.starts_with("spec.selector changed (new value {\"matchLabels\":{\"app.kubernetes.io/name\":\"controller-manager\"}})"), "{reason}");
    assert!(
        reason.contains("--force-replace") && reason.contains("kyma-project.io/replace"),
        "{reason}"
    );
    let deployments = resource(&c, "apps/v1", "Deployment");
    let live = c.get(&deployments, Some(&ns), "manager").await.unwrap().unwrap();
    let uid = live["metadata"]["uid"].clone();
    assert_eq!(
        live["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"], "manager",
        "unchanged after the failure"
    );

    let (rc, doc, stderr) = deploy_catalog(dir, &format!("{name}@2.0.0"), &["--force-replace"]);
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    let m = module(&doc, &name);
    assert_eq!(m["state"], "Ready");
    assert_eq!(
        m["replaced"],
        serde_json::json!([format!("Deployment.apps/{ns}/manager")]),
        "reported, never silent: {m:#}"
    );
    let live = c.get(&deployments, Some(&ns), "manager").await.unwrap().unwrap();
    assert_ne!(live["metadata"]["uid"], uid, "a new object");
    assert_eq!(
        live["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"],
        "controller-manager"
    );
    assert_eq!(live["status"]["availableReplicas"], 1, "and it rolled out");
    let out = kyma(&["undeploy", "--modules", &name]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

fn crd(group: &str, versions: &[(&str, bool)]) -> String {
    let mut v = String::new();
    for (name, storage) in versions {
        v.push_str(&format!("  - name: {name}\n    served: true\n    storage: {storage}\n    schema:\n      openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}\n"));
    }
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gadgets.{group}\nspec:\n  group: {group}\n  scope: Namespaced\n  names: {{kind: Gadget, plural: gadgets, singular: gadget, listKind: GadgetList}}\n  versions:\n{v}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_crd_upgrade_that_drops_a_stored_version_stops_its_module_and_explains() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("stored");
    let group = format!("{ns}.kyma.test");
    let name = format!("gadgets-{ns}");
    let m = |v: &str| format!("{}name: {name}\nnamespace: {ns}\n", MODULE.replace("1.0.0", v));
    let cr = |v: &str| {
        format!("apiVersion: {group}/{v}\nkind: Gadget\nmetadata:\n  name: one\nspec: {{size: 1}}\n")
    };
    let cat = catalog(&[
        ("g/1.0.0/module.yaml", m("1.0.0")),
        ("g/1.0.0/templates/crd.yaml", crd(&group, &[("v1alpha1", true)])),
        ("g/1.0.0/templates/cr.yaml", cr("v1alpha1")),
        ("g/2.0.0/module.yaml", m("2.0.0")),
        ("g/2.0.0/templates/crd.yaml", crd(&group, &[("v1", true)])),
        ("g/2.0.0/templates/cr.yaml", cr("v1")),
        (
            "g/2.0.0/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new-in-2\n".into(),
        ),
    ]);
    let dir = cat.path().to_str().unwrap();
    let (rc, doc, stderr) = deploy_catalog(dir, &format!("{name}@1.0.0"), &[]);
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    let (rc, doc, stderr) = deploy_catalog(dir, &format!("{name}@2.0.0"), &[]);
    assert_eq!(rc, 1, "{doc:#}\n{stderr}");
    let b = &module(&doc, &name)["blocking"][0];
    assert_eq!(
        b["object"],
        format!("CustomResourceDefinition.apiextensions.k8s.io/gadgets.{group}")
    );
    let reason = b["reason"].as_str().unwrap();
    assert!(
        reason.contains("drops v1alpha1")
            && reason.contains("status.storedVersions")
            && reason.contains("Migrate"),
        "{reason}"
    );
    // Stopped before anything of 2.0.0 was applied.
    assert!(
        c.get(&resource(&c, "v1", "ConfigMap"), Some(&ns), "new-in-2")
            .await
            .unwrap()
            .is_none()
    );
    let crds = resource(&c, "apiextensions.k8s.io/v1", "CustomResourceDefinition");
    let live = c
        .get(&crds, None, &format!("gadgets.{group}"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        live["spec"]["versions"][0]["name"], "v1alpha1",
        "the CRD is as it was"
    );
    let out = kyma(&["undeploy", "--modules", &name, "--prune-crds"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    let gone = eventually(Duration::from_secs(30), || async {
        c.get(&crds, None, &format!("gadgets.{group}"))
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    assert!(gone.is_some());
}

const MANAGER_CONFIG: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: manager-config\n";

/// A one-version module owning the Gadget CRD of its own group, plus `files`; returns the catalog, the
/// group and the module name.
fn gadget_module(ns: &str, mut files: Vec<(&str, String)>) -> (tempfile::TempDir, String, String) {
    let group = format!("{ns}.kyma.test");
    let name = format!("gadgets-{ns}");
    files.push((
        "g/module.yaml",
        format!("{MODULE}name: {name}\nnamespace: {ns}\n"),
    ));
    files.push(("g/templates/crd.yaml", crd(&group, &[("v1", true)])));
    (catalog(&files), group, name)
}

/// Deploy the module, then create a Gadget of its kind as the user would (not kyma's).
async fn install_beside_a_users_gadget(
    c: &kyma::testkit::cluster::Cluster,
    dir: &str,
    name: &str,
    group: &str,
    ns: &str,
) -> kyma::testkit::cluster::Resource {
    let (rc, doc, stderr) = deploy_catalog(dir, name, &[]);
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    c.discovery.refresh(c, &format!("{group}/v1")).await.unwrap();
    let gadgets = resource(c, &format!("{group}/v1"), "Gadget");
    let users = serde_json::json!({"apiVersion": format!("{group}/v1"), "kind": "Gadget", "metadata": {"name": "users-own", "namespace": ns}, "spec": {}});
    c.apply(&gadgets, &users, Default::default()).await.unwrap();
    gadgets
}

/// Undeploy the Kyma way: while a custom resource of the module's kinds exists that kyma did not create,
/// nothing is removed (exit 2); with --force the module goes and the CRD stays for the user's resource.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn undeploy_refuses_while_the_users_custom_resources_exist() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("users");
    let cr =
        format!("apiVersion: {ns}.kyma.test/v1\nkind: Gadget\nmetadata:\n  name: module-cr\nspec: {{}}\n");
    let (cat, group, name) = gadget_module(
        &ns,
        vec![
            ("g/templates/cr.yaml", cr),
            ("g/templates/cm.yaml", MANAGER_CONFIG.into()),
        ],
    );
    let gadgets = install_beside_a_users_gadget(&c, cat.path().to_str().unwrap(), &name, &group, &ns).await;

    let out = kyma(&["undeploy", "--modules", &name]);
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), 2, "{stderr}");
    assert!(
        stderr.contains(&format!("Gadget {ns}/users-own"))
            && stderr.contains("nothing was removed")
            && stderr.contains("--force"),
        "{stderr}"
    );
    let cms = resource(&c, "v1", "ConfigMap");
    assert!(
        c.get(&cms, Some(&ns), "manager-config").await.unwrap().is_some(),
        "nothing removed"
    );
    assert!(
        c.get(&gadgets, Some(&ns), "module-cr").await.unwrap().is_some(),
        "nothing removed"
    );

    let out = kyma(&["undeploy", "--modules", &name, "--force"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    assert!(c.get(&cms, Some(&ns), "manager-config").await.unwrap().is_none());
    assert!(
        c.get(&gadgets, Some(&ns), "module-cr").await.unwrap().is_none(),
        "the module's own CR went first"
    );
    assert!(
        c.get(&gadgets, Some(&ns), "users-own").await.unwrap().is_some(),
        "the user's resource is untouched"
    );
    let crds = resource(&c, "apiextensions.k8s.io/v1", "CustomResourceDefinition");
    assert!(
        c.get(&crds, None, &format!("gadgets.{group}"))
            .await
            .unwrap()
            .is_some(),
        "the CRD stays for it"
    );
    c.delete(&crds, None, &format!("gadgets.{group}")).await.unwrap();
}

/// Guards fail closed: a user who may delete custom resources of a kind but not list them undeploys the
/// module that owns their CRD. Without --force nothing is removed; with --force the module goes but the
/// CRD stays (deleting it would take the user's resources along), and the report says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_check_that_cannot_be_made_keeps_the_crd() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("nolist");
    let (cat, group, name) = gadget_module(&ns, vec![("g/templates/cm.yaml", MANAGER_CONFIG.into())]);
    let gadgets = install_beside_a_users_gadget(&c, cat.path().to_str().unwrap(), &name, &group, &ns).await;

    // Everything kyma needs, but Gadgets may be read, written and deleted, never listed.
    let user = Impersonated::new(
        &c,
        &format!("limited-{ns}"),
        serde_json::json!([{"apiGroups": ["", "apps", "apiextensions.k8s.io", "coordination.k8s.io", "rbac.authorization.k8s.io", "admissionregistration.k8s.io"], "resources": ["*"], "verbs": ["*"]},
                  {"apiGroups": [group], "resources": ["gadgets"], "verbs": ["get", "create", "patch", "update", "delete", "watch"]}]),
    )
    .await;
    let limited = user.kubeconfig.clone();
    let out = kyma_at(&limited, &["undeploy", "--modules", &name]);
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), 2, "{stderr}");
    assert!(
        stderr.contains("cannot check CRD") && stderr.contains("nothing was removed"),
        "{stderr}"
    );
    let cms = resource(&c, "v1", "ConfigMap");
    assert!(
        c.get(&cms, Some(&ns), "manager-config").await.unwrap().is_some(),
        "nothing removed"
    );

    let out = kyma_at(
        &limited,
        &["undeploy", "--modules", &name, "--force", "-o", "json"],
    );
    let (stdout, stderr) = text(&out);
    assert!(
        c.get(&cms, Some(&ns), "manager-config").await.unwrap().is_none(),
        "the module went: {stdout}\n{stderr}"
    );
    let crds = resource(&c, "apiextensions.k8s.io/v1", "CustomResourceDefinition");
    assert!(
        c.get(&crds, None, &format!("gadgets.{group}"))
            .await
            .unwrap()
            .is_some(),
        "the CRD was kept: {stdout}\n{stderr}"
    );
    assert!(
        c.get(&gadgets, Some(&ns), "users-own").await.unwrap().is_some(),
        "and with it the user's resource"
    );
    assert!(
        stdout.contains("cannot check for resources of its kind") && stdout.contains("keeping it"),
        "said why: {stdout}"
    );

    c.delete(&crds, None, &format!("gadgets.{group}")).await.unwrap();
    user.remove(&c).await;
}

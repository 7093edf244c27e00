//! Release channels: lifecycle-manager's ModuleReleaseMeta beside a catalog's modules maps `regular` and
//! `fast` to versions; `--channel`, `name@channel` and a `Kyma`'s `spec.channel` deploy the version a
//! channel maps to, and an unknown channel is bad input that changes nothing.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

/// A module in two versions (a ConfigMap that says which) and a ModuleReleaseMeta: regular → 1.0.0,
/// fast → 2.0.0.
fn channel_catalog(name: &str, ns: &str) -> tempfile::TempDir {
    let module =
        |v: &str| format!("apiVersion: kyma.module/v1\nname: {name}\nversion: {v}\nnamespace: {ns}\n");
    let cm = |v: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: which\ndata:\n  version: \"{v}\"\n")
    };
    catalog(&[
        (&format!("{name}/1.0.0/module.yaml"), module("1.0.0")),
        (&format!("{name}/1.0.0/templates/cm.yaml"), cm("1.0.0")),
        (&format!("{name}/2.0.0/module.yaml"), module("2.0.0")),
        (&format!("{name}/2.0.0/templates/cm.yaml"), cm("2.0.0")),
        (
            "releases.yaml",
            format!(
                "apiVersion: operator.kyma-project.io/v1beta2\nkind: ModuleReleaseMeta\nmetadata: {{name: {name}, namespace: kcp-system}}\nspec:\n  moduleName: {name}\n  ocmComponentName: kyma-project.io/module/{name}\n  channels:\n  - {{channel: regular, version: 1.0.0}}\n  - {{channel: fast, version: 2.0.0}}\n"
            ),
        ),
    ])
}

async fn deployed_version(c: &kyma::testkit::cluster::Cluster, ns: &str) -> Option<String> {
    let cms = resource(c, "v1", "ConfigMap");
    c.get(&cms, Some(ns), "which")
        .await
        .unwrap()
        .and_then(|cm| cm["data"]["version"].as_str().map(str::to_string))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_channel_deploys_the_version_it_maps_and_an_unknown_one_changes_nothing() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let (name, ns) = (unique("chan"), unique("chan-ns"));
    let cat = channel_catalog(&name, &ns);
    let cat_dir = cat.path().to_str().unwrap();
    let kc = kubeconfig();

    // The channels are listed.
    let shown = json_of(&kyma_at(
        &kc,
        &["modules", "show", &name, "--catalog", cat_dir, "-o", "json"],
    ));
    assert_eq!(
        shown["channels"],
        json!({"fast": "2.0.0", "regular": "1.0.0"}),
        "{shown:#}"
    );

    // --channel fast: the version fast maps to.
    let (rc, doc, stderr) = deploy_at(
        &kc,
        &["--catalog", cat_dir, "--modules", &name, "--channel", "fast"],
    );
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    assert_eq!(doc["modules"][0]["version"], "2.0.0", "{doc:#}");
    assert_eq!(deployed_version(&c, &ns).await.as_deref(), Some("2.0.0"));

    // An unknown channel: exit 2, naming the module and its channels; nothing changes.
    let out = kyma_at(
        &kc,
        &[
            "deploy",
            "--catalog",
            cat_dir,
            "--modules",
            &format!("{name}@beta"),
        ],
    );
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "module '{name}' has no channel 'beta' (channels: fast, regular)"
        )),
        "{stderr}"
    );
    assert_eq!(
        deployed_version(&c, &ns).await.as_deref(),
        Some("2.0.0"),
        "nothing was applied"
    );

    // name@regular: the other channel's version (a downgrade, said as one).
    let (rc, doc, stderr) = deploy_at(
        &kc,
        &["--catalog", cat_dir, "--modules", &format!("{name}@regular")],
    );
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    assert_eq!(deployed_version(&c, &ns).await.as_deref(), Some("1.0.0"));
    assert_eq!(doc["versionChanges"][0]["downgrade"], true, "{doc:#}");

    let out = kyma_at(&kc, &["undeploy", "--modules", &name]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn the_operator_follows_a_kymas_channel_and_says_which_version_it_resolved() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let (name, ns) = (unique("opchan"), unique("opchan-ns"));
    let cat = channel_catalog(&name, &ns);
    let home = unique("opchan-home");
    create_namespace(&c, &home).await;
    let (op, kymas, run) = crate::operator::Operator::for_run(&c, cat.path(), &[]).await;
    let obj = crate::operator::kyma_in(
        "fleet",
        &home,
        &run,
        json!({"channel": "fast", "modules": [{"name": name}]}),
    );
    c.apply(&kymas, &obj, Default::default()).await.unwrap();
    let status_when = |want: &'static str| {
        let (c, kymas, home) = (c.clone(), kymas.clone(), home.clone());
        async move {
            // Generous: under the whole suite the reconcile may queue for the cluster lock.
            eventually(Duration::from_secs(240), || async {
                let k = c.get(&kymas, Some(&home), "fleet").await.ok()??;
                (crate::operator::ready(&k) && k["status"]["modules"][0]["version"] == want).then_some(k)
            })
            .await
        }
    };
    let k = status_when("2.0.0")
        .await
        .unwrap_or_else(|| panic!("fast → 2.0.0 Ready; operator log:\n{}", op.log()));
    assert_eq!(k["status"]["modules"][0]["channel"], "fast", "{:#}", k["status"]);
    assert_eq!(deployed_version(&c, &ns).await.as_deref(), Some("2.0.0"));

    // The channel moves the object: regular's version.
    let moved = crate::operator::kyma_in(
        "fleet",
        &home,
        &run,
        json!({"channel": "regular", "modules": [{"name": name}]}),
    );
    c.apply(&kymas, &moved, Default::default()).await.unwrap();
    let k = status_when("1.0.0")
        .await
        .unwrap_or_else(|| panic!("regular → 1.0.0 Ready; operator log:\n{}", op.log()));
    assert_eq!(k["status"]["modules"][0]["channel"], "regular");
    assert_eq!(deployed_version(&c, &ns).await.as_deref(), Some("1.0.0"));

    // A version and a channel together, and a channel the module does not have: said, nothing changes.
    for (spec, want) in [
        (
            json!({"modules": [{"name": name, "version": "2.0.0", "channel": "fast"}]}),
            format!("module {name}: give a version (2.0.0) or a channel (fast), not both"),
        ),
        (
            json!({"channel": "beta", "modules": [{"name": name}]}),
            format!("module '{name}' has no channel 'beta' (channels: fast, regular)"),
        ),
    ] {
        let bad = crate::operator::kyma_in("fleet", &home, &run, spec);
        c.apply(&kymas, &bad, Default::default()).await.unwrap();
        let said = eventually(Duration::from_secs(120), || async {
            let k = c.get(&kymas, Some(&home), "fleet").await.ok()??;
            let cond: Vec<Value> = k["status"]["conditions"].as_array().cloned().unwrap_or_default();
            cond.into_iter()
                .find(|c| c["type"] == "Ready" && c["status"] == "False" && c["reason"] == "InvalidSpec")
                .filter(|c| c["message"].as_str().is_some_and(|m| m.contains(&want)))
        })
        .await;
        assert!(said.is_some(), "InvalidSpec: {want}\noperator log:\n{}", op.log());
        assert_eq!(
            deployed_version(&c, &ns).await.as_deref(),
            Some("1.0.0"),
            "nothing changed"
        );
    }

    // Deleting the object undeploys what it deployed.
    let _ = c.delete(&kymas, Some(&home), "fleet").await;
    let gone = eventually(Duration::from_secs(240), || async {
        c.get(&kymas, Some(&home), "fleet")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    assert!(gone.is_some(), "operator log:\n{}", op.log());
    assert_eq!(deployed_version(&c, &ns).await, None);
    drop(op);
    let nss = resource(&c, "v1", "Namespace");
    let _ = c.delete(&nss, None, &home).await;
}

/// lifecycle-manager's ModuleReleaseMeta kind on the bed: a CRD of our own writing that keeps any
/// fields (the tests need the kind served, not its schema).
async fn serve_release_metas(c: &kyma::testkit::cluster::Cluster) -> kyma::testkit::cluster::Resource {
    let crds = resource(c, "apiextensions.k8s.io/v1", "CustomResourceDefinition");
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "modulereleasemetas.operator.kyma-project.io"},
        "spec": {"group": "operator.kyma-project.io", "scope": "Namespaced",
            "names": {"kind": "ModuleReleaseMeta", "plural": "modulereleasemetas", "singular": "modulereleasemeta", "listKind": "ModuleReleaseMetaList"},
            "versions": [{"name": "v1beta2", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}}]}});
    c.apply(&crds, &crd, Default::default()).await.unwrap();
    eventually(Duration::from_secs(30), || async {
        let _ = c.discovery.refresh(c, "operator.kyma-project.io/v1beta2").await;
        c.discovery
            .resolve("operator.kyma-project.io/v1beta2", "ModuleReleaseMeta")
    })
    .await
    .expect("ModuleReleaseMeta served")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn the_operator_takes_channels_from_the_clusters_module_release_metas() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let metas = serve_release_metas(&c).await;
    let (name, ns) = (unique("mrm"), unique("mrm-ns"));
    // The files map fast to 2.0.0; the cluster's object (central configuration) says 1.0.0.
    let cat = channel_catalog(&name, &ns);
    let home = unique("mrm-home");
    create_namespace(&c, &home).await;
    let meta = |fast: &str| {
        json!({"apiVersion": "operator.kyma-project.io/v1beta2", "kind": "ModuleReleaseMeta",
            "metadata": {"name": name, "namespace": home},
            "spec": {"moduleName": name, "channels": [{"channel": "fast", "version": fast}]}})
    };
    c.apply(&metas, &meta("1.0.0"), Default::default()).await.unwrap();
    // A resync longer than the test: what moves the object is the ModuleReleaseMeta's watch. Metas are
    // read from the operator's own namespace only.
    let extra = ["--resync", "10m", "--operator-namespace", &home];
    let (op, kymas, run) = crate::operator::Operator::for_run(&c, cat.path(), &extra).await;
    let obj = crate::operator::kyma_in(
        "k",
        &home,
        &run,
        json!({"channel": "fast", "modules": [{"name": name}]}),
    );
    c.apply(&kymas, &obj, Default::default()).await.unwrap();
    let at = |want: &'static str| {
        let (c, kymas, home, ns) = (c.clone(), kymas.clone(), home.clone(), ns.clone());
        async move {
            eventually(Duration::from_secs(120), || async {
                let k = c.get(&kymas, Some(&home), "k").await.ok()??;
                let ok = crate::operator::ready(&k)
                    && k["status"]["modules"][0]["version"] == want
                    && deployed_version(&c, &ns).await.as_deref() == Some(want);
                ok.then_some(())
            })
            .await
        }
    };
    at("1.0.0").await.unwrap_or_else(|| {
        panic!(
            "the cluster's fast (1.0.0) over the files' (2.0.0); operator log:\n{}",
            op.log()
        )
    });

    // The channel moves in the cluster: the object follows at once (its resync is 10 minutes away).
    c.apply(&metas, &meta("2.0.0"), Default::default()).await.unwrap();
    at("2.0.0")
        .await
        .unwrap_or_else(|| panic!("moved to 2.0.0 by the object; operator log:\n{}", op.log()));

    // A mapping to a version the catalog lacks takes the module's channels away (said in the log and
    // the object's status) — never back to the files' mapping; what is deployed stays.
    c.apply(&metas, &meta("9.9.9"), Default::default()).await.unwrap();
    let said = eventually(Duration::from_secs(60), || async {
        let k = c.get(&kymas, Some(&home), "k").await.ok()??;
        let cond = crate::operator::ready_condition(&k)?;
        (cond["reason"] == "InvalidSpec").then_some(cond)
    })
    .await
    .unwrap_or_else(|| panic!("InvalidSpec; operator log:\n{}", op.log()));
    assert!(
        said["message"]
            .as_str()
            .unwrap()
            .contains(&format!("module '{name}' has no channel 'fast'")),
        "{said:#}"
    );
    assert!(
        op.log().contains("which the catalog does not have"),
        "{}",
        op.log()
    );
    assert_eq!(deployed_version(&c, &ns).await.as_deref(), Some("2.0.0"));

    let _ = c.delete(&kymas, Some(&home), "k").await;
    let gone = eventually(Duration::from_secs(120), || async {
        c.get(&kymas, Some(&home), "k")
            .await
            .ok()?
            .is_none()
            .then_some(())
    })
    .await;
    assert!(gone.is_some(), "operator log:\n{}", op.log());
    drop(op);
    let nss = resource(&c, "v1", "Namespace");
    let _ = c.delete(&nss, None, &home).await;
}

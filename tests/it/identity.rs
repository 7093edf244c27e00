//! Object identity includes the API group: two kinds named alike in different groups (as `Gateway` is in
//! `networking.istio.io` and `gateway.networking.k8s.io`) never stand in for each other in deploy, status,
//! prune or undeploy.

use serde_json::json;

use crate::support::*;

fn crd(group: &str) -> String {
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gadgets.{group}\nspec:\n  group: {group}\n  scope: Namespaced\n  names: {{kind: Gadget, plural: gadgets, singular: gadget, listKind: GadgetList}}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}\n"
    )
}

fn gadget(group: &str, size: u32) -> String {
    format!("apiVersion: {group}/v1\nkind: Gadget\nmetadata:\n  name: g\nspec: {{size: {size}}}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn same_kind_and_name_in_two_groups_stay_two_objects() {
    let _shared = CLUSTER.read().await;
    let ns = unique("twins");
    let (alpha, beta) = (format!("alpha.{ns}.kyma.test"), format!("beta.{ns}.kyma.test"));
    let name = format!("twins-{ns}");
    let m = |v: &str| format!("apiVersion: kyma.module/v1\nname: {name}\nversion: {v}\nnamespace: {ns}\n");
    // Different specs, so a status that compared one with the other's manifest would see drift.
    let cat = catalog(&[
        ("t/1.0.0/module.yaml", m("1.0.0")),
        ("t/1.0.0/templates/crd-a.yaml", crd(&alpha)),
        ("t/1.0.0/templates/crd-b.yaml", crd(&beta)),
        ("t/1.0.0/templates/g-a.yaml", gadget(&alpha, 1)),
        ("t/1.0.0/templates/g-b.yaml", gadget(&beta, 2)),
        ("t/2.0.0/module.yaml", m("2.0.0")),
        ("t/2.0.0/templates/crd-a.yaml", crd(&alpha)),
        ("t/2.0.0/templates/crd-b.yaml", crd(&beta)),
        ("t/2.0.0/templates/g-a.yaml", gadget(&alpha, 1)),
    ]);
    let dir = cat.path().to_str().unwrap();
    let at = |v: &str| format!("{name}@{v}");

    // Deploy: both objects applied, each under its own group.
    let (rc, doc, stderr) = deploy_at(&kubeconfig(), &["--catalog", dir, "--modules", &at("1.0.0")]);
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    let c = cluster().await; // discovery now knows both Gadget kinds
    let ga = resource(&c, &format!("{alpha}/v1"), "Gadget");
    let gb = resource(&c, &format!("{beta}/v1"), "Gadget");
    let live_a = c.get(&ga, Some(&ns), "g").await.unwrap().expect("alpha gadget");
    let live_b = c.get(&gb, Some(&ns), "g").await.unwrap().expect("beta gadget");
    assert_eq!(
        (live_a["spec"]["size"].as_u64(), live_b["spec"]["size"].as_u64()),
        (Some(1), Some(2))
    );

    // Status: two members, both healthy, neither drifted, each named with its group.
    let status = json_of(&kyma(&["status", "--modules", &name, "-o", "json"]));
    let details = status["modules"][0]["details"]
        .as_array()
        .expect("details")
        .clone();
    let of = |group: &str| {
        details
            .iter()
            .find(|d| d["object"] == format!("Gadget.{group}/{ns}/g"))
            .unwrap_or_else(|| panic!("no Gadget.{group} in {details:#?}"))
            .clone()
    };
    for group in [&alpha, &beta] {
        let d = of(group);
        assert_eq!(d["health"]["state"], "ready", "{d:#}");
        assert!(d.get("drift").is_none(), "{d:#}");
    }
    assert_eq!(status["modules"][0]["drifted"], 0, "{status:#}");

    // Prune: 2.0.0 drops beta's Gadget only.
    let out = kyma(&["deploy", "--catalog", dir, "--modules", &at("2.0.0")]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("pruned Gadget.{beta}/{ns}/g")),
        "{stderr}"
    );
    assert!(
        c.get(&gb, Some(&ns), "g").await.unwrap().is_none(),
        "beta's Gadget is pruned"
    );
    assert!(
        c.get(&ga, Some(&ns), "g").await.unwrap().is_some(),
        "alpha's Gadget stays"
    );

    // A user's own beta Gadget named like kyma's alpha one is not kyma's: undeploy refuses, naming it.
    c.apply(
        &gb,
        &json!({"apiVersion": format!("{beta}/v1"), "kind": "Gadget", "metadata": {"name": "g", "namespace": ns}, "spec": {"size": 9}}),
        Default::default(),
    )
    .await
    .unwrap();
    let out = kyma(&["undeploy", "--modules", &name]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 2, "{stdout}\n{stderr}");
    assert!(stderr.contains(&format!("Gadget {ns}/g")), "{stderr}");
    assert!(
        c.get(&ga, Some(&ns), "g").await.unwrap().is_some(),
        "refused: nothing removed"
    );

    // --force removes the module but keeps beta's CRD (a resource kyma did not create uses it) and the
    // user's Gadget; alpha's Gadget and CRD go.
    let out = kyma(&["undeploy", "--modules", &name, "--force", "-o", "json"]);
    let doc = json_of(&out);
    assert_eq!(code(&out), 0, "{doc:#}");
    let crds = resource(&c, "apiextensions.k8s.io/v1", "CustomResourceDefinition");
    assert!(
        c.get(&crds, None, &format!("gadgets.{alpha}"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        c.get(&crds, None, &format!("gadgets.{beta}"))
            .await
            .unwrap()
            .is_some()
    );
    let mine = c
        .get(&gb, Some(&ns), "g")
        .await
        .unwrap()
        .expect("the user's Gadget survives");
    assert_eq!(mine["spec"]["size"], 9);
    let kept = doc.to_string();
    assert!(
        kept.contains(&format!(
            "CustomResourceDefinition.apiextensions.k8s.io/gadgets.{beta}"
        )),
        "{doc:#}"
    );

    // Tidy up what the test (as the user) created.
    c.delete(&gb, Some(&ns), "g").await.unwrap();
    c.delete(&crds, None, &format!("gadgets.{beta}")).await.unwrap();
}

//! Proof that the test bed is a real control plane: server-side apply, read back, namespace deletion
//! by the controller-manager.

use std::time::Duration;

use serde_json::json;

use crate::support::*;

#[tokio::test]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn namespace_configmap_apply_read_delete() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("bed");
    create_namespace(&c, &ns).await;
    let cm = resource(&c, "v1", "ConfigMap");
    let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "proof", "namespace": ns}, "data": {"answer": "42"}});
    c.apply(&cm, &obj, Default::default())
        .await
        .expect("server-side apply");
    let back = c
        .get(&cm, Some(&ns), "proof")
        .await
        .unwrap()
        .expect("the ConfigMap exists");
    assert_eq!(back["data"]["answer"], "42");
    let managers: Vec<&str> = back["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["manager"].as_str())
        .collect();
    assert_eq!(managers, vec!["kyma"], "field manager");
    assert_eq!(back["metadata"]["managedFields"][0]["operation"], "Apply");

    let nsr = resource(&c, "v1", "Namespace");
    c.delete(&nsr, None, &ns).await.unwrap();
    let gone = eventually(Duration::from_secs(60), || async {
        c.get(&nsr, None, &ns).await.unwrap().is_none().then_some(())
    })
    .await;
    assert!(
        gone.is_some(),
        "namespace {ns} still exists after 60 s: is the controller-manager running?"
    );
    assert!(
        c.get(&cm, Some(&ns), "proof").await.unwrap().is_none(),
        "its ConfigMap went with it"
    );
}

/// The bed is today's Kubernetes with real scheduling: the server reports v1.37, the fake Nodes are
/// Ready and untainted, a 2-replica Deployment rolls out through the scheduler and kwok to Available,
/// and a CRD's CEL rule (`x-kubernetes-validations`, which real Kyma CRDs use) is enforced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn modern_server_schedules_pods_and_enforces_cel() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    assert!(
        c.server_version.starts_with("v1.37."),
        "the main bed runs {}",
        c.server_version
    );

    let nodes = c.list(&resource(&c, "v1", "Node"), None, None).await.unwrap();
    assert!(nodes.len() >= 2, "{nodes:#?}");
    for n in &nodes {
        let ready = n["status"]["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["type"] == "Ready" && x["status"] == "True");
        assert!(ready, "Node not Ready: {n:#}");
        assert!(n["spec"]["taints"].is_null(), "Node tainted: {:#}", n["spec"]);
    }

    let ns = unique("roll");
    create_namespace(&c, &ns).await;
    let deployments = resource(&c, "apps/v1", "Deployment");
    let d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": ns},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "template": {"metadata": {"labels": {"app": "web"}},
        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}});
    c.apply(&deployments, &d, Default::default()).await.unwrap();
    let available = eventually(Duration::from_secs(60), || async {
        let live = c.get(&deployments, Some(&ns), "web").await.ok()??;
        (live["status"]["availableReplicas"] == 2).then_some(live)
    })
    .await;
    assert!(
        available.is_some(),
        "the Deployment did not become Available in 60 s"
    );
    let pods = c.list(&resource(&c, "v1", "Pod"), Some(&ns), None).await.unwrap();
    assert_eq!(pods.len(), 2);
    for p in &pods {
        assert_eq!(p["status"]["phase"], "Running", "{p:#}");
        assert!(
            p["spec"]["nodeName"]
                .as_str()
                .is_some_and(|n| n.starts_with("kyma-bed-node-")),
            "{p:#}"
        );
        assert!(p["status"]["podIP"].is_string(), "{p:#}");
    }

    // CEL: accepted on the CRD, enforced on the object.
    let group = format!("{ns}.kyma.test");
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("widgets.{group}")},
        "spec": {"group": group, "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {"spec": {"type": "object",
                    "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}},
                    "x-kubernetes-validations": [{"rule": "self.min <= self.max", "message": "min must not exceed max"}]}}}}}]}});
    let crds = resource(&c, "apiextensions.k8s.io/v1", "CustomResourceDefinition");
    c.apply(&crds, &crd, Default::default())
        .await
        .expect("a CRD with x-kubernetes-validations is accepted");
    let gv = format!("{group}/v1");
    let widgets = eventually(Duration::from_secs(30), || async {
        c.discovery.refresh(&c, &gv).await.ok()?;
        c.discovery.resolve(&gv, "Widget")
    })
    .await
    .expect("the Widget kind is served");
    let widget = |min: i64, max: i64| json!({"apiVersion": gv, "kind": "Widget", "metadata": {"name": "w", "namespace": ns}, "spec": {"min": min, "max": max}});
    let e = c
        .apply(&widgets, &widget(5, 1), Default::default())
        .await
        .unwrap_err();
    assert_eq!(e.code, Some(422), "{e:?}");
    assert!(e.message.contains("min must not exceed max"), "{}", e.message);
    c.apply(&widgets, &widget(1, 5), Default::default())
        .await
        .expect("a valid Widget is accepted");

    c.delete(&crds, None, &format!("widgets.{group}")).await.unwrap();
    c.delete(&resource(&c, "v1", "Namespace"), None, &ns)
        .await
        .unwrap();
}

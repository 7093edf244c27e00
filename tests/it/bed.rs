//! Proof that the test bed is a real control plane: server-side apply, read back, namespace deletion
//! by the controller-manager.

use std::time::Duration;

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn namespace_configmap_apply_read_delete() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("bed");
    create_namespace(&c, &ns).await;
    let cm = resource(&c, "v1", "ConfigMap");
    let obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "proof", "namespace": ns}, "data": {"answer": "42"}});
    c.apply(&cm, &obj, Default::default()).await.expect("server-side apply");
    let back = c.get(&cm, Some(&ns), "proof").await.unwrap().expect("the ConfigMap exists");
    assert_eq!(back["data"]["answer"], "42");
    let managers: Vec<&str> = back["metadata"]["managedFields"].as_array().unwrap().iter().filter_map(|m| m["manager"].as_str()).collect();
    assert_eq!(managers, vec!["kyma"], "field manager");
    assert_eq!(back["metadata"]["managedFields"][0]["operation"], "Apply");

    let nsr = resource(&c, "v1", "Namespace");
    c.delete(&nsr, None, &ns).await.unwrap();
    let gone = eventually(Duration::from_secs(60), || async { c.get(&nsr, None, &ns).await.unwrap().is_none().then_some(()) }).await;
    assert!(gone.is_some(), "namespace {ns} still exists after 60 s: is the controller-manager running?");
    assert!(c.get(&cm, Some(&ns), "proof").await.unwrap().is_none(), "its ConfigMap went with it");
}

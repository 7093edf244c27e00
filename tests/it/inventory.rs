//! An inventory too large for one Secret: a module of 10,000 objects deploys, its record spans a parent
//! and part Secrets each under the server's limit, status reads it, a re-run skips it, and undeploy
//! removes every object and every inventory Secret. Real test bed: the fault suite's, one test at a
//! time, so its minutes of holding the cluster lock never hold up the tests sharing the main bed.

use std::time::Instant;

use serde_json::{Value, json};

use crate::deploy::{module, module_yaml};
use crate::support::*;

const OBJECTS: usize = 10_000;
/// The server refuses a Secret with more than this much data.
const SECRET_LIMIT: usize = 1024 * 1024;

/// The module's inventory Secrets (parent and parts) and the bytes of data in each.
async fn inventory_secrets(c: &kyma::testkit::cluster::Cluster, name: &str) -> Vec<(String, usize)> {
    let secrets = resource(c, "v1", "Secret");
    let items = c
        .list(
            &secrets,
            Some("kyma-installer"),
            Some(&format!("kyma-project.io/module={name}")),
        )
        .await
        .or_else(|e| if e.is_not_found() { Ok(vec![]) } else { Err(e) })
        .unwrap();
    items
        .iter()
        .map(|s| {
            use base64::Engine as _;
            let bytes = s["data"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(_, v)| {
                    base64::engine::general_purpose::STANDARD
                        .decode(v.as_str().unwrap())
                        .unwrap()
                        .len()
                })
                .sum();
            (s["metadata"]["name"].as_str().unwrap().to_string(), bytes)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_module_of_ten_thousand_objects_keeps_its_inventory_in_several_secrets() {
    let _bed = FAULT_BED.lock().await;
    let kc = fault_bed().join("kubeconfig");
    let c = cluster_at(&kc).await;
    let ns = unique("inv-big");
    let name = ns.clone();
    let cat = catalog(&[
        ("big/module.yaml", module_yaml(&name, &ns)),
        (
            "big/templates/many.yaml",
            format!(
                "{{% for i in range(end={OBJECTS}) %}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: large-inventory-config-{{{{ i }}}}\ndata:\n  n: \"{{{{ i }}}}\"\n{{% endfor %}}\n"
            ),
        ),
    ]);
    let dir = cat.path().to_str().unwrap();

    let started = Instant::now();
    let (rc, doc, stderr) = deploy_at(&kc, &["--catalog", dir, "--modules", &name, "--timeout", "600s"]);
    let took = started.elapsed();
    assert_eq!(rc, 0, "{:.4000}\n{stderr:.4000}", doc.to_string());
    assert_eq!(module(&doc, &name)["state"], "Ready", "{:.2000}", doc.to_string());

    let secrets = inventory_secrets(&c, &name).await;
    assert!(secrets.len() >= 2, "one Secret holds it all: {secrets:?}");
    assert!(
        secrets.iter().any(|(n, _)| *n == format!("kyma-{name}")),
        "no parent: {secrets:?}"
    );
    assert!(secrets.iter().all(|(_, b)| *b < SECRET_LIMIT), "{secrets:?}");
    let largest = secrets.iter().map(|(_, b)| *b).max().unwrap();
    figure(format!(
        "inventory: deploy of {OBJECTS} ConfigMaps {:.1} s; inventory in {} Secrets (parent + {} part(s)), largest {} KiB of data",
        took.as_secs_f64(),
        secrets.len(),
        secrets.len() - 1,
        largest / 1024
    ));

    // Status reads the whole record back.
    let out = kyma_at(&kc, &["status", "--modules", &name, "-o", "json"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stdout:.2000}\n{stderr:.2000}");
    let status: Value = serde_json::from_str(&stdout).unwrap();
    let m = &status["modules"][0];
    assert_eq!(m["name"], json!(name), "{:.2000}", m.to_string());
    assert_eq!(
        m["objects"],
        json!(OBJECTS + 1),
        "the ConfigMaps and the module namespace"
    );
    assert_eq!(m["drifted"], 0, "{:.2000}", m.to_string());

    // The record is read whole, so the unchanged skip recognises it.
    let (rc, doc, stderr) = deploy_at(&kc, &["--catalog", dir, "--modules", &name, "--timeout", "600s"]);
    assert_eq!(rc, 0, "{:.4000}\n{stderr:.4000}", doc.to_string());
    assert_eq!(
        module(&doc, &name)["state"],
        "Skipped",
        "{:.2000}",
        doc.to_string()
    );

    let out = kyma_at(&kc, &["undeploy", "--modules", &name, "--timeout", "600s"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    assert_eq!(
        inventory_secrets(&c, &name).await,
        vec![],
        "inventory Secrets left"
    );
    let cms = resource(&c, "v1", "ConfigMap");
    let left = c
        .list(
            &cms,
            Some(&ns),
            Some(&format!(
                "applyset.kubernetes.io/part-of={}",
                kyma::testkit::store::inventory::applyset_id(&name)
            )),
        )
        .await
        .unwrap_or_default();
    assert_eq!(left.len(), 0, "ConfigMaps left after undeploy");
}

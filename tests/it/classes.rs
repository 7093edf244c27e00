//! Every error class the engine relies on, provoked on the real API server (not a helper's opinion).

use serde_json::json;

use kyma::testkit::cluster::classify::{FatalClass, RetryClass, Verdict, classify};
use kyma::testkit::cluster::{ApplyOptions, Resource};

use crate::support::*;

#[tokio::test]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn error_classes_against_the_real_server() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("cls");
    let cm = resource(&c, "v1", "ConfigMap");
    let obj = |name: &str, ns: &str| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": {"k": "v"}});

    // Unknown group: a plain-text "404 page not found", not a Status.
    let fake = Resource {
        group: "nope.kyma.test".into(),
        version: "v1".into(),
        kind: "Nope".into(),
        plural: "nopes".into(),
        namespaced: true,
        has_status: false,
        listable: false,
    };
    let e = c.apply(&fake, &json!({"apiVersion": "nope.kyma.test/v1", "kind": "Nope", "metadata": {"name": "x", "namespace": "default"}}), ApplyOptions::default()).await.unwrap_err();
    assert_eq!(e.code, Some(404), "{e:?}");
    assert_eq!(
        classify(&e),
        Verdict::Retry {
            class: RetryClass::KindNotServed,
            after: None
        },
        "{e:?}"
    );

    // Namespace that does not exist yet.
    let e = c
        .apply(&cm, &obj("a", &ns), ApplyOptions::default())
        .await
        .unwrap_err();
    assert_eq!(
        classify(&e),
        Verdict::Retry {
            class: RetryClass::NamespaceMissing,
            after: None
        },
        "{e:?}"
    );

    create_namespace(&c, &ns).await;
    // Invalid object: 422.
    let mut bad = obj("Bad_Name", &ns);
    bad["metadata"]["name"] = json!("Bad_Name");
    let e = c.apply(&cm, &bad, ApplyOptions::default()).await.unwrap_err();
    assert_eq!(e.code, Some(422), "{e:?}");
    assert_eq!(classify(&e), Verdict::Fail(FatalClass::Invalid));

    // Field conflict with another manager, and --force-conflicts taking it over.
    let theirs = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared", "namespace": ns}, "data": {"k": "theirs"}});
    let req = kyma::testkit::cluster::Cluster::requests(&cm, Some(&ns))
        .patch(
            "shared",
            &kube::api::PatchParams::apply("someone-else"),
            &kube::api::Patch::Apply(&theirs),
        )
        .unwrap();
    c.send(req).await.unwrap();
    let e = c
        .apply(&cm, &obj("shared", &ns), ApplyOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.code, Some(409), "{e:?}");
    assert_eq!(classify(&e), Verdict::Fail(FatalClass::FieldConflict));
    assert!(
        e.message.contains("someone-else"),
        "the message names the owner: {}",
        e.message
    );
    let taken = c
        .apply(
            &cm,
            &obj("shared", &ns),
            ApplyOptions {
                force: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(taken["data"]["k"], "v");

    // Forbidden: the same apply as a user without rights (impersonated by our admin certificate).
    let kc = kube::config::Kubeconfig::read_from(kubeconfig()).unwrap();
    let mut cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    cfg.auth_info.impersonate = Some("nobody".into());
    let nobody = kyma::testkit::cluster::Cluster {
        client: kube::Client::try_from(cfg).unwrap(),
        ..c.clone()
    };
    let e = nobody
        .apply(&cm, &obj("x", &ns), ApplyOptions::default())
        .await
        .unwrap_err();
    assert_eq!(e.code, Some(403), "{e:?}");
    assert_eq!(classify(&e), Verdict::Fail(FatalClass::Forbidden));
}

//! IPv6 and dual-stack: the cluster's address families reach templates as facts, and kyma works against
//! an API server reachable only on IPv6.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::*;

/// A copy of the example module under a name and namespace of its own (tests run side by side).
fn example_as(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/modules/hello");
    let dst = dir.path().join(name);
    for entry in walk(&src) {
        let rel = entry.strip_prefix(&src).unwrap();
        let to = dst.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        let text = std::fs::read_to_string(&entry).unwrap();
        let text = if rel == Path::new("module.yaml") {
            text.replace("name: hello", &format!("name: {name}"))
                .replace("namespace: hello-system", &format!("namespace: {name}"))
        } else {
            text
        };
        std::fs::write(to, text).unwrap();
    }
    dir
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

async fn live_service(kubeconfig: &Path, ns: &str) -> Value {
    let c = cluster_at(kubeconfig).await;
    let svc = resource(&c, "v1", "Service");
    c.get(&svc, Some(ns), "hello")
        .await
        .unwrap()
        .expect("the Service was applied")
}

/// The example Service asks for both families: a dual-stack cluster (the fault bed is started
/// dual-stack) gets `PreferDualStack` with IPv4 and IPv6 — from the cluster's facts, no values set —
/// and a single-stack cluster stays `SingleStack` even when the values ask for both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_service_is_dual_stack_only_on_a_dual_stack_cluster() {
    let _bed = FAULT_BED.lock().await;
    let _shared = CLUSTER.read().await;
    let dual = fault_bed().join("kubeconfig");
    let name = unique("dualstack");
    let cat = example_as(&name);
    let dir = cat.path().to_str().unwrap().to_string();

    let both = [
        format!("{name}.ipFamilies[0]=IPv4"),
        format!("{name}.ipFamilies[1]=IPv6"),
    ];
    let (rc, doc, stderr) = deploy_at(
        &kubeconfig(),
        &[
            "--catalog",
            &dir,
            "--modules",
            &name,
            "--no-wait",
            "--set",
            &both[0],
            "--set",
            &both[1],
        ],
    );
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    let single = live_service(&kubeconfig(), &name).await;
    assert_eq!(single["spec"]["ipFamilyPolicy"], "SingleStack", "{single:#}");
    assert_eq!(
        single["spec"]["ipFamilies"],
        serde_json::json!(["IPv4"]),
        "{single:#}"
    );

    let (rc, doc, stderr) = deploy_at(&dual, &["--catalog", &dir, "--modules", &name, "--no-wait"]);
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    let both = live_service(&dual, &name).await;
    assert_eq!(both["spec"]["ipFamilyPolicy"], "PreferDualStack", "{both:#}");
    assert_eq!(
        both["spec"]["ipFamilies"],
        serde_json::json!(["IPv4", "IPv6"]),
        "{both:#}"
    );
    let ips = both["spec"]["clusterIPs"].as_array().unwrap();
    assert!(
        ips.len() == 2 && ips[1].as_str().unwrap().contains(':'),
        "the server gave it an address of each family: {both:#}"
    );
    figure(format!(
        "the example Service: single-stack bed {} {}, dual-stack bed {} {} {}",
        single["spec"]["ipFamilyPolicy"],
        single["spec"]["ipFamilies"],
        both["spec"]["ipFamilyPolicy"],
        both["spec"]["ipFamilies"],
        both["spec"]["clusterIPs"]
    ));
    for kc in [kubeconfig(), dual] {
        let out = kyma_at(&kc, &["undeploy", "--modules", &name, "--timeout", "60s"]);
        assert_eq!(code(&out), 0, "{:?}", text(&out));
    }
}

/// A bed bound to `::1` only (started by this test): deploy to Ready, status, undeploy, all over IPv6;
/// the cluster's only family is IPv6 and the example Service gets it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn an_api_server_reachable_only_on_ipv6() {
    let bed = Ipv6Bed::up();
    let kc = bed.dir.join("kubeconfig");
    let server = std::fs::read_to_string(&kc).unwrap();
    assert!(server.contains("server: https://[::1]:"), "{server}");
    let name = unique("v6");
    let cat = example_as(&name);
    let dir = cat.path().to_str().unwrap().to_string();
    let (rc, doc, stderr) = deploy_at(&kc, &["--catalog", &dir, "--modules", &name, "--timeout", "120s"]);
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    assert_eq!(doc["modules"][0]["state"], "Ready", "{doc:#}");
    assert!(
        doc["server"].as_str().unwrap().starts_with("https://[::1]:"),
        "{doc:#}"
    );
    let svc = live_service(&kc, &name).await;
    assert_eq!(svc["spec"]["ipFamilies"], serde_json::json!(["IPv6"]), "{svc:#}");
    let out = kyma_at(&kc, &["status", "--modules", &name, "--check"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    let out = kyma_at(&kc, &["undeploy", "--modules", &name, "--timeout", "60s"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// An IPv6-only bed for one test, stopped when the test ends.
struct Ipv6Bed {
    dir: PathBuf,
}

impl Ipv6Bed {
    fn up() -> Ipv6Bed {
        let dir = std::env::temp_dir().join("kyma-test-bed-ipv6");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let out = std::process::Command::new("bash")
            .arg(root.join("scripts/test-bed.sh"))
            .args([
                "up",
                "--version",
                "1.37",
                "--ipv6",
                "--port",
                "16446",
                "--etcd-port",
                "12389",
                "--dir",
            ])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "the IPv6 bed did not start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ipv6Bed { dir }
    }
}

impl Drop for Ipv6Bed {
    fn drop(&mut self) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let _ = std::process::Command::new("bash")
            .arg(root.join("scripts/test-bed.sh"))
            .args(["down", "--dir"])
            .arg(&self.dir)
            .output();
    }
}

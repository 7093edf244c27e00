//! Shared helpers for cluster tests: the test bed's kubeconfig, unique namespaces, running the binary,
//! and playing the kubelet.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::{Value, json};

pub const DEFAULT_BED_KUBECONFIG: &str = "/tmp/kyma-test-bed/kubeconfig";

/// The kubeconfig of the cluster under test. Cluster tests never skip: without a cluster they fail and
/// say how to start one.
pub fn kubeconfig() -> PathBuf {
    if let Some(p) = std::env::var_os("KYMA_TEST_KUBECONFIG") {
        return PathBuf::from(p);
    }
    let bed = PathBuf::from(DEFAULT_BED_KUBECONFIG);
    if bed.exists() {
        return bed;
    }
    panic!(
        "no cluster for cluster tests: start the test bed with `scripts/test-bed.sh up` \
         (or set KYMA_TEST_KUBECONFIG to a kind/k3d kubeconfig), then run the tests again"
    );
}

pub async fn cluster() -> kyma::cluster::Cluster {
    kyma::tls::install_crypto_provider();
    let c = kyma::cluster::connect(Some(&kubeconfig()), None).await.expect("connect to the test cluster");
    c.discovery.ensure_all(&c).await;
    c
}

/// A name unique to this test run, usable as a namespace.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{:08x}", fastrand::u32(..))
}

pub fn resource(c: &kyma::cluster::Cluster, api_version: &str, kind: &str) -> kyma::cluster::Resource {
    c.discovery.resolve(api_version, kind).unwrap_or_else(|| panic!("{kind} in {api_version} is not served"))
}

pub async fn create_namespace(c: &kyma::cluster::Cluster, name: &str) {
    let r = resource(c, "v1", "Namespace");
    c.apply(&r, &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}), Default::default())
        .await
        .expect("create namespace");
}

/// Cluster tests share one cluster. Most may run side by side (each in its own namespaces); a test
/// that needs the whole cluster to itself (`undeploy --all`) takes this exclusively.
pub static CLUSTER: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// Run the kyma binary against the test cluster.
pub fn kyma(args: &[&str]) -> Output {
    // Tests run side by side: deploys and undeploys queue for the cluster lock instead of failing on it.
    let mut args: Vec<&str> = args.to_vec();
    if matches!(args.first(), Some(&"deploy") | Some(&"undeploy")) && !args.contains(&"--no-lock-wait") {
        args.push("--wait-for-lock");
    }
    args.retain(|a| *a != "--no-lock-wait");
    let out = Command::new(env!("CARGO_BIN_EXE_kyma"))
        .args(&args)
        .env("KUBECONFIG", kubeconfig())
        .env("NO_COLOR", "1")
        .env("KYMA_CACHE_DIR", std::env::temp_dir().join("kyma-test-cache"))
        .output()
        .expect("run kyma");
    out
}

pub fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).to_string(), String::from_utf8_lossy(&o.stderr).to_string())
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Write a catalog directory for a test: `files` are paths relative to the catalog root.
pub fn catalog(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (p, c) in files {
        let path = dir.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, c).unwrap();
    }
    dir
}

/// Poll until `f` returns Some or the time is up (tests may poll; the product may not).
pub async fn eventually<T, F, Fut>(timeout: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let end = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if tokio::time::Instant::now() > end {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Play the kubelet for the pods in `namespace`: mark every pod Running and Ready through the status
/// subresource, until the returned handle is aborted.
pub fn fake_kubelet(c: kyma::cluster::Cluster, namespace: String) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let pods = resource(&c, "v1", "Pod");
        loop {
            if let Ok(list) = c.list(&pods, Some(&namespace), None).await {
                for mut p in list {
                    if p.pointer("/status/phase").and_then(Value::as_str) == Some("Running") {
                        continue;
                    }
                    let now = "2026-01-01T00:00:00Z";
                    let containers: Vec<Value> = p
                        .pointer("/spec/containers")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .map(|ct| json!({"name": ct["name"], "image": ct["image"], "imageID": "", "ready": true, "restartCount": 0, "started": true, "state": {"running": {"startedAt": now}}}))
                        .collect();
                    p["status"] = json!({
                        "phase": "Running",
                        "conditions": [
                            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
                            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
                            {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
                            {"type": "Ready", "status": "True", "lastTransitionTime": now}
                        ],
                        "containerStatuses": containers,
                        "hostIP": "127.0.0.1", "podIP": "10.0.0.1", "startTime": now
                    });
                    let _ = c.replace_status(&pods, &p).await;
                }
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    })
}

//! The fault suite: kyma against a real control plane that is not there yet, goes away, throttles, or
//! answers slowly. Each case fails if anything is lost, left behind or taken that is not ours, and
//! prints its figure (`cargo test -- --nocapture` shows them; CI logs them).

use std::time::{Duration, Instant};

use crate::support::*;

fn one_configmap_module(ns: &str, name: &str) -> tempfile::TempDir {
    catalog(&[
        (
            "m/module.yaml",
            format!("apiVersion: kyma.module/v1\nname: {name}\nversion: 1.0.0\nnamespace: {ns}\n"),
        ),
        (
            "m/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  k: v\n".into(),
        ),
    ])
}

/// A CI job starts kyma right after creating its cluster: nothing listens yet. kyma waits (and says
/// so), then deploys once the server answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_that_comes_up_late_is_waited_for() {
    let _shared = CLUSTER.read().await;
    let ns = unique("late");
    let name = format!("late-{ns}");
    let cat = one_configmap_module(&ns, &name);
    let dir = tempfile::tempdir().unwrap();
    let forwarder = Forwarder::new(&kubeconfig());
    let kc = forwarder.kubeconfig(&kubeconfig(), dir.path());
    let started = Instant::now();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kyma"))
        .args([
            "deploy",
            "--catalog",
            cat.path().to_str().unwrap(),
            "--modules",
            &name,
        ])
        .args(["--wait-for-cluster", "60s", "--wait-for-lock", "-o", "json"])
        .env("KUBECONFIG", &kc)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    forwarder.open().await;
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stdout}\n{stderr}");
    let waiting = format!(
        "waiting for the cluster: cannot reach https://127.0.0.1:{} (context kyma-test-bed): connection refused",
        forwarder.port
    );
    assert!(stderr.contains(&waiting), "{stderr}");
    assert!(stderr.contains("the cluster answered after"), "{stderr}");
    // Said at start and every few seconds, not once per attempt.
    assert!(stderr.matches("waiting for the cluster").count() <= 2, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["modules"][0]["state"], "Ready", "{doc:#}");
    eprintln!(
        "figure: server down for the first 3 s; deploy Ready {:.1} s after start",
        started.elapsed().as_secs_f64()
    );
    let out = kyma(&["undeploy", "--modules", &name]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// Nothing ever answers: exit 4 after the window, the cause said once with the address and context.
/// A server that speaks no TLS is a configuration problem: exit 4 at once, no waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_and_tls_failures_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let forwarder = Forwarder::new(&kubeconfig());
    let kc = forwarder.kubeconfig(&kubeconfig(), dir.path());
    let out = kyma_at(&kc, &["status", "--wait-for-cluster", "2s"]);
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), 4, "{stderr}");
    let cause = format!(
        "cannot reach https://127.0.0.1:{} (context kyma-test-bed): connection refused",
        forwarder.port
    );
    let last = stderr.lines().last().unwrap_or("");
    assert!(
        last.starts_with("error: gave up waiting for the cluster after") && last.matches(&cause).count() == 1,
        "{stderr}"
    );

    // Something that answers, but not with TLS.
    let plain = tokio::net::TcpListener::bind(("127.0.0.1", forwarder.port))
        .await
        .unwrap();
    let server = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        while let Ok((mut s, _)) = plain.accept().await {
            let _ = s
                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    });
    let out = kyma_at(&kc, &["status", "--wait-for-cluster", "60s"]);
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), 4, "{stderr}");
    assert!(
        !stderr.contains("waiting for the cluster"),
        "TLS failures are not waited out: {stderr}"
    );
    assert!(
        stderr.contains(&format!("TLS with https://127.0.0.1:{}", forwarder.port)),
        "{stderr}"
    );
    server.abort();
}

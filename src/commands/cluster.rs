//! Connecting for commands: kubeconfig errors and unreachable servers become the right exit codes.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cluster::{Cluster, Target};
use crate::exit::Failure;
use crate::render::ClusterFacts;

/// Connect, waiting up to `window` for a cluster that does not answer yet (a CI job that just created
/// it): refused connections, timeouts and "not ready" 5xx are retried with backoff and said on stderr
/// once, then every few seconds. Everything else fails at once.
pub async fn connect_within(target: &Target, window: Duration) -> Result<Cluster, Failure> {
    let start = Instant::now();
    let mut attempt = 0;
    let mut last_said: Option<Instant> = None;
    loop {
        match crate::cluster::connect(target.kubeconfig.as_ref(), target.context.as_deref()).await {
            Ok(c) => {
                if last_said.is_some() {
                    eprintln!(
                        "the cluster answered after {:.1} s",
                        start.elapsed().as_secs_f64()
                    );
                }
                return Ok(c);
            }
            Err(e) if e.is_transient() && start.elapsed() < window => {
                attempt += 1;
                if last_said.is_none_or(|t| t.elapsed() >= Duration::from_secs(5)) {
                    let left = window.saturating_sub(start.elapsed()).as_secs_f64().ceil();
                    eprintln!(
                        "waiting for the cluster: {e}; retrying for up to {left} s more (--wait-for-cluster)"
                    );
                    last_said = Some(Instant::now());
                }
                let wait = crate::engine::classify::backoff(attempt).min(Duration::from_secs(2));
                tokio::time::sleep(wait.min(window.saturating_sub(start.elapsed()))).await;
            }
            Err(e) => {
                let exit = e.exit();
                let e = anyhow::Error::new(e);
                let e = match last_said {
                    Some(_) => e.context(format!(
                        "gave up waiting for the cluster after {:.0} s",
                        start.elapsed().as_secs_f64()
                    )),
                    None => e,
                };
                return Err(Failure::new(exit, e));
            }
        }
    }
}

/// Facts templates may use, read from the cluster.
pub async fn facts(cluster: &Cluster) -> ClusterFacts {
    cluster.discovery.ensure(cluster, ["v1".to_string()]).await;
    let mut facts = ClusterFacts {
        api_versions: cluster.discovery.api_versions(),
        ..Default::default()
    };
    let v = cluster.server_version.trim_start_matches('v');
    let mut parts = v.split('.');
    if let (Some(major), Some(minor)) = (parts.next(), parts.next()) {
        facts.version = Some(format!("{major}.{}", minor.trim_end_matches('+')));
    }
    facts.kcp = facts
        .api_versions
        .iter()
        .any(|gv| gv.starts_with("tenancy.kcp.io/") || gv.starts_with("core.kcp.io/"));
    if let Some(svc) = cluster.discovery.resolve("v1", "Service")
        && let Ok(Some(k)) = cluster.get(&svc, Some("default"), "kubernetes").await
    {
        let fams: Vec<String> = k
            .pointer("/spec/ipFamilies")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        if !fams.is_empty() {
            facts.ip_families = fams;
        }
    }
    facts
}

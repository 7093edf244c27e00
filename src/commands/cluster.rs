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
        match crate::cluster::connect_target(target).await {
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
                let wait = crate::cluster::classify::backoff(attempt).min(Duration::from_secs(2));
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

/// Facts templates may use, read from the cluster. The address families are read only when `network`
/// (a selected template uses them): a kcp workspace serves no Services, and kyma asks a server only
/// for what the modules need.
pub async fn facts(cluster: &Cluster, network: bool) -> ClusterFacts {
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
    if network && let Some(families) = ip_families(cluster).await {
        facts.dual_stack = families.iter().any(|f| f == "IPv4") && families.iter().any(|f| f == "IPv6");
        facts.ip_families = families;
    }
    facts
}

/// The families the cluster gives Services, primary first. The `default/kubernetes` Service alone
/// cannot tell: the API server keeps it single-stack on a dual-stack cluster. Its ServiceCIDRs
/// (`networking.k8s.io/v1`, Kubernetes 1.33 on) list every range; older servers fall back to that
/// Service's `ipFamilies`, then its `clusterIPs`.
async fn ip_families(cluster: &Cluster) -> Option<Vec<String>> {
    fn family(address: &str) -> &'static str {
        if address.contains(':') { "IPv6" } else { "IPv4" }
    }
    fn push(out: &mut Vec<String>, f: &str) {
        if !out.iter().any(|x| x == f) {
            out.push(f.to_string());
        }
    }
    let mut out = Vec::new();
    if cluster
        .discovery
        .api_versions()
        .iter()
        .any(|gv| gv == "networking.k8s.io/v1")
    {
        cluster
            .discovery
            .ensure(cluster, ["networking.k8s.io/v1".to_string()])
            .await;
        if let Some(r) = cluster.discovery.resolve("networking.k8s.io/v1", "ServiceCIDR")
            && let Ok(list) = cluster.list(&r, None, None).await
        {
            // The range the API server was started with first: it is the primary family.
            let mut cidrs: Vec<&Value> = list.iter().collect();
            cidrs.sort_by_key(|c| c.pointer("/metadata/name").and_then(Value::as_str) != Some("kubernetes"));
            for c in cidrs {
                for cidr in c
                    .pointer("/spec/cidrs")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(cidr) = cidr.as_str() {
                        push(&mut out, family(cidr));
                    }
                }
            }
        }
    }
    if out.is_empty() {
        cluster.discovery.ensure(cluster, ["v1".to_string()]).await;
        let svc = cluster.discovery.resolve("v1", "Service")?;
        let k = cluster.get(&svc, Some("default"), "kubernetes").await.ok()??;
        for f in k
            .pointer("/spec/ipFamilies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(f) = f.as_str() {
                push(&mut out, f);
            }
        }
        if out.is_empty() {
            let ips = k
                .pointer("/spec/clusterIPs")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let ip = k.pointer("/spec/clusterIP").cloned().into_iter();
            for a in ips.into_iter().chain(ip) {
                if let Some(a) = a.as_str().filter(|a| !a.is_empty() && *a != "None") {
                    push(&mut out, family(a));
                }
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

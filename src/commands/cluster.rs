//! Connecting for commands: kubeconfig errors and unreachable servers become the right exit codes.

use serde_json::Value;

use crate::cli::ClusterArgs;
use crate::cluster::Cluster;
use crate::exit::Failure;
use crate::render::ClusterFacts;

pub async fn connect(args: &ClusterArgs) -> Result<Cluster, Failure> {
    crate::cluster::connect(args.kubeconfig.as_ref(), args.context.as_deref())
        .await
        .map_err(|e| Failure::new(e.exit(), e))
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

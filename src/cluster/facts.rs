//! What templates may know about the target cluster: its version, whether it is a kcp workspace, the
//! API groups it serves and the address families its Services get. Offline, the documented defaults.

use serde_json::Value;

use super::Cluster;

/// Facts about the target cluster that templates may use. Offline, these are the documented defaults.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ClusterFacts {
    /// The address families Services get, primary first: `["IPv4"]` offline; read from the cluster
    /// when a template asks (`networking.k8s.io` ServiceCIDRs, else the `default/kubernetes` Service).
    pub ip_families: Vec<String>,
    /// Both IPv4 and IPv6 (`false` offline).
    pub dual_stack: bool,
    /// `major.minor` of the server, or `null` offline.
    pub version: Option<String>,
    /// True when the server is a kcp workspace.
    pub kcp: bool,
    /// API groups/versions the server serves (`[]` offline).
    pub api_versions: Vec<String>,
}

impl Default for ClusterFacts {
    fn default() -> Self {
        ClusterFacts {
            ip_families: vec!["IPv4".into()],
            dual_stack: false,
            version: None,
            kcp: false,
            api_versions: vec![],
        }
    }
}

/// Facts templates may use, read from the cluster. The address families are read only when `network`
/// (a selected template uses them): a kcp workspace serves no Services, and kyma asks a server only
/// for what the modules need.
pub async fn read(cluster: &Cluster, network: bool) -> ClusterFacts {
    let mut facts = ClusterFacts {
        api_versions: cluster.discovery.api_versions(),
        ..Default::default()
    };
    facts.version = crate::cluster::version::major_minor(&cluster.server_version);
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

//! One writer per cluster: a `coordination.k8s.io` Lease `kyma-installer/kyma-lock`, taken with
//! optimistic concurrency (resourceVersion), renewed while the run lives, expiring by itself when a run
//! dies (no stuck "another operation is in progress"), broken on purpose by `kyma unlock`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::cluster::{Cluster, RequestError, Resource};
use crate::inventory::NAMESPACE;

pub const LEASE_NAME: &str = "kyma-lock";
const DURATION_SECS: i64 = 30;
const RENEW_EVERY: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "the cluster is locked by {holder} since {since} (the lock expires {expires} unless renewed); wait for that run, pass --wait-for-lock, or run `kyma unlock` if it is gone"
    )]
    Held {
        holder: String,
        since: String,
        expires: String,
    },
    #[error("cannot take or release the cluster lock")]
    Request(#[from] RequestError),
    /// A Kubernetes-compatible endpoint without `coordination.k8s.io` (a fresh kcp workspace): there
    /// is no Lease to lock with. Callers go on without the lock and say so.
    #[error(
        "this server serves no coordination.k8s.io/v1 Leases (a kcp workspace?), so kyma runs without the cluster lock: do not run two deploys or undeploys against it at once"
    )]
    NoLeases,
}

pub struct Lock {
    cluster: Cluster,
    lease: Resource,
    identity: String,
    renewer: tokio::task::JoinHandle<()>,
}

fn now_micro() -> String {
    Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn identity() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let host = hostname::get()
        .map(|h| h.to_string_lossy().to_string())
        .unwrap_or_else(|_| "unknown".into());
    format!(
        "{user}@{host} pid {} ({:08x})",
        std::process::id(),
        fastrand::u32(..)
    )
}

async fn lease_resource(cluster: &Cluster) -> Result<Resource, LockError> {
    cluster
        .discovery
        .ensure(cluster, ["coordination.k8s.io/v1".to_string()])
        .await;
    cluster
        .discovery
        .resolve("coordination.k8s.io/v1", "Lease")
        .ok_or(LockError::NoLeases)
}

fn lease_body(identity: &str, acquire: &str, resource_version: Option<&str>) -> Value {
    let mut v = json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": LEASE_NAME, "namespace": NAMESPACE, "labels": {"app.kubernetes.io/managed-by": "kyma"}},
        "spec": {"holderIdentity": identity, "leaseDurationSeconds": DURATION_SECS, "acquireTime": acquire, "renewTime": now_micro()}
    });
    if let Some(rv) = resource_version {
        v["metadata"]["resourceVersion"] = json!(rv);
    }
    v
}

fn parse_time(v: &Value, p: &str) -> Option<DateTime<Utc>> {
    v.pointer(p)
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Who holds the lease, since when, and whether it has expired.
/// Who holds the lock, as the Lease says.
struct Holder {
    who: String,
    since: String,
    /// Released (no holder) or not renewed in time: free to take.
    expired: bool,
    /// When it expires unless renewed, for messages.
    expires: String,
}

fn holder(lease: &Value) -> Holder {
    let who = lease
        .pointer("/spec/holderIdentity")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let since = lease
        .pointer("/spec/acquireTime")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string();
    let duration = lease
        .pointer("/spec/leaseDurationSeconds")
        .and_then(Value::as_i64)
        .unwrap_or(DURATION_SECS);
    let renew = parse_time(lease, "/spec/renewTime");
    let expires_at = renew.map(|r| r + chrono::Duration::seconds(duration));
    let expired = who.is_empty() || expires_at.is_none_or(|e| e < Utc::now());
    let expires = expires_at
        .map(|e| format!("at {}", e.format("%H:%M:%S UTC")))
        .unwrap_or_else(|| "soon".into());
    Holder {
        who,
        since,
        expired,
        expires,
    }
}

impl Lock {
    /// Take the cluster lock, or fail at once naming the holder (or wait with `wait`).
    pub async fn acquire(cluster: &Cluster, wait: bool) -> Result<Lock, LockError> {
        crate::inventory::ensure_namespace(cluster).await?;
        let lease = lease_resource(cluster).await?;
        let identity = identity();
        // The last undeploy removes the inventory namespace; while it terminates nothing can be created
        // in it. Wait for it to go (bounded), then create it again.
        let terminating_until = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            let attempt = match cluster.get(&lease, Some(NAMESPACE), LEASE_NAME).await? {
                None => {
                    cluster
                        .create(&lease, &lease_body(&identity, &now_micro(), None))
                        .await
                }
                Some(live) => {
                    let h = holder(&live);
                    if !h.expired {
                        if !wait {
                            return Err(LockError::Held {
                                holder: h.who,
                                since: h.since,
                                expires: h.expires,
                            });
                        }
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                    let rv = live.pointer("/metadata/resourceVersion").and_then(Value::as_str);
                    cluster
                        .replace(&lease, &lease_body(&identity, &now_micro(), rv))
                        .await
                }
            };
            match attempt {
                Ok(_) => break,
                // Someone else created or updated it between our read and write: read again.
                Err(e) if e.code == Some(409) => continue,
                Err(e)
                    if e.code == Some(403)
                        && e.message.contains("being terminated")
                        && tokio::time::Instant::now() < terminating_until =>
                {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    crate::inventory::ensure_namespace(cluster).await?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let renewer = {
            let cluster = cluster.clone();
            let lease = lease.clone();
            let identity = identity.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(RENEW_EVERY).await;
                    if let Ok(Some(mut live)) = cluster.get(&lease, Some(NAMESPACE), LEASE_NAME).await {
                        if live.pointer("/spec/holderIdentity").and_then(Value::as_str)
                            != Some(identity.as_str())
                        {
                            return; // broken by `kyma unlock`; the run goes on, unprotected, as asked
                        }
                        live["spec"]["renewTime"] = json!(now_micro());
                        let _ = cluster.replace(&lease, &live).await;
                    }
                }
            })
        };
        Ok(Lock {
            cluster: cluster.clone(),
            lease,
            identity,
            renewer,
        })
    }

    /// Give the lock back (only if it is still ours).
    pub async fn release(self) {
        self.renewer.abort();
        if let Ok(Some(live)) = self.cluster.get(&self.lease, Some(NAMESPACE), LEASE_NAME).await
            && live.pointer("/spec/holderIdentity").and_then(Value::as_str) == Some(self.identity.as_str())
        {
            let _ = self
                .cluster
                .delete(&self.lease, Some(NAMESPACE), LEASE_NAME)
                .await;
        }
    }
}

/// `kyma unlock`: delete the lease whoever holds it. Returns the holder it broke, if any.
pub async fn force_unlock(cluster: &Cluster) -> Result<Option<String>, LockError> {
    let lease = lease_resource(cluster).await?;
    let Some(live) = cluster.get(&lease, Some(NAMESPACE), LEASE_NAME).await? else {
        return Ok(None);
    };
    cluster.delete(&lease, Some(NAMESPACE), LEASE_NAME).await?;
    Ok(Some(holder(&live).who))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry() {
        let fresh = json!({"spec": {"holderIdentity": "a", "acquireTime": "x", "renewTime": now_micro(), "leaseDurationSeconds": 30}});
        assert!(!holder(&fresh).expired);
        let old = json!({"spec": {"holderIdentity": "a", "renewTime": "2020-01-01T00:00:00.000000Z", "leaseDurationSeconds": 30}});
        assert!(holder(&old).expired);
        let released = json!({"spec": {"holderIdentity": "", "renewTime": now_micro()}});
        assert!(holder(&released).expired);
    }
}

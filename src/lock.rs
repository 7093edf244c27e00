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

/// Which Lease, and how long it lives unrenewed: the cluster lock of a CLI run, or the leadership of
/// one operator shard.
#[derive(Debug, Clone)]
pub struct LeaseSpec {
    pub namespace: String,
    pub name: String,
    pub duration_secs: i64,
    pub renew_every: Duration,
}

impl LeaseSpec {
    pub fn cluster_lock() -> LeaseSpec {
        LeaseSpec {
            namespace: NAMESPACE.into(),
            name: LEASE_NAME.into(),
            duration_secs: DURATION_SECS,
            renew_every: RENEW_EVERY,
        }
    }
}

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
    spec: LeaseSpec,
    identity: String,
    renewer: tokio::task::JoinHandle<()>,
    /// Cancelled when the Lease is no longer ours: broken, taken over, or not renewed in time.
    pub lost: tokio_util::sync::CancellationToken,
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

/// `NoLeases` only when the server says it serves none: a discovery that failed (a 503 mid-restart) is
/// an error, or a passing outage would let a run go on without the lock.
async fn lease_resource(cluster: &Cluster) -> Result<Resource, LockError> {
    cluster
        .discovery
        .require(cluster, "coordination.k8s.io/v1", "Lease")
        .await?
        .ok_or(LockError::NoLeases)
}

fn lease_body(spec: &LeaseSpec, identity: &str, acquire: &str, resource_version: Option<&str>) -> Value {
    let mut v = json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": spec.name, "namespace": spec.namespace, "labels": {"app.kubernetes.io/managed-by": "kyma"}},
        "spec": {"holderIdentity": identity, "leaseDurationSeconds": spec.duration_secs, "acquireTime": acquire, "renewTime": now_micro()}
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
        Self::acquire_lease(cluster, &LeaseSpec::cluster_lock(), wait).await
    }

    /// Take the Lease `spec` names, or fail at once naming the holder (or wait with `wait`).
    pub async fn acquire_lease(cluster: &Cluster, spec: &LeaseSpec, wait: bool) -> Result<Lock, LockError> {
        crate::inventory::ensure_namespace_named(cluster, &spec.namespace).await?;
        let (ns, name) = (spec.namespace.as_str(), spec.name.as_str());
        let lease = lease_resource(cluster).await?;
        let identity = identity();
        // The last undeploy removes the inventory namespace; while it terminates nothing can be created
        // in it. Wait for it to go (bounded), then create it again.
        let terminating_until = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            let attempt = match cluster.get(&lease, Some(ns), name).await? {
                None => {
                    cluster
                        .create(&lease, &lease_body(spec, &identity, &now_micro(), None))
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
                        // A standby checks often enough to take over soon after the lease runs out.
                        let every = Duration::from_millis((spec.duration_secs.max(1) as u64) * 1000 / 8);
                        tokio::time::sleep(every.clamp(Duration::from_millis(100), Duration::from_secs(1)))
                            .await;
                        continue;
                    }
                    let rv = live.pointer("/metadata/resourceVersion").and_then(Value::as_str);
                    cluster
                        .replace(&lease, &lease_body(spec, &identity, &now_micro(), rv))
                        .await
                }
            };
            match attempt {
                Ok(_) => break,
                // Someone else created or updated it between our read and write: read again.
                Err(e) if e.code == Some(409) => continue,
                Err(e) if e.namespace_terminating() && tokio::time::Instant::now() < terminating_until => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    crate::inventory::ensure_namespace_named(cluster, ns).await?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let lost = tokio_util::sync::CancellationToken::new();
        let renewer = {
            let cluster = cluster.clone();
            let lease = lease.clone();
            let identity = identity.clone();
            let (spec, lost) = (spec.clone(), lost.clone());
            tokio::spawn(async move {
                let mut renewed = tokio::time::Instant::now();
                let valid = Duration::from_secs(spec.duration_secs.max(1) as u64);
                loop {
                    tokio::time::sleep(spec.renew_every).await;
                    match cluster.get(&lease, Some(&spec.namespace), &spec.name).await {
                        Ok(Some(mut live)) => {
                            if live.pointer("/spec/holderIdentity").and_then(Value::as_str)
                                != Some(identity.as_str())
                            {
                                // Broken by `kyma unlock` (a CLI run goes on, unprotected, as asked),
                                // or taken over by another operator.
                                lost.cancel();
                                return;
                            }
                            live["spec"]["renewTime"] = json!(now_micro());
                            if cluster.replace(&lease, &live).await.is_ok() {
                                renewed = tokio::time::Instant::now();
                            }
                        }
                        Ok(None) => {
                            lost.cancel();
                            return;
                        }
                        Err(_) => {}
                    }
                    // Not renewed for a whole lease duration: someone else may hold it by now.
                    if renewed.elapsed() >= valid {
                        lost.cancel();
                        return;
                    }
                }
            })
        };
        Ok(Lock {
            cluster: cluster.clone(),
            lease,
            spec: spec.clone(),
            identity,
            renewer,
            lost,
        })
    }

    /// Give the lock back (only if it is still ours).
    pub async fn release(self) {
        self.renewer.abort();
        if let Ok(Some(live)) = self
            .cluster
            .get(&self.lease, Some(&self.spec.namespace), &self.spec.name)
            .await
            && live.pointer("/spec/holderIdentity").and_then(Value::as_str) == Some(self.identity.as_str())
        {
            let _ = self
                .cluster
                .delete(&self.lease, Some(&self.spec.namespace), &self.spec.name)
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

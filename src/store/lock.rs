//! One writer per cluster: a `coordination.k8s.io` Lease `kyma-installer/kyma-lock`, taken with
//! optimistic concurrency (resourceVersion), renewed while the run lives, expiring by itself when a run
//! dies (no stuck "another operation is in progress"), broken on purpose by `kyma unlock`.
//!
//! Expiry follows client-go's leader election: a waiting process remembers when *it* last saw the
//! Lease change (its resourceVersion) and takes it only once a whole lease duration has passed on its
//! own monotonic clock since then, so clocks that disagree between machines never hand the lock to two
//! runs. The holder, in turn, counts its lease from just before each renewal it sent, and stops
//! writing as soon as that runs out.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::cluster::{Cluster, RequestError, Resource};
use crate::object::Fields as _;
use crate::store::inventory::NAMESPACE;

pub const LEASE_NAME: &str = "kyma-lock";
const DURATION_SECS: i64 = 30;

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
        // Test-only: the lifecycle tests shorten the lease to pause a run past it in seconds, not
        // half a minute. Not a user setting (a short lease makes a slow API server cost the lock).
        let duration_secs = std::env::var("KYMA_LOCK_LEASE_SECONDS")
            .ok()
            .and_then(|s| s.parse::<i64>().ok())
            .filter(|&s| s > 0)
            .unwrap_or(DURATION_SECS);
        LeaseSpec {
            namespace: NAMESPACE.into(),
            name: LEASE_NAME.into(),
            duration_secs,
            renew_every: Duration::from_millis(duration_secs as u64 * 1000 / 3),
        }
    }

    fn duration(&self) -> Duration {
        Duration::from_secs(self.duration_secs.max(1) as u64)
    }
}

/// What to do when someone else holds the Lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockWait {
    /// Fail at once (unless the holder looks gone: then watch it for one lease duration to be sure).
    Fail,
    /// Wait at most this long (`--wait-for-lock`, bounded by `--timeout`).
    Upto(Duration),
    /// Wait as long as it takes (an operator replica standing by for its shard).
    Forever,
}

impl LockWait {
    /// `--wait-for-lock` waits, but never longer than `--timeout`; `--wait-for-lock=D` at most D.
    pub fn from_flag(wait_for_lock: Option<Option<Duration>>, timeout: Duration) -> LockWait {
        match wait_for_lock {
            None => LockWait::Fail,
            Some(bound) => LockWait::Upto(bound.unwrap_or(timeout)),
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
    #[error(
        "the cluster is still locked by {holder} after waiting {} (--wait-for-lock waits at most --timeout, --wait-for-lock=DURATION as long as given); try again later, or run `kyma unlock` if that run is gone",
        humantime::format_duration(*.waited)
    )]
    StillHeld { holder: String, waited: Duration },
    #[error("cannot take or release the cluster lock")]
    Request(#[from] RequestError),
    /// A Kubernetes-compatible endpoint without `coordination.k8s.io` (a fresh kcp workspace): there
    /// is no Lease to lock with. Callers go on without the lock and say so.
    #[error(
        "this server serves no coordination.k8s.io/v1 Leases (a kcp workspace?), so kyma runs without the cluster lock: do not run two deploys or undeploys against it at once"
    )]
    NoLeases,
}

/// How a held Lease stopped being ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Lost {
    #[error("taken over by {0}")]
    TakenOver(String),
    #[error("broken (deleted or released by someone else, e.g. `kyma unlock`)")]
    Broken,
    #[error("not renewed in time (this process was paused or could not reach the server)")]
    NotRenewed,
}

/// What the holder knows of its Lease: the object it last wrote (its resourceVersion is the
/// precondition of the next renewal and of the release), and whether and how it was lost.
struct Held {
    last: Value,
    lost: Option<Lost>,
}

pub struct Lock {
    cluster: Cluster,
    lease: Resource,
    identity: String,
    state: Arc<Mutex<Held>>,
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

/// Wait until the Lease changes after `version` (an event of a watch on it) or `limit` passes. A watch
/// that cannot be made or breaks waits `poll` instead, as a poll would. After a change, a moment at
/// random: every waiter wakes at a release, and the first to read again takes it without the rest all
/// creating it at once.
async fn until_changed(
    cluster: &Cluster,
    lease: &Resource,
    spec: &LeaseSpec,
    version: Option<&str>,
    limit: Duration,
    poll: Duration,
) {
    use futures::StreamExt as _;
    use kube::api::{WatchEvent, WatchParams};
    let started = Instant::now();
    let Some(version) = version else {
        return tokio::time::sleep(poll.min(limit)).await;
    };
    let api = cluster.dynamic_api(lease, Some(&spec.namespace));
    // The server ends the watch after its timeout (whole seconds, rounded up: `limit` ends it first).
    // No bookmarks: the one sent before the timeout is no change and would end the wait early.
    let params = WatchParams::default()
        .fields(&format!("metadata.name={}", spec.name))
        .disable_bookmarks()
        .timeout(limit.as_secs_f64().ceil().clamp(1.0, 290.0) as u32);
    let changed = tokio::time::timeout(limit, async {
        let Ok(events) = api.watch(&params, version).await else {
            return false;
        };
        let mut events = events.boxed();
        loop {
            match events.next().await {
                Some(Ok(WatchEvent::Added(_) | WatchEvent::Modified(_) | WatchEvent::Deleted(_))) => {
                    return true;
                }
                Some(Ok(WatchEvent::Bookmark(_))) => continue,
                _ => return false,
            }
        }
    })
    .await;
    match changed {
        Ok(true) => {
            let spread = poll.as_millis() as u64 / 10;
            tokio::time::sleep(Duration::from_millis(fastrand::u64(0..=spread))).await;
        }
        // Broken or refused: wait out the rest of a poll.
        Ok(false) => tokio::time::sleep(poll.min(limit).saturating_sub(started.elapsed())).await,
        Err(_elapsed) => {}
    }
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

/// A Lease as kyma reads it. A field the type cannot read (a time another writer formatted its own way)
/// must never make a held lock look free or drop the version a write is checked against: then the Lease
/// is read field by field, and only what cannot be read is unknown.
fn typed(v: &Value) -> Lease {
    Lease::deserialize(v).unwrap_or_else(|_| {
        let mut lease = Lease::default();
        lease.metadata.resource_version = v.str_at(&["metadata", "resourceVersion"]).map(str::to_string);
        lease.spec = Some(k8s_openapi::api::coordination::v1::LeaseSpec {
            holder_identity: v.str_at(&["spec", "holderIdentity"]).map(str::to_string),
            lease_duration_seconds: v
                .at(&["spec", "leaseDurationSeconds"])
                .and_then(Value::as_i64)
                .and_then(|d| i32::try_from(d).ok()),
            acquire_time: v
                .at(&["spec", "acquireTime"])
                .and_then(|t| MicroTime::deserialize(t).ok()),
            renew_time: v
                .at(&["spec", "renewTime"])
                .and_then(|t| MicroTime::deserialize(t).ok()),
            ..Default::default()
        });
        lease
    })
}

fn holder_of(lease: &Lease) -> &str {
    lease
        .spec
        .as_ref()
        .and_then(|s| s.holder_identity.as_deref())
        .unwrap_or("")
}

/// A Lease time as chrono's (the messages and the clock are chrono's).
fn time_of(t: Option<MicroTime>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::from_timestamp(t.0.as_second(), t.0.subsec_nanosecond() as u32))
}

/// Who holds the lock, as the Lease says. The times are the holder's wall clock: for messages and
/// as a hint only, never to decide that the lock is free.
struct Holder {
    who: String,
    since: String,
    /// The holder's renewTime plus the duration is past by our wall clock: it looks gone.
    looks_stale: bool,
    /// When it expires unless renewed, for messages.
    expires: String,
    duration: Duration,
}

fn holder(lease: &Lease) -> Holder {
    let spec = lease.spec.clone().unwrap_or_default();
    // Said the way kyma writes it (`now_micro`).
    let since = time_of(spec.acquire_time)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        .unwrap_or_else(|| "?".into());
    let duration = spec.lease_duration_seconds.map_or(DURATION_SECS, i64::from);
    let renew = time_of(spec.renew_time);
    let expires_at = renew.map(|r| r + chrono::Duration::seconds(duration));
    let looks_stale = expires_at.is_none_or(|e| e < Utc::now());
    let expires = expires_at
        .map(|e| format!("at {}", e.format("%H:%M:%S UTC")))
        .unwrap_or_else(|| "soon".into());
    Holder {
        who: holder_of(lease).to_string(),
        since,
        looks_stale,
        expires,
        duration: Duration::from_secs(duration.max(1) as u64),
    }
}

/// client-go's expiry rule: a Lease is free when released (no holder), or when this process has seen
/// it unchanged for a whole lease duration on its own monotonic clock.
#[derive(Default)]
struct Observer {
    /// The resourceVersion last seen, and when this process first saw it.
    seen: Option<(String, Instant)>,
}

impl Observer {
    fn free(&mut self, live: &Lease, now: Instant) -> bool {
        if holder_of(live).is_empty() {
            return true;
        }
        let rv = live.metadata.resource_version.clone().unwrap_or_default();
        let since = match &self.seen {
            Some((seen, at)) if *seen == rv => *at,
            _ => {
                self.seen = Some((rv, now));
                now
            }
        };
        now.duration_since(since) >= holder(live).duration
    }

    /// How long until `free` would call the Lease (as last seen) free, if it does not change.
    fn remaining(&self, live: &Lease, now: Instant) -> Duration {
        let since = self.seen.as_ref().map_or(now, |(_, at)| *at);
        holder(live).duration.saturating_sub(now.duration_since(since))
    }
}

impl Lock {
    /// Take the cluster lock, or fail naming the holder (or wait as `wait` says).
    pub async fn acquire(cluster: &Cluster, wait: LockWait) -> Result<Lock, LockError> {
        Self::acquire_lease(cluster, &LeaseSpec::cluster_lock(), wait).await
    }

    /// Take the Lease `spec` names, or fail naming the holder (or wait as `wait` says).
    pub async fn acquire_lease(
        cluster: &Cluster,
        spec: &LeaseSpec,
        wait: LockWait,
    ) -> Result<Lock, LockError> {
        let (ns, name) = (spec.namespace.as_str(), spec.name.as_str());
        let lease = match lease_resource(cluster).await {
            Ok(lease) => lease,
            Err(e @ LockError::NoLeases) => {
                // A run without the lock still writes its inventories into this namespace.
                crate::store::inventory::ensure_namespace_named(cluster, ns).await?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        let identity = identity();
        let started = Instant::now();
        let mut observer = Observer::default();
        // How often a waiter reads the Lease when it cannot watch it (and without --wait-for-lock):
        // often enough to take over soon after the lease runs out.
        let every = Duration::from_millis((spec.duration_secs.max(1) as u64) * 1000 / 8)
            .clamp(Duration::from_millis(100), Duration::from_secs(1));
        // The last undeploy removes the inventory namespace; while it terminates nothing can be created
        // in it. Wait for it to go (bounded), then create it again.
        let terminating_until = Instant::now() + Duration::from_secs(120);
        // The first attempt creates the Lease without reading it: a free lock has none (a release
        // deletes it), so an uncontended run takes it in one request, and its namespace is made only
        // when the create says it is missing. A Lease that exists answers 409 and is read.
        let mut create_first = true;
        let mut namespace_made = false;
        let (written, valid_from) = loop {
            // Counted from before the write that takes it: others count from when they see it, later.
            let attempt_at = Instant::now();
            let live = if std::mem::take(&mut create_first) {
                None
            } else {
                cluster.get(&lease, Some(ns), name).await?
            };
            let attempt = match live {
                None => {
                    cluster
                        .create(&lease, &lease_body(spec, &identity, &now_micro(), None))
                        .await
                }
                Some(live) => {
                    let live = typed(&live);
                    if !observer.free(&live, Instant::now()) {
                        let h = holder(&live);
                        let give_up = match wait {
                            // Without waiting, a holder that looks alive fails the run at once; one
                            // that looks gone by its own timestamps is watched for one lease duration
                            // (its renewals would show) before it is taken.
                            LockWait::Fail => !h.looks_stale || started.elapsed() > h.duration + every,
                            LockWait::Upto(limit) => started.elapsed() >= limit,
                            LockWait::Forever => false,
                        };
                        if give_up {
                            return Err(match wait {
                                LockWait::Upto(_) => LockError::StillHeld {
                                    holder: h.who,
                                    waited: started.elapsed(),
                                },
                                _ => LockError::Held {
                                    holder: h.who,
                                    since: h.since,
                                    expires: h.expires,
                                },
                            });
                        }
                        // Woken by the Lease's next change (released, renewed, taken): a release
                        // hands over at once. Without one until the holder is gone by our own clock
                        // (`Observer`), the read after the wait says so.
                        let mut pause = match wait {
                            LockWait::Fail => every,
                            _ => observer
                                .remaining(&live, Instant::now())
                                .max(Duration::from_millis(100)),
                        };
                        if let LockWait::Upto(limit) = wait {
                            pause = pause.min(limit.saturating_sub(started.elapsed()));
                        }
                        let version = live.metadata.resource_version.as_deref();
                        until_changed(cluster, &lease, spec, version, pause, every).await;
                        continue;
                    }
                    // Takeover carries the resourceVersion read: if the holder renewed (or another
                    // waiter took it) meanwhile, the server refuses it with 409 and we read again.
                    cluster
                        .replace(
                            &lease,
                            &lease_body(
                                spec,
                                &identity,
                                &now_micro(),
                                live.metadata.resource_version.as_deref(),
                            ),
                        )
                        .await
                }
            };
            match attempt {
                Ok(v) => break (v, attempt_at),
                // Someone else created or updated it between our read and write: read again.
                Err(e) if e.code == Some(409) => continue,
                // The namespace is missing (a first run, or the last undeploy removed it): made once.
                Err(e) if e.code == Some(404) && !namespace_made => {
                    crate::store::inventory::ensure_namespace_named(cluster, ns).await?;
                    (namespace_made, create_first) = (true, true);
                    continue;
                }
                Err(e) if e.namespace_terminating() && Instant::now() < terminating_until => {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    crate::store::inventory::ensure_namespace_named(cluster, ns).await?;
                    create_first = true;
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        };
        let state = Arc::new(Mutex::new(Held {
            last: written,
            lost: None,
        }));
        let lost = tokio_util::sync::CancellationToken::new();
        let renewer = tokio::spawn(renew(
            cluster.clone(),
            lease.clone(),
            spec.clone(),
            identity.clone(),
            state.clone(),
            lost.clone(),
            valid_from,
        ));
        Ok(Lock {
            cluster: cluster.clone(),
            lease,
            identity,
            state,
            renewer,
            lost,
        })
    }

    /// How the Lease was lost, once `lost` fired.
    pub fn lost_reason(&self) -> Option<Lost> {
        self.state.lock().unwrap().lost.clone()
    }

    /// Give the lock back, only if it is still ours: the Lease is deleted on the condition that it is
    /// still the version we last wrote, so a waiter takes it at once; if someone else wrote it since
    /// (took it over), the server refuses (409) and it is left alone. A delete rather than clearing the
    /// holder: after the last undeploy the namespace is terminating, and a waiter must then wait to
    /// create a new Lease there, not take over one that goes away with the namespace.
    pub async fn release(self) {
        self.renewer.abort();
        let last = {
            let held = self.state.lock().unwrap();
            if held.lost.is_some() {
                return;
            }
            typed(&held.last).metadata
        };
        let (Some(ns), Some(name), Some(rv)) = (
            last.namespace.as_deref(),
            last.name.as_deref(),
            last.resource_version.as_deref(),
        ) else {
            return;
        };
        let refused = self.cluster.delete_version(&self.lease, Some(ns), name, rv).await;
        // A renewal cut short by the abort may have gone through: then the Lease is still ours, at a
        // version we did not see. Anyone else's is left alone.
        if refused.is_err_and(|e| e.code == Some(409))
            && let Ok(Some(live)) = self.cluster.get(&self.lease, Some(ns), name).await
            && let live = typed(&live)
            && holder_of(&live) == self.identity
            && let Some(rv) = live.metadata.resource_version.as_deref()
        {
            let _ = self.cluster.delete_version(&self.lease, Some(ns), name, rv).await;
        }
    }
}

/// Keep the Lease ours: renew it every `renew_every` with the resourceVersion last written; give it up
/// (cancel `lost`) when someone else holds it, it is gone, or a whole lease duration passed since the
/// last renewal that went through (after a pause, that is noticed before any request is sent).
async fn renew(
    cluster: Cluster,
    lease: Resource,
    spec: LeaseSpec,
    identity: String,
    state: Arc<Mutex<Held>>,
    lost: tokio_util::sync::CancellationToken,
    mut valid_from: Instant,
) {
    let valid = spec.duration();
    let give_up = |why: Lost| {
        state.lock().unwrap().lost = Some(why);
        lost.cancel();
    };
    loop {
        let deadline = valid_from + valid;
        tokio::time::sleep_until((Instant::now() + spec.renew_every).min(deadline)).await;
        if Instant::now() >= deadline {
            return give_up(Lost::NotRenewed);
        }
        let attempt_from = Instant::now();
        let body = {
            let mut body = state.lock().unwrap().last.clone();
            body["spec"]["renewTime"] = json!(now_micro());
            body
        };
        match tokio::time::timeout_at(deadline, cluster.replace(&lease, &body)).await {
            Err(_) => return give_up(Lost::NotRenewed),
            Ok(Ok(written)) => {
                state.lock().unwrap().last = written;
                valid_from = attempt_from;
            }
            // Written by someone else since our last write: whose is it now?
            Ok(Err(e)) if e.code == Some(409) || e.code == Some(404) => {
                match tokio::time::timeout_at(
                    deadline,
                    cluster.get(&lease, Some(&spec.namespace), &spec.name),
                )
                .await
                {
                    Err(_) => return give_up(Lost::NotRenewed),
                    Ok(Ok(None)) => return give_up(Lost::Broken),
                    Ok(Ok(Some(live))) => {
                        let read = typed(&live);
                        let who = holder_of(&read);
                        if who.is_empty() {
                            return give_up(Lost::Broken);
                        }
                        if who != identity {
                            return give_up(Lost::TakenOver(who.to_string()));
                        }
                        // Still ours (written by us through another path): renew from this version.
                        state.lock().unwrap().last = live;
                    }
                    Ok(Err(_)) => {}
                }
            }
            Ok(Err(_)) => {}
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
    Ok(Some(holder(&typed(&live)).who))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lease(holder: &str, rv: &str, renew: &str) -> Lease {
        typed(&json!({"metadata": {"resourceVersion": rv},
               "spec": {"holderIdentity": holder, "acquireTime": "x", "renewTime": renew, "leaseDurationSeconds": 30}}))
    }

    #[test]
    fn wall_clock_is_only_a_hint() {
        assert!(!holder(&lease("a", "1", &now_micro())).looks_stale);
        assert!(holder(&lease("a", "1", "2020-01-01T00:00:00.000000Z")).looks_stale);
    }

    /// A renewTime long past by our clock does not free the Lease: only a full duration without a
    /// change, seen on our own clock, does; a change starts the count again.
    #[test]
    fn expiry_is_judged_by_when_we_saw_it_change() {
        let t0 = Instant::now();
        let mut o = Observer::default();
        let old = lease("a", "1", "2020-01-01T00:00:00.000000Z");
        assert!(
            !o.free(&old, t0),
            "first sight never expires, whatever renewTime says"
        );
        assert!(!o.free(&old, t0 + Duration::from_secs(29)));
        let renewed = lease("a", "2", "2020-01-01T00:00:00.000000Z");
        assert!(
            !o.free(&renewed, t0 + Duration::from_secs(31)),
            "renewed: counted anew"
        );
        assert!(!o.free(&renewed, t0 + Duration::from_secs(60)));
        assert!(o.free(&renewed, t0 + Duration::from_secs(61)));
        // A holder whose clock runs ahead (renewTime in our future) expires all the same.
        let mut o = Observer::default();
        let ahead = lease("a", "3", "2999-01-01T00:00:00.000000Z");
        assert!(!o.free(&ahead, t0));
        assert!(o.free(&ahead, t0 + Duration::from_secs(30)));
    }

    /// A Lease whose times the type cannot read still has its holder and version: never free at first
    /// sight, written against its resourceVersion.
    #[test]
    fn an_unreadable_time_never_frees_a_held_lease() {
        let raw = json!({"metadata": {"resourceVersion": "7"},
            "spec": {"holderIdentity": "b", "acquireTime": "x", "renewTime": "not a time", "leaseDurationSeconds": 30}});
        let l = typed(&raw);
        assert_eq!(holder_of(&l), "b");
        assert_eq!(l.metadata.resource_version.as_deref(), Some("7"));
        let mut o = Observer::default();
        assert!(!o.free(&l, Instant::now()));
    }

    #[test]
    fn released_is_free_at_once() {
        let mut o = Observer::default();
        assert!(o.free(&lease("", "1", &now_micro()), Instant::now()));
    }
}

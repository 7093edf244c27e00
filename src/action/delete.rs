//! Deleting what kyma recorded, and only that: shared by prune (after an upgrade) and undeploy. Reverse
//! order (custom resources first so their operators can run finalizers, CRDs last), guards against
//! data loss, and an event-driven wait until everything is really gone.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

use crate::cluster::{Cluster, Resource};
use crate::object::{Fields, ObjectKey};
use crate::plan::kind_rank;
use crate::store::inventory::{self, Member};

/// Requests in flight at once while reading and deleting members: a module of thousands of objects
/// asked all at once makes the server time out on most of them.
const CONCURRENCY: usize = 32;

/// What happens to CRDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrdPolicy {
    /// Never delete (prune after an upgrade, unless --prune-crds).
    Keep,
    /// Delete when no custom resource of it is left that kyma did not just delete (undeploy).
    IfUnused,
    /// Delete even if user resources of the kind exist: that deletes them too (--prune-crds).
    Always,
}

#[derive(Debug, Clone)]
pub struct DeleteOptions {
    pub crds: CrdPolicy,
    pub remove_finalizers: bool,
    pub timeout: Duration,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteReport {
    pub deleted: Vec<ObjectKey>,
    /// Objects left in place on purpose, with the reason.
    pub kept: Vec<(ObjectKey, String)>,
    /// Objects still there when the time was up, with what holds them.
    pub stuck: Vec<(ObjectKey, String)>,
    /// Objects the server would not delete (403, 422, a webhook's "no"), or whose kind discovery could
    /// not confirm, with its reason: said at once, never waited for until the timeout; they stay recorded.
    pub refused: Vec<(ObjectKey, String)>,
}

impl DeleteReport {
    /// Everything is gone or left on purpose.
    pub fn complete(&self) -> bool {
        self.stuck.is_empty() && self.refused.is_empty()
    }
}

#[derive(Clone)]
struct Target {
    member: Member,
    resource: Resource,
}

/// Deletion order, lifecycle-manager's: custom resources while their operators still run, then
/// everything else, then namespaces, CRDs last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    CustomResources,
    Others,
    Namespaces,
    Crds,
}

fn phase(m: &Member) -> Phase {
    match kind_rank(&m.group, &m.kind) {
        0 => Phase::Crds,
        1 => Phase::Namespaces,
        13 => Phase::CustomResources,
        _ => Phase::Others,
    }
}

/// Delete `members`. `ours` are the ApplySet ids whose members may be deleted; an object that no longer
/// carries one of them (someone took it over) is kept. `deleting` is every member this operation removes,
/// so a namespace holding only those counts as empty.
pub async fn delete_members(
    cluster: &Cluster,
    members: &[Member],
    ours: &[String],
    opts: &DeleteOptions,
) -> DeleteReport {
    let mut report = DeleteReport::default();
    cluster
        .discovery
        .ensure(cluster, members.iter().map(Member::api_version))
        .await;
    let deleting: HashSet<ObjectKey> = members.iter().map(Member::key).collect();
    let phases = in_phases(cluster, members, &mut report);
    let run = Deletion {
        cluster,
        ours,
        deleting: &deleting,
        opts,
        deadline: tokio::time::Instant::now() + opts.timeout,
        limit: tokio::sync::Semaphore::new(CONCURRENCY),
    };
    for (phase, targets) in phases {
        let doomed = run.select(phase, targets, &mut report).await;
        let doomed = run.send(doomed, &mut report).await;
        run.wait(&doomed, &mut report).await;
        if !report.complete() {
            // Later phases (namespaces, CRDs) would only get stuck behind these — or, for a CRD, take
            // a refused custom resource along with it.
            break;
        }
    }
    report
}

/// The members whose kind is served, by deletion phase. A kind that is gone (its CRD was deleted) takes
/// its objects with it; a kind whose discovery failed cannot be judged and is refused.
fn in_phases(
    cluster: &Cluster,
    members: &[Member],
    report: &mut DeleteReport,
) -> BTreeMap<Phase, Vec<Target>> {
    let mut phases: BTreeMap<Phase, Vec<Target>> = BTreeMap::new();
    for m in members {
        let resource = cluster
            .discovery
            .resolve(&m.api_version(), &m.kind)
            .or_else(|| cluster.discovery.resolve_group_kind(&m.group, &m.kind));
        match (resource, cluster.discovery.failure(&m.api_version())) {
            // Discovery of its group/version failed: whether the kind (and the object) is still there
            // cannot be told, and "gone" would drop it from the records.
            (None, Some(e)) => report.refused.push((
                m.key(),
                format!("cannot tell whether its kind is still served: {e}"),
            )),
            // The kind is gone (its CRD was deleted): so is the object.
            (None, None) => report.deleted.push(m.key()),
            (Some(resource), _) => phases.entry(phase(m)).or_default().push(Target {
                member: m.clone(),
                resource,
            }),
        }
    }
    phases
}

/// One `delete_members` call: what every phase shares.
struct Deletion<'a> {
    cluster: &'a Cluster,
    ours: &'a [String],
    deleting: &'a HashSet<ObjectKey>,
    opts: &'a DeleteOptions,
    deadline: tokio::time::Instant,
    limit: tokio::sync::Semaphore,
}

impl Deletion<'_> {
    /// Read each target and keep what must stay (gone already, unreadable, kept by annotation, taken
    /// over, a namespace or CRD still in use); the rest is to be deleted.
    async fn select(&self, phase: Phase, targets: Vec<Target>, report: &mut DeleteReport) -> Vec<Target> {
        let cluster = self.cluster;
        let lives = futures::future::join_all(targets.iter().map(|t| async {
            let _permit = self.limit.acquire().await.expect("never closed");
            cluster
                .get(&t.resource, t.member.namespace.as_deref(), &t.member.name)
                .await
        }))
        .await;
        let mut doomed = Vec::new();
        for (t, live) in targets.into_iter().zip(lives) {
            let m = &t.member;
            let live = match live {
                Ok(Some(v)) => v,
                Ok(None) => {
                    report.deleted.push(m.key());
                    continue;
                }
                Err(e) => {
                    report.kept.push((m.key(), format!("cannot read it: {e}")));
                    continue;
                }
            };
            match self.keep_reason(phase, m, &live).await {
                Some(why) => report.kept.push((m.key(), why)),
                None => doomed.push(t),
            }
        }
        doomed
    }

    /// Why the live object of member `m` must stay, if it must.
    async fn keep_reason(&self, phase: Phase, m: &Member, live: &Value) -> Option<String> {
        if inventory::is_kept(live) {
            return Some(format!("annotated {}=true", inventory::KEEP_ANNOTATION));
        }
        if !m.shared {
            let label = live.label(inventory::PART_OF_LABEL);
            if !label.is_some_and(|l| self.ours.iter().any(|o| o == l)) {
                return Some("no longer labelled as kyma's (another owner took it over)".into());
            }
        }
        if phase == Phase::Namespaces {
            return namespace_holds_foreign(self.cluster, &m.name, self.deleting).await;
        }
        if phase == Phase::Crds {
            return match self.opts.crds {
                CrdPolicy::Always => None,
                CrdPolicy::Keep => Some(
                    "CRDs are kept on prune; --prune-crds deletes it and every resource of its kind".into(),
                ),
                CrdPolicy::IfUnused => crd_in_use(self.cluster, live, self.deleting).await,
            };
        }
        None
    }

    /// Send the DELETEs. A DELETE the server refused will not happen however long we wait: said now,
    /// with its reason. Returns the accepted ones.
    async fn send(&self, doomed: Vec<Target>, report: &mut DeleteReport) -> Vec<Target> {
        let sent = futures::future::join_all(doomed.iter().map(|t| async {
            let _permit = self.limit.acquire().await.expect("never closed");
            delete_one(self.cluster, t, self.deadline).await
        }))
        .await;
        let mut accepted = Vec::new();
        for (t, r) in doomed.into_iter().zip(sent) {
            match r {
                Ok(()) => accepted.push(t),
                Err(e) => report.refused.push((t.member.key(), e.to_string())),
            }
        }
        accepted
    }

    /// Wait until the deleted objects are gone (removing finalizers when asked, with 30 s more); what
    /// is still there is stuck, with what holds it.
    async fn wait(&self, doomed: &[Target], report: &mut DeleteReport) {
        let cluster = self.cluster;
        let (mut remaining, blocked) = wait_gone(cluster, doomed, self.deadline).await;
        if !remaining.is_empty() && self.opts.remove_finalizers {
            for t in doomed
                .iter()
                .filter(|t| remaining.contains(&t.member.key()) && !blocked.contains(&t.member.key()))
            {
                let _ = cluster
                    .merge_patch(
                        &t.resource,
                        t.member.namespace.as_deref(),
                        &t.member.name,
                        None,
                        &serde_json::json!({"metadata": {"finalizers": null}}),
                    )
                    .await;
            }
            let unblocked: Vec<&Target> = doomed
                .iter()
                .filter(|t| !blocked.contains(&t.member.key()))
                .collect();
            let (still, _) = wait_gone(
                cluster,
                &unblocked.into_iter().cloned().collect::<Vec<_>>(),
                self.deadline + Duration::from_secs(30),
            )
            .await;
            remaining = still.into_iter().chain(blocked.iter().cloned()).collect();
        }
        for t in doomed {
            let name = t.member.key();
            let why = match remaining.contains(&name) {
                true => stuck_reason(cluster, t).await,
                false => None,
            };
            match why {
                None => report.deleted.push(name),
                // No wait changes this: the server's own verdict, as for a refused delete.
                Some(why) if blocked.contains(&name) => report
                    .refused
                    .push((name, format!("the server cannot finish deleting it: {why}"))),
                Some(why) => report.stuck.push((name, why)),
            }
        }
    }
}

/// One DELETE: a transient answer (5xx, no answer, 409) is tried again, briefly and within the
/// deadline; anything else is the server's verdict. Already gone counts as deleted.
async fn delete_one(
    cluster: &Cluster,
    t: &Target,
    deadline: tokio::time::Instant,
) -> Result<(), crate::cluster::RequestError> {
    use crate::cluster::classify::{Verdict, classify, delays};
    use backon::Retryable;
    (|| async {
        match cluster
            .delete(&t.resource, t.member.namespace.as_deref(), &t.member.name)
            .await
        {
            Err(e) if e.is_not_found() => Ok(()),
            r => r,
        }
    })
    .retry(delays(5))
    .when(|e| matches!(classify(e), Verdict::Retry { .. }))
    .adjust(|e, next| {
        next.map(|d| e.retry_after.unwrap_or(d))
            .filter(|wait| tokio::time::Instant::now() + *wait <= deadline)
    })
    .await
}

/// Why an object is still there: its finalizers, or a namespace's conditions; `None` when it is gone
/// after all.
async fn stuck_reason(cluster: &Cluster, t: &Target) -> Option<String> {
    let live = match cluster
        .get(&t.resource, t.member.namespace.as_deref(), &t.member.name)
        .await
    {
        Ok(Some(live)) => live,
        Ok(None) => return None,
        Err(e) => return Some(format!("cannot read it: {e}")),
    };
    let finalizers: Vec<&str> = live
        .pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut parts = Vec::new();
    if !finalizers.is_empty() {
        parts.push(format!(
            "finalizers {} (pass --remove-finalizers to strip them)",
            finalizers.join(", ")
        ));
    }
    let conditions = true_conditions(&live);
    for c in &conditions {
        parts.push(format!(
            "{}: {}",
            c.str_at(&["type"]).unwrap_or(""),
            c.str_at(&["message"]).unwrap_or("")
        ));
    }
    if t.resource.group.is_empty()
        && t.resource.kind == "Namespace"
        && conditions
            .iter()
            .any(|c| c.str_at(&["type"]) == Some("NamespaceDeletionDiscoveryFailure"))
    {
        parts.extend(unavailable_apis(cluster).await);
    }
    Some(if parts.is_empty() {
        "deletion in progress".into()
    } else {
        parts.join("; ")
    })
}

/// What makes the namespace controller's discovery fail: APIServices that do not answer. They are
/// named, never touched (kyma did not create them; their owner may recreate them anyway).
async fn unavailable_apis(cluster: &Cluster) -> Vec<String> {
    const API_SERVICES: &str = "apiregistration.k8s.io/v1";
    cluster
        .discovery
        .ensure(cluster, [API_SERVICES.to_string()])
        .await;
    let Some(r) = cluster.discovery.resolve(API_SERVICES, "APIService") else {
        return Vec::new();
    };
    let Ok(all) = cluster.list(&r, None, None).await else {
        return vec!["the APIServices could not be listed to name the one that does not answer".into()];
    };
    all.iter()
        .filter_map(|a| {
            let available = a
                .pointer("/status/conditions")?
                .as_array()?
                .iter()
                .find(|c| c.str_at(&["type"]) == Some("Available"))?;
            (available.str_at(&["status"]) != Some("True")).then(|| {
                format!(
                    "blocked by APIService {} (not kyma's): Available={} {}: {} — make it answer or delete \
                     it, then run the undeploy again",
                    a.name_or_empty(),
                    available.str_at(&["status"]).unwrap_or("Unknown"),
                    available.str_at(&["reason"]).unwrap_or_default(),
                    available.str_at(&["message"]).unwrap_or_default(),
                )
            })
        })
        .collect()
}

/// Objects a namespace holds that nobody asked us to delete (user data, another module's objects).
/// Controller children (ownerReferences) and what Kubernetes creates in every namespace do not count.
async fn namespace_holds_foreign(
    cluster: &Cluster,
    ns: &str,
    deleting: &HashSet<ObjectKey>,
) -> Option<String> {
    cluster.discovery.ensure_all(cluster).await;
    let resources = cluster.discovery.namespaced_resources();
    // One version per group/kind is enough.
    let mut seen = BTreeSet::new();
    let resources: Vec<Resource> = resources
        .into_iter()
        .filter(|r| seen.insert((r.group.clone(), r.kind.clone())))
        .collect();
    let lists = futures::future::join_all(resources.iter().map(|r| cluster.list(r, Some(ns), None))).await;
    let mut foreign = Vec::new();
    let mut unchecked = Vec::new();
    for (r, list) in resources.iter().zip(lists) {
        if matches!(
            (r.group.as_str(), r.kind.as_str()),
            ("", "Event")
                | ("events.k8s.io", "Event")
                | ("", "Endpoints")
                | ("discovery.k8s.io", "EndpointSlice")
        ) {
            continue;
        }
        // A kind that cannot be listed may hold anything: the namespace is kept, and that is said.
        let list = match list {
            Ok(l) => l,
            Err(e) => {
                unchecked.push((r.kind.clone(), e));
                continue;
            }
        };
        for o in list {
            let name = o.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
            let core = r.group.is_empty();
            let auto = (core && r.kind == "ServiceAccount" && name == "default")
                || (core && r.kind == "ConfigMap" && name == "kube-root-ca.crt")
                || o.get("type").and_then(Value::as_str) == Some("kubernetes.io/service-account-token")
                || o.pointer("/metadata/ownerReferences")
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty())
                || o.pointer("/metadata/deletionTimestamp").is_some();
            let key = ObjectKey {
                group: r.group.clone(),
                kind: r.kind.clone(),
                namespace: Some(ns.to_string()),
                name: name.to_string(),
            };
            if auto || deleting.contains(&key) {
                continue;
            }
            foreign.push(format!("{}/{name}", r.kind));
        }
    }
    if !foreign.is_empty() {
        Some(format!(
            "namespace holds {} object(s) kyma is not deleting (e.g. {}); kept",
            foreign.len(),
            foreign[..foreign.len().min(3)].join(", ")
        ))
    } else if !unchecked.is_empty() {
        let kinds: Vec<&str> = unchecked.iter().take(3).map(|(k, _)| k.as_str()).collect();
        Some(format!(
            "cannot check what the namespace holds: listing {} kind(s) failed ({}{}: {}); kept",
            unchecked.len(),
            kinds.join(", "),
            if unchecked.len() > 3 { ", …" } else { "" },
            unchecked[0].1
        ))
    } else {
        None
    }
}

/// A CRD is in use while custom resources of it exist that this operation does not delete. A check that
/// cannot be made keeps the CRD: deleting it would take every resource of its kind along.
async fn crd_in_use(cluster: &Cluster, crd: &Value, deleting: &HashSet<ObjectKey>) -> Option<String> {
    match foreign_resources(cluster, crd, deleting).await {
        Ok(others) if others.is_empty() => None,
        Ok(others) => Some(format!(
            "{} {} resource(s) kyma did not create still exist (e.g. {}); --prune-crds would delete them too",
            others.len(),
            crd.pointer("/spec/names/kind")
                .and_then(Value::as_str)
                .unwrap_or("custom"),
            others[0]
        )),
        Err(e) => Some(format!(
            "cannot check for resources of its kind ({e}); keeping it"
        )),
    }
}

/// Custom resources of a CRD's kind that are not in `deleting`, as `namespace/name`.
pub async fn foreign_resources(
    cluster: &Cluster,
    crd: &Value,
    deleting: &HashSet<ObjectKey>,
) -> Result<Vec<String>, String> {
    let group = crd
        .pointer("/spec/group")
        .and_then(Value::as_str)
        .ok_or("the CRD has no spec.group")?;
    let kind = crd
        .pointer("/spec/names/kind")
        .and_then(Value::as_str)
        .ok_or("the CRD has no spec.names.kind")?;
    let Some(version) = crd
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|v| v.get("served").and_then(Value::as_bool) == Some(true))
        .and_then(|v| v.get("name")?.as_str())
    else {
        return Ok(vec![]); // no version served: no resource can be read or written through it
    };
    let gv = format!("{group}/{version}");
    cluster.discovery.ensure(cluster, [gv.clone()]).await;
    let r = cluster
        .discovery
        .resolve(&gv, kind)
        .ok_or_else(|| format!("{kind} in {gv} is not served"))?;
    // A CRD created moments ago answers 429 "storage is (re)initializing" while its watch cache fills;
    // `list` waits such answers out itself. Other transient answers (5xx, no answer) get a few bounded
    // retries here before the check counts as failed.
    use crate::cluster::classify::{Verdict, classify, delays};
    use backon::Retryable;
    let items = (|| cluster.list(&r, None, None))
        .retry(delays(8))
        .when(|e| matches!(classify(e), Verdict::Retry { .. }))
        .adjust(|e, next| next.map(|d| e.retry_after.unwrap_or(d).min(Duration::from_secs(5))))
        .await
        .map_err(|e| format!("listing {kind}: {e}"))?;
    Ok(items
        .iter()
        .filter_map(|o| {
            let name = o
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let ns = o
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .map(str::to_string);
            let shown = match &ns {
                Some(n) => format!("{kind} {n}/{name}"),
                None => format!("{kind} {name}"),
            };
            let key = ObjectKey {
                group: group.to_string(),
                kind: kind.to_string(),
                namespace: ns,
                name,
            };
            (!deleting.contains(&key)).then_some(shown)
        })
        .collect())
}

/// The namespace controller's conditions that say a deletion cannot finish by itself (an aggregated API
/// that does not answer, content it cannot delete): kyma stops waiting for such a namespace once one has
/// held for `BLOCKED_GRACE`, instead of waiting until `--timeout` in silence.
const BLOCKING: [&str; 3] = [
    "NamespaceDeletionDiscoveryFailure",
    "NamespaceDeletionGroupVersionParsingFailure",
    "NamespaceDeletionContentFailure",
];
/// Long enough for the namespace controller's retry to clear a passing failure (an APIService
/// registered a moment ago), short beside any timeout.
const BLOCKED_GRACE: Duration = Duration::from_secs(10);

/// Does the namespace report a condition in `BLOCKING`?
fn blocked(o: &kube::api::DynamicObject) -> bool {
    true_conditions(&o.data)
        .iter()
        .any(|c| c.str_at(&["type"]).is_some_and(|t| BLOCKING.contains(&t)))
}

/// The conditions an object reports as holding (`status: "True"`).
fn true_conditions(obj: &Value) -> Vec<&Value> {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c.str_at(&["status"]) == Some("True"))
        .collect()
}

/// Wait, from watches, until every target is gone or the deadline passes; returns what remains. A
/// namespace whose deletion is blocked (see `BLOCKING`) is not waited for past `BLOCKED_GRACE`: it
/// remains, and is returned as blocked too.
async fn wait_gone(
    cluster: &Cluster,
    targets: &[Target],
    deadline: tokio::time::Instant,
) -> (HashSet<ObjectKey>, HashSet<ObjectKey>) {
    use kube::runtime::watcher::Event;
    let mut groups: BTreeMap<(String, String, String, Option<String>), Vec<&Target>> = BTreeMap::new();
    for t in targets {
        let key = (
            t.resource.group.clone(),
            t.resource.version.clone(),
            t.resource.kind.clone(),
            t.member.namespace.clone(),
        );
        groups.entry(key).or_default().push(t);
    }
    let remaining: Arc<Mutex<HashSet<ObjectKey>>> =
        Arc::new(Mutex::new(targets.iter().map(|t| t.member.key()).collect()));
    let blocked_keys: Arc<Mutex<HashSet<ObjectKey>>> = Arc::default();
    let waits = groups.into_values().map(|ts| {
        let remaining = remaining.clone();
        let blocked_keys = blocked_keys.clone();
        let api = cluster.dynamic_api(&ts[0].resource, ts[0].member.namespace.as_deref());
        let namespaces = ts[0].resource.group.is_empty() && ts[0].resource.kind == "Namespace";
        let mut pending: HashSet<String> = ts.iter().map(|t| t.member.name.clone()).collect();
        let keys: BTreeMap<String, ObjectKey> = ts
            .iter()
            .map(|t| (t.member.name.clone(), t.member.key()))
            .collect();
        async move {
            let mut stream = kube::runtime::watcher(api, kube::runtime::watcher::Config::default()).boxed();
            let mut listed: HashSet<String> = HashSet::new();
            // Namespaces reporting a blocking condition, since when.
            let mut blocked_since: BTreeMap<String, tokio::time::Instant> = BTreeMap::new();
            let gone = |name: &str, pending: &mut HashSet<String>| {
                if pending.remove(name) {
                    remaining.lock().unwrap().remove(&keys[name]);
                }
            };
            while !pending.is_empty() {
                let give_up = blocked_since.values().min().map(|since| *since + BLOCKED_GRACE);
                let ev = tokio::select! {
                    ev = stream.next() => ev,
                    _ = tokio::time::sleep_until(give_up.unwrap_or(deadline)), if give_up.is_some() => {
                        let now = tokio::time::Instant::now();
                        blocked_since.retain(|name, since| {
                            let held = now >= *since + BLOCKED_GRACE;
                            if held && pending.remove(name) {
                                blocked_keys.lock().unwrap().insert(keys[name].clone());
                            }
                            !held
                        });
                        continue;
                    }
                };
                let Some(ev) = ev else { break };
                match ev {
                    Ok(Event::Init) => listed.clear(),
                    Ok(Event::InitApply(o) | Event::Apply(o)) => {
                        let name = o.metadata.name.clone().unwrap_or_default();
                        if namespaces && pending.contains(&name) {
                            if blocked(&o) {
                                blocked_since
                                    .entry(name.clone())
                                    .or_insert_with(tokio::time::Instant::now);
                            } else {
                                blocked_since.remove(&name);
                            }
                        }
                        listed.insert(name);
                    }
                    Ok(Event::InitDone) => {
                        let absent: Vec<String> =
                            pending.iter().filter(|n| !listed.contains(*n)).cloned().collect();
                        for n in absent {
                            gone(&n, &mut pending);
                            blocked_since.remove(&n);
                        }
                    }
                    Ok(Event::Delete(o)) => {
                        let name = o.metadata.name.unwrap_or_default();
                        gone(&name, &mut pending);
                        blocked_since.remove(&name);
                    }
                    Err(_) => {}
                }
            }
        }
    });
    let _ = tokio::time::timeout_at(deadline, futures::future::join_all(waits)).await;

    let remaining = remaining.lock().unwrap().clone();
    let blocked = blocked_keys.lock().unwrap().clone();
    (remaining, blocked)
}

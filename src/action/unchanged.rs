//! The "unchanged" fast path, confirmed: a module whose rendered manifest matches its complete
//! inventory is skipped only once the cluster shows every object present, still carrying what kyma
//! applied, and healthy. The inventory says what kyma did, never what the cluster has now: a namespace
//! deleted by hand, an object edited by someone else, a Deployment scaled to zero are seen here and the
//! module goes through the engine again. One LIST per kind for all unchanged modules (by their ApplySet
//! labels, across namespaces), not one GET per object, keeps an unchanged re-deploy cheap. On a kept
//! connection (the operator's resyncs) a kind whose objects were all found fine, and not one of them
//! written since (a metadata-only LIST shows the same `resourceVersion`s), is not read and judged again.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use serde_json::Value;

use crate::cluster::{Cluster, Listed, RequestError, Resource, Versions};
use crate::engine::readiness::{self, Health};
use crate::object::{Fields, ObjectKey, Scope};
use crate::plan::Plan;
use crate::store::inventory::{self, PART_OF_LABEL};

/// A kind, read with one request for every unchanged module: apiVersion, kind.
type Kind = (String, String);
/// The objects of one kind that the unchanged modules hold: module, plan node, key (with the namespace
/// discovery settled).
type Members = Vec<(usize, usize, ObjectKey)>;
/// One read: the kind, the members it was for, and the live objects (or that they are as they were
/// when all were found fine, or why they could not be read).
struct Read {
    r: Resource,
    members: Members,
    live: Result<Listed<()>, RequestError>,
    /// How to keep "all fine" for this list: namespace, selector, purpose. `None`: a read by name.
    list: Option<(Option<String>, String, String)>,
}

/// A module the inventory says is unchanged: its index in the plan, and its manifest hash (what its
/// objects are judged against, so a verdict kept for one render is never taken for another).
pub type Unchanged = (usize, String);

/// One object that keeps a module from being skipped: its plan node, its key, and why.
pub type Found = (usize, ObjectKey, Finding);

/// Why a module that looked unchanged is not skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Gone from the cluster (or its kind is no longer served): applied again.
    Missing,
    /// Present, but no longer carries what kyma applied at this field: applied again.
    Changed(String),
    /// Present and as applied, but not healthy now: the module waits for it again.
    NotReady(String),
    /// The cluster could not be asked: the module is applied again rather than assumed fine.
    Unchecked(String),
}

impl Finding {
    /// What a re-apply puts back (a missing or edited object), as opposed to what it only waits for.
    pub fn restores(&self) -> bool {
        matches!(self, Finding::Missing | Finding::Changed(_))
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Finding::Missing => f.write_str("was missing"),
            Finding::Changed(path) => write!(f, "was changed at {path}"),
            Finding::NotReady(why) => write!(f, "not ready: {why}"),
            Finding::Unchecked(why) => write!(f, "could not be checked: {why}"),
        }
    }
}

/// What the cluster shows for the objects of `modules`: per module (its index into `plan.modules`), one
/// finding per object (its node index and key) that keeps it from being skipped; a module with
/// nothing found is absent from the map.
///
/// Boxed: a stream of borrowing futures inside the operator's reconcile trips rustc's check that the
/// whole future is `Send` (rust-lang/rust#102211); a boxed future is checked here, once.
pub fn confirm<'a>(
    cluster: &'a Cluster,
    plan: &'a Plan,
    modules: &'a [Unchanged],
    concurrency: usize,
) -> BoxFuture<'a, BTreeMap<usize, Vec<Found>>> {
    confirm_modules(cluster, plan, modules, concurrency).boxed()
}

async fn confirm_modules(
    cluster: &Cluster,
    plan: &Plan,
    modules: &[Unchanged],
    concurrency: usize,
) -> BTreeMap<usize, Vec<Found>> {
    let mut findings: BTreeMap<usize, Vec<Found>> = BTreeMap::new();
    if modules.is_empty() {
        return findings;
    }
    cluster.discovery.ensure(cluster, plan.api_versions()).await;
    let mut kinds: BTreeMap<Kind, Members> = BTreeMap::new();
    // A shared module namespace is not labelled as the module's (several modules use it): it is read
    // by name.
    let mut by_name = Vec::new();
    for &(m, _) in modules {
        let module_ns = plan.modules[m].namespace.as_deref();
        for (i, node) in plan.nodes_of(m) {
            let o = &node.object;
            let Some(r) = cluster.discovery.resolve(o.api_version(), o.kind()) else {
                findings
                    .entry(m)
                    .or_default()
                    .push((i, o.key(), Finding::Missing));
                continue;
            };
            // The scope of a kind the render did not know is settled by discovery, as the engine does.
            // The scope is discovery's: a cluster-scoped object keeps no namespace the manifest gave
            // it (the server drops it), and one the render did not know goes where the engine puts it.
            let namespace = match (o.scope, r.namespaced) {
                (_, false) => None,
                (Scope::Unknown, true) if o.namespace().is_none() => {
                    Some(module_ns.unwrap_or("default").to_string())
                }
                _ => o.namespace().map(str::to_string),
            };
            let key = ObjectKey { namespace, ..o.key() };
            if node.implicit {
                by_name.push((m, i, key, r));
            } else {
                kinds
                    .entry((o.api_version().to_string(), o.kind().to_string()))
                    .or_default()
                    .push((m, i, key));
            }
        }
    }
    let ids: HashMap<usize, String> = modules
        .iter()
        .map(|(m, _)| (*m, inventory::applyset_id(&plan.modules[*m].name)))
        .collect();
    let digests: HashMap<usize, &str> = modules.iter().map(|(m, h)| (*m, h.as_str())).collect();
    let mut reads: Vec<BoxFuture<'_, Vec<Read>>> = Vec::with_capacity(kinds.len() + by_name.len());
    for ((av, kind), members) in kinds {
        let r = cluster
            .discovery
            .resolve(&av, &kind)
            .expect("resolved before grouping");
        let purpose = purpose_of(plan, &r, &digests, &members);
        reads.push(read_kind(cluster, r, &ids, members, purpose).boxed());
    }
    for (m, i, key, r) in by_name {
        reads.push(
            async move {
                let name = plan.nodes[i].object.name();
                let live = cluster.get(&r, key.namespace.as_deref(), name).await;
                // Never kept (`list: None`): no versions to keep it by.
                let live = live.map(|o| Listed::Read(o.into_iter().collect(), Versions::default()));
                vec![Read {
                    r,
                    members: vec![(m, i, key)],
                    live,
                    list: None,
                }]
            }
            .boxed(),
        );
    }
    let lists = futures::stream::iter(reads)
        .buffer_unordered(concurrency.max(1))
        .collect::<Vec<_>>()
        .await;
    for read in lists.into_iter().flatten() {
        match read.live {
            // Every member was found fine on this list, and nothing on it was written since.
            Ok(Listed::Kept(_)) => {}
            Ok(Listed::Read(live, versions)) => {
                let found = judge(plan, &read.r, &ids, &read.members, &live);
                match (&read.list, found.is_empty()) {
                    (Some((ns, selector, purpose)), true) => cluster.keep(
                        &read.r,
                        ns.as_deref(),
                        Some(selector),
                        purpose,
                        versions,
                        std::sync::Arc::new(()),
                    ),
                    (Some((ns, selector, purpose)), false) => {
                        cluster.forget(&read.r, ns.as_deref(), Some(selector), purpose)
                    }
                    (None, _) => {}
                }
                for (m, f) in found {
                    findings.entry(m).or_default().push(f);
                }
            }
            Err(e) => {
                for (m, i, k) in read.members {
                    findings
                        .entry(m)
                        .or_default()
                        .push((i, k, Finding::Unchecked(e.to_string())));
                }
            }
        }
    }
    for found in findings.values_mut() {
        found.sort_by(|a, b| a.1.cmp(&b.1));
    }
    findings
}

/// What a verdict of "all fine" on a list of one kind is kept for: everything the verdict was judged
/// from besides the live objects — the renders of the modules whose members it holds (their manifest
/// hashes), where each member was looked for (its key, with the namespace discovery settled), which are
/// module CRs, and what discovery says of the kind (its scope and status subresource).
fn purpose_of(plan: &Plan, r: &Resource, digests: &HashMap<usize, &str>, members: &Members) -> String {
    let mut renders: Vec<&str> = members
        .iter()
        .filter_map(|(m, _, _)| digests.get(m).copied())
        .collect();
    renders.sort_unstable();
    renders.dedup();
    let mut looked_for: Vec<String> = members
        .iter()
        .map(|(m, i, key)| format!("{m} {key} {}", plan.nodes[*i].object.module_cr))
        .collect();
    looked_for.sort_unstable();
    let members = crate::hash::sha256_hex(looked_for.join("\n").as_bytes());
    format!(
        "unchanged {} {members} {} {}",
        renders.join(","),
        r.namespaced,
        r.has_status
    )
}

/// Each member of one kind against the live objects listed for it: missing, changed by another
/// manager, or not (yet) healthy — by module.
fn judge(
    plan: &Plan,
    r: &Resource,
    ids: &HashMap<usize, String>,
    members: &Members,
    live: &[Value],
) -> Vec<(usize, Found)> {
    let mut findings = Vec::new();
    let live: HashMap<(Option<&str>, &str), &Value> = live
        .iter()
        .filter_map(|o| {
            Some((
                (
                    o.str_at(&["metadata", "namespace"]),
                    o.str_at(&["metadata", "name"])?,
                ),
                o,
            ))
        })
        .collect();
    for (m, i, key) in members {
        let o = &plan.nodes[*i].object;
        let mut found = |f| findings.push((*m, (*i, key.clone(), f)));
        // Listed by every module's label at once: an object now labelled as another module's is not
        // this module's any more, as a list by its own label would not have shown it.
        let Some(live) = live
            .get(&(key.namespace.as_deref(), o.name()))
            .filter(|l| plan.nodes[*i].implicit || l.label(PART_OF_LABEL) == ids.get(m).map(String::as_str))
        else {
            found(Finding::Missing);
            continue;
        };
        if let Err(path) = carries(&o.data, live) {
            found(Finding::Changed(path));
            continue;
        }
        let ctx = readiness::Context {
            has_status_subresource: r.has_status,
            grace_expired: true,
            error_grace_expired: true,
            module_cr: o.module_cr,
        };
        match readiness::health(live, o.group(), o.kind(), ctx) {
            Health::Ready | Health::Warning(_) => {}
            Health::InProgress(why) | Health::Failed(why) => found(Finding::NotReady(why)),
        }
    }
    findings
}

/// The live objects of one kind that carry one of the modules' ApplySet labels: one LIST across all
/// namespaces (a set-based selector names every module). A user who may not list the kind across the
/// cluster (namespace-scoped RBAC) gets one LIST per namespace instead, each namespace's failure its
/// own members' only.
async fn read_kind(
    cluster: &Cluster,
    r: Resource,
    ids: &HashMap<usize, String>,
    members: Members,
    purpose: String,
) -> Vec<Read> {
    let mut wanted: Vec<&str> = members
        .iter()
        .filter_map(|(m, _, _)| ids.get(m).map(String::as_str))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let selector = format!("{PART_OF_LABEL} in ({})", wanted.join(","));
    let mut by_ns: BTreeMap<Option<String>, Members> = BTreeMap::new();
    for m in members {
        by_ns.entry(m.2.namespace.clone()).or_default().push(m);
    }
    if by_ns.len() > 1 {
        match cluster.list_or_kept(&r, None, Some(&selector), &purpose).await {
            Err(e) if e.is_forbidden() => {}
            live => {
                return vec![Read {
                    r,
                    members: by_ns.into_values().flatten().collect(),
                    live,
                    list: Some((None, selector, purpose)),
                }];
            }
        }
    }
    // One namespace (what namespace-scoped RBAC allows), or each on its own after a 403.
    let reads = by_ns.into_iter().map(|(ns, members)| {
        let (r, selector, purpose) = (r.clone(), &selector, &purpose);
        async move {
            let live = cluster
                .list_or_kept(&r, ns.as_deref(), Some(selector), purpose)
                .await;
            Read {
                r,
                members,
                live,
                list: Some((ns, selector.clone(), purpose.clone())),
            }
        }
    });
    futures::future::join_all(reads).await
}

/// Does the live object still carry what kyma applied? `Err` names the first field (a dotted path) that
/// differs. Only what kyma sent is compared: what the server or a controller added (defaults, status,
/// another manager's labels or list items) is not drift. Values the server stores in another spelling
/// are equal here: `cpu: 1` and `"1"`, `0.5` and `"500m"`, a Secret's `stringData` and its `data`, a
/// zero value the server drops (`false`, `""`, `{}`) and its absence.
pub fn carries(desired: &Value, live: &Value) -> Result<(), String> {
    let (Some(d), Some(l)) = (desired.as_object(), live.as_object()) else {
        return Err("(the object)".into());
    };
    for (k, dv) in d {
        match k.as_str() {
            "status" | "apiVersion" | "kind" => {}
            "metadata" => {
                for field in ["labels", "annotations"] {
                    if let Some(dm) = dv.get(field) {
                        subset(
                            dm,
                            l.get("metadata").and_then(|m| m.get(field)),
                            &format!("metadata.{field}"),
                        )?;
                    }
                }
            }
            "stringData" if is_secret(desired) => {
                for (key, text) in dv.as_object().into_iter().flatten() {
                    let want = Value::String(
                        base64::engine::general_purpose::STANDARD.encode(text.as_str().unwrap_or_default()),
                    );
                    subset(&want, live.at(&["data", key]), &format!("data.{key}"))?;
                }
            }
            _ => subset(dv, l.get(k), k)?,
        }
    }
    Ok(())
}

fn is_secret(o: &Value) -> bool {
    o.get("kind").and_then(Value::as_str) == Some("Secret")
        && o.get("apiVersion").and_then(Value::as_str) == Some("v1")
}

fn subset(desired: &Value, live: Option<&Value>, path: &str) -> Result<(), String> {
    let live = match live {
        None | Some(Value::Null) if is_zero(desired) => return Ok(()),
        None | Some(Value::Null) => return Err(path.to_string()),
        Some(l) => l,
    };
    match desired {
        Value::Null => Ok(()),
        Value::Object(d) => {
            let Some(l) = live.as_object() else {
                return Err(path.to_string());
            };
            d.iter()
                .try_for_each(|(k, v)| subset(v, l.get(k), &format!("{path}.{k}")))
        }
        Value::Array(d) => {
            let Some(l) = live.as_array() else {
                return Err(path.to_string());
            };
            // Other managers may add items and the server may reorder a set: every desired item must be
            // found, each carried by some live item.
            for (n, item) in d.iter().enumerate() {
                let item_path = format!("{path}[{n}]");
                if !l.iter().any(|li| subset(item, Some(li), &item_path).is_ok()) {
                    return Err(item_path);
                }
            }
            Ok(())
        }
        scalar => {
            if same_scalar(scalar, live) {
                Ok(())
            } else {
                Err(path.to_string())
            }
        }
    }
}

/// The zero values the API server drops when it stores an object (Go's `omitempty`).
fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(is_zero),
    }
}

fn same_scalar(desired: &Value, live: &Value) -> bool {
    if desired == live {
        return true;
    }
    let text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match (text(desired), text(live)) {
        (Some(a), Some(b)) if a == b => true,
        (Some(a), Some(b)) => match (quantity(&a), quantity(&b)) {
            (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()),
            _ => false,
        },
        _ => false,
    }
}

/// A Kubernetes quantity (`500m`, `1Gi`, `1e3`, `0.5`) as a number; the server stores its own canonical
/// spelling of what it was sent.
fn quantity(s: &str) -> Option<f64> {
    const SUFFIXES: [(&str, f64); 15] = [
        ("Ki", 1024.0),
        ("Mi", 1048576.0),
        ("Gi", 1073741824.0),
        ("Ti", 1099511627776.0),
        ("Pi", 1125899906842624.0),
        ("Ei", 1152921504606846976.0),
        ("n", 1e-9),
        ("u", 1e-6),
        ("m", 1e-3),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    let s = s.trim();
    if s.is_empty() || !s.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '-' | '.')) {
        return None;
    }
    for (suffix, factor) in SUFFIXES {
        if let Some(num) = s.strip_suffix(suffix) {
            // `1E` is an exponent-less exa, `1e3` an exponent: only a digit may precede a suffix.
            if num.ends_with(|c: char| c.is_ascii_digit() || c == '.') {
                return num.parse::<f64>().ok().map(|n| n * factor);
            }
        }
    }
    s.parse::<f64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "labels": {"a": "1"}}, "data": data})
    }

    #[test]
    fn what_the_server_adds_is_not_drift() {
        let desired = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "labels": {"app": "x"}},
            "spec": {"replicas": 1, "paused": false, "template": {"spec": {"containers": [
                {"name": "c", "image": "i", "ports": [{"containerPort": 80}],
                 "resources": {"limits": {"cpu": 1, "memory": "1Gi"}, "requests": {"cpu": 0.5}}}
            ]}}}
        });
        let live = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "uid": "u", "labels": {"app": "x", "other": "y"}, "annotations": {"deployment.kubernetes.io/revision": "1"}},
            "spec": {"replicas": 1, "strategy": {"type": "RollingUpdate"}, "template": {"spec": {"containers": [
                {"name": "sidecar", "image": "s"},
                {"name": "c", "image": "i", "terminationMessagePath": "/dev/termination-log",
                 "ports": [{"containerPort": 80, "protocol": "TCP"}],
                 "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}}}
            ]}}},
            "status": {"replicas": 1}
        });
        assert_eq!(carries(&desired, &live), Ok(()));
    }

    #[test]
    fn an_edited_or_removed_field_is_named() {
        let desired = cm(json!({"k": "v", "n": "1"}));
        assert_eq!(carries(&desired, &cm(json!({"k": "v", "n": "1"}))), Ok(()));
        assert_eq!(
            carries(&desired, &cm(json!({"k": "edited", "n": "1"}))),
            Err("data.k".into())
        );
        assert_eq!(carries(&desired, &cm(json!({"n": "1"}))), Err("data.k".into()));
        let mut unlabelled = cm(json!({"k": "v", "n": "1"}));
        unlabelled["metadata"]["labels"]["a"] = json!("2");
        assert_eq!(carries(&desired, &unlabelled), Err("metadata.labels.a".into()));
    }

    #[test]
    fn a_list_item_kyma_sent_must_still_be_there() {
        let desired = json!({"kind": "Role", "rules": [{"verbs": ["get", "list"], "resources": ["pods"]}]});
        let narrowed = json!({"kind": "Role", "rules": [{"verbs": ["get"], "resources": ["pods"]}]});
        assert_eq!(carries(&desired, &narrowed), Err("rules[0]".into()));
        let reordered = json!({"kind": "Role", "rules": [{"verbs": ["list", "get"], "resources": ["pods"]}]});
        assert_eq!(carries(&desired, &reordered), Ok(()));
    }

    #[test]
    fn secret_string_data_is_compared_with_its_stored_data() {
        let desired = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"password": "hunter2"}});
        let live = |v: &str| json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"password": v}});
        assert_eq!(carries(&desired, &live("aHVudGVyMg==")), Ok(()));
        assert_eq!(carries(&desired, &live("c2VjcmV0")), Err("data.password".into()));
    }

    #[test]
    fn dropped_zero_values_and_quantities() {
        assert_eq!(carries(&cm(json!({})), &cm(Value::Null)), Ok(()));
        assert_eq!(quantity("500m"), Some(0.5));
        assert_eq!(quantity("1Gi"), Some(1073741824.0));
        assert_eq!(quantity("1e3"), Some(1000.0));
        assert_eq!(quantity("2E"), Some(2e18));
        assert_eq!(quantity("Never"), None);
        assert!(same_scalar(&json!(1), &json!("1")));
        assert!(!same_scalar(&json!("1"), &json!("2")));
        assert!(!same_scalar(&json!(true), &json!("yes")));
    }
}

//! Looking without touching: `kyma status` (health and drift from the inventories) and `kyma diff`
//! (what a deploy would change, from a server-side dry-run apply). Both compare normalised objects, with
//! Secret values masked.

use std::collections::{BTreeMap, HashMap};

use futures::StreamExt;
use serde_json::Value;

use crate::cluster::{ApplyOptions, Cluster};
use crate::engine::readiness::{self, Health};
use crate::object::{Fields, Object, ObjectKey};
use crate::plan::Plan;
use crate::store::inventory::{self, Inventory, Member};

/// Strip what the server owns or that changes on every write, and mask Secret values.
pub fn normalize(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
        if let Some(meta) = o.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in [
                "managedFields",
                "resourceVersion",
                "generation",
                "creationTimestamp",
                "uid",
                "selfLink",
            ] {
                meta.remove(k);
            }
            if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
                a.remove("kubectl.kubernetes.io/last-applied-configuration");
                a.remove("deployment.kubernetes.io/revision");
                if a.is_empty() {
                    meta.remove("annotations");
                }
            }
        }
    }
    mask_secret(&mut v);
    v
}

/// Secret values never reach the output: each becomes a short HMAC-SHA256 under a key drawn at random
/// for this process and never stored, so a change shows within one run (the same value gives the same
/// mask) while a mask cannot be checked against a guessed password, nor compared across runs. The
/// object and key are part of what is hashed, so two Secrets holding the same value do not show it
/// either.
pub fn mask_secret(v: &mut Value) {
    if v.get("kind").and_then(Value::as_str) != Some("Secret")
        || v.get("apiVersion").and_then(Value::as_str) != Some("v1")
    {
        return;
    }
    let object = format!(
        "{}/{}",
        v.str_at(&["metadata", "namespace"]).unwrap_or(""),
        v.name_or_empty()
    );
    for field in ["data", "stringData"] {
        if let Some(m) = v.get_mut(field).and_then(Value::as_object_mut) {
            for (key, val) in m.iter_mut() {
                let mut ctx = ring::hmac::Context::with_key(mask_key());
                // Each part length-prefixed: no two different (object, key, value) run together alike.
                for part in [object.as_str(), field, key, val.as_str().unwrap_or("")] {
                    ctx.update(&(part.len() as u64).to_be_bytes());
                    ctx.update(part.as_bytes());
                }
                let tag = hex::encode(ctx.sign().as_ref());
                *val = Value::String(format!("<masked hmac:{}>", &tag[..12]));
            }
        }
    }
}

fn mask_key() -> &'static ring::hmac::Key {
    static KEY: std::sync::OnceLock<ring::hmac::Key> = std::sync::OnceLock::new();
    KEY.get_or_init(|| {
        ring::hmac::Key::generate(ring::hmac::HMAC_SHA256, &ring::rand::SystemRandom::new())
            .expect("the operating system's random source is readable")
    })
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectStatus {
    pub object: String,
    pub health: Health,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<Drift>,
}

/// How a live object differs from what kyma applied. Reports carry it as one readable string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// Gone from the cluster.
    Missing,
    /// A re-apply would change it; these field managers changed it.
    ChangedBy(Vec<String>),
    /// The comparison could not be made, and why: never taken as "no drift".
    Unchecked(String),
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Drift::Missing => f.write_str("missing"),
            Drift::ChangedBy(managers) => write!(f, "changed by {}", managers.join(", ")),
            Drift::Unchecked(why) => write!(f, "cannot check: {why}"),
        }
    }
}

impl serde::Serialize for Drift {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A module's health now, from its objects'.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ModuleHealth {
    Ready,
    NotReady,
    Failed,
}

impl ModuleHealth {
    pub fn as_str(self) -> &'static str {
        match self {
            ModuleHealth::Ready => "Ready",
            ModuleHealth::NotReady => "NotReady",
            ModuleHealth::Failed => "Failed",
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModuleStatus {
    pub name: String,
    pub version: String,
    pub deployed_at: String,
    pub complete: bool,
    pub objects: usize,
    pub ready: usize,
    pub health: ModuleHealth,
    pub drifted: usize,
    pub details: Vec<ObjectStatus>,
}

/// Health and drift of installed modules, from their inventories. At most `concurrency` objects are
/// looked at at once (each is a read and a dry-run apply, one after the other), over all modules
/// together: a cluster with thousands of recorded objects gets `--concurrency` requests, as from a
/// deploy, not thousands at once.
pub async fn status(
    cluster: &Cluster,
    modules: &[String],
    concurrency: usize,
) -> Result<Vec<ModuleStatus>, inventory::InventoryError> {
    let mut invs = inventory::read_all_with_manifests(cluster).await?;
    if !modules.is_empty() {
        invs.retain(|i| modules.contains(&i.module));
    }
    let gvs = invs
        .iter()
        .flat_map(|i| i.members.iter().map(Member::api_version))
        .collect::<Vec<_>>();
    cluster.discovery.ensure(cluster, gvs).await;
    let recorded: Vec<_> = invs.iter().map(|inv| inv.manifest.objects()).collect();
    let manifests: Vec<Result<HashMap<ObjectKey, &Value>, &String>> = recorded
        .iter()
        .map(|r| {
            r.as_ref()
                .map(|objects| objects.iter().map(|o| (ObjectKey::of(o), o)).collect())
        })
        .collect();
    let checks = invs.iter().zip(&manifests).flat_map(|(inv, manifest)| {
        inv.members.iter().map(move |m| {
            let desired = match manifest {
                Err(e) => Desired::Unknown(e),
                Ok(manifest) => manifest
                    .get(&m.key())
                    .copied()
                    .map_or(Desired::Unrecorded, Desired::Recorded),
            };
            object_status(cluster, m, desired)
        })
    });
    let mut details = bounded(checks, concurrency).await.into_iter();
    Ok(invs
        .iter()
        .map(|inv| module_status(inv, details.by_ref().take(inv.members.len()).collect()))
        .collect())
}

/// Run `futures` with at most `concurrency` in flight, answers in the order asked.
async fn bounded<F: std::future::Future>(
    futures: impl IntoIterator<Item = F>,
    concurrency: usize,
) -> Vec<F::Output> {
    futures::stream::iter(futures)
        .buffered(concurrency.max(1))
        .collect()
        .await
}

fn module_status(inv: &Inventory, details: Vec<ObjectStatus>) -> ModuleStatus {
    let ready = details.iter().filter(|d| d.health.is_ready()).count();
    let drifted = details.iter().filter(|d| d.drift.is_some()).count();
    let health = if details.iter().any(|d| matches!(d.health, Health::Failed(_))) {
        ModuleHealth::Failed
    } else if ready == details.len() {
        ModuleHealth::Ready
    } else {
        ModuleHealth::NotReady
    };
    ModuleStatus {
        name: inv.module.clone(),
        version: inv.version.clone(),
        deployed_at: inv.deployed_at.clone(),
        complete: inv.complete,
        objects: inv.members.len(),
        ready,
        health,
        drifted,
        details,
    }
}

/// What kyma applied for an object, as far as the inventory says.
enum Desired<'a> {
    Recorded(&'a Value),
    /// A member without a recorded manifest (a shared namespace): nothing to compare.
    Unrecorded,
    /// The recorded manifest could not be read: drift cannot be checked.
    Unknown(&'a str),
}

async fn object_status(cluster: &Cluster, m: &Member, desired: Desired<'_>) -> ObjectStatus {
    let object = m.key().to_string();
    let Some(r) = cluster.discovery.resolve(&m.api_version(), &m.kind) else {
        // Discovery failed (a 503 from an aggregated API): unknown, which is not "no longer served".
        if let Some(e) = cluster.discovery.failure(&m.api_version()) {
            let why = format!("cannot tell whether its kind is still served: {e}");
            return ObjectStatus {
                object,
                health: Health::InProgress(why.clone()),
                drift: Some(Drift::Unchecked(why)),
            };
        }
        return ObjectStatus {
            object,
            health: Health::Failed("its kind is no longer served".into()),
            drift: Some(Drift::Missing),
        };
    };
    let live = match cluster.get(&r, m.namespace.as_deref(), &m.name).await {
        Ok(Some(v)) => v,
        Ok(None) => {
            return ObjectStatus {
                object,
                health: Health::Failed("missing".into()),
                drift: Some(Drift::Missing),
            };
        }
        Err(e) => {
            return ObjectStatus {
                object,
                health: Health::InProgress(format!("cannot read: {e}")),
                drift: None,
            };
        }
    };
    let ctx = readiness::Context {
        has_status_subresource: r.has_status,
        grace_expired: true,
        error_grace_expired: true,
        module_cr: false,
    };
    let health = readiness::health(&live, &m.group, &m.kind, ctx);
    // Drift: would re-applying what we applied change the object? A dry-run apply answers exactly that.
    let drift = match desired {
        Desired::Recorded(d) => match cluster
            .apply(
                &r,
                d,
                ApplyOptions {
                    force: true,
                    dry_run: true,
                    ..Default::default()
                },
            )
            .await
        {
            Ok(after) if normalize(&after) != normalize(&live) => {
                Some(Drift::ChangedBy(other_managers(&live)))
            }
            Ok(_) => None,
            // A check that could not be made is not "no drift": say so.
            Err(e) => Some(Drift::Unchecked(format!("dry-run apply failed: {e}"))),
        },
        Desired::Unrecorded => None,
        Desired::Unknown(e) => Some(Drift::Unchecked(e.to_string())),
    };
    ObjectStatus {
        object,
        health,
        drift,
    }
}

fn other_managers(live: &Value) -> Vec<String> {
    let mut v: Vec<String> = live
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| f.get("manager").and_then(Value::as_str))
        .filter(|m| *m != crate::cluster::FIELD_MANAGER)
        .map(str::to_string)
        .collect();
    v.sort();
    v.dedup();
    if v.is_empty() {
        vec!["another manager".into()]
    } else {
        v
    }
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectDiff {
    pub module: String,
    pub object: String,
    pub action: DiffAction,
    pub diff: String,
}

/// What a deploy would do to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DiffAction {
    Create,
    Update,
    Prune,
    /// The object could not be compared (read or dry run failed): the diff is incomplete.
    Error,
}

/// What a deploy of `plan` would change: server-side dry-run apply per object against the live one,
/// plus the recorded members it would prune. At most `concurrency` objects are compared at once.
pub async fn diff(
    cluster: &Cluster,
    plan: &mut Plan,
    concurrency: usize,
) -> Result<Vec<ObjectDiff>, inventory::InventoryError> {
    let existing: BTreeMap<String, Inventory> = inventory::read_all(cluster)
        .await?
        .into_iter()
        .map(|i| (i.module.clone(), i))
        .collect();
    inventory::label_plan(plan);
    cluster.discovery.ensure(cluster, plan.api_versions()).await;
    let mut order: Vec<usize> = (0..plan.nodes.len()).collect();
    order.sort_by_key(|&i| plan.priority(i));
    let plan = &*plan;
    let checks = order.iter().map(|&i| {
        let node = &plan.nodes[i];
        let module = &plan.modules[node.module];
        diff_object(
            cluster,
            module.name.clone(),
            node.object.clone(),
            module.namespace.as_deref(),
        )
    });
    let mut out: Vec<ObjectDiff> = bounded(checks, concurrency).await.into_iter().flatten().collect();
    out.extend(prunes(plan, &existing));
    Ok(out)
}

/// One rendered object against the live one: created, updated (with a unified diff), unchanged
/// (`None`), or not comparable.
async fn diff_object(
    cluster: &Cluster,
    module: String,
    mut object: Object,
    module_namespace: Option<&str>,
) -> Option<ObjectDiff> {
    let Some(r) = cluster.discovery.resolve(object.api_version(), object.kind()) else {
        let text = crate::yaml::to_string(&normalize(&object.data));
        return Some(ObjectDiff {
            module,
            object: object.key().to_string(),
            action: DiffAction::Create,
            diff: added(&text),
        });
    };
    if object.scope == crate::object::Scope::Unknown {
        object.scope = if r.namespaced {
            crate::object::Scope::Namespaced
        } else {
            crate::object::Scope::Cluster
        };
        crate::render::apply_scope(&mut object, module_namespace);
    }
    // A read or dry run that fails is reported as such: "no change" would be a guess.
    let error = |what: &str, e: crate::cluster::RequestError| {
        Some(ObjectDiff {
            module: module.clone(),
            object: object.key().to_string(),
            action: DiffAction::Error,
            diff: format!("{what}: {e}\n"),
        })
    };
    let live = match cluster.get(&r, object.namespace(), object.name()).await {
        Ok(l) => l,
        Err(e) => return error("cannot read the live object", e),
    };
    let options = ApplyOptions {
        force: true,
        dry_run: true,
        ..Default::default()
    };
    let after = match cluster.apply(&r, &object.data, options).await {
        Ok(a) => a,
        Err(e) => return error("the server refuses the rendered object (dry run)", e),
    };
    let after = crate::yaml::to_string(&normalize(&after));
    match live {
        None => Some(ObjectDiff {
            module,
            object: object.key().to_string(),
            action: DiffAction::Create,
            diff: added(&after),
        }),
        Some(l) => {
            let before = crate::yaml::to_string(&normalize(&l));
            (before != after).then(|| ObjectDiff {
                module,
                object: object.key().to_string(),
                action: DiffAction::Update,
                diff: unified(&before, &after, &object.key().to_string()),
            })
        }
    }
}

/// The recorded members a deploy of `plan` would prune: no longer rendered, not shared.
fn prunes(plan: &Plan, existing: &BTreeMap<String, Inventory>) -> Vec<ObjectDiff> {
    let mut out = Vec::new();
    for m in &plan.modules {
        let Some(inv) = existing.get(&m.name) else {
            continue;
        };
        let rendered: Vec<Member> = plan
            .nodes
            .iter()
            .filter(|n| plan.modules[n.module].name == m.name)
            .map(|n| Member::of(&n.object, n.implicit))
            .collect();
        for old in inv
            .members
            .iter()
            .filter(|o| !o.shared && !rendered.iter().any(|n| n.same_object(o)))
        {
            out.push(ObjectDiff {
                module: m.name.clone(),
                object: old.key().to_string(),
                action: DiffAction::Prune,
                diff: String::new(),
            });
        }
    }
    out
}

fn added(text: &str) -> String {
    text.lines().map(|l| format!("+{l}\n")).collect()
}

fn unified(before: &str, after: &str, name: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("live {name}"), &format!("rendered {name}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_masked_but_changes_show() {
        let a = normalize(
            &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "resourceVersion": "1"}, "data": {"password": "aHVudGVyMg=="}}),
        );
        let b = normalize(
            &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "resourceVersion": "2"}, "data": {"password": "c2VjcmV0"}}),
        );
        let text = crate::yaml::to_string(&a);
        assert!(!text.contains("aHVudGVyMg=="), "{text}");
        assert!(text.contains("<masked hmac:"));
        assert_ne!(a, b, "a changed value is still visible as a change");
        assert!(a["metadata"].get("resourceVersion").is_none());
    }

    #[test]
    fn a_mask_cannot_be_checked_against_a_guess() {
        let secret = |name: &str, value: &str| {
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "ns"},
                   "data": {"password": value}})
        };
        let masked = |v: Value| normalize(&v)["data"]["password"].as_str().unwrap().to_string();
        let mask = masked(secret("s", "aHVudGVyMg=="));
        // The old mask was a plain SHA-256 prefix: anyone could hash a guess and compare.
        let unkeyed = crate::hash::sha256_hex(b"aHVudGVyMg==");
        assert!(!mask.contains(&unkeyed[..12]), "{mask}");
        assert_eq!(mask, masked(secret("s", "aHVudGVyMg==")), "stable within a run");
        assert_ne!(
            mask,
            masked(secret("other", "aHVudGVyMg==")),
            "two Secrets with one value do not show it"
        );
    }
}

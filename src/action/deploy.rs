//! A deploy, end to end around the engine: lock, inventories, the fast "unchanged" skip, the adoption
//! guard, union-then-exact inventory writes, and prune after success.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::ActionError;
use super::delete::{CrdPolicy, DeleteOptions, DeleteReport, delete_members};
use super::unchanged;
use crate::cluster::Cluster;
use crate::engine::{self, Event, ModuleState, Outcome, Preset, Restored, Settings};
use crate::object::ObjectKey;
use crate::plan::Plan;
use crate::store::inventory::{self, Inventory, Member};
use crate::store::lock::{Lock, LockError, LockWait, Lost};
use crate::values::ModuleValues;

#[derive(Debug, Clone)]
pub struct DeployOptions {
    pub settings: Settings,
    pub adopt: bool,
    pub allow_empty: bool,
    pub prune_crds: bool,
    pub reapply: bool,
    pub wait_for_lock: LockWait,
    /// Modules the server is too old for (found offline by `normalize`): refused, nothing applied.
    pub refused: BTreeMap<String, crate::normalize::Refusal>,
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionChange {
    pub module: String,
    pub from: Option<String>,
    pub to: String,
    pub downgrade: bool,
}

#[derive(Debug)]
pub struct DeployResult {
    pub outcome: Outcome,
    pub changes: Vec<VersionChange>,
    pub pruned: BTreeMap<String, DeleteReport>,
    pub warnings: Vec<String>,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `plan` is borrowed when the caller keeps it for later runs (the operator's memoized render): a deploy
/// only reads it (labelling an unlabelled plan, and reclaiming objects edited by hand, copy it).
pub async fn run(
    cluster: &Cluster,
    mut plan: Cow<'_, Plan>,
    values: &BTreeMap<String, ModuleValues>,
    opts: &DeployOptions,
    events: mpsc::UnboundedSender<Event>,
    cancel: CancellationToken,
) -> Result<DeployResult, ActionError> {
    let dry_run = opts.settings.dry_run;
    if !plan.labelled {
        inventory::label_plan(plan.to_mut());
    }
    // A deploy that changes nothing (the operator's resync, a CI job run again) is answered from reads:
    // no lock, no write. Anything else — a module changed, drifted or unhealthy, an inventory another run
    // is writing (not complete) — goes the locked way below and reads again under the lock.
    if !dry_run
        && !opts.reapply
        && opts.refused.is_empty()
        && !changes_by_last_read(cluster, &plan, values, opts).await
        && let Some(done) = unchanged_unlocked(cluster, &plan, values, opts, &events, &cancel).await?
    {
        return Ok(done);
    }
    cluster.throttle.hold();
    let (lock, unlocked) = if dry_run {
        (None, None)
    } else {
        let acquired = tokio::select! {
            r = Lock::acquire(cluster, opts.wait_for_lock) => r,
            _ = cancel.cancelled() => {
                cluster.throttle.release();
                return Err(ActionError::InterruptedWaitingForLock);
            }
        };
        match acquired {
            Ok(lock) => (Some(lock), None),
            Err(e @ LockError::NoLeases) => (None, Some(e.to_string())),
            Err(e) => {
                cluster.throttle.release();
                return Err(e.into());
            }
        }
    };
    let stop = stop_on_loss(&cancel, lock.as_ref());
    let mut result = deploy_locked(
        cluster,
        plan,
        values,
        opts,
        events,
        stop.token.clone(),
        lock.as_ref(),
    )
    .await;
    drop(stop);
    cluster.throttle.release();
    if let Some(lock) = lock {
        lock.release().await;
    }
    if let (Ok(r), Some(note)) = (&mut result, unlocked) {
        r.warnings.insert(0, note);
    }
    result
}

/// Every module unchanged by its inventory's account, and the cluster agreeing (one LIST per kind finds
/// every member as recorded): the outcome of skipping them all, without the lock. `None` when anything
/// would be applied.
async fn unchanged_unlocked(
    cluster: &Cluster,
    plan: &Plan,
    values: &BTreeMap<String, ModuleValues>,
    opts: &DeployOptions,
    events: &mpsc::UnboundedSender<Event>,
    cancel: &CancellationToken,
) -> Result<Option<DeployResult>, ActionError> {
    let existing = inventories_by_module(cluster).await?;
    let d = decide(plan, values, opts, |m| existing.get(m));
    if d.unchanged.len() != plan.modules.len() {
        return Ok(None);
    }
    let findings = unchanged::confirm(
        cluster,
        plan,
        &d.unchanged_renders(),
        opts.settings.concurrency.min(CONFIRM_AT_ONCE),
    )
    .await;
    if !findings.is_empty() {
        return Ok(None);
    }
    let outcome = engine::run(
        cluster,
        plan,
        opts.settings.clone(),
        d.presets,
        events.clone(),
        cancel.clone(),
    )
    .await;
    Ok(Some(DeployResult {
        outcome,
        changes: d.changes,
        pruned: BTreeMap::new(),
        warnings: d.warnings,
    }))
}

/// Whether the inventories as this connection last read them (the operator's, kept across resyncs)
/// already show that the plan changes a module: then a change (a new spec) goes straight to the lock,
/// without reading them once more on the way. Only a hint: the locked way reads them again.
async fn changes_by_last_read(
    cluster: &Cluster,
    plan: &Plan,
    values: &BTreeMap<String, ModuleValues>,
    opts: &DeployOptions,
) -> bool {
    let Some(last) = inventory::last_read(cluster).await else {
        return false;
    };
    let recorded = |m: &str| last.iter().find(|i| i.module == m);
    decide(plan, values, opts, recorded).unchanged.len() != plan.modules.len()
}

/// The cluster's inventories, by module.
async fn inventories_by_module(cluster: &Cluster) -> Result<HashMap<String, Inventory>, ActionError> {
    Ok(inventory::read_all(cluster)
        .await?
        .into_iter()
        .map(|i| (i.module.clone(), i))
        .collect())
}

/// How many of the unchanged check's reads go at once. The rest of the bookkeeping goes one request at
/// a time (see `Throttle`); these reads (one LIST per kind for all unchanged modules) go a few at a
/// time: one at a time, 10 modules of ~15 kinds pay a round trip each in a row; all at once, kube's
/// HTTP/1.1 pool opens a TLS connection per request. A few at a time reuses a few connections. On a
/// server that throttles, its first 429 makes every request serial again anyway.
const CONFIRM_AT_ONCE: usize = 6;

/// The engine's stop token: cancelled by an interrupt or by the loss of the lock, whichever comes
/// first. Dropping it ends the forwarding.
pub(super) struct StopOnLoss {
    pub token: CancellationToken,
    forward: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for StopOnLoss {
    fn drop(&mut self) {
        if let Some(f) = &self.forward {
            f.abort();
        }
    }
}

pub(super) fn stop_on_loss(cancel: &CancellationToken, lock: Option<&Lock>) -> StopOnLoss {
    let token = cancel.child_token();
    let forward = lock.map(|l| {
        let (lost, token) = (l.lost.clone(), token.clone());
        tokio::spawn(async move {
            lost.cancelled().await;
            token.cancel();
        })
    });
    StopOnLoss { token, forward }
}

/// Before each write of its own (inventories, prune): is the lock still ours?
pub(super) fn still_ours(lock: Option<&Lock>) -> Result<(), ActionError> {
    match lock {
        Some(l) if l.lost.is_cancelled() => {
            Err(ActionError::LockLost(l.lost_reason().unwrap_or(Lost::NotRenewed)))
        }
        _ => Ok(()),
    }
}

async fn deploy_locked(
    cluster: &Cluster,
    mut plan: Cow<'_, Plan>,
    values: &BTreeMap<String, ModuleValues>,
    opts: &DeployOptions,
    events: mpsc::UnboundedSender<Event>,
    cancel: CancellationToken,
    lock: Option<&Lock>,
) -> Result<DeployResult, ActionError> {
    let dry_run = opts.settings.dry_run;
    let existing = inventories_by_module(cluster).await?;
    let decisions = decide(&plan, values, opts, |m| existing.get(m));
    let unchanged = decisions.unchanged_renders();
    let Decisions {
        mut presets,
        changes,
        warnings,
        mut inventories,
        ..
    } = decisions;
    if !dry_run {
        record_manifests(&plan, &mut inventories);
    }
    let restored = confirm_unchanged(
        cluster,
        &mut plan,
        &unchanged,
        opts.settings.concurrency,
        &mut presets,
    )
    .await;

    if !opts.adopt {
        check_ownership(cluster, &plan, &existing, &mut presets).await;
    }
    check_stored_versions(cluster, &plan, &mut presets).await;

    // Record the union of old and new members before anything is applied: an interrupted run can then
    // always find (and later prune) everything it may have touched.
    let mut stored = HashMap::new();
    if !dry_run {
        let unions = unions(&inventories, &presets, &existing);
        still_ours(lock)?;
        stored = write_all(cluster, &unions).await?;
    }

    let mut outcome = engine::run(
        cluster,
        &plan,
        opts.settings.clone(),
        presets.clone(),
        events,
        cancel,
    )
    .await;
    for (mi, objects) in restored {
        outcome.modules[mi].restored = objects;
    }
    // Whoever holds the lock now owns the cluster's state: no prune, no inventory from this run.
    still_ours(lock)?;

    let pruned = if dry_run {
        BTreeMap::new()
    } else {
        let done = Done {
            outcome: &outcome,
            presets: &presets,
            inventories: &inventories,
            existing: &existing,
            stored: &stored,
        };
        prune_and_record(cluster, lock, opts, done).await?
    };
    Ok(DeployResult {
        outcome,
        changes,
        pruned,
        warnings,
    })
}

/// What a deploy decides for each module from its plan and its inventory, before the cluster is asked.
struct Decisions {
    /// Skip (unchanged by the inventory's account) or refuse, per module; `None` goes to the engine.
    presets: Vec<Option<Preset>>,
    changes: Vec<VersionChange>,
    warnings: Vec<String>,
    /// The inventory each module records once it is done; `None` for a refused module.
    inventories: Vec<Option<Inventory>>,
    /// Modules unchanged by their inventories' account: skipped only if the cluster agrees.
    unchanged: Vec<usize>,
}

impl Decisions {
    /// The unchanged modules with the manifest hash each renders (the same as its inventory's).
    fn unchanged_renders(&self) -> Vec<unchanged::Unchanged> {
        self.unchanged
            .iter()
            .map(|&m| {
                let hash = self.inventories[m].as_ref().map(|i| i.manifest_hash.clone());
                (m, hash.unwrap_or_default())
            })
            .collect()
    }
}

/// `existing`: a module's inventory, by module name.
fn decide<'a>(
    plan: &Plan,
    values: &BTreeMap<String, ModuleValues>,
    opts: &DeployOptions,
    existing: impl Fn(&str) -> Option<&'a Inventory>,
) -> Decisions {
    let n = plan.modules.len();
    let mut d = Decisions {
        presets: vec![None; n],
        changes: Vec::new(),
        warnings: Vec::new(),
        inventories: vec![None; n],
        unchanged: Vec::new(),
    };
    for (mi, m) in plan.modules.iter().enumerate() {
        if let Some(r) = opts.refused.get(&m.name) {
            d.presets[mi] = Some(Preset::Refuse {
                object: r.object.clone(),
                reason: r.reason.clone(),
                origin: r.origin.clone(),
            });
            continue;
        }
        let inv = new_inventory(plan, mi, values);
        let prev = existing(&m.name);
        if let Some(change) = version_change(&m.name, prev, &m.version) {
            if change.downgrade {
                d.warnings.push(format!(
                    "{}: downgrade {} → {}",
                    m.name,
                    change.from.as_deref().unwrap_or("-"),
                    m.version
                ));
            }
            d.changes.push(change);
        }
        match prev.and_then(|p| preset_against(p, &inv, opts)) {
            Some(Preset::Skip) => {
                d.presets[mi] = Some(Preset::Skip);
                d.unchanged.push(mi);
            }
            Some(refused) => {
                d.presets[mi] = Some(refused);
                continue;
            }
            None => {}
        }
        d.inventories[mi] = Some(inv);
    }
    d
}

/// The nodes of module `mi` in the order its inventory records them.
fn recorded_order(plan: &Plan, mi: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = plan.nodes_of(mi).map(|(i, _)| i).collect();
    idx.sort_by_key(|&i| plan.priority(i));
    idx
}

/// The objects each inventory to be written records, compressed from the plan only on the way that
/// writes (a resync that finds everything unchanged records none).
fn record_manifests(plan: &Plan, inventories: &mut [Option<Inventory>]) {
    for (mi, inv) in inventories.iter_mut().enumerate() {
        if let Some(inv) = inv {
            inv.manifest = inventory::Manifest::record(
                recorded_order(plan, mi)
                    .into_iter()
                    .map(|i| &plan.nodes[i].object.data),
            );
        }
    }
}

/// Module `mi`'s manifest hash: taken for every module at the first ask, then kept with the plan.
fn manifest_hash(plan: &Plan, mi: usize) -> String {
    let hashes = plan
        .manifest_hashes
        .get_or_init(|| (0..plan.modules.len()).map(|m| hash_now(plan, m)).collect());
    hashes[mi].clone()
}

/// Module `mi`'s manifest hash from its objects as they are now.
fn hash_now(plan: &Plan, mi: usize) -> String {
    let objects = recorded_order(plan, mi)
        .into_iter()
        .map(|i| &plan.nodes[i].object.data);
    inventory::manifest_hash(&plan.modules[mi].version, objects)
}

/// The inventory module `mi` records for this plan and these values (not yet complete; its manifest is
/// filled in by `record_manifests` before it is written).
fn new_inventory(plan: &Plan, mi: usize, values: &BTreeMap<String, ModuleValues>) -> Inventory {
    let m = &plan.modules[mi];
    let idx = recorded_order(plan, mi);
    let manifest_hash = manifest_hash(plan, mi);
    let values_hash = inventory::hash_json(
        &serde_json::to_value(values.get(&m.name).map(|v| (&v.values, &v.global))).unwrap_or_default(),
    );
    let members: Vec<Member> = idx
        .iter()
        .map(|&i| Member::of(&plan.nodes[i].object, plan.nodes[i].implicit))
        .collect();
    Inventory {
        module: m.name.clone(),
        version: m.version.clone(),
        values_hash,
        manifest_hash,
        deployed_at: now(),
        complete: false,
        depends_on: m.depends_on.clone(),
        members,
        manifest: inventory::Manifest::default(),
        parts: None,
    }
}

/// The version change of a module against its inventory, if its version changes.
fn version_change(module: &str, prev: Option<&Inventory>, to: &str) -> Option<VersionChange> {
    let from = prev.map(|p| p.version.clone());
    if from.as_deref() == Some(to) {
        return None;
    }
    let downgrade = match (
        from.as_deref().and_then(|f| semver::Version::parse(f).ok()),
        semver::Version::parse(to).ok(),
    ) {
        (Some(f), Some(t)) => t < f,
        _ => false,
    };
    Some(VersionChange {
        module: module.to_string(),
        from,
        to: to.to_string(),
        downgrade,
    })
}

/// A module with an inventory `prev`: skipped when nothing changed by the inventory's account, refused
/// when it would now render nothing while recorded objects exist (unless `--allow-empty`).
fn preset_against(prev: &Inventory, new: &Inventory, opts: &DeployOptions) -> Option<Preset> {
    // A member a prune had to keep (it could not be read, say) is still recorded: the run goes
    // ahead so the prune is tried again. CRDs kept by policy do not count.
    let leftovers = prev
        .members
        .iter()
        .any(|pm| !new.members.iter().any(|m| m.same_object(pm)) && (opts.prune_crds || !pm.is_crd()));
    if prev.complete
        && prev.manifest_hash == new.manifest_hash
        && !leftovers
        && !opts.reapply
        && !opts.settings.dry_run
    {
        return Some(Preset::Skip);
    }
    let real_members = new.members.iter().filter(|m| !m.shared).count();
    if real_members == 0 && prev.members.iter().any(|m| !m.shared) && !opts.allow_empty {
        return Some(Preset::Refuse {
            object: format!("module {}", new.module),
            reason: format!(
                "renders no objects while {} recorded object(s) exist; refusing to prune them all (pass --allow-empty if that is what you want)",
                prev.members.len()
            ),
            origin: new.module.clone(),
        });
    }
    None
}

/// The inventories to record before anything is applied: each module's new members plus its old ones.
fn unions(
    inventories: &[Option<Inventory>],
    presets: &[Option<Preset>],
    existing: &HashMap<String, Inventory>,
) -> Vec<Inventory> {
    inventories
        .iter()
        .enumerate()
        .filter(|(mi, _)| presets[*mi].is_none())
        .filter_map(|(_, inv)| inv.clone())
        .map(|mut union| {
            if let Some(p) = existing.get(&union.module) {
                union.parts = p.parts.clone();
                for m in &p.members {
                    if !union.members.iter().any(|n| n.same_object(m)) {
                        union.members.push(m.clone());
                    }
                }
            }
            union
        })
        .collect()
}

/// A finished engine run and what it was started with.
struct Done<'a> {
    outcome: &'a Outcome,
    presets: &'a [Option<Preset>],
    inventories: &'a [Option<Inventory>],
    existing: &'a HashMap<String, Inventory>,
    /// The part Secrets each module's union write left, by module.
    stored: &'a HashMap<String, Vec<inventory::StoredPart>>,
}

/// After the engine: every module that became ready (or applied) has its stale members pruned and its
/// exact inventory recorded; the others keep the union inventory until a run completes.
async fn prune_and_record(
    cluster: &Cluster,
    lock: Option<&Lock>,
    opts: &DeployOptions,
    done: Done<'_>,
) -> Result<BTreeMap<String, DeleteReport>, ActionError> {
    let mut pruned = BTreeMap::new();
    let mut exact_inventories = Vec::new();
    for (mi, r) in done.outcome.modules.iter().enumerate() {
        let Some(inv) = &done.inventories[mi] else {
            continue;
        };
        if done.presets[mi].is_some() || !matches!(r.state, ModuleState::Ready | ModuleState::Applied) {
            continue; // the union inventory stays until a run completes
        }
        let mut exact = Inventory {
            parts: done.stored.get(&inv.module).cloned(),
            ..inv.clone()
        };
        if let Some(prev) = done.existing.get(&inv.module) {
            let stale: Vec<Member> = prev
                .members
                .iter()
                .filter(|m| !inv.members.iter().any(|n| n.same_object(m)))
                .cloned()
                .collect();
            let stale = drop_shared_in_use(stale, done.existing, &inv.module);
            if !stale.is_empty() {
                still_ours(lock)?;
                let report = prune(cluster, &stale, inv, opts).await;
                let deleted: HashSet<&ObjectKey> = report.deleted.iter().collect();
                // What could not or should not be deleted stays recorded, so nothing is orphaned.
                exact
                    .members
                    .extend(stale.iter().filter(|m| !deleted.contains(&m.key())).cloned());
                pruned.insert(inv.module.clone(), report);
            }
        }
        exact.complete = true;
        exact_inventories.push(exact);
    }
    still_ours(lock)?;
    write_all(cluster, &exact_inventories).await?;
    Ok(pruned)
}

/// Delete a module's members that this version no longer renders (CRDs only with `--prune-crds`).
async fn prune(cluster: &Cluster, stale: &[Member], inv: &Inventory, opts: &DeployOptions) -> DeleteReport {
    delete_members(
        cluster,
        stale,
        &[inv.id()],
        &DeleteOptions {
            crds: if opts.prune_crds {
                CrdPolicy::Always
            } else {
                CrdPolicy::Keep
            },
            remove_finalizers: false,
            timeout: opts.settings.timeout,
        },
    )
    .await
}

/// Modules that look unchanged by their inventories keep their `Skip` only when the cluster shows every
/// object as applied and healthy; the others go through the engine again, and an object another manager
/// edited is reclaimed (its fields are kyma's: the same manifest put them there). What a re-apply puts
/// back (missing or edited objects) is returned per module, for the report.
async fn confirm_unchanged(
    cluster: &Cluster,
    plan: &mut Cow<'_, Plan>,
    modules: &[unchanged::Unchanged],
    concurrency: usize,
    presets: &mut [Option<Preset>],
) -> BTreeMap<usize, Vec<Restored>> {
    cluster.throttle.release();
    let findings = unchanged::confirm(cluster, plan, modules, concurrency.min(CONFIRM_AT_ONCE)).await;
    cluster.throttle.hold();
    let mut restored = BTreeMap::new();
    for (mi, findings) in findings {
        presets[mi] = None;
        let mut put_back = Vec::new();
        for (node, key, finding) in findings.into_iter().filter(|(_, _, f)| f.restores()) {
            // The only change a deploy makes to its plan: a borrowed one is copied for it (drift is rare).
            let reclaim = matches!(finding, unchanged::Finding::Changed(_));
            if plan.nodes[node].reclaim != reclaim {
                plan.to_mut().nodes[node].reclaim = reclaim;
            }
            put_back.push(Restored {
                object: key.to_string(),
                drift: finding.to_string(),
            });
        }
        if !put_back.is_empty() {
            restored.insert(mi, put_back);
        }
    }
    restored
}

/// Write inventories concurrently: they are independent objects. The part Secrets each left, by module.
async fn write_all(
    cluster: &Cluster,
    invs: &[Inventory],
) -> Result<HashMap<String, Vec<inventory::StoredPart>>, ActionError> {
    let written = futures::future::join_all(invs.iter().map(|inv| inventory::write(cluster, inv))).await;
    let mut stored = HashMap::new();
    for (inv, r) in invs.iter().zip(written) {
        let parts = r.map_err(|source| ActionError::InventoryWrite {
            module: inv.module.clone(),
            source: Box::new(source),
        })?;
        stored.insert(inv.module.clone(), parts);
    }
    Ok(stored)
}

/// A shared (implicit) namespace stays while another module's inventory still lists it.
pub fn drop_shared_in_use(
    members: Vec<Member>,
    all: &HashMap<String, Inventory>,
    module: &str,
) -> Vec<Member> {
    members
        .into_iter()
        .filter(|m| {
            !m.shared
                || !all
                    .iter()
                    .any(|(name, inv)| name != module && inv.members.iter().any(|o| o.same_object(m)))
        })
        .collect()
}

/// Refuse modules that would take over objects owned by another tool (another ApplySet, a Helm
/// release, a kapp app). One LIST per kind and existing namespace, not one GET per object.
async fn check_ownership(
    cluster: &Cluster,
    plan: &Plan,
    existing: &HashMap<String, Inventory>,
    presets: &mut [Option<Preset>],
) {
    let gvs = plan.api_versions().chain(["v1".to_string()]);
    cluster.discovery.ensure(cluster, gvs).await;
    // Every object already recorded as the module's (a change to an installed module): nothing to
    // adopt, and the namespaces are not listed.
    if adoption_candidates(plan, existing, presets, None).is_empty() {
        return;
    }
    let live_namespaces = live_namespaces(cluster).await;
    let groups = adoption_candidates(plan, existing, presets, live_namespaces.as_ref());
    let lists = futures::future::join_all(groups.keys().map(|(av, kind, ns)| async move {
        match cluster.discovery.resolve(av, kind) {
            Some(r) => cluster.list(&r, ns.as_deref(), None).await,
            None => Ok(vec![]), // not served yet: nothing of it can exist
        }
    }))
    .await;
    for ((_, nodes), items) in groups.iter().zip(lists) {
        match items {
            Ok(items) => refuse_foreign_owned(plan, nodes, &items, presets),
            // Ownership that cannot be checked is not assumed: the module is refused, and says why.
            Err(e) => refuse_unchecked(plan, nodes, &e, presets),
        }
    }
}

/// Namespaces that exist; `None` when they cannot be listed, and then every object is checked.
async fn live_namespaces(cluster: &Cluster) -> Option<HashSet<String>> {
    let ns_resource = cluster.discovery.resolve("v1", "Namespace")?;
    cluster.list(&ns_resource, None, None).await.ok().map(|list| {
        list.iter()
            .filter_map(|n| {
                n.pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect()
    })
}

/// The objects a deploy could adopt, by (apiVersion, kind, namespace): not recorded as the module's
/// own yet, and in a namespace that exists.
fn adoption_candidates(
    plan: &Plan,
    existing: &HashMap<String, Inventory>,
    presets: &[Option<Preset>],
    live_namespaces: Option<&HashSet<String>>,
) -> BTreeMap<(String, String, Option<String>), Vec<usize>> {
    let mut groups: BTreeMap<(String, String, Option<String>), Vec<usize>> = BTreeMap::new();
    for (i, n) in plan.nodes.iter().enumerate() {
        if presets[n.module].is_some() || n.implicit {
            continue;
        }
        let module = &plan.modules[n.module].name;
        let member = Member::of(&n.object, false);
        if existing
            .get(module)
            .is_some_and(|inv| inv.members.iter().any(|m| m.same_object(&member)))
        {
            continue; // ours already
        }
        if let (Some(ns), Some(live)) = (n.object.namespace(), live_namespaces)
            && !live.contains(ns)
        {
            continue; // a namespace that does not exist holds nothing to adopt
        }
        groups
            .entry((
                n.object.api_version().to_string(),
                n.object.kind().to_string(),
                n.object.namespace().map(str::to_string),
            ))
            .or_default()
            .push(i);
    }
    groups
}

/// Refuse the module of each node whose live object (in `items`) belongs to another tool.
fn refuse_foreign_owned(plan: &Plan, nodes: &[usize], items: &[Value], presets: &mut [Option<Preset>]) {
    let by_name: HashMap<&str, &Value> = items
        .iter()
        .filter_map(|o| Some((o.pointer("/metadata/name")?.as_str()?, o)))
        .collect();
    for &i in nodes {
        let n = &plan.nodes[i];
        if presets[n.module].is_some() {
            continue;
        }
        let Some(live) = by_name.get(n.object.name()) else {
            continue;
        };
        let module = &plan.modules[n.module].name;
        if let Some(owner) = inventory::foreign_owner(live, &inventory::applyset_id(module)) {
            presets[n.module] = Some(Preset::Refuse {
                object: n.object.key().to_string(),
                reason: format!("refusing to adopt it: it belongs to {owner}; pass --adopt to take it over"),
                origin: n.object.origin.to_string(),
            });
        }
    }
}

/// Refuse the module of each node whose kind could not be listed: who owns it is unknown.
fn refuse_unchecked(plan: &Plan, nodes: &[usize], e: &dyn std::fmt::Display, presets: &mut [Option<Preset>]) {
    for &i in nodes {
        let n = &plan.nodes[i];
        if presets[n.module].is_none() {
            presets[n.module] = Some(Preset::Refuse {
                object: n.object.key().to_string(),
                reason: format!(
                    "cannot check who owns it (listing {} failed: {e}); nothing of the module was applied, re-run with the rights to list it or pass --adopt",
                    n.object.kind()
                ),
                origin: n.object.origin.to_string(),
            });
        }
    }
}

/// A CRD upgrade that drops a version the cluster still stores objects in (`status.storedVersions`) is
/// refused by the server, and the module's custom resources with it. Find that before anything of the
/// module is applied, and say what to do. A CRD that cannot be read is not guessed about: its module
/// stops too.
async fn check_stored_versions(cluster: &Cluster, plan: &Plan, presets: &mut [Option<Preset>]) {
    let Some(crds) = cluster
        .discovery
        .resolve("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    else {
        return;
    };
    let candidates: Vec<usize> = plan
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.object.is_crd() && presets[n.module].is_none())
        .map(|(i, _)| i)
        .collect();
    let lives = futures::future::join_all(
        candidates
            .iter()
            .map(|&i| cluster.get(&crds, None, plan.nodes[i].object.name())),
    )
    .await;
    for (&i, live) in candidates.iter().zip(lives) {
        let n = &plan.nodes[i];
        if presets[n.module].is_some() {
            continue;
        }
        let refuse = |reason: String| Preset::Refuse {
            object: n.object.key().to_string(),
            reason,
            origin: n.object.origin.to_string(),
        };
        let live = match live {
            Ok(Some(l)) => l,
            Ok(None) => continue,
            Err(e) => {
                presets[n.module] = Some(refuse(format!(
                    "cannot read the live CRD to check its stored versions: {e}"
                )));
                continue;
            }
        };
        let new_versions: HashSet<&str> = n
            .object
            .data
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.get("name").and_then(Value::as_str))
            .collect();
        let dropped: Vec<&str> = live
            .pointer("/status/storedVersions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|v| !new_versions.contains(v))
            .collect();
        if !dropped.is_empty() {
            let list = dropped.join(", ");
            presets[n.module] = Some(refuse(format!(
                "this version of the module drops {list} from the CRD, but the cluster still stores objects as {list} \
                 (status.storedVersions); the server would refuse the CRD. Migrate the stored objects to a version the \
                 new CRD serves (e.g. kube-storage-version-migrator), remove {list} from the CRD's status.storedVersions, \
                 then deploy again — or upgrade through the module version that migrates them"
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{Object, Origin, Scope};
    use crate::render::Rendered;
    use serde_json::json;

    fn plan() -> Plan {
        let rendered = ["a", "b"]
            .map(|m| Rendered {
                module: m.into(),
                version: "1.0.0".into(),
                namespace: None,
                objects: vec![Object {
                    data: json!({"apiVersion": "v1", "kind": "ConfigMap",
                                 "metadata": {"name": format!("{m}-cm"), "namespace": "ns"}, "data": {"k": m}}),
                    origin: Origin {
                        module: m.into(),
                        file: "f".into(),
                        doc: 1,
                    },
                    scope: Scope::Namespaced,
                    module_cr: false,
                }],
            })
            .into();
        crate::plan::build(rendered, &BTreeMap::new())
    }

    #[test]
    fn a_kept_manifest_hash_is_the_one_its_objects_hash_to_and_labelling_takes_it_again() {
        let mut p = plan();
        let unlabelled = manifest_hash(&p, 1);
        assert_eq!(unlabelled, hash_now(&p, 1));
        inventory::label_plan(&mut p);
        let labelled = manifest_hash(&p, 1);
        assert_ne!(unlabelled, labelled, "the labels are part of what is recorded");
        assert_eq!(labelled, hash_now(&p, 1));
        assert_eq!(manifest_hash(&p, 0), hash_now(&p, 0));
        let copy = p.clone();
        assert_eq!(manifest_hash(&copy, 1), labelled, "a copy carries it");
    }
}

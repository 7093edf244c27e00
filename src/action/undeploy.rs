//! Removing modules: only their recorded members, in reverse order, with the same guards as prune.

use std::collections::HashMap;

use super::ActionError;
use super::delete::{CrdPolicy, DeleteOptions, DeleteReport, delete_members};
use super::request::UndeployRequest;
use crate::cluster::Cluster;
use crate::object::ObjectKey;
use crate::store::inventory::{self, Inventory, Member};
use crate::store::lock::{Lock, LockError, Lost};

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UndeployResult {
    pub modules: Vec<(String, DeleteReport)>,
    pub warnings: Vec<String>,
}

impl UndeployResult {
    pub fn complete(&self) -> bool {
        self.modules.iter().all(|(_, r)| r.complete())
    }
    /// The server refused to delete something: no wait would change that.
    pub fn refused(&self) -> bool {
        self.modules.iter().any(|(_, r)| !r.refused.is_empty())
    }
}

pub async fn run(
    cluster: &Cluster,
    opts: &UndeployRequest,
    cancel: tokio_util::sync::CancellationToken,
) -> Result<UndeployResult, ActionError> {
    let acquired = tokio::select! {
        r = Lock::acquire(cluster, opts.wait_for_lock) => r,
        _ = cancel.cancelled() => return Err(ActionError::InterruptedWaitingForLock),
    };
    let (lock, unlocked) = match acquired {
        Ok(lock) => (Some(lock), None),
        Err(e @ LockError::NoLeases) => (None, Some(e.to_string())),
        Err(e) => return Err(e.into()),
    };
    // Interrupted: stop where we are. Inventories go only after their members are gone, so a re-run
    // finds everything not yet deleted still recorded; the lock is released for it.
    // Lost lock: another run may be deploying now; not one more delete from this one.
    let lost = lock.as_ref().map(|l| l.lost.clone()).unwrap_or_default();
    let result = tokio::select! {
        biased;
        _ = lost.cancelled() => Err(ActionError::LockLost(
            lock.as_ref().and_then(Lock::lost_reason).unwrap_or(Lost::NotRenewed),
        )),
        _ = cancel.cancelled() => Err(ActionError::Interrupted),
        r = undeploy_locked(cluster, opts, lock.as_ref()) => r,
    };
    let cleanup = matches!(&result, Ok(r) if r.complete());
    // Nothing of kyma's may stay behind once the last module is gone: not even its own namespace. That
    // is decided and done while the lock is still held — a deploy waiting for the lock must not find
    // the namespace going away under its inventory writes. The Lease is then released at once (deleted:
    // a delete works in a terminating namespace); the waiting deploy's create is refused while the namespace
    // terminates, and it waits for the namespace and recreates both.
    if cleanup
        && super::deploy::still_ours(lock.as_ref()).is_ok()
        && let Ok(left) = inventory::read_all(cluster).await
        && left.is_empty()
        && let Some(ns) = cluster.discovery.resolve("v1", "Namespace")
    {
        let _ = cluster.delete(&ns, None, inventory::NAMESPACE).await;
    }
    if let Some(lock) = lock {
        lock.release().await;
    }
    let mut result = result;
    if let (Ok(r), Some(note)) = (&mut result, unlocked) {
        r.warnings.insert(0, note);
    }
    result
}

async fn undeploy_locked(
    cluster: &Cluster,
    opts: &UndeployRequest,
    lock: Option<&Lock>,
) -> Result<UndeployResult, ActionError> {
    let all: HashMap<String, Inventory> = inventory::read_all(cluster)
        .await?
        .into_iter()
        .map(|i| (i.module.clone(), i))
        .collect();
    let targets = chosen(opts, &all)?;
    let warnings = dependents(&all, &targets);
    if !warnings.is_empty() && !opts.force {
        return Err(ActionError::DependedOn(warnings));
    }
    let members = members_of(&all, &targets);
    if !opts.force && !opts.prune_crds {
        refuse_foreign_resources(cluster, &members).await?;
    }
    let ids: Vec<String> = targets.iter().map(|t| all[t].id()).collect();
    let report = delete_members(
        cluster,
        &members,
        &ids,
        &DeleteOptions {
            crds: if opts.prune_crds {
                CrdPolicy::Always
            } else {
                CrdPolicy::IfUnused
            },
            remove_finalizers: opts.remove_finalizers,
            timeout: opts.timeout,
        },
    )
    .await;
    let mut out = Vec::new();
    for t in &targets {
        let r = report_of(&report, &all[t]);
        // What is still there stays recorded, so a later run (with the rights) finds it.
        if r.complete() {
            super::deploy::still_ours(lock)?;
            inventory::remove(cluster, t)
                .await
                .map_err(|source| ActionError::InventoryWrite {
                    module: t.clone(),
                    source: Box::new(source),
                })?;
        }
        out.push((t.clone(), r));
    }
    Ok(UndeployResult {
        modules: out,
        warnings,
    })
}

/// The modules to remove: every installed one (`--all`, in name order), or those named, each of
/// which must be installed.
fn chosen(opts: &UndeployRequest, all: &HashMap<String, Inventory>) -> Result<Vec<String>, ActionError> {
    let mut installed: Vec<String> = all.keys().cloned().collect();
    installed.sort();
    if opts.all {
        return Ok(installed);
    }
    if let Some(m) = opts.modules.iter().find(|m| !all.contains_key(*m)) {
        return Err(ActionError::NotInstalled {
            module: m.clone(),
            installed,
        });
    }
    Ok(opts.modules.clone())
}

/// Installed modules that stay but list one of `targets` in `dependsOn`, one line each.
fn dependents(all: &HashMap<String, Inventory>, targets: &[String]) -> Vec<String> {
    let mut warnings = Vec::new();
    for (name, inv) in all {
        if targets.contains(name) {
            continue;
        }
        for t in inv.depends_on.iter().filter(|d| targets.contains(d)) {
            warnings.push(format!("{name} (installed) lists {t} in dependsOn"));
        }
    }
    warnings
}

/// Every member of the modules removed, once. Several modules are removed together: their members are
/// deleted in one ordered pass, so custom resources of every module go before any CRD. A shared
/// namespace another (remaining) module lists stays.
fn members_of(all: &HashMap<String, Inventory>, targets: &[String]) -> Vec<Member> {
    let remaining: HashMap<String, Inventory> = all
        .iter()
        .filter(|(n, _)| !targets.contains(n))
        .map(|(n, i)| (n.clone(), i.clone()))
        .collect();
    let mut members: Vec<Member> = Vec::new();
    for t in targets {
        for m in &all[t].members {
            if !members.iter().any(|o| o.same_object(m)) {
                members.push(m.clone());
            }
        }
    }
    super::deploy::drop_shared_in_use(members, &remaining, "")
}

/// The part of one deletion report that concerns the members of `inv`.
fn report_of(report: &DeleteReport, inv: &Inventory) -> DeleteReport {
    let mine = |x: &ObjectKey| inv.members.iter().any(|m| &m.key() == x);
    DeleteReport {
        deleted: report.deleted.iter().filter(|x| mine(x)).cloned().collect(),
        kept: report.kept.iter().filter(|(x, _)| mine(x)).cloned().collect(),
        stuck: report.stuck.iter().filter(|(x, _)| mine(x)).cloned().collect(),
        refused: report.refused.iter().filter(|(x, _)| mine(x)).cloned().collect(),
    }
}

/// Kyma's rule for removing a module: its manager goes only when no custom resource of the module's
/// kinds is left that kyma did not create (the user's workloads of those kinds would be left without
/// the operator that owns their finalizers). Found before anything is removed; a check that cannot be
/// made refuses too.
async fn refuse_foreign_resources(cluster: &Cluster, members: &[Member]) -> Result<(), ActionError> {
    let deleting: std::collections::HashSet<ObjectKey> = members.iter().map(Member::key).collect();
    let crds: Vec<&Member> = members.iter().filter(|m| m.is_crd()).collect();
    if crds.is_empty() {
        return Ok(());
    }
    cluster
        .discovery
        .ensure(cluster, ["apiextensions.k8s.io/v1".to_string()])
        .await;
    let Some(r) = cluster
        .discovery
        .resolve("apiextensions.k8s.io/v1", "CustomResourceDefinition")
    else {
        return Ok(());
    };
    let mut problems = Vec::new();
    for m in crds {
        let live = match cluster.get(&r, None, &m.name).await {
            Ok(Some(l)) => l,
            Ok(None) => continue,
            Err(e) => {
                problems.push(format!(
                    "cannot read CRD {} to check for resources of its kind ({e})",
                    m.name
                ));
                continue;
            }
        };
        match super::delete::foreign_resources(cluster, &live, &deleting).await {
            Ok(others) if others.is_empty() => {}
            Ok(others) => problems.push(format!(
                "{}{}",
                others[..others.len().min(3)].join(", "),
                if others.len() > 3 {
                    format!(" and {} more", others.len() - 3)
                } else {
                    String::new()
                }
            )),
            Err(e) => problems.push(format!(
                "cannot check CRD {} for resources of its kind ({e})",
                m.name
            )),
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(ActionError::ForeignResources(problems))
}

//! The reconcile of one `Kyma` object: parse its spec, keep the finalizer, undeploy what left the spec
//! (or everything, when the object is deleted), deploy the rest, and write the status.

use std::sync::Arc;
use std::time::Duration;

use kube::api::DynamicObject;
use kube::runtime::controller::Action;
use serde_json::{Value, json};

use super::api::{FINALIZER, KymaSpec};
use super::status::{self, reason_of};
use super::{Ctx, ReconcileError};
use crate::exit::{Exit, Failure};

pub(super) fn key_of(obj: &DynamicObject) -> String {
    format!(
        "{}/{}",
        obj.metadata.namespace.as_deref().unwrap_or(""),
        obj.metadata.name.as_deref().unwrap_or("")
    )
}

/// What of a `Kyma` object asks for a reconcile when it changes: its spec (the generation), its
/// deletion, its labels and annotations (`kubectl annotate` is how one asks for a reconcile now). Not
/// its status: the operator writes it after every reconcile that changed something, and reading that
/// back ran the unchanged check (8 requests to the target cluster) once or twice after each change — at
/// a thousand workspaces almost as much as the change itself. Not its finalizers: the operator adds its
/// own in the reconcile that goes on to deploy. A resync still comes on time whatever is filtered here.
pub(super) fn asks_for_work(obj: &DynamicObject) -> Option<u64> {
    use std::hash::{Hash as _, Hasher as _};
    let meta = &obj.metadata;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (
        meta.generation,
        meta.deletion_timestamp.is_some(),
        &meta.labels,
        &meta.annotations,
    )
        .hash(&mut h);
    Some(h.finish())
}

/// On failure: back off per object (2 s, 4 s, … up to 5 min), never a fixed poll.
pub(super) fn error_policy(obj: Arc<DynamicObject>, e: &ReconcileError, ctx: Arc<Ctx>) -> Action {
    let key = key_of(&obj);
    let n = {
        let mut f = ctx.failures.lock().unwrap();
        let n = f.entry(key.clone()).or_insert(0);
        *n += 1;
        *n
    };
    let wait = backoff(n);
    tracing::warn!(kyma = %key, retry_in = %humantime::format_duration(wait), "{e}; retrying in {}",
        humantime::format_duration(wait));
    Action::requeue(wait)
}

/// The wait after `n` failed reconciles in a row: 2 s, 4 s, 8 s, … never more than 5 minutes.
fn backoff(n: u32) -> Duration {
    Duration::from_secs(2u64.saturating_pow(n.min(9))).min(Duration::from_secs(300))
}

pub(super) async fn reconcile(obj: Arc<DynamicObject>, ctx: Arc<Ctx>) -> Result<Action, ReconcileError> {
    let key = key_of(&obj);
    if !super::shards::mine(&ctx, &key) {
        return Ok(Action::await_change());
    }
    let spec: KymaSpec = match serde_json::from_value(obj.data.get("spec").cloned().unwrap_or(json!({}))) {
        Ok(s) => s,
        Err(e) => {
            status::report(&ctx, &obj, "False", "InvalidSpec", &format!("spec: {e}"), None).await?;
            return Ok(Action::await_change());
        }
    };
    let previous: Vec<String> = obj
        .data
        .pointer("/status/modules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m["name"].as_str().map(str::to_string))
        .collect();
    let finalizers = obj.metadata.finalizers.clone().unwrap_or_default();
    if obj.metadata.deletion_timestamp.is_some() {
        return finalize(&ctx, &obj, &spec, &previous, &finalizers).await;
    }
    if !finalizers.iter().any(|f| f == FINALIZER) {
        let mut all = finalizers.clone();
        all.push(FINALIZER.to_string());
        status::set_finalizers(&ctx, &obj, json!(all)).await?;
    }
    if let Some(message) = spec.refusal() {
        status::report(&ctx, &obj, "False", "InvalidSpec", &message, None).await?;
        return Ok(Action::await_change());
    }
    apply(&ctx, &obj, &spec, &previous).await
}

/// The object is being deleted: undeploy everything it deployed, then let it go.
async fn finalize(
    ctx: &Ctx,
    obj: &DynamicObject,
    spec: &KymaSpec,
    previous: &[String],
    finalizers: &[String],
) -> Result<Action, ReconcileError> {
    if !finalizers.iter().any(|f| f == FINALIZER) {
        return Ok(Action::await_change());
    }
    let key = key_of(obj);
    let target = super::targets::target_of(ctx, spec, obj)
        .await
        .map_err(|f| fail(&f))?;
    if !previous.is_empty() {
        super::request::undeploy(ctx, &target, previous)
            .await
            .map_err(|f| fail(&f))?;
    }
    let rest: Vec<&String> = finalizers.iter().filter(|f| *f != FINALIZER).collect();
    status::set_finalizers(ctx, obj, json!(rest)).await?;
    tracing::info!(kyma = %key, cluster = %target.label, "deleted; undeployed {}", list(previous));
    Ok(Action::await_change())
}

/// Bring the target cluster to the spec: undeploy the modules taken out of it, deploy the rest, and
/// write what came of it.
async fn apply(
    ctx: &Ctx,
    obj: &DynamicObject,
    spec: &KymaSpec,
    previous: &[String],
) -> Result<Action, ReconcileError> {
    let key = key_of(obj);
    let target = match super::targets::target_of(ctx, spec, obj).await {
        Ok(t) => t,
        Err(f) => {
            let message = format!("{:#}", f.error);
            status::report(ctx, obj, "False", reason_of(f.exit), &message, None).await?;
            // A refused or missing kubeconfig does not heal by retrying: the Secret's watch brings the
            // object back when it changes.
            if f.exit == Exit::BadInput {
                return Ok(Action::await_change());
            }
            return Err(fail(&f));
        }
    };
    // A module taken out of the spec is undeployed, with the same guards as `kyma undeploy`.
    let wanted: Vec<&str> = spec.modules.iter().map(|m| m.name.as_str()).collect();
    let removed: Vec<String> = previous
        .iter()
        .filter(|p| !wanted.contains(&p.as_str()))
        .cloned()
        .collect();
    if !removed.is_empty() {
        super::request::undeploy(ctx, &target, &removed)
            .await
            .map_err(|f| fail(&f))?;
        tracing::info!(kyma = %key, cluster = %target.label,
            "undeployed {} (taken out of the spec)", list(&removed));
    }
    if spec.modules.is_empty() {
        status::report(ctx, obj, "True", "Ready", "no modules asked for", Some(vec![])).await?;
        ctx.failures.lock().unwrap().remove(&key);
        return Ok(Action::requeue(spread(ctx.args.resync)));
    }
    // A channel's rollout pins this object's modules: held at the version they have, or let take the
    // channel's new one. Taking it is written down before anything is applied, so a reconcile cut
    // short (a crash, a lost status write) never finds the object back at the old version and held
    // there — it would be downgraded.
    let plan = super::rollouts::pins(ctx, obj).await?;
    if let Some(taking) = plan.taking_message() {
        let modules = plan.status_modules(&status::listed(obj));
        status::report(ctx, obj, "False", "Progressing", &taking, Some(modules)).await?;
    }
    let report = super::request::deploy(ctx, &target, spec, &plan.pins, &key).await;
    let (exit, message, modules) = match &report {
        Ok(r) => (
            r.exit,
            status::summary(&r.json),
            Some(status::modules_of(&r.json, spec, &plan.pins)),
        ),
        // The deploy said nothing of the modules: they stay listed (at the versions being taken, as
        // written before), less those just undeployed (listed, a deletion would try them again and
        // find them gone).
        Err(f) => {
            let kept = plan
                .status_modules(&status::listed(obj))
                .into_iter()
                .filter(|m| !removed.iter().any(|r| m["name"].as_str() == Some(r.as_str())))
                .collect();
            (f.exit, format!("{:#}", f.error), Some(kept))
        }
    };
    let ready = if exit == Exit::Success { "True" } else { "False" };
    status::report(ctx, obj, ready, reason_of(exit), &message, modules).await?;
    match exit {
        Exit::Success => {
            ctx.failures.lock().unwrap().remove(&key);
            Ok(Action::requeue(spread(ctx.args.resync)))
        }
        // Bad input does not heal by retrying: wait for the spec (or a Secret) to change.
        Exit::BadInput => Ok(Action::await_change()),
        _ => Err(ReconcileError(message)),
    }
}

/// The resync, give or take a tenth at random: objects created together (a fleet applied at once)
/// would otherwise come back together every period, a burst on the operator and every cluster.
pub(super) fn spread(resync: Duration) -> Duration {
    let tenth = resync.as_secs_f64() / 10.0;
    Duration::from_secs_f64((resync.as_secs_f64() + (fastrand::f64() * 2.0 - 1.0) * tenth).max(0.0))
}

fn fail(f: &Failure) -> ReconcileError {
    ReconcileError(format!("{:#}", f.error))
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "nothing".into()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn resyncs_spread_a_tenth_either_way() {
        let resync = std::time::Duration::from_secs(60);
        let spread: Vec<f64> = (0..1000).map(|_| super::spread(resync).as_secs_f64()).collect();
        assert!(spread.iter().all(|s| (54.0..=66.0).contains(s)), "{spread:?}");
        let early = spread.iter().filter(|s| **s < 59.0).count();
        let late = spread.iter().filter(|s| **s > 61.0).count();
        assert!(
            early > 100 && late > 100,
            "spread both ways: {early} early, {late} late"
        );
    }

    #[test]
    fn status_and_finalizers_ask_for_nothing_spec_deletion_labels_and_annotations_do() {
        use kube::api::DynamicObject;
        use serde_json::json;
        let base: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "installer.kyma-project.io/v1alpha1", "kind": "Kyma",
            "metadata": {"name": "k", "namespace": "n", "generation": 2, "resourceVersion": "10",
                         "labels": {"team": "a"}},
            "spec": {"modules": [{"name": "web"}]}}))
        .unwrap();
        let with = |change: &dyn Fn(&mut DynamicObject)| {
            let mut o = base.clone();
            change(&mut o);
            super::asks_for_work(&o)
        };
        let before = super::asks_for_work(&base);
        let status = |o: &mut DynamicObject| {
            o.metadata.resource_version = Some("11".into());
            o.data["status"] = json!({"state": "Ready"});
        };
        let finalizer = |o: &mut DynamicObject| {
            o.metadata.finalizers = Some(vec![super::super::api::FINALIZER.into()]);
        };
        assert_eq!(with(&status), before, "a status write asks for nothing");
        assert_eq!(with(&finalizer), before, "our finalizer asks for nothing");
        let spec = |o: &mut DynamicObject| o.metadata.generation = Some(3);
        let deleted = |o: &mut DynamicObject| {
            o.metadata.deletion_timestamp =
                Some(serde_json::from_value(json!("2026-12-01T10:00:00Z")).unwrap());
        };
        let label = |o: &mut DynamicObject| {
            o.metadata.labels = Some([("team".to_string(), "b".to_string())].into());
        };
        let annotation = |o: &mut DynamicObject| {
            o.metadata.annotations = Some([("reconcile".to_string(), "now".to_string())].into());
        };
        for (what, change) in [
            ("spec", &spec as &dyn Fn(&mut DynamicObject)),
            ("deletion", &deleted),
            ("label", &label),
            ("annotation", &annotation),
        ] {
            assert_ne!(with(change), before, "a {what} change asks for a reconcile");
        }
    }

    #[test]
    fn failed_reconciles_back_off_up_to_five_minutes() {
        let secs: Vec<u64> = [1, 2, 3, 8, 9, 30].map(|n| super::backoff(n).as_secs()).into();
        assert_eq!(secs, vec![2, 4, 8, 256, 300, 300]);
    }
}

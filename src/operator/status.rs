//! What the operator writes back to a `Kyma` object: its status (modules, `observedGeneration`, a
//! `Ready` condition) and its finalizers.

use kube::api::DynamicObject;
use serde_json::{Value, json};

use super::api::KymaSpec;
use super::{Ctx, ReconcileError};
use crate::exit::Exit;

/// The condition's reason for how a deploy ended.
pub(super) fn reason_of(exit: Exit) -> &'static str {
    match exit {
        Exit::Success => "Ready",
        Exit::ModuleFailed => "ModuleFailed",
        Exit::BadInput => "InvalidSpec",
        Exit::Timeout => "Progressing",
        Exit::Unreachable => "ClusterUnreachable",
        Exit::Locked => "Locked",
        Exit::Fetch => "CatalogUnavailable",
        Exit::Halted => "RolloutHalted",
        Exit::Interrupted => "Interrupted",
    }
}

/// A line for the condition's message: each module and its state.
pub(super) fn summary(doc: &Value) -> String {
    let parts: Vec<String> = doc["modules"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            format!(
                "{}: {}",
                m["name"].as_str().unwrap_or(""),
                m["state"].as_str().unwrap_or("")
            )
        })
        .collect();
    parts.join(", ")
}

/// The CLI report's facts per module: state, version (and the channel it was resolved from),
/// ready/total, what blocks it.
pub(super) fn modules_of(doc: &Value, spec: &KymaSpec, pins: &super::request::Pins) -> Vec<Value> {
    doc["modules"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            // An unchanged module the cluster confirmed is Ready, in lifecycle-manager's words.
            let state = if m["state"] == "Skipped" {
                json!("Ready")
            } else {
                m["state"].clone()
            };
            let channel = spec
                .modules
                .iter()
                .find(|s| m["name"].as_str() == Some(s.name.as_str()))
                .and_then(|s| spec.channel_of(s));
            let mut facts = json!({
                "name": m["name"],
                "version": m["version"],
                "state": state,
                "ready": m["ready"],
                "total": m["total"],
                "blocking": m["blocking"].as_array().cloned().unwrap_or_default().into_iter()
                    .map(|b| json!({"object": b["object"], "reason": b["reason"]})).collect::<Vec<_>>(),
            });
            // Absent rather than null: a merge patch drops nulls, and the status written must equal
            // the one read back for an unchanged resync to write nothing.
            if let Some(c) = channel {
                facts["channel"] = json!(c);
            }
            if let Some(by) = m["name"].as_str().and_then(|n| pins.get(n)?.held_by.as_ref()) {
                facts["heldBy"] = json!(format!("ChannelRollout {by}"));
            }
            facts
        })
        .collect()
}

/// The status to write: modules, `observedGeneration`, and a `Ready` condition whose transition time
/// moves only when its status does (so `kubectl wait --for=condition=Ready` works as with any object).
pub(super) fn condition_status(
    obj: &DynamicObject,
    generation: i64,
    ready: &str,
    reason: &str,
    message: &str,
    modules: Vec<Value>,
) -> Value {
    let before = obj
        .data
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
        .cloned();
    let since = match &before {
        Some(b) if b["status"] == ready => b["lastTransitionTime"].clone(),
        _ => json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    };
    let state = match (ready, reason) {
        ("True", _) => "Ready",
        (_, "Progressing") => "Processing",
        _ => "Error",
    };
    json!({
        "state": state,
        "observedGeneration": generation,
        "modules": modules,
        "conditions": [{
            "type": "Ready",
            "status": ready,
            "reason": reason,
            "message": message,
            "observedGeneration": generation,
            "lastTransitionTime": since,
        }],
    })
}

/// Write a status: `ready` ("True"/"False"), its reason and message, and the modules' facts. Without a
/// report (`None`: a refused spec, a cluster not reached) the modules deployed so far stay listed: they
/// are what a later removal or the object's deletion undeploys.
pub(super) async fn report(
    ctx: &Ctx,
    obj: &DynamicObject,
    ready: &str,
    reason: &str,
    message: &str,
    modules: Option<Vec<Value>>,
) -> Result<(), ReconcileError> {
    let generation = obj.metadata.generation.unwrap_or(0);
    let modules = modules.unwrap_or_else(|| listed(obj));
    let mut status = condition_status(obj, generation, ready, reason, message, modules);
    // A resync that finds everything as it was writes nothing (at a thousand objects, a status write
    // per resync would be most of the operator's requests). Compared as the server keeps it: a merge
    // patch drops nulls.
    drop_nulls(&mut status);
    if obj.data.get("status") == Some(&status) {
        return Ok(());
    }
    let ns = obj.metadata.namespace.as_deref().unwrap_or_default();
    let name = obj.metadata.name.as_deref().unwrap_or_default();
    patch_status(ctx, ns, name, status).await
}

/// The modules the status lists now: what the object deployed so far.
pub(super) fn listed(obj: &DynamicObject) -> Vec<Value> {
    obj.data
        .pointer("/status/modules")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn drop_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, v| !v.is_null());
            m.values_mut().for_each(drop_nulls);
        }
        Value::Array(a) => a.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

async fn patch_status(ctx: &Ctx, ns: &str, name: &str, status: Value) -> Result<(), ReconcileError> {
    ctx.home
        .merge_patch(
            &ctx.kymas,
            Some(ns),
            name,
            Some("status"),
            &json!({"status": status}),
        )
        .await
        .map(|_| ())
        .map_err(|e| ReconcileError(format!("cannot write the status of {ns}/{name}: {e}")))
}

/// Finalizers are replaced as a whole list, guarded by the resourceVersion read: another controller's
/// finalizer added meanwhile is never dropped (the patch is refused and the object reconciled again).
pub(super) async fn set_finalizers(
    ctx: &Ctx,
    obj: &DynamicObject,
    list: Value,
) -> Result<(), ReconcileError> {
    let ns = obj.metadata.namespace.as_deref();
    let name = obj.metadata.name.as_deref().unwrap_or("");
    let rv = obj.metadata.resource_version.clone();
    ctx.home
        .merge_patch(
            &ctx.kymas,
            ns,
            name,
            None,
            &json!({"metadata": {"finalizers": list, "resourceVersion": rv}}),
        )
        .await
        .map(|_| ())
        .map_err(|e| ReconcileError(format!("cannot update the finalizers of {name}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kyma(status: Value) -> DynamicObject {
        serde_json::from_value(json!({
            "apiVersion": "installer.kyma-project.io/v1alpha1", "kind": "Kyma",
            "metadata": {"name": "k", "namespace": "t"}, "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn the_transition_time_moves_only_when_the_condition_does() {
        let before = kyma(json!({"conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": "2020-01-01T00:00:00Z"}]}));
        let same = condition_status(&before, 2, "True", "Ready", "a: Ready", vec![]);
        assert_eq!(
            same["conditions"][0]["lastTransitionTime"],
            "2020-01-01T00:00:00Z"
        );
        assert_eq!(
            (same["state"].as_str(), same["observedGeneration"].as_i64()),
            (Some("Ready"), Some(2))
        );
        let flipped = condition_status(&before, 2, "False", "Progressing", "a: TimedOut", vec![]);
        assert_ne!(
            flipped["conditions"][0]["lastTransitionTime"],
            "2020-01-01T00:00:00Z"
        );
        assert_eq!(flipped["state"], "Processing");
        let failed = condition_status(&before, 2, "False", reason_of(Exit::ModuleFailed), "", vec![]);
        assert_eq!(failed["state"], "Error");
    }

    #[test]
    fn a_skipped_module_is_ready_in_the_status() {
        let doc = json!({"modules": [
            {"name": "a", "version": "1", "state": "Skipped", "ready": 2, "total": 2},
            {"name": "b", "version": "2", "state": "Failed", "ready": 0, "total": 1,
             "blocking": [{"object": "Deployment/x/y", "reason": "crash", "extra": 1}]}]});
        let spec: KymaSpec = serde_json::from_value(json!({"channel": "fast", "modules": [
            {"name": "a"}, {"name": "b", "version": "2"}]}))
        .unwrap();
        let pin = |held_by: Option<&str>| super::super::request::Pin {
            version: "1".into(),
            held_by: held_by.map(str::to_string),
        };
        let pins = [("a".to_string(), pin(Some("fast"))), ("b".to_string(), pin(None))].into();
        let modules = modules_of(&doc, &spec, &pins);
        assert_eq!(modules[1]["heldBy"], Value::Null, "admitted");
        assert_eq!(modules[0]["heldBy"], "ChannelRollout fast");
        assert_eq!(modules[0]["state"], "Ready");
        assert_eq!(modules[0]["channel"], "fast", "a follows the object's channel");
        assert_eq!(modules[1]["channel"], Value::Null, "b names its version");
        assert_eq!(
            modules[1]["blocking"],
            json!([{"object": "Deployment/x/y", "reason": "crash"}])
        );
        assert_eq!(summary(&doc), "a: Skipped, b: Failed");
    }
}

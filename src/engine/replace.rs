//! Immutable fields: an update the server refuses because a field cannot change in place is applied
//! again after deleting the object, when the user allows it (`--force-replace`, or the annotation on
//! the object).

use std::time::Duration;

use serde_json::Value;

use super::{Engine, Event, Msg};
use crate::cluster::Cluster;
use crate::object::Fields as _;

/// Annotation on an object that allows kyma to delete and recreate it when an upgrade changes an
/// immutable field.
pub const REPLACE_ANNOTATION: &str = "kyma-project.io/replace";

/// Whether the object may be deleted and recreated: asked for, and not a dry run.
pub(super) fn allowed(data: &Value, dry_run: bool, force_replace: bool) -> bool {
    let annotated = data.annotation(REPLACE_ANNOTATION) == Some("true");
    !dry_run && (force_replace || annotated)
}

/// `Deployment.apps "x" is invalid: spec.selector: Invalid value: {…}: field is immutable` →
/// `spec.selector changed (now {…})`.
pub(super) fn immutable_summary(message: &str) -> String {
    let tail = message
        .split_once("is invalid: ")
        .map(|(_, t)| t)
        .unwrap_or(message);
    match tail.split_once(": Invalid value: ") {
        Some((field, rest)) => format!(
            "{field} changed (new value {})",
            rest.trim_end_matches(": field is immutable")
        ),
        None => tail.to_string(),
    }
}

impl Engine<'_> {
    /// Delete the object, wait until it is gone, then apply it again (once).
    pub(super) fn replace(&mut self, i: usize, why: String) {
        let summary = immutable_summary(&why);
        self.graph.replacing(i, format!("replacing: {summary}"));
        self.emit(Event::ObjectReplacing {
            module: self.module_name(i),
            object: self.key(i),
            reason: summary,
        });
        let obj = self.object(i);
        let target = Target {
            api_version: obj.api_version().to_string(),
            kind: obj.kind().to_string(),
            namespace: obj.namespace().map(str::to_string),
            name: obj.name().to_string(),
        };
        let cluster = self.cluster.clone();
        let tx = self.tx.clone();
        self.tasks.spawn(async move {
            delete_and_wait(&cluster, &target).await;
            let _ = tx.send(Msg::Requeue(i));
        });
    }
}

struct Target {
    api_version: String,
    kind: String,
    namespace: Option<String>,
    name: String,
}

async fn delete_and_wait(cluster: &Cluster, t: &Target) {
    let Some(r) = cluster.discovery.resolve(&t.api_version, &t.kind) else {
        return;
    };
    let ns = t.namespace.as_deref();
    let _ = cluster.delete(&r, ns, &t.name).await;
    // Until it is gone (its finalizers done); the apply after that creates it anew.
    for _ in 0..600 {
        match cluster.get(&r, ns, &t.name).await {
            Ok(None) => break,
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn replacing_needs_the_flag_or_the_annotation_and_never_happens_in_a_dry_run() {
        let plain = json!({"metadata": {"name": "x"}});
        let annotated =
            json!({"metadata": {"name": "x", "annotations": {"kyma-project.io/replace": "true"}}});
        let declined =
            json!({"metadata": {"name": "x", "annotations": {"kyma-project.io/replace": "false"}}});
        let other = json!({"metadata": {"name": "x", "annotations": {"replace": "true"}}});
        for (data, dry_run, force, want) in [
            (&plain, false, false, false),
            (&plain, false, true, true),
            (&plain, true, true, false),
            (&annotated, false, false, true),
            (&annotated, true, false, false),
            (&declined, false, false, false),
            (&other, false, false, false),
        ] {
            assert_eq!(
                allowed(data, dry_run, force),
                want,
                "{data} dry_run={dry_run} force={force}"
            );
        }
    }

    #[test]
    fn immutable_messages_are_summarised_as_the_field_and_its_new_value() {
        for (message, want) in [
            (
                "Deployment.apps \"x\" is invalid: spec.selector: Invalid value: {\"a\":\"b\"}: field is immutable",
                "spec.selector changed (new value {\"a\":\"b\"})",
            ),
            (
                "Job.batch \"j\" is invalid: spec.template: Invalid value: core.PodTemplateSpec{}: field is immutable",
                "spec.template changed (new value core.PodTemplateSpec{})",
            ),
            (
                "Service \"s\" is invalid: spec.clusterIP: may not change",
                "spec.clusterIP: may not change",
            ),
            ("field is immutable", "field is immutable"),
        ] {
            assert_eq!(immutable_summary(message), want);
        }
    }
}

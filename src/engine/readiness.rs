//! Is an object ready? kstatus-style rules on the object as the server returns it. Pure: the engine
//! feeds it the apply response and then watch events.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", content = "reason", rename_all = "camelCase")]
pub enum Health {
    Ready,
    /// Ready, with something the user should read (a Kyma module CR in state `Warning`).
    Warning(String),
    InProgress(String),
    Failed(String),
}

impl Health {
    pub fn is_ready(&self) -> bool {
        matches!(self, Health::Ready | Health::Warning(_))
    }
}

fn i(v: &Value, p: &str) -> i64 {
    v.pointer(p).and_then(Value::as_i64).unwrap_or(0)
}

fn condition<'a>(v: &'a Value, ty: &str) -> Option<&'a Value> {
    v.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(ty))
}

fn cond_status<'a>(v: &'a Value, ty: &str) -> Option<&'a str> {
    condition(v, ty)?.get("status")?.as_str()
}

fn cond_text(c: Option<&Value>) -> String {
    let Some(c) = c else { return String::new() };
    let reason = c.get("reason").and_then(Value::as_str).unwrap_or("");
    let message = c.get("message").and_then(Value::as_str).unwrap_or("");
    match (reason.is_empty(), message.is_empty()) {
        (false, false) => format!("{reason}: {message}"),
        (false, true) => reason.to_string(),
        _ => message.to_string(),
    }
}

/// What readiness needs to know beyond the object: does its kind have a status subresource (so an
/// empty status means "no controller has looked yet"), and has the grace window for that passed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context {
    pub has_status_subresource: bool,
    pub grace_expired: bool,
    /// A release module's CR: no grace fallback, it must report a state itself.
    pub module_cr: bool,
    /// A module CR in state `Error` fails only once it has stayed there this long (managers pass
    /// through Error while their dependencies come up).
    pub error_grace_expired: bool,
}

pub fn health(obj: &Value, group: &str, kind: &str, ctx: Context) -> Health {
    if obj.pointer("/metadata/deletionTimestamp").is_some() {
        return Health::InProgress("terminating".into());
    }
    let generation = i(obj, "/metadata/generation");
    let observed = obj.pointer("/status/observedGeneration").and_then(Value::as_i64);
    if let Some(o) = observed
        && generation > 0
        && o < generation
    {
        return Health::InProgress(format!(
            "controller has not observed generation {generation} yet (at {o})"
        ));
    }
    // A module CR's manager may say which generation it judged in its conditions only (metav1.Condition
    // carries `observedGeneration`): a Ready of an older generation is not the verdict on this one.
    if ctx.module_cr
        && observed.is_none()
        && let Some(seen) = conditions_generation(obj)
        && generation > 0
        && seen < generation
    {
        return Health::InProgress(format!(
            "the module's manager has not observed generation {generation} yet (at {seen})"
        ));
    }
    if cond_status(obj, "Stalled") == Some("True") {
        return Health::Failed(cond_text(condition(obj, "Stalled")));
    }
    if cond_status(obj, "Reconciling") == Some("True") {
        return Health::InProgress(cond_text(condition(obj, "Reconciling")));
    }
    match (group, kind) {
        ("apiextensions.k8s.io", "CustomResourceDefinition") => crd(obj),
        ("apps", "Deployment") => deployment(obj),
        ("apps", "StatefulSet") => statefulset(obj, observed.is_some()),
        ("apps", "DaemonSet") => daemonset(obj, observed.is_some()),
        ("batch", "Job") => job(obj),
        ("", "PersistentVolumeClaim") => match obj.pointer("/status/phase").and_then(Value::as_str) {
            Some("Bound") => Health::Ready,
            Some(p) => Health::InProgress(format!("phase {p}")),
            None => Health::InProgress("not bound".into()),
        },
        ("", "Pod") => pod(obj),
        ("", "Namespace") => match obj.pointer("/status/phase").and_then(Value::as_str) {
            Some("Terminating") => Health::InProgress("namespace terminating".into()),
            _ => Health::Ready,
        },
        _ => generic(obj, ctx),
    }
}

fn crd(obj: &Value) -> Health {
    if cond_status(obj, "NamesAccepted") == Some("False") {
        return Health::Failed(cond_text(condition(obj, "NamesAccepted")));
    }
    if cond_status(obj, "Established") == Some("True") {
        Health::Ready
    } else {
        Health::InProgress("CRD not established yet".into())
    }
}

fn statefulset(obj: &Value, observed: bool) -> Health {
    let want = obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
    let ready = i(obj, "/status/readyReplicas");
    let partition = obj
        .pointer("/spec/updateStrategy/rollingUpdate/partition")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if !observed {
        return Health::InProgress("waiting for the StatefulSet controller".into());
    }
    if ready < want {
        return Health::InProgress(format!("{ready}/{want} replicas ready"));
    }
    if partition == 0 {
        let cur = obj.pointer("/status/currentRevision").and_then(Value::as_str);
        let upd = obj.pointer("/status/updateRevision").and_then(Value::as_str);
        if cur != upd {
            return Health::InProgress("rolling update in progress".into());
        }
    }
    Health::Ready
}

fn daemonset(obj: &Value, observed: bool) -> Health {
    if !observed {
        return Health::InProgress("waiting for the DaemonSet controller".into());
    }
    let desired = i(obj, "/status/desiredNumberScheduled");
    let counts = [
        "currentNumberScheduled",
        "updatedNumberScheduled",
        "numberAvailable",
        "numberReady",
    ];
    for c in counts {
        let n = i(obj, &format!("/status/{c}"));
        if n < desired {
            return Health::InProgress(format!("{c} {n}/{desired}"));
        }
    }
    Health::Ready
}

fn job(obj: &Value) -> Health {
    if cond_status(obj, "Failed") == Some("True") {
        Health::Failed(cond_text(condition(obj, "Failed")))
    } else if cond_status(obj, "Complete") == Some("True") {
        Health::Ready
    } else {
        Health::InProgress("job not complete".into())
    }
}

fn deployment(obj: &Value) -> Health {
    if let Some(c) = condition(obj, "Progressing")
        && c.get("reason").and_then(Value::as_str) == Some("ProgressDeadlineExceeded")
    {
        return Health::Failed(cond_text(Some(c)));
    }
    if obj.pointer("/status/observedGeneration").is_none() {
        return Health::InProgress("waiting for the Deployment controller".into());
    }
    let want = obj.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
    let updated = i(obj, "/status/updatedReplicas");
    let ready = i(obj, "/status/readyReplicas");
    let available = i(obj, "/status/availableReplicas");
    let total = i(obj, "/status/replicas");
    if updated < want {
        return Health::InProgress(format!("{updated}/{want} replicas updated"));
    }
    if total > updated {
        return Health::InProgress(format!("{} old replicas pending termination", total - updated));
    }
    if available < want || ready < want {
        let why = cond_text(condition(obj, "Available"));
        let why = if why.is_empty() {
            String::new()
        } else {
            format!(" ({why})")
        };
        return Health::InProgress(format!("{ready}/{want} replicas ready{why}"));
    }
    if want > 0 && cond_status(obj, "Available") == Some("False") {
        return Health::InProgress(cond_text(condition(obj, "Available")));
    }
    Health::Ready
}

fn pod(obj: &Value) -> Health {
    for cs in obj
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(w) = cs.pointer("/state/waiting") {
            let reason = w.get("reason").and_then(Value::as_str).unwrap_or("");
            if reason == "CrashLoopBackOff" {
                return Health::Failed(format!(
                    "container {} in CrashLoopBackOff",
                    cs.get("name").and_then(Value::as_str).unwrap_or("?")
                ));
            }
        }
    }
    match obj.pointer("/status/phase").and_then(Value::as_str) {
        Some("Succeeded") => Health::Ready,
        Some("Failed") => Health::Failed("pod failed".into()),
        _ if cond_status(obj, "Ready") == Some("True") => Health::Ready,
        _ => Health::InProgress(pod_waiting_reason(obj).unwrap_or_else(|| "pod not ready".into())),
    }
}

/// The most telling reason a pod is not running: a container's waiting reason (ImagePullBackOff …) or
/// the scheduler's complaint (Unschedulable).
pub fn pod_waiting_reason(obj: &Value) -> Option<String> {
    for cs in obj
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(w) = cs.pointer("/state/waiting") {
            let reason = w.get("reason").and_then(Value::as_str).unwrap_or("");
            let msg = w.get("message").and_then(Value::as_str).unwrap_or("");
            if !reason.is_empty() {
                return Some(if msg.is_empty() {
                    reason.to_string()
                } else {
                    format!("{reason}: {msg}")
                });
            }
        }
    }
    if cond_status(obj, "PodScheduled") == Some("False") {
        return Some(cond_text(condition(obj, "PodScheduled")));
    }
    None
}

fn generic(obj: &Value, ctx: Context) -> Health {
    match cond_status(obj, "Ready") {
        Some("True") => return Health::Ready,
        Some("False") => {
            let text = cond_text(condition(obj, "Ready"));
            return Health::InProgress(if text.is_empty() {
                "Ready=False".into()
            } else {
                text
            });
        }
        _ => {}
    }
    // Kyma's module CRs report `status.state`.
    match obj.pointer("/status/state").and_then(Value::as_str) {
        Some("Ready") => return Health::Ready,
        Some("Error") if ctx.error_grace_expired || !ctx.module_cr => {
            return Health::Failed(format!("state Error{}", desc(obj)));
        }
        Some("Error") => {
            return Health::InProgress(format!("state Error{} (failing if it stays)", desc(obj)));
        }
        Some("Warning") => return Health::Warning(format!("state Warning{}", desc(obj))),
        Some(s @ ("Processing" | "Deleting")) => {
            return Health::InProgress(format!("state {s}{}", desc(obj)));
        }
        _ => {}
    }
    if ctx.module_cr {
        // As Kyma CLI v3 reads a module without `status.state`: its conditions.
        match cond_status(obj, "Available") {
            Some("True") => return Health::Ready,
            Some(_) => return Health::InProgress(cond_text(condition(obj, "Available"))),
            None => {
                return Health::InProgress("waiting for the module's manager to report status.state".into());
            }
        }
    }
    let status_empty = obj
        .get("status")
        .is_none_or(|s| s.as_object().is_none_or(|m| m.is_empty()));
    if ctx.has_status_subresource && status_empty && !ctx.grace_expired {
        return Health::InProgress("waiting for a controller to report status".into());
    }
    Health::Ready
}

/// What the manager says about its state: its `status.description`, else the reason and message of the
/// conditions that are not True (keda: `Installed` Unknown "Verification: …"), else of the first.
fn desc(obj: &Value) -> String {
    if let Some(d) = obj.pointer("/status/description").and_then(Value::as_str)
        && !d.is_empty()
    {
        return format!(": {d}");
    }
    let conditions = obj
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut open: Vec<String> = conditions
        .iter()
        .filter(|c| c.get("status").and_then(Value::as_str) != Some("True"))
        .map(|c| cond_text(Some(c)))
        .filter(|t| !t.is_empty())
        .collect();
    if open.is_empty() {
        open.extend(
            conditions
                .first()
                .map(|c| cond_text(Some(c)))
                .filter(|t| !t.is_empty()),
        );
    }
    if open.is_empty() {
        String::new()
    } else {
        format!(": {}", open.join("; "))
    }
}

/// The newest generation the conditions say they judged, when any of them says.
fn conditions_generation(obj: &Value) -> Option<i64> {
    obj.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .filter_map(|c| c.get("observedGeneration").and_then(Value::as_i64))
        .max()
}

/// When the status subresource was last written (RFC 3339, to the second), from `managedFields`.
pub fn status_written_at(obj: &Value) -> Option<&str> {
    obj.pointer("/metadata/managedFields")?
        .as_array()?
        .iter()
        .filter(|f| f.get("subresource").and_then(Value::as_str) == Some("status"))
        .filter_map(|f| f.get("time").and_then(Value::as_str))
        .max()
}

/// A module CR whose status is the manager's verdict on the spec before kyma's change.
pub fn awaiting_manager() -> Health {
    Health::InProgress("waiting for the module's manager to report on the change".into())
}

/// For a module CR whose status says nothing of generations (the real Kyma managers write neither
/// `status.observedGeneration` nor conditions with one): when kyma's apply changed it and its status
/// was last written no later (times are to the second, so the same second counts as before), the time
/// of that change. A `Ready` from then is the manager's verdict on the old spec; the engine takes a
/// status only once it differs from the one the apply answered with, or was written later.
pub fn stale_status_since(applied: &Value, manager: &str) -> Option<String> {
    if applied.pointer("/status/observedGeneration").is_some() || conditions_generation(applied).is_some() {
        return None;
    }
    applied.pointer("/status/state")?;
    let status = status_written_at(applied)?;
    let changed = applied
        .pointer("/metadata/managedFields")?
        .as_array()?
        .iter()
        .find(|f| {
            f.get("manager").and_then(Value::as_str) == Some(manager)
                && f.get("operation").and_then(Value::as_str) == Some("Apply")
                && f.get("subresource").is_none()
        })?
        .get("time")?
        .as_str()?;
    (status <= changed).then(|| changed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const C: Context = Context {
        has_status_subresource: false,
        grace_expired: false,
        module_cr: false,
        error_grace_expired: false,
    };

    #[test]
    fn deployment_rules() {
        let mut d = json!({"metadata": {"generation": 2}, "spec": {"replicas": 2}, "status": {"observedGeneration": 1}});
        assert!(
            matches!(health(&d, "apps", "Deployment", C), Health::InProgress(m) if m.contains("generation"))
        );
        d["status"] = json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 1, "availableReplicas": 1});
        assert!(matches!(health(&d, "apps", "Deployment", C), Health::InProgress(m) if m.contains("1/2")));
        d["status"]["readyReplicas"] = json!(2);
        d["status"]["availableReplicas"] = json!(2);
        d["status"]["conditions"] = json!([{"type": "Available", "status": "True"}]);
        assert_eq!(health(&d, "apps", "Deployment", C), Health::Ready);
        d["status"]["conditions"] = json!([{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "too slow"}]);
        assert!(matches!(health(&d, "apps", "Deployment", C), Health::Failed(m) if m.contains("too slow")));
    }

    #[test]
    fn crd_and_job_and_pod() {
        let crd = json!({"status": {"conditions": [{"type": "Established", "status": "True"}]}});
        assert_eq!(
            health(&crd, "apiextensions.k8s.io", "CustomResourceDefinition", C),
            Health::Ready
        );
        let job = json!({"status": {"conditions": [{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}]}});
        assert!(matches!(health(&job, "batch", "Job", C), Health::Failed(_)));
        let pod = json!({"status": {"phase": "Pending", "containerStatuses": [{"name": "m", "state": {"waiting": {"reason": "ImagePullBackOff", "message": "no such image"}}}]}});
        assert!(
            matches!(health(&pod, "", "Pod", C), Health::InProgress(m) if m.contains("ImagePullBackOff"))
        );
    }

    #[test]
    fn new_custom_resource_with_status_subresource_gets_a_grace_window() {
        let cr = json!({"metadata": {"generation": 1}, "spec": {}});
        let ctx = Context {
            has_status_subresource: true,
            ..C
        };
        assert!(matches!(health(&cr, "x.io", "Thing", ctx), Health::InProgress(_)));
        assert_eq!(
            health(
                &cr,
                "x.io",
                "Thing",
                Context {
                    grace_expired: true,
                    ..ctx
                }
            ),
            Health::Ready
        );
        let reported = json!({"status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Waiting", "message": "db"}]}});
        assert_eq!(
            health(
                &reported,
                "x.io",
                "Thing",
                Context {
                    grace_expired: true,
                    ..ctx
                }
            ),
            Health::InProgress("Waiting: db".into())
        );
        let kyma = json!({"status": {"state": "Ready"}});
        assert_eq!(
            health(&kyma, "operator.kyma-project.io", "Istio", ctx),
            Health::Ready
        );
        // A ConfigMap has no status rules: ready once applied.
        assert_eq!(health(&json!({"data": {}}), "", "ConfigMap", C), Health::Ready);
    }

    #[test]
    fn kyma_module_cr_rules() {
        let m = Context {
            has_status_subresource: true,
            grace_expired: true,
            module_cr: true,
            error_grace_expired: false,
        };
        let fresh = json!({"metadata": {"generation": 1}, "spec": {}});
        assert!(
            matches!(health(&fresh, "operator.kyma-project.io", "Istio", m), Health::InProgress(r) if r.contains("status.state")),
            "no grace fallback"
        );
        let state = |s: &str| json!({"status": {"state": s, "description": "webhook not ready"}});
        assert_eq!(health(&state("Ready"), "g", "K", m), Health::Ready);
        assert_eq!(
            health(&state("Warning"), "g", "K", m),
            Health::Warning("state Warning: webhook not ready".into())
        );
        assert!(health(&state("Warning"), "g", "K", m).is_ready());
        assert!(
            matches!(health(&state("Error"), "g", "K", m), Health::InProgress(r) if r.contains("Error")),
            "Error gets a grace period"
        );
        assert_eq!(
            health(
                &state("Error"),
                "g",
                "K",
                Context {
                    error_grace_expired: true,
                    ..m
                }
            ),
            Health::Failed("state Error: webhook not ready".into())
        );
        let processing = json!({"status": {"state": "Processing", "conditions": [
            {"type": "Installed", "status": "Unknown", "reason": "Verification", "message": "verification in progress"},
            {"type": "Other", "status": "True", "reason": "Fine", "message": "fine"}]}});
        assert_eq!(
            health(&processing, "g", "K", m),
            Health::InProgress("state Processing: Verification: verification in progress".into()),
            "the manager's own words, from the condition that is not True"
        );
        let judged = |g: i64, state: &str| {
            json!({"metadata": {"generation": 2}, "status": {"state": state, "conditions": [
                {"type": "Installed", "status": "True", "reason": "Verified", "message": "ok", "observedGeneration": g}]}})
        };
        assert!(
            matches!(health(&judged(1, "Ready"), "g", "K", m), Health::InProgress(r) if r.contains("generation 2")),
            "a Ready of generation 1 is not the verdict on generation 2"
        );
        assert_eq!(health(&judged(2, "Ready"), "g", "K", m), Health::Ready);
        let available = json!({"status": {"conditions": [{"type": "Available", "status": "True"}]}});
        assert_eq!(
            health(&available, "g", "K", m),
            Health::Ready,
            "conditions when there is no state"
        );
    }

    #[test]
    fn a_status_written_before_kymas_change_is_stale() {
        let cr = |status_at: &str, applied_at: &str, extra: Value| {
            let mut v = json!({
                "metadata": {"generation": 3, "managedFields": [
                    {"manager": "kyma", "operation": "Apply", "time": applied_at},
                    {"manager": "keda-manager", "operation": "Update", "subresource": "status", "time": status_at}
                ]},
                "status": {"state": "Ready"}
            });
            if let Value::Object(m) = extra {
                for (k, x) in m {
                    v["status"][k] = x;
                }
            }
            v
        };
        let t1 = "2026-11-30T10:00:01Z";
        let t2 = "2026-11-30T10:00:02Z";
        assert_eq!(
            stale_status_since(&cr(t1, t2, json!({})), "kyma"),
            Some(t2.into())
        );
        assert_eq!(
            stale_status_since(&cr(t2, t2, json!({})), "kyma"),
            Some(t2.into()),
            "the same second: it may be from before the apply"
        );
        assert_eq!(stale_status_since(&cr(t2, t1, json!({})), "kyma"), None);
        assert_eq!(
            stale_status_since(&cr(t1, t2, json!({"observedGeneration": 2})), "kyma"),
            None,
            "a status that names its generation is judged by it"
        );
        assert_eq!(status_written_at(&cr(t1, t2, json!({}))), Some(t1));
        let no_status =
            json!({"metadata": {"managedFields": [{"manager": "kyma", "operation": "Apply", "time": t2}]}});
        assert_eq!(stale_status_since(&no_status, "kyma"), None);
    }
}

//! Between render and plan: make manifests from the wild fit the server they are going to. Pure
//! functions over rendered objects and the server's facts; no network.
//!
//! - **Defaults older servers' server-side apply needs.** Kubernetes before ~1.22 keys a Service's and a
//!   container's `ports` by (port, protocol) and cannot merge an element without `protocol`; it also
//!   type-checks quantities as strings (`cpu: 1` is refused). Filling `protocol: TCP` and writing
//!   quantities as strings is what the server would store anyway, so it is harmless on new servers.
//! - **What a module needs of the server.** A release's known oldest Kubernetes, and fields an older
//!   server does not know, stop that module before anything of it is applied, in one sentence.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::catalog::Module;
use crate::cluster::version::parse_minor;
use crate::render::Rendered;

/// Pod specs inside an object: a Pod's own, a template's, a CronJob's job template's.
fn pod_specs(o: &mut Value) -> Vec<&mut Value> {
    let kind = o.get("kind").and_then(Value::as_str).unwrap_or("").to_string();
    let mut out = Vec::new();
    match kind.as_str() {
        "Pod" => out.extend(o.get_mut("spec")),
        "CronJob" => out.extend(o.pointer_mut("/spec/jobTemplate/spec/template/spec")),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController"
        | "PodTemplate" => {
            let p = if kind == "PodTemplate" {
                "/template/spec"
            } else {
                "/spec/template/spec"
            };
            out.extend(o.pointer_mut(p));
        }
        _ => {}
    }
    out
}

fn default_protocol(ports: Option<&mut Value>) {
    for p in ports.and_then(Value::as_array_mut).into_iter().flatten() {
        if let Some(map) = p.as_object_mut() {
            map.entry("protocol")
                .or_insert_with(|| Value::String("TCP".into()));
        }
    }
}

fn quantities_as_strings(resources: Option<&mut Value>) {
    let Some(res) = resources else { return };
    for side in ["limits", "requests"] {
        for (_, q) in res
            .get_mut(side)
            .and_then(Value::as_object_mut)
            .into_iter()
            .flatten()
        {
            if q.is_number() {
                *q = Value::String(q.to_string());
            }
        }
    }
}

/// Fill the API defaults older servers' server-side apply needs (see the module docs).
pub fn fill_defaults(o: &mut Value) {
    let core = o.get("apiVersion").and_then(Value::as_str) == Some("v1");
    if core && o.get("kind").and_then(Value::as_str) == Some("Service") {
        default_protocol(o.pointer_mut("/spec/ports"));
    }
    for spec in pod_specs(o) {
        for list in ["containers", "initContainers"] {
            for c in spec
                .get_mut(list)
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                default_protocol(c.get_mut("ports"));
                quantities_as_strings(c.get_mut("resources"));
            }
        }
    }
}

/// A module that must not be applied to this server, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub object: String,
    pub reason: String,
    pub origin: String,
}

/// Fields newer than some servers: (group, kinds, the feature in words, the first minor that knows it).
/// An older server answers a server-side apply of them with a 500 ("field not declared in schema").
fn needs_of(o: &Value) -> Vec<(&'static str, (u64, u64))> {
    let mut out = Vec::new();
    let kind = o.get("kind").and_then(Value::as_str).unwrap_or("");
    let api = o.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    if api.starts_with("admissionregistration.k8s.io/") && kind.ends_with("WebhookConfiguration") {
        let has = o
            .get("webhooks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|w| w.get("matchConditions").is_some());
        if has {
            out.push(("webhooks[].matchConditions", (1, 28)));
        }
    }
    if api.starts_with("apiextensions.k8s.io/")
        && kind == "CustomResourceDefinition"
        && contains_key(o.pointer("/spec/versions"), "x-kubernetes-validations")
    {
        out.push(("CRD validation rules, x-kubernetes-validations", (1, 25)));
    }
    out
}

fn contains_key(v: Option<&Value>, key: &str) -> bool {
    match v {
        Some(Value::Object(m)) => m.contains_key(key) || m.values().any(|c| contains_key(Some(c), key)),
        Some(Value::Array(a)) => a.iter().any(|c| contains_key(Some(c), key)),
        _ => false,
    }
}

/// Modules this server cannot take, by name: a release's known oldest Kubernetes, or a field of one of
/// its objects that the server is too old to know. Unknown server version (offline): nothing refused.
pub fn check_server(
    modules: &[Module],
    rendered: &[Rendered],
    server: Option<&str>,
) -> BTreeMap<String, Refusal> {
    let mut out = BTreeMap::new();
    let Some(server) = server.and_then(parse_minor) else {
        return out;
    };
    let shown = |(a, b): (u64, u64)| format!("{a}.{b}");
    for m in modules {
        let r = rendered.iter().find(|r| r.module == m.name);
        // The strongest requirement wins the sentence.
        let mut need: Option<((u64, u64), String, String, String)> = None;
        if let Some(min) = m.release.as_ref().and_then(|r| r.min_kubernetes.as_ref())
            && let Some(v) = min.parsed()
        {
            need = Some((
                v,
                min.needs.clone(),
                format!("module {}", m.name),
                m.location.clone(),
            ));
        }
        for o in r.into_iter().flat_map(|r| &r.objects) {
            for (what, v) in needs_of(&o.data) {
                if need.as_ref().is_none_or(|(n, ..)| v > *n) {
                    need = Some((v, what.to_string(), o.key().to_string(), o.origin.to_string()));
                }
            }
        }
        if let Some((v, what, object, origin)) = need
            && server < v
        {
            out.insert(
                m.name.clone(),
                Refusal {
                    object,
                    reason: format!(
                        "{} {} needs Kubernetes ≥ {} ({what}); this cluster runs {}",
                        m.name,
                        m.version,
                        shown(v),
                        shown(server)
                    ),
                    origin,
                },
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_for_old_servers() {
        let mut svc = json!({"apiVersion": "v1", "kind": "Service", "spec": {"ports": [{"port": 80}, {"port": 53, "protocol": "UDP"}]}});
        fill_defaults(&mut svc);
        assert_eq!(
            svc["spec"]["ports"],
            json!([{"port": 80, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}])
        );
        let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": {"spec": {"containers": [
            {"name": "m", "ports": [{"containerPort": 8080}], "resources": {"limits": {"cpu": 1, "memory": "1Gi"}, "requests": {"cpu": 0.5}}}]}}}});
        fill_defaults(&mut d);
        let c = &d["spec"]["template"]["spec"]["containers"][0];
        assert_eq!(c["ports"][0]["protocol"], "TCP");
        assert_eq!(c["resources"]["limits"], json!({"cpu": "1", "memory": "1Gi"}));
        assert_eq!(c["resources"]["requests"]["cpu"], "0.5");
        let mut cj = json!({"apiVersion": "batch/v1", "kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"initContainers": [{"resources": {"requests": {"memory": 64}}}]}}}}}});
        fill_defaults(&mut cj);
        assert_eq!(
            cj.pointer("/spec/jobTemplate/spec/template/spec/initContainers/0/resources/requests/memory")
                .unwrap(),
            "64"
        );
        // Not a Service of the core group: left alone.
        let mut other = json!({"apiVersion": "x.io/v1", "kind": "Service", "spec": {"ports": [{"port": 1}]}});
        fill_defaults(&mut other);
        assert!(other["spec"]["ports"][0].get("protocol").is_none());
    }

    #[test]
    fn fields_newer_than_the_server() {
        let hook = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration", "webhooks": [{"name": "a", "matchConditions": []}]});
        assert_eq!(needs_of(&hook), vec![("webhooks[].matchConditions", (1, 28))]);
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "spec": {"versions": [{"schema": {"openAPIV3Schema": {"properties": {"spec": {"x-kubernetes-validations": []}}}}}]}});
        assert_eq!(needs_of(&crd)[0].1, (1, 25));
        assert!(needs_of(&json!({"apiVersion": "v1", "kind": "ConfigMap"})).is_empty());
    }
}

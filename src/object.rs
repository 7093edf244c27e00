//! A rendered Kubernetes object and where it came from. Every later stage (plan, engine, report) talks
//! about objects through this type, so an error on the cluster can point back at the template line.

use std::fmt;

use serde_json::Value;

/// Where an object came from: module, file a person can open, document index within that file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Origin {
    pub module: String,
    pub file: String,
    /// 1-based document index within the file's (rendered) YAML stream.
    pub doc: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (document {})", self.file, self.doc)
    }
}

/// Whether an object lives in a namespace. Unknown kinds are settled by discovery at deploy time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    Namespaced,
    Cluster,
    Unknown,
}

#[derive(Debug, Clone)]
pub struct Object {
    pub data: Value,
    pub origin: Origin,
    pub scope: Scope,
    /// The custom resource a release module is configured by: it must report `status.state` (or
    /// conditions) itself before the module is Ready.
    pub module_cr: bool,
}

/// Identity of an object on a cluster: group, kind, namespace, name. The group is part of it: `Gateway`
/// exists in `networking.istio.io` and in `gateway.networking.k8s.io`, and two modules may carry one each.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    pub group: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

/// `Kind.group/namespace/name`, as kubectl spells a resource (`deployment.apps/web`) but with the kind as
/// written in manifests; the core group has no suffix.
impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kind)?;
        if !self.group.is_empty() {
            write!(f, ".{}", self.group)?;
        }
        if let Some(ns) = &self.namespace {
            write!(f, "/{ns}")?;
        }
        write!(f, "/{}", self.name)
    }
}

impl ObjectKey {
    /// The identity of an object given as JSON (a rendered object, a recorded manifest).
    pub fn of(data: &Value) -> ObjectKey {
        ObjectKey {
            group: group_of(data.str_at(&["apiVersion"]).unwrap_or("")).to_string(),
            kind: data.str_at(&["kind"]).unwrap_or("").to_string(),
            namespace: data.namespace_of().map(str::to_string),
            name: data.name_or_empty().to_string(),
        }
    }
}

/// Reports carry objects as their display string: one field a script can match and a person can read.
impl serde::Serialize for ObjectKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Reading a Kubernetes object given as JSON by a path of keys. Each step is a key as written in the
/// object (`app.kubernetes.io/part-of`, `tls.crt`), never JSON-pointer text: nobody escapes `/` or `~`
/// by hand. A step into a list is its index.
pub trait Fields {
    fn at(&self, path: &[&str]) -> Option<&Value>;

    fn str_at(&self, path: &[&str]) -> Option<&str> {
        self.at(path)?.as_str()
    }
    /// `metadata.labels[key]`.
    fn label(&self, key: &str) -> Option<&str> {
        self.str_at(&["metadata", "labels", key])
    }
    /// `metadata.annotations[key]`.
    fn annotation(&self, key: &str) -> Option<&str> {
        self.str_at(&["metadata", "annotations", key])
    }
    /// `metadata.name`, or `""`.
    fn name_or_empty(&self) -> &str {
        self.str_at(&["metadata", "name"]).unwrap_or("")
    }
    /// `metadata.namespace`, when set and not empty.
    fn namespace_of(&self) -> Option<&str> {
        self.str_at(&["metadata", "namespace"]).filter(|s| !s.is_empty())
    }
}

impl Fields for Value {
    fn at(&self, path: &[&str]) -> Option<&Value> {
        path.iter().try_fold(self, |v, key| match v {
            Value::Object(m) => m.get(*key),
            Value::Array(a) => a.get(key.parse::<usize>().ok()?),
            _ => None,
        })
    }
}

impl Object {
    pub fn api_version(&self) -> &str {
        self.data.str_at(&["apiVersion"]).unwrap_or("")
    }
    pub fn kind(&self) -> &str {
        self.data.str_at(&["kind"]).unwrap_or("")
    }
    pub fn name(&self) -> &str {
        self.data.name_or_empty()
    }
    pub fn namespace(&self) -> Option<&str> {
        self.data.namespace_of()
    }
    /// API group ("" for the core group).
    pub fn group(&self) -> &str {
        group_of(self.api_version())
    }
    pub fn version(&self) -> &str {
        self.api_version().rsplit('/').next().unwrap_or("")
    }
    pub fn key(&self) -> ObjectKey {
        ObjectKey::of(&self.data)
    }
    pub fn set_namespace(&mut self, ns: &str) {
        if let Some(meta) = self.data.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("namespace".into(), Value::String(ns.to_string()));
        }
    }
    pub fn is_crd(&self) -> bool {
        self.kind() == "CustomResourceDefinition" && self.group() == "apiextensions.k8s.io"
    }
    /// For a CRD: the (group, kind) it defines.
    pub fn crd_defines(&self) -> Option<(String, String)> {
        if !self.is_crd() {
            return None;
        }
        let group = self.data.str_at(&["spec", "group"])?;
        let kind = self.data.str_at(&["spec", "names", "kind"])?;
        Some((group.to_string(), kind.to_string()))
    }
}

pub fn group_of(api_version: &str) -> &str {
    match api_version.rsplit_once('/') {
        Some((g, _)) => g,
        None => "",
    }
}

/// Kinds every server from 1.20 on serves cluster-scoped. Anything not here and not namespaced below
/// is decided by a CRD in the same render, or by discovery.
const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
    ("apiregistration.k8s.io", "APIService"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("node.k8s.io", "RuntimeClass"),
    ("networking.k8s.io", "IngressClass"),
    ("policy", "PodSecurityPolicy"),
    ("certificates.k8s.io", "CertificateSigningRequest"),
];

const NAMESPACED: &[(&str, &str)] = &[
    ("", "ConfigMap"),
    ("", "Secret"),
    ("", "Service"),
    ("", "ServiceAccount"),
    ("", "Pod"),
    ("", "PersistentVolumeClaim"),
    ("", "Endpoints"),
    ("", "LimitRange"),
    ("", "ResourceQuota"),
    ("", "ReplicationController"),
    ("", "Event"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("apps", "ReplicaSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("policy", "PodDisruptionBudget"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("networking.k8s.io", "Ingress"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("coordination.k8s.io", "Lease"),
    ("discovery.k8s.io", "EndpointSlice"),
];

pub fn builtin_scope(group: &str, kind: &str) -> Scope {
    if CLUSTER_SCOPED.contains(&(group, kind)) {
        Scope::Cluster
    } else if NAMESPACED.contains(&(group, kind)) {
        Scope::Namespaced
    } else {
        Scope::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_keys_not_pointers() {
        let v = json!({"metadata": {"name": "a", "namespace": "",
            "labels": {"app.kubernetes.io/part-of": "kyma", "a~b": "tilde"}},
            "data": {"tls.crt": "x"}, "spec": {"list": [{"k": 1}]}});
        assert_eq!(v.label("app.kubernetes.io/part-of"), Some("kyma"));
        assert_eq!(v.label("a~b"), Some("tilde"));
        assert_eq!(v.str_at(&["data", "tls.crt"]), Some("x"));
        assert_eq!(v.at(&["spec", "list", "0", "k"]), Some(&json!(1)));
        assert_eq!(v.at(&["spec", "list", "1"]), None);
        assert_eq!(v.name_or_empty(), "a");
        assert_eq!(v.namespace_of(), None);
    }
}

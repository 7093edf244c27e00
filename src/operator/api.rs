//! The `Kyma` custom resource of `kyma operator`: what a user asks for (spec) and what the operator
//! reports (status). Close to lifecycle-manager's `Kyma` (`operator.kyma-project.io`) where that helps
//! users, in a group of our own so the two never fight over one object.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const GROUP: &str = "installer.kyma-project.io";
pub const VERSION: &str = "v1alpha1";
pub const KIND: &str = "Kyma";
pub const PLURAL: &str = "kymas";
/// Deleting a `Kyma` object waits until everything it deployed is undeployed.
pub const FINALIZER: &str = "installer.kyma-project.io/undeploy";

/// A channel's rollout policy: the `Kyma` objects of its namespace on the channel named like it move to
/// a new version of the channel in waves.
pub const ROLLOUT_KIND: &str = "ChannelRollout";
pub const ROLLOUT_PLURAL: &str = "channelrollouts";

pub fn api_version() -> String {
    format!("{GROUP}/{VERSION}")
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KymaSpec {
    #[serde(default)]
    pub modules: Vec<ModuleSpec>,
    /// The release channel of every module that names neither a version nor a channel of its own.
    #[serde(default)]
    pub channel: Option<String>,
    /// A kubeconfig in a Secret of the `Kyma` object's namespace: the modules go to that cluster
    /// (control-plane mode). Absent: the cluster the operator runs in.
    #[serde(default)]
    pub kubeconfig_secret_ref: Option<SecretRef>,
}

impl KymaSpec {
    /// The channel a module follows: its own, else the object's; none when it names a version.
    pub fn channel_of<'a>(&'a self, m: &'a ModuleSpec) -> Option<&'a str> {
        if m.version.is_some() {
            return None;
        }
        m.channel.as_deref().or(self.channel.as_deref())
    }

    /// `name`, `name@version` or `name@channel`, as `kyma deploy --modules` takes it.
    pub fn pick(&self, m: &ModuleSpec) -> String {
        match (&m.version, self.channel_of(m)) {
            (Some(v), _) => format!("{}@{v}", m.name),
            (None, Some(c)) => format!("{}@{c}", m.name),
            (None, None) => m.name.clone(),
        }
    }

    /// What the spec asks that cannot be: a module with both a version and a channel, a channel that is
    /// not a channel's name.
    pub fn refusal(&self) -> Option<String> {
        for m in &self.modules {
            if let (Some(v), Some(c)) = (&m.version, &m.channel) {
                return Some(format!(
                    "module {}: give a version ({v}) or a channel ({c}), not both",
                    m.name
                ));
            }
        }
        let channels = self
            .modules
            .iter()
            .filter_map(|m| m.channel.as_deref().map(|c| (format!("module {}: ", m.name), c)))
            .chain(self.channel.as_deref().map(|c| ("spec.".to_string(), c)));
        for (at, c) in channels {
            if !crate::catalog::channels::is_channel_name(c) {
                return Some(format!(
                    "{at}channel {c:?} is not a channel name (lowercase letters, digits, '-', e.g. regular)"
                ));
            }
        }
        None
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ModuleSpec {
    pub name: String,
    /// A version of the catalog; absent: the newest.
    #[serde(default)]
    pub version: Option<String>,
    /// A release channel (`regular`, `fast`, as the catalog's ModuleReleaseMetas map them): the version
    /// it stands for now. Not together with `version`.
    #[serde(default)]
    pub channel: Option<String>,
    /// The module's values, as `-f` gives them on the command line.
    #[serde(default)]
    pub values: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretRef {
    pub name: String,
    #[serde(default = "default_key")]
    pub key: String,
}

fn default_key() -> String {
    "config".into()
}

/// The CRD, as `kyma operator manifests` prints it and the operator applies it at start.
pub fn crd() -> Value {
    let module = json!({
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "description": "A module of the catalog."},
            "version": {"type": "string", "description": "A version of the catalog; default: the newest."},
            "channel": {"type": "string", "description": "A release channel (regular, fast, … as the catalog maps them); not together with version."},
            "values": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "description": "The module's values, as `kyma deploy -f` takes them."}
        }
    });
    our_crd(
        [KIND, PLURAL, "kyma"],
        json!([
            {"name": "State", "type": "string", "jsonPath": ".status.state"},
            {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"}
        ]),
        json!({
            "type": "object",
            "properties": {
                "modules": {"type": "array", "items": module},
                "channel": {"type": "string", "description": "The release channel of modules that name neither a version nor a channel."},
                "kubeconfigSecretRef": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "key": {"type": "string", "default": "config"}
                    }
                }
            }
        }),
    )
}

/// A namespaced CRD of our group with a status subresource kept as written: `[kind, plural, singular]`,
/// its printer columns (then Age), and the schema of its spec.
fn our_crd([kind, plural, singular]: [&str; 3], columns: Value, spec: Value) -> Value {
    let mut columns = columns.as_array().cloned().unwrap_or_default();
    columns.push(json!({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}));
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{plural}.{GROUP}"), "labels": {"app.kubernetes.io/managed-by": "kyma"}},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "singular": singular, "listKind": format!("{kind}List")},
            "versions": [{
                "name": VERSION,
                "served": true,
                "storage": true,
                "subresources": {"status": {}},
                "additionalPrinterColumns": columns,
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": spec,
                        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                    }
                }}
            }]
        }
    })
}

/// How the `Kyma` objects on one channel take the channel's new version: `waves` (cumulative, as
/// `kyma deploy --waves` takes them; none: one wave), `maxFailures` (a number or a percentage of the
/// objects; past it the rollout pauses), `maxUnavailable` (objects on their way at once), `paused`
/// (held by hand).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RolloutSpec {
    #[serde(default)]
    pub waves: Vec<String>,
    /// A number (2) or a percentage ("5%"); a number may come as a string.
    #[serde(default)]
    pub max_failures: Option<Value>,
    /// How many objects of a wave may be on their way to the new version at once: a number or a
    /// percentage of the objects (rounds down, at least one). Absent: the whole wave at once.
    #[serde(default)]
    pub max_unavailable: Option<Value>,
    #[serde(default)]
    pub paused: bool,
}

/// The `ChannelRollout` CRD, installed beside the `Kyma` CRD.
pub fn rollout_crd() -> Value {
    let printer = |name: &str, path: &str| json!({"name": name, "type": "string", "jsonPath": path});
    our_crd(
        [ROLLOUT_KIND, ROLLOUT_PLURAL, "channelrollout"],
        json!([
            printer("State", ".status.state"),
            printer("Wave", ".status.wave"),
            printer("Updated", ".status.updated"),
            printer("Message", ".status.message")
        ]),
        json!({
            "type": "object",
            "description": "The rollout of the channel this object is named after, to the Kyma objects of its namespace on that channel.",
            "properties": {
                "waves": {"type": "array", "items": {"type": "string"}, "description": "Cumulative waves: a number of objects (1) or a percentage of them (10%). Objects are taken in name order."},
                "maxFailures": {"x-kubernetes-int-or-string": true, "description": "Objects that may fail before the rollout pauses: a number or a percentage (rounds down). Default 0."},
                "maxUnavailable": {"x-kubernetes-int-or-string": true, "description": "Objects of a wave on their way to the new version at once: a number or a percentage (rounds down, at least 1). Default: the whole wave."},
                "paused": {"type": "boolean", "description": "Hold the rollout: no object takes the new version until this is false."}
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: Value) -> KymaSpec {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn both_crds_are_ours_namespaced_with_a_status_and_an_age_column() {
        for (crd, name, list, columns) in [
            (crd(), "kymas.installer.kyma-project.io", "KymaList", 3),
            (
                rollout_crd(),
                "channelrollouts.installer.kyma-project.io",
                "ChannelRolloutList",
                5,
            ),
        ] {
            assert_eq!(crd["metadata"]["name"], name);
            assert_eq!(crd["spec"]["names"]["listKind"], list);
            let version = &crd["spec"]["versions"][0];
            let printed = version["additionalPrinterColumns"].as_array().unwrap();
            assert_eq!(
                (printed.len(), &printed[columns - 1]["name"]),
                (columns, &json!("Age"))
            );
            assert_eq!(version["subresources"], json!({"status": {}}));
            assert!(version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"].is_object());
        }
    }

    #[test]
    fn a_module_follows_its_version_else_its_channel_else_the_objects() {
        let s = spec(json!({"channel": "regular", "modules": [
            {"name": "a"}, {"name": "b", "channel": "fast"}, {"name": "c", "version": "1.0.0"}]}));
        let picks: Vec<String> = s.modules.iter().map(|m| s.pick(m)).collect();
        assert_eq!(picks, vec!["a@regular", "b@fast", "c@1.0.0"]);
        assert_eq!(s.refusal(), None);
        let none = spec(json!({"modules": [{"name": "a"}]}));
        assert_eq!(none.pick(&none.modules[0]), "a");
    }

    #[test]
    fn a_version_and_a_channel_together_or_a_bad_channel_name_are_refused() {
        let both = spec(json!({"modules": [{"name": "a", "version": "1.0.0", "channel": "fast"}]}));
        assert_eq!(
            both.refusal().unwrap(),
            "module a: give a version (1.0.0) or a channel (fast), not both"
        );
        let bad = spec(json!({"channel": "Fast!", "modules": [{"name": "a"}]}));
        assert!(
            bad.refusal()
                .unwrap()
                .starts_with("spec.channel \"Fast!\" is not a channel name")
        );
    }
}

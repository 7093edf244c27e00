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

pub fn api_version() -> String {
    format!("{GROUP}/{VERSION}")
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KymaSpec {
    #[serde(default)]
    pub modules: Vec<ModuleSpec>,
    /// A kubeconfig in a Secret of the `Kyma` object's namespace: the modules go to that cluster
    /// (control-plane mode). Absent: the cluster the operator runs in.
    #[serde(default)]
    pub kubeconfig_secret_ref: Option<SecretRef>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ModuleSpec {
    pub name: String,
    /// A version of the catalog; absent: the newest.
    #[serde(default)]
    pub version: Option<String>,
    /// lifecycle-manager's release channels (`regular`, `fast`): the catalog has none yet, so a
    /// channel is refused with that reason instead of being guessed.
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
            "channel": {"type": "string", "description": "A release channel (lifecycle-manager's regular/fast); refused while the catalog defines none."},
            "values": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "description": "The module's values, as `kyma deploy -f` takes them."}
        }
    });
    json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": format!("{PLURAL}.{GROUP}"), "labels": {"app.kubernetes.io/managed-by": "kyma"}},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"kind": KIND, "plural": PLURAL, "singular": "kyma", "listKind": "KymaList"},
            "versions": [{
                "name": VERSION,
                "served": true,
                "storage": true,
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "State", "type": "string", "jsonPath": ".status.state"},
                    {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
                ],
                "schema": {"openAPIV3Schema": {
                    "type": "object",
                    "properties": {
                        "spec": {
                            "type": "object",
                            "properties": {
                                "modules": {"type": "array", "items": module},
                                "kubeconfigSecretRef": {
                                    "type": "object",
                                    "required": ["name"],
                                    "properties": {
                                        "name": {"type": "string"},
                                        "key": {"type": "string", "default": "config"}
                                    }
                                }
                            }
                        },
                        "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                    }
                }}
            }]
        }
    })
}

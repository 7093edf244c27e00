//! What the engine asks discovery during a run: the resource of a kind (and its scope) before an
//! object goes out, a refresh for a kind that is not served yet, and, once a CRD of the plan is
//! established, the kinds it serves, before the custom resources waiting for it are released.

use std::time::Duration;

use serde_json::Value;

use super::{Engine, Msg};
use crate::cluster::{Cluster, RequestError, Resource};
use crate::object::{Object, Scope};

/// An object of unknown scope, settled from discovery before it goes out (`None`: its scope was known).
pub(super) fn settled_scope(obj: &Object, r: &Resource, module_namespace: Option<&str>) -> Option<Object> {
    if obj.scope != Scope::Unknown {
        return None;
    }
    let mut obj = obj.clone();
    obj.scope = if r.namespaced {
        Scope::Namespaced
    } else {
        Scope::Cluster
    };
    crate::render::apply_scope(&mut obj, module_namespace);
    Some(obj)
}

/// The resource of a kind discovery did not know when the object was sent: maybe its CRD arrived
/// from elsewhere since. Discovery of its group/version is refreshed only on retries, not on the
/// first miss.
pub(super) async fn resolve_late(
    cluster: &Cluster,
    api_version: &str,
    kind: &str,
    retry: bool,
) -> Result<Resource, RequestError> {
    if retry {
        let _ = cluster.discovery.refresh(cluster, api_version).await;
    }
    cluster
        .discovery
        .resolve(api_version, kind)
        .ok_or_else(|| RequestError {
            code: Some(404),
            reason: "NotFound".into(),
            message: format!(
                "the server does not serve {kind} in {api_version} (is its CRD installed and established?)"
            ),
            ..Default::default()
        })
}

/// A stand-in resource for a kind the server does not serve (yet): what a dry run reports for an
/// object it could not check.
pub(super) fn unserved_resource(api_version: &str, kind: &str) -> Resource {
    let kube::core::GroupVersion { group, version } = api_version
        .parse()
        .unwrap_or_else(|_| kube::core::GroupVersion::gv("", api_version));
    Resource {
        group,
        version,
        kind: kind.to_string(),
        plural: String::new(),
        namespaced: true,
        has_status: false,
        listable: false,
    }
}

/// The group/versions a CRD serves (`served: false` versions left out).
pub(super) fn served_group_versions(crd: &Value) -> Vec<String> {
    let group = crd.pointer("/spec/group").and_then(Value::as_str).unwrap_or("");
    crd.pointer("/spec/versions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|v| v.get("served").and_then(Value::as_bool) != Some(false))
        .filter_map(|v| {
            v.get("name")
                .and_then(Value::as_str)
                .map(|n| format!("{group}/{n}"))
        })
        .collect()
}

impl Engine<'_> {
    /// A CRD is established: learn its kinds from the server for each served version, then release
    /// the custom resources waiting for it.
    pub(super) fn spawn_refresh_for_crd(&mut self, i: usize) {
        let versions = served_group_versions(&self.object(i).data);
        let cluster = self.cluster.clone();
        let tx = self.tx.clone();
        self.tasks.spawn(async move {
            for gv in versions {
                // Established can precede discovery by a moment; a failed refresh is retried by the
                // custom resource's own kind-not-served path.
                for _ in 0..20 {
                    if cluster.discovery.refresh(&cluster, &gv).await.is_ok() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            let _ = tx.send(Msg::Established(i));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_crd_is_refreshed_for_its_served_versions_only() {
        let crd = json!({"spec": {"group": "operator.kyma-project.io", "versions": [
            {"name": "v1alpha1", "served": false},
            {"name": "v1beta1", "served": true},
            {"name": "v1"},
            {"served": true}
        ]}});
        assert_eq!(
            served_group_versions(&crd),
            ["operator.kyma-project.io/v1beta1", "operator.kyma-project.io/v1"]
        );
        assert!(served_group_versions(&json!({"spec": {"group": "x.io"}})).is_empty());
    }

    #[test]
    fn a_scope_learnt_from_discovery_settles_a_copy_and_only_when_unknown() {
        let object = |scope| Object {
            data: json!({"apiVersion": "x.io/v1", "kind": "Thing", "metadata": {"name": "t"}}),
            origin: crate::object::Origin {
                module: "m".into(),
                file: "f".into(),
                doc: 1,
            },
            scope,
            module_cr: false,
        };
        let namespaced = unserved_resource("x.io/v1", "Thing");
        let unknown = object(Scope::Unknown);
        let settled = settled_scope(&unknown, &namespaced, Some("kyma-system")).expect("settled");
        assert_eq!(settled.scope, Scope::Namespaced);
        assert_eq!(settled.namespace(), Some("kyma-system"));
        assert_eq!(unknown.namespace(), None, "the plan's object stays as rendered");
        let cluster_wide = Resource {
            namespaced: false,
            ..namespaced.clone()
        };
        let settled = settled_scope(&unknown, &cluster_wide, Some("kyma-system")).expect("settled");
        assert_eq!((settled.scope, settled.namespace()), (Scope::Cluster, None));
        assert!(settled_scope(&object(Scope::Cluster), &namespaced, Some("kyma-system")).is_none());
    }

    #[test]
    fn an_unserved_kind_stands_in_with_its_group_and_version() {
        let r = unserved_resource("operator.kyma-project.io/v1alpha1", "Serverless");
        assert_eq!(
            (r.group.as_str(), r.version.as_str()),
            ("operator.kyma-project.io", "v1alpha1")
        );
        let core = unserved_resource("v1", "ConfigMap");
        assert_eq!((core.group.as_str(), core.version.as_str()), ("", "v1"));
        assert!(!core.has_status && !core.listable);
    }
}

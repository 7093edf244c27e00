//! What the server serves: kind → resource (plural, scope, status subresource), for every group and
//! version. Loaded once in parallel; a group/version is refreshed when a new CRD is established, not on
//! every error.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use serde_json::Value;

use super::{Cluster, RequestError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
    pub has_status: bool,
    pub listable: bool,
}

impl Resource {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The same resource as kube's request builders and watcher take it.
    pub fn api_resource(&self) -> kube::core::ApiResource {
        kube::core::ApiResource {
            group: self.group.clone(),
            version: self.version.clone(),
            api_version: self.api_version(),
            kind: self.kind.clone(),
            plural: self.plural.clone(),
        }
    }
}

type Key = (String, String); // (apiVersion, kind)

/// Lazy: connecting reads only the list of group/versions (`/api`, `/apis`); the resources of a
/// group/version are fetched the first time something needs them. A deploy of core kinds asks for two
/// group/versions, not forty.
#[derive(Clone, Default)]
pub struct Discovery {
    inner: Arc<RwLock<HashMap<Key, Resource>>>,
    served: Arc<RwLock<Vec<String>>>,
    fetched: Arc<RwLock<std::collections::HashSet<String>>>,
    /// Group/versions whose discovery failed for a reason other than "not served" (5xx, no answer),
    /// until a later fetch succeeds: their kinds are unknown, not absent.
    failed: Arc<RwLock<HashMap<String, RequestError>>>,
}

impl Discovery {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn resolve(&self, api_version: &str, kind: &str) -> Option<Resource> {
        self.inner
            .read()
            .unwrap()
            .get(&(api_version.to_string(), kind.to_string()))
            .cloned()
    }

    /// Any served version of a group/kind (for objects recorded under a version no longer served).
    pub fn resolve_group_kind(&self, group: &str, kind: &str) -> Option<Resource> {
        self.inner
            .read()
            .unwrap()
            .values()
            .find(|r| r.group == group && r.kind == kind)
            .cloned()
    }

    /// All group/versions the server serves.
    pub fn api_versions(&self) -> Vec<String> {
        self.served.read().unwrap().clone()
    }

    /// Read which group/versions the server serves (two requests).
    pub async fn load(&self, cluster: &Cluster) -> Result<(), RequestError> {
        let core = cluster.get_path("/api").await?;
        let mut gvs: Vec<String> = core
            .get("versions")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        let groups = cluster.get_path("/apis").await?;
        for g in groups
            .get("groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for v in g.get("versions").and_then(Value::as_array).into_iter().flatten() {
                if let Some(gv) = v.get("groupVersion").and_then(Value::as_str) {
                    gvs.push(gv.to_string());
                }
            }
        }
        gvs.sort();
        gvs.dedup();
        *self.served.write().unwrap() = gvs;
        Ok(())
    }

    /// Make sure the resources of these group/versions are known, fetching the missing ones in
    /// parallel. A group/version the server does not serve (yet) is skipped quietly.
    pub async fn ensure(&self, cluster: &Cluster, gvs: impl IntoIterator<Item = String>) {
        let missing: Vec<String> = {
            let fetched = self.fetched.read().unwrap();
            let mut m: Vec<String> = gvs.into_iter().filter(|gv| !fetched.contains(gv)).collect();
            m.sort();
            m.dedup();
            m
        };
        futures::future::join_all(missing.iter().map(|gv| self.refresh(cluster, gv))).await;
    }

    /// Every served group/version: what a namespace-emptiness check or a status of unknown kinds needs.
    /// A group whose discovery fails (an aggregated API that is down) is skipped, as kubectl does.
    pub async fn ensure_all(&self, cluster: &Cluster) {
        let all = self.api_versions();
        self.ensure(cluster, all).await;
    }

    /// Every known namespaced resource that can be listed.
    pub fn namespaced_resources(&self) -> Vec<Resource> {
        let mut v: Vec<Resource> = self
            .inner
            .read()
            .unwrap()
            .values()
            .filter(|r| r.namespaced && r.listable)
            .cloned()
            .collect();
        v.sort_by(|a, b| (&a.group, &a.kind, &a.version).cmp(&(&b.group, &b.kind, &b.version)));
        v
    }

    /// Why the resources of `gv` are unknown, if its discovery failed other than with "not served":
    /// a caller that does not find a kind must then not conclude that the kind is gone.
    pub fn failure(&self, gv: &str) -> Option<RequestError> {
        self.failed.read().unwrap().get(gv).cloned()
    }

    /// One kind, fetching its group/version if it is not known yet: `Ok(None)` when the server
    /// answered that it does not serve it, `Err` when discovery failed (an outage is not "not served").
    pub async fn require(
        &self,
        cluster: &Cluster,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<Resource>, RequestError> {
        if let Some(r) = self.resolve(api_version, kind) {
            return Ok(Some(r));
        }
        match self.refresh(cluster, api_version).await {
            Ok(()) => Ok(self.resolve(api_version, kind)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Refresh one group/version (after a CRD for it became Established). Adds and updates only:
    /// several CRDs of one group become established concurrently, and an answer fetched a moment
    /// earlier must not erase a kind a later answer already added.
    pub async fn refresh(&self, cluster: &Cluster, gv: &str) -> Result<(), RequestError> {
        let list = match self.fetch(cluster, gv).await {
            Ok(list) => list,
            Err(e) => {
                if !e.is_not_found() {
                    self.failed.write().unwrap().insert(gv.to_string(), e.clone());
                }
                return Err(e);
            }
        };
        self.failed.write().unwrap().remove(gv);
        self.fetched.write().unwrap().insert(gv.to_string());
        let mut map = self.inner.write().unwrap();
        map.extend(list.into_iter().map(|r| ((gv.to_string(), r.kind.clone()), r)));
        Ok(())
    }

    async fn fetch(&self, cluster: &Cluster, gv: &str) -> Result<Vec<Resource>, RequestError> {
        let path = if gv.contains('/') {
            format!("/apis/{gv}")
        } else {
            format!("/api/{gv}")
        };
        let list = cluster.get_path(&path).await?;
        let kube::core::GroupVersion { group, version } = gv.parse().map_err(|_| {
            RequestError::transport(format!("the server listed a malformed group/version {gv:?}"))
        })?;
        let resources = list
            .get("resources")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let subresources: Vec<&str> = resources
            .iter()
            .filter_map(|r| r.get("name")?.as_str())
            .filter(|n| n.contains('/'))
            .collect();
        Ok(resources
            .iter()
            .filter_map(|r| {
                let plural = r.get("name")?.as_str()?;
                if plural.contains('/') {
                    return None;
                }
                Some(Resource {
                    group: group.clone(),
                    version: version.clone(),
                    kind: r.get("kind")?.as_str()?.to_string(),
                    plural: plural.to_string(),
                    namespaced: r.get("namespaced").and_then(Value::as_bool).unwrap_or(false),
                    has_status: subresources.contains(&format!("{plural}/status").as_str()),
                    listable: r
                        .get("verbs")
                        .and_then(Value::as_array)
                        .is_some_and(|v| v.iter().any(|x| x == "list")),
                })
            })
            .collect())
    }
}

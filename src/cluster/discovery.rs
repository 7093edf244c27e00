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
}

impl Resource {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.clone() } else { format!("{}/{}", self.group, self.version) }
    }
}

type Key = (String, String); // (apiVersion, kind)

#[derive(Clone, Default)]
pub struct Discovery {
    inner: Arc<RwLock<HashMap<Key, Resource>>>,
}

impl Discovery {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn resolve(&self, api_version: &str, kind: &str) -> Option<Resource> {
        self.inner.read().unwrap().get(&(api_version.to_string(), kind.to_string())).cloned()
    }

    /// Any served version of a group/kind (for objects recorded under a version no longer served).
    pub fn resolve_group_kind(&self, group: &str, kind: &str) -> Option<Resource> {
        self.inner.read().unwrap().values().find(|r| r.group == group && r.kind == kind).cloned()
    }

    pub fn len(&self) -> usize {
        self.inner.read().unwrap().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All group/versions the server serves.
    pub fn api_versions(&self) -> Vec<String> {
        let mut v: Vec<String> = self.inner.read().unwrap().keys().map(|(gv, _)| gv.clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// Load everything: `/api/v1` and every version of every group under `/apis`, in parallel. A group
    /// whose discovery fails (an aggregated API that is down) is skipped, as kubectl does.
    pub async fn load(&self, cluster: &Cluster) -> Result<(), RequestError> {
        let core = cluster.request(http::Method::GET, "/api", None, vec![]).await?;
        let mut gvs: Vec<String> = core
            .get("versions")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        let groups = cluster.request(http::Method::GET, "/apis", None, vec![]).await?;
        for g in groups.get("groups").and_then(Value::as_array).into_iter().flatten() {
            for v in g.get("versions").and_then(Value::as_array).into_iter().flatten() {
                if let Some(gv) = v.get("groupVersion").and_then(Value::as_str) {
                    gvs.push(gv.to_string());
                }
            }
        }
        let results = futures::future::join_all(gvs.iter().map(|gv| self.fetch(cluster, gv))).await;
        let mut map = self.inner.write().unwrap();
        for (gv, res) in gvs.iter().zip(results) {
            if let Ok(list) = res {
                map.retain(|(v, _), _| v != gv);
                map.extend(list.into_iter().map(|r| ((gv.clone(), r.kind.clone()), r)));
            }
        }
        Ok(())
    }

    /// Refresh one group/version (after a CRD for it became Established). Adds and updates only:
    /// several CRDs of one group become established concurrently, and an answer fetched a moment
    /// earlier must not erase a kind a later answer already added.
    pub async fn refresh(&self, cluster: &Cluster, gv: &str) -> Result<(), RequestError> {
        let list = self.fetch(cluster, gv).await?;
        let mut map = self.inner.write().unwrap();
        map.extend(list.into_iter().map(|r| ((gv.to_string(), r.kind.clone()), r)));
        Ok(())
    }

    async fn fetch(&self, cluster: &Cluster, gv: &str) -> Result<Vec<Resource>, RequestError> {
        let path = if gv.contains('/') { format!("/apis/{gv}") } else { format!("/api/{gv}") };
        let list = cluster.request(http::Method::GET, &path, None, vec![]).await?;
        let (group, version) = match gv.rsplit_once('/') {
            Some((g, v)) => (g.to_string(), v.to_string()),
            None => (String::new(), gv.to_string()),
        };
        let resources = list.get("resources").and_then(Value::as_array).cloned().unwrap_or_default();
        let subresources: Vec<&str> = resources.iter().filter_map(|r| r.get("name")?.as_str()).filter(|n| n.contains('/')).collect();
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
                })
            })
            .collect())
    }
}

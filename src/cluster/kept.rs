//! What a caller made of a list the last time, kept with the connection, and handed back while the list
//! is the same: the same objects at the same `resourceVersion`s, as one metadata-only LIST shows
//! (`PartialObjectMetadataList`: names and versions, not the objects). Any write to an object (its
//! status included) moves its `resourceVersion`, so a list whose versions all match holds the same
//! objects as before, byte for byte. The operator reads a cluster's inventories and the objects kyma
//! applied on every resync; kept, that is a few small LISTs and nothing decoded, parsed or judged again.
//!
//! Only what is worth keeping is kept (the caller decides: an unchanged check keeps "all fine", never
//! the objects), a connection made for one run (the CLI's) never looks here before its first read, and
//! the entries per connection are bounded.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use super::{Cluster, RequestError, Resource};
use crate::object::Fields as _;

/// Entries one connection keeps: a list per kind the modules use and per purpose; more means keys that
/// are no longer asked for (a module whose render changed), and everything goes.
const ENTRIES: usize = 2048;

/// The objects a list returned, by namespace, name and `resourceVersion`, in a stable order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Versions(Vec<(Option<String>, String, String)>);

/// A metadata-only list as far as `Versions` reads it.
#[derive(serde::Deserialize)]
struct MetadataList {
    /// Go's empty list may come as `null`.
    #[serde(default)]
    items: Option<Vec<Item>>,
}

#[derive(serde::Deserialize)]
struct Item {
    metadata: Metadata,
}

#[derive(serde::Deserialize)]
struct Metadata {
    namespace: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default, rename = "resourceVersion")]
    resource_version: String,
}

impl Versions {
    fn of_metadata(list: MetadataList) -> Versions {
        let mut v: Vec<_> = list
            .items
            .into_iter()
            .flatten()
            .map(|i| (i.metadata.namespace, i.metadata.name, i.metadata.resource_version))
            .collect();
        v.sort_unstable();
        Versions(v)
    }

    pub fn of(items: &[Value]) -> Versions {
        let mut v: Vec<_> = items
            .iter()
            .map(|o| {
                (
                    o.str_at(&["metadata", "namespace"]).map(str::to_string),
                    o.str_at(&["metadata", "name"]).unwrap_or_default().to_string(),
                    o.str_at(&["metadata", "resourceVersion"])
                        .unwrap_or_default()
                        .to_string(),
                )
            })
            .collect();
        v.sort_unstable();
        Versions(v)
    }
}

/// A list as `Cluster::list_or_kept` answers it.
pub enum Listed<T> {
    /// The same objects as when `T` was kept: `T` again.
    Kept(Arc<T>),
    /// Read now (nothing kept, or something changed): the objects, and their versions to keep a `T` by.
    Read(Vec<Value>, Versions),
}

/// What was made of a list, and the versions it was made from.
type Entry = (Versions, Arc<dyn Any + Send + Sync>);

/// Shared by every clone of a `Cluster` (the operator's reconciles of one target share its connection).
#[derive(Clone, Default)]
pub struct Kept {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
}

fn key_of(r: &Resource, namespace: Option<&str>, selector: Option<&str>, purpose: &str) -> String {
    format!(
        "{purpose}\n{}\n{}\n{}\n{}",
        r.api_version(),
        r.plural,
        namespace.unwrap_or(""),
        selector.unwrap_or("")
    )
}

impl Cluster {
    /// The list of `r` (in `namespace`, by `selector`): what was kept for `purpose` when it is the
    /// same list (one metadata-only LIST says so), else the objects, read now.
    pub async fn list_or_kept<T: Send + Sync + 'static>(
        &self,
        r: &Resource,
        namespace: Option<&str>,
        selector: Option<&str>,
        purpose: &str,
    ) -> Result<Listed<T>, RequestError> {
        let key = key_of(r, namespace, selector, purpose);
        let kept = self.kept.entries.lock().unwrap().get(&key).cloned();
        if let Some((versions, value)) = kept
            && let Ok(value) = value.downcast::<T>()
        {
            // Anything but the same versions (other versions, or no answer in the metadata form: a
            // proxy that refuses it, a body it cannot read) is a full read, which says what is wrong
            // if something is.
            if let Ok(now) = self.list_versions(r, namespace, selector).await
                && now == versions
            {
                return Ok(Listed::Kept(value));
            }
            self.forget(r, namespace, selector, purpose);
        }
        let items = self.list(r, namespace, selector).await?;
        let versions = Versions::of(&items);
        Ok(Listed::Read(items, versions))
    }

    /// Keep `value` for this list at `versions` (as `list_or_kept` read them).
    pub fn keep<T: Send + Sync + 'static>(
        &self,
        r: &Resource,
        namespace: Option<&str>,
        selector: Option<&str>,
        purpose: &str,
        versions: Versions,
        value: Arc<T>,
    ) {
        // An object without a resourceVersion (an API that does not keep one) would never look written.
        if versions.0.iter().any(|(_, _, rv)| rv.is_empty()) {
            return;
        }
        let mut entries = self.kept.entries.lock().unwrap();
        if entries.len() >= ENTRIES {
            entries.clear();
        }
        entries.insert(key_of(r, namespace, selector, purpose), (versions, value));
    }

    /// What was kept for this list, as it was then, without asking whether it still holds: a hint of
    /// what a read will find, never an answer.
    pub fn last_kept<T: Send + Sync + 'static>(
        &self,
        r: &Resource,
        namespace: Option<&str>,
        selector: Option<&str>,
        purpose: &str,
    ) -> Option<Arc<T>> {
        let key = key_of(r, namespace, selector, purpose);
        let kept = self.kept.entries.lock().unwrap().get(&key).cloned();
        kept.and_then(|(_, value)| value.downcast::<T>().ok())
    }

    /// Drop what was kept for this list (what it held no longer holds).
    pub fn forget(&self, r: &Resource, namespace: Option<&str>, selector: Option<&str>, purpose: &str) {
        self.kept
            .entries
            .lock()
            .unwrap()
            .remove(&key_of(r, namespace, selector, purpose));
    }

    /// The versions of the list's objects, by kube's `PartialObjectMetadataList` request (a server
    /// that ignores the form sends whole objects; their metadata reads the same).
    async fn list_versions(
        &self,
        r: &Resource,
        namespace: Option<&str>,
        selector: Option<&str>,
    ) -> Result<Versions, RequestError> {
        let req = Self::requests(r, namespace)
            .list_metadata(&super::list_params(selector))
            .map_err(super::built)?;
        Ok(Versions::of_metadata(self.send_as(req).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(ns: Option<&str>, name: &str, rv: &str) -> Value {
        json!({"metadata": {"namespace": ns, "name": name, "resourceVersion": rv}})
    }

    #[test]
    fn a_metadata_list_reads_as_the_objects_do() {
        let items = vec![item(Some("a"), "x", "1"), item(None, "y", "2")];
        let list: MetadataList = serde_json::from_value(json!({
            "kind": "PartialObjectMetadataList",
            "items": [
                {"metadata": {"name": "y", "resourceVersion": "2", "managedFields": [{"manager": "kyma"}]}},
                {"metadata": {"namespace": "a", "name": "x", "resourceVersion": "1"}}
            ]
        }))
        .unwrap();
        assert_eq!(Versions::of_metadata(list), Versions::of(&items));
        for empty in [json!({"items": null}), json!({"items": []}), json!({})] {
            let empty: MetadataList = serde_json::from_value(empty).unwrap();
            assert_eq!(Versions::of_metadata(empty), Versions::of(&[]));
        }
    }

    #[test]
    fn versions_are_the_same_in_any_order_and_differ_by_any_write_or_object() {
        let a = Versions::of(&[item(Some("a"), "x", "1"), item(None, "y", "2")]);
        assert_eq!(
            a,
            Versions::of(&[item(None, "y", "2"), item(Some("a"), "x", "1")])
        );
        assert_ne!(
            a,
            Versions::of(&[item(None, "y", "3"), item(Some("a"), "x", "1")])
        );
        assert_ne!(a, Versions::of(&[item(Some("a"), "x", "1")]));
        assert_ne!(
            a,
            Versions::of(&[item(None, "y", "2"), item(Some("b"), "x", "1")]),
            "the same name in another namespace is another object"
        );
    }
}

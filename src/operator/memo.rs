//! What a resync would compute again from the same inputs: the loaded selection (values resolved,
//! assets in place) by the reconcile's inputs, and the rendered plan by those inputs and the target
//! cluster's facts. An unchanged `Kyma` object then renders nothing on its resync; objects of a fleet
//! that ask for the same modules with the same values share one entry.
//!
//! Bounded: at most `ENTRIES` inputs are kept, the least recently used goes first (a real module's
//! render is megabytes; memory must follow the number of distinct configurations in use, not the number
//! of clusters). Written here rather than taken from an LRU crate: it is a map and a timestamp, and the
//! crate would be the only user of its kind in the tree.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::pipeline::Prepared;
use crate::pipeline::{Loaded, Selection};
use crate::values::Document;

const ENTRIES: usize = 32;

#[derive(Default)]
pub(super) struct Memo {
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    used: Instant,
    loaded: Arc<Loaded>,
    /// The render for one set of facts (a fleet's clusters mostly share theirs).
    prepared: HashMap<String, Arc<Prepared>>,
}

/// What decides a reconcile's load: the catalog as loaded (its generation), the modules, and every
/// value given, as text (a values file is read now: its content counts, not its name). `None` when a
/// file cannot be read: the load then says so, and nothing is kept.
pub(super) fn inputs_key(catalog: u64, sel: &Selection) -> Option<String> {
    let doc = |d: &Document| -> Option<String> {
        Some(match d {
            Document::File(path) => {
                format!("file {}\n{}", path.display(), std::fs::read_to_string(path).ok()?)
            }
            // Not the origin: it names the object (`Kyma ns/name …`) and appears only in errors, which
            // are never kept; objects with the same values share one entry.
            Document::Text { text, .. } => format!("text\n{text}"),
            Document::Data { value, .. } => format!("data\n{value}"),
        })
    };
    let v = &sel.values;
    let mut parts = vec![
        format!("catalog {catalog}"),
        format!("modules {:?}", sel.modules),
        format!("profile {:?}", v.profile),
        format!("set {:?}", v.set),
    ];
    for d in &v.documents {
        parts.push(doc(d)?);
    }
    if let Some(o) = &v.overrides {
        parts.push(format!("overrides {}", doc(o)?));
    }
    Some(crate::hash::sha256_hex(parts.join("\n\0").as_bytes()))
}

impl Memo {
    pub fn loaded(&self, key: &str) -> Option<Arc<Loaded>> {
        let mut entries = self.entries.lock().unwrap();
        let e = entries.get_mut(key)?;
        e.used = Instant::now();
        Some(e.loaded.clone())
    }

    pub fn keep_loaded(&self, key: &str, loaded: Arc<Loaded>) {
        let mut entries = self.entries.lock().unwrap();
        if entries.len() >= ENTRIES
            && !entries.contains_key(key)
            && let Some(oldest) = entries.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| k.clone())
        {
            entries.remove(&oldest);
        }
        entries.insert(
            key.to_string(),
            Entry {
                used: Instant::now(),
                loaded,
                prepared: HashMap::new(),
            },
        );
    }

    pub fn prepared(&self, key: &str, facts: &str) -> Option<Arc<Prepared>> {
        self.entries
            .lock()
            .unwrap()
            .get(key)?
            .prepared
            .get(facts)
            .cloned()
    }

    pub fn keep_prepared(&self, key: &str, facts: &str, prepared: &Arc<Prepared>) {
        if let Some(e) = self.entries.lock().unwrap().get_mut(key) {
            // A few sets of facts per configuration (clusters of different versions); more is a fleet
            // of many kinds, and the oldest set goes.
            if e.prepared.len() >= 4 {
                e.prepared.clear();
            }
            e.prepared.insert(facts.to_string(), prepared.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Values;
    use serde_json::json;

    fn sel(value: serde_json::Value) -> Selection {
        Selection {
            modules: vec!["a".into()],
            values: Values {
                documents: vec![Document::Data {
                    origin: "Kyma t/k".into(),
                    value,
                }],
                ..Values::default()
            },
        }
    }

    #[test]
    fn the_key_follows_the_values_the_catalog_and_a_files_content() {
        let a = inputs_key(1, &sel(json!({"a": {"x": 1}}))).unwrap();
        assert_eq!(a, inputs_key(1, &sel(json!({"a": {"x": 1}}))).unwrap());
        assert_ne!(a, inputs_key(1, &sel(json!({"a": {"x": 2}}))).unwrap());
        assert_ne!(
            a,
            inputs_key(2, &sel(json!({"a": {"x": 1}}))).unwrap(),
            "a reloaded catalog"
        );
        let mut other = sel(json!({"a": {"x": 1}}));
        other.values.documents = vec![Document::Data {
            origin: "Kyma t/other".into(),
            value: json!({"a": {"x": 1}}),
        }];
        assert_eq!(
            a,
            inputs_key(1, &other).unwrap(),
            "another object with the same values shares it"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("overrides.yaml");
        std::fs::write(&file, "global: {a: 1}\n").unwrap();
        let mut s = sel(json!({}));
        s.values.overrides = Some(Document::File(file.clone()));
        let before = inputs_key(1, &s).unwrap();
        std::fs::write(&file, "global: {a: 2}\n").unwrap();
        assert_ne!(before, inputs_key(1, &s).unwrap(), "the file's content counts");
        std::fs::remove_file(&file).unwrap();
        assert_eq!(inputs_key(1, &s), None, "a file that cannot be read: no key");
    }
}

//! The kubeconfig Secrets `Kyma` objects name, as last read, handed out again while the operator's
//! watch of Secrets says the Secret is still at the version read. A resync of an unchanged object then
//! reads no Secret (at 1,000 objects, 1,000 GETs a minute less on the operator's own cluster).
//!
//! The watch is trusted as a controller trusts its informer cache: a change is seen once its event
//! arrives (it also reconciles the objects that name the Secret, which then read it afresh). When the
//! watch restarts (it lost its stream), nothing is trusted until it has listed again; a Secret deleted
//! is forgotten at once; and a read is never older than `FRESH`, so a watch stuck without noticing still
//! cannot keep an old kubeconfig in use for long (and is dropped from memory at the next read of any).
//! The watch is metadata-only: the operator never receives the data of Secrets nobody names.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kube::api::{DynamicObject, ObjectMeta};
use kube::core::PartialObjectMeta;
use kube::runtime::watcher::Event;

/// What the Secret watch delivers: names and versions, no data.
pub(super) type SecretMeta = PartialObjectMeta<DynamicObject>;

/// The longest a Secret as read is used without reading it again.
const FRESH: Duration = Duration::from_secs(300);

#[derive(Default)]
pub(super) struct Kubeconfigs {
    secrets: Mutex<HashMap<(String, String), Seen>>,
}

#[derive(Default)]
struct Seen {
    /// The version the watch last saw (`None`: not seen since the watch (re)started).
    watched: Option<String>,
    /// The key read, its bytes and the version they were read at, and when.
    read: Option<Read>,
}

struct Read {
    key: String,
    version: String,
    bytes: Vec<u8>,
    at: Instant,
}

impl Kubeconfigs {
    /// What the Secret watch saw. Only versions are kept of Secrets nobody read; data only of those read.
    pub fn observe(&self, event: &Event<SecretMeta>) {
        let mut secrets = self.secrets.lock().unwrap();
        match event {
            Event::Init => secrets.clear(),
            Event::Apply(s) | Event::InitApply(s) => {
                if let (Some(id), Some(version)) = (id_of(&s.metadata), s.metadata.resource_version.clone()) {
                    secrets.entry(id).or_default().watched = Some(version);
                }
            }
            Event::Delete(s) => {
                if let Some(id) = id_of(&s.metadata) {
                    secrets.remove(&id);
                }
            }
            Event::InitDone => {}
        }
    }

    /// The key's bytes as read before, if the watch still sees the Secret at that version.
    pub fn get(&self, ns: &str, name: &str, key: &str) -> Option<Vec<u8>> {
        let secrets = self.secrets.lock().unwrap();
        let seen = secrets.get(&(ns.to_string(), name.to_string()))?;
        let read = seen.read.as_ref()?;
        (read.key == key && seen.watched.as_ref() == Some(&read.version) && read.at.elapsed() < FRESH)
            .then(|| read.bytes.clone())
    }

    /// Keep what was just read (a Secret without a version is never kept). Reads too old to be used are
    /// dropped here: credentials no object uses any more do not stay in memory.
    pub fn keep(&self, ns: &str, name: &str, key: &str, version: Option<&str>, bytes: &[u8]) {
        let Some(version) = version.filter(|v| !v.is_empty()) else {
            return;
        };
        let mut secrets = self.secrets.lock().unwrap();
        for seen in secrets.values_mut() {
            if seen.read.as_ref().is_some_and(|r| r.at.elapsed() >= FRESH) {
                seen.read = None;
            }
        }
        secrets
            .entry((ns.to_string(), name.to_string()))
            .or_default()
            .read = Some(Read {
            key: key.to_string(),
            version: version.to_string(),
            bytes: bytes.to_vec(),
            at: Instant::now(),
        });
    }
}

fn id_of(m: &ObjectMeta) -> Option<(String, String)> {
    Some((m.namespace.clone()?, m.name.clone()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::core::PartialObjectMetaExt as _;

    fn secret(name: &str, version: &str) -> SecretMeta {
        ObjectMeta {
            namespace: Some("ns".into()),
            name: Some(name.into()),
            resource_version: Some(version.into()),
            ..Default::default()
        }
        .into_response_partial()
    }

    #[test]
    fn a_read_is_used_only_while_the_watch_sees_the_same_version() {
        let k = Kubeconfigs::default();
        k.keep("ns", "a", "config", Some("5"), b"v5");
        assert_eq!(k.get("ns", "a", "config"), None, "the watch has not seen it yet");
        k.observe(&Event::Apply(secret("a", "5")));
        assert_eq!(k.get("ns", "a", "config").as_deref(), Some(&b"v5"[..]));
        assert_eq!(k.get("ns", "a", "other"), None, "another key is read");
        assert_eq!(k.get("other", "a", "config"), None);

        k.observe(&Event::Apply(secret("a", "6")));
        assert_eq!(k.get("ns", "a", "config"), None, "changed since it was read");
        k.keep("ns", "a", "config", Some("6"), b"v6");
        assert_eq!(k.get("ns", "a", "config").as_deref(), Some(&b"v6"[..]));

        // Read at a version the watch has not delivered yet: not used until it has.
        k.keep("ns", "a", "config", Some("7"), b"v7");
        assert_eq!(k.get("ns", "a", "config"), None);
        k.observe(&Event::Apply(secret("a", "7")));
        assert_eq!(k.get("ns", "a", "config").as_deref(), Some(&b"v7"[..]));
    }

    #[test]
    fn a_deletion_or_a_restarted_watch_forgets_what_was_read() {
        let k = Kubeconfigs::default();
        k.observe(&Event::Apply(secret("a", "5")));
        k.keep("ns", "a", "config", Some("5"), b"v5");
        k.observe(&Event::Delete(secret("a", "5")));
        assert_eq!(k.get("ns", "a", "config"), None, "deleted");

        k.observe(&Event::Apply(secret("a", "8")));
        k.keep("ns", "a", "config", Some("8"), b"v8");
        k.observe(&Event::Init);
        assert_eq!(k.get("ns", "a", "config"), None, "the watch restarted");
        k.keep("ns", "a", "config", Some("8"), b"v8");
        k.observe(&Event::InitApply(secret("a", "8")));
        assert_eq!(k.get("ns", "a", "config").as_deref(), Some(&b"v8"[..]));

        k.keep("ns", "b", "config", None, b"x");
        k.observe(&Event::Apply(secret("b", "")));
        assert_eq!(k.get("ns", "b", "config"), None, "no version: never kept");
    }
}

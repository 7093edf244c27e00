//! One connection per target cluster, kept across reconciles: its client (connections and TLS sessions
//! reused) and its discovery. A resync of an unchanged `Kyma` then costs the requests of its check, not
//! a handshake, `/version`, `/api` and `/apis` and a discovery document per group/version every time.
//!
//! A connection is dropped after a reconcile that could not reach the cluster (the next one connects
//! afresh) and once it is older than `FRESH` (the list of group/versions is read again then, so a group
//! added by someone else reaches the templates' `cluster.api_versions` within that time). A changed
//! kubeconfig is another key: its Secret's new content never reuses the old connection.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::cluster::{Cluster, ConnectError, Target};

/// How long a connection and its discovery are reused.
const FRESH: Duration = Duration::from_secs(600);

#[derive(Default)]
pub(super) struct Connections {
    open: Mutex<HashMap<String, (Cluster, Instant)>>,
}

/// What identifies a target's connection: everything that decides where and as whom it connects.
fn key_of(t: &Target) -> String {
    let source = match (&t.inline, &t.kubeconfig) {
        (Some(text), _) => format!("inline:{}", crate::hash::sha256_hex(text.as_bytes())),
        (None, Some(path)) => format!("file:{}", path.display()),
        (None, None) => "default".into(),
    };
    format!("{source}|{}", t.context.as_deref().unwrap_or(""))
}

impl Connections {
    /// The target's kept connection, or a new one (waiting up to `window` for a cluster that does not
    /// answer yet).
    pub async fn get(&self, target: &Target, window: Duration) -> Result<Cluster, ConnectError> {
        let key = key_of(target);
        if let Some((c, at)) = self.open.lock().unwrap().get(&key)
            && at.elapsed() < FRESH
        {
            return Ok(fresh_run(c));
        }
        let c = crate::cluster::connect_within(target, window).await?;
        let mut open = self.open.lock().unwrap();
        // Connections of targets no longer reconciled (a deleted `Kyma`, a rotated kubeconfig) go.
        open.retain(|_, (_, at)| at.elapsed() < FRESH);
        open.insert(key, (c.clone(), Instant::now()));
        Ok(fresh_run(&c))
    }
}

/// The kept connection for one reconcile: client and discovery shared, but its own throttle state (a
/// 429 seen by an earlier reconcile says nothing about the server now).
fn fresh_run(c: &Cluster) -> Cluster {
    Cluster {
        throttle: Default::default(),
        ..c.clone()
    }
}

impl Connections {
    /// Whether a kept connection was made from this kubeconfig text (it passed the checks then; they
    /// read nothing but the text and the operator's own flags, so they need not run again on every
    /// resync). Holds because `targets::target_of` is the only maker of inline targets and checks each
    /// text before it is connected.
    pub fn made_from(&self, inline: &str) -> bool {
        let prefix = format!("inline:{}|", crate::hash::sha256_hex(inline.as_bytes()));
        self.open
            .lock()
            .unwrap()
            .iter()
            .any(|(k, (_, at))| k.starts_with(&prefix) && at.elapsed() < FRESH)
    }

    /// Forget the target's connection: it could not reach the cluster, or the target is gone.
    pub fn drop_target(&self, target: &Target) {
        self.open.lock().unwrap().remove(&key_of(target));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(inline: Option<&str>, context: Option<&str>) -> Target {
        Target {
            kubeconfig: None,
            inline: inline.map(str::to_string),
            context: context.map(str::to_string),
            label: "ns/secret".into(),
            say_waits: false,
            labels: Default::default(),
        }
    }

    #[test]
    fn a_changed_kubeconfig_or_context_is_another_connection() {
        let a = key_of(&target(Some("apiVersion: v1\nclusters: []"), None));
        assert_eq!(a, key_of(&target(Some("apiVersion: v1\nclusters: []"), None)));
        assert_ne!(a, key_of(&target(Some("apiVersion: v1\nclusters: [x]"), None)));
        assert_ne!(
            a,
            key_of(&target(Some("apiVersion: v1\nclusters: []"), Some("other")))
        );
        assert!(!a.contains("clusters"), "the key holds no kubeconfig text: {a}");
    }
}

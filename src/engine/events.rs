//! What the engine tells the world. Every output (bars, plain lines, ndjson, the final JSON) is a
//! consumer of this one stream, so what a CI pipeline reads and what a person watches never disagree.

use serde::Serialize;

use crate::cluster::classify::RetryClass;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "camelCase")]
pub enum Event {
    #[serde(rename_all = "camelCase")]
    ModuleStarted {
        module: String,
        version: String,
        objects: usize,
    },
    #[serde(rename_all = "camelCase")]
    ObjectApplied {
        module: String,
        object: String,
        attempt: u32,
    },
    #[serde(rename_all = "camelCase")]
    ObjectRetry {
        module: String,
        object: String,
        class: RetryClass,
        message: String,
        attempt: u32,
        delay_ms: u64,
    },
    #[serde(rename_all = "camelCase")]
    ObjectFailed {
        module: String,
        object: String,
        message: String,
        origin: String,
    },
    /// An update hit an immutable field and replacing is allowed: the object is deleted and recreated.
    #[serde(rename_all = "camelCase")]
    ObjectReplacing {
        module: String,
        object: String,
        reason: String,
    },
    #[serde(rename_all = "camelCase")]
    ObjectWaiting {
        module: String,
        object: String,
        reason: String,
    },
    #[serde(rename_all = "camelCase")]
    ObjectReady { module: String, object: String },
    /// A request got no answer (refused, reset, timed out): the cluster is unreachable until
    /// `ClusterReachable`. Objects keep being retried meanwhile.
    #[serde(rename_all = "camelCase")]
    ClusterUnreachable { message: String },
    #[serde(rename_all = "camelCase")]
    ClusterReachable { after_ms: u64 },
    /// A readiness watch failed; it is retried with backoff, and its waiting objects name the error
    /// until it recovers.
    #[serde(rename_all = "camelCase")]
    WatchError {
        module: String,
        kind: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        namespace: Option<String>,
        message: String,
    },
    #[serde(rename_all = "camelCase")]
    ModuleFinished {
        module: String,
        state: super::ModuleState,
        ready: usize,
        total: usize,
        rounds: u32,
    },
}

impl Event {
    /// The same event from one of several clusters: its module reads `cluster/module`, so every output
    /// (bars, lines, ndjson) groups by cluster without knowing about clusters.
    pub fn in_cluster(mut self, cluster: &str) -> Event {
        match &mut self {
            Event::ModuleStarted { module, .. }
            | Event::ObjectApplied { module, .. }
            | Event::ObjectRetry { module, .. }
            | Event::ObjectFailed { module, .. }
            | Event::ObjectReplacing { module, .. }
            | Event::ObjectWaiting { module, .. }
            | Event::ObjectReady { module, .. }
            | Event::WatchError { module, .. }
            | Event::ModuleFinished { module, .. } => *module = format!("{cluster}/{module}"),
            Event::ClusterUnreachable { message } => *message = format!("{cluster}: {message}"),
            Event::ClusterReachable { .. } => {}
        }
        self
    }
}

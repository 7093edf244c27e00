//! What the engine tells the world. Every output (bars, plain lines, ndjson, the final JSON) is a
//! consumer of this one stream, so what a CI pipeline reads and what a person watches never disagree.

use serde::Serialize;

use super::classify::RetryClass;

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
    #[serde(rename_all = "camelCase")]
    ModuleFinished {
        module: String,
        state: super::ModuleState,
        ready: usize,
        total: usize,
        rounds: u32,
    },
}

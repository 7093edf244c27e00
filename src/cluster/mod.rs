//! The one seam to a Kubernetes API server: kubeconfig, discovery, server-side apply, get, delete,
//! watch. Knows nothing about modules. Requests are raw HTTP through kube's client so that every
//! answer keeps its HTTP code and headers (a plain-text `404 page not found` from an unknown group and
//! a `Retry-After` on 429 both matter to the engine).

pub mod classify;
mod connect;
pub mod discovery;
pub mod facts;
mod kept;
mod transport;
pub mod version;

use std::time::Duration;

use http_body_util::BodyExt;
use kube::client::Body;
use serde_json::Value;

pub use connect::{ConnectError, LABELS_EXTENSION, Target, connect, connect_within, targets};
pub use discovery::{Discovery, Resource};
pub use kept::{Kept, Listed, Versions};
pub use transport::share_pools;

/// The field manager every write uses.
pub const FIELD_MANAGER: &str = "kyma";

/// A connected cluster.
#[derive(Clone)]
pub struct Cluster {
    pub client: kube::Client,
    /// Context name and server URL, for messages (never credentials).
    pub context: String,
    pub server: String,
    pub server_version: String,
    pub discovery: Discovery,
    pub throttle: Throttle,
    /// What was made of lists before, while they stay the same (the operator's resyncs).
    pub kept: Kept,
}

/// Shared by every clone of a `Cluster`: once the server has answered 429, requests outside the engine
/// (discovery, guards, inventory, lock) go one at a time for the rest of the run. Their bursts (a LIST
/// per kind and namespace at once) are what makes API Priority and Fairness raise its Retry-After.
/// A deploy also holds its bookkeeping before the engine starts to one request at a time: it is a
/// handful of requests, and a server that rejects the second of two concurrent ones costs a whole
/// Retry-After on the critical path; the engine then probes for room with its slow start.
#[derive(Clone, Default)]
pub struct Throttle {
    throttled: std::sync::Arc<std::sync::atomic::AtomicBool>,
    held: std::sync::Arc<std::sync::atomic::AtomicBool>,
    gate: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Throttle {
    /// The server has throttled us: go one at a time from now on.
    pub fn throttled(&self) {
        self.throttled.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    /// One at a time until `release` (a deploy's bookkeeping before its engine starts).
    pub fn hold(&self) {
        self.held.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    pub fn release(&self) {
        self.held.store(false, std::sync::atomic::Ordering::Relaxed);
    }
    fn is_serial(&self) -> bool {
        self.throttled.load(std::sync::atomic::Ordering::Relaxed)
            || self.held.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Why a request got no answer. Start-up waits out `Refused` and `TimedOut` (a cluster still coming
/// up); `Tls` is a configuration problem no wait fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// Refused, reset or aborted: nothing listens (yet), or it went away.
    Refused,
    TimedOut,
    Tls,
    Other,
}

/// A failed request: what the server said, or that it could not be asked.
#[derive(Debug, Clone, Default, thiserror::Error)]
#[error("{}", self.describe())]
pub struct RequestError {
    /// HTTP status, `None` for transport failures.
    pub code: Option<u16>,
    /// `Status.reason` when the body was a Status (e.g. `Conflict`, `NotFound`, `Invalid`).
    pub reason: String,
    pub message: String,
    /// `Status.details.kind` (e.g. `namespaces` on a missing namespace).
    pub details_kind: String,
    /// `Status.details.causes`: which field was wrong and how, when the server said.
    pub causes: Vec<Cause>,
    pub retry_after: Option<Duration>,
    /// For a request that got no answer: why.
    pub transport: Option<Transport>,
}

/// One entry of `Status.details.causes`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cause {
    /// e.g. `FieldValueInvalid`, `FieldValueNotSupported`, `FieldManagerConflict`, `NamespaceTerminating`.
    pub reason: String,
    /// e.g. `spec.selector`, `.data.a`, `metadata.namespace`.
    pub field: String,
    pub message: String,
}

impl RequestError {
    fn describe(&self) -> String {
        match self.code {
            Some(c) => format!("HTTP {c}: {}", self.message),
            None => self.message.clone(),
        }
    }
    pub fn transport(message: impl Into<String>) -> Self {
        RequestError {
            message: message.into(),
            transport: Some(Transport::Other),
            ..Default::default()
        }
    }
    pub fn is_not_found(&self) -> bool {
        self.code == Some(404)
    }
    pub fn is_forbidden(&self) -> bool {
        self.code == Some(403)
    }
    /// A write refused because its namespace is being deleted (nothing new can be created in it until
    /// it is gone). The server says so in a cause; older servers and proxies that drop the details only
    /// in the message.
    pub fn namespace_terminating(&self) -> bool {
        self.causes.iter().any(|c| c.reason == "NamespaceTerminating")
            || (self.code == Some(403) && self.message.contains("because it is being terminated"))
    }
}

/// Options of one apply.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyOptions {
    pub force: bool,
    pub dry_run: bool,
    /// Hand a 429 straight back instead of waiting it out: the engine paces itself (AIMD) and needs to
    /// see every one.
    pub raw: bool,
}

impl Cluster {
    /// kube's request builder at `r`'s collection (in `namespace` when `r` is namespaced): every
    /// object request is built by it, then sent raw (below) so the HTTP code and headers survive.
    pub fn requests(r: &Resource, namespace: Option<&str>) -> kube::core::Request {
        let ns = if r.namespaced { namespace } else { None };
        kube::core::Request::new(<kube::core::DynamicObject as kube::core::Resource>::url_path(
            &r.api_resource(),
            ns,
        ))
    }

    /// A GET of a path outside any resource (`/version`, discovery's `/api` and `/apis/GROUP/VERSION`).
    pub async fn get_path(&self, path: &str) -> Result<Value, RequestError> {
        let req = http::Request::get(path)
            .body(Vec::new())
            .map_err(|e| RequestError::transport(e.to_string()))?;
        self.send(req).await
    }

    /// Send a request, waiting out the server's 429s (its Retry-After, else a backoff) for up to a
    /// minute: every read and write outside the engine (discovery, lock, inventory, guards) goes through
    /// here, so a throttling server slows kyma down instead of failing it.
    pub async fn send(&self, req: http::Request<Vec<u8>>) -> Result<Value, RequestError> {
        self.send_as(req).await
    }

    /// `send`, the answer read as `T` (only the fields it has: a list of thousands of objects need not
    /// become a tree of values to give their names).
    pub async fn send_as<T: serde::de::DeserializeOwned>(
        &self,
        req: http::Request<Vec<u8>>,
    ) -> Result<T, RequestError> {
        use backon::Retryable;
        const PATIENCE: Duration = Duration::from_secs(60);
        let start = std::time::Instant::now();
        let (this, req) = (self, &req);
        (move || async move {
            // Held for this one round trip, not while waiting out a 429.
            let _gate = match this.throttle.is_serial() {
                true => Some(this.throttle.gate.lock().await),
                false => None,
            };
            this.send_once_as(clone_request(req)).await
        })
        .retry(classify::delays(usize::MAX))
        .when(|e| e.code == Some(429) && start.elapsed() < PATIENCE)
        .adjust(|e, next| {
            Some(
                e.retry_after
                    .or(next)?
                    .min(PATIENCE.saturating_sub(start.elapsed())),
            )
        })
        .notify(|_, _| self.throttle.throttled())
        .await
    }

    /// One HTTP round trip. Non-2xx answers become `RequestError` with code, reason and headers.
    pub async fn send_once(&self, req: http::Request<Vec<u8>>) -> Result<Value, RequestError> {
        self.send_once_as(req).await
    }

    async fn send_once_as<T: serde::de::DeserializeOwned>(
        &self,
        req: http::Request<Vec<u8>>,
    ) -> Result<T, RequestError> {
        let mut req = req.map(Body::from);
        // JSON unless the request asks for a form of it (a metadata-only list).
        req.headers_mut()
            .entry(http::header::ACCEPT)
            .or_insert(http::HeaderValue::from_static("application/json"));
        let resp = self.client.send(req).await.map_err(|e| self.unanswered(&e))?;
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| RequestError::transport(format!("reading the response: {e}")))?
            .to_bytes();
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| RequestError::transport(format!("the server's answer cannot be read: {e}")));
        }
        let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
        let text = String::from_utf8_lossy(&bytes).trim().to_string();
        let field = |p: &str| {
            parsed
                .as_ref()
                .and_then(|v| v.pointer(p))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let message = if parsed.is_some() && !field("/message").is_empty() {
            field("/message")
        } else {
            text
        };
        Err(RequestError {
            code: Some(status.as_u16()),
            reason: field("/reason"),
            message,
            details_kind: field("/details/kind"),
            causes: parsed
                .as_ref()
                .and_then(|v| v.pointer("/details/causes"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| {
                    let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    Cause {
                        reason: s("reason"),
                        field: s("field"),
                        message: s("message"),
                    }
                })
                .collect(),
            retry_after,
            transport: None,
        })
    }

    /// A request that got no answer, said once, with the server and context it was for.
    fn unanswered(&self, e: &kube::Error) -> RequestError {
        let (kind, cause) = transport_cause(e);
        let message = match kind {
            Transport::Tls => format!(
                "TLS with {} (context {}) failed: {cause}",
                self.server, self.context
            ),
            _ => format!("cannot reach {} (context {}): {cause}", self.server, self.context),
        };
        RequestError {
            message,
            transport: Some(kind),
            ..Default::default()
        }
    }

    /// Server-side apply one object with field manager `kyma`.
    pub async fn apply(
        &self,
        r: &Resource,
        object: &Value,
        opts: ApplyOptions,
    ) -> Result<Value, RequestError> {
        let (ns, name) = namespace_and_name(object);
        let mut params = kube::api::PatchParams::apply(FIELD_MANAGER);
        params.force = opts.force;
        params.dry_run = opts.dry_run;
        let req = Self::requests(r, ns)
            .patch(name, &params, &kube::api::Patch::Apply(object))
            .map_err(built)?;
        if opts.raw {
            self.send_once(req).await
        } else {
            self.send(req).await
        }
    }

    pub async fn get(
        &self,
        r: &Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Value>, RequestError> {
        let req = Self::requests(r, namespace)
            .get(name, &kube::api::GetParams::default())
            .map_err(built)?;
        match self.send(req).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// List a collection, optionally by label selector; all namespaces when `namespace` is None.
    pub async fn list(
        &self,
        r: &Resource,
        namespace: Option<&str>,
        label_selector: Option<&str>,
    ) -> Result<Vec<Value>, RequestError> {
        let req = Self::requests(r, namespace)
            .list(&list_params(label_selector))
            .map_err(built)?;
        Ok(items_of(self.send(req).await?))
    }

    /// Create an object (the lock's Lease: unlike apply, a create fails if someone was first).
    pub async fn create(&self, r: &Resource, object: &Value) -> Result<Value, RequestError> {
        let (ns, _) = namespace_and_name(object);
        let body = serde_json::to_vec(object).expect("a JSON value serialises");
        let req = Self::requests(r, ns)
            .create(&kube::api::PostParams::default(), body)
            .map_err(built)?;
        self.send(req).await
    }

    /// Replace an object; its `resourceVersion` makes this a compare-and-swap.
    pub async fn replace(&self, r: &Resource, object: &Value) -> Result<Value, RequestError> {
        let (ns, name) = namespace_and_name(object);
        let body = serde_json::to_vec(object).expect("a JSON value serialises");
        let req = Self::requests(r, ns)
            .replace(name, &kube::api::PostParams::default(), body)
            .map_err(built)?;
        self.send(req).await
    }

    /// A JSON merge patch of an object, or of its `status` subresource.
    pub async fn merge_patch(
        &self,
        r: &Resource,
        namespace: Option<&str>,
        name: &str,
        subresource: Option<&str>,
        patch: &Value,
    ) -> Result<Value, RequestError> {
        let params = kube::api::PatchParams::default();
        let patch = kube::api::Patch::Merge(patch);
        let requests = Self::requests(r, namespace);
        let req = match subresource {
            Some(sub) => requests.patch_subresource(sub, name, &params, &patch),
            None => requests.patch(name, &params, &patch),
        }
        .map_err(built)?;
        self.send(req).await
    }

    /// Delete with background propagation; a missing object is not an error.
    pub async fn delete(
        &self,
        r: &Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<(), RequestError> {
        let req = Self::requests(r, namespace)
            .delete(name, &kube::api::DeleteParams::background())
            .map_err(built)?;
        match self.send(req).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Delete only the version `resource_version` of an object: if it was written since, the server
    /// refuses (409) and it stays.
    pub async fn delete_version(
        &self,
        r: &Resource,
        namespace: Option<&str>,
        name: &str,
        resource_version: &str,
    ) -> Result<(), RequestError> {
        let params = kube::api::DeleteParams {
            preconditions: Some(kube::api::Preconditions {
                resource_version: Some(resource_version.to_string()),
                uid: None,
            }),
            ..kube::api::DeleteParams::background()
        };
        let req = Self::requests(r, namespace)
            .delete(name, &params)
            .map_err(built)?;
        self.send(req).await.map(|_| ())
    }

    /// Replace the status of an object (tests play the kubelet with this).
    pub async fn replace_status(&self, r: &Resource, object: &Value) -> Result<Value, RequestError> {
        let (ns, name) = namespace_and_name(object);
        let body = serde_json::to_vec(object).expect("a JSON value serialises");
        let req = Self::requests(r, ns)
            .replace_subresource("status", name, &kube::api::PostParams::default(), body)
            .map_err(built)?;
        self.send(req).await
    }

    /// A dynamic `Api` for watches (kube-runtime's watcher does the resourceVersion bookkeeping).
    pub fn dynamic_api(&self, r: &Resource, namespace: Option<&str>) -> kube::Api<kube::api::DynamicObject> {
        self.api_of(r, namespace)
    }

    /// The same, asking for names and versions only (metadata-only requests and watches).
    pub fn metadata_api(
        &self,
        r: &Resource,
        namespace: Option<&str>,
    ) -> kube::Api<kube::core::PartialObjectMeta<kube::api::DynamicObject>> {
        self.api_of(r, namespace)
    }

    fn api_of<K>(&self, r: &Resource, namespace: Option<&str>) -> kube::Api<K>
    where
        K: kube::Resource<DynamicType = kube::api::ApiResource, Scope = kube::core::DynamicResourceScope>,
    {
        let ar = r.api_resource();
        match (r.namespaced, namespace) {
            (true, Some(ns)) => kube::Api::namespaced_with(self.client.clone(), ns, &ar),
            _ => kube::Api::all_with(self.client.clone(), &ar),
        }
    }
}

fn list_params(label_selector: Option<&str>) -> kube::api::ListParams {
    let params = kube::api::ListParams::default();
    match label_selector {
        Some(sel) => params.labels(sel),
        None => params,
    }
}

/// A list's items, taken out of it (a LIST of thousands of objects is not copied).
fn items_of(list: Value) -> Vec<Value> {
    match list {
        Value::Object(mut m) => match m.remove("items") {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn namespace_and_name(object: &Value) -> (Option<&str>, &str) {
    use crate::object::Fields;
    (object.str_at(&["metadata", "namespace"]), object.name_or_empty())
}

/// kube's builder refuses only what no server would take (an empty name): say so as a failed request.
fn built(e: kube::core::request::Error) -> RequestError {
    RequestError::transport(format!("cannot build the request: {e}"))
}

/// `send` may try a request more than once; `http::Request` is not `Clone` (its extensions are not).
fn clone_request(req: &http::Request<Vec<u8>>) -> http::Request<Vec<u8>> {
    let mut copy = http::Request::new(req.body().clone());
    *copy.method_mut() = req.method().clone();
    *copy.uri_mut() = req.uri().clone();
    *copy.headers_mut() = req.headers().clone();
    copy
}

fn transport_cause(e: &kube::Error) -> (Transport, String) {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut kind = Transport::Other;
    let mut last = e.to_string();
    while let Some(x) = current {
        if let Some(io) = x.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            match io.kind() {
                K::ConnectionRefused => return (Transport::Refused, "connection refused".into()),
                K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
                    return (Transport::Refused, format!("connection lost ({io})"));
                }
                K::TimedOut => return (Transport::TimedOut, "timed out".into()),
                _ => {}
            }
            // An io::Error's `source()` skips the error it wraps (rustls's, or another io::Error):
            // walk into it instead.
            if let Some(inner) = io.get_ref() {
                current = Some(inner as &(dyn std::error::Error + 'static));
                continue;
            }
        }
        if let Some(tls) = x.downcast_ref::<rustls::Error>() {
            return (Transport::Tls, tls_in_words(tls));
        }
        let text = x.to_string();
        let lower = text.to_ascii_lowercase();
        if lower.contains("elapsed") || lower.contains("timed out") {
            kind = Transport::TimedOut;
        } else if lower.contains("tls") || lower.contains("certificate") {
            kind = Transport::Tls;
        }
        last = text;
        current = x.source();
    }
    (kind, last)
}

/// What rustls refused, said for the person who has to fix the kubeconfig or the certificate.
fn tls_in_words(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateMessage { .. } => format!(
            "the server does not answer with TLS ({e}); is the server URL's port the API server's HTTPS port?"
        ),
        rustls::Error::InvalidCertificate(c) => match c {
            C::Expired | C::ExpiredContext { .. } => {
                format!("the server's certificate has expired ({e}); renew it, or check this machine's clock")
            }
            C::NotValidYet | C::NotValidYetContext { .. } => {
                format!("the server's certificate is not valid yet ({e}); check this machine's clock")
            }
            C::UnknownIssuer => format!(
                "the server's certificate is not signed by the CA the kubeconfig names (certificate-authority or \
                 certificate-authority-data of the cluster entry) ({e})"
            ),
            C::NotValidForName | C::NotValidForNameContext { .. } => format!(
                "the server's certificate does not list this address in its subject alternative names ({e}); use \
                 a server URL the certificate names, or re-issue it with this address as a SAN"
            ),
            C::BadEncoding | C::Other(_) => format!(
                "the server's certificate cannot be used ({e}); rustls accepts X.509 v3 certificates only: \
                 re-issue it with v3 extensions (subjectAltName, keyUsage, basicConstraints)"
            ),
            _ => format!("the server's certificate is refused: {e}"),
        },
        _ if e.to_string().contains("CaUsedAsEndEntity") => format!(
            "the server presents a CA certificate as its own serving certificate ({e}); issue it a separate \
             serving certificate signed by that CA"
        ),
        _ => e.to_string(),
    }
}

//! The one seam to a Kubernetes API server: kubeconfig, discovery, server-side apply, get, delete,
//! watch. Knows nothing about modules. Requests are raw HTTP through kube's client so that every
//! answer keeps its HTTP code and headers (a plain-text `404 page not found` from an unknown group and
//! a `Retry-After` on 429 both matter to the engine).

mod connect;
pub mod discovery;

use std::time::Duration;

use http_body_util::BodyExt;
use kube::client::Body;
use serde_json::Value;

pub use connect::{ConnectError, connect};
pub use discovery::{Discovery, Resource};

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
}

/// A failed request: what the server said, or that it could not be asked.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.describe())]
pub struct RequestError {
    /// HTTP status, `None` for transport failures.
    pub code: Option<u16>,
    /// `Status.reason` when the body was a Status (e.g. `Conflict`, `NotFound`, `Invalid`).
    pub reason: String,
    pub message: String,
    /// `Status.details.kind` (e.g. `namespaces` on a missing namespace).
    pub details_kind: String,
    pub retry_after: Option<Duration>,
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
            code: None,
            reason: String::new(),
            message: message.into(),
            details_kind: String::new(),
            retry_after: None,
        }
    }
}

/// Options of one apply.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyOptions {
    pub force: bool,
    pub dry_run: bool,
}

impl Cluster {
    /// Path of a collection (`/apis/apps/v1/namespaces/x/deployments`).
    pub fn collection_path(r: &Resource, namespace: Option<&str>) -> String {
        let base = if r.group.is_empty() {
            format!("/api/{}", r.version)
        } else {
            format!("/apis/{}/{}", r.group, r.version)
        };
        match (r.namespaced, namespace) {
            (true, Some(ns)) => format!("{base}/namespaces/{ns}/{}", r.plural),
            _ => format!("{base}/{}", r.plural),
        }
    }

    pub fn object_path(r: &Resource, namespace: Option<&str>, name: &str) -> String {
        format!("{}/{}", Self::collection_path(r, namespace), name)
    }

    /// One HTTP round trip. Non-2xx answers become `RequestError` with code, reason and headers.
    pub async fn request(
        &self,
        method: http::Method,
        path: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<Value, RequestError> {
        let mut req = http::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::ACCEPT, "application/json");
        if let Some(ct) = content_type {
            req = req.header(http::header::CONTENT_TYPE, ct);
        }
        let req = req
            .body(Body::from(body))
            .map_err(|e| RequestError::transport(e.to_string()))?;
        let resp = self
            .client
            .send(req)
            .await
            .map_err(|e| RequestError::transport(transport_message(&e)))?;
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
        let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
        if status.is_success() {
            return parsed
                .ok_or_else(|| RequestError::transport("the server answered with a body that is not JSON"));
        }
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
            retry_after,
        })
    }

    /// Server-side apply one object with field manager `kyma`.
    pub async fn apply(
        &self,
        r: &Resource,
        object: &Value,
        opts: ApplyOptions,
    ) -> Result<Value, RequestError> {
        let ns = object.pointer("/metadata/namespace").and_then(Value::as_str);
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let mut path = format!("{}?fieldManager={FIELD_MANAGER}", Self::object_path(r, ns, name));
        if opts.force {
            path.push_str("&force=true");
        }
        if opts.dry_run {
            path.push_str("&dryRun=All");
        }
        let body = serde_json::to_vec(object).expect("a JSON value serialises");
        // JSON is YAML, and the apply content type takes YAML.
        self.request(
            http::Method::PATCH,
            &path,
            Some("application/apply-patch+yaml"),
            body,
        )
        .await
    }

    pub async fn get(
        &self,
        r: &Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Value>, RequestError> {
        match self
            .request(
                http::Method::GET,
                &Self::object_path(r, namespace, name),
                None,
                vec![],
            )
            .await
        {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.code == Some(404) => Ok(None),
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
        let mut path = Self::collection_path(r, namespace);
        if let Some(sel) = label_selector {
            path.push_str(&format!("?labelSelector={}", urlencode(sel)));
        }
        let list = self.request(http::Method::GET, &path, None, vec![]).await?;
        Ok(list
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }

    /// Delete with background propagation; a missing object is not an error.
    pub async fn delete(
        &self,
        r: &Resource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<(), RequestError> {
        let body = serde_json::to_vec(&serde_json::json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"})).unwrap();
        match self
            .request(
                http::Method::DELETE,
                &Self::object_path(r, namespace, name),
                Some("application/json"),
                body,
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code == Some(404) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Replace the status of an object (tests play the kubelet with this).
    pub async fn replace_status(&self, r: &Resource, object: &Value) -> Result<Value, RequestError> {
        let ns = object.pointer("/metadata/namespace").and_then(Value::as_str);
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let path = format!("{}/status", Self::object_path(r, ns, name));
        self.request(
            http::Method::PUT,
            &path,
            Some("application/json"),
            serde_json::to_vec(object).unwrap(),
        )
        .await
    }

    /// A dynamic `Api` for watches (kube-runtime's watcher does the resourceVersion bookkeeping).
    pub fn dynamic_api(&self, r: &Resource, namespace: Option<&str>) -> kube::Api<kube::api::DynamicObject> {
        let ar = kube::api::ApiResource {
            group: r.group.clone(),
            version: r.version.clone(),
            api_version: r.api_version(),
            kind: r.kind.clone(),
            plural: r.plural.clone(),
        };
        match (r.namespaced, namespace) {
            (true, Some(ns)) => kube::Api::namespaced_with(self.client.clone(), ns, &ar),
            _ => kube::Api::all_with(self.client.clone(), &ar),
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The innermost cause of a transport error is the useful part ("connection refused").
pub fn transport_message(e: &kube::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

//! A kcp-like endpoint in front of a bed, for the tests (`support.rs` re-exports it) and, as the
//! `path-proxy` example, for `scripts/bench.sh`.

use std::path::PathBuf;

use serde_json::{Value, json};

/// A client for the bed of `kubeconfig`, as the bed's admin (kyma's own connect: no hidden retries).
async fn client_of(kubeconfig: &std::path::Path) -> kube::Client {
    kyma::testkit::tls::install_crypto_provider();
    kyma::testkit::cluster::connect(Some(&kubeconfig.to_path_buf()), None)
        .await
        .expect("connect to the bed")
        .client
}

/// What follows a workspace prefix in a request's path and query, if the prefix is whole path segments
/// of it (`/clusters/a` is not under `/clusters/a-b`).
pub fn under_workspace<'a>(path_and_query: &'a str, prefix: &str) -> Option<&'a str> {
    path_and_query
        .strip_prefix(prefix)
        .filter(|r| r.is_empty() || r.starts_with(['/', '?']))
}

/// A kcp-like endpoint in front of a bed: a plain-HTTP reverse proxy on loopback that serves the bed
/// under one or more path prefixes (`/clusters/root:org:team`), as a kcp host serves its workspaces.
/// Every request reaches the real server (as the bed's admin); the proxy only strips the prefix,
/// records the paths it was asked for, and can hide API groups per workspace (a fresh workspace serves
/// far fewer than a cluster).
pub struct PathProxy {
    pub base: String,
    pub prefix: String,
    /// Every request's path and query as received (prefix included), in order.
    pub paths: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// The paths of the requests that change something (any method but GET), in order.
    pub writes: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    faults: std::sync::Arc<std::sync::Mutex<Vec<Fault>>>,
    task: tokio::task::JoinHandle<()>,
}

/// An answer the proxy gives in the server's place: a Kubernetes `Status` with `code` and `reason`, to
/// `method` requests for exactly `path` (after the workspace prefix, without the query), from the
/// `after`+1-th such request on. What a server mid-restart or an aggregated API that is down answers.
#[derive(Debug, Clone)]
pub struct Fault {
    pub method: http::Method,
    pub path: String,
    pub after: usize,
    pub code: u16,
    pub reason: String,
    seen: usize,
}

impl Fault {
    pub fn new(method: http::Method, path: &str, after: usize, code: u16, reason: &str) -> Fault {
        Fault {
            method,
            path: path.to_string(),
            after,
            code,
            reason: reason.to_string(),
            seen: 0,
        }
    }

    /// The answer to this request, if the fault takes it.
    fn answer(&mut self, method: &http::Method, path: &str) -> Option<http::Response<kube::client::Body>> {
        if *method != self.method || path != self.path {
            return None;
        }
        self.seen += 1;
        if self.seen <= self.after {
            return None;
        }
        let status = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": format!("injected by the test proxy: {} {} answers {}", self.method, self.path, self.code),
            "reason": self.reason, "code": self.code});
        Some(
            http::Response::builder()
                .status(self.code)
                .header("content-type", "application/json")
                .body(kube::client::Body::from(serde_json::to_vec(&status).unwrap()))
                .unwrap(),
        )
    }
}

impl PathProxy {
    pub async fn start(upstream: &std::path::Path, prefix: &str, hidden_groups: &[&str]) -> PathProxy {
        PathProxy::start_many(upstream, &[(prefix, hidden_groups)]).await
    }

    /// Several workspaces on one host and port, each with the groups it hides; `prefix` is the first.
    pub async fn start_many(upstream: &std::path::Path, workspaces: &[(&str, &[&str])]) -> PathProxy {
        let client = client_of(upstream).await;
        Self::start_with(client, "127.0.0.1:0", workspaces).await
    }

    /// The same with a client of one's own, listening on `listen` (`127.0.0.1:0`: any free port).
    pub async fn start_with(client: kube::Client, listen: &str, workspaces: &[(&str, &[&str])]) -> PathProxy {
        use http_body_util::BodyExt;
        let listener = tokio::net::TcpListener::bind(listen).await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let paths = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let writes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let spaces: Vec<(String, Vec<String>)> = workspaces
            .iter()
            .map(|(p, hidden)| (p.to_string(), hidden.iter().map(|g| g.to_string()).collect()))
            .collect();
        let prefix = spaces[0].0.clone();
        let faults: std::sync::Arc<std::sync::Mutex<Vec<Fault>>> = Default::default();
        let shared = std::sync::Arc::new((client, spaces, paths.clone(), faults.clone(), writes.clone()));
        let task = tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                            let shared = shared.clone();
                            async move {
                                let (client, spaces, paths, faults, writes) = &*shared;
                                let pq = req
                                    .uri()
                                    .path_and_query()
                                    .map(|p| p.as_str().to_string())
                                    .unwrap_or_default();
                                paths.lock().unwrap().push(pq.clone());
                                if req.method() != http::Method::GET {
                                    writes.lock().unwrap().push(pq.clone());
                                }
                                let reply = |code: u16, text: &str| {
                                    http::Response::builder()
                                        .status(code)
                                        .header("content-type", "text/plain")
                                        .body(kube::client::Body::from(text.as_bytes().to_vec()))
                                        .unwrap()
                                };
                                let found = spaces
                                    .iter()
                                    .find_map(|(p, hidden)| under_workspace(&pq, p).map(|r| (r, hidden)));
                                let Some((rest, hidden)) = found else {
                                    return Ok::<_, std::convert::Infallible>(reply(
                                        404,
                                        "not under a workspace prefix",
                                    ));
                                };
                                let rest = if rest.is_empty() {
                                    "/".to_string()
                                } else {
                                    rest.to_string()
                                };
                                let path = rest.split('?').next().unwrap_or("").to_string();
                                if hidden.iter().any(|g| {
                                    path.starts_with(&format!("/apis/{g}/")) || path == format!("/apis/{g}")
                                }) {
                                    return Ok(reply(404, "404 page not found"));
                                }
                                let injected = faults
                                    .lock()
                                    .unwrap()
                                    .iter_mut()
                                    .find_map(|f| f.answer(req.method(), &path));
                                if let Some(answer) = injected {
                                    return Ok(answer);
                                }
                                let (parts, body) = req.into_parts();
                                let bytes = body
                                    .collect()
                                    .await
                                    .map(|b| b.to_bytes().to_vec())
                                    .unwrap_or_default();
                                let mut fwd =
                                    http::Request::builder().method(parts.method).uri(rest.as_str());
                                for (k, v) in parts.headers.iter() {
                                    if k != http::header::HOST && k != http::header::CONTENT_LENGTH {
                                        fwd = fwd.header(k, v);
                                    }
                                }
                                let fwd = fwd.body(kube::client::Body::from(bytes)).unwrap();
                                let resp = match client.send(fwd).await {
                                    Ok(r) => r,
                                    Err(e) => return Ok(reply(502, &e.to_string())),
                                };
                                if path != "/apis" || hidden.is_empty() {
                                    return Ok(resp);
                                }
                                // The group list without the hidden groups.
                                let (parts, body) = resp.into_parts();
                                let bytes = body
                                    .collect()
                                    .await
                                    .map(|b| b.to_bytes().to_vec())
                                    .unwrap_or_default();
                                let mut list: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                                if let Some(groups) = list.get_mut("groups").and_then(Value::as_array_mut) {
                                    groups.retain(|g| !hidden.iter().any(|h| g["name"] == h.as_str()));
                                }
                                let mut resp = http::Response::from_parts(
                                    parts,
                                    kube::client::Body::from(serde_json::to_vec(&list).unwrap()),
                                );
                                resp.headers_mut().remove(http::header::CONTENT_LENGTH);
                                Ok(resp)
                            }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(sock), service)
                        .await;
                });
            }
        });
        PathProxy {
            base,
            prefix,
            paths,
            writes,
            faults,
            task,
        }
    }

    /// From now on, answer what `fault` matches in the server's place.
    pub fn inject(&self, fault: Fault) {
        self.faults.lock().unwrap().push(fault);
    }

    /// Answer everything as the server does again.
    pub fn heal(&self) {
        self.faults.lock().unwrap().clear();
    }

    /// A kubeconfig for the workspace: the proxy's URL with the prefix, and no credentials (the proxy
    /// brings them).
    pub fn kubeconfig(&self, dir: &std::path::Path, name: &str) -> PathBuf {
        self.kubeconfig_for(dir, name, &self.prefix)
    }

    /// The same for another workspace of this proxy.
    pub fn kubeconfig_for(&self, dir: &std::path::Path, name: &str, prefix: &str) -> PathBuf {
        let path = dir.join(format!("{name}.kubeconfig"));
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: {}{}\nusers:\n- name: {name}\n  user: {{}}\ncontexts:\n- name: {name}\n  context: {{cluster: {name}, user: {name}}}\ncurrent-context: {name}\n",
                self.base, prefix
            ),
        )
        .unwrap();
        path
    }

    pub fn seen(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }
}

impl Drop for PathProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

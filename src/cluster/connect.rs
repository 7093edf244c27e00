//! Reading the kubeconfig the way kubectl does and proving the server answers before any work.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use kube::config::{Config, KubeConfigOptions, Kubeconfig};

use super::{Cluster, Discovery};

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("kubeconfig {file}: {message}")]
    BadKubeconfig { file: String, message: String },
    #[error("kubeconfig {file}: no context named '{name}' (available: {})", .available.join(", "))]
    UnknownContext {
        file: String,
        name: String,
        available: Vec<String>,
    },
    #[error(
        "no kubeconfig: pass --kubeconfig FILE, set KUBECONFIG, create ~/.kube/config, or run inside a cluster"
    )]
    NoConfig,
    /// `message` names the server and context already.
    #[error("{message}")]
    Unreachable {
        context: String,
        server: String,
        message: String,
        /// Nothing answered yet, or the server said it is not ready (5xx/429): a cluster still coming up
        /// looks like this, so start-up may wait. TLS and credential problems are never transient.
        transient: bool,
    },
    #[error(
        "the cluster of context '{context}' at {server} refused our credentials (HTTP {code}): {message}; check the user of this context"
    )]
    Unauthorized {
        context: String,
        server: String,
        code: u16,
        message: String,
    },
    /// The cluster did not answer within `--wait-for-cluster`; `last` says how it failed at the end.
    #[error("gave up waiting for the cluster after {waited_secs:.0} s")]
    GaveUp {
        waited_secs: f64,
        #[source]
        last: Box<ConnectError>,
    },
}

impl ConnectError {
    /// The failure itself, under any waiting for the cluster that came before it.
    pub fn last(&self) -> &ConnectError {
        match self {
            ConnectError::GaveUp { last, .. } => last.last(),
            e => e,
        }
    }
}

/// Where the kubeconfig comes from, in kubectl's order.
fn load_kubeconfig(explicit: Option<&PathBuf>) -> Result<Option<(String, Kubeconfig)>, ConnectError> {
    let bad = |file: String, e: &dyn std::fmt::Display| ConnectError::BadKubeconfig {
        file,
        message: e.to_string(),
    };
    if let Some(path) = explicit {
        let file = path.display().to_string();
        if !path.exists() {
            return Err(ConnectError::BadKubeconfig {
                file,
                message: "file not found".into(),
            });
        }
        return Kubeconfig::read_from(path)
            .map(|k| Some((file.clone(), k)))
            .map_err(|e| bad(file, &e));
    }
    if let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        let file = list.to_string_lossy().to_string();
        return Kubeconfig::from_env()
            .map(|k| k.map(|k| (file.clone(), k)))
            .map_err(|e| bad(format!("$KUBECONFIG={file}"), &e));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let default = home.join(".kube").join("config");
    if default.exists() {
        let file = default.display().to_string();
        return Kubeconfig::read_from(&default)
            .map(|k| Some((file.clone(), k)))
            .map_err(|e| bad(file, &e));
    }
    Ok(None)
}

/// One cluster a run works on: a context of a kubeconfig file (`None`: kubectl's search), and how
/// reports name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kubeconfig: Option<PathBuf>,
    /// A kubeconfig held in memory instead of a file (the operator reads one from a Secret; nothing is
    /// written to disk for it). `label` names it in messages.
    pub inline: Option<String>,
    pub context: Option<String>,
    /// The context name; with the file added when two files name a context alike.
    pub label: String,
    /// Say on stderr that the cluster is waited for (`--wait-for-cluster`). Off where nothing may be
    /// printed beside a display that owns the terminal (the fleet's bar) or a log (the operator): the
    /// error then says how long it waited.
    pub say_waits: bool,
    /// The context's labels: the kubeconfig context's extension named `kyma-project.io/labels` (a map
    /// of strings), for `--waves-by`.
    pub labels: BTreeMap<String, String>,
}

/// The kubeconfig context extension whose map kyma reads as the context's labels.
pub const LABELS_EXTENSION: &str = "kyma-project.io/labels";

fn labels_of(kc: &Kubeconfig, context: &str) -> BTreeMap<String, String> {
    kc.contexts
        .iter()
        .find(|c| c.name == context)
        .and_then(|c| c.context.as_ref()?.extensions.as_ref())
        .into_iter()
        .flatten()
        .filter(|e| e.name == LABELS_EXTENSION)
        .filter_map(|e| e.extension.as_object())
        .flatten()
        .map(|(k, v)| {
            (
                k.clone(),
                v.as_str().map_or_else(|| v.to_string(), str::to_string),
            )
        })
        .collect()
}

/// The clusters `--kubeconfig` (repeatable), `--context` (repeatable) and `--all-contexts` select.
/// Several `--kubeconfig` files without `--context` mean the current context of each. `$KUBECONFIG`
/// with several files is merged as kubectl merges it (one current context), so an environment set
/// up for kubectl never fans out by surprise: repeat `--context` or pass `--all-contexts` for that.
pub fn targets(files: &[PathBuf], contexts: &[String], all: bool) -> Result<Vec<Target>, ConnectError> {
    let mut out: Vec<Target> = Vec::new();
    let target = |file: Option<&PathBuf>, context: Option<&str>, label: &str| Target {
        kubeconfig: file.cloned(),
        inline: None,
        context: context.map(str::to_string),
        label: label.to_string(),
        say_waits: true,
        labels: BTreeMap::new(),
    };
    if files.is_empty() && !all && contexts.len() <= 1 {
        let label = contexts.first().cloned().unwrap_or_default();
        return Ok(vec![target(None, contexts.first().map(String::as_str), &label)]);
    }
    let labelled = |file: Option<&PathBuf>, kc: &Kubeconfig, context: &str| Target {
        labels: labels_of(kc, context),
        ..target(file, Some(context), context)
    };
    let loaded: Vec<(Option<&PathBuf>, String, Kubeconfig)> = if files.is_empty() {
        let (file, kc) = load_kubeconfig(None)?.ok_or(ConnectError::NoConfig)?;
        vec![(None, file, kc)]
    } else {
        let mut v = Vec::new();
        for f in files {
            let (file, kc) = load_kubeconfig(Some(f))?.ok_or(ConnectError::NoConfig)?;
            v.push((Some(f), file, kc));
        }
        v
    };
    if all {
        for (f, _, kc) in &loaded {
            for c in &kc.contexts {
                out.push(labelled(*f, kc, &c.name));
            }
        }
    } else if !contexts.is_empty() {
        for name in contexts {
            let Some((f, _, kc)) = loaded
                .iter()
                .find(|(_, _, kc)| kc.contexts.iter().any(|c| &c.name == name))
            else {
                return Err(ConnectError::UnknownContext {
                    file: loaded
                        .iter()
                        .map(|(_, file, _)| file.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    name: name.clone(),
                    available: loaded
                        .iter()
                        .flat_map(|(_, _, kc)| kc.contexts.iter().map(|c| c.name.clone()))
                        .collect(),
                });
            };
            out.push(labelled(*f, kc, name));
        }
    } else {
        for (f, file, kc) in &loaded {
            let label = kc.current_context.clone().unwrap_or_else(|| file.clone());
            let labels = kc
                .current_context
                .as_deref()
                .map(|c| labels_of(kc, c))
                .unwrap_or_default();
            out.push(Target {
                labels,
                ..target(*f, None, &label)
            });
        }
    }
    out.dedup_by(|a, b| a == b);
    // Two files may both call their context `default` (kind, k3d): tell them apart by file.
    let labels: Vec<String> = out.iter().map(|t| t.label.clone()).collect();
    for t in &mut out {
        if labels.iter().filter(|l| **l == t.label).count() > 1
            && let Some(f) = &t.kubeconfig
        {
            t.label = format!("{}@{}", t.label, f.display());
        }
    }
    if out.is_empty() {
        return Err(ConnectError::NoConfig);
    }
    Ok(out)
}

/// Strip `user:password@` from a URL before it is shown anywhere.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s && !url[s + 3..at].contains('/') => {
            format!("{}{}", &url[..s + 3], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

/// Connect, waiting up to `window` for a cluster that does not answer yet (a CI job that just created
/// it): refused connections, timeouts and "not ready" 5xx are retried with backoff and said on stderr
/// once, then every few seconds. Everything else fails at once.
pub async fn connect_within(target: &Target, window: Duration) -> Result<Cluster, ConnectError> {
    let start = Instant::now();
    let mut attempt = 0;
    let mut last_said: Option<Instant> = None;
    loop {
        match connect_target(target).await {
            Ok(c) => {
                if last_said.is_some() && target.say_waits {
                    eprintln!(
                        "the cluster answered after {:.1} s",
                        start.elapsed().as_secs_f64()
                    );
                }
                return Ok(c);
            }
            Err(e) if e.is_transient() && start.elapsed() < window => {
                attempt += 1;
                if !target.say_waits {
                    last_said.get_or_insert_with(Instant::now);
                } else if last_said.is_none_or(|t| t.elapsed() >= Duration::from_secs(5)) {
                    let left = window.saturating_sub(start.elapsed()).as_secs_f64().ceil();
                    eprintln!(
                        "waiting for the cluster: {e}; retrying for up to {left} s more (--wait-for-cluster)"
                    );
                    last_said = Some(Instant::now());
                }
                let wait = super::classify::backoff(attempt).min(Duration::from_secs(2));
                tokio::time::sleep(wait.min(window.saturating_sub(start.elapsed()))).await;
            }
            Err(e) => {
                return Err(match last_said {
                    Some(_) => ConnectError::GaveUp {
                        waited_secs: start.elapsed().as_secs_f64(),
                        last: Box::new(e),
                    },
                    None => e,
                });
            }
        }
    }
}

/// Connect as kubectl would and check that the server answers and accepts us.
pub async fn connect(kubeconfig: Option<&PathBuf>, context: Option<&str>) -> Result<Cluster, ConnectError> {
    connect_with(load_kubeconfig(kubeconfig)?, context).await
}

/// Connect to a target: the kubeconfig it holds in memory, or its file (kubectl's search without one).
pub async fn connect_target(target: &Target) -> Result<Cluster, ConnectError> {
    let loaded = match &target.inline {
        Some(text) => Some((
            target.label.clone(),
            Kubeconfig::from_yaml(text).map_err(|e| ConnectError::BadKubeconfig {
                file: target.label.clone(),
                message: e.to_string(),
            })?,
        )),
        None => load_kubeconfig(target.kubeconfig.as_ref())?,
    };
    connect_with(loaded, target.context.as_deref()).await
}

async fn connect_with(
    loaded: Option<(String, Kubeconfig)>,
    context: Option<&str>,
) -> Result<Cluster, ConnectError> {
    crate::tls::install_crypto_provider();
    let mut kubeconfig_file = "in-cluster configuration".to_string();
    let (mut config, context_name) = match loaded {
        Some((file, kc)) => {
            kubeconfig_file = file.clone();
            if let Some(name) = context
                && !kc.contexts.iter().any(|c| c.name == name)
            {
                return Err(ConnectError::UnknownContext {
                    file,
                    name: name.to_string(),
                    available: kc.contexts.iter().map(|c| c.name.clone()).collect(),
                });
            }
            let chosen = context
                .map(str::to_string)
                .or_else(|| kc.current_context.clone())
                .unwrap_or_default();
            let ctx = kc
                .contexts
                .iter()
                .find(|c| c.name == chosen)
                .and_then(|c| c.context.clone());
            let user = ctx.as_ref().and_then(|c| c.user.clone()).unwrap_or_default();
            // kube-rs falls back to an anonymous user for a name the file does not define; kubectl's
            // users rarely mean that: say so instead of connecting as nobody.
            if !user.is_empty() && !kc.auth_infos.iter().any(|a| a.name == user) {
                return Err(ConnectError::BadKubeconfig {
                    file,
                    message: format!(
                        "context '{chosen}' names user '{user}', which the file does not define (users: {})",
                        kc.auth_infos
                            .iter()
                            .map(|a| a.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
            let opts = KubeConfigOptions {
                context: context.map(str::to_string),
                ..Default::default()
            };
            let config =
                Config::from_custom_kubeconfig(kc, &opts)
                    .await
                    .map_err(|e| ConnectError::BadKubeconfig {
                        file: file.clone(),
                        message: format!("{e}"),
                    })?;
            check_client_certificate(&file, &user, &config)?;
            (config, chosen)
        }
        None => match Config::incluster() {
            Ok(c) => (c, "in-cluster".to_string()),
            Err(_) => return Err(ConnectError::NoConfig),
        },
    };
    // The engine classifies 429/5xx itself and honours Retry-After; a hidden retry layer would blur that.
    config.default_retry = false;
    let server = redact_url(&config.cluster_url.to_string())
        .trim_end_matches('/')
        .to_string();
    // A client that cannot be built is the kubeconfig's fault (a key without its certificate, a PEM
    // that is not one): bad input, found before any connection.
    let client = super::transport::client(config).map_err(|e| ConnectError::BadKubeconfig {
        file: kubeconfig_file.clone(),
        message: format!(
            "context {context_name}: cannot set up a client from it: {}",
            crate::errors::chain(&e)
        ),
    })?;
    let probe = Cluster {
        client: client.clone(),
        context: context_name.clone(),
        server: server.clone(),
        server_version: String::new(),
        discovery: Discovery::new(),
        throttle: Default::default(),
        kept: Default::default(),
    };
    let version = match probe.get_path("/version").await {
        Ok(v) => v
            .get("gitVersion")
            .and_then(|g| g.as_str())
            .unwrap_or("unknown")
            .to_string(),
        Err(e) if matches!(e.code, Some(401) | Some(403)) => {
            return Err(ConnectError::Unauthorized {
                context: context_name,
                server,
                code: e.code.unwrap(),
                message: e.message,
            });
        }
        // kcp workspaces and some proxies do not serve /version; discovery below proves reachability.
        Err(e) if e.is_not_found() => "unknown".to_string(),
        Err(e) => return Err(unreachable(&context_name, &server, &e)),
    };
    let discovery = Discovery::new();
    discovery.load(&probe).await.map_err(|e| match e.code {
        Some(c @ (401 | 403)) => ConnectError::Unauthorized {
            context: context_name.clone(),
            server: server.clone(),
            code: c,
            message: e.message.clone(),
        },
        _ => unreachable(&context_name, &server, &e),
    })?;
    Ok(Cluster {
        client,
        context: context_name,
        server,
        server_version: version,
        discovery,
        throttle: probe.throttle.clone(),
        kept: Default::default(),
    })
}

/// The client certificate, read before any connection: what rustls refuses (an X.509 v1 certificate,
/// which kubectl's Go TLS accepts) and what any server refuses (an expired one) is said here, with the
/// kubeconfig field and the fix, instead of as a TLS error from deep inside the client.
fn check_client_certificate(file: &str, user: &str, config: &Config) -> Result<(), ConnectError> {
    use base64::Engine as _;
    let auth = &config.auth_info;
    let (field, pem) = if let Some(data) = &auth.client_certificate_data {
        let field = format!("users[{user}].client-certificate-data");
        match base64::engine::general_purpose::STANDARD.decode(data.trim()) {
            Ok(pem) => (field, pem),
            Err(e) => {
                return Err(ConnectError::BadKubeconfig {
                    file: file.to_string(),
                    message: format!("{field} is not base64 ({e})"),
                });
            }
        }
    } else if let Some(path) = &auth.client_certificate {
        let field = format!("users[{user}].client-certificate ({path})");
        match std::fs::read(path) {
            Ok(pem) => (field, pem),
            Err(e) => {
                return Err(ConnectError::BadKubeconfig {
                    file: file.to_string(),
                    message: format!("{field}: cannot read it ({e})"),
                });
            }
        }
    } else {
        return Ok(());
    };
    let bad = |message: String| ConnectError::BadKubeconfig {
        file: file.to_string(),
        message: format!("{field}: {message}"),
    };
    let der = match x509_parser::pem::parse_x509_pem(&pem) {
        Ok((_, p)) if p.label == "CERTIFICATE" => p.contents,
        Ok((_, p)) => return Err(bad(format!("holds a PEM '{}' block, not a CERTIFICATE", p.label))),
        Err(_) => return Err(bad("is not a PEM certificate".into())),
    };
    let cert = match x509_parser::parse_x509_certificate(&der) {
        Ok((_, c)) => c,
        Err(e) => return Err(bad(format!("is not a valid X.509 certificate ({e})"))),
    };
    if cert.version() != x509_parser::x509::X509Version::V3 {
        return Err(bad(format!(
            "is an X.509 v{} certificate; kyma's TLS (rustls) accepts X.509 v3 only (kubectl's Go TLS is laxer). \
             Re-issue it as v3, e.g. `openssl x509 -req … -extfile <(printf 'keyUsage=digitalSignature,keyEncipherment\\nextendedKeyUsage=clientAuth')`",
            cert.version().0 + 1
        )));
    }
    let validity = cert.validity();
    let now = x509_parser::time::ASN1Time::now();
    if validity.not_after < now {
        return Err(bad(format!(
            "expired on {}; get a new client certificate for this user (or a new kubeconfig)",
            validity.not_after
        )));
    }
    if validity.not_before > now {
        return Err(bad(format!(
            "is not valid before {}; check this machine's clock",
            validity.not_before
        )));
    }
    Ok(())
}

fn unreachable(context: &str, server: &str, e: &super::RequestError) -> ConnectError {
    use super::Transport;
    let (message, transient) = match (e.transport, e.code) {
        (Some(t), _) => (
            e.to_string(),
            matches!(t, Transport::Refused | Transport::TimedOut),
        ),
        (None, Some(c)) => (
            format!("the cluster of context {context} at {server} is not ready: {e}"),
            c == 429 || c >= 500,
        ),
        (None, None) => (e.to_string(), false),
    };
    ConnectError::Unreachable {
        context: context.to_string(),
        server: server.to_string(),
        message,
        transient,
    }
}

impl ConnectError {
    pub fn is_transient(&self) -> bool {
        matches!(self, ConnectError::Unreachable { transient: true, .. })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn credentials_never_shown_in_urls() {
        assert_eq!(
            super::redact_url("https://admin:s3cret@example.com:6443/"),
            "https://example.com:6443/"
        );
        assert_eq!(
            super::redact_url("https://127.0.0.1:6443"),
            "https://127.0.0.1:6443"
        );
    }
}

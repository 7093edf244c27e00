//! Connections to one API server, shared by every cluster reached through it the same way. The
//! workspaces of a kcp are one server (one host, a path per workspace): with a client each, a thousand
//! workspaces are a thousand connection pools, each with its idle connections and TLS sessions, and a
//! handshake whenever one of them comes back after its connections went idle. Shared, they are the
//! connections the requests in flight need.
//!
//! Only the transport is shared: the address, the CA, the client certificate (which is the identity of
//! a TLS connection, so it is part of the key), the timeouts. Each cluster keeps its own path and its
//! own credentials, which are headers added per request, so sharing never lends one cluster's identity
//! to another. Anything kube's own builder does more (a proxy, exec or auth-provider credentials, a CA
//! file re-read as it rotates, certificate files that may be replaced) gets kube's client as before.
//!
//! A pool's connections run as tasks of the runtime that opened them, so pools are shared only in a
//! process that says all its connections live on one runtime (`share_pools`: the binary does; a test
//! harness running many runtimes does not, and gets kube's client per cluster). A pool is replaced after
//! `RENEW`, as a client per connection was, so connections do not stay pinned to the addresses they were
//! opened to (a load balancer in front of a kcp) for as long as the pool is busy.
//!
//! Written here rather than taken from kube: its builder makes a pool per client and has no way to pass
//! one in; the pieces (`ConfigExt`'s connector and layers) are kube's.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use hyper_util::client::legacy::connect::HttpConnector;
use kube::client::ConfigExt as _;
use kube::config::Config;
use secrecy::ExposeSecret as _;
use sha2::{Digest as _, Sha256};

type Pool = hyper_util::client::legacy::Client<
    hyper_timeout::TimeoutConnector<hyper_rustls::HttpsConnector<HttpConnector>>,
    kube::client::Body,
>;

/// How long an idle connection is kept: longer than the operator's default resync (60 s, give or take
/// a tenth), so a cluster of its own finds its connection still open on the next one.
const IDLE: Duration = Duration::from_secs(90);

/// Pools not used for this long go when the map is full (their clusters are gone: a deleted `Kyma`, a
/// rotated certificate).
const STALE: Duration = Duration::from_secs(600);
const POOLS_AT_MOST: usize = 4096;
/// A pool is handed out for this long after it was made; clients made later get a new one.
const RENEW: Duration = Duration::from_secs(600);

/// The pools by what decides a connection (`shared_key`), with when each was made and last handed out.
type Pools = HashMap<[u8; 32], (Pool, Instant, Instant)>;
static POOLS: LazyLock<Mutex<Pools>> = LazyLock::new(Default::default);
static SHARE: AtomicBool = AtomicBool::new(false);

/// This process runs every cluster connection on one runtime: clients may share pools.
pub fn share_pools() {
    SHARE.store(true, Ordering::Relaxed);
}

/// A client for `config`: on the shared pool of its server and identity when it can be, else kube's.
pub fn client(config: Config) -> Result<kube::Client, kube::Error> {
    let key = match shared_key(&config) {
        Some(key) if SHARE.load(Ordering::Relaxed) => key,
        _ => return kube::Client::try_from(config),
    };
    let pool = pool(key, &config)?;
    let service = tower::ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .map_err(tower::BoxError::from)
        .service(pool);
    Ok(kube::Client::new(service, config.default_namespace))
}

fn pool(key: [u8; 32], config: &Config) -> Result<Pool, kube::Error> {
    let mut pools = POOLS.lock().unwrap();
    if let Some((pool, made, used)) = pools.get_mut(&key)
        && made.elapsed() < RENEW
    {
        *used = Instant::now();
        return Ok(pool.clone());
    }
    let mut connector = hyper_timeout::TimeoutConnector::new(config.rustls_https_connector()?);
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    connector.set_reset_reader_on_write(config.reset_reader_on_write);
    let pool = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .pool_idle_timeout(IDLE)
        // Without a timer idle connections are only noticed when a request would take one.
        .pool_timer(hyper_util::rt::TokioTimer::new())
        .build(connector);
    if pools.len() >= POOLS_AT_MOST {
        pools.retain(|_, (_, _, used)| used.elapsed() < STALE);
    }
    pools.insert(key, (pool.clone(), Instant::now(), Instant::now()));
    Ok(pool)
}

/// What decides a connection: scheme and address, TLS trust and identity, timeouts. `None` for what
/// only kube's own builder handles.
fn shared_key(c: &Config) -> Option<[u8; 32]> {
    let a = &c.auth_info;
    if c.proxy_url.is_some()
        || c.root_cert_file.is_some()
        || a.exec.is_some()
        || a.auth_provider.is_some()
        || a.client_certificate.is_some()
        || a.client_key.is_some()
    {
        return None;
    }
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_be_bytes());
        h.update(bytes);
    };
    field(c.cluster_url.scheme_str().unwrap_or("").as_bytes());
    field(c.cluster_url.authority().map_or("", |a| a.as_str()).as_bytes());
    // No CA (the platform's roots) and an empty one (nothing trusted) are different trust.
    match &c.root_cert {
        None => field(b"platform roots"),
        Some(certs) => {
            field(format!("{} CAs", certs.len()).as_bytes());
            for cert in certs {
                field(cert);
            }
        }
    }
    field(a.client_certificate_data.as_deref().unwrap_or("").as_bytes());
    field(
        a.client_key_data
            .as_ref()
            .map_or("", |k| k.expose_secret())
            .as_bytes(),
    );
    field(&[c.accept_invalid_certs as u8, c.reset_reader_on_write as u8]);
    field(c.tls_server_name.as_deref().unwrap_or("").as_bytes());
    field(
        format!(
            "{:?} {:?} {:?}",
            c.connect_timeout, c.read_timeout, c.write_timeout
        )
        .as_bytes(),
    );
    Some(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> Config {
        let mut c = Config::new(url.parse().unwrap());
        c.root_cert = Some(vec![b"ca".to_vec()]);
        c
    }

    #[test]
    fn workspaces_of_one_server_share_a_transport_and_identities_do_not() {
        let a = shared_key(&config("https://kcp.example:6443/clusters/root:a")).unwrap();
        let b = shared_key(&config("https://kcp.example:6443/clusters/root:b")).unwrap();
        assert_eq!(a, b, "the path is per request, not per connection");
        let mut token = config("https://kcp.example:6443/clusters/root:b");
        token.auth_info.token = Some("t".to_string().into());
        assert_eq!(
            a,
            shared_key(&token).unwrap(),
            "a token is a header, not a connection"
        );

        let mut cert = config("https://kcp.example:6443/clusters/root:b");
        cert.auth_info.client_certificate_data = Some("cert".into());
        cert.auth_info.client_key_data = Some("key".to_string().into());
        assert_ne!(
            a,
            shared_key(&cert).unwrap(),
            "a client certificate is the connection's identity"
        );
        let mut other_key = cert.clone();
        other_key.auth_info.client_key_data = Some("other".to_string().into());
        assert_ne!(shared_key(&cert), shared_key(&other_key));

        assert_ne!(a, shared_key(&config("https://other.example:6443")).unwrap());
        let mut ca = config("https://kcp.example:6443");
        ca.root_cert = Some(vec![b"another ca".to_vec()]);
        assert_ne!(a, shared_key(&ca).unwrap());
        let mut platform = config("https://kcp.example:6443");
        platform.root_cert = None;
        let mut empty = config("https://kcp.example:6443");
        empty.root_cert = Some(vec![]);
        assert_ne!(
            shared_key(&platform),
            shared_key(&empty),
            "no CA is not an empty CA"
        );
        let mut insecure = config("https://kcp.example:6443");
        insecure.accept_invalid_certs = true;
        assert_ne!(a, shared_key(&insecure).unwrap());

        let mut exec = config("https://kcp.example:6443");
        exec.auth_info.exec = Some(serde_json::from_value(serde_json::json!({"command": "x"})).unwrap());
        assert_eq!(shared_key(&exec), None, "exec credentials get kube's own client");
        let mut files = config("https://kcp.example:6443");
        files.auth_info.client_certificate = Some("/cert.pem".into());
        assert_eq!(shared_key(&files), None);
    }
}

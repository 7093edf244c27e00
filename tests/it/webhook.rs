//! An admission webhook served over HTTPS from the test process (a CA and a separate leaf: rustls
//! rejects a self-signed certificate used as its own CA). It refuses connections until the test opens
//! it (the port is bound only then), then allows every request.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Returns the port and the CA certificate (PEM) to put into the webhook's caBundle. The server starts
/// listening when `open` fires.
pub async fn serve_when(open: tokio::sync::oneshot::Receiver<()>) -> (u16, Vec<u8>) {
    serve(open, None).await
}

/// Like `serve_when`, but for `hang` after its first request the webhook reads each request and never
/// answers (the API server's call times out, as with a webhook whose pod is wedged); then it answers.
pub async fn serve_hanging(hang: std::time::Duration) -> (u16, Vec<u8>) {
    let (open, opened) = tokio::sync::oneshot::channel();
    let _ = open.send(());
    serve(opened, Some(hang)).await
}

async fn serve(
    open: tokio::sync::oneshot::Receiver<()>,
    hang: Option<std::time::Duration>,
) -> (u16, Vec<u8>) {
    kyma::testkit::tls::install_crypto_provider();
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "kyma-test-webhook-ca");
    let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    let ca_pem = ca.pem().into_bytes();
    let certs = vec![leaf.der().clone()];
    let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

    // Reserve a free port, release it, and bind it again only after the delay: until then the API
    // server gets "connection refused", exactly like a webhook whose pod is not up yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let hang_until: Arc<std::sync::Mutex<Option<tokio::time::Instant>>> = Arc::default();
    tokio::spawn(async move {
        let _ = open.await;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let hang_until = hang_until.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(sock).await else {
                    return;
                };
                loop {
                    let Some(body) = read_request(&mut tls).await else {
                        return;
                    };
                    if let Some(hang) = hang {
                        let until = *hang_until
                            .lock()
                            .unwrap()
                            .get_or_insert_with(|| tokio::time::Instant::now() + hang);
                        if tokio::time::Instant::now() < until {
                            tokio::time::sleep_until(until).await;
                            return; // the API server gave up on this call long ago
                        }
                    }
                    let review: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                    let resp = serde_json::json!({
                        "apiVersion": "admission.k8s.io/v1",
                        "kind": "AdmissionReview",
                        "response": {"uid": review["request"]["uid"], "allowed": true}
                    })
                    .to_string();
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        resp.len()
                    );
                    if tls.write_all(head.as_bytes()).await.is_err()
                        || tls.write_all(resp.as_bytes()).await.is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    (port, ca_pem)
}

async fn read_request<S: tokio::io::AsyncRead + Unpin>(s: &mut S) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let header_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < header_end + len {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(buf[header_end..header_end + len].to_vec())
}

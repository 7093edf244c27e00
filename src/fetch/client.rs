//! The HTTP client: one runtime and one connection pool per process, downloads capped at a size.

use std::time::Duration;

use super::FetchError;
use super::progress::ProgressOnTty;

/// One runtime and one HTTP client for every download of a process: a catalog's assets mostly come
/// from one host, so its connection and TLS session are reused. The runtime runs on its own worker
/// thread, so the catalog stage stays synchronous for its callers whether or not they are inside a
/// runtime of their own (the deploy command is).
fn downloader() -> &'static (tokio::runtime::Runtime, reqwest::Client) {
    static DOWNLOADER: std::sync::OnceLock<(tokio::runtime::Runtime, reqwest::Client)> =
        std::sync::OnceLock::new();
    DOWNLOADER.get_or_init(|| {
        crate::tls::install_crypto_provider();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("kyma-download")
            .enable_all()
            .build()
            .expect("a download runtime");
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(crate::tls::download_config())
            .user_agent(concat!("kyma/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(15))
            .timeout(Duration::from_secs(120))
            .build()
            .expect("an HTTP client with the built-in TLS configuration");
        (runtime, client)
    })
}

pub(super) fn download(url: &str, progress: bool, limit: u64) -> Result<Vec<u8>, FetchError> {
    let (runtime, client) = downloader();
    let (client, owned_url) = (client.clone(), url.to_string());
    let (tx, rx) = std::sync::mpsc::channel();
    runtime.spawn(async move {
        let _ = tx.send(fetch_url(&client, &owned_url, progress, limit).await);
    });
    wait_off_the_runtime(|| rx.recv()).unwrap_or_else(|_| {
        Err(FetchError::Unreachable {
            url: url.into(),
            message: "the download stopped unexpectedly".into(),
        })
    })
}

/// Wait for a download without holding up the caller's runtime. The catalog stage is synchronous, and
/// the operator and the fleet runner call it from their async tasks: a wait of minutes on a slow mirror
/// there would take a worker thread from every other task, Lease renewals included (with one worker,
/// all of them). On a multi-threaded runtime the worker hands its other tasks on before it blocks.
fn wait_off_the_runtime<T>(wait: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(wait),
        _ => wait(),
    }
}

/// Download `url`, holding at most `limit` bytes of it: a body announced larger is refused before it
/// is read, and one that turns out larger (no or a wrong Content-Length) is cut off as it streams.
async fn fetch_url(
    client: &reqwest::Client,
    url: &str,
    progress: bool,
    limit: u64,
) -> Result<Vec<u8>, FetchError> {
    let unreachable = |message: String| FetchError::Unreachable {
        url: url.into(),
        message,
    };
    let too_large = || FetchError::TooLarge {
        url: url.into(),
        limit,
    };
    let mut resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| unreachable(crate::errors::causes(&e)))?;
    let status = resp.status();
    if !status.is_success() {
        return Err(FetchError::Http {
            url: url.into(),
            message: format!("HTTP {status}"),
        });
    }
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut bar = ProgressOnTty::new(progress, url, resp.content_length());
    let mut bytes = Vec::with_capacity(resp.content_length().unwrap_or(0) as usize);
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| unreachable(crate::errors::causes(&e)))?
    {
        if (bytes.len() + chunk.len()) as u64 > limit {
            bar.finish();
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
        bar.advance(bytes.len() as u64);
    }
    bar.finish();
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A one-shot HTTP server on loopback that sends `head` and `body`, then closes the connection.
    fn serve_once(head: &'static str, body: Vec<u8>) -> String {
        use std::io::{Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut sock, _) = listener.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf);
            let _ = sock.write_all(head.as_bytes());
            let _ = sock.write_all(&body);
        });
        format!("http://{addr}/asset.yaml")
    }

    #[test]
    fn downloads_stop_at_the_limit() {
        // No Content-Length: the body streams until the server closes, and is cut off at the limit.
        let url = serve_once(
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
            vec![b'x'; 64 << 10],
        );
        let e = download(&url, false, 1 << 10).unwrap_err().to_string();
        assert!(
            e.contains(&url) && e.contains("1KiB") && e.contains("--max-download-size"),
            "{e}"
        );
        // A Content-Length above the limit is refused before the body is read.
        let url = serve_once(
            "HTTP/1.1 200 OK\r\nContent-Length: 1099511627776\r\nConnection: close\r\n\r\n",
            vec![],
        );
        let e = download(&url, false, 1 << 20).unwrap_err();
        assert!(matches!(e, FetchError::TooLarge { .. }), "{e}");
        let url = serve_once(
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
            vec![b'x'; 1 << 10],
        );
        assert_eq!(download(&url, false, 1 << 10).unwrap().len(), 1 << 10);
    }
}

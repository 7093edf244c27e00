//! Fetching catalogs and release manifests over HTTP(S): optional sha256 pin, an on-disk cache, and
//! `--offline` that never touches the network.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: sha256 mismatch: pinned {pinned}, got {actual}; the content changed or the pin is wrong, do not trust it")]
    PinMismatch { url: String, pinned: String, actual: String },
    #[error("{url}: not in the cache and --offline forbids the network; run once without --offline")]
    OfflineMiss { url: String },
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    #[error("cache {path}: {message}")]
    Cache { path: String, message: String },
}

/// Where downloads are kept: `$KYMA_CACHE_DIR`, else `$XDG_CACHE_HOME/kyma`, else `~/.cache/kyma`.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("KYMA_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("kyma");
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    home.join(".cache").join("kyma")
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Options shared by every fetch of one run.
#[derive(Debug, Clone, Default)]
pub struct Fetcher {
    pub offline: bool,
    pub cache: Option<PathBuf>,
}

impl Fetcher {
    fn cache_path(&self, url: &str) -> PathBuf {
        let dir = self.cache.clone().unwrap_or_else(cache_dir).join("downloads");
        dir.join(sha256_hex(url.as_bytes()))
    }

    /// Get `url`'s bytes. A pinned download already in the cache is never fetched again; an unpinned
    /// one is refreshed when online and taken from the cache when offline.
    pub fn get(&self, url: &str, pin: Option<&str>) -> Result<Vec<u8>, FetchError> {
        let path = self.cache_path(url);
        let cached = std::fs::read(&path).ok();
        let verify = |bytes: Vec<u8>| -> Result<Vec<u8>, FetchError> {
            if let Some(pin) = pin {
                let actual = sha256_hex(&bytes);
                if !actual.eq_ignore_ascii_case(pin) {
                    return Err(FetchError::PinMismatch { url: url.into(), pinned: pin.into(), actual });
                }
            }
            Ok(bytes)
        };
        if let Some(bytes) = cached.clone() {
            if self.offline || pin.is_some_and(|p| sha256_hex(&bytes).eq_ignore_ascii_case(p)) {
                return verify(bytes);
            }
        }
        if self.offline {
            return Err(FetchError::OfflineMiss { url: url.into() });
        }
        let bytes = verify(download(url)?)?;
        store(&path, &bytes)?;
        Ok(bytes)
    }
}

fn store(path: &Path, bytes: &[u8]) -> Result<(), FetchError> {
    let err = |e: std::io::Error| FetchError::Cache { path: path.display().to_string(), message: e.to_string() };
    std::fs::create_dir_all(path.parent().expect("cache path has a parent")).map_err(err)?;
    // Write then rename so a concurrent reader never sees half a file.
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)
}

/// Catalog loading runs before the async runtime has work to do; a small current-thread runtime
/// keeps the catalog stage synchronous for its callers.
fn download(url: &str) -> Result<Vec<u8>, FetchError> {
    let http = |message: String| FetchError::Http { url: url.into(), message };
    crate::tls::install_crypto_provider();
    let run = async {
        let client = reqwest::Client::builder()
            .user_agent(concat!("kyma/", env!("CARGO_PKG_VERSION")))
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|e| http(e.to_string()))?;
        let resp = client.get(url).send().await.map_err(|e| http(format!("{e:#}")))?;
        let status = resp.status();
        if !status.is_success() {
            return Err(http(format!("HTTP {status}")));
        }
        resp.bytes().await.map(|b| b.to_vec()).map_err(|e| http(e.to_string()))
    };
    match tokio::runtime::Handle::try_current() {
        Ok(_) => std::thread::scope(|s| {
            s.spawn(|| {
                tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(run)
            })
            .join()
            .expect("download thread")
        }),
        Err(_) => tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime").block_on(run),
    }
}

//! Fetching catalogs and release assets over HTTP(S) or from a mirror: an optional sha256 pin, an
//! on-disk cache, a record of the digest first seen for each asset, and `--offline` that never touches
//! the network.
//!
//! Two kinds of download, because they change differently:
//! - a **catalog** URL may move on (an index that lists new versions): refreshed when online;
//! - a **release asset** is fixed by its tag: downloaded once, its sha256 recorded, served from the
//!   cache from then on, and a later download with other content is an error naming both digests
//!   (trust on first use, as `go.sum` does, unless the catalog pins the digest).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::catalog::release::GITHUB;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(
        "{url}: sha256 mismatch: pinned {pinned}, got {actual}; the content changed or the pin is wrong, do not trust it"
    )]
    PinMismatch {
        url: String,
        pinned: String,
        actual: String,
    },
    #[error(
        "{url}: content changed since it was first downloaded: recorded sha256 {recorded}, now {actual}. \
         A published release asset should never change; if you trust the new content, run again with \
         --accept-new-digests"
    )]
    DigestChanged {
        url: String,
        recorded: String,
        actual: String,
    },
    #[error("{url}: not in the cache and --offline forbids the network; {hint}")]
    OfflineMiss { url: String, hint: &'static str },
    #[error(
        "cannot fetch {url}: {message}. Without internet access, use a mirror: `kyma mirror --modules … --to DIR` on a machine that has it, then --mirror DIR (or KYMA_MIRROR)"
    )]
    Unreachable { url: String, message: String },
    #[error("{url}: {message}")]
    Http { url: String, message: String },
    #[error(
        "mirror {mirror}: {path} is missing ({message}); fill the mirror with `kyma mirror --modules … --to {mirror}`"
    )]
    MirrorMiss {
        mirror: String,
        path: String,
        message: String,
    },
    #[error("cache {path}: {message}")]
    Cache { path: String, message: String },
    #[error(
        "the digest record {path} is corrupt ({message}); it holds the sha256 first seen for each release \
         asset. Delete it (assets are then trusted as they are next downloaded, and recorded anew), or run \
         again with --accept-new-digests, which starts a new record"
    )]
    CorruptDigests { path: String, message: String },
    #[error(
        "{url} is larger than the download limit of {}; if it is meant to be this large, raise the limit \
         with --max-download-size (or KYMA_MAX_DOWNLOAD_SIZE)",
        show_size(*.limit)
    )]
    TooLarge { url: String, limit: u64 },
    #[error(
        "asset URL {url} {reason}, so it could name a file outside a mirror directory or `kyma mirror --to`; \
         an asset URL's path must be plain names joined by single '/' (no '.', '..' or empty segments, no \
         backslash, none of them percent-encoded either): fix the URL in the catalog"
    )]
    UnsafeUrl { url: String, reason: String },
    #[error("cannot write {path}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} is outside {folder} ({reason}); kyma reads and writes only inside it: remove the link or fix the URL"
    )]
    OutsideFolder {
        folder: String,
        path: String,
        reason: String,
    },
}

impl FetchError {
    /// A URL or path that would leave its folder is a fault of the catalog or the mirror (bad input),
    /// not an asset that could not be had.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            FetchError::UnsafeUrl { .. } | FetchError::OutsideFolder { .. }
        )
    }
}

/// Where downloads are kept: `$KYMA_CACHE_DIR`, else `$XDG_CACHE_HOME/kyma`, else `~/.cache/kyma`.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("KYMA_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("kyma");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache").join("kyma")
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Check that an asset URL is a URL whose path is plain names, so that it maps to a file under a
/// mirror directory (and under a mirror server's base path) and nowhere else. The raw text is checked,
/// not what the `url` crate makes of it: it resolves `..` and `%2e%2e` away, and treats `\` as `/`,
/// so the parsed path would hide exactly the segments that a mirror directory would follow.
pub fn check_asset_url(url: &str) -> Result<(), FetchError> {
    let unsafe_url = |reason: String| FetchError::UnsafeUrl {
        url: url.to_string(),
        reason,
    };
    if url.contains('\\') {
        return Err(unsafe_url("has a backslash".into()));
    }
    let parsed = url::Url::parse(url).map_err(|e| unsafe_url(format!("is not a valid URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(unsafe_url("is not http(s)".into()));
    }
    check_rel_path(raw_path(url).strip_prefix('/').unwrap_or_default()).map_err(unsafe_url)
}

/// The path of a URL as written: after the authority, before any query or fragment.
fn raw_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let tail = &rest[rest.find(['/', '?', '#']).unwrap_or(rest.len())..];
    &tail[..tail.find(['?', '#']).unwrap_or(tail.len())]
}

/// A relative path of plain names: each segment, percent-decoded, is one normal path component.
fn check_rel_path(rel: &str) -> Result<(), String> {
    if rel.is_empty() {
        return Err("names no file".into());
    }
    if rel.contains('\\') {
        return Err("has a backslash".into());
    }
    for seg in rel.split('/') {
        let decoded = percent_decode(seg);
        let shown = if decoded == seg {
            format!("'{seg}'")
        } else {
            format!("'{seg}' ('{decoded}' decoded)")
        };
        if seg.is_empty() {
            return Err("has an empty segment ('//')".into());
        }
        if decoded == "." || decoded == ".." {
            return Err(format!("has a {shown} segment"));
        }
        if decoded.contains(['/', '\\', '\0']) {
            return Err(format!("has a segment {shown} that decodes to a separator"));
        }
        let mut parts = Path::new(&decoded).components();
        if !matches!(
            (parts.next(), parts.next()),
            (Some(std::path::Component::Normal(_)), None)
        ) {
            return Err(format!("has a segment {shown} that is not a plain name"));
        }
    }
    Ok(())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where a release asset lies under a mirror (directory or server): its URL's path below
/// `https://github.com/`, checked. `None` for an asset that is not on GitHub (mirrors do not hold it).
pub fn mirror_path(url: &str) -> Result<Option<&str>, FetchError> {
    let Some(rest) = url.strip_prefix(GITHUB) else {
        return Ok(None);
    };
    check_asset_url(url)?;
    Ok(Some(&rest[..rest.find(['?', '#']).unwrap_or(rest.len())]))
}

/// `folder/rel`, refused unless it stays inside `folder`: lexically (plain names only), and, for the
/// part of it that exists, after resolving symlinks, so a link inside the folder that points out of
/// it is refused too.
pub fn confined(folder: &Path, rel: &str) -> Result<PathBuf, FetchError> {
    let outside = |path: &Path, reason: String| FetchError::OutsideFolder {
        folder: folder.display().to_string(),
        path: path.display().to_string(),
        reason,
    };
    let path = folder.join(rel);
    check_rel_path(rel).map_err(|r| outside(&path, format!("the relative path {r}")))?;
    let Ok(root) = folder.canonicalize() else {
        // Nothing under a folder that does not exist (yet) can exist either.
        return Ok(path);
    };
    let existing = path
        .ancestors()
        .take_while(|a| a.starts_with(folder) && *a != folder)
        .find(|a| a.symlink_metadata().is_ok());
    if let Some(existing) = existing {
        let real = existing
            .canonicalize()
            .map_err(|e| outside(&path, format!("{} cannot be resolved: {e}", existing.display())))?;
        if !real.starts_with(&root) {
            return Err(outside(
                &path,
                format!("{} leads to {}", existing.display(), real.display()),
            ));
        }
    }
    Ok(path)
}

/// A stand-in for `https://github.com/`: another server (air-gapped clusters, tests) or a directory
/// laid out the same way (`kyma mirror` writes one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mirror {
    Url(String),
    Dir(PathBuf),
}

impl Mirror {
    pub fn parse(s: &str) -> Mirror {
        if s.starts_with("http://") || s.starts_with("https://") {
            Mirror::Url(s.trim_end_matches('/').to_string())
        } else {
            Mirror::Dir(PathBuf::from(s.strip_prefix("file://").unwrap_or(s)))
        }
    }
}

impl std::fmt::Display for Mirror {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mirror::Url(u) => f.write_str(u),
            Mirror::Dir(d) => write!(f, "{}", d.display()),
        }
    }
}

/// `--max-download-size`'s default: far above any catalog or release asset (the largest real manager
/// manifests are a few MiB), far below what would take a machine's memory.
pub const DEFAULT_MAX_DOWNLOAD_SIZE: u64 = 256 << 20;

/// `268435456` → `256MiB`, for messages.
pub fn show_size(bytes: u64) -> String {
    for (unit, shift) in [("GiB", 30), ("MiB", 20), ("KiB", 10)] {
        if bytes >= 1 << shift && bytes.is_multiple_of(1 << shift) {
            return format!("{}{unit}", bytes >> shift);
        }
    }
    format!("{bytes} bytes")
}

/// Options shared by every fetch of one run.
#[derive(Debug, Clone)]
pub struct Fetcher {
    pub offline: bool,
    pub mirror: Option<Mirror>,
    /// Take release assets whose content differs from the recorded digest, and record the new one.
    pub accept_new_digests: bool,
    /// Show a progress bar for downloads that take more than a moment (only on a terminal).
    pub progress: bool,
    /// The most one download (or mirror file) may be, and the most a catalog archive may unpack to.
    pub max_download_size: u64,
}

impl Default for Fetcher {
    fn default() -> Self {
        Fetcher {
            offline: false,
            mirror: None,
            accept_new_digests: false,
            progress: false,
            max_download_size: DEFAULT_MAX_DOWNLOAD_SIZE,
        }
    }
}

impl Fetcher {
    fn cache_path(url: &str) -> Result<PathBuf, FetchError> {
        confined(&cache_dir().join("downloads"), &sha256_hex(url.as_bytes()))
    }

    /// Get a catalog's bytes. A pinned download already in the cache is never fetched again; an unpinned
    /// one is refreshed when online and taken from the cache when offline.
    pub fn get(&self, url: &str, pin: Option<&str>) -> Result<Vec<u8>, FetchError> {
        let path = Self::cache_path(url)?;
        let cached = std::fs::read(&path).ok();
        if let Some(bytes) = cached
            && (self.offline || pin.is_some_and(|p| sha256_hex(&bytes).eq_ignore_ascii_case(p)))
        {
            return verify_pin(url, pin, bytes);
        }
        if self.offline {
            return Err(FetchError::OfflineMiss {
                url: url.into(),
                hint: "run once without --offline",
            });
        }
        let bytes = verify_pin(url, pin, self.download(url)?)?;
        store(&path, &bytes)?;
        Ok(bytes)
    }

    /// Get a release asset (see the module docs): cache first, then the mirror or the network; the
    /// digest is checked against the pin, else against the one recorded on first download.
    pub fn get_asset(&self, url: &str, pin: Option<&str>) -> Result<Vec<u8>, FetchError> {
        let path = Self::cache_path(url)?;
        // A pinned asset is checked against its pin, so it needs no record. With --accept-new-digests a
        // corrupt record is replaced rather than refused: every digest in it would be accepted anew.
        let mut digests = match pin {
            None => Some(Digests::load(
                cache_dir().join("digests.json"),
                self.accept_new_digests,
            )?),
            Some(_) => None,
        };
        let recorded = digests.as_ref().and_then(|d| d.get(url));
        if let Ok(bytes) = std::fs::read(&path) {
            let actual = sha256_hex(&bytes);
            let trusted = match (pin, &recorded) {
                (Some(p), _) => actual.eq_ignore_ascii_case(p),
                (None, Some(r)) => actual == *r,
                (None, None) => false,
            };
            if trusted {
                return Ok(bytes);
            }
        }
        let bytes = match (&self.mirror, mirror_path(url)?) {
            (Some(m), Some(rest)) => self.read_mirror(m, rest)?,
            _ if self.offline => {
                return Err(FetchError::OfflineMiss {
                    url: url.into(),
                    hint: "run once without --offline, or give a mirror (--mirror URL|DIR, filled by `kyma mirror`)",
                });
            }
            _ => self.download(url)?,
        };
        let bytes = verify_pin(url, pin, bytes)?;
        let actual = sha256_hex(&bytes);
        if let Some(digests) = &mut digests {
            match recorded {
                Some(r) if r != actual && !self.accept_new_digests => {
                    return Err(FetchError::DigestChanged {
                        url: url.into(),
                        recorded: r,
                        actual,
                    });
                }
                Some(r) if r == actual => {}
                _ => digests.record(url, &actual, self.accept_new_digests)?,
            }
        }
        store(&path, &bytes)?;
        Ok(bytes)
    }

    /// `rest` is a checked `mirror_path`: plain names, so it stays under the mirror's directory or
    /// base path.
    fn read_mirror(&self, mirror: &Mirror, rest: &str) -> Result<Vec<u8>, FetchError> {
        match mirror {
            Mirror::Dir(dir) => {
                let miss = |e: std::io::Error| FetchError::MirrorMiss {
                    mirror: mirror.to_string(),
                    path: dir.join(rest).display().to_string(),
                    message: e.to_string(),
                };
                let path = confined(dir, rest)?;
                read_at_most(&path, self.max_download_size).map_err(|e| match e {
                    Some(e) => miss(e),
                    None => FetchError::TooLarge {
                        url: path.display().to_string(),
                        limit: self.max_download_size,
                    },
                })
            }
            Mirror::Url(base) if self.offline => Err(FetchError::OfflineMiss {
                url: format!("{base}/{rest}"),
                hint: "--offline forbids even the mirror's server; use a mirror directory",
            }),
            Mirror::Url(base) => {
                let url = format!("{base}/{rest}");
                under_base(base, &url)?;
                self.download(&url)
            }
        }
    }

    fn download(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        download(
            url,
            self.progress && std::io::stderr().is_terminal(),
            self.max_download_size,
        )
    }
}

/// A file's bytes, unless it holds more than `limit` (then `Err(None)`); a file that grows while it is
/// read is cut off at the limit, not read to its end.
fn read_at_most(path: &Path, limit: u64) -> Result<Vec<u8>, Option<std::io::Error>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)?;
    if file.metadata()?.len() > limit {
        return Err(None);
    }
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(None);
    }
    Ok(bytes)
}

/// The server resolves the path it is asked for (`..`, `%2e%2e`); make sure what it resolves stays
/// under the mirror's base path.
fn under_base(base: &str, url: &str) -> Result<(), FetchError> {
    let outside = |reason: String| FetchError::OutsideFolder {
        folder: base.to_string(),
        path: url.to_string(),
        reason,
    };
    let (b, u) = match (url::Url::parse(base), url::Url::parse(url)) {
        (Ok(b), Ok(u)) => (b, u),
        (Err(e), _) | (_, Err(e)) => return Err(outside(format!("not a valid URL: {e}"))),
    };
    let prefix = format!("{}/", b.path().trim_end_matches('/'));
    if u.origin() != b.origin() || !u.path().starts_with(&prefix) {
        return Err(outside(format!("it resolves to {u}")));
    }
    Ok(())
}

/// Write `bytes` to `folder/rel` (a checked relative path) without ever writing outside `folder`:
/// the path is confined before and after its directories are made, and the file is written to a
/// temporary name and renamed over the target, so a symlink at the target is replaced, not followed.
pub fn write_in(folder: &Path, rel: &str, bytes: &[u8]) -> Result<PathBuf, FetchError> {
    let path = confined(folder, rel)?;
    let err = |source: std::io::Error| FetchError::Write {
        path: path.display().to_string(),
        source,
    };
    let dir = path.parent().expect("a confined path lies under its folder");
    std::fs::create_dir_all(dir).map_err(err)?;
    confined(folder, rel)?;
    write_atomically(&path, bytes).map_err(err)?;
    Ok(path)
}

/// Write to a unique temporary file beside `path`, then rename it over `path`: a concurrent reader
/// (or another kyma) sees the old file or the new one, never half of one.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().expect("a file path has a parent");
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn verify_pin(url: &str, pin: Option<&str>, bytes: Vec<u8>) -> Result<Vec<u8>, FetchError> {
    if let Some(pin) = pin {
        let actual = sha256_hex(&bytes);
        if !actual.eq_ignore_ascii_case(pin) {
            return Err(FetchError::PinMismatch {
                url: url.into(),
                pinned: pin.into(),
                actual,
            });
        }
    }
    Ok(bytes)
}

/// The digest first seen for each release asset: `<cache>/digests.json`, URL → sha256. Written only
/// under an exclusive lock on `<cache>/digests.lock`, re-read inside it, and replaced by a rename, so
/// concurrent kyma processes never lose each other's records and readers never see half a file.
struct Digests {
    path: PathBuf,
    map: BTreeMap<String, String>,
}

impl Digests {
    fn load(path: PathBuf, replace_corrupt: bool) -> Result<Digests, FetchError> {
        let map = Self::read(&path, replace_corrupt)?;
        Ok(Digests { path, map })
    }

    fn read(path: &Path, replace_corrupt: bool) -> Result<BTreeMap<String, String>, FetchError> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => {
                return Err(FetchError::Cache {
                    path: path.display().to_string(),
                    message: e.to_string(),
                });
            }
        };
        match serde_json::from_slice(&bytes) {
            Ok(map) => Ok(map),
            Err(_) if replace_corrupt => Ok(BTreeMap::new()),
            Err(e) => Err(FetchError::CorruptDigests {
                path: path.display().to_string(),
                message: e.to_string(),
            }),
        }
    }

    fn get(&self, url: &str) -> Option<String> {
        self.map.get(url).cloned()
    }

    fn record(&mut self, url: &str, digest: &str, replace_corrupt: bool) -> Result<(), FetchError> {
        let err = |e: std::io::Error| FetchError::Cache {
            path: self.path.display().to_string(),
            message: e.to_string(),
        };
        let dir = self
            .path
            .parent()
            .expect("the record lies in the cache directory");
        std::fs::create_dir_all(dir).map_err(err)?;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("digests.lock"))
            .map_err(err)?;
        lock.lock().map_err(err)?;
        // Re-read under the lock: another kyma may have recorded other assets since we loaded.
        let mut fresh = Self::read(&self.path, replace_corrupt)?;
        fresh.insert(url.to_string(), digest.to_string());
        write_atomically(&self.path, &serde_json::to_vec_pretty(&fresh).expect("JSON")).map_err(err)?;
        self.map = fresh;
        // The lock is released when `lock` is closed, after the rename.
        Ok(())
    }
}

fn store(path: &Path, bytes: &[u8]) -> Result<(), FetchError> {
    let err = |e: std::io::Error| FetchError::Cache {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(path.parent().expect("cache path has a parent")).map_err(err)?;
    write_atomically(path, bytes).map_err(err)
}

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

fn download(url: &str, progress: bool, limit: u64) -> Result<Vec<u8>, FetchError> {
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
    // reqwest's own text ("error sending request for url (…)") repeats the URL the error already names;
    // its causes say what happened.
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

/// A download bar that appears only once a download has taken longer than a moment, so fast and
/// cached fetches print nothing.
struct ProgressOnTty {
    enabled: bool,
    started: Instant,
    len: Option<u64>,
    name: String,
    bar: Option<indicatif::ProgressBar>,
}

impl ProgressOnTty {
    fn new(enabled: bool, url: &str, len: Option<u64>) -> Self {
        let name = url.rsplit('/').next().unwrap_or(url).to_string();
        ProgressOnTty {
            enabled,
            started: Instant::now(),
            len,
            name,
            bar: None,
        }
    }
    fn advance(&mut self, done: u64) {
        if !self.enabled {
            return;
        }
        if self.bar.is_none() && self.started.elapsed() > Duration::from_millis(300) {
            let bar = match self.len {
                Some(n) => indicatif::ProgressBar::new(n),
                None => indicatif::ProgressBar::new_spinner(),
            };
            let template = if self.len.is_some() {
                "{msg:.40} {bar:30} {bytes}/{total_bytes}"
            } else {
                "{msg:.40} {spinner} {bytes}"
            };
            bar.set_style(indicatif::ProgressStyle::with_template(template).expect("template"));
            bar.set_message(format!("downloading {}", self.name));
            self.bar = Some(bar);
        }
        if let Some(b) = &self.bar {
            b.set_position(done);
        }
    }
    fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_kinds() {
        assert_eq!(
            Mirror::parse("http://127.0.0.1:8080/"),
            Mirror::Url("http://127.0.0.1:8080".into())
        );
        assert_eq!(Mirror::parse("/srv/mirror"), Mirror::Dir("/srv/mirror".into()));
        assert_eq!(Mirror::parse("file:///srv/m"), Mirror::Dir("/srv/m".into()));
    }

    #[test]
    fn asset_urls_are_plain_names() {
        for ok in [
            "https://github.com/org/repo/releases/download/1.0.0/a.yaml",
            "http://127.0.0.1:8080/x/a%20b.yaml",
            "https://example.com/a.yaml?x=../y",
        ] {
            check_asset_url(ok).unwrap();
        }
        for (bad, why) in [
            ("https://github.com//etc/kubernetes/admin.conf", "empty segment"),
            ("https://github.com/org/../../etc/passwd", "'..' segment"),
            (
                "https://github.com/org/%2e%2e/%2E%2E/etc/passwd",
                "('..' decoded)",
            ),
            ("https://github.com/org/.%2e/etc/passwd", "('..' decoded)"),
            ("https://github.com/org/./a.yaml", "'.' segment"),
            ("https://github.com/org\\..\\..\\etc\\passwd", "backslash"),
            ("https://github.com/org/%2fetc%2fpasswd", "separator"),
            ("https://github.com/org/%5c..%5cx", "separator"),
            ("https://github.com/org/a.yaml/", "empty segment"),
            ("https://github.com/", "names no file"),
            ("ftp://github.com/a", "http"),
        ] {
            let e = check_asset_url(bad).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains(bad), "{bad}: {e}");
        }
    }

    #[test]
    fn mirror_paths_are_below_github() {
        assert_eq!(
            mirror_path("https://github.com/o/r/releases/download/1/a.yaml").unwrap(),
            Some("o/r/releases/download/1/a.yaml")
        );
        assert_eq!(mirror_path("https://example.com/a.yaml").unwrap(), None);
        assert!(mirror_path("https://github.com/o/%2e%2e/%2e%2e/x").is_err());
    }

    #[test]
    fn a_mirror_server_keeps_its_base_path() {
        under_base("http://h:1/base", "http://h:1/base/o/a.yaml").unwrap();
        under_base("http://h:1/base/", "http://h:1/base/o/a.yaml").unwrap();
        assert!(under_base("http://h:1/base", "http://h:1/base/../etc/x").is_err());
        assert!(under_base("http://h:1/base", "http://h:1/based/x").is_err());
        assert!(under_base("http://h:1/base", "http://other:1/base/x").is_err());
    }

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

    #[test]
    fn mirror_files_stop_at_the_limit() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("o")).unwrap();
        std::fs::write(tmp.path().join("o/a.yaml"), vec![b'x'; 2048]).unwrap();
        let f = Fetcher {
            max_download_size: 1024,
            ..Fetcher::default()
        };
        let e = f
            .read_mirror(&Mirror::Dir(tmp.path().to_path_buf()), "o/a.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("a.yaml is larger than the download limit of 1KiB"),
            "{e}"
        );
    }

    #[test]
    fn sizes_for_people() {
        assert_eq!(show_size(256 << 20), "256MiB");
        assert_eq!(show_size(1 << 10), "1KiB");
        assert_eq!(show_size(1000), "1000 bytes");
    }

    #[test]
    fn concurrent_recorders_all_land() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("digests.json");
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for i in 0..25 {
                        // Each recorder loaded the record before the others wrote theirs.
                        let mut d = Digests::load(path.clone(), false).unwrap();
                        d.record(&format!("https://x/{t}/{i}"), &format!("{t}-{i}"), false)
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let d = Digests::load(path, false).unwrap();
        assert_eq!(d.map.len(), 200, "every record landed");
        assert_eq!(d.get("https://x/7/24").as_deref(), Some("7-24"));
    }

    #[test]
    fn a_corrupt_digest_record_is_an_error_not_an_empty_one() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("digests.json");
        std::fs::write(&path, "{\"https://x/a\": \"ab").unwrap();
        let e = Digests::load(path.clone(), false).err().unwrap().to_string();
        assert!(
            e.contains(&path.display().to_string())
                && e.contains("corrupt")
                && e.contains("Delete it")
                && e.contains("--accept-new-digests"),
            "{e}"
        );
        // Accepting new digests replaces it.
        let mut d = Digests::load(path.clone(), true).unwrap();
        d.record("https://x/b", "bb", true).unwrap();
        assert_eq!(Digests::load(path, false).unwrap().map.len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn links_out_of_a_folder_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let (folder, outside) = (tmp.path().join("mirror"), tmp.path().join("outside"));
        std::fs::create_dir_all(folder.join("o")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret"), "x").unwrap();
        std::os::unix::fs::symlink(&outside, folder.join("o/dir-link")).unwrap();
        std::os::unix::fs::symlink(outside.join("secret"), folder.join("o/file-link")).unwrap();
        std::fs::create_dir_all(folder.join("o/inside")).unwrap();
        std::os::unix::fs::symlink(folder.join("o/inside"), folder.join("o/link-in")).unwrap();

        for rel in ["o/dir-link/secret", "o/file-link", "o/dir-link/new/file"] {
            let e = confined(&folder, rel).unwrap_err().to_string();
            assert!(e.contains("is outside") && e.contains("leads to"), "{rel}: {e}");
        }
        for rel in ["../outside/secret", "/etc/passwd", "o//x", "o/./x"] {
            assert!(confined(&folder, rel).is_err(), "{rel}");
        }
        confined(&folder, "o/not-yet/a.yaml").unwrap();
        confined(&folder, "o/link-in/a.yaml").unwrap();
        confined(&tmp.path().join("not-made-yet"), "o/a.yaml").unwrap();

        assert!(write_in(&folder, "o/dir-link/new/file", b"y").is_err());
        assert!(!outside.join("new").exists(), "nothing was written outside");
        assert!(write_in(&folder, "o/file-link", b"y").is_err());
        assert_eq!(std::fs::read(outside.join("secret")).unwrap(), b"x");
        let written = write_in(&folder, "o/r/a.yaml", b"z").unwrap();
        assert_eq!(std::fs::read(written).unwrap(), b"z");
    }
}

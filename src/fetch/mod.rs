//! Fetching catalogs and release assets over HTTP(S) or from a mirror: an optional sha256 pin, an
//! on-disk cache, a record of the digest first seen for each asset, and `--offline` that never touches
//! the network.
//!
//! Two kinds of download, because they change differently:
//! - a **catalog** URL may move on (an index that lists new versions): refreshed when online;
//! - a **release asset** is fixed by its tag: downloaded once, its sha256 recorded, served from the
//!   cache from then on, and a later download with other content is an error naming both digests
//!   (trust on first use, as `go.sum` does, unless the catalog pins the digest).
//!
//! The parts: [`client`] downloads (one runtime, one HTTP client, a size limit), [`cache`] keeps what
//! was downloaded, [`digests`] records the sha256 first seen for each asset, [`mirror`] stands in for
//! GitHub, and [`confine`] keeps every path a URL names inside its folder.

mod cache;
mod client;
mod confine;
mod digests;
mod mirror;
mod progress;

pub use cache::cache_dir;
pub use confine::{check_asset_url, confined, write_in};
pub use mirror::{GITHUB, Mirror, mirror_path};

use std::io::IsTerminal;

use crate::hash::sha256_hex;
use digests::Digests;

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
    /// Get a catalog's bytes. A pinned download already in the cache is never fetched again; an unpinned
    /// one is refreshed when online and taken from the cache when offline.
    pub fn get(&self, url: &str, pin: Option<&str>) -> Result<Vec<u8>, FetchError> {
        let path = cache::path_for(url)?;
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
        cache::store(&path, &bytes)?;
        Ok(bytes)
    }

    /// Get a release asset (see the module docs): cache first, then the mirror or the network; the
    /// digest is checked against the pin, else against the one recorded on first download.
    pub fn get_asset(&self, url: &str, pin: Option<&str>) -> Result<Vec<u8>, FetchError> {
        let path = cache::path_for(url)?;
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
        cache::store(&path, &bytes)?;
        Ok(bytes)
    }

    fn download(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        client::download(
            url,
            self.progress && std::io::stderr().is_terminal(),
            self.max_download_size,
        )
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_for_people() {
        assert_eq!(show_size(256 << 20), "256MiB");
        assert_eq!(show_size(1 << 10), "1KiB");
        assert_eq!(show_size(1000), "1000 bytes");
    }
}

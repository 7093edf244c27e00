//! The download cache: `<cache>/downloads/<sha256 of the URL>`.

use std::path::{Path, PathBuf};

use super::FetchError;
use super::confine::{confined, write_atomically};
use crate::hash::sha256_hex;

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

/// Where `url`'s bytes are cached.
pub(super) fn path_for(url: &str) -> Result<PathBuf, FetchError> {
    confined(&cache_dir().join("downloads"), &sha256_hex(url.as_bytes()))
}

/// Write a download into the cache (whole or not at all).
pub(super) fn store(path: &Path, bytes: &[u8]) -> Result<(), FetchError> {
    let err = |e: std::io::Error| FetchError::Cache {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    std::fs::create_dir_all(path.parent().expect("cache path has a parent")).map_err(err)?;
    write_atomically(path, bytes).map_err(err)
}

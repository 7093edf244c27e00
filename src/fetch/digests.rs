//! The record of the digest first seen for each release asset (trust on first use).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::FetchError;
use super::confine::write_atomically;

/// The digest first seen for each release asset: `<cache>/digests.json`, URL → sha256. Written only
/// under an exclusive lock on `<cache>/digests.lock`, re-read inside it, and replaced by a rename, so
/// concurrent kyma processes never lose each other's records and readers never see half a file.
pub(super) struct Digests {
    path: PathBuf,
    map: BTreeMap<String, String>,
}

impl Digests {
    pub(super) fn load(path: PathBuf, replace_corrupt: bool) -> Result<Digests, FetchError> {
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

    pub(super) fn get(&self, url: &str) -> Option<String> {
        self.map.get(url).cloned()
    }

    pub(super) fn record(
        &mut self,
        url: &str,
        digest: &str,
        replace_corrupt: bool,
    ) -> Result<(), FetchError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}

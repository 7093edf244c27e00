//! Mirrors: a server or a directory laid out like `https://github.com/`, for release assets.

use std::path::{Path, PathBuf};

use super::confine::{check_asset_url, confined};
use super::{FetchError, Fetcher};

/// The release-asset URL prefix a mirror replaces.
pub const GITHUB: &str = "https://github.com/";

/// Where a release asset lies under a mirror (directory or server): its URL's path below
/// `https://github.com/`, checked. `None` for an asset that is not on GitHub (mirrors do not hold it).
pub fn mirror_path(url: &str) -> Result<Option<&str>, FetchError> {
    let Some(rest) = url.strip_prefix(GITHUB) else {
        return Ok(None);
    };
    check_asset_url(url)?;
    Ok(Some(&rest[..rest.find(['?', '#']).unwrap_or(rest.len())]))
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

impl Fetcher {
    /// `rest` is a checked `mirror_path`: plain names, so it stays under the mirror's directory or
    /// base path.
    pub(super) fn read_mirror(&self, mirror: &Mirror, rest: &str) -> Result<Vec<u8>, FetchError> {
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
}

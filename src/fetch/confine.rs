//! Paths a URL names stay inside their folder: asset URLs are plain names, relative paths are checked
//! lexically and through symlinks, and files are written whole (a temporary file renamed over them).

use std::path::{Path, PathBuf};

use super::FetchError;

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
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().expect("a file path has a parent");
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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

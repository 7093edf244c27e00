//! Where catalogs come from: the index of real Kyma releases embedded in the binary, directories of
//! own-format modules, release-index files, and `.tar.gz` archives over HTTP(S). Directories and
//! archives yield a `FileSet` for `Catalog::from_files`; an index yields modules directly.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::rc::Rc;

use super::{Catalog, CatalogError, FileSet, channels, module_template, release};
use crate::fetch::{self, Fetcher, check_asset_url};

/// The built-in catalog's path, for messages.
pub const BUILTIN_INDEX: &str = "modules/kyma-modules.yaml";
static BUILTIN: &str = include_str!("../../modules/kyma-modules.yaml");

/// The catalog compiled into the binary: the real module releases.
pub fn builtin() -> Catalog {
    let (modules, channels) = release::from_index("built-in", BUILTIN_INDEX, BUILTIN)
        .expect("the built-in index is checked by the test suite");
    let mut catalog =
        Catalog::from_modules("built-in", modules).expect("the built-in index lists each version once");
    for c in channels {
        catalog.set_channels(c);
    }
    catalog
}

/// Load `--catalog` arguments in order and lay them over the built-in catalog.
pub fn load(specs: &[String], fetcher: &Fetcher) -> Result<Catalog, CatalogError> {
    let mut catalog = builtin();
    for spec in specs {
        let layer = if spec.starts_with("https://") || spec.starts_with("http://") {
            let url = spec.split_once("#sha256=").map(|(u, _)| u).unwrap_or(spec);
            if [".json", ".yaml", ".yml"].iter().any(|ext| url.ends_with(ext)) {
                let (u, pin) = match spec.split_once("#sha256=") {
                    Some((u, p)) => (u, Some(p)),
                    None => (spec.as_str(), None),
                };
                let bytes = fetcher.get(u, pin)?;
                let text = String::from_utf8(bytes).map_err(|_| CatalogError::Source {
                    source_name: u.into(),
                    message: "is not UTF-8 text".into(),
                })?;
                from_text(u, u, &text)?
            } else {
                Catalog::from_files(from_url(spec, fetcher)?)?
            }
        } else if Path::new(spec).is_file() {
            from_file(Path::new(spec))?
        } else {
            let set = from_dir(Path::new(spec))?;
            if holds_module_templates(&set) || holds_only_release_metas(&set) {
                templates_in(set)?
            } else {
                let metas = own_format_release_metas(&set)?;
                let mut layer = Catalog::from_files(set)?;
                for c in metas {
                    layer.set_channels(c);
                }
                layer
            }
        };
        check_asset_urls(&layer)?;
        catalog.overlay(layer);
    }
    catalog.check_channels()?;
    Ok(catalog)
}

/// A directory of ModuleReleaseMeta files only: channels for modules of the layers below.
fn holds_only_release_metas(set: &FileSet) -> bool {
    let mut docs = set
        .files
        .iter()
        .filter(|(p, _)| is_catalog_document(p))
        .peekable();
    docs.peek().is_some() && docs.all(|(_, t)| channels::mentions(t))
}

fn is_catalog_document(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml") || path.ends_with(".json")
}

/// ModuleReleaseMetas at the top of a directory of own-format modules (inside a module directory a
/// file is the module's own, perhaps a template that creates such objects).
fn own_format_release_metas(set: &FileSet) -> Result<Vec<channels::Channels>, CatalogError> {
    let mut out = Vec::new();
    for (path, text) in &set.files {
        if !path.contains('/') && is_catalog_document(path) && channels::mentions(text) {
            out.extend(channels::parse_text(&format!("{}/{path}", set.root), text)?);
        }
    }
    Ok(out)
}

/// Every asset URL of a catalog names a file under a mirror (see `fetch::check_asset_url`); checked
/// as the catalog is loaded, so render, deploy and mirror all refuse it before fetching anything.
fn check_asset_urls(catalog: &Catalog) -> Result<(), CatalogError> {
    for m in catalog
        .names()
        .filter_map(|n| catalog.versions(n))
        .flat_map(|v| v.values())
    {
        let mut urls: Vec<&str> = m.manifest_urls.iter().map(|r| r.url()).collect();
        urls.extend(m.release.iter().flat_map(|r| r.urls()));
        for url in urls {
            check_asset_url(url).map_err(|source| CatalogError::UnsafeAsset {
                module: m.id(),
                location: m.location.clone(),
                source: Box::new(source),
            })?;
        }
    }
    Ok(())
}

/// A single catalog file: a release index (`kind: ReleaseIndex`), ModuleTemplates (multi-document
/// YAML), or the community modules index (a JSON array of ModuleTemplates).
pub fn from_file(path: &Path) -> Result<Catalog, CatalogError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| CatalogError::Source {
        source_name: name.clone(),
        message: format!("cannot read: {e}"),
    })?;
    from_text(&name, &name, &text)
}

fn from_text(source: &str, file: &str, text: &str) -> Result<Catalog, CatalogError> {
    let templates = !is_release_index(text)
        && (text.trim_start().starts_with('[')
            || text.contains("kind: ModuleTemplate")
            || channels::mentions(text));
    let (modules, metas) = if templates {
        (
            module_template::parse_text(source, file, text)?,
            channels::parse_text(file, text)?,
        )
    } else {
        release::from_index(source, file, text)?
    };
    let mut catalog = Catalog::from_modules(source, modules)?;
    for c in metas {
        catalog.set_channels(c);
    }
    Ok(catalog)
}

/// A release index by its `kind` (its comments may name other kinds, as the built-in one does).
fn is_release_index(text: &str) -> bool {
    !text.trim_start().starts_with('[')
        && crate::yaml::parse(text)
            .is_ok_and(|v| v.get("kind").and_then(serde_json::Value::as_str) == Some("ReleaseIndex"))
}

/// A directory of ModuleTemplate files (and no own-format module in it).
fn holds_module_templates(set: &FileSet) -> bool {
    !set.files
        .keys()
        .any(|p| p == "module.yaml" || p.ends_with("/module.yaml"))
        && set
            .files
            .values()
            .any(|t| t.contains("kind: ModuleTemplate") || t.contains("\"kind\": \"ModuleTemplate\""))
}

/// ModuleTemplates and ModuleReleaseMetas (lifecycle-manager's catalog, as it syncs it into a cluster).
fn templates_in(set: FileSet) -> Result<Catalog, CatalogError> {
    let mut modules = Vec::new();
    let mut metas = Vec::new();
    for (path, text) in &set.files {
        if !is_catalog_document(path) {
            continue;
        }
        let file = format!("{}/{path}", set.root);
        if channels::mentions(text) {
            metas.extend(channels::parse_text(&file, text)?);
        }
        if !channels::mentions(text) || text.contains("ModuleTemplate") {
            modules.extend(module_template::parse_text(&set.source, &file, text)?);
        }
    }
    let mut catalog = Catalog::from_modules(&set.source, modules)?;
    for c in metas {
        catalog.set_channels(c);
    }
    Ok(catalog)
}

pub fn from_dir(root: &Path) -> Result<FileSet, CatalogError> {
    let source_name = root.display().to_string();
    let err = |message: String| CatalogError::Source {
        source_name: source_name.clone(),
        message,
    };
    let meta = std::fs::metadata(root).map_err(|e| err(format!("cannot read: {e}")))?;
    if !meta.is_dir() {
        return Err(err("is not a directory (a catalog is a directory of modules, a release-index file, or an http(s) URL of a .tar.gz)".into()));
    }
    let mut files = BTreeMap::new();
    walk(root, root, &mut files).map_err(|(p, e)| CatalogError::Source {
        source_name: p,
        message: e,
    })?;
    Ok(FileSet {
        source: source_name.clone(),
        root: source_name,
        files,
    })
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) -> Result<(), (String, String)> {
    let entries = std::fs::read_dir(dir).map_err(|e| (dir.display().to_string(), e.to_string()))?;
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = e.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let ft = e
            .file_type()
            .map_err(|er| (path.display().to_string(), er.to_string()))?;
        if ft.is_dir() {
            walk(root, &path, out)?;
        } else if ft.is_file() {
            let rel = path
                .strip_prefix(root)
                .expect("under root")
                .to_string_lossy()
                .replace('\\', "/");
            let bytes = std::fs::read(&path).map_err(|er| (path.display().to_string(), er.to_string()))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| (path.display().to_string(), "is not UTF-8 text".to_string()))?;
            out.insert(rel, text);
        }
    }
    Ok(())
}

/// `https://host/catalog.tar.gz#sha256=<hex>`: the fragment pins the archive's digest.
pub fn from_url(spec: &str, fetcher: &Fetcher) -> Result<FileSet, CatalogError> {
    let (url, pin) = match spec.split_once("#sha256=") {
        Some((u, p)) => (u, Some(p)),
        None => (spec, None),
    };
    let bytes = fetcher.get(url, pin)?;
    let mut files = unpack(url, &bytes, fetcher.max_download_size)?;
    // Archives usually wrap everything in one top directory; look through it.
    let strip = common_top_dir(&files);
    if let Some(top) = strip {
        files = files
            .into_iter()
            .map(|(p, c)| (p[top.len() + 1..].to_string(), c))
            .collect();
    }
    Ok(FileSet {
        source: url.to_string(),
        root: url.to_string(),
        files,
    })
}

/// An archive may hold at most this many entries: a catalog is a few files per module version.
const MAX_ARCHIVE_ENTRIES: usize = 10_000;

/// The text files of a `.tar.gz`, unpacking at most `max_bytes` (what the gzip stream inflates to,
/// headers and skipped entries included) and `MAX_ARCHIVE_ENTRIES` entries: a few hundred KiB of gzip
/// can inflate to gigabytes, and the files are held in memory.
fn unpack(url: &str, gz: &[u8], max_bytes: u64) -> Result<BTreeMap<String, String>, CatalogError> {
    let err = |message: String| CatalogError::Source {
        source_name: url.to_string(),
        message,
    };
    let inflated = Rc::new(Cell::new(0u64));
    let too_big = || {
        err(format!(
            "unpacks to more than {}, far more than a catalog of modules (a decompression bomb?); if it is \
             meant to be this large, raise the limit with --max-download-size",
            fetch::show_size(max_bytes)
        ))
    };
    // An error of the tar reader is the limit's when the limit was reached.
    let broken = |e: std::io::Error| {
        if inflated.get() > max_bytes {
            too_big()
        } else {
            err(format!("not a .tar.gz: {e}"))
        }
    };
    let mut archive = tar::Archive::new(Capped {
        inner: flate2::read::GzDecoder::new(gz),
        read: inflated.clone(),
        cap: max_bytes,
    });
    let mut files = BTreeMap::new();
    let entries = archive.entries().map_err(broken)?;
    for (n, entry) in entries.enumerate() {
        if n >= MAX_ARCHIVE_ENTRIES {
            return Err(err(format!(
                "holds more than {MAX_ARCHIVE_ENTRIES} entries, far more than a catalog of modules"
            )));
        }
        let mut entry = entry.map_err(broken)?;
        // The header says how large the entry is: refuse it before inflating it.
        if inflated.get().saturating_add(entry.size()) > max_bytes {
            return Err(too_big());
        }
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| err(e.to_string()))?
            .to_string_lossy()
            .replace('\\', "/");
        let path = path.trim_start_matches("./").to_string();
        if path.split('/').any(|c| c == ".." || c.starts_with('.')) {
            continue;
        }
        let mut text = String::new();
        entry.read_to_string(&mut text).map_err(|e| {
            if inflated.get() > max_bytes {
                too_big()
            } else if e.kind() == std::io::ErrorKind::InvalidData {
                err(format!("{path} is not UTF-8 text"))
            } else {
                err(format!("not a .tar.gz: {e}"))
            }
        })?;
        files.insert(path, text);
    }
    Ok(files)
}

/// A reader that fails once more than `cap` bytes came through it, counting them in `read` (shared,
/// since the tar reader owns this one).
struct Capped<R> {
    inner: R,
    read: Rc<Cell<u64>>,
    cap: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.cap.saturating_sub(self.read.get());
        // One byte past the cap tells a stream that ends exactly at it from one that goes on.
        let want = buf
            .len()
            .min(usize::try_from(left.saturating_add(1)).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.read.set(self.read.get() + n as u64);
        if self.read.get() > self.cap {
            return Err(std::io::Error::other("over the unpack limit"));
        }
        Ok(n)
    }
}

fn common_top_dir(files: &BTreeMap<String, String>) -> Option<String> {
    let first = files.keys().next()?.split_once('/')?.0.to_string();
    let prefix = format!("{first}/");
    let all_under = files.keys().all(|p| p.starts_with(&prefix));
    // `X/module.yaml` means X is itself a module directory: keep it.
    (all_under && !files.contains_key(&format!("{prefix}module.yaml"))).then_some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A .tar.gz of `(type, path, size)` entries, each `size` zero bytes (which gzip squeezes to
    /// almost nothing).
    fn targz(entries: &[(tar::EntryType, &str, u64)]) -> Vec<u8> {
        let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::best(),
        ));
        for (kind, path, size) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_size(*size);
            h.set_mode(0o644);
            h.set_path(path).unwrap();
            h.set_cksum();
            b.append(&h, std::io::repeat(0).take(*size)).unwrap();
        }
        b.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn the_built_in_channels_map_to_its_own_releases() {
        let c = builtin();
        c.check_channels().unwrap();
        for name in c.names() {
            let newest = c.versions(name).unwrap().keys().next_back().unwrap();
            let channels = c.channels(name).unwrap_or_else(|| panic!("{name} has channels"));
            assert_eq!(
                &channels.versions["regular"], newest,
                "{name}: regular is the latest"
            );
            assert!(channels.versions.contains_key("fast"), "{name}");
        }
    }

    #[test]
    fn a_copy_of_the_built_in_index_is_a_release_index_though_it_names_other_kinds() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("index.yaml");
        std::fs::write(&file, BUILTIN).unwrap();
        assert!(BUILTIN.contains("ModuleReleaseMeta"), "the comment names it");
        let c = load(&[file.display().to_string()], &crate::fetch::Fetcher::default()).unwrap();
        assert!(c.channels("keda").is_some());
    }

    #[test]
    fn release_metas_beside_templates_or_alone_give_channels() {
        let dir = tempfile::tempdir().unwrap();
        let template = |v: &str| {
            format!(
                "apiVersion: operator.kyma-project.io/v1beta2\nkind: ModuleTemplate\nmetadata: {{name: things-{v}}}\nspec:\n  moduleName: things\n  version: {v}\n  data: {{apiVersion: x.io/v1, kind: Things, metadata: {{name: default}}}}\n  resources:\n  - {{name: rawManifest, link: \"https://github.com/o/things/releases/download/{v}/m.yaml\"}}\n"
            )
        };
        let meta = "apiVersion: operator.kyma-project.io/v1beta2\nkind: ModuleReleaseMeta\nmetadata: {name: things}\nspec:\n  moduleName: things\n  channels:\n  - {channel: regular, version: 0.1.0}\n  - {channel: fast, version: 0.2.0}\n";
        std::fs::write(dir.path().join("t1.yaml"), template("0.1.0")).unwrap();
        std::fs::write(dir.path().join("t2.yaml"), template("0.2.0")).unwrap();
        std::fs::write(dir.path().join("meta.yaml"), meta).unwrap();
        let fetcher = crate::fetch::Fetcher::default();
        let c = load(&[dir.path().display().to_string()], &fetcher).unwrap();
        assert_eq!(c.select("things@regular").unwrap().version.to_string(), "0.1.0");
        assert_eq!(c.select("things@fast").unwrap().version.to_string(), "0.2.0");

        // Metas alone: channels for the built-in modules (here pointing at a version it lacks).
        let alone = tempfile::tempdir().unwrap();
        std::fs::write(
            alone.path().join("keda.yaml"),
            meta.replace("things", "keda")
                .replace("0.1.0", "1.12.0")
                .replace("0.2.0", "9.9.9"),
        )
        .unwrap();
        let err = load(&[alone.path().display().to_string()], &fetcher)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "keda.yaml, document 1 (ModuleReleaseMeta keda): channel fast of keda is version 9.9.9"
            ),
            "{err}"
        );
    }

    #[test]
    fn archives_unpack_within_their_limits() {
        let ok = targz(&[(tar::EntryType::Regular, "m/module.yaml", 10)]);
        assert_eq!(unpack("u", &ok, 1 << 20).unwrap().len(), 1);

        // A file the header says is larger than the limit is refused before it is inflated.
        let bomb = targz(&[(tar::EntryType::Regular, "m/templates/big.yaml", 8 << 20)]);
        assert!(bomb.len() < 64 << 10, "{} bytes of gzip", bomb.len());
        let e = unpack("https://x/c.tar.gz", &bomb, 1 << 20)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("https://x/c.tar.gz")
                && e.contains("unpacks to more than 1MiB")
                && e.contains("--max-download-size"),
            "{e}"
        );
        // The tar reader reads a GNU long name whole before it yields an entry: the inflate cap stops it.
        let long_name = targz(&[(tar::EntryType::GNULongName, "././@LongLink", 8 << 20)]);
        let e = unpack("u", &long_name, 1 << 20).unwrap_err().to_string();
        assert!(e.contains("unpacks to more than 1MiB"), "{e}");

        let names: Vec<String> = (0..=MAX_ARCHIVE_ENTRIES).map(|i| format!("d/{i}")).collect();
        let many: Vec<_> = names
            .iter()
            .map(|n| (tar::EntryType::Directory, n.as_str(), 0))
            .collect();
        let e = unpack("u", &targz(&many), 1 << 30).unwrap_err().to_string();
        assert!(e.contains("more than 10000 entries"), "{e}");
    }
}

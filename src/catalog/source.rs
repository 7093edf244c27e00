//! Where catalogs come from: the index of real Kyma releases embedded in the binary, directories of
//! own-format modules, release-index files, and `.tar.gz` archives over HTTP(S). Directories and
//! archives yield a `FileSet` for `Catalog::from_files`; an index yields modules directly.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use super::fetch::{Fetcher, check_asset_url};
use super::{Catalog, CatalogError, FileSet, module_template, release};

/// The built-in catalog's path, for messages.
pub const BUILTIN_INDEX: &str = "modules/kyma-modules.yaml";
static BUILTIN: &str = include_str!("../../modules/kyma-modules.yaml");

/// The catalog compiled into the binary: the real module releases.
pub fn builtin() -> Catalog {
    let modules = release::from_index("built-in", BUILTIN_INDEX, BUILTIN)
        .expect("the built-in index is checked by the test suite");
    Catalog::from_modules("built-in", modules).expect("the built-in index lists each version once")
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
            if holds_module_templates(&set) {
                templates_in(set)?
            } else {
                Catalog::from_files(set)?
            }
        };
        check_asset_urls(&layer)?;
        catalog.overlay(layer);
    }
    Ok(catalog)
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
                source,
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
    let modules = if text.trim_start().starts_with('[') || text.contains("kind: ModuleTemplate") {
        module_template::parse_text(source, file, text)?
    } else {
        release::from_index(source, file, text)?
    };
    Catalog::from_modules(source, modules)
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

fn templates_in(set: FileSet) -> Result<Catalog, CatalogError> {
    let mut modules = Vec::new();
    for (path, text) in &set.files {
        if !(path.ends_with(".yaml") || path.ends_with(".yml") || path.ends_with(".json")) {
            continue;
        }
        modules.extend(module_template::parse_text(
            &set.source,
            &format!("{}/{path}", set.root),
            text,
        )?);
    }
    Catalog::from_modules(&set.source, modules)
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
    let err = |message: String| CatalogError::Source {
        source_name: url.to_string(),
        message,
    };
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice()));
    let mut files = BTreeMap::new();
    let entries = archive
        .entries()
        .map_err(|e| err(format!("not a .tar.gz: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| err(format!("not a .tar.gz: {e}")))?;
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
        entry
            .read_to_string(&mut text)
            .map_err(|_| err(format!("{path} is not UTF-8 text")))?;
        files.insert(path, text);
    }
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

fn common_top_dir(files: &BTreeMap<String, String>) -> Option<String> {
    let first = files.keys().next()?.split_once('/')?.0.to_string();
    let prefix = format!("{first}/");
    let all_under = files.keys().all(|p| p.starts_with(&prefix));
    // `X/module.yaml` means X is itself a module directory: keep it.
    (all_under && !files.contains_key(&format!("{prefix}module.yaml"))).then_some(first)
}

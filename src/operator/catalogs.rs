//! The operator's catalog, loaded once and again only when it changed, and the modules' release assets
//! read once per module version: a resync of an unchanged `Kyma` parses no catalog and reads no cached
//! manifest from disk.
//!
//! Changed means: a `--catalog` directory or file whose files (names, sizes, modification times) differ
//! from the last look — one walk of metadata per reconcile, no contents read; a catalog URL is fetched
//! again after `URL_FRESH` (the fetcher's own cache and pins decide what that costs).
//!
//! The `ModuleReleaseMeta` objects of the cluster the operator watches map channels too, over the
//! files' (central configuration: the control plane's own objects win); one that names a version the
//! catalog lacks takes its module's channels away (with a warning), never the whole catalog.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::fmt::Write as _;

use kube::api::DynamicObject;
use serde_json::Value;

use crate::catalog::{Catalog, CatalogError, Module, assets, channels};
use crate::pipeline::{FetchSettings, PipelineError};

const URL_FRESH: Duration = Duration::from_secs(300);
/// How long one walk of the catalog files stands for them: reconciles come by the dozen a second at
/// fleet scale, a catalog edit by hand is seen within this.
const WALK_FRESH: Duration = Duration::from_secs(2);

#[derive(Default)]
pub(super) struct Catalogs {
    loaded: Mutex<Option<Loaded>>,
    /// The last walk of the catalog files: when, and what it found.
    walked: Mutex<Option<(Instant, String)>>,
}

struct Loaded {
    catalog: Arc<Catalog>,
    /// Counts loads: what was derived from an earlier catalog is told apart by it.
    generation: u64,
    stamp: String,
    at: Instant,
    /// Materialized modules by `name@version`, for this catalog.
    assets: Arc<Mutex<HashMap<String, Module>>>,
}

/// The assets of a module version: kept, or fetched and kept.
pub(super) struct Assets<'a> {
    settings: &'a FetchSettings,
    kept: Arc<Mutex<HashMap<String, Module>>>,
}

impl Assets<'_> {
    pub fn fetch(&self, m: &Module) -> Result<Module, CatalogError> {
        let id = m.id();
        if let Some(done) = self.kept.lock().unwrap().get(&id) {
            return Ok(done.clone());
        }
        let done = assets::fetch(m, &self.settings.fetcher())?;
        self.kept.lock().unwrap().insert(id, done.clone());
        Ok(done)
    }
}

impl Catalogs {
    /// The catalog as it is now, its generation, and the way to its modules' assets.
    pub fn current<'a>(
        &self,
        settings: &'a FetchSettings,
        release_metas: &[Arc<DynamicObject>],
    ) -> Result<(Arc<Catalog>, u64, Assets<'a>), PipelineError> {
        let mut stamp = self.files_stamp(&settings.catalogs);
        let mut metas: Vec<&DynamicObject> = release_metas.iter().map(AsRef::as_ref).collect();
        metas.sort_by_key(|m| (m.metadata.namespace.clone(), m.metadata.name.clone()));
        // By what maps channels, not by resourceVersion: a label or status written on a meta reloads
        // nothing.
        for m in &metas {
            let _ = write!(
                stamp,
                "\ncluster {}/{} {}",
                m.metadata.namespace.as_deref().unwrap_or_default(),
                m.metadata.name.as_deref().unwrap_or_default(),
                m.data.get("spec").map(Value::to_string).unwrap_or_default()
            );
        }
        {
            let loaded = self.loaded.lock().unwrap();
            if let Some(l) = loaded.as_ref()
                && l.stamp == stamp
                && (!has_url(&settings.catalogs) || l.at.elapsed() < URL_FRESH)
            {
                return Ok((
                    l.catalog.clone(),
                    l.generation,
                    Assets {
                        settings,
                        kept: l.assets.clone(),
                    },
                ));
            }
        }
        let mut catalog = crate::pipeline::load_catalog(settings)?;
        with_cluster_channels(&mut catalog, &metas);
        let catalog = Arc::new(catalog);
        let kept: Arc<Mutex<HashMap<String, Module>>> = Arc::default();
        let mut loaded = self.loaded.lock().unwrap();
        let generation = loaded.as_ref().map_or(1, |l| l.generation + 1);
        let reloaded = loaded.replace(Loaded {
            catalog: catalog.clone(),
            generation,
            stamp,
            at: Instant::now(),
            assets: kept.clone(),
        });
        if reloaded.is_some() {
            tracing::info!("catalog changed: reloaded");
        }
        Ok((catalog, generation, Assets { settings, kept }))
    }
}

impl Catalogs {
    fn files_stamp(&self, specs: &[String]) -> String {
        let mut walked = self.walked.lock().unwrap();
        match walked.as_ref() {
            Some((at, stamp)) if at.elapsed() < WALK_FRESH => stamp.clone(),
            _ => {
                let now = stamp(specs);
                *walked = Some((Instant::now(), now.clone()));
                now
            }
        }
    }
}

/// The cluster's ModuleReleaseMetas over the catalog's channels, each only if it can be taken whole.
fn with_cluster_channels(catalog: &mut Catalog, metas: &[&DynamicObject]) {
    for m in metas {
        let at = format!(
            "the cluster's {}/{}",
            m.metadata.namespace.as_deref().unwrap_or_default(),
            m.metadata.name.as_deref().unwrap_or_default()
        );
        let taken = serde_json::to_value(m)
            .map_err(|e| e.to_string())
            .and_then(|doc| channels::from_release_meta(&at, &doc).map_err(|e| e.to_string()))
            .and_then(|c| catalog.try_channels(c).map_err(|e| e.to_string()));
        // Not the files' mapping instead: the files may be behind the cluster's, and falling back to
        // them would move every object on the channel back. The module has no channels until the
        // object is fixed (objects on them fail, saying so, and keep what they have).
        if let Err(e) = taken {
            if let Some(module) = m.data.pointer("/spec/moduleName").and_then(Value::as_str) {
                catalog.drop_channels(module);
            }
            tracing::warn!("{e}: the module's channels are left out until it is fixed");
        }
    }
}

fn has_url(specs: &[String]) -> bool {
    specs
        .iter()
        .any(|s| s.starts_with("https://") || s.starts_with("http://"))
}

/// What the local catalogs look like on disk, without reading them: each file's path, size and
/// modification time.
fn stamp(specs: &[String]) -> String {
    let mut out = String::new();
    for spec in specs
        .iter()
        .filter(|s| !s.starts_with("https://") && !s.starts_with("http://"))
    {
        walk(Path::new(spec), &mut out);
    }
    out
}

fn walk(path: &Path, out: &mut String) {
    use std::fmt::Write as _;
    let Ok(meta) = std::fs::metadata(path) else {
        let _ = writeln!(out, "{} missing", path.display());
        return;
    };
    if meta.is_dir() {
        let Ok(entries) = std::fs::read_dir(path) else {
            let _ = writeln!(out, "{} unreadable", path.display());
            return;
        };
        // As the loader reads a directory (`catalog::source::from_dir`): no dot entries, and links are
        // not followed (a link cycle must not recurse forever).
        let mut entries: Vec<_> = entries
            .filter_map(Result::ok)
            .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir() || t.is_file()))
            .map(|e| e.path())
            .collect();
        entries.sort();
        for e in entries {
            walk(&e, out);
        }
    } else {
        let modified = meta
            .modified()
            .ok()
            .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let _ = writeln!(out, "{} {} {modified}", path.display(), meta.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_link_cycle_in_a_catalog_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("m")).unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("m/loop")).unwrap();
        let stamp = stamp(&[dir.path().display().to_string()]);
        assert!(!stamp.contains("loop"), "{stamp}");
    }

    #[test]
    fn a_catalog_is_loaded_again_only_when_its_files_change() {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m");
        std::fs::create_dir_all(m.join("templates")).unwrap();
        std::fs::write(
            m.join("module.yaml"),
            "apiVersion: kyma.module/v1\nname: m\nversion: 1.0.0\n",
        )
        .unwrap();
        std::fs::write(
            m.join("templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        )
        .unwrap();
        let settings = FetchSettings {
            catalogs: vec![dir.path().display().to_string()],
            offline: true,
            mirror: None,
            accept_new_digests: false,
            max_download_size: 1 << 20,
        };
        let catalogs = Catalogs::default();
        let (first, g1, _) = catalogs.current(&settings, &[]).unwrap();
        let (again, g2, _) = catalogs.current(&settings, &[]).unwrap();
        assert_eq!(g1, g2);
        assert!(Arc::ptr_eq(&first, &again), "unchanged: the same catalog");
        std::fs::write(
            m.join("module.yaml"),
            "apiVersion: kyma.module/v1\nname: m\nversion: 1.10.0\n",
        )
        .unwrap();
        let (soon, _, _) = catalogs.current(&settings, &[]).unwrap();
        assert!(
            Arc::ptr_eq(&first, &soon),
            "within WALK_FRESH of the last walk the files are not walked again"
        );
        // WALK_FRESH later:
        catalogs.walked.lock().unwrap().take();
        let (changed, g3, _) = catalogs.current(&settings, &[]).unwrap();
        assert_eq!(g3, g1 + 1);
        assert!(!Arc::ptr_eq(&first, &changed), "a changed file: loaded again");
        assert_eq!(changed.select("m").unwrap().version.to_string(), "1.10.0");
    }
}

//! The module catalog: which modules exist, in which versions, from which source. Sources (the
//! embedded catalog, directories, tarballs over HTTP) all reduce to a set of files, so the module
//! contract is checked in exactly one place.

pub mod assets;
pub mod channels;
pub mod contract;
pub mod module_template;
pub mod release;
pub mod source;

use std::collections::BTreeMap;
use std::fmt;

use contract::{ManifestRef, ModuleFile, SUPPORTED_API_VERSIONS};

/// A bad catalog or a bad selection. Always bad input (exit 2), always names the file or module.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{file}: {message}")]
    BadModuleFile { file: String, message: String },
    #[error("unknown module '{name}'{}", did_you_mean(.close))]
    UnknownModule { name: String, close: Vec<String> },
    #[error("module '{name}' has no version {version} (available: {})", .available.join(", "))]
    UnknownVersion {
        name: String,
        version: String,
        available: Vec<String>,
    },
    #[error("module '{name}' has no channel '{channel}'{}", channels_hint(.available, .versions))]
    UnknownChannel {
        name: String,
        channel: String,
        available: Vec<String>,
        versions: Vec<String>,
    },
    #[error("catalog {source_name}: {message}")]
    Source { source_name: String, message: String },
    #[error(transparent)]
    Fetch(#[from] crate::fetch::FetchError),
    /// An asset URL that could reach outside a mirror directory: refused when the catalog is loaded,
    /// before anything is fetched or applied.
    #[error("module {module} ({location})")]
    UnsafeAsset {
        module: String,
        location: String,
        #[source]
        source: Box<crate::fetch::FetchError>,
    },
    #[error("module {module}")]
    Asset {
        module: String,
        #[source]
        source: crate::fetch::FetchError,
    },
}

/// `; did you mean: a, b?` after an unknown name, or nothing when no name is close.
pub fn did_you_mean(close: &[String]) -> String {
    if close.is_empty() {
        String::new()
    } else {
        format!("; did you mean: {}?", close.join(", "))
    }
}

/// ` (channels: fast, regular)`, or what to give instead when a module has none.
fn channels_hint(available: &[String], versions: &[String]) -> String {
    if available.is_empty() {
        format!(
            " (it has no release channels; pick a version: {})",
            versions.join(", ")
        )
    } else {
        format!(" (channels: {})", available.join(", "))
    }
}

/// One version of one module, with all of its files in memory.
#[derive(Debug, Clone)]
pub struct Module {
    pub name: String,
    pub version: semver::Version,
    pub description: String,
    pub namespace: Option<String>,
    pub depends_on: Vec<String>,
    pub manifest_urls: Vec<ManifestRef>,
    pub marked_default: bool,
    /// Where the module came from, for people: `built-in`, a directory, a URL.
    pub source: String,
    /// The module directory as a person would find it (for error messages).
    pub location: String,
    /// Files relative to the module directory (`templates/x.yaml`, `values.yaml`, …). Empty for a
    /// release module until it is materialized.
    pub files: BTreeMap<String, String>,
    /// The text of each of `manifest_urls`, by URL: empty until the module's assets are fetched
    /// ([`assets::fetch`]).
    pub downloaded: BTreeMap<String, String>,
    /// Set for a real module release (manager manifest + default CR); `None` for own-format modules.
    pub release: Option<release::Release>,
}

impl Module {
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
    /// A path a person can open: `modules/istio/1.2.0/templates/crd.yaml`.
    pub fn path_of(&self, file: &str) -> String {
        format!("{}/{}", self.location, file)
    }
    pub fn file(&self, name: &str) -> Option<&str> {
        self.files.get(name).map(String::as_str)
    }
    /// What a person should look at for one of the module's files. A release module's files are made
    /// from its assets, so name those instead.
    pub fn describe_file(&self, file: &str) -> String {
        match (&self.release, file) {
            (Some(r), "values.schema.json") => format!(
                "the openAPIV3Schema of the {} CRD in {}",
                r.custom_resource
                    .as_ref()
                    .map(|c| c.kind.as_str())
                    .unwrap_or("module CR"),
                r.manager_manifest
            ),
            (Some(r), "values.yaml") => match &r.default_cr {
                release::DefaultCr::Url(u) => u.clone(),
                release::DefaultCr::Inline(_) => format!("{} (spec.data)", self.location),
            },
            (Some(_), f) if f.starts_with("manifests/") => self
                .release
                .as_ref()
                .map(|r| r.manager_manifest.clone())
                .unwrap_or_default(),
            _ => self.path_of(file),
        }
    }
}

/// A file set as a source hands it over: paths relative to the catalog root.
pub struct FileSet {
    pub source: String,
    /// Display prefix of the root, e.g. `modules` or `/home/me/catalog`.
    pub root: String,
    pub files: BTreeMap<String, String>,
}

/// All modules known, by name, then version.
#[derive(Debug, Default, Clone)]
pub struct Catalog {
    modules: BTreeMap<String, BTreeMap<semver::Version, Module>>,
    /// Release channels by module (a module may have none).
    channels: BTreeMap<String, channels::Channels>,
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.name, self.version)
    }
}

impl Catalog {
    /// Turn a file set into modules: a directory holding `module.yaml` is one module; module
    /// directories may sit at the root, one level down, or two (`name/version/module.yaml`).
    pub fn from_files(set: FileSet) -> Result<Catalog, CatalogError> {
        let mut roots: Vec<String> = set
            .files
            .keys()
            .filter_map(|p| {
                let dir = p.strip_suffix("module.yaml")?;
                let depth = dir.matches('/').count();
                (dir.is_empty() || dir.ends_with('/')).then_some(())?;
                (depth <= 2).then(|| dir.to_string())
            })
            .collect();
        roots.sort();
        // A module.yaml inside another module's directory (e.g. under templates/) is that module's file.
        let roots: Vec<String> = roots
            .iter()
            .filter(|r| !roots.iter().any(|o| o != *r && r.starts_with(o.as_str())))
            .cloned()
            .collect();
        if roots.is_empty() {
            return Err(CatalogError::Source {
                source_name: set.source,
                message: "holds no module: expected <module>/module.yaml or <module>/<version>/module.yaml"
                    .into(),
            });
        }
        let mut catalog = Catalog::default();
        for dir in roots {
            let files: BTreeMap<String, String> = set
                .files
                .iter()
                .filter_map(|(p, c)| {
                    p.strip_prefix(dir.as_str())
                        .map(|rel| (rel.to_string(), c.clone()))
                })
                .collect();
            let location = if dir.is_empty() {
                set.root.clone()
            } else {
                format!("{}/{}", set.root, dir.trim_end_matches('/'))
            };
            let module = parse_module(&set.source, &location, files)?;
            let versions = catalog.modules.entry(module.name.clone()).or_default();
            if let Some(prev) = versions.get(&module.version) {
                return Err(CatalogError::BadModuleFile {
                    file: module.path_of("module.yaml"),
                    message: format!("{} is defined twice (also in {})", module.id(), prev.location),
                });
            }
            versions.insert(module.version.clone(), module);
        }
        Ok(catalog)
    }

    /// A catalog of ready modules (a release index, ModuleTemplates).
    pub fn from_modules(source: &str, modules: Vec<Module>) -> Result<Catalog, CatalogError> {
        let mut catalog = Catalog::default();
        for m in modules {
            let versions = catalog.modules.entry(m.name.clone()).or_default();
            if versions.contains_key(&m.version) {
                return Err(CatalogError::Source {
                    source_name: source.to_string(),
                    message: format!("{} is listed twice", m.id()),
                });
            }
            versions.insert(m.version.clone(), m);
        }
        Ok(catalog)
    }

    /// Layer another catalog over this one: a module named in `other` replaces every version of the
    /// same module here. Whoever ships `istio` in their catalog owns `istio`; mixing versions from two
    /// sources would make "which templates did I get" a puzzle.
    ///
    /// A module's channels go with its versions (a replaced module keeps none of the old channels); a
    /// layer may also bring channels alone, for modules of the layers below (a ModuleReleaseMeta file
    /// beside the built-in catalog). `check_channels` then finds a channel naming a version that is not
    /// there.
    pub fn overlay(&mut self, other: Catalog) {
        for (name, versions) in other.modules {
            self.channels.remove(&name);
            self.modules.insert(name, versions);
        }
        self.channels.extend(other.channels);
    }

    /// Take a module's channels (replacing any it had).
    pub fn set_channels(&mut self, c: channels::Channels) {
        self.channels.insert(c.module.clone(), c);
    }

    /// Take a module's channels from elsewhere (a cluster's ModuleReleaseMeta) only if every version
    /// they name is in the catalog; else keep what it had and say why.
    pub fn try_channels(&mut self, c: channels::Channels) -> Result<(), CatalogError> {
        let before = self.channels.insert(c.module.clone(), c.clone());
        let checked = self.check_channels();
        if checked.is_err() {
            match before {
                Some(b) => self.channels.insert(c.module.clone(), b),
                None => self.channels.remove(&c.module),
            };
        }
        checked
    }

    /// Forget a module's channels (a mapping that could not be taken must not leave an older one).
    pub fn drop_channels(&mut self, module: &str) {
        self.channels.remove(module);
    }

    /// A module's release channels, if it has any.
    pub fn channels(&self, name: &str) -> Option<&channels::Channels> {
        self.channels.get(name).filter(|c| !c.versions.is_empty())
    }

    /// Every channel names a module of the catalog and one of its versions: a mapping that points
    /// nowhere is the catalog's error, found when it is loaded rather than when someone picks it.
    pub fn check_channels(&self) -> Result<(), CatalogError> {
        for c in self.channels.values() {
            let Some(versions) = self.modules.get(&c.module) else {
                return Err(CatalogError::BadModuleFile {
                    file: c.origin.clone(),
                    message: format!(
                        "maps channels of module '{}', which the catalog does not have{}",
                        c.module,
                        did_you_mean(&close_names(&c.module, self.names()))
                    ),
                });
            };
            for (channel, v) in &c.versions {
                if !versions.contains_key(v) {
                    return Err(CatalogError::BadModuleFile {
                        file: c.origin.clone(),
                        message: format!(
                            "channel {channel} of {} is version {v}, which the catalog does not have (versions: {})",
                            c.module,
                            versions
                                .keys()
                                .map(|v| v.to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.modules.keys().map(String::as_str)
    }

    pub fn versions(&self, name: &str) -> Option<&BTreeMap<semver::Version, Module>> {
        self.modules.get(name)
    }

    /// The version used when none is named: the one marked `default: true`, else the highest.
    pub fn default_version(&self, name: &str) -> Option<&Module> {
        let versions = self.modules.get(name)?;
        versions
            .values()
            .rev()
            .find(|m| m.marked_default)
            .or_else(|| versions.values().next_back())
    }

    /// Resolve `name`, `name@version` or `name@channel`.
    pub fn select(&self, spec: &str) -> Result<&Module, CatalogError> {
        let (name, version) = match spec.split_once('@') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (spec.trim(), None),
        };
        let versions = self
            .modules
            .get(name)
            .ok_or_else(|| CatalogError::UnknownModule {
                name: name.to_string(),
                close: close_names(name, self.names()),
            })?;
        match version {
            None => Ok(self
                .default_version(name)
                .expect("a module has at least one version")),
            Some(channel) if !channels::is_version_pick(channel) => {
                let mapped = self.channels(name);
                mapped
                    .and_then(|c| c.versions.get(channel))
                    .and_then(|v| versions.get(v))
                    .ok_or_else(|| CatalogError::UnknownChannel {
                        name: name.to_string(),
                        channel: channel.to_string(),
                        available: mapped
                            .map(|c| c.versions.keys().cloned().collect())
                            .unwrap_or_default(),
                        versions: versions.keys().map(|v| v.to_string()).collect(),
                    })
            }
            Some(v) => {
                let wanted = semver::Version::parse(v.trim_start_matches('v')).ok();
                wanted
                    .and_then(|w| versions.get(&w))
                    .ok_or_else(|| CatalogError::UnknownVersion {
                        name: name.to_string(),
                        version: v.to_string(),
                        available: versions.keys().map(|v| v.to_string()).collect(),
                    })
            }
        }
    }

    pub fn all_default(&self) -> Vec<&Module> {
        self.names().filter_map(|n| self.default_version(n)).collect()
    }
}

/// Names within a small edit distance, or sharing a prefix, best first.
pub fn close_names<'a>(wanted: &str, names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut scored: Vec<(usize, String)> = names
        .filter_map(|n| {
            let d = strsim::levenshtein(wanted, n);
            let related = d <= 2.max(wanted.len() / 3) || n.starts_with(wanted) || wanted.starts_with(n);
            related.then(|| (d, n.to_string()))
        })
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, n)| n).collect()
}

fn parse_module(
    source: &str,
    location: &str,
    files: BTreeMap<String, String>,
) -> Result<Module, CatalogError> {
    let path = format!("{location}/module.yaml");
    let bad = |message: String| CatalogError::BadModuleFile {
        file: path.clone(),
        message,
    };
    let text = files.get("module.yaml").expect("root has module.yaml");
    let value = crate::yaml::parse(text).map_err(|e| bad(e.to_string()))?;
    if !value.is_object() {
        return Err(bad(
            "must be a mapping with at least apiVersion, name and version".into(),
        ));
    }
    let file: ModuleFile = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
    if !SUPPORTED_API_VERSIONS.contains(&file.api_version.as_str()) {
        return Err(bad(format!(
            "apiVersion '{}' is not supported by this kyma (supported: {}); upgrade kyma or change apiVersion",
            file.api_version,
            SUPPORTED_API_VERSIONS.join(", ")
        )));
    }
    if !is_dns_label(&file.name) {
        return Err(bad(format!(
            "name '{}' must be a DNS label (lowercase letters, digits, '-', at most 63 characters)",
            file.name
        )));
    }
    let version = semver::Version::parse(file.version.trim_start_matches('v')).map_err(|e| {
        bad(format!(
            "version '{}' is not a semantic version (e.g. 1.2.0): {e}",
            file.version
        ))
    })?;
    if let Some(ns) = &file.namespace
        && !is_dns_label(ns)
    {
        return Err(bad(format!("namespace '{ns}' is not a valid namespace name")));
    }
    for f in files.keys() {
        let ok = f == "module.yaml"
            || f == "README.md"
            || f == "values.yaml"
            || f == "values.schema.json"
            || f.starts_with("profiles/")
            || f.starts_with("templates/")
            || f.starts_with("manifests/")
            || f.starts_with("docs/");
        if !ok {
            return Err(CatalogError::BadModuleFile {
                file: format!("{location}/{f}"),
                message: "is not part of the module contract (module.yaml, values.yaml, values.schema.json, profiles/, templates/, manifests/, docs/)".into(),
            });
        }
    }
    let manifest_urls = file.manifests.into_vec();
    for m in &manifest_urls {
        if !(m.url().starts_with("https://") || m.url().starts_with("http://")) {
            return Err(bad(format!(
                "manifest URL '{}' must start with https:// or http://",
                m.url()
            )));
        }
        if let Some(pin) = m.sha256()
            && (pin.len() != 64 || !pin.chars().all(|c| c.is_ascii_hexdigit()))
        {
            return Err(bad(format!("sha256 pin for '{}' must be 64 hex digits", m.url())));
        }
    }
    Ok(Module {
        name: file.name,
        version,
        description: file.description,
        namespace: file.namespace,
        depends_on: file.depends_on.into_vec(),
        manifest_urls,
        marked_default: file.default,
        source: source.to_string(),
        location: location.to_string(),
        files,
        downloaded: BTreeMap::new(),
        release: None,
    })
}

pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(files: &[(&str, &str)]) -> FileSet {
        FileSet {
            source: "test".into(),
            root: "cat".into(),
            files: files
                .iter()
                .map(|(p, c)| (p.to_string(), c.to_string()))
                .collect(),
        }
    }

    const M: &str = "apiVersion: kyma.module/v1\nname: a\nversion: 1.0.0\n";

    #[test]
    fn versions_and_default() {
        let c = Catalog::from_files(set(&[
            ("a/1.0.0/module.yaml", M),
            (
                "a/2.0.0/module.yaml",
                "apiVersion: kyma.module/v1\nname: a\nversion: 2.0.0\n",
            ),
            (
                "a/1.5.0/module.yaml",
                "apiVersion: kyma.module/v1\nname: a\nversion: 1.5.0\ndefault: true\n",
            ),
        ]))
        .unwrap();
        assert_eq!(c.select("a").unwrap().version.to_string(), "1.5.0");
        assert_eq!(c.select("a@2.0.0").unwrap().version.to_string(), "2.0.0");
        let err = c.select("a@3.0.0").unwrap_err().to_string();
        assert!(err.contains("1.0.0, 1.5.0, 2.0.0"), "{err}");
    }

    #[test]
    fn single_or_list_fields() {
        let c = Catalog::from_files(set(&[(
            "module.yaml",
            "apiVersion: kyma.module/v1\nname: b\nversion: 0.1.0\ndependsOn: a\nmanifests: https://x/y.yaml\n",
        )]))
        .unwrap();
        let b = c.select("b").unwrap();
        assert_eq!(b.depends_on, vec!["a"]);
        assert_eq!(b.manifest_urls.len(), 1);
    }

    #[test]
    fn a_channel_picks_its_version_and_an_unknown_one_names_those_there_are() {
        let mut c = Catalog::from_files(set(&[
            ("a/1.0.0/module.yaml", M),
            ("a/2.0.0/module.yaml", &M.replace("1.0.0", "2.0.0")),
        ]))
        .unwrap();
        let err = c.select("a@fast").unwrap_err().to_string();
        assert_eq!(
            err,
            "module 'a' has no channel 'fast' (it has no release channels; pick a version: 1.0.0, 2.0.0)"
        );
        let channels = |pairs: &[(&str, &str)]| channels::Channels {
            module: "a".into(),
            origin: "metas.yaml".into(),
            versions: pairs
                .iter()
                .map(|(c, v)| (c.to_string(), semver::Version::parse(v).unwrap()))
                .collect(),
        };
        c.set_channels(channels(&[("regular", "1.0.0"), ("fast", "2.0.0")]));
        c.check_channels().unwrap();
        assert_eq!(c.select("a@fast").unwrap().version.to_string(), "2.0.0");
        assert_eq!(c.select("a@regular").unwrap().version.to_string(), "1.0.0");
        assert_eq!(c.select("a@2.0.0").unwrap().version.to_string(), "2.0.0");
        let err = c.select("a@experimental").unwrap_err().to_string();
        assert_eq!(
            err,
            "module 'a' has no channel 'experimental' (channels: fast, regular)"
        );

        // A mapping to a version the catalog lacks is the catalog's error, named by its file.
        c.set_channels(channels(&[("fast", "3.0.0")]));
        let err = c.check_channels().unwrap_err().to_string();
        assert!(
            err.starts_with("metas.yaml: channel fast of a is version 3.0.0, which the catalog does not have (versions: 1.0.0, 2.0.0)"),
            "{err}"
        );
        // A module replaced by a layer above loses the channels of the one below.
        c.overlay(Catalog::from_files(set(&[("a/module.yaml", &M.replace("1.0.0", "5.0.0"))])).unwrap());
        assert!(c.channels("a").is_none());
        c.check_channels().unwrap();
    }

    #[test]
    fn unknown_module_suggests() {
        let c = Catalog::from_files(set(&[(
            "istio/module.yaml",
            &M.replace("name: a", "name: istio"),
        )]))
        .unwrap();
        let err = c.select("isito").unwrap_err().to_string();
        assert!(err.contains("did you mean: istio"), "{err}");
    }
}

//! The module contract: what `module.yaml` may say. This is public API for outside module authors, so
//! it is versioned (`apiVersion`) and every field that may one day need to be plural already accepts
//! both a single value and a list.

use serde::Deserialize;

/// The `apiVersion` values this binary understands.
pub const SUPPORTED_API_VERSIONS: &[&str] = &["kyma.module/v1"];

/// `module.yaml`, as written by a module author.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ModuleFile {
    pub api_version: String,
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
    /// Target namespace for namespaced objects that do not name one.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Soft dependencies: an ordering hint and a "you probably also want" warning, never a failure.
    #[serde(default)]
    pub depends_on: OneOrMany<String>,
    /// Release manifests applied as they are (never templated), fetched over HTTP(S).
    #[serde(default)]
    pub manifests: OneOrMany<ManifestRef>,
    /// Marks the version chosen when the user names none; otherwise the highest version wins.
    #[serde(default)]
    pub default: bool,
}

/// A value that may be given as one item or as a list (`dependsOn: istio` or `dependsOn: [istio]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

impl<T> OneOrMany<T> {
    pub fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![t],
            OneOrMany::Many(v) => v,
        }
    }
}

/// A manifest URL: either the URL alone or `{url, sha256}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum ManifestRef {
    Url(String),
    Pinned {
        url: String,
        #[serde(default)]
        sha256: Option<String>,
    },
}

impl ManifestRef {
    pub fn url(&self) -> &str {
        match self {
            ManifestRef::Url(u) | ManifestRef::Pinned { url: u, .. } => u,
        }
    }
    pub fn sha256(&self) -> Option<&str> {
        match self {
            ManifestRef::Url(_) => None,
            ManifestRef::Pinned { sha256, .. } => sha256.as_deref(),
        }
    }
}

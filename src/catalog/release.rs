//! Real module releases: Kyma's published modules, described by reference (the built-in index) or by
//! Kyma's own ModuleTemplates. A release module has no templates. Its manager manifest is applied as it
//! was published; its default custom resource is the module's configuration, and values merge into it.
//!
//! A release module is *materialized* before values are resolved: its assets are fetched (cache, digest
//! record, mirror) and laid out as an ordinary module's files, so everything after the catalog treats
//! both kinds of module alike:
//!   `manifests/<asset>`   the manager manifest, verbatim
//!   `values.yaml`         the default CR (namespace filled in for a namespaced kind)
//!   `values.schema.json`  the CR's openAPIV3Schema from the CRD in the manifest, made strict

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::channels::Channels;
use super::{CatalogError, Module};
use crate::fetch::{FetchError, Fetcher, GITHUB};

/// Where the default CR comes from.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DefaultCr {
    /// A release asset (the index, a ModuleTemplate's `defaultResource` link).
    Url(String),
    /// Embedded (a ModuleTemplate's `spec.data`).
    Inline(Value),
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CustomResourceRef {
    pub api_version: String,
    pub kind: String,
    /// `Namespaced` or `Cluster`; unknown until the CRD is read when a source does not say.
    #[serde(default)]
    pub scope: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ManagerRef {
    pub name: String,
    pub namespace: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MinKubernetes {
    /// `major.minor`, e.g. `1.28`.
    pub version: String,
    /// The feature that needs it, for the one-sentence failure.
    pub needs: String,
}

impl MinKubernetes {
    /// `(major, minor)`, when the version parses.
    pub fn parsed(&self) -> Option<(u64, u64)> {
        crate::cluster::version::parse_minor(&self.version)
    }
}

/// What makes a module a release module.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Release {
    /// `owner/name` on GitHub, when known.
    pub repository: Option<String>,
    /// The manager manifest: applied as it is, never templated.
    pub manager_manifest: String,
    pub default_cr: DefaultCr,
    pub custom_resource: Option<CustomResourceRef>,
    pub manager: Option<ManagerRef>,
    /// Hard dependencies: modules this one cannot work without.
    pub requires: Vec<String>,
    pub min_kubernetes: Option<MinKubernetes>,
}

impl Release {
    /// Every URL this release downloads.
    pub fn urls(&self) -> Vec<&str> {
        let mut v = vec![self.manager_manifest.as_str()];
        if let DefaultCr::Url(u) = &self.default_cr {
            v.push(u);
        }
        v
    }
}

pub fn asset_url(repository: &str, version: &str, asset: &str) -> String {
    format!("{GITHUB}{repository}/releases/download/{version}/{asset}")
}

// ---- the built-in index ------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Index {
    api_version: String,
    kind: String,
    modules: Vec<IndexModule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Assets {
    manager: String,
    default_c_r: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct IndexModule {
    name: String,
    repository: String,
    #[serde(default)]
    description: String,
    namespace: String,
    custom_resource: CustomResourceRef,
    manager: ManagerRef,
    assets: Assets,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    works_with: Vec<String>,
    /// Release channel → version (`regular: 1.2.0`), as a ModuleReleaseMeta maps them.
    #[serde(default)]
    channels: BTreeMap<String, String>,
    versions: Vec<IndexVersion>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct IndexVersion {
    version: String,
    #[serde(default)]
    assets: Option<Assets>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    min_kubernetes: Option<MinKubernetes>,
}

/// Parse a release index (the built-in `modules/kyma-modules.yaml`, or one a user passes with
/// `--catalog`) into modules and their release channels.
pub fn from_index(
    source: &str,
    location: &str,
    text: &str,
) -> Result<(Vec<Module>, Vec<Channels>), CatalogError> {
    let bad = |message: String| CatalogError::BadModuleFile {
        file: location.to_string(),
        message,
    };
    let value = crate::yaml::parse(text).map_err(|e| bad(e.to_string()))?;
    let index: Index = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
    if index.api_version != "kyma.module/v1" || index.kind != "ReleaseIndex" {
        return Err(bad(format!(
            "expected apiVersion kyma.module/v1, kind ReleaseIndex; got {} {}",
            index.api_version, index.kind
        )));
    }
    let mut out = Vec::new();
    let mut channels = Vec::new();
    for m in index.modules {
        if !super::is_dns_label(&m.name) {
            return Err(bad(format!("module name '{}' must be a DNS label", m.name)));
        }
        if m.versions.is_empty() {
            return Err(bad(format!("module {} lists no version", m.name)));
        }
        if !m.channels.is_empty() {
            let mut versions = BTreeMap::new();
            for (channel, v) in &m.channels {
                if !super::channels::is_channel_name(channel) {
                    return Err(bad(format!(
                        "{}: channel '{channel}' must be a channel name (lowercase letters, digits, '-'), e.g. regular",
                        m.name
                    )));
                }
                let version = semver::Version::parse(v.trim_start_matches('v')).map_err(|e| {
                    bad(format!(
                        "{}: channel {channel}: version '{v}' is not a semantic version: {e}",
                        m.name
                    ))
                })?;
                versions.insert(channel.clone(), version);
            }
            channels.push(Channels {
                module: m.name.clone(),
                origin: format!("{location} (module {})", m.name),
                versions,
            });
        }
        for v in m.versions {
            let version = semver::Version::parse(&v.version).map_err(|e| {
                bad(format!(
                    "{}: version '{}' is not a semantic version: {e}",
                    m.name, v.version
                ))
            })?;
            let assets = v.assets.clone().unwrap_or_else(|| m.assets.clone());
            let mut depends_on = m.requires.clone();
            depends_on.extend(m.works_with.iter().cloned());
            out.push(Module {
                name: m.name.clone(),
                version,
                description: m.description.clone(),
                namespace: Some(v.namespace.clone().unwrap_or_else(|| m.namespace.clone())),
                depends_on,
                manifest_urls: vec![],
                marked_default: false,
                source: source.to_string(),
                location: format!("{}@{}", m.repository, v.version),
                files: BTreeMap::new(),
                downloaded: BTreeMap::new(),
                release: Some(Release {
                    repository: Some(m.repository.clone()),
                    manager_manifest: asset_url(&m.repository, &v.version, &assets.manager),
                    default_cr: DefaultCr::Url(asset_url(&m.repository, &v.version, &assets.default_c_r)),
                    custom_resource: Some(m.custom_resource.clone()),
                    manager: Some(m.manager.clone()),
                    requires: m.requires.clone(),
                    min_kubernetes: v.min_kubernetes,
                }),
            });
        }
    }
    Ok((out, channels))
}

// ---- materializing -----------------------------------------------------------------------------------

fn asset_name(url: &str) -> &str {
    url.rsplit('/')
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or("manifest.yaml")
}

fn text_of(url: &str, bytes: Vec<u8>) -> Result<String, CatalogError> {
    String::from_utf8(bytes).map_err(|_| CatalogError::BadModuleFile {
        file: url.to_string(),
        message: "is not UTF-8 text".into(),
    })
}

/// Fetch a release module's assets and lay them out as module files (see the module docs). Modules
/// that are not releases come back unchanged.
pub fn materialize(m: &Module, fetcher: &Fetcher) -> Result<Module, CatalogError> {
    let Some(r) = &m.release else { return Ok(m.clone()) };
    let mut out = m.clone();
    let manifest_url = &r.manager_manifest;
    let manifest = text_of(
        manifest_url,
        fetcher
            .get_asset(manifest_url, None)
            .map_err(|e| unavailable(m, e))?,
    )?;
    let docs = crate::yaml::parse_all(&manifest).map_err(|e| CatalogError::BadModuleFile {
        file: manifest_url.clone(),
        message: e.to_string(),
    })?;

    let mut cr = match &r.default_cr {
        DefaultCr::Inline(v) => v.clone(),
        DefaultCr::Url(url) => {
            let text = text_of(url, fetcher.get_asset(url, None).map_err(|e| unavailable(m, e))?)?;
            let mut docs = crate::yaml::parse_all(&text).map_err(|e| CatalogError::BadModuleFile {
                file: url.clone(),
                message: e.to_string(),
            })?;
            if docs.len() != 1 {
                return Err(CatalogError::BadModuleFile {
                    file: url.clone(),
                    message: format!("a default CR must be one object, found {} documents", docs.len()),
                });
            }
            docs.remove(0).1
        }
    };
    let cr_file = match &r.default_cr {
        DefaultCr::Url(u) => u.clone(),
        DefaultCr::Inline(_) => format!("{} (spec.data)", m.location),
    };
    if !cr.is_object() || cr.get("apiVersion").is_none() || cr.get("kind").is_none() {
        return Err(CatalogError::BadModuleFile {
            file: cr_file,
            message: "the default CR is not a Kubernetes object (apiVersion, kind, metadata)".into(),
        });
    }
    let api_version = cr["apiVersion"].as_str().unwrap_or_default().to_string();
    let kind = cr["kind"].as_str().unwrap_or_default().to_string();
    let kube::core::GroupVersion { group, version } = api_version
        .parse()
        .unwrap_or_else(|_| kube::core::GroupVersion::gv("", &api_version));
    let crd = docs.iter().map(|(_, d)| d).find(|d| {
        d["kind"] == "CustomResourceDefinition"
            && d.pointer("/spec/group").and_then(Value::as_str) == Some(group.as_str())
            && d.pointer("/spec/names/kind").and_then(Value::as_str) == Some(kind.as_str())
    });
    let scope = crd
        .and_then(|c| c.pointer("/spec/scope").and_then(Value::as_str))
        .map(str::to_string)
        .or_else(|| r.custom_resource.as_ref().and_then(|c| c.scope.clone()));
    if scope.as_deref() != Some("Cluster") && cr.pointer("/metadata/namespace").is_none() {
        // As lifecycle-manager does: a default CR without a namespace goes to the module's namespace.
        let ns = m.namespace.clone().unwrap_or_else(|| "kyma-system".into());
        cr["metadata"]["namespace"] = json!(ns);
    }
    if cr
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        cr["metadata"]["name"] = json!(m.name);
    }
    out.files
        .insert(format!("manifests/{}", asset_name(manifest_url)), manifest);
    out.files
        .insert("values.yaml".into(), crate::yaml::to_string(&cr));
    if let Some(schema) = crd.and_then(|c| crd_schema(c, &version)) {
        out.files.insert(
            "values.schema.json".into(),
            serde_json::to_string_pretty(&schema).expect("JSON"),
        );
    }
    if let Some(rel) = &mut out.release
        && rel.custom_resource.is_none()
    {
        rel.custom_resource = Some(CustomResourceRef {
            api_version,
            kind,
            scope,
        });
    }
    Ok(out)
}

fn unavailable(m: &Module, e: FetchError) -> CatalogError {
    CatalogError::Asset {
        module: m.id(),
        source: e,
    }
}

/// The CR's schema for values: the served version's `openAPIV3Schema`, made strict so that a misspelt
/// key is an error before anything is applied (the server would silently prune it). Objects that keep
/// unknown fields (`x-kubernetes-preserve-unknown-fields`) or declare `additionalProperties` stay open.
pub fn crd_schema(crd: &Value, version: &str) -> Option<Value> {
    let versions = crd.pointer("/spec/versions")?.as_array()?;
    let v = versions.iter().find(|v| v["name"] == version)?;
    let mut schema = v.pointer("/schema/openAPIV3Schema")?.clone();
    strict(&mut schema);
    // The server owns status; values never set it.
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        props.remove("status");
    }
    Some(schema)
}

fn strict(node: &mut Value) {
    let Some(map) = node.as_object_mut() else { return };
    let open = map.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true))
        || map.contains_key("additionalProperties");
    if map.contains_key("properties") && !open {
        map.insert("additionalProperties".into(), Value::Bool(false));
    }
    // OpenAPI's `nullable: true` is JSON Schema's `null` among the types. Without it, the API server
    // prunes a null before it validates (`spec:` with nothing under it, as btp-operator publishes its
    // default CR); values do the same (`values::prune_nulls`), led by this distinction.
    // `nullable` itself stays (JSON Schema ignores it) for a field without a type (int-or-string,
    // preserve-unknown-fields), where it is the only sign that null is a value.
    if map.get("nullable") == Some(&Value::Bool(true))
        && let Some(Value::String(t)) = map.get("type").cloned()
    {
        map.insert("type".into(), json!([t, "null"]));
    }
    for (k, v) in map.iter_mut() {
        match k.as_str() {
            "properties" | "patternProperties" => {
                if let Some(props) = v.as_object_mut() {
                    props.values_mut().for_each(strict);
                }
            }
            "items" | "additionalProperties" | "not" => strict(v),
            "allOf" | "anyOf" | "oneOf" => {
                if let Some(list) = v.as_array_mut() {
                    list.iter_mut().for_each(strict);
                }
            }
            _ => {}
        }
    }
}

/// Container images a set of manifests references (Pod templates, Pods, CronJobs), sorted and unique.
pub fn images(docs: &[Value]) -> Vec<String> {
    let mut out = std::collections::BTreeSet::new();
    for d in docs {
        for spec in [
            d.pointer("/spec/template/spec"),
            d.pointer("/spec/jobTemplate/spec/template/spec"),
            (d["kind"] == "Pod").then(|| &d["spec"]),
        ]
        .into_iter()
        .flatten()
        {
            for list in ["containers", "initContainers", "ephemeralContainers"] {
                for c in spec.get(list).and_then(Value::as_array).into_iter().flatten() {
                    if let Some(i) = c.get("image").and_then(Value::as_str) {
                        out.insert(i.to_string());
                    }
                }
            }
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = "apiVersion: kyma.module/v1\nkind: ReleaseIndex\nmodules:\n- name: gw\n  repository: org/gw\n  namespace: kyma-system\n  customResource: {apiVersion: x.io/v1, kind: Gw, scope: Cluster}\n  manager: {name: gw-manager, namespace: kyma-system}\n  assets: {manager: gw.yaml, defaultCR: gw-cr.yaml}\n  requires: [mesh]\n  worksWith: [extra]\n  versions:\n  - version: 2.0.0\n    minKubernetes: {version: \"1.28\", needs: \"webhooks[].matchConditions\"}\n  - version: 1.9.0\n    assets: {manager: old.yaml, defaultCR: old-cr.yaml}\n";

    #[test]
    fn index_versions_and_urls() {
        let (mods, channels) = from_index("built-in", "modules/kyma-modules.yaml", INDEX).unwrap();
        assert_eq!(mods.len(), 2);
        assert!(channels.is_empty());
        let r = mods[0].release.as_ref().unwrap();
        assert_eq!(
            r.manager_manifest,
            "https://github.com/org/gw/releases/download/2.0.0/gw.yaml"
        );
        assert_eq!(r.min_kubernetes.as_ref().unwrap().parsed(), Some((1, 28)));
        assert_eq!(mods[0].depends_on, vec!["mesh", "extra"]);
        assert_eq!(r.requires, vec!["mesh"]);
        let old = mods[1].release.as_ref().unwrap();
        assert_eq!(
            old.urls(),
            vec![
                "https://github.com/org/gw/releases/download/1.9.0/old.yaml",
                "https://github.com/org/gw/releases/download/1.9.0/old-cr.yaml"
            ]
        );
    }

    #[test]
    fn index_channels_map_to_versions() {
        let text = INDEX.replace(
            "  versions:\n",
            "  channels: {regular: 1.9.0, fast: 2.0.0}\n  versions:\n",
        );
        let (_, channels) = from_index("built-in", "idx.yaml", &text).unwrap();
        assert_eq!(channels[0].module, "gw");
        assert_eq!(channels[0].origin, "idx.yaml (module gw)");
        assert_eq!(channels[0].versions["fast"].to_string(), "2.0.0");
        let e = from_index("t", "idx.yaml", &text.replace("fast: 2.0.0", "Fast: 2.0.0"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("gw: channel 'Fast' must be a channel name"), "{e}");
    }

    #[test]
    fn index_errors_name_the_file() {
        let e = from_index("t", "idx.yaml", &INDEX.replace("version: 1.9.0", "version: one"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("idx.yaml: gw: version 'one'"), "{e}");
        let e = from_index("t", "idx.yaml", &INDEX.replace("  requires", "  requirez"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("requirez"), "{e}");
    }

    #[test]
    fn strict_schema_rejects_unknown_keys_but_keeps_open_objects_open() {
        let crd = json!({"spec": {"versions": [{"name": "v1", "schema": {"openAPIV3Schema": {"type": "object", "properties": {
            "spec": {"type": "object", "properties": {"replicas": {"type": "integer", "nullable": true},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"a": {"type": "string"}}}}},
            "status": {"type": "object"}}}}}]}});
        let schema = crd_schema(&crd, "v1").unwrap();
        let v = jsonschema::validator_for(&schema).unwrap();
        assert!(v.is_valid(&json!({"spec": {"replicas": 2, "free": {"anything": 1}}})));
        assert!(!v.is_valid(&json!({"spec": {"replicsa": 2}})));
        assert!(
            v.is_valid(&json!({"spec": {"replicas": null}})),
            "nullable: a null is a value"
        );
        assert!(
            !v.is_valid(&json!({"spec": null})),
            "not nullable: values prune it first"
        );
        assert!(schema["properties"].get("status").is_none());
        assert!(crd_schema(&crd, "v2").is_none());
    }

    #[test]
    fn images_from_pod_templates() {
        let docs = vec![
            json!({"kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"image": "b:1"}], "initContainers": [{"image": "a:1"}]}}}}),
            json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"image": "b:1"}]}}}}}}),
            json!({"kind": "ConfigMap", "data": {"image": "not-an-image"}}),
        ];
        assert_eq!(images(&docs), vec!["a:1", "b:1"]);
    }
}

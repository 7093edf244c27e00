//! Kyma's own catalog format: ModuleTemplate objects (`operator.kyma-project.io/v1beta2`), one per
//! module version, as lifecycle-manager syncs them into clusters and as the community modules index
//! (`all-modules.json`, a JSON array of ModuleTemplates) publishes them. Each becomes a release module:
//! `resources[rawManifest]` is the manager manifest, `spec.data` (or `resources[defaultResource]`) the
//! default CR, `spec.manager` the Deployment that reconciles it.

use std::collections::BTreeMap;

use serde_json::Value;

use super::release::{CustomResourceRef, DefaultCr, ManagerRef, Release};
use super::{CatalogError, Module};
use crate::fetch::GITHUB;
use crate::object::Fields;

pub const API_VERSION: &str = "operator.kyma-project.io/v1beta2";
const MODULE_NAME_LABEL: &str = "operator.kyma-project.io/module-name";
const CLUSTER_SCOPED_ANNOTATION: &str = "operator.kyma-project.io/is-cluster-scoped";

/// Is this document a ModuleTemplate?
pub fn is_module_template(doc: &Value) -> bool {
    doc.get("kind").and_then(Value::as_str) == Some("ModuleTemplate")
        && doc
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|a| a.starts_with("operator.kyma-project.io/"))
}

/// Parse a file's text: multi-document YAML of ModuleTemplates, or a JSON array of them.
pub fn parse_text(source: &str, file: &str, text: &str) -> Result<Vec<Module>, CatalogError> {
    let bad = |message: String| CatalogError::BadModuleFile {
        file: file.to_string(),
        message,
    };
    let docs: Vec<(usize, Value)> = if text.trim_start().starts_with('[') {
        let list: Vec<Value> = serde_json::from_str(text)
            .map_err(|e| bad(format!("not a JSON array of ModuleTemplates: {e}")))?;
        list.into_iter().enumerate().map(|(i, d)| (i + 1, d)).collect()
    } else {
        crate::yaml::parse_all(text)
            .map_err(|e| bad(e.to_string()))?
            .into_iter()
            .enumerate()
            .map(|(i, (_, d))| (i + 1, d))
            .collect()
    };
    let mut out = Vec::new();
    let mut metas = 0;
    for (i, doc) in docs {
        if doc.is_null() {
            continue;
        }
        // Channels, read by `channels::parse_text`.
        if super::channels::is_release_meta(&doc) {
            metas += 1;
            continue;
        }
        out.push(from_template(source, &format!("{file}, document {i}"), &doc)?);
    }
    if out.is_empty() && metas == 0 {
        return Err(bad("holds no ModuleTemplate".into()));
    }
    Ok(out)
}

/// One ModuleTemplate → one release module.
pub fn from_template(source: &str, at: &str, t: &Value) -> Result<Module, CatalogError> {
    let name_of_object = t.str_at(&["metadata", "name"]).unwrap_or("?");
    let bad = |message: String| CatalogError::BadModuleFile {
        file: format!("{at} (ModuleTemplate {name_of_object})"),
        message,
    };
    if !is_module_template(t) {
        return Err(bad(format!(
            "expected apiVersion {API_VERSION}, kind ModuleTemplate; got {} {}",
            t.get("apiVersion").and_then(Value::as_str).unwrap_or("-"),
            t.get("kind").and_then(Value::as_str).unwrap_or("-")
        )));
    }
    let spec = t.get("spec").ok_or_else(|| bad("has no spec".into()))?;
    let s = |p: &str| spec.pointer(p).and_then(Value::as_str).filter(|v| !v.is_empty());
    let name = s("/moduleName")
        .or_else(|| t.label(MODULE_NAME_LABEL))
        .ok_or_else(|| {
            bad("has neither spec.moduleName nor the operator.kyma-project.io/module-name label".into())
        })?
        .to_string();
    if !super::is_dns_label(&name) {
        return Err(bad(format!("module name '{name}' must be a DNS label")));
    }
    let version_text = s("/version").ok_or_else(|| bad("has no spec.version".into()))?;
    let version = semver::Version::parse(version_text.trim_start_matches('v')).map_err(|e| {
        bad(format!(
            "spec.version '{version_text}' is not a semantic version: {e}"
        ))
    })?;
    let resource = |wanted: &str| {
        spec.get("resources")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|r| r.get("name").and_then(Value::as_str) == Some(wanted))
            .and_then(|r| r.get("link"))
            .and_then(Value::as_str)
    };
    let manifest = resource("rawManifest").ok_or_else(|| {
        bad("has no spec.resources entry named rawManifest: kyma needs the manager manifest's URL (templates that carry it only in an OCM descriptor are not supported)".into())
    })?;
    let default_cr = match (spec.get("data").filter(|d| d.is_object() && !d.as_object().unwrap().is_empty()), resource("defaultResource")) {
        (Some(data), _) => DefaultCr::Inline(data.clone()),
        (None, Some(link)) => DefaultCr::Url(link.to_string()),
        (None, None) => return Err(bad("has neither spec.data nor a defaultResource link: there is no default CR to configure the module with".into())),
    };
    let cluster_scoped = t.annotation(CLUSTER_SCOPED_ANNOTATION).map(|v| v == "true");
    let custom_resource = match &default_cr {
        DefaultCr::Inline(d) => Some(CustomResourceRef {
            api_version: d
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            kind: d
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            scope: cluster_scoped.map(|c| if c { "Cluster".into() } else { "Namespaced".into() }),
        }),
        DefaultCr::Url(_) => None,
    };
    let manager = match (s("/manager/name"), s("/manager/namespace")) {
        (Some(n), ns) => Some(ManagerRef {
            name: n.to_string(),
            namespace: ns.unwrap_or("kyma-system").to_string(),
        }),
        _ => None,
    };
    let namespace = manager
        .as_ref()
        .map(|m| m.namespace.clone())
        .or_else(|| match &default_cr {
            DefaultCr::Inline(d) => d.str_at(&["metadata", "namespace"]).map(str::to_string),
            DefaultCr::Url(_) => None,
        })
        .unwrap_or_else(|| "kyma-system".into());
    let repository = s("/info/repository")
        .and_then(|r| r.strip_prefix(GITHUB))
        .map(|r| r.trim_end_matches(".git").trim_end_matches('/').to_string());
    Ok(Module {
        name,
        version,
        description: s("/info/documentation")
            .map(|d| format!("docs: {d}"))
            .unwrap_or_default(),
        namespace: Some(namespace),
        depends_on: vec![],
        manifest_urls: vec![],
        marked_default: false,
        source: source.to_string(),
        location: format!("ModuleTemplate {name_of_object}"),
        files: BTreeMap::new(),
        downloaded: BTreeMap::new(),
        release: Some(Release {
            repository,
            manager_manifest: manifest.to_string(),
            default_cr,
            custom_resource,
            manager,
            requires: vec![],
            min_kubernetes: None,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"apiVersion: operator.kyma-project.io/v1beta2
kind: ModuleTemplate
metadata:
  name: things-0.2.0
  labels: {"operator.kyma-project.io/module-name": "things"}
  annotations: {"operator.kyma-project.io/is-cluster-scoped": "false"}
spec:
  moduleName: things
  version: 0.2.0
  info: {repository: "https://github.com/example/things.git", documentation: "https://example.org/things"}
  data:
    apiVersion: operator.kyma-project.io/v1alpha1
    kind: Things
    metadata: {name: default, namespace: things-system}
    spec: {}
  manager: {name: things-operator, namespace: things-system, group: apps, version: v1, kind: Deployment}
  resources:
  - name: rawManifest
    link: https://github.com/example/things/releases/download/0.2.0/things-operator.yaml
  - name: defaultResource
    link: https://github.com/example/things/releases/download/0.2.0/default-things-cr.yaml
"#;

    #[test]
    fn a_template_is_a_release_module() {
        let mods = parse_text("t", "mt.yaml", TEMPLATE).unwrap();
        let m = &mods[0];
        assert_eq!(
            (
                m.name.as_str(),
                m.version.to_string().as_str(),
                m.namespace.as_deref()
            ),
            ("things", "0.2.0", Some("things-system"))
        );
        let r = m.release.as_ref().unwrap();
        assert_eq!(
            r.manager_manifest,
            "https://github.com/example/things/releases/download/0.2.0/things-operator.yaml"
        );
        assert!(
            matches!(&r.default_cr, DefaultCr::Inline(d) if d["kind"] == "Things"),
            "spec.data wins over the link"
        );
        assert_eq!(r.repository.as_deref(), Some("example/things"));
        assert_eq!(
            r.manager,
            Some(ManagerRef {
                name: "things-operator".into(),
                namespace: "things-system".into()
            })
        );
        assert_eq!(
            r.custom_resource.as_ref().unwrap().scope.as_deref(),
            Some("Namespaced")
        );
    }

    #[test]
    fn the_community_index_is_a_json_array_of_templates() {
        let doc = crate::yaml::parse(TEMPLATE).unwrap();
        let mut second = doc.clone();
        second["spec"]["version"] = "0.3.0".into();
        second["spec"].as_object_mut().unwrap().remove("data");
        let text = serde_json::to_string(&vec![doc, second]).unwrap();
        let mods = parse_text("t", "all-modules.json", &text).unwrap();
        assert_eq!(mods.len(), 2);
        assert!(
            matches!(&mods[1].release.as_ref().unwrap().default_cr, DefaultCr::Url(u) if u.ends_with("default-things-cr.yaml"))
        );
    }

    #[test]
    fn errors_name_the_template_and_what_is_missing() {
        let no_manifest = TEMPLATE.replace("rawManifest", "somethingElse");
        let e = parse_text("t", "mt.yaml", &no_manifest).unwrap_err().to_string();
        assert!(e.starts_with("mt.yaml, document 1 (ModuleTemplate things-0.2.0): has no spec.resources entry named rawManifest"), "{e}");
        let e = parse_text(
            "t",
            "mt.yaml",
            &TEMPLATE.replace("version: 0.2.0", "version: two"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("spec.version 'two'"), "{e}");
        let e = parse_text(
            "t",
            "x.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("expected apiVersion operator.kyma-project.io/v1beta2, kind ModuleTemplate"),
            "{e}"
        );
    }
}

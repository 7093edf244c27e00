//! Release channels: which version of a module a channel (`regular`, `fast`, …) stands for. Read from
//! lifecycle-manager's `ModuleReleaseMeta` (`operator.kyma-project.io/v1beta2`: `spec.moduleName`,
//! `spec.channels[{channel, version}]`), as it sits beside the ModuleTemplates in a catalog directory or
//! in a cluster, and from the `channels:` of a release index (the built-in catalog's own mapping).

use std::collections::BTreeMap;

use serde_json::Value;

use super::CatalogError;
use crate::object::Fields as _;

pub const KIND: &str = "ModuleReleaseMeta";

/// One module's channels and the file (or object) that declares them.
#[derive(Debug, Clone, PartialEq)]
pub struct Channels {
    pub module: String,
    /// Where the mapping comes from, for messages: a file and document, or the index.
    pub origin: String,
    pub versions: BTreeMap<String, semver::Version>,
}

/// Is this document a ModuleReleaseMeta?
pub fn is_release_meta(doc: &Value) -> bool {
    doc.get("kind").and_then(Value::as_str) == Some(KIND)
        && doc
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|a| a.starts_with("operator.kyma-project.io/"))
}

/// Does this text hold a ModuleReleaseMeta (cheap look before parsing)?
pub fn mentions(text: &str) -> bool {
    text.contains(KIND)
}

/// One ModuleReleaseMeta → its module's channels. A meta of a mandatory module (`spec.mandatory`, no
/// channels) maps no channel.
pub fn from_release_meta(at: &str, doc: &Value) -> Result<Channels, CatalogError> {
    let object = doc.str_at(&["metadata", "name"]).unwrap_or("?");
    let origin = format!("{at} ({KIND} {object})");
    let bad = |message: String| CatalogError::BadModuleFile {
        file: origin.clone(),
        message,
    };
    let module = doc
        .str_at(&["spec", "moduleName"])
        .filter(|n| !n.is_empty())
        .ok_or_else(|| bad("has no spec.moduleName".into()))?
        .to_string();
    let mut versions = BTreeMap::new();
    for (i, c) in doc
        .pointer("/spec/channels")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let channel = c
            .str_at(&["channel"])
            .filter(|c| is_channel_name(c))
            .ok_or_else(|| {
                bad(format!(
                    "spec.channels[{i}].channel must be a channel name (lowercase letters, digits, '-'), e.g. regular"
                ))
            })?;
        let text = c
            .str_at(&["version"])
            .ok_or_else(|| bad(format!("spec.channels[{i}] ({channel}) has no version")))?;
        let version = semver::Version::parse(text.trim_start_matches('v')).map_err(|e| {
            bad(format!(
                "spec.channels[{i}] ({channel}): version '{text}' is not a semantic version: {e}"
            ))
        })?;
        if versions.insert(channel.to_string(), version).is_some() {
            return Err(bad(format!("channel {channel} is listed twice")));
        }
    }
    Ok(Channels {
        module,
        origin,
        versions,
    })
}

/// Every ModuleReleaseMeta of a file: multi-document YAML or a JSON array; other documents are left to
/// their own readers.
pub fn parse_text(file: &str, text: &str) -> Result<Vec<Channels>, CatalogError> {
    let bad = |message: String| CatalogError::BadModuleFile {
        file: file.to_string(),
        message,
    };
    let docs: Vec<Value> = if text.trim_start().starts_with('[') {
        serde_json::from_str(text).map_err(|e| bad(format!("not a JSON array: {e}")))?
    } else {
        crate::yaml::parse_all(text)
            .map_err(|e| bad(e.to_string()))?
            .into_iter()
            .map(|(_, d)| d)
            .collect()
    };
    docs.iter()
        .enumerate()
        .filter(|(_, d)| is_release_meta(d))
        .map(|(i, d)| from_release_meta(&format!("{file}, document {}", i + 1), d))
        .collect()
}

/// A channel name as lifecycle-manager's CRD allows it (and never a version: it starts with a letter).
pub fn is_channel_name(s: &str) -> bool {
    s.len() >= 2
        && s.len() <= 32
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `name@x`: is `x` a version (`1.2.0`, `v1.2.0`) rather than a channel?
pub fn is_version_pick(pick: &str) -> bool {
    pick.trim_start_matches('v')
        .starts_with(|c: char| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const META: &str = r#"apiVersion: operator.kyma-project.io/v1beta2
kind: ModuleReleaseMeta
metadata: {name: keda, namespace: kcp-system}
spec:
  moduleName: keda
  ocmComponentName: kyma-project.io/module/keda
  channels:
  - {channel: regular, version: 1.0.0}
  - {channel: fast, version: 1.1.0}
---
apiVersion: operator.kyma-project.io/v1beta2
kind: ModuleTemplate
metadata: {name: keda-1.0.0}
"#;

    #[test]
    fn a_release_meta_maps_channels_to_versions_and_other_documents_are_skipped() {
        let c = parse_text("metas.yaml", META).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].module, "keda");
        assert_eq!(c[0].origin, "metas.yaml, document 1 (ModuleReleaseMeta keda)");
        let v: Vec<(String, String)> = c[0]
            .versions
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string()))
            .collect();
        assert_eq!(
            v,
            vec![
                ("fast".into(), "1.1.0".into()),
                ("regular".into(), "1.0.0".into())
            ]
        );
    }

    #[test]
    fn errors_name_the_object_and_the_entry() {
        let e = parse_text("m.yaml", &META.replace("version: 1.1.0", "version: soon"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("m.yaml, document 1 (ModuleReleaseMeta keda)"), "{e}");
        assert!(e.contains("spec.channels[1] (fast): version 'soon'"), "{e}");
        let e = parse_text("m.yaml", &META.replace("channel: fast", "channel: regular"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("channel regular is listed twice"), "{e}");
        let e = parse_text("m.yaml", &META.replace("moduleName: keda", "moduleName: \"\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("has no spec.moduleName"), "{e}");
    }

    #[test]
    fn a_pick_after_the_at_is_a_version_or_a_channel() {
        for v in ["1.2.0", "v1.2.0", "0.1.0-rc.1"] {
            assert!(is_version_pick(v), "{v}");
        }
        for c in ["fast", "regular", "experimental", "dev"] {
            assert!(!is_version_pick(c) && is_channel_name(c), "{c}");
        }
        assert!(!is_channel_name("Fast") && !is_channel_name("f") && !is_channel_name("1x"));
    }
}

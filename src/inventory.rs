//! What `kyma` put on a cluster, per module, as a KEP-3659 ApplySet: a parent Secret
//! `kyma-installer/kyma-<module>` labelled `applyset.kubernetes.io/id`, and every member labelled
//! `applyset.kubernetes.io/part-of=<id>`. The parent also records the member list, version, hashes and
//! the applied manifest, so prune, undeploy, status and the fast "unchanged" skip never guess.

use std::collections::BTreeSet;
use std::io::{Read, Write};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::cluster::{ApplyOptions, Cluster, RequestError, Resource};
use crate::object::{Object, ObjectKey};

/// Where inventories and the cluster lock live.
pub const NAMESPACE: &str = "kyma-installer";
pub const ID_LABEL: &str = "applyset.kubernetes.io/id";
pub const PART_OF_LABEL: &str = "applyset.kubernetes.io/part-of";
pub const TOOLING_ANNOTATION: &str = "applyset.kubernetes.io/tooling";
pub const GROUP_KINDS_ANNOTATION: &str = "applyset.kubernetes.io/contains-group-kinds";
pub const NAMESPACES_ANNOTATION: &str = "applyset.kubernetes.io/additional-namespaces";
/// Marks a parent Secret as a kyma inventory; the value is the module name.
pub const INVENTORY_LABEL: &str = "kyma-project.io/module";
/// An object carrying `kyma-project.io/keep: "true"` is never pruned or undeployed.
pub const KEEP_ANNOTATION: &str = "kyma-project.io/keep";
/// A module namespace kyma created implicitly; shared by the modules that use it.
pub const SHARED_LABEL: &str = "kyma-project.io/shared-namespace";

pub fn parent_name(module: &str) -> String {
    format!("kyma-{module}")
}

/// KEP-3659: `applyset-` + base64url-no-padding(sha256(`<name>.<namespace>.<kind>.<group>`)) + `-v1`.
pub fn applyset_id(module: &str) -> String {
    let key = format!("{}.{}.Secret.", parent_name(module), NAMESPACE);
    let digest = Sha256::digest(key.as_bytes());
    format!(
        "applyset-{}-v1",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    )
}

/// One recorded member.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub group: String,
    pub version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// An implicit module namespace several modules may share: no part-of label, deleted only when
    /// no other inventory lists it and it holds nothing else.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
}

impl Member {
    pub fn of(o: &Object, shared: bool) -> Member {
        Member {
            group: o.group().to_string(),
            version: o.version().to_string(),
            kind: o.kind().to_string(),
            namespace: o.namespace().map(str::to_string),
            name: o.name().to_string(),
            shared,
        }
    }
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
    pub fn is_crd(&self) -> bool {
        self.kind == "CustomResourceDefinition" && self.group == "apiextensions.k8s.io"
    }
    /// Same object, whatever version it was recorded under.
    pub fn same_object(&self, other: &Member) -> bool {
        self.group == other.group
            && self.kind == other.kind
            && self.namespace == other.namespace
            && self.name == other.name
    }
    pub fn key(&self) -> ObjectKey {
        ObjectKey {
            group: self.group.clone(),
            kind: self.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }
    fn group_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Inventory {
    pub module: String,
    pub version: String,
    pub values_hash: String,
    pub manifest_hash: String,
    pub deployed_at: String,
    /// False while a deploy is in flight (the member list is then the union of old and new).
    pub complete: bool,
    #[serde(default)]
    pub depends_on: Vec<String>,
    pub members: Vec<Member>,
    /// The applied objects, for drift detection (`kyma status`).
    #[serde(skip)]
    pub manifest: Vec<Value>,
    /// Why the recorded manifest could not be read, if it could not: drift then cannot be checked, and
    /// `status` says so instead of reporting none.
    #[serde(skip)]
    pub manifest_error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("inventory {NAMESPACE}/{name}: {message}")]
    Corrupt { name: String, message: String },
    #[error("cannot read or write the inventory in {NAMESPACE}")]
    Request(#[from] RequestError),
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).expect("in-memory write");
    e.finish().expect("in-memory write")
}

/// Hash of a JSON value with object keys in a stable order.
pub fn hash_json(v: &Value) -> String {
    fn canonical(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                Value::Object(keys.into_iter().map(|k| (k.clone(), canonical(&m[k]))).collect())
            }
            Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
            other => other.clone(),
        }
    }
    crate::catalog::fetch::sha256_hex(
        serde_json::to_string(&canonical(v))
            .unwrap_or_default()
            .as_bytes(),
    )
}

impl Inventory {
    pub fn id(&self) -> String {
        applyset_id(&self.module)
    }

    pub fn group_kinds(&self) -> Vec<String> {
        let set: BTreeSet<String> = self.members.iter().map(Member::group_kind).collect();
        set.into_iter().collect()
    }

    pub fn additional_namespaces(&self) -> Vec<String> {
        let set: BTreeSet<String> = self
            .members
            .iter()
            .filter_map(|m| m.namespace.clone())
            .filter(|ns| ns != NAMESPACE)
            .collect();
        set.into_iter().collect()
    }

    /// The parent Secret, as applied.
    pub fn to_secret(&self) -> Value {
        let manifest = serde_json::to_vec(&self.manifest).unwrap_or_default();
        let record = serde_json::to_vec(self).expect("serialisable");
        json!({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": parent_name(&self.module),
                "namespace": NAMESPACE,
                "labels": {ID_LABEL: self.id(), INVENTORY_LABEL: self.module, "app.kubernetes.io/managed-by": "kyma"},
                "annotations": {
                    TOOLING_ANNOTATION: format!("kyma/{}", crate::version::VERSION),
                    GROUP_KINDS_ANNOTATION: self.group_kinds().join(","),
                    NAMESPACES_ANNOTATION: self.additional_namespaces().join(","),
                }
            },
            "type": "kyma-project.io/inventory",
            "data": {
                "inventory.json": b64(&record),
                "manifest.json.gz": b64(&gzip(&manifest)),
            }
        })
    }

    pub fn from_secret(secret: &Value) -> Result<Inventory, InventoryError> {
        let name = secret
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let corrupt = |message: String| InventoryError::Corrupt {
            name: name.clone(),
            message,
        };
        let field = |k: &str| -> Result<Vec<u8>, InventoryError> {
            let text = secret
                .pointer(&format!("/data/{k}"))
                .and_then(Value::as_str)
                .ok_or_else(|| corrupt(format!("no {k}")))?;
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| corrupt(format!("{k}: {e}")))
        };
        let mut inv: Inventory =
            serde_json::from_slice(&field("inventory.json")?).map_err(|e| corrupt(e.to_string()))?;
        let manifest = field("manifest.json.gz").and_then(|gz| {
            let mut text = Vec::new();
            flate2::read::GzDecoder::new(gz.as_slice())
                .read_to_end(&mut text)
                .map_err(|e| corrupt(format!("manifest.json.gz: {e}")))?;
            serde_json::from_slice(&text).map_err(|e| corrupt(format!("manifest.json.gz: {e}")))
        });
        match manifest {
            Ok(m) => inv.manifest = m,
            Err(e) => inv.manifest_error = Some(e.to_string()),
        }
        Ok(inv)
    }
}

/// A core kind kyma's own bookkeeping needs. Discovery of `/api/v1` can fail mid-run (a 503 while the
/// server restarts): that is a failed request, reported as one, never a crash.
async fn core(cluster: &Cluster, kind: &str) -> Result<Resource, RequestError> {
    cluster
        .discovery
        .require(cluster, "v1", kind)
        .await?
        .ok_or_else(|| RequestError {
            message: format!("the server does not serve v1 {kind}s, which kyma keeps its records in"),
            ..Default::default()
        })
}

async fn secrets(cluster: &Cluster) -> Result<Resource, RequestError> {
    core(cluster, "Secret").await
}

/// Every kyma inventory on the cluster, by module name.
pub async fn read_all(cluster: &Cluster) -> Result<Vec<Inventory>, InventoryError> {
    let r = secrets(cluster).await?;
    let items = match cluster.list(&r, Some(NAMESPACE), Some(INVENTORY_LABEL)).await {
        Ok(items) => items,
        Err(e) if e.is_not_found() => vec![],
        Err(e) => return Err(e.into()),
    };
    let mut out: Vec<Inventory> = items
        .iter()
        .map(Inventory::from_secret)
        .collect::<Result<_, _>>()?;
    out.sort_by(|a, b| a.module.cmp(&b.module));
    Ok(out)
}

/// Make sure a namespace of kyma's own exists (the inventory's, the operator's). The last undeploy
/// deletes the inventory namespace; while it terminates nothing new can be created in it (a Lease
/// update still succeeds, an inventory Secret would not), so a run that starts then waits for it to go
/// (bounded) before creating it again.
pub async fn ensure_namespace_named(cluster: &Cluster, name: &str) -> Result<(), RequestError> {
    let ns = core(cluster, "Namespace").await?;
    let until = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
    while let Some(live) = cluster.get(&ns, None, name).await? {
        if live.pointer("/metadata/deletionTimestamp").is_none() || tokio::time::Instant::now() > until {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let obj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "kyma"}}});
    cluster
        .apply(
            &ns,
            &obj,
            ApplyOptions {
                force: true,
                dry_run: false,
                ..Default::default()
            },
        )
        .await
        .map(|_| ())
}

pub async fn write(cluster: &Cluster, inv: &Inventory) -> Result<(), RequestError> {
    let r = secrets(cluster).await?;
    cluster
        .apply(
            &r,
            &inv.to_secret(),
            ApplyOptions {
                force: true,
                dry_run: false,
                ..Default::default()
            },
        )
        .await
        .map(|_| ())
}

pub async fn remove(cluster: &Cluster, module: &str) -> Result<(), RequestError> {
    let r = secrets(cluster).await?;
    cluster.delete(&r, Some(NAMESPACE), &parent_name(module)).await
}

/// Another owner of a live object, if it has one that is not this inventory: another ApplySet (kubectl
/// or another kyma module) or a Helm release.
pub fn foreign_owner(live: &Value, our_id: &str) -> Option<String> {
    let label = |k: &str| {
        live.pointer(&format!("/metadata/labels/{}", k.replace('/', "~1")))
            .and_then(Value::as_str)
    };
    let annotation = |k: &str| {
        live.pointer(&format!("/metadata/annotations/{}", k.replace('/', "~1")))
            .and_then(Value::as_str)
    };
    if let Some(id) = label(PART_OF_LABEL)
        && id != our_id
    {
        return Some(format!("ApplySet {id}"));
    }
    if let Some(release) = annotation("meta.helm.sh/release-name") {
        let ns = annotation("meta.helm.sh/release-namespace").unwrap_or("?");
        return Some(format!("Helm release {ns}/{release}"));
    }
    if let Some(app) = label("kapp.k14s.io/app") {
        return Some(format!("kapp app {app}"));
    }
    None
}

pub fn is_kept(live: &Value) -> bool {
    live.pointer(&format!(
        "/metadata/annotations/{}",
        KEEP_ANNOTATION.replace('/', "~1")
    ))
    .and_then(Value::as_str)
        == Some("true")
}

/// Label every object of a plan as what it is: a member of its module's ApplySet, or a shared module
/// namespace. Deploy and diff must send exactly the same objects.
pub fn label_plan(plan: &mut crate::plan::Plan) {
    for node in plan.nodes.iter_mut() {
        if node.implicit {
            set_label(&mut node.object, SHARED_LABEL, "true");
        } else {
            let id = applyset_id(&plan.modules[node.module].name);
            set_label(&mut node.object, PART_OF_LABEL, &id);
        }
    }
}

pub fn set_label(o: &mut Object, key: &str, value: &str) {
    let meta = o
        .data
        .as_object_mut()
        .and_then(|d| d.get_mut("metadata"))
        .and_then(Value::as_object_mut)
        .expect("objects have metadata");
    let labels = meta.entry("labels").or_insert_with(|| json!({}));
    if !labels.is_object() {
        *labels = json!({});
    }
    labels
        .as_object_mut()
        .unwrap()
        .insert(key.to_string(), Value::String(value.to_string()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applyset_id_follows_kep_3659() {
        // sha256("kyma-istio.kyma-installer.Secret.") in base64url without padding.
        let digest = Sha256::digest(b"kyma-istio.kyma-installer.Secret.");
        let expected = format!(
            "applyset-{}-v1",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
        );
        assert_eq!(applyset_id("istio"), expected);
        assert!(!applyset_id("istio").contains('='));
        assert_ne!(applyset_id("istio"), applyset_id("nats"));
    }

    #[test]
    fn parent_annotations_and_round_trip() {
        let m = |g: &str, k: &str, ns: Option<&str>| Member {
            group: g.into(),
            version: "v1".into(),
            kind: k.into(),
            namespace: ns.map(str::to_string),
            name: "x".into(),
            shared: false,
        };
        let inv = Inventory {
            module: "istio".into(),
            version: "1.2.0".into(),
            values_hash: "v".into(),
            manifest_hash: "m".into(),
            deployed_at: "2026-11-25T10:00:00Z".into(),
            complete: true,
            depends_on: vec![],
            members: vec![
                m("apps", "Deployment", Some("istio-system")),
                m("", "ConfigMap", Some("kube-public")),
                m("apiextensions.k8s.io", "CustomResourceDefinition", None),
            ],
            manifest: vec![json!({"kind": "ConfigMap"})],
            manifest_error: None,
        };
        let mut s = inv.to_secret();
        assert_eq!(
            s["metadata"]["annotations"][GROUP_KINDS_ANNOTATION],
            "ConfigMap,CustomResourceDefinition.apiextensions.k8s.io,Deployment.apps"
        );
        assert_eq!(
            s["metadata"]["annotations"][NAMESPACES_ANNOTATION],
            "istio-system,kube-public"
        );
        assert_eq!(s["metadata"]["labels"][ID_LABEL], applyset_id("istio"));
        let back = Inventory::from_secret(&s).unwrap();
        assert_eq!(back.members, inv.members);
        assert_eq!(back.manifest, inv.manifest);
        assert_eq!(back.manifest_error, None);

        // A recorded manifest that cannot be read is said, never taken as "nothing was applied".
        s["data"]["manifest.json.gz"] = json!("bm90IGd6aXA=");
        let damaged = Inventory::from_secret(&s).unwrap();
        assert!(damaged.manifest.is_empty());
        assert!(
            damaged
                .manifest_error
                .as_deref()
                .is_some_and(|e| e.contains("manifest.json.gz"))
        );
    }

    #[test]
    fn foreign_owners() {
        let ours = applyset_id("a");
        assert_eq!(
            foreign_owner(&json!({"metadata": {"labels": {PART_OF_LABEL: ours}}}), &ours),
            None
        );
        assert!(
            foreign_owner(
                &json!({"metadata": {"labels": {PART_OF_LABEL: "applyset-other-v1"}}}),
                &ours
            )
            .unwrap()
            .contains("applyset-other-v1")
        );
        let helm = json!({"metadata": {"annotations": {"meta.helm.sh/release-name": "r", "meta.helm.sh/release-namespace": "n"}}});
        assert_eq!(foreign_owner(&helm, &ours).unwrap(), "Helm release n/r");
        assert_eq!(foreign_owner(&json!({"metadata": {}}), &ours), None);
    }

    #[test]
    fn hashes_ignore_key_order() {
        assert_eq!(
            hash_json(&json!({"a": 1, "b": [1, {"c": 2, "d": 3}]})),
            hash_json(&json!({"b": [1, {"d": 3, "c": 2}], "a": 1}))
        );
    }
}

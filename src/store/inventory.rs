//! What `kyma` put on a cluster, per module, as a KEP-3659 ApplySet: a parent Secret
//! `kyma-installer/kyma-<module>` labelled `applyset.kubernetes.io/id`, and every member labelled
//! `applyset.kubernetes.io/part-of=<id>`. The parent also records the member list, version, hashes and
//! the applied manifest, so prune, undeploy, status and the fast "unchanged" skip never guess.
//!
//! A record too large for one Secret (a module of thousands of objects) is cut by size: the parent keeps
//! the first piece plus `parts.json` (how many parts, the digest of the whole), numbered part Secrets
//! `kyma-<module>.<generation>.part-<n>` hold the rest. Parts of a new write get new names (the generation
//! is a prefix of the digest), are written before the parent and the old ones deleted after it, so every
//! LIST sees a parent whose parts all exist, even while a write runs or after one was interrupted.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{Read, Write};

use base64::Engine as _;
use k8s_openapi::api::core::v1::Namespace;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::cluster::{ApplyOptions, Cluster, Listed, RequestError, Resource};
use crate::object::{Fields, Object, ObjectKey};

/// Where inventories and the cluster lock live.
pub const NAMESPACE: &str = "kyma-installer";
pub const ID_LABEL: &str = "applyset.kubernetes.io/id";
pub const PART_OF_LABEL: &str = "applyset.kubernetes.io/part-of";
pub const TOOLING_ANNOTATION: &str = "applyset.kubernetes.io/tooling";
pub const GROUP_KINDS_ANNOTATION: &str = "applyset.kubernetes.io/contains-group-kinds";
pub const NAMESPACES_ANNOTATION: &str = "applyset.kubernetes.io/additional-namespaces";
/// Marks a parent Secret (and its parts) as a kyma inventory; the value is the module name.
pub const INVENTORY_LABEL: &str = "kyma-project.io/module";
/// On a part Secret: its position (1, 2, …) after the parent.
pub const PART_LABEL: &str = "kyma-project.io/inventory-part";
/// On a part Secret: the ApplySet id of its parent.
pub const PART_PARENT_LABEL: &str = "kyma-project.io/inventory-of";
/// On a part Secret: the write it belongs to (a prefix of the digest its parent records).
pub const GENERATION_LABEL: &str = "kyma-project.io/inventory-generation";
/// Data per Secret: well under the server's 1 MiB limit on a Secret's data, and under etcd's ~1.5 MiB
/// request limit once base64 and metadata are added.
pub const SECRET_BUDGET: usize = 768 * 1024;
const RECORD_KEY: &str = "inventory.json";
const MANIFEST_KEY: &str = "manifest.json.gz";
/// In a parent whose record did not fit: `PartsRecord`. Its absence means everything is in the parent
/// (inventories written before parts existed, and every small one).
const PARTS_KEY: &str = "parts.json";
/// An object carrying `kyma-project.io/keep: "true"` is never pruned or undeployed.
pub const KEEP_ANNOTATION: &str = "kyma-project.io/keep";
/// A module namespace kyma created implicitly; shared by the modules that use it.
pub const SHARED_LABEL: &str = "kyma-project.io/shared-namespace";

pub fn parent_name(module: &str) -> String {
    format!("kyma-{module}")
}

/// Module names are DNS labels (no dots), so a part can never be named like another module's parent.
pub fn part_name(module: &str, generation: &str, n: usize) -> String {
    format!("kyma-{module}.{generation}.part-{n}")
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
    pub manifest: Manifest,
    /// The part Secrets of this module in the cluster when the record was read (of any generation,
    /// those an interrupted write left included): a write under the lock deletes the old ones without
    /// listing them again. `None`: not known, listed before deleting.
    #[serde(skip)]
    pub parts: Option<Vec<StoredPart>>,
}

/// A part Secret in the cluster: its name and the generation of the write that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPart {
    pub name: String,
    pub generation: String,
}

impl StoredPart {
    fn of(secret: &Value) -> StoredPart {
        StoredPart {
            name: secret_name(secret),
            generation: secret.label(GENERATION_LABEL).unwrap_or_default().to_string(),
        }
    }
}

/// The applied objects of a record. Read back, they stay compressed until someone asks (`kyma status`):
/// a deploy needs the member list and the hashes only, and the operator reads every inventory of a
/// cluster on every resync.
#[derive(Debug, Clone)]
pub enum Manifest {
    /// As given (tests, an empty record); a run records its objects compressed at once (`record`).
    Objects(Vec<Value>),
    /// As recorded: gzipped JSON.
    Recorded(std::sync::Arc<[u8]>),
    /// Not there to read: why (a record without its manifest key, or one kept without it).
    Unreadable(String),
}

impl Default for Manifest {
    fn default() -> Self {
        Manifest::Objects(Vec::new())
    }
}

impl Manifest {
    /// The objects; `Err` says why the recorded manifest cannot be read (drift then cannot be checked,
    /// and `status` says so instead of reporting none).
    pub fn objects(&self) -> Result<std::borrow::Cow<'_, [Value]>, String> {
        match self {
            Manifest::Objects(o) => Ok(std::borrow::Cow::Borrowed(o)),
            Manifest::Recorded(gz) => {
                let mut text = Vec::new();
                flate2::read::GzDecoder::new(&gz[..])
                    .read_to_end(&mut text)
                    .map_err(|e| format!("{MANIFEST_KEY}: {e}"))?;
                serde_json::from_slice::<Vec<Value>>(&text)
                    .map(std::borrow::Cow::Owned)
                    .map_err(|e| format!("{MANIFEST_KEY}: {e}"))
            }
            Manifest::Unreadable(why) => Err(why.clone()),
        }
    }

    /// These objects as a record stores them: compressed now, so a run that applies holds a fraction of
    /// its plan's size for its inventories instead of a copy of every object.
    pub fn record<'a>(objects: impl IntoIterator<Item = &'a Value>) -> Manifest {
        let objects: Vec<&Value> = objects.into_iter().collect();
        Manifest::Recorded(gzip(&serde_json::to_vec(&objects).unwrap_or_default()).into())
    }

    fn gzipped(&self) -> Vec<u8> {
        match self {
            Manifest::Objects(o) => gzip(&serde_json::to_vec(o).unwrap_or_default()),
            Manifest::Recorded(gz) => gz.to_vec(),
            // Written again without it: drift stays unknown, as it was.
            Manifest::Unreadable(_) => gzip(b"not recorded"),
        }
    }
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
    let mut h = Hashing(Sha256::new());
    canonical(&mut h, v);
    hex::encode(h.0.finalize())
}

/// The hash of a module's render as its inventory records it: of `{"objects": [...], "version": ...}`,
/// the same bytes `hash_json` of that document hashes, without building (and copying every object into)
/// the document — the operator computes it for every module on every resync.
pub fn manifest_hash<'a>(version: &str, objects: impl IntoIterator<Item = &'a Value>) -> String {
    let mut h = Hashing(Sha256::new());
    h.0.update(b"{\"objects\":[");
    for (n, o) in objects.into_iter().enumerate() {
        if n > 0 {
            h.0.update(b",");
        }
        canonical(&mut h, o);
    }
    h.0.update(b"],\"version\":");
    let _ = serde_json::to_writer(&mut h, version);
    h.0.update(b"}");
    hex::encode(h.0.finalize())
}

/// Compact JSON with every object's keys in order, written as it goes (nothing copied).
fn canonical(h: &mut Hashing, v: &Value) {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            h.0.update(b"{");
            for (n, (k, v)) in entries.into_iter().enumerate() {
                if n > 0 {
                    h.0.update(b",");
                }
                let _ = serde_json::to_writer(&mut *h, k);
                h.0.update(b":");
                canonical(h, v);
            }
            h.0.update(b"}");
        }
        Value::Array(a) => {
            h.0.update(b"[");
            for (n, v) in a.iter().enumerate() {
                if n > 0 {
                    h.0.update(b",");
                }
                canonical(h, v);
            }
            h.0.update(b"]");
        }
        scalar => {
            let _ = serde_json::to_writer(&mut *h, scalar);
        }
    }
}

/// A digest fed as a writer (serde_json writes strings and numbers into it, escaped as it spells them).
struct Hashing(Sha256);

impl Write for Hashing {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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

    /// The parent Secret, as applied, when the record fits in one (tests; `to_secrets` in general).
    pub fn to_secret(&self) -> Value {
        self.to_secrets(SECRET_BUDGET).parent
    }

    /// The parent Secret and the parts the record needs beyond it, at most `budget` bytes of data each.
    pub fn to_secrets(&self, budget: usize) -> Secrets {
        let payload: Data = BTreeMap::from([
            (
                RECORD_KEY.to_string(),
                serde_json::to_vec(self).expect("serialisable"),
            ),
            (MANIFEST_KEY.to_string(), self.manifest.gzipped()),
        ]);
        let mut pieces = split(&payload, budget).into_iter();
        let mut data = pieces.next().unwrap_or_default();
        let rest: Vec<Data> = pieces.collect();
        let sha256 = payload_digest(&payload);
        let generation = generation_of(&sha256).to_string();
        if !rest.is_empty() {
            let record = PartsRecord {
                parts: rest.len(),
                sha256,
            };
            data.insert(
                PARTS_KEY.to_string(),
                serde_json::to_vec(&record).expect("serialisable"),
            );
        }
        let parent = json!({
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
            "data": encode(&data),
        });
        let parts = rest
            .iter()
            .enumerate()
            .map(|(i, piece)| {
                json!({
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {
                        "name": part_name(&self.module, &generation, i + 1),
                        "namespace": NAMESPACE,
                        "labels": {
                            INVENTORY_LABEL: self.module,
                            PART_PARENT_LABEL: self.id(),
                            PART_LABEL: (i + 1).to_string(),
                            GENERATION_LABEL: generation,
                            "app.kubernetes.io/managed-by": "kyma",
                        },
                    },
                    "type": "kyma-project.io/inventory-part",
                    "data": encode(piece),
                })
            })
            .collect();
        Secrets {
            parent,
            parts,
            generation,
        }
    }

    /// A record kept in one Secret.
    pub fn from_secret(secret: &Value) -> Result<Inventory, InventoryError> {
        Self::assemble(secret, &[])
    }

    /// A record from its parent and the part Secrets listed with it (of any generation: the parent
    /// says which it needs). A part it needs that is missing or does not match is `Corrupt`, never a
    /// shorter inventory.
    pub fn assemble(parent: &Value, parts: &[&Value]) -> Result<Inventory, InventoryError> {
        let name = secret_name(parent);
        let corrupt = |message: String| InventoryError::Corrupt {
            name: name.clone(),
            message,
        };
        let mut data = decode(parent)?;
        let payload = match data.remove(PARTS_KEY) {
            None => data,
            Some(record) => {
                let record: PartsRecord =
                    serde_json::from_slice(&record).map_err(|e| corrupt(format!("{PARTS_KEY}: {e}")))?;
                let generation = generation_of(&record.sha256);
                let module = parent.label(INVENTORY_LABEL).unwrap_or("?");
                let mut pieces = vec![data];
                for n in 1..=record.parts {
                    let part = parts
                        .iter()
                        .find(|p| {
                            p.label(GENERATION_LABEL) == Some(generation)
                                && p.label(PART_LABEL) == Some(n.to_string().as_str())
                        })
                        .ok_or_else(|| {
                            corrupt(format!(
                                "part {n} of {} ({}) is missing",
                                record.parts,
                                part_name(module, generation, n)
                            ))
                        })?;
                    pieces.push(decode(part)?);
                }
                let whole = join(pieces);
                if payload_digest(&whole) != record.sha256 {
                    return Err(corrupt(format!(
                        "its {} part(s) do not add up to the recorded digest: a part was changed",
                        record.parts
                    )));
                }
                whole
            }
        };
        let field = |k: &str| payload.get(k).ok_or_else(|| corrupt(format!("no {k}")));
        let mut inv: Inventory =
            serde_json::from_slice(field(RECORD_KEY)?).map_err(|e| corrupt(e.to_string()))?;
        // A record without its manifest is still a record (members, hashes): only drift is unknown.
        inv.manifest = match payload.get(MANIFEST_KEY) {
            Some(gz) => Manifest::Recorded(gz.as_slice().into()),
            None => Manifest::Unreadable(format!("no {MANIFEST_KEY}")),
        };
        Ok(inv)
    }
}

/// What one inventory write applies: parts first, then the parent.
#[derive(Debug, Clone)]
pub struct Secrets {
    pub parent: Value,
    pub parts: Vec<Value>,
    /// The parts' generation: the previous write's parts are those of any other.
    pub generation: String,
}

/// A parent's note on the parts it needs.
#[derive(Debug, Serialize, Deserialize)]
struct PartsRecord {
    parts: usize,
    /// Of the whole record (`payload_digest`), so a changed part is noticed, not read.
    sha256: String,
}

/// A Secret's data, decoded, by key.
type Data = BTreeMap<String, Vec<u8>>;

fn encode(data: &Data) -> Value {
    Value::Object(
        data.iter()
            .map(|(k, v)| (k.clone(), Value::String(b64(v))))
            .collect(),
    )
}

fn decode(secret: &Value) -> Result<Data, InventoryError> {
    let corrupt = |message: String| InventoryError::Corrupt {
        name: secret_name(secret),
        message,
    };
    let Some(data) = secret.get("data").and_then(Value::as_object) else {
        return Ok(Data::new());
    };
    data.iter()
        .map(|(k, v)| {
            let text = v
                .as_str()
                .ok_or_else(|| corrupt(format!("{k} is not a string")))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| corrupt(format!("{k}: {e}")))?;
            Ok((k.clone(), bytes))
        })
        .collect()
}

fn secret_name(secret: &Value) -> String {
    secret.str_at(&["metadata", "name"]).unwrap_or("?").to_string()
}

/// sha256 of a record, each key framed by its name and length so that no other cut of the same bytes
/// hashes alike.
fn payload_digest(payload: &Data) -> String {
    let mut h = Sha256::new();
    for (k, v) in payload {
        h.update((k.len() as u64).to_be_bytes());
        h.update(k.as_bytes());
        h.update((v.len() as u64).to_be_bytes());
        h.update(v);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A label-sized, name-sized prefix of a digest; the full digest is checked after the join.
fn generation_of(sha256: &str) -> &str {
    &sha256[..sha256.len().min(16)]
}

/// Cut a record into pieces of at most `budget` bytes of data, in key order: the first is the parent's,
/// the others the parts'. A key spanning pieces is continued under the same name. A record that fits is
/// one piece.
fn split(payload: &Data, budget: usize) -> Vec<Data> {
    let budget = budget.max(1);
    let mut pieces = vec![Data::new()];
    let mut room = budget;
    for (k, v) in payload {
        let mut rest = v.as_slice();
        loop {
            if room == 0 && !rest.is_empty() {
                pieces.push(Data::new());
                room = budget;
            }
            let take = rest.len().min(room);
            let piece = pieces.last_mut().expect("never empty");
            piece
                .entry(k.clone())
                .or_default()
                .extend_from_slice(&rest[..take]);
            room -= take;
            rest = &rest[take..];
            if rest.is_empty() {
                break;
            }
        }
    }
    pieces
}

/// The record the pieces (parent first) were cut from.
fn join(pieces: Vec<Data>) -> Data {
    let mut whole = Data::new();
    for piece in pieces {
        for (k, v) in piece {
            whole.entry(k).or_default().extend(v);
        }
    }
    whole
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

/// Every kyma inventory on the cluster, by module name: one LIST of parents and parts together. On a
/// kept connection (the operator's), Secrets not written since the last read are not decoded again;
/// their manifests are not kept (a real module's is megabytes, per cluster): `read_all_with_manifests`
/// reads them.
pub async fn read_all(cluster: &Cluster) -> Result<Vec<Inventory>, InventoryError> {
    let r = secrets(cluster).await?;
    let listed = cluster
        .list_or_kept::<Vec<Inventory>>(&r, Some(NAMESPACE), Some(INVENTORY_LABEL), PURPOSE)
        .await;
    let (items, versions) = match listed {
        Ok(Listed::Kept(kept)) => return Ok(kept.as_ref().clone()),
        Ok(Listed::Read(items, versions)) => (items, versions),
        Err(e) if e.is_not_found() => return Ok(vec![]),
        Err(e) => return Err(e.into()),
    };
    let out = assemble_all(&items)?;
    let kept = out
        .iter()
        .map(|i| Inventory {
            manifest: Manifest::Unreadable("not kept: read with read_all_with_manifests".into()),
            ..i.clone()
        })
        .collect::<Vec<_>>();
    cluster.keep(
        &r,
        Some(NAMESPACE),
        Some(INVENTORY_LABEL),
        PURPOSE,
        versions,
        std::sync::Arc::new(kept),
    );
    Ok(out)
}

/// What `read_all` keeps its inventories under.
const PURPOSE: &str = "inventories";

/// The inventories as this connection last read them, without asking the cluster: a hint of what a
/// read will find. `None` when none are kept: a new connection, or one that wrote them since (a write
/// drops them, so the next read is one full LIST and not a metadata LIST that finds them changed too).
pub async fn last_read(cluster: &Cluster) -> Option<std::sync::Arc<Vec<Inventory>>> {
    let r = secrets(cluster).await.ok()?;
    cluster.last_kept(&r, Some(NAMESPACE), Some(INVENTORY_LABEL), PURPOSE)
}

/// Every kyma inventory with the manifest it recorded (`kyma status`), read now.
pub async fn read_all_with_manifests(cluster: &Cluster) -> Result<Vec<Inventory>, InventoryError> {
    let r = secrets(cluster).await?;
    let items = match cluster.list(&r, Some(NAMESPACE), Some(INVENTORY_LABEL)).await {
        Ok(items) => items,
        Err(e) if e.is_not_found() => return Ok(vec![]),
        Err(e) => return Err(e.into()),
    };
    assemble_all(&items)
}

/// Inventories from listed Secrets, by module name. Parts no parent asks for (an interrupted write's,
/// or a removed module's) are ignored: the next write or remove deletes them.
fn assemble_all(items: &[Value]) -> Result<Vec<Inventory>, InventoryError> {
    let mut parts: HashMap<&str, Vec<&Value>> = HashMap::new();
    for p in items.iter().filter(|i| i.label(PART_LABEL).is_some()) {
        parts
            .entry(p.label(PART_PARENT_LABEL).unwrap_or(""))
            .or_default()
            .push(p);
    }
    items
        .iter()
        .filter(|i| i.label(PART_LABEL).is_none())
        .map(|parent| {
            let theirs = parent
                .label(ID_LABEL)
                .and_then(|id| parts.get(id))
                .map_or(&[][..], Vec::as_slice);
            Inventory::assemble(parent, theirs).map(|inv| Inventory {
                parts: Some(theirs.iter().map(|p| StoredPart::of(p)).collect()),
                ..inv
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|mut all| {
            all.sort_by(|a, b| a.module.cmp(&b.module));
            all
        })
}

/// Make sure a namespace of kyma's own exists (the inventory's, the operator's). The last undeploy
/// deletes the inventory namespace; while it terminates nothing new can be created in it (a Lease
/// update still succeeds, an inventory Secret would not), so a run that starts then waits for it to go
/// (bounded) before creating it again.
pub async fn ensure_namespace_named(cluster: &Cluster, name: &str) -> Result<(), RequestError> {
    let ns = core(cluster, "Namespace").await?;
    let until = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
    while let Some(live) = cluster.get(&ns, None, name).await? {
        let terminating =
            Namespace::deserialize(&live).is_ok_and(|n| n.metadata.deletion_timestamp.is_some());
        if !terminating || tokio::time::Instant::now() > until {
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

/// Write an inventory: its parts first (under names of their own, so the parent still in place keeps
/// pointing at a whole record), then the parent, then the previous write's parts (those `inv.parts`
/// knows of, or else those listed now). The parts now stored are returned, for the next write of the
/// same run.
pub async fn write(cluster: &Cluster, inv: &Inventory) -> Result<Vec<StoredPart>, RequestError> {
    let r = secrets(cluster).await?;
    cluster.forget(&r, Some(NAMESPACE), Some(INVENTORY_LABEL), PURPOSE);
    let secrets = inv.to_secrets(SECRET_BUDGET);
    let opts = ApplyOptions {
        force: true,
        dry_run: false,
        ..Default::default()
    };
    for s in secrets.parts.iter().chain([&secrets.parent]) {
        cluster.apply(&r, s, opts).await?;
    }
    let keep = Some(secrets.generation.as_str());
    match &inv.parts {
        Some(known) => delete_parts(cluster, &r, known, keep).await?,
        None => remove_parts(cluster, &r, &inv.module, keep).await?,
    }
    Ok(secrets.parts.iter().map(StoredPart::of).collect())
}

/// Remove an inventory: the parent first (parts without one are ignored), then its parts.
pub async fn remove(cluster: &Cluster, module: &str) -> Result<(), RequestError> {
    let r = secrets(cluster).await?;
    cluster.forget(&r, Some(NAMESPACE), Some(INVENTORY_LABEL), PURPOSE);
    cluster.delete(&r, Some(NAMESPACE), &parent_name(module)).await?;
    remove_parts(cluster, &r, module, None).await
}

/// Delete a module's parts but those of generation `keep`.
async fn remove_parts(
    cluster: &Cluster,
    r: &Resource,
    module: &str,
    keep: Option<&str>,
) -> Result<(), RequestError> {
    let selector = format!("{PART_PARENT_LABEL}={}", applyset_id(module));
    let parts = match cluster.list(r, Some(NAMESPACE), Some(&selector)).await {
        Ok(items) => items,
        Err(e) if e.is_not_found() => return Ok(()),
        Err(e) => return Err(e),
    };
    let parts: Vec<StoredPart> = parts.iter().map(StoredPart::of).collect();
    delete_parts(cluster, r, &parts, keep).await
}

/// Delete `parts` but those of generation `keep`.
async fn delete_parts(
    cluster: &Cluster,
    r: &Resource,
    parts: &[StoredPart],
    keep: Option<&str>,
) -> Result<(), RequestError> {
    for part in parts.iter().filter(|p| Some(p.generation.as_str()) != keep) {
        cluster.delete(r, Some(NAMESPACE), &part.name).await?;
    }
    Ok(())
}

/// Another owner of a live object, if it has one that is not this inventory: another ApplySet (kubectl
/// or another kyma module) or a Helm release.
pub fn foreign_owner(live: &Value, our_id: &str) -> Option<String> {
    if let Some(id) = live.label(PART_OF_LABEL)
        && id != our_id
    {
        return Some(format!("ApplySet {id}"));
    }
    if let Some(release) = live.annotation("meta.helm.sh/release-name") {
        let ns = live.annotation("meta.helm.sh/release-namespace").unwrap_or("?");
        return Some(format!("Helm release {ns}/{release}"));
    }
    if let Some(app) = live.label("kapp.k14s.io/app") {
        return Some(format!("kapp app {app}"));
    }
    None
}

pub fn is_kept(live: &Value) -> bool {
    live.annotation(KEEP_ANNOTATION) == Some("true")
}

/// Label every object of a plan as what it is: a member of its module's ApplySet, or a shared module
/// namespace. Deploy and diff must send exactly the same objects.
pub fn label_plan(plan: &mut crate::plan::Plan) {
    if plan.labelled {
        return;
    }
    plan.labelled = true;
    plan.manifest_hashes.take();
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
            manifest: Manifest::Objects(vec![json!({"kind": "ConfigMap"})]),
            parts: None,
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
        assert_eq!(back.manifest.objects(), inv.manifest.objects());

        // A recorded manifest that cannot be read is said, never taken as "nothing was applied".
        s["data"]["manifest.json.gz"] = json!("bm90IGd6aXA=");
        let damaged = Inventory::from_secret(&s).unwrap();
        assert!(
            damaged
                .manifest
                .objects()
                .is_err_and(|e| e.contains("manifest.json.gz"))
        );
        // So is one whose manifest key was removed: the record still reads (members, hashes).
        s["data"].as_object_mut().unwrap().remove("manifest.json.gz");
        let without = Inventory::from_secret(&s).unwrap();
        assert_eq!(without.members, inv.members);
        assert_eq!(without.manifest.objects(), Err("no manifest.json.gz".to_string()));
    }

    fn big(members: usize) -> Inventory {
        let ns = "a-namespace-of-the-module".to_string();
        Inventory {
            module: "big".into(),
            version: "1.0.0".into(),
            values_hash: "v".into(),
            manifest_hash: "m".into(),
            deployed_at: "2026-11-25T10:00:00Z".into(),
            complete: true,
            depends_on: vec![],
            members: (0..members)
                .map(|i| Member {
                    group: String::new(),
                    version: "v1".into(),
                    kind: "ConfigMap".into(),
                    namespace: Some(ns.clone()),
                    name: format!("large-inventory-config-{i}"),
                    shared: false,
                })
                .collect(),
            manifest: Manifest::Objects((0..members)
                .map(|i| json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": format!("large-inventory-config-{i}"), "namespace": ns}, "data": {"n": i.to_string()}}))
                .collect()),
            parts: None,
        }
    }

    fn data_bytes(secret: &Value) -> usize {
        decode(secret).unwrap().values().map(Vec::len).sum()
    }

    fn corrupt_message(r: Result<Inventory, InventoryError>) -> (String, String) {
        match r {
            Err(InventoryError::Corrupt { name, message }) => (name, message),
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn split_and_join_round_trip_at_any_budget() {
        let payload: Data = BTreeMap::from([
            ("a".to_string(), (0..=255u8).cycle().take(1000).collect()),
            ("b".to_string(), vec![7; 333]),
            ("c".to_string(), vec![]),
        ]);
        for budget in [1, 7, 100, 333, 1000, 1333, 5000] {
            let pieces = split(&payload, budget);
            assert!(
                pieces
                    .iter()
                    .all(|p| p.values().map(Vec::len).sum::<usize>() <= budget)
            );
            assert_eq!(pieces.len(), 1333usize.div_ceil(budget).max(1), "budget {budget}");
            assert_eq!(join(pieces), payload, "budget {budget}");
        }
        // The same bytes cut differently between keys do not hash alike.
        let moved: Data = BTreeMap::from([("a".to_string(), vec![1, 2]), ("b".to_string(), vec![3])]);
        let other: Data = BTreeMap::from([("a".to_string(), vec![1]), ("b".to_string(), vec![2, 3])]);
        assert_ne!(payload_digest(&moved), payload_digest(&other));
    }

    #[test]
    fn a_small_record_stays_one_secret_in_the_old_format() {
        let inv = big(3);
        let s = inv.to_secrets(SECRET_BUDGET);
        assert!(s.parts.is_empty());
        let keys: Vec<&String> = s.parent["data"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["inventory.json", "manifest.json.gz"]);
        // What kyma wrote before parts existed reads as before.
        let back = assemble_all(std::slice::from_ref(&s.parent)).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].members, inv.members);
    }

    #[test]
    fn ten_thousand_objects_span_secrets_under_the_limit_and_join_back() {
        let inv = big(10_000);
        let s = inv.to_secrets(SECRET_BUDGET);
        let sizes: Vec<usize> = std::iter::once(&s.parent)
            .chain(&s.parts)
            .map(data_bytes)
            .collect();
        // One Secret could not hold it: the server refuses a Secret of more than 1 MiB of data.
        assert!(sizes.iter().sum::<usize>() > 1024 * 1024, "{sizes:?}");
        assert!(!s.parts.is_empty());
        assert!(sizes.iter().all(|&n| n < 1024 * 1024), "{sizes:?}");
        // As one LIST returns them: in any order, mixed with another module's single Secret and with
        // an older write's parts.
        let older = big(10_001).to_secrets(SECRET_BUDGET);
        let mut items: Vec<Value> = s.parts.iter().rev().cloned().collect();
        items.extend(older.parts.iter().cloned());
        items.push(s.parent.clone());
        let mut small = big(1);
        small.module = "small".into();
        items.push(small.to_secret());
        let mut back = assemble_all(&items).unwrap();
        back.sort_by(|a, b| a.module.cmp(&b.module));
        assert_eq!(back.len(), 2);
        assert_eq!(back[0].members, inv.members);
        assert_eq!(back[0].manifest.objects(), inv.manifest.objects());
        assert_eq!(back[1].module, "small");
        for p in &s.parts {
            assert_eq!(p["metadata"]["labels"][PART_PARENT_LABEL], applyset_id("big"));
            assert!(
                p["metadata"]["labels"].get(ID_LABEL).is_none(),
                "a part is no ApplySet parent"
            );
        }
    }

    #[test]
    fn a_missing_stale_or_changed_part_is_corrupt_never_short() {
        let inv = big(200);
        let s = inv.to_secrets(4096);
        assert!(s.parts.len() >= 2, "{}", s.parts.len());
        let parts: Vec<&Value> = s.parts.iter().collect();
        assert_eq!(
            Inventory::assemble(&s.parent, &parts).unwrap().members,
            inv.members
        );

        // Missing: named, with the parent.
        let (name, message) = corrupt_message(Inventory::assemble(&s.parent, &parts[1..]));
        assert_eq!(name, "kyma-big");
        assert!(
            message.contains("part 1 of") && message.contains(".part-1"),
            "{message}"
        );

        // Stale: another write's parts at the same positions are not taken for this one's.
        let other = big(201).to_secrets(4096);
        let mut mixed: Vec<&Value> = other.parts.iter().collect();
        mixed.push(parts[1]);
        let (_, message) = corrupt_message(Inventory::assemble(&s.parent, &mixed));
        assert!(message.contains("is missing"), "{message}");

        // Changed: same generation, other bytes.
        let mut changed = s.parts[0].clone();
        changed["data"]["inventory.json"] = json!(b64(b"[]"));
        let mut with_changed = parts.clone();
        with_changed[0] = &changed;
        let (_, message) = corrupt_message(Inventory::assemble(&s.parent, &with_changed));
        assert!(message.contains("digest"), "{message}");

        // Undecodable: the part is named.
        let mut garbled = s.parts[0].clone();
        garbled["data"]["inventory.json"] = json!("not base64!");
        let mut with_garbled = parts.clone();
        with_garbled[0] = &garbled;
        let (name, _) = corrupt_message(Inventory::assemble(&s.parent, &with_garbled));
        assert_eq!(name, secret_name(&s.parts[0]));

        // A parent whose note on its parts cannot be read.
        let mut parent = s.parent.clone();
        parent["data"][PARTS_KEY] = json!(b64(b"{"));
        let (name, message) = corrupt_message(Inventory::assemble(&parent, &parts));
        assert_eq!(name, "kyma-big");
        assert!(message.contains(PARTS_KEY), "{message}");

        // Read through the LIST path too: one corrupt inventory fails the read, naming it.
        let mut items: Vec<Value> = s.parts[1..].to_vec();
        items.push(s.parent.clone());
        assert!(
            matches!(assemble_all(&items), Err(InventoryError::Corrupt { name, .. }) if name == "kyma-big")
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
        // The hashes inventories on clusters record: sha256 of the compact JSON of the document with its
        // keys sorted (as the first versions built it, by copying). A change here would make every
        // recorded module look changed.
        fn sorted(v: &Value) -> Value {
            match v {
                Value::Object(m) => {
                    let mut keys: Vec<&String> = m.keys().collect();
                    keys.sort();
                    Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&m[k]))).collect())
                }
                Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
                other => other.clone(),
            }
        }
        let reference =
            |v: &Value| crate::hash::sha256_hex(serde_json::to_string(&sorted(v)).unwrap().as_bytes());
        let objects = vec![
            json!({"kind": "ConfigMap", "metadata": {"name": "a\"b", "labels": {"z": "1", "a": "é\n"}}, "data": {"n": 1.5, "m": -3, "x": null, "t": true}}),
            json!({"apiVersion": "v1", "spec": {"list": [{"b": 2, "a": [1, 2, {}]}, [], "\u{1F600}"]}}),
        ];
        for v in &objects {
            assert_eq!(hash_json(v), reference(v));
        }
        assert_eq!(
            manifest_hash("1.2.3", &objects),
            reference(&json!({"version": "1.2.3", "objects": objects}))
        );
        assert_eq!(
            manifest_hash("1.0.0", []),
            reference(&json!({"version": "1.0.0", "objects": []}))
        );
    }
}

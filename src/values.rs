//! Values layering, lowest to highest precedence:
//! module defaults → profile → `-f` files (in order) → `--set` (in order) → central overrides.
//! Maps deep-merge, lists replace, `null` removes a key. Central overrides win over everything the user
//! gives, and every user value they overrule is reported as locked instead of silently dropped.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::catalog::{Module, close_names, did_you_mean};
use crate::policy::{Allowances, Class};

#[derive(Debug, thiserror::Error)]
pub enum ValuesError {
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("--set '{arg}': {message}")]
    Set { arg: String, message: String },
    #[error("{file}: top-level key '{key}' is neither 'global' nor a module in the catalog{}", did_you_mean(.close))]
    UnknownModuleKey {
        file: String,
        key: String,
        close: Vec<String>,
    },
    #[error("module {module}: values do not match {schema}:\n{}", .problems.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Schema {
        module: String,
        schema: String,
        problems: Vec<String>,
    },
    #[error("{schema}: not a valid JSON Schema: {message}")]
    BadSchema { schema: String, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Evaluation,
    Production,
}

impl Profile {
    pub fn file(self) -> &'static str {
        match self {
            Profile::Evaluation => "profiles/evaluation.yaml",
            Profile::Production => "profiles/production.yaml",
        }
    }
}

/// One values document: a file the user names (read when the selection is loaded), or data a caller
/// already holds (the operator's `Kyma` object, central overrides read from a ConfigMap), named by
/// `origin` in messages. Nothing is written to a file to hand values over.
#[derive(Debug, Clone, PartialEq)]
pub enum Document {
    File(PathBuf),
    Text { origin: String, text: String },
    Data { origin: String, value: Value },
}

/// Everything the user and the platform team said about values, read and parsed once.
#[derive(Debug, Default, Clone)]
pub struct ValueInputs {
    pub profile: Option<Profile>,
    /// `-f` files, parsed: top-level keys are module names or `global`.
    pub files: Vec<(String, Map<String, Value>)>,
    /// `--set` arguments, parsed into the same shape as a file.
    pub sets: Vec<Map<String, Value>>,
    /// `--overrides` file, same shape.
    pub overrides: Option<(String, Map<String, Value>)>,
    /// Modules the overrides file allows to grant a workload powerful rights, per class, with the
    /// reason (`policy.<class>.<module>: <reason>`; see `privilege`).
    pub allowances: Allowances,
}

/// A user value that a central override overrules.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Locked {
    /// `module.path.to.key` or `global.path`.
    pub path: String,
    #[serde(flatten)]
    pub values: LockedValues,
}

/// The two values of a locked key, or why they are not shown (in JSON: `user` and `central`, or
/// `hidden`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum LockedValues {
    Shown { user: Value, central: Value },
    Hidden { hidden: Hidden },
}

/// Why a locked value is not printed: warnings end up in CI logs and in the operator's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Hidden {
    /// The central overrides were read from a Secret: all of them are secret.
    FromSecret,
    /// The key's name, or a value, looks like a credential.
    LooksLikeCredential,
}

impl Locked {
    fn new(path: String, user: &Value, central: &Value) -> Locked {
        let values = if credential_like(&path, user) || credential_like(&path, central) {
            LockedValues::Hidden {
                hidden: Hidden::LooksLikeCredential,
            }
        } else {
            LockedValues::Shown {
                user: user.clone(),
                central: central.clone(),
            }
        };
        Locked { path, values }
    }

    pub fn hide(&mut self, why: Hidden) {
        self.values = LockedValues::Hidden { hidden: why };
    }

    /// The warning line, without the values when they are hidden.
    pub fn warning(&self) -> String {
        match &self.values {
            LockedValues::Shown { user, central } => {
                format!(
                    "{} = {user} is locked by central overrides; using {central}",
                    self.path
                )
            }
            LockedValues::Hidden { .. } => format!(
                "{} (value hidden) is locked by central overrides; using the central value",
                self.path
            ),
        }
    }
}

/// Whether a key path, or anything in a value (its keys or its text), looks like a credential. Errs on
/// the side of hiding: a hidden replica count costs a look at the overrides file, a shown password
/// cannot be taken back.
fn credential_like(path: &str, v: &Value) -> bool {
    path.split('.').any(credential_key)
        || match v {
            Value::String(s) => credential_text(s),
            Value::Array(a) => a.iter().any(|x| credential_like("", x)),
            Value::Object(m) => m.iter().any(|(k, x)| credential_key(k) || credential_like("", x)),
            _ => false,
        }
}

fn credential_key(key: &str) -> bool {
    const PARTS: [&str; 9] = [
        "password",
        "passwd",
        "passphrase",
        "secret",
        "token",
        "credential",
        "cert",
        "privatekey",
        "apikey",
    ];
    // Words of camelCase, snake_case, kebab-case and dotted keys: `tls.key`, `apiKey`, `ca_crt`.
    let mut words = Vec::new();
    let mut word = String::new();
    for c in key.chars() {
        if !c.is_alphanumeric() || (c.is_uppercase() && !word.is_empty()) {
            words.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        }
    }
    words.push(word);
    let lower = key.to_lowercase();
    PARTS.iter().any(|p| lower.contains(p))
        || words
            .iter()
            .any(|w| ["key", "crt", "pem", "pwd", "auth", "dsn"].contains(&w.as_str()))
}

/// PEM blocks, JWTs and long base64 (or hex) strings: what keys, certificates and tokens look like.
fn credential_text(s: &str) -> bool {
    let s = s.trim();
    let b64 = |t: &str| {
        t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_'))
    };
    let jwt = s.starts_with("eyJ") && s.split('.').count() == 3 && s.split('.').all(b64);
    s.contains("-----BEGIN ") || jwt || (s.len() >= 32 && b64(s))
}

/// The values a module renders with.
#[derive(Debug, Clone)]
pub struct ModuleValues {
    pub values: Value,
    pub global: Value,
}

impl ValueInputs {
    /// Read `-f` files, `--set` arguments and the overrides file. Top-level keys are checked against
    /// every module in the catalog (not only the selected ones) so one values file can serve many runs.
    pub fn read(
        profile: Option<Profile>,
        files: &[Document],
        sets: &[String],
        overrides: Option<&Document>,
        module_names: &[&str],
    ) -> Result<ValueInputs, ValuesError> {
        let mut inputs = ValueInputs {
            profile,
            ..Default::default()
        };
        for f in files {
            inputs.files.push(read_layer_file(f, module_names)?);
        }
        // All --set arguments form one layer, as in Helm: `--set m.list[0]=a --set m.list[1]=b` builds
        // one list instead of the second replacing the first.
        if !sets.is_empty() {
            let mut root = Value::Object(Map::new());
            for s in sets {
                parse_set_into(&mut root, s, module_names)?;
            }
            if let Value::Object(m) = root {
                inputs.sets.push(m);
            }
        }
        if let Some(o) = overrides {
            let (file, mut map) = read_file_map(o)?;
            // Only the platform team's file may carry policy; it is not a module's values.
            if let Some(policy) = map.remove(POLICY) {
                inputs.allowances = read_policy(&file, policy, module_names)?;
            }
            check_layer(&file, &map, module_names)?;
            inputs.overrides = Some((file, map));
        }
        Ok(inputs)
    }

    /// Merge all layers for one module and validate the result against its schema.
    pub fn resolve(&self, module: &Module) -> Result<(ModuleValues, Vec<Locked>), ValuesError> {
        let defaults = match module.file("values.yaml") {
            Some(text) => parse_map(text, &module.describe_file("values.yaml"))?,
            None => Map::new(),
        };
        let mut values = Value::Object(defaults);
        if let Some(p) = self.profile
            && let Some(text) = module.file(p.file())
        {
            merge(
                &mut values,
                Value::Object(parse_map(text, &module.path_of(p.file()))?),
            );
        }
        let mut global = Value::Object(Map::new());
        let mut user_values = Value::Object(Map::new());
        let mut user_global = Value::Object(Map::new());
        for layer in self.files.iter().map(|(_, m)| m).chain(self.sets.iter()) {
            if let Some(v) = layer.get(&module.name) {
                merge(&mut user_values, v.clone());
            }
            if let Some(g) = layer.get("global") {
                merge(&mut user_global, g.clone());
            }
        }
        merge(&mut values, user_values.clone());
        merge(&mut global, user_global.clone());
        let mut locked = Vec::new();
        if let Some((_, central)) = &self.overrides {
            if let Some(c) = central.get(&module.name) {
                find_locked(&module.name, &user_values, c, &mut locked);
                merge(&mut values, c.clone());
            }
            if let Some(c) = central.get("global") {
                find_locked("global", &user_global, c, &mut locked);
                merge(&mut global, c.clone());
            }
        }
        if module.release.is_some() {
            // A release module's values are its CR: nulls the server would prune go before checking.
            if let Some(schema) = schema_of(module)? {
                prune_nulls(&mut values, &schema);
            }
        }
        validate(module, &values)?;
        Ok((ModuleValues { values, global }, locked))
    }
}

/// The overrides file's reserved top-level key.
const POLICY: &str = "policy";

fn read_file_map(doc: &Document) -> Result<(String, Map<String, Value>), ValuesError> {
    match doc {
        Document::File(path) => {
            let file = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| ValuesError::File {
                file: file.clone(),
                message: format!("cannot read: {e}"),
            })?;
            let map = parse_map(&text, &file)?;
            Ok((file, map))
        }
        Document::Text { origin, text } => Ok((origin.clone(), parse_map(text, origin)?)),
        Document::Data { origin, value } => match value {
            Value::Object(m) => Ok((origin.clone(), m.clone())),
            Value::Null => Ok((origin.clone(), Map::new())),
            other => Err(ValuesError::File {
                file: origin.clone(),
                message: format!("must be a mapping at the top level, found {}", kind_of(other)),
            }),
        },
    }
}

fn read_layer_file(
    path: &Document,
    module_names: &[&str],
) -> Result<(String, Map<String, Value>), ValuesError> {
    let (file, map) = read_file_map(path)?;
    check_layer(&file, &map, module_names)?;
    Ok((file, map))
}

fn check_layer(file: &str, map: &Map<String, Value>, module_names: &[&str]) -> Result<(), ValuesError> {
    for (key, v) in map {
        if key != "global" && !module_names.contains(&key.as_str()) {
            return Err(ValuesError::UnknownModuleKey {
                file: file.to_string(),
                key: key.clone(),
                close: close_names(key, module_names.iter().copied().chain(["global"])),
            });
        }
        if !(v.is_object() || v.is_null()) {
            return Err(ValuesError::File {
                file: file.to_string(),
                message: format!("'{key}' must be a mapping of values, not {}", kind_of(v)),
            });
        }
    }
    Ok(())
}

/// `policy: {<class>: {<module>: <reason>}}`: each allowance names a module of the catalog and says
/// why, so the report can carry the reason.
fn read_policy(file: &str, policy: Value, module_names: &[&str]) -> Result<Allowances, ValuesError> {
    let err = |message: String| ValuesError::File {
        file: file.to_string(),
        message,
    };
    let Value::Object(mut policy) = policy else {
        return Err(err(format!(
            "'policy' must be a mapping, not {}",
            kind_of(&policy)
        )));
    };
    let mut allowed = Allowances::default();
    for class in Class::ALL {
        let key = class.policy_key();
        let entries = match policy.remove(key).unwrap_or(Value::Null) {
            Value::Null => Map::new(),
            Value::Object(m) => m,
            v => {
                return Err(err(format!(
                    "policy.{key} must map module names to reasons, not {}",
                    kind_of(&v)
                )));
            }
        };
        for (module, reason) in entries {
            if !module_names.contains(&module.as_str()) {
                let close = close_names(&module, module_names.iter().copied());
                return Err(err(format!(
                    "policy.{key}.{module}: not a module in the catalog{}",
                    did_you_mean(&close)
                )));
            }
            match reason.as_str().map(str::trim) {
                Some(r) if !r.is_empty() => allowed.allow(class, &module, r),
                _ => {
                    return Err(err(format!(
                        "policy.{key}.{module}: give the reason as text (it is shown on every deploy)"
                    )));
                }
            };
        }
    }
    if let Some(key) = policy.keys().next() {
        let known: Vec<&str> = Class::ALL.iter().map(|c| c.policy_key()).collect();
        return Err(err(format!(
            "policy.{key}: unknown; the policy knows {}",
            known.join(", ")
        )));
    }
    Ok(allowed)
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn parse_map(text: &str, file: &str) -> Result<Map<String, Value>, ValuesError> {
    match crate::yaml::parse(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(other) => Err(ValuesError::File {
            file: file.to_string(),
            message: format!("must be a mapping at the top level, found {}", kind_of(&other)),
        }),
        Err(e) => Err(ValuesError::File {
            file: file.to_string(),
            message: e.to_string(),
        }),
    }
}

/// Deep-merge `overlay` into `base`: maps merge, everything else replaces, `null` deletes.
///
/// Not `json_patch::merge` (RFC 7396) on purpose: that drops a `null` under a key the base does not
/// have yet, and keeps nothing of it. The user's layers are merged into an empty map first (to find
/// what central overrides lock), so `--set m.a.b=null` would be lost before it reaches the module's
/// defaults. Here an overlay's new key is taken as it is, `null`s included, for the next merge.
pub fn merge(base: &mut Value, overlay: Value) {
    match (base, overlay) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                if v.is_null() {
                    b.remove(&k);
                } else if let Some(existing) = b.get_mut(&k) {
                    merge(existing, v);
                } else {
                    b.insert(k, v);
                }
            }
        }
        (b, o) => *b = o,
    }
}

fn find_locked(prefix: &str, user: &Value, central: &Value, out: &mut Vec<Locked>) {
    match (user, central) {
        (Value::Object(u), Value::Object(c)) => {
            for (k, cv) in c {
                if let Some(uv) = u.get(k) {
                    find_locked(&format!("{prefix}.{k}"), uv, cv, out);
                }
            }
        }
        (u, c) if u != c => out.push(Locked::new(prefix.to_string(), u, c)),
        _ => {}
    }
}

/// Parse one `--set` argument: `module.a.b[0].c=value[,module.x=y]`. The first path segment is a
/// module name or `global`. `\,` and `\.` escape separators.
pub fn parse_set(arg: &str, module_names: &[&str]) -> Result<Map<String, Value>, ValuesError> {
    let mut root = Value::Object(Map::new());
    parse_set_into(&mut root, arg, module_names)?;
    match root {
        Value::Object(m) => Ok(m),
        _ => unreachable!("root stays a map"),
    }
}

/// Apply one `--set` argument's assignments to `root`.
fn parse_set_into(root: &mut Value, arg: &str, module_names: &[&str]) -> Result<(), ValuesError> {
    let err = |message: String| ValuesError::Set {
        arg: arg.to_string(),
        message,
    };
    for assignment in split_unescaped(arg, ',') {
        let (path, raw) = assignment
            .split_once('=')
            .ok_or_else(|| err(format!("'{assignment}' has no '='; use module.key=value")))?;
        let segments = parse_path(path).map_err(&err)?;
        let Some(Segment::Key(first)) = segments.first() else {
            return Err(err("the path must start with a module name or 'global'".into()));
        };
        if first != "global" && !module_names.contains(&first.as_str()) {
            let close = close_names(first, module_names.iter().copied());
            return Err(err(format!(
                "'{first}' is neither 'global' nor a module in the catalog{}",
                did_you_mean(&close)
            )));
        }
        if segments.len() < 2 {
            return Err(err(format!(
                "'{path}' names a module but no key; use {first}.key=value"
            )));
        }
        set_path(root, &segments, scalar(&raw.replace("\\,", ",")));
    }
    Ok(())
}

fn split_unescaped(s: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&sep) {
            out.last_mut().unwrap().push('\\');
            out.last_mut().unwrap().push(chars.next().unwrap());
        } else if c == sep {
            out.push(String::new());
        } else {
            out.last_mut().unwrap().push(c);
        }
    }
    out.into_iter().filter(|s| !s.is_empty()).collect()
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    let mut key = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => key.push(chars.next().unwrap()),
            '.' => {
                if key.is_empty() && !matches!(out.last(), Some(Segment::Index(_))) {
                    return Err(format!("empty key in path '{path}'"));
                }
                if !key.is_empty() {
                    out.push(Segment::Key(std::mem::take(&mut key)));
                }
            }
            '[' => {
                if !key.is_empty() {
                    out.push(Segment::Key(std::mem::take(&mut key)));
                }
                let mut idx = String::new();
                loop {
                    match chars.next() {
                        Some(']') => break,
                        Some(d) => idx.push(d),
                        None => return Err(format!("unclosed '[' in path '{path}'")),
                    }
                }
                let i: usize = idx
                    .parse()
                    .map_err(|_| format!("list index '{idx}' in '{path}' is not a number"))?;
                if i > 10_000 {
                    return Err(format!("list index {i} in '{path}' is too large"));
                }
                out.push(Segment::Index(i));
            }
            c => key.push(c),
        }
    }
    if !key.is_empty() {
        out.push(Segment::Key(key));
    }
    if out.is_empty() {
        return Err("empty path".into());
    }
    Ok(out)
}

fn set_path(node: &mut Value, path: &[Segment], value: Value) {
    let Some((head, rest)) = path.split_first() else {
        *node = value;
        return;
    };
    match head {
        Segment::Key(k) => {
            if !node.is_object() {
                *node = Value::Object(Map::new());
            }
            let child = node
                .as_object_mut()
                .unwrap()
                .entry(k.clone())
                .or_insert(Value::Null);
            set_path(child, rest, value);
        }
        Segment::Index(i) => {
            if !node.is_array() {
                *node = Value::Array(Vec::new());
            }
            let list = node.as_array_mut().unwrap();
            if list.len() <= *i {
                list.resize(*i + 1, Value::Null);
            }
            set_path(&mut list[*i], rest, value);
        }
    }
}

/// `--set` values are typed the way Helm users expect: booleans, null, integers and floats; all else is
/// a string.
fn scalar(raw: &str) -> Value {
    match raw {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        "null" => Value::Null,
        _ => {
            if let Ok(i) = raw.parse::<i64>() {
                Value::from(i)
            } else if let Ok(f) = raw
                .parse::<f64>()
                .map_err(|_| ())
                .and_then(|f| if f.is_finite() { Ok(f) } else { Err(()) })
            {
                Value::from(f)
            } else {
                Value::String(raw.to_string())
            }
        }
    }
}

fn schema_of(module: &Module) -> Result<Option<Value>, ValuesError> {
    let Some(text) = module.file("values.schema.json") else {
        return Ok(None);
    };
    serde_json::from_str(text)
        .map(Some)
        .map_err(|e| ValuesError::BadSchema {
            schema: module.describe_file("values.schema.json"),
            message: e.to_string(),
        })
}

/// As the API server treats a custom resource before validating it: a null where the schema does not
/// allow null (not `nullable`) becomes the field's `default` if it has one, else is dropped. Fields
/// the schema does not describe are left alone: they are the schema's to refuse.
fn prune_nulls(value: &mut Value, schema: &Value) {
    let allows_null = |s: &Value| {
        s.get("nullable") == Some(&Value::Bool(true))
            || match s.get("type") {
                Some(Value::String(t)) => t == "null",
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "null"),
                _ => false,
            }
    };
    match value {
        Value::Object(map) => {
            let props = schema.get("properties").and_then(Value::as_object);
            let extra = schema.get("additionalProperties").filter(|a| a.is_object());
            for (k, v) in map.iter_mut() {
                if let Some(default) = props
                    .and_then(|p| p.get(k))
                    .or(extra)
                    .filter(|s| v.is_null() && !allows_null(s))
                    .and_then(|s| s.get("default"))
                {
                    *v = default.clone();
                }
            }
            map.retain(|k, v| {
                let s = props.and_then(|p| p.get(k)).or(extra);
                !(v.is_null() && s.is_some_and(|s| !allows_null(s)))
            });
            for (k, v) in map.iter_mut() {
                if let Some(s) = props.and_then(|p| p.get(k)).or(extra) {
                    prune_nulls(v, s);
                }
            }
        }
        Value::Array(items) => {
            if let Some(s) = schema.get("items") {
                items.iter_mut().for_each(|i| prune_nulls(i, s));
            }
        }
        _ => {}
    }
}

fn validate(module: &Module, values: &Value) -> Result<(), ValuesError> {
    let Some(schema) = schema_of(module)? else {
        return Ok(());
    };
    let schema_path = module.describe_file("values.schema.json");
    let validator = jsonschema::validator_for(&schema).map_err(|e| ValuesError::BadSchema {
        schema: schema_path.clone(),
        message: e.to_string(),
    })?;
    let mut problems: Vec<String> = validator
        .iter_errors(values)
        .map(|e| {
            let path = e.instance_path().to_string();
            let at = if path.is_empty() {
                "values".to_string()
            } else {
                format!("values{}", path.replace('/', "."))
            };
            format!("{at}: {e}")
        })
        .collect();
    problems.sort();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ValuesError::Schema {
            module: module.id(),
            schema: schema_path,
            problems,
        })
    }
}

/// Values by module, resolved for a selection; locked reports gathered.
pub fn resolve_all(
    inputs: &ValueInputs,
    modules: &[&Module],
) -> Result<(BTreeMap<String, ModuleValues>, Vec<Locked>), ValuesError> {
    let mut out = BTreeMap::new();
    let mut locked = Vec::new();
    for m in modules {
        let (v, l) = inputs.resolve(m)?;
        locked.extend(l.into_iter().filter(|l| !locked.contains(l)).collect::<Vec<_>>());
        out.insert(m.name.clone(), v);
    }
    Ok((out, locked))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nulls_the_server_would_prune_are_pruned() {
        let schema = json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "keep": {"type": ["string", "null"]},
                "drop": {"type": "string"},
                "list": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "integer"}}}}
            }},
            "metadata": {"type": "object"}
        }});
        let mut btp =
            json!({"apiVersion": "v1", "kind": "BtpOperator", "metadata": {"name": "b"}, "spec": null});
        prune_nulls(&mut btp, &schema);
        assert_eq!(
            btp,
            json!({"apiVersion": "v1", "kind": "BtpOperator", "metadata": {"name": "b"}})
        );
        let mut nested = json!({"spec": {"keep": null, "drop": null, "list": [{"x": null}], "unknown": null,
            "defaulted": null, "anything": null}});
        let mut schema = schema;
        schema["properties"]["spec"]["properties"]["defaulted"] = json!({"type": "integer", "default": 3});
        schema["properties"]["spec"]["properties"]["anything"] =
            json!({"x-kubernetes-int-or-string": true, "nullable": true});
        prune_nulls(&mut nested, &schema);
        assert_eq!(
            nested,
            json!({"spec": {"keep": null, "list": [{}], "unknown": null, "defaulted": 3, "anything": null}}),
            "nullable kept (with or without a type); a default fills in; unknown fields left for the schema"
        );
    }

    fn module(values: &str, schema: Option<&str>) -> Module {
        let mut files = BTreeMap::new();
        files.insert("values.yaml".to_string(), values.to_string());
        files.insert(
            "profiles/production.yaml".to_string(),
            "replicas: 3\n".to_string(),
        );
        if let Some(s) = schema {
            files.insert("values.schema.json".to_string(), s.to_string());
        }
        Module {
            name: "m".into(),
            version: semver::Version::new(1, 0, 0),
            description: String::new(),
            namespace: None,
            depends_on: vec![],
            manifest_urls: vec![],
            marked_default: false,
            source: "test".into(),
            location: "cat/m".into(),
            files,
            downloaded: Default::default(),
            release: None,
        }
    }

    fn layer(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn precedence_defaults_profile_files_set_overrides() {
        let m = module(
            "replicas: 1\nimage: {repo: a, tag: '1'}\nlist: [1, 2]\nkeep: yes\n",
            None,
        );
        let inputs = ValueInputs {
            profile: Some(Profile::Production),
            files: vec![
                (
                    "f1".into(),
                    layer(json!({"m": {"replicas": 4, "image": {"tag": "2"}}})),
                ),
                ("f2".into(), layer(json!({"m": {"replicas": 5, "list": [9]}}))),
            ],
            sets: vec![parse_set("m.replicas=6", &["m"]).unwrap()],
            overrides: None,
            allowances: Allowances::default(),
        };
        let (v, locked) = inputs.resolve(&m).unwrap();
        assert_eq!(
            v.values,
            json!({"replicas": 6, "image": {"repo": "a", "tag": "2"}, "list": [9], "keep": true})
        );
        assert!(locked.is_empty());
    }

    #[test]
    fn profile_beats_defaults_and_files_beat_profile() {
        let m = module("replicas: 1\n", None);
        let mut inputs = ValueInputs {
            profile: Some(Profile::Production),
            ..Default::default()
        };
        assert_eq!(inputs.resolve(&m).unwrap().0.values["replicas"], 3);
        inputs
            .files
            .push(("f".into(), layer(json!({"m": {"replicas": 7}}))));
        assert_eq!(inputs.resolve(&m).unwrap().0.values["replicas"], 7);
    }

    #[test]
    fn central_overrides_win_and_report_locked_values() {
        let m = module("replicas: 1\nimage: {tag: '1'}\n", None);
        let inputs = ValueInputs {
            profile: None,
            files: vec![(
                "f".into(),
                layer(json!({"m": {"replicas": 4, "image": {"tag": "2"}}, "global": {"registry": "mine"}})),
            )],
            sets: vec![],
            overrides: Some((
                "o".into(),
                layer(
                    json!({"m": {"image": {"tag": "9"}, "replicas": 4}, "global": {"registry": "central"}}),
                ),
            )),
            allowances: Allowances::default(),
        };
        let (v, locked) = inputs.resolve(&m).unwrap();
        assert_eq!(v.values["image"]["tag"], "9");
        assert_eq!(v.global["registry"], "central");
        // replicas: user and central agree, so nothing was overruled there.
        assert_eq!(
            locked,
            vec![
                Locked {
                    path: "m.image.tag".into(),
                    values: LockedValues::Shown {
                        user: json!("2"),
                        central: json!("9")
                    }
                },
                Locked {
                    path: "global.registry".into(),
                    values: LockedValues::Shown {
                        user: json!("mine"),
                        central: json!("central")
                    }
                },
            ]
        );
        assert_eq!(
            locked[0].warning(),
            "m.image.tag = \"2\" is locked by central overrides; using \"9\""
        );
    }

    #[test]
    fn locked_credentials_are_named_never_shown() {
        let m = module("access: {}\nimage: {}\n", None);
        let pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----\n";
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJrIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
        let user = json!({"m": {"access": {"adminPassword": "hunter2", "apiKey": "k-user", "client": {"token": "t-user"}},
                                "image": {"pullSecret": {"name": "mine"}, "tag": "2", "ca": pem, "header": jwt,
                                          "blob": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA=="}}});
        let central = json!({"m": {"access": {"adminPassword": "correct-horse", "apiKey": "k-central", "client": null},
                                   "image": {"pullSecret": "central", "tag": "9", "ca": "x", "header": "y", "blob": "z"}}});
        let inputs = ValueInputs {
            files: vec![("f".into(), layer(user))],
            overrides: Some(("o".into(), layer(central))),
            ..Default::default()
        };
        let (_, locked) = inputs.resolve(&m).unwrap();
        let text: Vec<String> = locked.iter().map(Locked::warning).collect();
        let all = format!("{text:#?}\n{}", serde_json::to_string(&locked).unwrap());
        for secret in [
            "hunter2",
            "correct-horse",
            "k-user",
            "k-central",
            "t-user",
            "BEGIN",
            "eyJ",
            "c2Vj",
            "mine",
        ] {
            assert!(!all.contains(secret), "{secret} shown: {all}");
        }
        for path in [
            "m.access.adminPassword",
            "m.access.apiKey",
            "m.access.client",
            "m.image.pullSecret",
            "m.image.ca",
            "m.image.header",
            "m.image.blob",
        ] {
            assert!(
                text.contains(&format!(
                    "{path} (value hidden) is locked by central overrides; using the central value"
                )),
                "{path}: {all}"
            );
        }
        assert!(
            text.contains(&"m.image.tag = \"2\" is locked by central overrides; using \"9\"".to_string()),
            "a plain value is still shown: {all}"
        );
        assert!(all.contains(r#""hidden":"looksLikeCredential""#), "{all}");

        // Central overrides read from a Secret: nothing of them is shown.
        let mut tag = locked.into_iter().find(|l| l.path == "m.image.tag").unwrap();
        tag.hide(Hidden::FromSecret);
        assert_eq!(
            tag.warning(),
            "m.image.tag (value hidden) is locked by central overrides; using the central value"
        );
        assert_eq!(
            serde_json::to_value(&tag).unwrap(),
            json!({"path": "m.image.tag", "hidden": "fromSecret"})
        );
    }

    #[test]
    fn null_removes_and_lists_replace() {
        let mut base = json!({"a": {"b": 1, "c": 2}, "l": [1, 2, 3]});
        merge(&mut base, json!({"a": {"b": null}, "l": [4]}));
        assert_eq!(base, json!({"a": {"c": 2}, "l": [4]}));
    }

    /// Where kyma's merge and RFC 7396 differ: a `null` under a new key survives the merge of the user's
    /// layers and still deletes the default it names.
    #[test]
    fn null_under_a_new_key_is_kept_for_the_next_merge() {
        let mut user = json!({});
        merge(&mut user, json!({"a": {"b": null}}));
        assert_eq!(user, json!({"a": {"b": null}}));
        let mut values = json!({"a": {"b": 1, "c": 2}});
        merge(&mut values, user);
        assert_eq!(values, json!({"a": {"c": 2}}));
    }

    #[test]
    fn set_paths_types_and_lists() {
        let m = parse_set(
            "m.a.b[1].c=true,m.n=12,m.f=1.5,m.s=hello\\,world,m.z=null",
            &["m"],
        )
        .unwrap();
        assert_eq!(
            Value::Object(m),
            json!({"m": {"a": {"b": [null, {"c": true}]}, "n": 12, "f": 1.5, "s": "hello,world", "z": null}})
        );
    }

    #[test]
    fn set_errors_are_specific() {
        let e = parse_set("m.a", &["m"]).unwrap_err().to_string();
        assert!(e.contains("no '='"), "{e}");
        let e = parse_set("mm.a=1", &["m"]).unwrap_err().to_string();
        assert!(e.contains("did you mean: m"), "{e}");
        let e = parse_set("m.a[x]=1", &["m"]).unwrap_err().to_string();
        assert!(e.contains("not a number"), "{e}");
        let e = parse_set("m=1", &["m"]).unwrap_err().to_string();
        assert!(e.contains("no key"), "{e}");
    }

    #[test]
    fn schema_errors_name_the_path_and_schema() {
        let schema = r#"{"type":"object","properties":{"replicas":{"type":"integer","minimum":0}}}"#;
        let m = module("replicas: 1\n", Some(schema));
        let inputs = ValueInputs {
            sets: vec![parse_set("m.replicas=-2", &["m"]).unwrap()],
            ..Default::default()
        };
        let e = inputs.resolve(&m).unwrap_err().to_string();
        assert!(
            e.contains("values.replicas") && e.contains("minimum") && e.contains("cat/m/values.schema.json"),
            "{e}"
        );
    }
}

//! Rendering: each module's Tera templates plus its verbatim manifests become Kubernetes objects that
//! remember where they came from. No ordering decisions and no cluster access here.

pub mod filters;

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};

use crate::catalog::Module;
pub use crate::cluster::facts::ClusterFacts;
use crate::object::{Object, Origin, Scope, builtin_scope};
use crate::values::ModuleValues;

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("{file}{}: {message}", if *line > 0 { format!(":{line}") } else { String::new() })]
    Template {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: {message}")]
    Yaml { file: String, message: String },
    #[error("{origin}: {message}")]
    Object { origin: String, message: String },
}

/// One module's rendered objects.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub module: String,
    pub version: String,
    pub namespace: Option<String>,
    pub objects: Vec<Object>,
}

fn is_template(path: &str) -> bool {
    path.starts_with("templates/")
        && [".yaml", ".yml", ".tera"].iter().any(|ext| path.ends_with(ext))
        && !path.rsplit('/').next().unwrap_or("").starts_with('_')
}

fn tera_error(module: &Module, e: &tera::Error) -> RenderError {
    let mut message = String::new();
    let (file, line) = match e.kind() {
        tera::ErrorKind::SyntaxError(r) | tera::ErrorKind::RenderingError(r) => {
            message.push_str(r.message());
            (module.path_of(r.filename()), r.span().start_line)
        }
        other => {
            // Some errors (an unknown filter found while adding templates) carry their location only
            // inside a rendered report: "error: …\n --> templates/x.yaml:7:15".
            let text = format!("{other}");
            let mut lines = text.lines();
            let first = lines.next().unwrap_or("").trim().trim_start_matches("error: ");
            message.push_str(first);
            let located = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("--> "))
                .and_then(|loc| {
                    let mut parts = loc.rsplitn(3, ':');
                    let (_col, line, file) = (parts.next()?, parts.next()?, parts.next()?);
                    Some((module.path_of(file), line.parse().ok()?))
                });
            located.unwrap_or_else(|| (module.location.clone(), 0))
        }
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(&format!(": {s}"));
        source = s.source();
    }
    RenderError::Template { file, line, message }
}

/// Render one module.
pub fn render_module(
    module: &Module,
    values: &ModuleValues,
    cluster: &ClusterFacts,
) -> Result<Rendered, RenderError> {
    let mut tera = tera::Tera::new();
    // Kubernetes YAML is not HTML: escaping would corrupt quotes and ampersands.
    tera.autoescape_on(Vec::<&str>::new());
    filters::register(&mut tera);
    let templates: Vec<(&str, &str)> = module
        .files
        .iter()
        .filter(|(p, _)| {
            p.starts_with("templates/")
                && (is_template(p) || p.rsplit('/').next().is_some_and(|n| n.starts_with('_')))
        })
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    tera.add_raw_templates(templates.iter().copied())
        .map_err(|e| tera_error(module, &e))?;

    let ctx = json!({
        "values": values.values,
        "global": values.global,
        "module": {"name": module.name, "version": module.version.to_string(), "namespace": module.namespace},
        "cluster": cluster,
    });
    let ctx = tera::Context::from_serialize(&ctx).expect("a JSON object is a valid context");

    let mut objects = Vec::new();
    for (path, _) in templates.iter().filter(|(p, _)| is_template(p)) {
        let text = tera.render(path, &ctx).map_err(|e| tera_error(module, &e))?;
        let shown = module.path_of(path);
        parse_objects(module, &shown, &text, true, &mut objects)?;
    }
    for (path, text) in module.files.iter().filter(|(p, _)| p.starts_with("manifests/")) {
        if !(path.ends_with(".yaml") || path.ends_with(".yml") || path.ends_with(".json")) {
            continue;
        }
        parse_objects(module, &module.describe_file(path), text, false, &mut objects)?;
    }
    for m in &module.manifest_urls {
        let text = module.downloaded.get(m.url()).ok_or_else(|| RenderError::Yaml {
            file: m.url().to_string(),
            message: "was not fetched before rendering".into(),
        })?;
        parse_objects(module, m.url(), text, false, &mut objects)?;
    }
    if module.release.is_some() {
        // A release module's one configured object: its default CR with the values merged in.
        let file = format!("{} (with values)", module.describe_file("values.yaml"));
        let origin = Origin {
            module: module.name.clone(),
            file: file.clone(),
            doc: 1,
        };
        let mut cr = check_object(values.values.clone(), origin).map_err(|message| RenderError::Object {
            origin: file,
            message,
        })?;
        cr.module_cr = true;
        objects.push(cr);
    }
    Ok(Rendered {
        module: module.name.clone(),
        version: module.version.to_string(),
        namespace: module.namespace.clone(),
        objects,
    })
}

fn parse_objects(
    module: &Module,
    file: &str,
    text: &str,
    rendered: bool,
    out: &mut Vec<Object>,
) -> Result<(), RenderError> {
    let what = if rendered { " (rendered output)" } else { "" };
    let docs = crate::yaml::parse_all(text).map_err(|e| RenderError::Yaml {
        file: format!("{file}{what}"),
        message: e.to_string(),
    })?;
    for (i, (line, doc)) in docs.into_iter().enumerate() {
        let origin = Origin {
            module: module.name.clone(),
            file: file.to_string(),
            doc: i + 1,
        };
        let bad = |message: String| RenderError::Object {
            origin: format!("{file}{what}, document {} (line {line})", i + 1),
            message,
        };
        let Value::Object(map) = &doc else {
            return Err(bad(
                "a document must be a Kubernetes object (a mapping), not a scalar or list".into(),
            ));
        };
        // A `kind: List` is how kubectl ships several objects in one document; unpack it.
        if map.get("kind").and_then(Value::as_str) == Some("List")
            && map.get("apiVersion").and_then(Value::as_str) == Some("v1")
        {
            for item in map
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                out.push(check_object(item, origin.clone()).map_err(&bad)?);
            }
            continue;
        }
        out.push(check_object(doc, origin).map_err(bad)?);
    }
    Ok(())
}

fn check_object(doc: Value, origin: Origin) -> Result<Object, String> {
    let field = |p: &str| {
        doc.pointer(p)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .is_some()
    };
    if !field("/apiVersion") {
        return Err("object has no apiVersion (a string such as v1 or apps/v1)".into());
    }
    if !field("/kind") {
        return Err("object has no kind".into());
    }
    if !doc.get("metadata").is_some_and(Value::is_object) {
        return Err("object has no metadata mapping".into());
    }
    if !field("/metadata/name") {
        let hint = if doc.pointer("/metadata/generateName").is_some() {
            "; generateName is not supported, an installer needs stable names to update and prune"
        } else {
            ""
        };
        return Err(format!("object has no metadata.name{hint}"));
    }
    Ok(Object {
        data: doc,
        origin,
        scope: Scope::Unknown,
        module_cr: false,
    })
}

/// Decide each object's scope from built-in kinds and the CRDs in this render, and give namespaced
/// objects without a namespace their module's namespace. Unknown kinds stay `Unknown` for discovery.
pub fn default_namespaces(rendered: &mut [Rendered]) {
    let mut crd_scopes: HashMap<(String, String), Scope> = HashMap::new();
    for r in rendered.iter() {
        for o in &r.objects {
            if let Some(gk) = o.crd_defines() {
                let scope = match o.data.pointer("/spec/scope").and_then(Value::as_str) {
                    Some("Cluster") => Scope::Cluster,
                    _ => Scope::Namespaced,
                };
                crd_scopes.insert(gk, scope);
            }
        }
    }
    for r in rendered.iter_mut() {
        for o in &mut r.objects {
            let builtin = builtin_scope(o.group(), o.kind());
            o.scope = match builtin {
                Scope::Unknown => crd_scopes
                    .get(&(o.group().to_string(), o.kind().to_string()))
                    .copied()
                    .unwrap_or(Scope::Unknown),
                s => s,
            };
            apply_scope(o, r.namespace.as_deref());
        }
    }
}

/// Once the scope is known (here or from discovery), fill in the namespace if needed.
pub fn apply_scope(o: &mut Object, module_namespace: Option<&str>) {
    if o.scope == Scope::Namespaced && o.namespace().is_none() {
        o.set_namespace(module_namespace.unwrap_or("default"));
    }
}

/// Render a whole selection, modules in name order.
pub fn render_all(
    modules: &[&Module],
    values: &BTreeMap<String, ModuleValues>,
    cluster: &ClusterFacts,
) -> Result<Vec<Rendered>, RenderError> {
    let mut out = Vec::new();
    for m in modules {
        out.push(render_module(m, &values[&m.name], cluster)?);
    }
    default_namespaces(&mut out);
    check_duplicates(&out)?;
    Ok(out)
}

fn check_duplicates(rendered: &[Rendered]) -> Result<(), RenderError> {
    let mut seen: HashMap<crate::object::ObjectKey, &Origin> = HashMap::new();
    for o in rendered.iter().flat_map(|r| &r.objects) {
        if let Some(prev) = seen.insert(o.key(), &o.origin) {
            return Err(RenderError::Object {
                origin: o.origin.to_string(),
                message: format!(
                    "{} is also rendered by {} (module {}); an object can have one owner",
                    o.key(),
                    prev,
                    prev.module
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::Origin;

    fn obj(api: &str, kind: &str, name: &str) -> Object {
        Object {
            data: json!({"apiVersion": api, "kind": kind, "metadata": {"name": name}}),
            origin: Origin {
                module: "m".into(),
                file: "f".into(),
                doc: 1,
            },
            scope: Scope::Unknown,
            module_cr: false,
        }
    }

    #[test]
    fn namespaces_are_defaulted_only_for_namespaced_kinds() {
        let mut crd = obj(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "gizmos.x.io",
        );
        crd.data["spec"] = json!({"group": "x.io", "scope": "Namespaced", "names": {"kind": "Gizmo"}});
        let mut cluster_crd = obj(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "realms.x.io",
        );
        cluster_crd.data["spec"] = json!({"group": "x.io", "scope": "Cluster", "names": {"kind": "Realm"}});
        let mut explicit = obj("v1", "ConfigMap", "elsewhere");
        explicit.set_namespace("other");
        let mut rendered = vec![Rendered {
            module: "m".into(),
            version: "1.0.0".into(),
            namespace: Some("m-system".into()),
            objects: vec![
                crd,
                cluster_crd,
                obj("v1", "ConfigMap", "c"),
                explicit,
                obj("rbac.authorization.k8s.io/v1", "ClusterRole", "r"),
                obj("x.io/v1", "Gizmo", "g"),
                obj("x.io/v1", "Realm", "realm"),
                obj("unknown.io/v1", "Mystery", "m"),
            ],
        }];
        default_namespaces(&mut rendered);
        let ns: Vec<(Option<&str>, Scope)> = rendered[0]
            .objects
            .iter()
            .map(|o| (o.namespace(), o.scope))
            .collect();
        assert_eq!(
            ns,
            vec![
                (None, Scope::Cluster),
                (None, Scope::Cluster),
                (Some("m-system"), Scope::Namespaced),
                (Some("other"), Scope::Namespaced),
                (None, Scope::Cluster),
                (Some("m-system"), Scope::Namespaced),
                (None, Scope::Cluster),
                // Unknown kinds are left for discovery to decide at deploy time.
                (None, Scope::Unknown),
            ]
        );
    }
}

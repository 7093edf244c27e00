//! `kyma modules list|show`.

use serde_json::{Value, json};

use crate::catalog::release::Release;
use crate::catalog::{Catalog, Module};
use crate::cli::{GlobalArgs, ModulesCommand, OutputFormat};
use crate::exit::ResultExt;
use crate::report::table::Table;

pub fn exec(global: &GlobalArgs, cmd: &ModulesCommand) -> anyhow::Result<()> {
    let catalog = crate::pipeline::load_catalog(&crate::front::requests::fetch(global))?;
    match cmd {
        ModulesCommand::List => list(global, &catalog),
        ModulesCommand::Show { module } => show(global, &catalog, module),
    }
}

/// `kyma modules list`: every module with its default version, its versions and where it comes from.
fn list(global: &GlobalArgs, catalog: &Catalog) -> anyhow::Result<()> {
    let rows: Vec<_> = catalog
        .names()
        .map(|n| {
            let d = catalog.default_version(n).unwrap();
            let versions: Vec<String> = catalog
                .versions(n)
                .unwrap()
                .keys()
                .map(|v| v.to_string())
                .collect();
            (d, versions)
        })
        .collect();
    match global.output {
        OutputFormat::Json => {
            let doc: Vec<_> = rows
                .iter()
                .map(|(d, versions)| {
                    json!({"name": d.name, "versions": versions, "defaultVersion": d.version.to_string(),
                           "channels": channels_of(catalog, &d.name),
                           "description": d.description, "dependsOn": d.depends_on, "source": d.source,
                           "repository": d.release.as_ref().and_then(|r| r.repository.clone())})
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        OutputFormat::Table => {
            let mut t = Table::new(&[
                "NAME",
                "DEFAULT",
                "VERSIONS",
                "DEPENDS ON",
                "SOURCE",
                "DESCRIPTION",
            ]);
            for (d, versions) in &rows {
                t.row(vec![
                    d.name.clone(),
                    d.version.to_string(),
                    versions.join(","),
                    dash_if_empty(&d.depends_on, ","),
                    d.source.clone(),
                    d.description.clone(),
                ]);
            }
            print!("{}", t.render());
        }
    }
    Ok(())
}

/// What `kyma modules show` tells about one module.
struct Shown {
    /// The module, materialized when its assets could be had.
    module: Module,
    /// Why a release module's assets could not be had (then values and schema are unknown).
    unavailable: Option<String>,
    defaults: Value,
    schema: Option<Value>,
    profiles: Vec<String>,
    /// Every version of a release module with its asset URLs.
    releases: Vec<Value>,
    /// Release channel → version.
    channels: Value,
}

/// A module's release channels as `{"fast": "1.1.0", "regular": "1.0.0"}` (empty when it has none).
fn channels_of(catalog: &Catalog, name: &str) -> Value {
    catalog
        .channels(name)
        .map(|c| {
            c.versions
                .iter()
                .map(|(k, v)| (k.clone(), json!(v.to_string())))
                .collect()
        })
        .unwrap_or_else(|| json!({}))
}

/// `kyma modules show NAME[@VERSION]`.
fn show(global: &GlobalArgs, catalog: &Catalog, spec: &str) -> anyhow::Result<()> {
    let chosen = catalog.select(spec).bad_input()?;
    // A release module's values and schema come from its assets: show them when they can be had
    // (cache, mirror, network), and the URLs regardless.
    let (module, unavailable) = match crate::catalog::release::materialize(
        chosen,
        &crate::front::requests::fetch(global).fetcher(),
    ) {
        Ok(m) => (m, None),
        Err(e) => (chosen.clone(), Some(format!("{e:#}"))),
    };
    let defaults = module
        .file("values.yaml")
        .map(crate::yaml::parse)
        .transpose()
        .bad_input()?
        .unwrap_or(json!({}));
    let schema: Option<Value> = module
        .file("values.schema.json")
        .map(serde_json::from_str)
        .transpose()
        .bad_input()?;
    let profiles: Vec<String> = module
        .files
        .keys()
        .filter_map(|f| f.strip_prefix("profiles/").and_then(|p| p.strip_suffix(".yaml")))
        .map(str::to_string)
        .collect();
    let releases: Vec<Value> = catalog
        .versions(&module.name)
        .into_iter()
        .flat_map(|v| v.values().rev())
        .filter_map(|v| {
            let r = v.release.as_ref()?;
            Some(
                json!({"version": v.version.to_string(), "managerManifest": r.manager_manifest,
                "defaultCR": r.default_cr, "minKubernetes": r.min_kubernetes}),
            )
        })
        .collect();
    let channels = channels_of(catalog, &module.name);
    let shown = Shown {
        module,
        unavailable,
        defaults,
        schema,
        profiles,
        releases,
        channels,
    };
    match global.output {
        OutputFormat::Json => print_json(&shown),
        OutputFormat::Table => {
            print_table(&shown);
            Ok(())
        }
    }
}

fn print_json(s: &Shown) -> anyhow::Result<()> {
    let m = &s.module;
    let mut doc = json!({"name": m.name, "version": m.version.to_string(), "description": m.description,
        "namespace": m.namespace, "dependsOn": m.depends_on, "source": m.source, "location": m.location,
        "channels": s.channels, "profiles": s.profiles, "values": s.defaults, "schema": s.schema});
    if let Some(r) = &m.release {
        doc["release"] = json!({"repository": r.repository, "customResource": r.custom_resource,
            "manager": r.manager, "requires": r.requires, "versions": s.releases,
            "assetsUnavailable": s.unavailable});
    }
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(())
}

fn print_table(s: &Shown) {
    let m = &s.module;
    println!("{} {} ({})", m.name, m.version, m.source);
    if !m.description.is_empty() {
        println!("{}", m.description);
    }
    println!("namespace: {}", m.namespace.as_deref().unwrap_or("-"));
    println!("depends on: {}", dash_if_empty(&m.depends_on, ", "));
    let channels: Vec<String> = s
        .channels
        .as_object()
        .into_iter()
        .flatten()
        .map(|(c, v)| format!("{c} → {}", v.as_str().unwrap_or_default()))
        .collect();
    println!("channels: {}", dash_if_empty(&channels, ", "));
    if let Some(r) = &m.release {
        print_release(r, &s.releases);
        if let Some(why) = &s.unavailable {
            println!("\nvalues: not available here ({why})");
            return;
        }
    } else {
        println!("profiles: {}", dash_if_empty(&s.profiles, ", "));
    }
    println!("\nvalues (defaults):");
    print!("{}", indent(&crate::yaml::to_string(&s.defaults)));
    if let Some(schema) = &s.schema {
        println!("\nschema:");
        for line in schema_summary(schema, "") {
            println!("  {line}");
        }
    }
}

/// A release module's repository, custom resource, manager and versions with their asset URLs.
fn print_release(r: &Release, releases: &[Value]) {
    if let Some(repo) = &r.repository {
        println!("repository: https://github.com/{repo}");
    }
    if let Some(cr) = &r.custom_resource {
        println!(
            "module CR: {} {} ({})",
            cr.api_version,
            cr.kind,
            cr.scope.as_deref().unwrap_or("scope unknown")
        );
    }
    if let Some(mgr) = &r.manager {
        println!("manager: Deployment {}/{}", mgr.namespace, mgr.name);
    }
    println!("versions:");
    for v in releases {
        println!("  {}", v["version"].as_str().unwrap_or_default());
        println!(
            "    manager manifest: {}",
            v["managerManifest"].as_str().unwrap_or_default()
        );
        match &v["defaultCR"]["url"] {
            Value::String(u) => println!("    default CR:       {u}"),
            _ => println!("    default CR:       inline"),
        }
        if let Some(k) = v["minKubernetes"].as_object() {
            println!(
                "    needs Kubernetes >= {} ({})",
                k["version"].as_str().unwrap_or_default(),
                k["needs"].as_str().unwrap_or_default()
            );
        }
    }
}

/// `a,b` (joined by `sep`), or `-` for none.
fn dash_if_empty(items: &[String], sep: &str) -> String {
    if items.is_empty() {
        "-".into()
    } else {
        items.join(sep)
    }
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("  {l}\n")).collect()
}

/// One line per schema property: path, type, constraints, description.
fn schema_summary(schema: &serde_json::Value, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some(props) = schema.get("properties").and_then(|p| p.as_object()) else {
        return out;
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(|r| r.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    for (k, v) in props {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        let ty = v
            .get("type")
            .map(|t| t.to_string().trim_matches('"').to_string())
            .unwrap_or_else(|| "any".into());
        let mut extra = Vec::new();
        for c in ["minimum", "maximum", "enum", "pattern"] {
            if let Some(x) = v.get(c) {
                extra.push(format!("{c}={x}"));
            }
        }
        if required.contains(&k.as_str()) {
            extra.push("required".into());
        }
        let desc = v.get("description").and_then(|d| d.as_str()).unwrap_or("");
        out.push(format!(
            "{path}: {ty}{}{}",
            if extra.is_empty() {
                String::new()
            } else {
                format!(" ({})", extra.join(", "))
            },
            if desc.is_empty() {
                String::new()
            } else {
                format!(" — {desc}")
            }
        ));
        out.extend(schema_summary(v, &path));
    }
    out
}

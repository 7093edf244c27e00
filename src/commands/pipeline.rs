//! The offline half of the pipeline shared by render, deploy and diff: catalog → values → render → plan.

use std::collections::BTreeMap;

use anyhow::Context as _;

use crate::catalog::fetch::Fetcher;
use crate::catalog::{Catalog, Module, source};
use crate::cli::{GlobalArgs, SelectionArgs};
use crate::exit::{Failure, ResultExt};
use crate::plan::Plan;
use crate::render::ClusterFacts;
use crate::values::{Locked, ValueInputs};

pub struct Prepared {
    pub plan: Plan,
    pub locked: Vec<Locked>,
    /// The values each module rendered with (their hash is recorded in the inventory).
    pub values: BTreeMap<String, crate::values::ModuleValues>,
}

pub fn fetcher(global: &GlobalArgs) -> Fetcher {
    Fetcher { offline: global.offline, cache: None }
}

pub fn load_catalog(global: &GlobalArgs) -> Result<Catalog, Failure> {
    source::load(&global.catalogs, &fetcher(global)).bad_input()
}

/// Everything up to the plan. Every error here is bad input and happens before any cluster call.
pub fn prepare(global: &GlobalArgs, sel: &SelectionArgs, cluster: &ClusterFacts) -> Result<Prepared, Failure> {
    let catalog = load_catalog(global)?;
    let mut modules: Vec<&Module> = Vec::new();
    for spec in &sel.modules {
        let m = catalog.select(spec).bad_input()?;
        if let Some(prev) = modules.iter().find(|p| p.name == m.name) {
            return Err(Failure::bad_input(anyhow::anyhow!(
                "module {} is selected twice ({} and {})",
                m.name,
                prev.version,
                m.version
            )));
        }
        modules.push(m);
    }
    let names: Vec<&str> = catalog.names().collect();
    let inputs = ValueInputs::read(sel.profile, &sel.values, &sel.set, sel.overrides.as_ref(), &names).bad_input()?;
    let (values, locked) = crate::values::resolve_all(&inputs, &modules).bad_input()?;
    let fetcher = fetcher(global);
    let rendered = crate::render::render_all(&modules, &values, cluster, &fetcher).bad_input()?;
    let depends_on: BTreeMap<String, Vec<String>> =
        modules.iter().map(|m| (m.name.clone(), m.depends_on.clone())).collect();
    let plan = crate::plan::build(rendered, &depends_on);
    Ok(Prepared { plan, locked, values })
}

/// Warnings every command prints the same way: locked values and plan warnings.
pub fn print_warnings(p: &Prepared) {
    for l in &p.locked {
        crate::report::style::warn(&format!(
            "{} = {} is locked by central overrides; using {}",
            l.path, l.user, l.central
        ));
    }
    for w in &p.plan.warnings {
        crate::report::style::warn(w);
    }
}

pub fn write_file(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

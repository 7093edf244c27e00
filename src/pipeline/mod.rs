//! The offline half of the pipeline shared by render, deploy and diff: catalog → values → render → plan.

use std::collections::BTreeMap;

use anyhow::Context as _;

use crate::catalog::{Catalog, CatalogError, Module, assets, source};
use crate::cli::{GlobalArgs, SelectionArgs};
use crate::exit::{Exit, Failure, ResultExt};
use crate::fetch::{Fetcher, Mirror};
use crate::plan::Plan;
use crate::render::ClusterFacts;
use crate::values::{Locked, ValueInputs};

pub struct Prepared {
    pub plan: Plan,
    pub locked: Vec<Locked>,
    /// The values each module rendered with (their hash is recorded in the inventory).
    pub values: BTreeMap<String, crate::values::ModuleValues>,
    /// Modules this server cannot take (too old for them), by name: refused before anything is applied.
    pub refused: BTreeMap<String, crate::normalize::Refusal>,
    /// Powerful grants the central overrides allowed, with their reason (reported on every run).
    pub privileged: Vec<(crate::privilege::Grant, String)>,
}

/// The selection with its assets fetched and its values resolved: everything that does not depend on
/// the cluster. Built once per run; rendered once per set of cluster facts.
pub struct Loaded {
    pub modules: Vec<Module>,
    pub locked: Vec<Locked>,
    pub values: BTreeMap<String, crate::values::ModuleValues>,
    /// `policy` of the central overrides.
    pub allowances: crate::privilege::Allowances,
}

pub fn fetcher(global: &GlobalArgs) -> Fetcher {
    Fetcher {
        offline: global.offline,
        mirror: global.mirror.as_deref().map(Mirror::parse),
        accept_new_digests: global.accept_new_digests,
        progress: true,
        max_download_size: global.max_download_size,
    }
}

/// A catalog or asset that could not be had is its own exit code (6); a bad one is bad input (2), and
/// so is a URL or mirror path that would leave its folder.
pub fn catalog_failure(e: CatalogError) -> Failure {
    match e {
        CatalogError::Fetch(ref f) | CatalogError::Asset { source: ref f, .. } if f.is_bad_input() => {
            Failure::bad_input(e)
        }
        CatalogError::Fetch(_) | CatalogError::Asset { .. } => Failure::new(Exit::Fetch, e),
        e => Failure::bad_input(e),
    }
}

pub fn load_catalog(global: &GlobalArgs) -> Result<Catalog, Failure> {
    source::load(&global.catalogs, &fetcher(global)).map_err(catalog_failure)
}

/// Resolve `--modules` against the catalog: each module once, in the order given.
pub fn select<'c>(catalog: &'c Catalog, specs: &[String]) -> Result<Vec<&'c Module>, Failure> {
    let mut modules: Vec<&Module> = Vec::new();
    for spec in specs {
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
    Ok(modules)
}

/// Catalog → selection → assets → values. Every error here happens before any cluster call.
pub fn load(global: &GlobalArgs, sel: &SelectionArgs) -> Result<Loaded, Failure> {
    let catalog = load_catalog(global)?;
    let fetcher = fetcher(global);
    let modules = select(&catalog, &sel.modules)?
        .into_iter()
        .map(|m| assets::fetch(m, &fetcher))
        .collect::<Result<Vec<Module>, _>>()
        .map_err(catalog_failure)?;
    let names: Vec<&str> = catalog.names().collect();
    let inputs =
        ValueInputs::read(sel.profile, &sel.values, &sel.set, sel.overrides.as_ref(), &names).bad_input()?;
    let refs: Vec<&Module> = modules.iter().collect();
    let (values, locked) = crate::values::resolve_all(&inputs, &refs).bad_input()?;
    Ok(Loaded {
        modules,
        locked,
        values,
        allowances: inputs.allowances,
    })
}

impl Loaded {
    /// Whether a selected template reads the cluster's address families (then they are read from
    /// the cluster; otherwise kyma does not ask).
    pub fn uses_network_facts(&self) -> bool {
        self.modules.iter().any(|m| {
            m.files
                .iter()
                .filter(|(path, _)| path.starts_with("templates/"))
                .any(|(_, text)| text.contains("cluster.ip_families") || text.contains("cluster.dual_stack"))
        })
    }
}

/// Render a loaded selection for one set of cluster facts and plan it.
pub fn render(_global: &GlobalArgs, loaded: &Loaded, cluster: &ClusterFacts) -> Result<Prepared, Failure> {
    let refs: Vec<&Module> = loaded.modules.iter().collect();
    let mut rendered = crate::render::render_all(&refs, &loaded.values, cluster).bad_input()?;
    let privileged = crate::privilege::check(&rendered, &loaded.allowances).bad_input()?;
    for o in rendered.iter_mut().flat_map(|r| r.objects.iter_mut()) {
        crate::normalize::fill_defaults(&mut o.data);
    }
    let refused = crate::normalize::check_server(&loaded.modules, &rendered, cluster.version.as_deref());
    let depends_on: BTreeMap<String, Vec<String>> = loaded
        .modules
        .iter()
        .map(|m| (m.name.clone(), m.depends_on.clone()))
        .collect();
    let plan = crate::plan::build(rendered, &depends_on);
    Ok(Prepared {
        plan,
        locked: loaded.locked.clone(),
        values: loaded.values.clone(),
        refused,
        privileged,
    })
}

/// Everything up to the plan, for commands that render once.
pub fn prepare(
    global: &GlobalArgs,
    sel: &SelectionArgs,
    cluster: &ClusterFacts,
) -> Result<Prepared, Failure> {
    render(global, &load(global, sel)?, cluster)
}

/// Warnings every command gives the same way: locked values, allowed powerful grants, plan warnings.
pub fn warning_lines(p: &Prepared) -> Vec<String> {
    let mut lines = Vec::new();
    lines.extend(p.locked.iter().map(Locked::warning));
    for (g, reason) in &p.privileged {
        lines.push(format!(
            "module {}: {} grants {}; allowed by the central overrides: {reason} (policy.{})",
            g.module,
            g.binding,
            g.what,
            g.class.policy_key()
        ));
    }
    lines.extend(p.plan.warnings.iter().cloned());
    lines
}

pub fn print_warnings(p: &Prepared) {
    for w in warning_lines(p) {
        crate::report::style::warn(&w);
    }
}

pub fn write_file(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    write_bytes(path, text.as_bytes())
}

pub fn write_bytes(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

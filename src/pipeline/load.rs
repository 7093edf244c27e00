//! Catalog → selection → assets → values: everything that does not depend on the cluster.

use std::collections::BTreeMap;

use super::{FetchSettings, Selection};
use super::{PipelineError, input};
use crate::catalog::{Catalog, CatalogError, Module, assets, source};
use crate::values::{Locked, ValueInputs};

/// The selection with its assets fetched and its values resolved: everything that does not depend on
/// the cluster. Built once per run; rendered once per set of cluster facts.
pub struct Loaded {
    pub modules: Vec<Module>,
    pub locked: Vec<Locked>,
    pub values: BTreeMap<String, crate::values::ModuleValues>,
    /// `policy` of the central overrides.
    pub allowances: crate::privilege::Allowances,
}

/// A catalog or asset that could not be had is unavailable; a bad one is bad input, and so is a URL or
/// mirror path that would leave its folder.
pub fn catalog_error(e: CatalogError) -> PipelineError {
    match e {
        CatalogError::Fetch(ref f) | CatalogError::Asset { source: ref f, .. } if f.is_bad_input() => {
            input(e)
        }
        CatalogError::Fetch(_) | CatalogError::Asset { .. } => PipelineError::Unavailable(e.into()),
        e => input(e),
    }
}

pub fn load_catalog(fetch: &FetchSettings) -> Result<Catalog, PipelineError> {
    source::load(&fetch.catalogs, &fetch.fetcher()).map_err(catalog_error)
}

/// Resolve `--modules` against the catalog: each module once, in the order given.
pub fn select<'c>(catalog: &'c Catalog, specs: &[String]) -> Result<Vec<&'c Module>, PipelineError> {
    let mut modules: Vec<&Module> = Vec::new();
    for spec in specs {
        let m = catalog.select(spec).map_err(input)?;
        if let Some(prev) = modules.iter().find(|p| p.name == m.name) {
            return Err(input(anyhow::anyhow!(
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
pub fn load(fetch: &FetchSettings, sel: &Selection) -> Result<Loaded, PipelineError> {
    let catalog = load_catalog(fetch)?;
    let fetcher = fetch.fetcher();
    load_with(&catalog, sel, |m| assets::fetch(m, &fetcher))
}

/// `load` on a catalog already loaded, with the selected modules' assets from `assets` (the operator
/// keeps both across reconciles; the command line loads once per run anyway).
pub fn load_with(
    catalog: &Catalog,
    sel: &Selection,
    assets: impl Fn(&Module) -> Result<Module, CatalogError>,
) -> Result<Loaded, PipelineError> {
    let modules = select(catalog, &sel.modules)?
        .into_iter()
        .map(assets)
        .collect::<Result<Vec<Module>, _>>()
        .map_err(catalog_error)?;
    let names: Vec<&str> = catalog.names().collect();
    let v = &sel.values;
    let inputs =
        ValueInputs::read(v.profile, &v.documents, &v.set, v.overrides.as_ref(), &names).map_err(input)?;
    let refs: Vec<&Module> = modules.iter().collect();
    let (values, locked) = crate::values::resolve_all(&inputs, &refs).map_err(input)?;
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

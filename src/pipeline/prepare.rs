//! A loaded selection, rendered for one set of cluster facts: render → guards → plan.

use std::collections::BTreeMap;

use super::{FetchSettings, Loaded, Selection};
use super::{PipelineError, input};
use crate::catalog::Module;
use crate::plan::Plan;
use crate::render::ClusterFacts;
use crate::values::Locked;

#[derive(Clone)]
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

/// Render a loaded selection for one set of cluster facts and plan it.
pub fn render(loaded: &Loaded, cluster: &ClusterFacts) -> Result<Prepared, PipelineError> {
    let refs: Vec<&Module> = loaded.modules.iter().collect();
    let mut rendered = crate::render::render_all(&refs, &loaded.values, cluster).map_err(input)?;
    let privileged = crate::privilege::check(&rendered, &loaded.allowances).map_err(input)?;
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
    fetch: &FetchSettings,
    sel: &Selection,
    cluster: &ClusterFacts,
) -> Result<Prepared, PipelineError> {
    render(&super::load(fetch, sel)?, cluster)
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

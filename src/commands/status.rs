//! `kyma status`: one line per module, then per module a summary of what is wrong — counted by problem,
//! the first three objects named — so 30 modules whose namespaces vanished say 30 short paragraphs, not
//! thousands of lines. Every object with `-v`; everything in `-o json`. `--check` makes it a CI gate.

use std::collections::BTreeMap;

use crate::action::inspect::{Drift, ModuleHealth, ModuleStatus};
use crate::cli::{GlobalArgs, StatusArgs};
use crate::engine::readiness::Health;
use crate::exit::{Exit, Failure};
use crate::front::Report;
use crate::report::table::Table;

/// How many objects a summary names per problem.
const NAMED: usize = 3;

pub async fn exec(global: GlobalArgs, args: StatusArgs) -> anyhow::Result<Exit> {
    let request = crate::front::requests::status(&args);
    let targets = crate::front::requests::targets(&args.cluster)?;
    super::fleet::run(
        &global,
        targets,
        args.cluster.cluster_concurrency,
        None,
        |target| {
            let (global, request) = (&global, &request);
            async move {
                let cluster = crate::cluster::connect_within(&target, request.wait_for_cluster).await?;
                let concurrency = request.concurrency as usize;
                let modules = crate::action::inspect::status(&cluster, &request.modules, concurrency)
                    .await
                    .map_err(|e| Failure::new(Exit::Unreachable, e))?;
                Ok(report(&modules, request.check, global.verbose))
            }
        },
    )
    .await
}

fn report(modules: &[ModuleStatus], check: bool, verbose: bool) -> Report {
    let mut report = Report {
        json: serde_json::json!({"modules": modules}),
        ..Default::default()
    };
    if modules.is_empty() {
        report.out("no modules installed by kyma on this cluster\n");
    }
    let mut t = Table::new(&["MODULE", "VERSION", "DEPLOYED", "OBJECTS", "HEALTH", "DRIFT"]);
    for m in modules {
        let drift = if m.drifted == 0 {
            "-".to_string()
        } else {
            format!("{} object(s)", m.drifted)
        };
        let deployed = if m.complete {
            m.deployed_at.clone()
        } else {
            format!("{} (incomplete)", m.deployed_at)
        };
        t.row(vec![
            m.name.clone(),
            m.version.clone(),
            deployed,
            format!("{}/{}", m.ready, m.objects),
            crate::report::style::state(m.health.as_str()),
            drift,
        ]);
    }
    report.out(t.render_within(crate::report::style::stdout_width()));
    for m in modules {
        for line in problems(m, verbose) {
            report.out(format!("{line}\n"));
        }
    }
    let healthy = modules
        .iter()
        .all(|m| m.health == ModuleHealth::Ready && m.drifted == 0);
    report.exit = if check && !healthy {
        Exit::ModuleFailed
    } else {
        Exit::Success
    };
    report
}

/// What is wrong with a module's objects: one line per kind of problem with a count and the first
/// objects, or (verbose) one line per object.
fn problems(m: &ModuleStatus, verbose: bool) -> Vec<String> {
    let mut by_problem: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for d in &m.details {
        let health = match &d.health {
            Health::Ready => None,
            Health::Warning(w) => Some(format!("ready, {w}")),
            Health::InProgress(r) => Some(format!("not ready: {r}")),
            Health::Failed(r) => Some(format!("failed: {r}")),
        };
        // A missing object is unhealthy and drifted at once: say it once.
        if d.drift == Some(Drift::Missing) {
            by_problem
                .entry("missing".to_string())
                .or_default()
                .push(&d.object);
            continue;
        }
        let drift = d.drift.as_ref().map(|x| format!("drift: {x}"));
        let problem = match (health, drift) {
            (None, None) => continue,
            (Some(h), Some(d)) => format!("{h}; {d}"),
            (Some(x), None) | (None, Some(x)) => x,
        };
        by_problem.entry(problem).or_default().push(&d.object);
    }
    let mut out = Vec::new();
    for (problem, objects) in by_problem {
        if verbose {
            out.extend(objects.iter().map(|o| format!("  {}: {o}: {problem}", m.name)));
            continue;
        }
        let named = objects[..objects.len().min(NAMED)].join(", ");
        let more = match objects.len().saturating_sub(NAMED) {
            0 => String::new(),
            n => format!(" and {n} more (-v lists them)"),
        };
        out.push(format!(
            "  {}: {} object(s) {problem}: {named}{more}",
            m.name,
            objects.len()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::inspect::ObjectStatus;

    fn object(name: &str, health: Health, drift: Option<Drift>) -> ObjectStatus {
        ObjectStatus {
            object: format!("ConfigMap/ns/{name}"),
            health,
            drift,
        }
    }

    #[test]
    fn problems_are_counted_and_the_first_three_named() {
        let mut details: Vec<ObjectStatus> = (0..95)
            .map(|i| {
                object(
                    &format!("c{i:02}"),
                    Health::Failed("missing".into()),
                    Some(Drift::Missing),
                )
            })
            .collect();
        details.push(object(
            "edited",
            Health::Ready,
            Some(Drift::ChangedBy(vec!["kubectl-edit".into()])),
        ));
        details.push(object("fine", Health::Ready, None));
        let m = ModuleStatus {
            name: "eventing".into(),
            version: "1.0.0".into(),
            deployed_at: String::new(),
            complete: true,
            objects: details.len(),
            ready: 2,
            health: ModuleHealth::Failed,
            drifted: 96,
            details,
        };
        assert_eq!(
            problems(&m, false),
            vec![
                "  eventing: 1 object(s) drift: changed by kubectl-edit: ConfigMap/ns/edited",
                "  eventing: 95 object(s) missing: ConfigMap/ns/c00, ConfigMap/ns/c01, ConfigMap/ns/c02 and 92 more (-v lists them)",
            ]
        );
        assert_eq!(problems(&m, true).len(), 96, "verbose: one line per object");
    }
}

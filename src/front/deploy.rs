//! One cluster's deploy, reported: connect, render with the cluster's facts, run the deploy action,
//! and turn its result into that cluster's `Report`. The command line runs it per cluster, the
//! operator per `Kyma` object.

use std::borrow::Cow;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::Report;
use crate::action::deploy::run;
use crate::action::request::DeployRequest;
use crate::cli::OutputFormat;
use crate::cluster::{Cluster, Target};
use crate::engine::Event;
use crate::exit::Failure;
use crate::pipeline::{Loaded, Prepared};

/// Where one cluster's deploy goes and how it is reported: the fleet runner's target, the output
/// format, and whether notes go to stderr at once (one cluster) or into the report (several, or the
/// operator).
#[derive(Clone, Copy)]
pub struct Destination<'a> {
    pub target: &'a Target,
    pub output: OutputFormat,
    pub immediate: bool,
}

/// One cluster's deploy of a loaded selection: connect, render with the cluster's facts, deploy,
/// report. The command line runs it per cluster; the operator per `Kyma` object.
pub async fn deploy_to(
    request: &DeployRequest,
    loaded: &Loaded,
    to: Destination<'_>,
    events: mpsc::UnboundedSender<Event>,
    cancel: CancellationToken,
) -> Result<Report, Failure> {
    let cluster = crate::cluster::connect_within(to.target, request.connect_window()).await?;
    let facts = crate::cluster::facts::read(&cluster, loaded.uses_network_facts()).await;
    let prepared = crate::pipeline::render(loaded, &facts)?;
    deploy_prepared(&cluster, request, Arc::new(prepared), to, events, cancel).await
}

/// One cluster's deploy of a selection rendered for it, on a connection already made (the operator
/// keeps both across reconciles). A render held only here is handed to the deploy to change as it
/// applies; one the operator keeps for its next reconciles is only read (copied if anything is applied).
pub async fn deploy_prepared(
    cluster: &Cluster,
    request: &DeployRequest,
    mut prepared: Arc<Prepared>,
    to: Destination<'_>,
    events: mpsc::UnboundedSender<Event>,
    cancel: CancellationToken,
) -> Result<Report, Failure> {
    let mut report = Report::new(to.immediate);
    for w in crate::pipeline::warning_lines(&prepared) {
        report.warn(&w);
    }

    let opts = request.options(prepared.refused.clone());
    let owned = Arc::get_mut(&mut prepared).map(|p| std::mem::take(&mut p.plan));
    let plan = match owned {
        Some(plan) => Cow::Owned(plan),
        None => Cow::Borrowed(&prepared.plan),
    };
    let result = run(cluster, plan, &prepared.values, &opts, events, cancel)
        .await
        .map_err(Failure::from)?;
    for w in &result.warnings {
        report.warn(w);
    }
    report.exit = crate::report::summary::exit_code(&result.outcome);
    report.json = crate::report::summary::json_doc(
        &result.outcome,
        serde_json::json!({
            "context": cluster.context,
            "server": cluster.server,
            "dryRun": request.dry_run,
            "lockedValues": prepared.locked,
            "versionChanges": result.changes,
            "pruned": result.pruned,
        }),
    );
    if to.output == OutputFormat::Table {
        table_notes(&mut report, &result, request.dry_run);
    }
    Ok(report)
}

/// The table output's notes (version changes, what was pruned or kept) and the summary table.
fn table_notes(report: &mut Report, result: &crate::action::deploy::DeployResult, dry_run: bool) {
    for c in &result.changes {
        if let Some(from) = &c.from {
            report.note(format!(
                "{} {from} → {}{}",
                c.module,
                c.to,
                if c.downgrade { " (downgrade)" } else { "" }
            ));
        }
    }
    for (module, pruned) in &result.pruned {
        for d in &pruned.deleted {
            report.note(format!("{module}: pruned {d}"));
        }
        for (o, why) in pruned.kept.iter().chain(pruned.stuck.iter()) {
            report.note(format!("{module}: kept {o}: {why}"));
        }
        for (o, why) in &pruned.refused {
            report.note(format!("{module}: not pruned {o}: {why} (still recorded)"));
        }
    }
    if dry_run {
        report.note("dry run: nothing was persisted");
    }
    report.out(crate::report::summary::table(
        &result.outcome,
        crate::report::style::stdout_width(),
    ));
}

//! `kyma deploy`: render offline (all bad input is found here), then for each cluster: connect,
//! render with its facts, deploy, report.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::fleet::Report;
use crate::action::deploy::{DeployOptions, run};
use crate::cli::{DeployArgs, GlobalArgs, OutputFormat};
use crate::cluster::Target;
use crate::engine::Event;
use crate::exit::{Exit, Failure};
use crate::pipeline::Loaded;
use crate::render::ClusterFacts;

pub async fn exec(global: GlobalArgs, args: DeployArgs) -> anyhow::Result<Exit> {
    // Everything the user gave is checked (assets fetched once, templates rendered offline) before any
    // cluster is contacted.
    let loaded = crate::pipeline::load(&global, &args.selection)?;
    crate::pipeline::render(&global, &loaded, &ClusterFacts::default())?;
    let targets = super::fleet::targets(&args.cluster)?;
    let several = targets.len() > 1;

    // One consumer for every cluster's events: bars and lines then never fight over the terminal.
    let (tx, rx) = mpsc::unbounded_channel();
    let live = crate::report::live::LiveOptions {
        tty: crate::report::style::stderr_is_tty(),
        ndjson: args.events.is_some(),
        verbose: global.verbose,
    };
    let consumer = tokio::spawn(crate::report::live::consume(rx, live));
    let cancel = super::signals::cancel_on_signal();
    let limit = args.cluster.cluster_concurrency;
    let exit = super::fleet::run(&global, targets, limit, |target| {
        let events = tx.clone();
        let (global, args, loaded, cancel) = (&global, &args, &loaded, cancel.clone());
        async move {
            // Several clusters: each cluster's events carry its name (`cluster/module`).
            let (cluster_tx, mut cluster_rx) = mpsc::unbounded_channel::<Event>();
            let label = several.then(|| target.label.clone());
            let forward = tokio::spawn(async move {
                while let Some(ev) = cluster_rx.recv().await {
                    let ev = match &label {
                        Some(l) => ev.in_cluster(l),
                        None => ev,
                    };
                    let _ = events.send(ev);
                }
            });
            let report = deploy_to(global, args, loaded, &target, !several, cluster_tx, cancel).await;
            let _ = forward.await;
            report
        }
    })
    .await;
    drop(tx);
    let _ = consumer.await;
    let exit = exit?;
    if exit == Exit::Interrupted {
        return Err(Failure::new(
            Exit::Interrupted,
            anyhow::anyhow!("interrupted; the report shows what was applied"),
        )
        .into());
    }
    Ok(exit)
}

pub(crate) async fn deploy_to(
    global: &GlobalArgs,
    args: &DeployArgs,
    loaded: &Loaded,
    target: &Target,
    immediate: bool,
    events: mpsc::UnboundedSender<Event>,
    cancel: CancellationToken,
) -> Result<Report, Failure> {
    let cluster =
        crate::cluster::connect_within(target, args.cluster.wait_for_cluster.min(args.timeout)).await?;
    let facts = crate::cluster::facts::read(&cluster, loaded.uses_network_facts()).await;
    let mut prepared = crate::pipeline::render(global, loaded, &facts)?;
    let mut report = Report::new(immediate);
    for w in crate::pipeline::warning_lines(&prepared) {
        report.warn(&w);
    }

    let opts = DeployOptions {
        settings: crate::engine::Settings {
            concurrency: args.concurrency as usize,
            timeout: args.timeout,
            wait: !args.no_wait,
            dry_run: args.dry_run,
            force_conflicts: args.force_conflicts,
            status_grace: args.status_grace,
            error_grace: args.error_grace,
            force_replace: args.force_replace,
        },
        adopt: args.adopt,
        allow_empty: args.allow_empty,
        prune_crds: args.prune_crds,
        reapply: args.reapply,
        wait_for_lock: crate::store::lock::LockWait::from_flag(args.wait_for_lock, args.timeout),
        refused: prepared.refused.clone(),
    };
    let result = run(
        &cluster,
        &mut prepared.plan,
        &prepared.values,
        &opts,
        events,
        cancel,
    )
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
            "dryRun": args.dry_run,
            "lockedValues": prepared.locked,
            "versionChanges": result.changes,
            "pruned": result.pruned,
        }),
    );
    if global.output == OutputFormat::Table {
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
        if args.dry_run {
            report.note("dry run: nothing was persisted");
        }
        report.out(crate::report::summary::table(
            &result.outcome,
            crate::report::style::stdout_width(),
        ));
    }
    Ok(report)
}

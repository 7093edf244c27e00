//! `kyma deploy`: render offline (all bad input is found here), connect, deploy, report.

use tokio::sync::mpsc;

use crate::action::deploy::{DeployOptions, run};
use crate::cli::{DeployArgs, GlobalArgs, OutputFormat};
use crate::exit::{Exit, Failure};
use crate::render::ClusterFacts;

pub async fn exec(global: GlobalArgs, args: DeployArgs) -> anyhow::Result<Exit> {
    // Everything the user gave is checked (assets fetched once, templates rendered offline) before the
    // cluster is contacted.
    let loaded = super::pipeline::load(&global, &args.selection)?;
    super::pipeline::render(&global, &loaded, &ClusterFacts::default())?;
    let cluster =
        super::cluster::connect_within(&args.cluster, args.cluster.wait_for_cluster.min(args.timeout))
            .await?;
    let facts = super::cluster::facts(&cluster).await;
    let mut prepared = super::pipeline::render(&global, &loaded, &facts)?;
    super::pipeline::print_warnings(&prepared);

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
        wait_for_lock: args.wait_for_lock,
        refused: prepared.refused.clone(),
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let live = crate::report::live::LiveOptions {
        tty: crate::report::style::stderr_is_tty(),
        ndjson: args.events.is_some(),
        verbose: global.verbose,
    };
    let consumer = tokio::spawn(crate::report::live::consume(rx, live));
    let cancel = super::signals::cancel_on_signal();
    let result = run(&cluster, &mut prepared.plan, &prepared.values, &opts, tx, cancel).await;
    let _ = consumer.await;
    let result = result.map_err(Failure::from)?;
    for w in &result.warnings {
        crate::report::style::warn(w);
    }
    let exit = crate::report::summary::exit_code(&result.outcome);
    match global.output {
        OutputFormat::Json => {
            let extra = serde_json::json!({
                "context": cluster.context,
                "server": cluster.server,
                "dryRun": args.dry_run,
                "lockedValues": prepared.locked,
                "versionChanges": result.changes,
                "pruned": result.pruned,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::report::summary::json_doc(&result.outcome, extra))?
            );
        }
        OutputFormat::Table => {
            for c in &result.changes {
                if let Some(from) = &c.from {
                    eprintln!(
                        "{} {from} → {}{}",
                        c.module,
                        c.to,
                        if c.downgrade { " (downgrade)" } else { "" }
                    );
                }
            }
            for (module, report) in &result.pruned {
                for d in &report.deleted {
                    eprintln!("{module}: pruned {d}");
                }
                for (o, why) in report.kept.iter().chain(report.stuck.iter()) {
                    eprintln!("{module}: kept {o}: {why}");
                }
            }
            if args.dry_run {
                eprintln!("dry run: nothing was persisted");
            }
            print!(
                "{}",
                crate::report::summary::table(&result.outcome, crate::report::style::stdout_width())
            );
        }
    }
    if exit == Exit::Interrupted {
        return Err(Failure::new(
            Exit::Interrupted,
            anyhow::anyhow!("interrupted; the report shows what was applied"),
        )
        .into());
    }
    Ok(exit)
}

//! `kyma deploy`: render offline (all bad input is found here), connect, apply in rounds, report.

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::cli::{DeployArgs, GlobalArgs, OutputFormat};
use crate::exit::{Exit, Failure};
use crate::render::ClusterFacts;

pub async fn exec(global: GlobalArgs, args: DeployArgs) -> anyhow::Result<Exit> {
    // Everything the user gave is checked before the cluster is contacted.
    super::pipeline::prepare(&global, &args.selection, &ClusterFacts::default())?;
    let cluster = super::cluster::connect(&args.cluster).await?;
    let facts = super::cluster::facts(&cluster).await;
    let mut prepared = super::pipeline::prepare(&global, &args.selection, &facts)?;
    super::pipeline::print_warnings(&prepared);

    let settings = crate::engine::Settings {
        concurrency: args.concurrency as usize,
        timeout: args.timeout,
        wait: !args.no_wait,
        dry_run: args.dry_run,
        force_conflicts: args.force_conflicts,
        status_grace: args.status_grace,
    };
    let (tx, rx) = mpsc::unbounded_channel();
    let live = crate::report::live::LiveOptions {
        tty: crate::report::style::stderr_is_tty(),
        ndjson: args.events.is_some(),
        quiet: false,
    };
    let consumer = tokio::spawn(crate::report::live::consume(rx, live));
    let cancel = CancellationToken::new();
    let on_signal = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_signal.cancel();
        }
    });
    let outcome = crate::engine::run(&cluster, &mut prepared.plan, settings, tx, cancel).await;
    let _ = consumer.await;

    let exit = crate::report::summary::exit_code(&outcome);
    match global.output {
        OutputFormat::Json => {
            let extra = serde_json::json!({
                "context": cluster.context,
                "server": cluster.server,
                "dryRun": args.dry_run,
                "lockedValues": prepared.locked,
            });
            println!("{}", serde_json::to_string_pretty(&crate::report::summary::json_doc(&outcome, extra))?);
        }
        OutputFormat::Table => {
            if args.dry_run {
                eprintln!("dry run: nothing was persisted");
            }
            print!("{}", crate::report::summary::table(&outcome));
        }
    }
    if exit == Exit::Interrupted {
        return Err(Failure::new(Exit::Interrupted, anyhow::anyhow!("interrupted; the table above shows what was applied")).into());
    }
    Ok(exit)
}

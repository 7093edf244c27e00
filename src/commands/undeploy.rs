//! `kyma undeploy`.

use crate::action::undeploy::{UndeployOptions, run};
use crate::cli::{GlobalArgs, OutputFormat, UndeployArgs};
use crate::exit::{Exit, Failure};

pub async fn exec(global: GlobalArgs, args: UndeployArgs) -> anyhow::Result<Exit> {
    let cluster =
        super::cluster::connect_within(&args.cluster, args.cluster.wait_for_cluster.min(args.timeout))
            .await?;
    let opts = UndeployOptions {
        modules: args.modules.clone(),
        all: args.all,
        force: args.force,
        prune_crds: args.prune_crds,
        remove_finalizers: args.remove_finalizers,
        timeout: args.timeout,
        wait_for_lock: args.wait_for_lock,
    };
    let cancel = super::signals::cancel_on_signal();
    let result = run(&cluster, &opts, cancel).await.map_err(Failure::from)?;
    for w in &result.warnings {
        crate::report::style::warn(w);
    }
    let exit = if result.complete() {
        Exit::Success
    } else {
        Exit::Timeout
    };
    match global.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"exitCode": exit.code(), "undeploy": result}))?
        ),
        OutputFormat::Table => {
            for (module, r) in &result.modules {
                let state = if r.stuck.is_empty() { "Removed" } else { "Stuck" };
                println!(
                    "{module}: {state} ({} deleted, {} kept, {} stuck)",
                    r.deleted.len(),
                    r.kept.len(),
                    r.stuck.len()
                );
                for (o, why) in &r.kept {
                    println!("  kept {o}: {why}");
                }
                for (o, why) in &r.stuck {
                    println!("  stuck {o}: {why}");
                }
            }
        }
    }
    Ok(exit)
}

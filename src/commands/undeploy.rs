//! `kyma undeploy`, on one cluster or several.

use crate::action::undeploy::run;
use crate::cli::{GlobalArgs, OutputFormat, UndeployArgs};
use crate::exit::{Exit, Failure};
use crate::front::Report;

pub async fn exec(global: GlobalArgs, args: UndeployArgs) -> anyhow::Result<Exit> {
    let request = crate::front::requests::undeploy(&args);
    let targets = crate::front::requests::targets(&args.cluster)?;
    let several = targets.len() > 1;
    let cancel = crate::front::signals::cancel_on_signal();
    let exit = super::fleet::run(
        &global,
        targets,
        args.cluster.cluster_concurrency,
        None,
        |target| {
            let (global, request, cancel) = (&global, &request, cancel.clone());
            async move {
                let cluster = crate::cluster::connect_within(&target, request.connect_window()).await?;
                let result = run(&cluster, request, cancel).await.map_err(Failure::from)?;
                let mut report = Report::new(!several);
                for w in &result.warnings {
                    report.warn(w);
                }
                // A refusal is the server's answer, not a wait that ran out: exit 4, as for credentials
                // it refuses.
                report.exit = if result.refused() {
                    Exit::Unreachable
                } else if result.complete() {
                    Exit::Success
                } else {
                    Exit::Timeout
                };
                report.json = serde_json::json!({"exitCode": report.exit.code(), "undeploy": result});
                for (module, r) in &result.modules {
                    for (o, why) in &r.refused {
                        report.note(format!(
                            "{} {module}: the server refused to delete {o}: {why}; it stays recorded",
                            crate::report::style::error_prefix()
                        ));
                    }
                }
                if global.output == OutputFormat::Table {
                    for (module, r) in &result.modules {
                        let state = if !r.refused.is_empty() {
                            "Refused"
                        } else if r.stuck.is_empty() {
                            "Removed"
                        } else {
                            "Stuck"
                        };
                        report.out(format!(
                            "{module}: {state} ({} deleted, {} kept, {} stuck, {} refused)\n",
                            r.deleted.len(),
                            r.kept.len(),
                            r.stuck.len(),
                            r.refused.len()
                        ));
                        for (o, why) in &r.refused {
                            report.out(format!("  refused {o}: {why}\n"));
                        }
                        for (o, why) in &r.kept {
                            report.out(format!("  kept {o}: {why}\n"));
                        }
                        for (o, why) in &r.stuck {
                            report.out(format!("  stuck {o}: {why}\n"));
                        }
                    }
                }
                Ok(report)
            }
        },
    )
    .await?;
    Ok(exit)
}

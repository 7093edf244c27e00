//! `kyma diff`: exit 0 no changes, 1 changes, 2 error, as diff(1) does.

use crate::action::inspect::DiffAction;
use crate::cli::{DiffArgs, GlobalArgs, OutputFormat};
use crate::exit::{Exit, Failure};
use crate::front::Report;
use crate::render::ClusterFacts;

pub async fn exec(global: GlobalArgs, args: DiffArgs) -> anyhow::Result<Exit> {
    // Everything the user gave is checked (assets fetched once, templates rendered offline) before any
    // cluster is contacted.
    let fetch = crate::front::requests::fetch(&global);
    let request = crate::front::requests::diff(&args);
    let loaded = crate::pipeline::load(&fetch, &request.selection)?;
    crate::pipeline::render(&loaded, &ClusterFacts::default())?;
    let targets = crate::front::requests::targets(&args.cluster)?;
    let several = targets.len() > 1;
    super::fleet::run(
        &global,
        targets,
        args.cluster.cluster_concurrency,
        None,
        |target| {
            let (global, request, loaded) = (&global, &request, &loaded);
            async move {
                // Any cluster problem is an error (2), never "changes" (1).
                let cluster = crate::cluster::connect_within(&target, request.wait_for_cluster)
                    .await
                    .map_err(|e| Failure::new(Exit::BadInput, e))?;
                let facts = crate::cluster::facts::read(&cluster, loaded.uses_network_facts()).await;
                let mut prepared = crate::pipeline::render(loaded, &facts)?;
                let mut report = Report::new(!several);
                for w in crate::pipeline::warning_lines(&prepared) {
                    report.warn(&w);
                }
                let diffs =
                    crate::action::inspect::diff(&cluster, &mut prepared.plan, request.concurrency as usize)
                        .await
                        .map_err(|e| Failure::new(Exit::BadInput, e))?;
                report.json = serde_json::json!({"changes": diffs});
                for d in &diffs {
                    match d.action {
                        DiffAction::Prune => {
                            report.out(format!("--- {}: {} would be pruned\n", d.module, d.object))
                        }
                        DiffAction::Error => report.out(format!(
                            "!!! {}: {} cannot be compared: {}",
                            d.module, d.object, d.diff
                        )),
                        DiffAction::Create => report.out(format!(
                            "+++ {}: {} would be created\n{}",
                            d.module, d.object, d.diff
                        )),
                        DiffAction::Update => {
                            report.out(format!("~~~ {}: {} would change\n{}", d.module, d.object, d.diff))
                        }
                    }
                }
                if diffs.is_empty() && global.output == OutputFormat::Table {
                    report.note("no changes");
                }
                report.exit = if diffs.iter().any(|d| d.action == DiffAction::Error) {
                    report.note(format!(
                        "{} some objects could not be compared (see above); the diff is incomplete",
                        crate::report::style::error_prefix()
                    ));
                    Exit::BadInput
                } else if diffs.is_empty() {
                    Exit::Success
                } else {
                    Exit::ModuleFailed
                };
                Ok(report)
            }
        },
    )
    .await
}

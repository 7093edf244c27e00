//! `kyma diff`: exit 0 no changes, 1 changes, 2 error, as diff(1) does.

use crate::action::inspect::DiffAction;
use crate::cli::{DiffArgs, GlobalArgs, OutputFormat};
use crate::exit::{Exit, Failure};
use crate::render::ClusterFacts;

pub async fn exec(global: GlobalArgs, args: DiffArgs) -> anyhow::Result<Exit> {
    // Everything the user gave is checked (assets fetched once, templates rendered offline) before the
    // cluster is contacted.
    let loaded = super::pipeline::load(&global, &args.selection)?;
    super::pipeline::render(&global, &loaded, &ClusterFacts::default())?;
    // Any cluster problem is an error (2), never "changes" (1).
    let cluster = super::cluster::connect(&args.cluster)
        .await
        .map_err(|f| Failure::new(Exit::BadInput, f.error))?;
    let facts = super::cluster::facts(&cluster).await;
    let mut prepared = super::pipeline::render(&global, &loaded, &facts)?;
    super::pipeline::print_warnings(&prepared);
    let diffs = crate::action::inspect::diff(&cluster, &mut prepared.plan)
        .await
        .map_err(|e| Failure::new(Exit::BadInput, e))?;
    match global.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"changes": diffs}))?
        ),
        OutputFormat::Table => {
            for d in &diffs {
                match d.action {
                    DiffAction::Prune => println!("--- {}: {} would be pruned", d.module, d.object),
                    DiffAction::Error => {
                        print!("!!! {}: {} cannot be compared: {}", d.module, d.object, d.diff)
                    }
                    DiffAction::Create => {
                        print!("+++ {}: {} would be created\n{}", d.module, d.object, d.diff)
                    }
                    DiffAction::Update => print!("~~~ {}: {} would change\n{}", d.module, d.object, d.diff),
                }
            }
            if diffs.is_empty() {
                eprintln!("no changes");
            }
        }
    }
    if diffs.iter().any(|d| d.action == DiffAction::Error) {
        return Err(Failure::new(
            Exit::BadInput,
            anyhow::anyhow!("some objects could not be compared (see above); the diff is incomplete"),
        )
        .into());
    }
    Ok(if diffs.is_empty() {
        Exit::Success
    } else {
        Exit::ModuleFailed
    })
}

//! `kyma status`.

use crate::cli::{GlobalArgs, OutputFormat, StatusArgs};
use crate::exit::{Exit, Failure};
use crate::report::table::Table;

pub async fn exec(global: GlobalArgs, args: StatusArgs) -> anyhow::Result<Exit> {
    let cluster = super::cluster::connect(&args.cluster).await?;
    let modules = crate::action::inspect::status(&cluster, &args.modules)
        .await
        .map_err(|e| Failure::new(Exit::Unreachable, e))?;
    match global.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"modules": modules}))?
        ),
        OutputFormat::Table => {
            if modules.is_empty() {
                println!("no modules installed by kyma on this cluster");
            }
            let mut t = Table::new(&["MODULE", "VERSION", "DEPLOYED", "OBJECTS", "HEALTH", "DRIFT"]);
            for m in &modules {
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
                    crate::report::style::state(&m.health),
                    drift,
                ]);
            }
            print!("{}", t.render());
            for m in &modules {
                for d in m.details.iter().filter(|d| {
                    d.drift.is_some()
                        || !d.health.is_ready()
                        || matches!(d.health, crate::engine::readiness::Health::Warning(_))
                }) {
                    let health = match &d.health {
                        crate::engine::readiness::Health::Ready => "ready".to_string(),
                        crate::engine::readiness::Health::Warning(w) => format!("ready, {w}"),
                        crate::engine::readiness::Health::InProgress(r) => format!("not ready: {r}"),
                        crate::engine::readiness::Health::Failed(r) => format!("failed: {r}"),
                    };
                    println!(
                        "  {}: {}: {health}{}",
                        m.name,
                        d.object,
                        d.drift
                            .as_ref()
                            .map(|x| format!("; drift: {x}"))
                            .unwrap_or_default()
                    );
                }
            }
        }
    }
    Ok(Exit::Success)
}

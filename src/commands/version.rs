//! `kyma version`.

use serde_json::json;

use crate::cli::{GlobalArgs, OutputFormat};

pub fn exec(global: &GlobalArgs) -> anyhow::Result<()> {
    let catalog = crate::catalog::source::builtin();
    let modules: Vec<(String, String)> = catalog
        .all_default()
        .into_iter()
        .map(|m| {
            (
                m.name.clone(),
                catalog
                    .versions(&m.name)
                    .unwrap()
                    .keys()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        })
        .collect();
    match global.output {
        OutputFormat::Json => {
            let doc = json!({
                "version": crate::version::VERSION,
                "commit": crate::version::COMMIT,
                "target": crate::version::TARGET,
                "builtinModules": modules.iter().map(|(n, v)| json!({"name": n, "versions": v.split(", ").collect::<Vec<_>>()})).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        OutputFormat::Table => {
            println!("kyma {}", crate::version::VERSION);
            println!("commit: {}", crate::version::COMMIT);
            println!("target: {}", crate::version::TARGET);
            println!("built-in modules:");
            for (n, v) in modules {
                println!("  {n:<14} {v}");
            }
        }
    }
    Ok(())
}

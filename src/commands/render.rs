//! `kyma render`: the offline pipeline, printed as multi-document YAML.

use crate::cli::{GlobalArgs, RenderArgs};
use crate::exit::Failure;
use crate::render::ClusterFacts;

pub fn exec(global: &GlobalArgs, args: &RenderArgs) -> anyhow::Result<()> {
    let fetch = crate::front::requests::fetch(global);
    let selection = crate::front::requests::selection(&args.selection);
    let prepared = crate::pipeline::prepare(&fetch, &selection, &ClusterFacts::default())?;
    for w in crate::pipeline::warning_lines(&prepared) {
        crate::report::style::warn(&w);
    }
    let plan = &prepared.plan;
    let mut all = String::new();
    for (m, idx) in crate::plan::ordered_for_output(plan) {
        let module = &plan.modules[m];
        let mut text = String::new();
        for i in idx {
            let o = &plan.nodes[i].object;
            text.push_str(&format!("---\n# Source: {}\n", o.origin.file));
            text.push_str(&crate::yaml::to_string(&o.data));
        }
        match &args.output_dir {
            Some(dir) => crate::pipeline::write_file(&dir.join(format!("{}.yaml", module.name)), &text)
                .map_err(|e| Failure::new(crate::exit::Exit::BadInput, e))?,
            None => all.push_str(&text),
        }
    }
    if args.output_dir.is_none() {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        // A closed pipe (`kyma render | head`) is not an error worth reporting.
        let _ = out.write_all(all.as_bytes());
    }
    Ok(())
}

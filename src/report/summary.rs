//! The final word of a deploy: a table for people or one JSON document for machines, and the exit
//! code that matches it.

use serde_json::json;

use crate::engine::{ModuleState, Outcome};
use crate::exit::Exit;
use crate::report::table::Table;

pub fn exit_code(o: &Outcome) -> Exit {
    if o.modules.iter().any(|m| m.state == ModuleState::Failed) {
        Exit::ModuleFailed
    } else if o.interrupted {
        Exit::Interrupted
    } else if o.timed_out {
        Exit::Timeout
    } else {
        Exit::Success
    }
}

pub fn table(o: &Outcome) -> String {
    let mut t = Table::new(&[
        "MODULE", "VERSION", "STATE", "OBJECTS", "ROUNDS", "DURATION", "BLOCKING",
    ]);
    for m in &o.modules {
        let blocking = m
            .blocking
            .first()
            .map(|b| format!("{}: {} [{}]", b.object, b.reason, b.origin))
            .unwrap_or_default();
        t.row(vec![
            m.name.clone(),
            m.version.clone(),
            crate::report::style::state(m.state.as_str()),
            format!(
                "{}/{}",
                if matches!(m.state, ModuleState::Applied) {
                    m.applied
                } else {
                    m.ready
                },
                m.total
            ),
            m.rounds.to_string(),
            format!("{:.1}s", m.duration_ms as f64 / 1000.0),
            blocking,
        ]);
    }
    let mut out = t.render();
    for m in &o.modules {
        for r in &m.replaced {
            out.push_str(&format!(
                "\n{}: replaced {r} (deleted and recreated: an immutable field changed)\n",
                m.name
            ));
        }
    }
    for m in o.modules.iter().filter(|m| !m.warnings.is_empty()) {
        for w in &m.warnings {
            out.push_str(&format!(
                "\n{} is Ready with a warning: {}: {}\n",
                m.name, w.object, w.reason
            ));
        }
    }
    for m in o.modules.iter().filter(|m| m.blocking.len() > 1) {
        out.push_str(&format!("\n{} is held back by:\n", m.name));
        for b in &m.blocking {
            out.push_str(&format!("  {}: {} [{}]\n", b.object, b.reason, b.origin));
        }
    }
    out
}

pub fn json_doc(o: &Outcome, extra: serde_json::Value) -> serde_json::Value {
    let mut doc = json!({
        "exitCode": exit_code(o).code(),
        "timedOut": o.timed_out,
        "interrupted": o.interrupted,
        "modules": o.modules,
    });
    if let (Some(d), Some(e)) = (doc.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    doc
}

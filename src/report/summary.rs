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

/// The final table. `width` is the terminal's when stdout is one: the table then fits it, and what
/// holds each module back is listed below it, wrapped under the module. Without a width (a pipe, a CI
/// log) every cell keeps its full text.
pub fn table(o: &Outcome, width: Option<usize>) -> String {
    let mut t = Table::new(&[
        "MODULE", "VERSION", "STATE", "OBJECTS", "ROUNDS", "DURATION", "BLOCKING",
    ]);
    for m in &o.modules {
        let blocking = match (m.blocking.first(), width) {
            (None, _) => String::new(),
            (Some(b), Some(_)) if m.blocking.len() > 1 => {
                format!("{} (+{} more, below)", b.object, m.blocking.len() - 1)
            }
            (Some(b), Some(_)) => format!("{} (below)", b.object),
            (Some(b), None) => format!("{}: {} [{}]", b.object, b.reason, b.origin),
        };
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
    let mut out = t.render_within(width);
    for m in &o.modules {
        for r in &m.replaced {
            out.push_str(&format!(
                "\n{}: replaced {r} (deleted and recreated: an immutable field changed)\n",
                m.name
            ));
        }
    }
    for m in &o.modules {
        for r in &m.restored {
            out.push_str(&format!("\n{}: restored {} (it {})\n", m.name, r.object, r.drift));
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
    let listed = |m: &&crate::engine::ModuleResult| match width {
        Some(_) => !m.blocking.is_empty(),
        None => m.blocking.len() > 1,
    };
    for m in o.modules.iter().filter(listed) {
        out.push_str(&format!("\n{} is held back by:\n", m.name));
        for b in &m.blocking {
            let line = format!("{}: {} [{}]", b.object, b.reason, b.origin);
            match width {
                Some(w) => {
                    let opts = textwrap::Options::new(w.max(20))
                        .initial_indent("  ")
                        .subsequent_indent("      ");
                    for l in textwrap::wrap(&line, opts) {
                        out.push_str(&l);
                        out.push('\n');
                    }
                }
                None => out.push_str(&format!("  {line}\n")),
            }
        }
    }
    if !o.unreachable.is_none() {
        out.push_str(&format!(
            "\nthe cluster was unreachable for {:.1} s ({} outage(s)); every object was retried until it answered\n",
            o.unreachable.seconds, o.unreachable.outages
        ));
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
    if !o.unreachable.is_none() {
        doc["unreachable"] = json!(o.unreachable);
    }
    if let (Some(d), Some(e)) = (doc.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    doc
}

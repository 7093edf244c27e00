//! Live progress from the engine's event stream: indicatif bars on a TTY, one plain line per state
//! change elsewhere, ndjson on request. Runs as its own task until the stream closes.

use std::collections::HashMap;
use std::io::Write;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc;

use crate::engine::Event;

#[derive(Debug, Clone, Copy)]
pub struct LiveOptions {
    /// Bars on stderr (a TTY), else plain lines on stderr.
    pub tty: bool,
    /// Also stream every event as one JSON line on stdout.
    pub ndjson: bool,
    /// Suppress human progress entirely (e.g. `-o json` off a TTY keeps stderr quiet but for problems).
    pub quiet: bool,
}

/// Consume events until the sender is dropped.
pub async fn consume(mut rx: mpsc::UnboundedReceiver<Event>, opts: LiveOptions) {
    let multi = MultiProgress::with_draw_target(if opts.tty && !opts.quiet {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let style = ProgressStyle::with_template("{prefix:>14} [{bar:30}] {pos}/{len} {msg}")
        .expect("static template")
        .progress_chars("=> ");
    let mut bars: HashMap<String, ProgressBar> = HashMap::new();
    while let Some(ev) = rx.recv().await {
        if opts.ndjson {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", serde_json::to_string(&ev).unwrap_or_default());
        }
        if opts.quiet {
            continue;
        }
        if opts.tty {
            draw(&multi, &style, &mut bars, &ev);
        } else if let Some(line) = plain_line(&ev) {
            eprintln!("{line}");
        }
    }
    for b in bars.values() {
        if !b.is_finished() {
            b.abandon();
        }
    }
}

fn draw(multi: &MultiProgress, style: &ProgressStyle, bars: &mut HashMap<String, ProgressBar>, ev: &Event) {
    match ev {
        Event::ModuleStarted { module, objects, .. } => {
            let b = multi.add(ProgressBar::new(*objects as u64));
            b.set_style(style.clone());
            b.set_prefix(module.clone());
            b.set_message("applying");
            bars.insert(module.clone(), b);
        }
        Event::ObjectApplied { module, attempt, .. } => {
            if let Some(b) = bars.get(module) {
                b.inc(1);
                b.set_message(format!("applying (round {attempt})"));
            }
        }
        Event::ObjectRetry {
            module,
            object,
            class,
            attempt,
            ..
        } => {
            if let Some(b) = bars.get(module) {
                b.set_message(format!(
                    "round {}: {object} {}",
                    attempt + 1,
                    serde_json::to_string(class).unwrap_or_default().trim_matches('"')
                ));
            }
        }
        Event::ObjectWaiting {
            module,
            object,
            reason,
        } => {
            if let Some(b) = bars.get(module) {
                b.set_message(format!("waiting: {object}: {reason}"));
            }
        }
        Event::ObjectFailed {
            module,
            object,
            message,
            ..
        } => {
            if let Some(b) = bars.get(module) {
                b.set_message(format!("failed: {object}: {message}"));
            }
        }
        Event::ObjectReplacing { module, object, .. } => {
            if let Some(b) = bars.get(module) {
                b.set_message(format!("replacing {object}"));
            }
        }
        Event::ObjectReady { .. } => {}
        Event::ModuleFinished { module, state, .. } => {
            if let Some(b) = bars.get(module) {
                b.finish_with_message(crate::report::style::state(state.as_str()));
            }
        }
    }
}

/// Off a TTY: one line per state change, none per object applied (a CI log is read, not watched).
fn plain_line(ev: &Event) -> Option<String> {
    match ev {
        Event::ModuleStarted {
            module,
            version,
            objects,
        } => Some(format!("{module}: started ({version}, {objects} objects)")),
        Event::ObjectRetry {
            module,
            object,
            class,
            message,
            attempt,
            delay_ms,
        } => Some(format!(
            "{module}: {object}: retry {attempt} in {delay_ms} ms ({}): {message}",
            serde_json::to_string(class).unwrap_or_default().trim_matches('"')
        )),
        Event::ObjectFailed {
            module,
            object,
            message,
            origin,
        } => Some(format!("{module}: {object}: FAILED: {message} [{origin}]")),
        Event::ObjectWaiting {
            module,
            object,
            reason,
        } => Some(format!("{module}: {object}: waiting: {reason}")),
        Event::ObjectReplacing {
            module,
            object,
            reason,
        } => Some(format!(
            "{module}: {object}: deleting and recreating it: {reason}"
        )),
        Event::ModuleFinished {
            module,
            state,
            ready,
            total,
            rounds,
        } => Some(format!(
            "{module}: {} ({ready}/{total} ready, {rounds} round(s))",
            state.as_str()
        )),
        Event::ObjectApplied { .. } | Event::ObjectReady { .. } => None,
    }
}

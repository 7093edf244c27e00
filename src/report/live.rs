//! Live progress from the engine's event stream: indicatif bars on a TTY, plain lines elsewhere, ndjson
//! on request. Runs as its own task until the stream closes.
//!
//! Retries are many and alike (an outage makes every object retry): off a TTY they are gathered per
//! module and retry class and said once a second ("api-gateway: 812 objects waiting: no answer: …"),
//! each on its own line only with `-v`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc;

use crate::cluster::classify::RetryClass;
use crate::engine::Event;

#[derive(Debug, Clone, Copy)]
pub struct LiveOptions {
    /// Bars on stderr (a TTY), else plain lines on stderr.
    pub tty: bool,
    /// Also stream every event as one JSON line on stdout.
    pub ndjson: bool,
    /// One line per object retry instead of one per module and class.
    pub verbose: bool,
    /// Neither bars nor lines, ndjson only: a fleet's one bar stands in for them (many clusters on a
    /// TTY).
    pub quiet: bool,
}

/// Counts a bar shows for its module.
#[derive(Default)]
struct Progress {
    applied: usize,
    ready: usize,
    total: usize,
    status: String,
}

impl Progress {
    fn message(&self) -> String {
        format!(
            "applied {}/{} · ready {}/{} · {}",
            self.applied, self.total, self.ready, self.total, self.status
        )
    }
}

/// Retries gathered since the last flush: per (module, class), the objects and one message.
#[derive(Default)]
struct Retries {
    pending: BTreeMap<(String, RetryClass), (BTreeSet<String>, String, u64)>,
}

impl Retries {
    fn add(&mut self, module: &str, class: RetryClass, object: &str, message: &str, delay_ms: u64) {
        let e = self
            .pending
            .entry((module.to_string(), class))
            .or_insert_with(|| (BTreeSet::new(), message.to_string(), delay_ms));
        e.0.insert(object.to_string());
        e.2 = e.2.min(delay_ms);
    }

    fn flush(&mut self) -> Vec<String> {
        std::mem::take(&mut self.pending)
            .into_iter()
            .map(|((module, class), (objects, message, delay))| {
                let what = if objects.len() == 1 {
                    objects.into_iter().next().unwrap_or_default()
                } else {
                    format!("{} objects", objects.len())
                };
                format!(
                    "{module}: {what} waiting: {}: {message}; retrying in {:.1} s",
                    crate::engine::retry_label(class),
                    delay as f64 / 1000.0
                )
            })
            .collect()
    }
}

/// Consume events until the sender is dropped.
pub async fn consume(mut rx: mpsc::UnboundedReceiver<Event>, opts: LiveOptions) {
    let multi = MultiProgress::with_draw_target(if opts.tty {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    // `wide_msg` fills what the terminal has left and truncates: a bar never wraps onto a second line.
    // Below 100 columns the bar itself goes (the counts say the same) to leave room for the object.
    let wide = console::Term::stderr()
        .size_checked()
        .is_none_or(|(_, w)| w >= 100);
    let template = if wide {
        "{prefix:.bold} {elapsed:>4} [{bar:20}] {wide_msg}"
    } else {
        "{prefix:.bold} {elapsed:>4} {wide_msg}"
    };
    let style = ProgressStyle::with_template(template)
        .expect("static template")
        .progress_chars("=> ");
    let mut bars: HashMap<String, (ProgressBar, Progress)> = HashMap::new();
    let mut retries = Retries::default();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let started = Instant::now();
    loop {
        let ev = tokio::select! {
            ev = rx.recv() => match ev { Some(ev) => ev, None => break },
            _ = tick.tick() => {
                for line in retries.flush() {
                    eprintln!("{line}");
                }
                continue;
            }
        };
        if opts.ndjson {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{}", serde_json::to_string(&ev).unwrap_or_default());
        }
        if opts.quiet {
            continue;
        }
        if opts.tty {
            draw(&multi, &style, &mut bars, &ev);
            continue;
        }
        match &ev {
            Event::ObjectRetry {
                module,
                object,
                class,
                message,
                delay_ms,
                ..
            } if !opts.verbose => retries.add(module, *class, object, message, *delay_ms),
            // A module's own news follows what was gathered for it.
            _ => {
                for line in retries.flush() {
                    eprintln!("{line}");
                }
                if let Some(line) = plain_line(&ev, started) {
                    eprintln!("{line}");
                }
            }
        }
    }
    for line in retries.flush() {
        eprintln!("{line}");
    }
    for (b, _) in bars.values() {
        if !b.is_finished() {
            b.abandon();
        }
    }
}

fn draw(
    multi: &MultiProgress,
    style: &ProgressStyle,
    bars: &mut HashMap<String, (ProgressBar, Progress)>,
    ev: &Event,
) {
    let mut update = |module: &str, f: &mut dyn FnMut(&mut Progress)| {
        if let Some((b, p)) = bars.get_mut(module) {
            f(p);
            b.set_position(p.applied as u64);
            b.set_message(p.message());
        }
    };
    match ev {
        Event::ModuleStarted { module, objects, .. } => {
            let b = multi.add(ProgressBar::new(*objects as u64));
            b.set_style(style.clone());
            bars.insert(module.clone(), (b.clone(), Progress::default()));
            // Labels right-aligned to the longest one, so the bars line up.
            let width = bars
                .keys()
                .map(|m| bar_label(m).chars().count())
                .max()
                .unwrap_or(0);
            for (m, (bar, _)) in bars.iter() {
                bar.set_prefix(format!("{:>width$}", bar_label(m)));
            }
            b.enable_steady_tick(Duration::from_millis(500));
            let p = Progress {
                total: *objects,
                status: "applying".into(),
                ..Default::default()
            };
            b.set_message(p.message());
            bars.insert(module.clone(), (b, p));
        }
        Event::ObjectApplied { module, .. } => update(module, &mut |p| p.applied += 1),
        Event::ObjectReady { module, .. } => update(module, &mut |p| p.ready += 1),
        Event::ObjectRetry {
            module,
            object,
            class,
            message,
            ..
        } => update(module, &mut |p| {
            p.status = format!(
                "{}: {}: {message}",
                short(object),
                crate::engine::retry_label(*class)
            )
        }),
        Event::ObjectWaiting {
            module,
            object,
            reason,
        } => update(module, &mut |p| {
            p.status = format!("waiting: {}: {reason}", short(object))
        }),
        Event::ObjectFailed {
            module,
            object,
            message,
            ..
        } => update(module, &mut |p| {
            p.status = format!("failed: {}: {message}", short(object))
        }),
        Event::ObjectReplacing { module, object, .. } => {
            update(module, &mut |p| p.status = format!("replacing {object}"))
        }
        Event::WatchError {
            module,
            kind,
            namespace,
            message,
        } => update(module, &mut |p| {
            p.status = format!("{}: {message}", watch_what(kind, namespace.as_deref()))
        }),
        Event::ClusterUnreachable { .. } | Event::ClusterReachable { .. } => {
            if let Some(line) = outage_line(ev) {
                let _ = multi.println(line);
            }
        }
        Event::ModuleFinished {
            module,
            state,
            ready,
            total,
            rounds,
        } => {
            if let Some((b, _)) = bars.get(module) {
                b.finish_with_message(format!(
                    "{} · ready {ready}/{total} · {rounds} round(s)",
                    crate::report::style::state(state.as_str())
                ));
            }
        }
    }
}

/// An object as a bar names it: without the API group (`Deployment/ns/name`), which leaves room for the
/// name on a narrow terminal; reports and logs keep the full identity.
/// A bar's label: the module name (`cluster/module` with several clusters), cut short when long so the
/// bar keeps room for its news. The module part is kept whole where it fits: it is what a person looks
/// for; a long cluster name gives way first.
fn bar_label(module: &str) -> String {
    const MAX: usize = 24;
    fn cut(s: &str, n: usize) -> String {
        if s.chars().count() <= n {
            return s.to_string();
        }
        let head: String = s.chars().take(n.saturating_sub(1)).collect();
        format!("{head}…")
    }
    if module.chars().count() <= MAX {
        return module.to_string();
    }
    match module.rsplit_once('/') {
        Some((cluster, name)) if name.chars().count() + 3 <= MAX => {
            format!("{}/{name}", cut(cluster, MAX - 1 - name.chars().count()))
        }
        _ => cut(module, MAX),
    }
}

fn short(object: &str) -> String {
    match object.split_once('/') {
        Some((kind, rest)) => format!("{}/{rest}", kind.split('.').next().unwrap_or(kind)),
        None => object.to_string(),
    }
}

/// The start and end of an outage, said the same on a terminal and in a log.
fn outage_line(ev: &Event) -> Option<String> {
    match ev {
        Event::ClusterUnreachable { message } => Some(format!(
            "cluster unreachable: {message}; every object is retried until it answers (--timeout)"
        )),
        Event::ClusterReachable { after_ms } => Some(format!(
            "cluster reachable again after {:.1} s",
            *after_ms as f64 / 1000.0
        )),
        _ => None,
    }
}

/// `watching Deployment in ns failed` / `watching CustomResourceDefinition failed`.
fn watch_what(kind: &str, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("watching {kind} in {ns} failed"),
        None => format!("watching {kind} failed"),
    }
}

/// Off a TTY: one line per state change, none per object applied (a CI log is read, not watched).
fn plain_line(ev: &Event, started: Instant) -> Option<String> {
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
            crate::engine::retry_label(*class)
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
        Event::WatchError {
            module,
            kind,
            namespace,
            message,
        } => Some(format!(
            "{module}: {}: {message}; retrying with backoff",
            watch_what(kind, namespace.as_deref())
        )),
        Event::ClusterUnreachable { .. } | Event::ClusterReachable { .. } => outage_line(ev),
        Event::ModuleFinished {
            module,
            state,
            ready,
            total,
            rounds,
        } => Some(format!(
            "{module}: {} ({ready}/{total} ready, {rounds} round(s), {:.1} s)",
            state.as_str(),
            started.elapsed().as_secs_f64()
        )),
        Event::ObjectApplied { .. } | Event::ObjectReady { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_labels_keep_the_module_name() {
        assert_eq!(bar_label("istio"), "istio");
        assert_eq!(
            bar_label("observability-pipeline-with-a-long-name"),
            "observability-pipeline-…"
        );
        assert_eq!(
            bar_label("kyma-test-bed@/tmp/kyma-bench-fleet-1/kubeconfig/m01"),
            "kyma-test-bed@/tmp/…/m01"
        );
        assert_eq!(bar_label("prod-eu/api-gateway"), "prod-eu/api-gateway");
        assert!(bar_label("a-very-long-cluster-name/api-gateway").ends_with("…/api-gateway"));
    }

    #[test]
    fn bars_name_objects_without_their_group() {
        assert_eq!(short("Deployment.apps/ns/web"), "Deployment/ns/web");
        assert_eq!(short("ConfigMap/ns/c"), "ConfigMap/ns/c");
        assert_eq!(
            short("CustomResourceDefinition.apiextensions.k8s.io/x.y"),
            "CustomResourceDefinition/x.y"
        );
    }

    #[test]
    fn a_watch_error_names_its_kind_and_namespace() {
        let ev = Event::WatchError {
            module: "app".into(),
            kind: "Deployment".into(),
            namespace: Some("web".into()),
            message: "failed to perform initial object list: forbidden".into(),
        };
        assert_eq!(
            plain_line(&ev, Instant::now()).unwrap(),
            "app: watching Deployment in web failed: failed to perform initial object list: forbidden; retrying with backoff"
        );
        assert_eq!(
            serde_json::to_value(&ev).unwrap(),
            serde_json::json!({"event": "watchError", "module": "app", "kind": "Deployment", "namespace": "web",
                "message": "failed to perform initial object list: forbidden"})
        );
    }

    #[test]
    fn retries_are_gathered_per_module_and_class() {
        let mut r = Retries::default();
        for i in 0..812 {
            r.add(
                "api-gateway",
                RetryClass::Transport,
                &format!("ConfigMap/ns/c{i}"),
                "cannot reach https://127.0.0.1:6443 (context c): connection refused",
                1200 + i,
            );
        }
        r.add(
            "istio",
            RetryClass::KindNotServed,
            "Istio.operator.kyma-project.io/default",
            "not served",
            500,
        );
        let lines = r.flush();
        assert_eq!(
            lines,
            vec![
                "api-gateway: 812 objects waiting: no answer: cannot reach https://127.0.0.1:6443 (context c): connection refused; retrying in 1.2 s",
                "istio: Istio.operator.kyma-project.io/default waiting: kind not served yet: not served; retrying in 0.5 s",
            ]
        );
        assert!(r.flush().is_empty(), "a flush empties the gathering");
    }
}

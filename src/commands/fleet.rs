//! One command, several clusters: each target is worked on by the same single-cluster code, up to
//! `--cluster-concurrency` at once, and one cluster's failure never stops the others. Commands build a
//! `Report` per cluster instead of printing; this file prints them — as before for one cluster, in a
//! section per cluster with a summary line for several — and decides the exit code.

use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;
use serde_json::{Value, json};

use crate::cli::{GlobalArgs, OutputFormat};
use crate::cluster::Target;
use crate::exit::{Exit, Failure};
use crate::front::Report;
use crate::rollout::Plan;

/// The order in which a run over several clusters reports its exit code: the most serious wins.
/// Interrupted first (the person asked to stop), then a halted rollout (clusters were left out), then
/// bad input, a catalog that could not be had, an
/// unreachable or refusing cluster, a held lock, a timeout, a failed module, success.
const SEVERITY: [Exit; 9] = [
    Exit::Interrupted,
    Exit::Halted,
    Exit::BadInput,
    Exit::Fetch,
    Exit::Unreachable,
    Exit::Locked,
    Exit::Timeout,
    Exit::ModuleFailed,
    Exit::Success,
];

pub fn most_serious(codes: impl IntoIterator<Item = Exit>) -> Exit {
    let codes: Vec<Exit> = codes.into_iter().collect();
    SEVERITY
        .into_iter()
        .find(|s| codes.contains(s))
        .unwrap_or(Exit::Success)
}

/// Run `one` on every target and print what they did. One target: exactly the single-cluster output
/// (and its errors end the command as before). Several: every cluster is reported, whatever the others
/// did — in waves when a rollout is planned (each wave done before the next starts; past the failure
/// budget nothing more is started, and those clusters are reported as not started).
pub async fn run<F, Fut>(
    global: &GlobalArgs,
    targets: Vec<Target>,
    limit: u16,
    rollout: Option<Plan>,
    one: F,
) -> anyhow::Result<Exit>
where
    F: Fn(Target) -> Fut,
    Fut: std::future::Future<Output = Result<Report, Failure>>,
{
    if let [target] = targets.as_slice() {
        let r = one(target.clone()).await?;
        eprint!("{}", r.stderr);
        match global.output {
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&r.json)?),
            OutputFormat::Table => print!("{}", r.stdout),
        }
        return Ok(r.exit);
    }
    let bar = FleetBar::new(targets.len());
    let waves = rollout
        .as_ref()
        .map(|p| p.waves.clone())
        .unwrap_or_else(|| std::iter::once(0..targets.len()).collect());
    let budget = rollout.as_ref().map_or(usize::MAX, |p| p.max_failures);
    let failures = AtomicUsize::new(0);
    let mut done: Vec<(usize, Report)> = Vec::with_capacity(targets.len());
    let mut outcomes: Vec<WaveOutcome> = Vec::new();
    for (w, range) in waves.iter().enumerate() {
        let halted = failures.load(Ordering::Relaxed) > budget;
        if rollout.is_some() && !halted {
            bar.say(&format!(
                "wave {}/{}: {} ({} of {} clusters reached when it is done)",
                w + 1,
                waves.len(),
                plural(range.len(), "cluster"),
                range.end,
                targets.len()
            ));
        }
        let reports: Vec<(usize, Report)> = futures::stream::iter(range.clone())
            .map(|i| {
                let mut target = targets[i].clone();
                // Nothing but the bar writes to the terminal while it is drawn.
                target.say_waits &= bar.bar.is_none();
                let fut = one(target);
                let (bar, failures) = (&bar, &failures);
                async move {
                    // Past the budget nothing more starts, in this wave or after it.
                    if failures.load(Ordering::Relaxed) > budget {
                        let r = not_started();
                        bar.skipped();
                        return (i, r);
                    }
                    bar.started();
                    let report = fut.await.unwrap_or_else(|f| failed(&f));
                    if report.exit != Exit::Success {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                    bar.finished(report.exit);
                    (i, report)
                }
            })
            .buffer_unordered(limit.max(1) as usize)
            .collect()
            .await;
        outcomes.push(WaveOutcome::of(range.clone(), &reports));
        done.extend(reports);
    }
    bar.end();
    done.sort_by_key(|(i, _)| *i);
    let rollout_doc = rollout.as_ref().map(|p| rollout_json(p, &outcomes, &targets));
    let exit = most_serious(done.iter().map(|(_, r)| r.exit));
    for ((_, r), t) in done.iter().zip(&targets) {
        for line in r.stderr.lines() {
            eprintln!("{}: {line}", t.label);
        }
    }
    match global.output {
        OutputFormat::Json => {
            let clusters: Vec<Value> = done
                .iter()
                .zip(&targets)
                .map(|((_, r), t)| {
                    let mut doc = match &r.json {
                        Value::Object(_) => r.json.clone(),
                        _ => json!({}),
                    };
                    doc["cluster"] = json!(t.label);
                    doc["exitCode"] = json!(r.exit.code());
                    doc
                })
                .collect();
            let mut doc = json!({"exitCode": exit.code(), "clusters": clusters});
            if let Some(r) = rollout_doc {
                doc["rollout"] = r;
            }
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        OutputFormat::Table => {
            let reports: Vec<(&str, &Report)> = targets
                .iter()
                .map(|t| t.label.as_str())
                .zip(done.iter().map(|(_, r)| r))
                .collect();
            print!("{}", table(&reports, exit));
            if let Some(p) = &rollout {
                println!("{}", rollout_line(p, &outcomes));
            }
        }
    }
    Ok(exit)
}

/// How one wave went: its clusters, how many failed, how many were not started.
struct WaveOutcome {
    range: std::ops::Range<usize>,
    failed: usize,
    not_started: usize,
}

impl WaveOutcome {
    fn of(range: std::ops::Range<usize>, reports: &[(usize, Report)]) -> WaveOutcome {
        WaveOutcome {
            range,
            failed: reports
                .iter()
                .filter(|(_, r)| !matches!(r.exit, Exit::Success | Exit::Halted))
                .count(),
            not_started: reports.iter().filter(|(_, r)| r.exit == Exit::Halted).count(),
        }
    }
}

/// `rollout: wave 1 (1 cluster) ok; wave 2 (2 clusters) 1 failed; halted (1 failure, --max-failures 0): 27 clusters not started`
fn rollout_line(p: &Plan, outcomes: &[WaveOutcome]) -> String {
    let mut parts: Vec<String> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| o.not_started < o.range.len())
        .map(|(w, o)| {
            let what = match (o.failed, o.not_started) {
                (0, 0) => "ok".to_string(),
                (f, 0) => format!("{f} failed"),
                (f, n) => format!("{f} failed, {n} not started"),
            };
            format!("wave {} ({}) {what}", w + 1, plural(o.range.len(), "cluster"))
        })
        .collect();
    let failed: usize = outcomes.iter().map(|o| o.failed).sum();
    let not_started: usize = outcomes.iter().map(|o| o.not_started).sum();
    if not_started > 0 {
        parts.push(format!(
            "halted ({}, --max-failures {}): {} not started",
            plural(failed, "failure"),
            p.max_failures,
            plural(not_started, "cluster")
        ));
    }
    format!("rollout: {}", parts.join("; "))
}

fn rollout_json(p: &Plan, outcomes: &[WaveOutcome], targets: &[Target]) -> Value {
    let waves: Vec<Value> = outcomes
        .iter()
        .enumerate()
        .map(|(w, o)| {
            let state = if o.not_started == o.range.len() {
                "NotStarted"
            } else if o.failed > 0 || o.not_started > 0 {
                "Failed"
            } else {
                "Ready"
            };
            json!({"wave": w + 1, "state": state, "failed": o.failed, "notStarted": o.not_started,
                   "clusters": targets[o.range.clone()].iter().map(|t| t.label.as_str()).collect::<Vec<_>>()})
        })
        .collect();
    let not_started: usize = outcomes.iter().map(|o| o.not_started).sum();
    json!({"maxFailures": p.max_failures, "halted": not_started > 0, "notStarted": not_started, "waves": waves})
}

/// A cluster the rollout did not reach: no request was sent to it.
fn not_started() -> Report {
    Report {
        exit: Exit::Halted,
        json: json!({"state": "NotStarted", "notStarted": true}),
        stdout: "not started: the rollout halted before this cluster (nothing was applied)\n".into(),
        stderr: String::new(),
        immediate: false,
    }
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// Up to this many clusters, every cluster gets its section. Above, a fleet's summary fits one screen
/// (≤ 25 lines): the first `AT_SCALE` clusters that need attention get a section of at most
/// `AT_SCALE_LINES` lines, the rest are named.
const SECTIONS: usize = 10;
const AT_SCALE: usize = 2;
const AT_SCALE_LINES: usize = 6;
/// No summary line is wider than this.
const WIDTH: usize = 200;

/// Many clusters on a TTY get one bar for the fleet (done, failed, running) instead of a bar per
/// cluster and module.
pub fn fleet_bar_shown(clusters: usize) -> bool {
    clusters > SECTIONS && crate::report::style::stderr_is_tty()
}

/// The fleet's one bar; nothing when it is not shown.
struct FleetBar {
    bar: Option<indicatif::ProgressBar>,
    running: AtomicUsize,
    failed: AtomicUsize,
}

impl FleetBar {
    fn new(clusters: usize) -> FleetBar {
        let bar = fleet_bar_shown(clusters).then(|| {
            // `wide_msg` takes what is left of the terminal and truncates: the bar never wraps.
            let style = indicatif::ProgressStyle::with_template(
                "{elapsed:>4} [{bar:24}] {pos}/{len} clusters · {wide_msg}",
            )
            .expect("static template")
            .progress_chars("=> ");
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(clusters as u64),
                indicatif::ProgressDrawTarget::stderr(),
            );
            bar.set_style(style);
            bar.enable_steady_tick(std::time::Duration::from_secs(1));
            bar
        });
        FleetBar {
            bar,
            running: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
        }
    }

    fn started(&self) {
        self.running.fetch_add(1, Ordering::Relaxed);
        self.show();
    }

    /// A cluster the rollout did not start: done, and needing attention, never running.
    fn skipped(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        if let Some(b) = &self.bar {
            b.inc(1);
        }
        self.show();
    }

    fn finished(&self, exit: Exit) {
        self.running.fetch_sub(1, Ordering::Relaxed);
        if exit != Exit::Success {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(b) = &self.bar {
            b.inc(1);
        }
        self.show();
    }

    fn show(&self) {
        if let Some(b) = &self.bar {
            let done = b.position() as usize;
            let failed = self.failed.load(Ordering::Relaxed);
            b.set_message(format!(
                "{} ok · {failed} need attention · {} running",
                done - failed.min(done),
                self.running.load(Ordering::Relaxed)
            ));
        }
    }

    /// A line about the run (a wave starting): above the bar when there is one.
    fn say(&self, line: &str) {
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }

    fn end(&self) {
        if let Some(b) = &self.bar {
            b.finish();
        }
    }
}

/// The table for several clusters: sections, then counts by outcome and the clusters that need
/// attention, by name, on as many lines as they take (each at most `WIDTH` wide, at most three).
fn table(reports: &[(&str, &Report)], exit: Exit) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let attention: Vec<&(&str, &Report)> = reports.iter().filter(|(_, r)| r.exit != Exit::Success).collect();
    let at_scale = reports.len() > SECTIONS;
    let sections: Vec<&(&str, &Report)> = if at_scale {
        attention.iter().copied().take(AT_SCALE).collect()
    } else {
        reports.iter().collect()
    };
    for (label, r) in &sections {
        let _ = writeln!(out, "== {label} (exit {}: {}) ==", r.exit.code(), words(r.exit));
        let lines: Vec<&str> = r.stdout.lines().collect();
        if at_scale && lines.len() > AT_SCALE_LINES {
            for l in &lines[..AT_SCALE_LINES - 1] {
                let _ = writeln!(out, "{l}");
            }
            let _ = writeln!(
                out,
                "… {} more lines (--context {label})",
                lines.len() - (AT_SCALE_LINES - 1)
            );
        } else {
            out.push_str(&r.stdout);
            if !r.stdout.is_empty() && !r.stdout.ends_with('\n') {
                out.push('\n');
            }
        }
        out.push('\n');
    }
    if sections.len() < attention.len() {
        let _ = writeln!(
            out,
            "({} more clusters need attention; -o json has every cluster's report)\n",
            attention.len() - sections.len()
        );
    }
    let counts: Vec<String> = SEVERITY
        .iter()
        .rev()
        .filter_map(|e| {
            let n = reports.iter().filter(|(_, r)| r.exit == *e).count();
            (n > 0).then(|| format!("{n} {}", words(*e)))
        })
        .collect();
    let _ = writeln!(
        out,
        "{} clusters: {}; exit {}",
        reports.len(),
        counts.join(", "),
        exit.code()
    );
    if !attention.is_empty() {
        let names: Vec<String> = attention
            .iter()
            .map(|(l, r)| format!("{l} ({})", words(r.exit)))
            .collect();
        out.push_str(&wrapped("need attention: ", &names, 3));
    }
    out
}

/// `items` after `head`, comma-separated, wrapped at `WIDTH` on at most `lines` lines; what does not
/// fit is counted.
fn wrapped(head: &str, items: &[String], lines: usize) -> String {
    let mut out = Vec::new();
    let mut line = head.to_string();
    for (i, item) in items.iter().enumerate() {
        let last = i + 1 == items.len();
        let sep = if last { "" } else { "," };
        let more = format!(" … and {} more", items.len() - i);
        // Keep room on the last line for the count of what does not fit.
        let room = if out.len() + 1 == lines {
            WIDTH - more.len()
        } else {
            WIDTH
        };
        if line.chars().count() + item.chars().count() + sep.len() + 1 > room && line.len() > head.len() {
            if out.len() + 1 == lines {
                line.push_str(&more);
                out.push(line);
                return out.join("\n") + "\n";
            }
            out.push(std::mem::replace(&mut line, "  ".into()));
        }
        if !line.ends_with(' ') {
            line.push(' ');
        }
        line.push_str(item);
        line.push_str(sep);
    }
    out.push(line);
    out.join("\n") + "\n"
}

/// A cluster whose command failed outright (bad kubeconfig entry, unreachable, locked): its report
/// is the error.
fn failed(f: &Failure) -> Report {
    let message = format!("{:#}", f.error);
    Report {
        exit: f.exit,
        json: json!({"error": message}),
        stdout: String::new(),
        stderr: format!("{} {message}\n", crate::report::style::error_prefix()),
        immediate: false,
    }
}

fn words(exit: Exit) -> &'static str {
    match exit {
        Exit::Success => "ok",
        Exit::ModuleFailed => "a module failed",
        Exit::BadInput => "bad input",
        Exit::Timeout => "timed out",
        Exit::Unreachable => "unreachable or refused",
        Exit::Locked => "locked",
        Exit::Fetch => "assets unavailable",
        Exit::Interrupted => "interrupted",
        Exit::Halted => "not started (rollout halted)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(exit: Exit) -> Report {
        Report {
            exit,
            json: json!({}),
            stdout: "MODULE  STATE\nm       Ready\n".into(),
            stderr: String::new(),
            immediate: false,
        }
    }

    #[test]
    fn a_thousand_clusters_fit_one_screen() {
        let labels: Vec<String> = (1..=1000).map(|i| format!("root:org:team-{i:04}")).collect();
        let reports: Vec<Report> = (1..=1000)
            .map(|i| match i % 97 {
                0 => report(Exit::ModuleFailed),
                13 => report(Exit::Unreachable),
                _ => report(Exit::Success),
            })
            .collect();
        let pairs: Vec<(&str, &Report)> = labels.iter().map(String::as_str).zip(&reports).collect();
        let out = table(&pairs, Exit::Unreachable);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() <= 25, "{} lines:\n{out}", lines.len());
        assert!(lines.iter().all(|l| l.chars().count() <= WIDTH), "{out}");
        assert!(
            out.contains("1000 clusters: 979 ok, 10 a module failed, 11 unreachable or refused; exit 4"),
            "{out}"
        );
        assert!(
            out.contains("== root:org:team-0013 (exit 4: unreachable or refused) =="),
            "{out}"
        );
        assert!(
            !out.contains("== root:org:team-0001 "),
            "ok clusters have no section at scale: {out}"
        );
        assert!(out.contains("19 more clusters need attention"), "{out}");
        assert!(
            out.contains("need attention: root:org:team-0013 (unreachable or refused),"),
            "{out}"
        );
        assert!(out.contains(" more"), "what does not fit is counted: {out}");

        // 100 clusters, all fine: the summary is one line.
        let ok: Vec<Report> = (0..100).map(|_| report(Exit::Success)).collect();
        let pairs: Vec<(&str, &Report)> = labels.iter().map(String::as_str).zip(&ok).collect();
        assert_eq!(table(&pairs, Exit::Success), "100 clusters: 100 ok; exit 0\n");

        // A few clusters: a section each, as before.
        let pairs: Vec<(&str, &Report)> = labels.iter().map(String::as_str).zip(&ok).take(3).collect();
        assert_eq!(table(&pairs, Exit::Success).matches("== ").count(), 3);
    }

    #[test]
    fn the_most_serious_exit_wins_in_the_documented_order() {
        use Exit::*;
        assert_eq!(most_serious([Success, ModuleFailed, Unreachable]), Unreachable);
        assert_eq!(most_serious([Timeout, Locked]), Locked);
        assert_eq!(most_serious([Locked, Unreachable, BadInput]), BadInput);
        assert_eq!(most_serious([ModuleFailed, Timeout]), Timeout);
        assert_eq!(most_serious([Success, Success]), Success);
        assert_eq!(most_serious([Interrupted, BadInput]), Interrupted);
        assert_eq!(most_serious([]), Success);
    }
}

//! One command, several clusters: each target is worked on by the same single-cluster code, up to
//! `--cluster-concurrency` at once, and one cluster's failure never stops the others. Commands build a
//! `Report` per cluster instead of printing; this file prints them — as before for one cluster, in a
//! section per cluster with a summary line for several — and decides the exit code.

use futures::StreamExt;
use serde_json::{Value, json};

use crate::cli::{GlobalArgs, OutputFormat};
use crate::cluster::Target;
use crate::exit::{Exit, Failure};
use crate::front::Report;

/// The order in which a run over several clusters reports its exit code: the most serious wins.
/// Interrupted first (the person asked to stop), then bad input, a catalog that could not be had, an
/// unreachable or refusing cluster, a held lock, a timeout, a failed module, success.
const SEVERITY: [Exit; 8] = [
    Exit::Interrupted,
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
/// did.
pub async fn run<F, Fut>(
    global: &GlobalArgs,
    targets: Vec<Target>,
    limit: u16,
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
    let mut done: Vec<(usize, Report)> = futures::stream::iter(targets.iter().cloned().enumerate())
        .map(|(i, t)| {
            let fut = one(t);
            async move {
                let report = fut.await.unwrap_or_else(|f| failed(&f));
                (i, report)
            }
        })
        .buffer_unordered(limit.max(1) as usize)
        .collect()
        .await;
    done.sort_by_key(|(i, _)| *i);
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
            println!(
                "{}",
                serde_json::to_string_pretty(&json!({"exitCode": exit.code(), "clusters": clusters}))?
            );
        }
        OutputFormat::Table => {
            for ((_, r), t) in done.iter().zip(&targets) {
                println!("== {} (exit {}: {}) ==", t.label, r.exit.code(), words(r.exit));
                print!("{}", r.stdout);
                if !r.stdout.is_empty() && !r.stdout.ends_with('\n') {
                    println!();
                }
                println!();
            }
            let each: Vec<String> = done
                .iter()
                .zip(&targets)
                .map(|((_, r), t)| format!("{} {}", t.label, words(r.exit)))
                .collect();
            println!(
                "{} clusters: {}; exit {}",
                targets.len(),
                each.join(", "),
                exit.code()
            );
        }
    }
    Ok(exit)
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

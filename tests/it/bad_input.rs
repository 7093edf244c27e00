//! The bad-input corpus: every directory under `tests/bad-input/` is one case (`case.json`: args, exit
//! code, what stderr must say, plus its fixture files). Each must fail with its documented exit code,
//! name the file/object, print nothing on stdout, and never echo a credential.

use std::path::Path;
use std::process::{Command, Output};

/// Run kyma on bad input as a user would, with nothing of the test machine leaking in: no kubeconfig,
/// no overrides, a download cache of its own (fetching before the error is fine; the cache must not
/// land in the repository).
pub fn run_offline(dir: &Path, args: &[&str]) -> Output {
    let cache = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_kyma"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("KUBECONFIG", dir.join("no-kubeconfig-here"))
        .env("KYMA_CACHE_DIR", cache.path())
        .env_remove("KYMA_OVERRIDES")
        .output()
        .unwrap()
}

/// What is wrong with how a bad-input run failed, if anything: the exit code, the words stderr must
/// carry, nothing on stdout, no crash, no credential.
pub fn failed_checks(name: &str, out: &Output, exit: i32, must_name: &[&str]) -> Vec<String> {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let short: String = stderr.chars().take(600).collect();
    if out.status.code() != Some(exit) {
        return vec![format!(
            "{name}: exit {:?}, want {exit}\n{short}",
            out.status.code()
        )];
    }
    let mut failures: Vec<String> = must_name
        .iter()
        .filter(|s| !stderr.contains(*s))
        .map(|s| format!("{name}: stderr lacks {s:?}:\n{short}"))
        .collect();
    if !stdout.trim().is_empty() {
        failures.push(format!("{name}: printed to stdout on failure:\n{stdout}"));
    }
    if stderr.contains("panicked") || stderr.contains("stack overflow") {
        failures.push(format!("{name}: crashed:\n{short}"));
    }
    if stderr.contains("secret-token-value") || stderr.contains("PRIVATE KEY") {
        failures.push(format!("{name}: a credential reached the output"));
    }
    failures
}

#[test]
fn every_bad_input_case_gives_its_message_and_exit_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-input");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 30,
        "the corpus needs at least 30 cases, has {}",
        dirs.len()
    );
    let mut failures = Vec::new();
    for dir in &dirs {
        let case: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("case.json")).unwrap()).unwrap();
        let args: Vec<&str> = case["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        let out = run_offline(dir, &args);
        let name = dir.file_name().unwrap().to_string_lossy();
        let want = case["exit"].as_i64().unwrap() as i32;
        let must_name: Vec<&str> = case["stderrContains"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        failures.extend(failed_checks(&name, &out, want, &must_name));
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n\n")
    );
}

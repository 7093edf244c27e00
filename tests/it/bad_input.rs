//! The bad-input corpus: every directory under `tests/bad-input/` is one case (`case.json`: args, exit
//! code, what stderr must say, plus its fixture files). Each must fail with its documented exit code,
//! name the file/object, print nothing on stdout, and never echo a credential.

use std::path::Path;
use std::process::Command;

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
        let cache = tempfile::tempdir().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_kyma"))
            .args(&args)
            .current_dir(dir)
            .env("NO_COLOR", "1")
            .env("KUBECONFIG", dir.join("no-kubeconfig-here"))
            // Fetching before the error is fine; the cache must not land in the repository.
            .env("KYMA_CACHE_DIR", cache.path())
            .env_remove("KYMA_OVERRIDES")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let name = dir.file_name().unwrap().to_string_lossy();
        let want = case["exit"].as_i64().unwrap() as i32;
        if out.status.code() != Some(want) {
            failures.push(format!(
                "{name}: exit {:?}, want {want}\n{stderr}",
                out.status.code()
            ));
            continue;
        }
        for s in case["stderrContains"].as_array().unwrap() {
            let s = s.as_str().unwrap();
            if !stderr.contains(s) {
                failures.push(format!("{name}: stderr lacks {s:?}:\n{stderr}"));
            }
        }
        if !stdout.trim().is_empty() {
            failures.push(format!("{name}: printed to stdout on failure:\n{stdout}"));
        }
        if stderr.contains("secret-token-value") {
            failures.push(format!("{name}: a credential reached the output"));
        }
        if stderr.contains("panicked") {
            failures.push(format!("{name}: panicked:\n{stderr}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n\n")
    );
}

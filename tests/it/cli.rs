//! The command line itself: shipped completions are current, every command has --help with an example,
//! version output, typo suggestions.

use std::path::Path;

use crate::support::*;

const SHELLS: &[(&str, &str)] = &[
    ("bash", "kyma.bash"),
    ("zsh", "_kyma"),
    ("fish", "kyma.fish"),
    ("powershell", "_kyma.ps1"),
];

/// `completions/` holds what `kyma completion SHELL` prints. Regenerate with
/// `KYMA_UPDATE_COMPLETIONS=1 cargo test --test it completions`.
#[test]
fn shipped_completions_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    let update = std::env::var_os("KYMA_UPDATE_COMPLETIONS").is_some();
    let mut stale = Vec::new();
    for (shell, file) in SHELLS {
        let out = kyma(&["completion", shell]);
        assert_eq!(code(&out), 0);
        let path = dir.join(file);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &out.stdout).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(out.stdout.as_slice()) {
            stale.push(file.to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "stale completions {stale:?}: run KYMA_UPDATE_COMPLETIONS=1 cargo test --test it completions"
    );
}

#[test]
fn completions_offer_builtin_module_names() {
    let fish = text(&kyma(&["completion", "fish"])).0;
    for m in ["istio", "eventing", "api-gateway"] {
        assert!(fish.contains(m), "fish completions lack module {m}");
    }
}

#[test]
fn every_command_has_help_with_an_example() {
    for cmd in [
        "deploy",
        "render",
        "modules list",
        "modules show",
        "undeploy",
        "diff",
        "status",
        "unlock",
        "completion",
        "version",
    ] {
        let mut args: Vec<&str> = cmd.split(' ').collect();
        args.push("--help");
        let out = kyma(&args);
        let (stdout, _) = text(&out);
        assert_eq!(code(&out), 0, "{cmd}");
        assert!(
            stdout.contains("Examples:") && stdout.contains("kyma "),
            "{cmd} --help has no example:\n{stdout}"
        );
    }
}

/// `deploy --help` lists every exit code on its own line with its meaning, exactly the codes kyma uses,
/// and the README's table says the same codes.
#[test]
fn exit_codes_are_documented_one_per_line() {
    let deploy = text(&kyma(&["deploy", "--help"])).0;
    let section = deploy
        .split("Exit codes:\n")
        .nth(1)
        .expect("an 'Exit codes:' section in deploy --help");
    let documented: Vec<(i32, String)> = section
        .lines()
        .map_while(|l| {
            let (code, meaning) = l.trim().split_once(char::is_whitespace)?;
            Some((code.parse().ok()?, meaning.trim().to_string()))
        })
        .collect();
    let want: &[(i32, &str)] = &[
        (0, "success"),
        (1, "a module failed"),
        (2, "bad input"),
        (3, "timed out"),
        (4, "unreachable"),
        (5, "lock"),
        (6, "could not be had"),
        (130, "interrupted"),
    ];
    assert_eq!(
        documented.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        want.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
        "{section}"
    );
    for ((code, meaning), (_, word)) in documented.iter().zip(want) {
        assert!(
            meaning.contains(word),
            "exit {code}: {meaning:?} should say {word:?}"
        );
    }
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    for (code, _) in want {
        assert!(
            readme.contains(&format!("\n| {code} | ")),
            "README's exit-code table lacks {code}"
        );
    }
}

#[test]
fn version_reports_commit_target_and_catalog() {
    let out = kyma(&["version", "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    assert!(v["target"].as_str().unwrap().contains("linux"));
    assert!(!v["commit"].as_str().unwrap().is_empty());
    assert!(
        v["builtinModules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["name"] == "istio")
    );
    let short = text(&kyma(&["--version"])).0;
    assert!(
        short.starts_with(&format!("kyma {}", env!("CARGO_PKG_VERSION"))),
        "{short}"
    );
}

#[test]
fn typos_get_suggestions() {
    let out = kyma(&["deplyo"]);
    assert_eq!(code(&out), 2);
    assert!(text(&out).1.contains("deploy"), "{:?}", text(&out));
}

/// A reader that stops early (`kyma modules list | head -1`) ends kyma quietly, not with a panic.
#[test]
fn a_closed_stdout_ends_quietly() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_kyma"))
        .args(["modules", "list", "-o", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Closed before kyma prints: its first write finds no reader (EPIPE).
    drop(child.stdout.take());
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(0), "{stderr}");
}

/// `kyma operator manifests` prints what installs the operator: its CRDs (the ones it applies itself),
/// RBAC and a Deployment of replicas that take turns leading; without an image it says what is missing.
#[test]
fn operator_manifests_install_the_operator() {
    let out = kyma(&["operator", "manifests", "--image", "example.invalid/kyma:0.1.0"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stderr}");
    let docs: Vec<serde_json::Value> = kyma::testkit::yaml::parse_all(&stdout)
        .unwrap()
        .into_iter()
        .map(|(_, d)| d)
        .filter(|d| !d.is_null())
        .collect();
    let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "CustomResourceDefinition",
            "CustomResourceDefinition",
            "Namespace",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "Deployment"
        ]
    );
    assert_eq!(docs[0]["metadata"]["name"], "kymas.installer.kyma-project.io");
    assert_eq!(
        docs[1]["metadata"]["name"],
        "channelrollouts.installer.kyma-project.io"
    );
    // The control-plane profile: no wildcard anywhere, nothing it could install with here.
    let rules = docs[4]["rules"].to_string();
    assert!(!rules.contains("\"*\""), "{rules}");
    assert!(
        !rules.contains("deployments") && !rules.contains("\"create\",\"update\""),
        "{rules}"
    );
    let deployment = &docs[8];
    assert_eq!(deployment["metadata"]["namespace"], "kyma-operator");
    assert_eq!(deployment["spec"]["replicas"], 2);
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["image"], "example.invalid/kyma:0.1.0");
    assert!(
        container["args"].to_string().contains("--leader-election"),
        "{container:#}"
    );
    let out = kyma(&["operator", "manifests"]);
    assert_eq!(code(&out), 2);
    assert!(text(&out).1.contains("--image"), "{:?}", text(&out));
}

/// How targets are chosen, without a cluster: `--all-contexts` takes every context (each reported, the
/// worst exit wins), `--context` and `--all-contexts` exclude each other, and `$KUBECONFIG` with two
/// files stays one merged target as kubectl has it (no fan-out by surprise).
#[test]
fn all_contexts_fans_out_and_a_merged_kubeconfig_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, contexts: &[(&str, u16)]| {
        let clusters: String = contexts
            .iter()
            .map(|(c, port)| format!("- name: {c}\n  cluster: {{server: \"https://127.0.0.1:{port}\"}}\n"))
            .collect();
        let ctxs: String = contexts
            .iter()
            .map(|(c, _)| format!("- name: {c}\n  context: {{cluster: {c}, user: u}}\n"))
            .collect();
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n{clusters}users:\n- name: u\n  user: {{token: not-a-real-token-1234}}\ncontexts:\n{ctxs}current-context: {}\n",
                contexts[0].0
            ),
        )
        .unwrap();
        path
    };
    let both = file("both.yaml", &[("east", 1), ("west", 2)]);
    let run = |args: &[&str], env: Option<String>| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kyma"));
        cmd.args(args).env("NO_COLOR", "1").env_remove("KUBECONFIG");
        if let Some(v) = env {
            cmd.env("KUBECONFIG", v);
        }
        let out = cmd.output().unwrap();
        assert_no_secrets(&args.join(" "), &out.stdout, &out.stderr);
        out
    };
    let out = run(
        &[
            "status",
            "--kubeconfig",
            both.to_str().unwrap(),
            "--all-contexts",
            "--wait-for-cluster",
            "0s",
            "-o",
            "json",
        ],
        None,
    );
    let doc = json_of(&out);
    assert_eq!(code(&out), 4, "{doc:#}");
    let labels: Vec<&str> = doc["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["cluster"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["east", "west"], "{doc:#}");
    for c in doc["clusters"].as_array().unwrap() {
        assert!(
            c["error"]
                .as_str()
                .unwrap()
                .contains("cannot reach https://127.0.0.1:"),
            "{c:#}"
        );
    }
    let out = run(
        &[
            "status",
            "--kubeconfig",
            both.to_str().unwrap(),
            "--all-contexts",
            "--context",
            "east",
        ],
        None,
    );
    assert_eq!(code(&out), 2, "{:?}", text(&out));

    let other = file("other.yaml", &[("north", 3)]);
    let merged = format!("{}:{}", both.display(), other.display());
    let out = run(
        &["status", "--wait-for-cluster", "0s", "-o", "json"],
        Some(merged.clone()),
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 4, "{stdout}{stderr}");
    assert!(
        stdout.trim().is_empty() && stderr.contains("context east"),
        "one target, the merged current context: {stderr}"
    );
    let out = run(
        &[
            "status",
            "--all-contexts",
            "--wait-for-cluster",
            "0s",
            "-o",
            "json",
        ],
        Some(merged),
    );
    let doc = json_of(&out);
    assert_eq!(
        doc["clusters"].as_array().map(Vec::len),
        Some(3),
        "--all-contexts over $KUBECONFIG: {doc:#}"
    );
}

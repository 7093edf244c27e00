//! Secret data and credentials never reach any output. Every kyma run through the test helpers is
//! scanned for `SECRET_VALUES` (support.rs); this test makes every output format meet a Secret:
//! table, JSON, ndjson events, verbose lines, progress bars on a terminal, status with drift, diff,
//! failures and undeploy.

use serde_json::json;

use crate::support::*;

const VALUE: &str = "s3cr3t-kyma-test-value";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn no_output_format_shows_secret_data() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("secrets");
    let name = format!("secrets-{ns}");
    let secret = |v: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  password: \"{v}\"\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: encoded\ndata:\n  token: czNjcjN0LWt5bWEtdGVzdC12YWx1ZQ==\n"
        )
    };
    let m = |v: &str| format!("apiVersion: kyma.module/v1\nname: {name}\nversion: {v}\nnamespace: {ns}\n");
    let cat = catalog(&[
        ("s/1.0.0/module.yaml", m("1.0.0")),
        ("s/1.0.0/templates/s.yaml", secret(VALUE)),
        ("s/2.0.0/module.yaml", m("2.0.0")),
        ("s/2.0.0/templates/s.yaml", secret(&format!("{VALUE}-2"))),
        // A Secret the server refuses: its error must not carry the data either.
        (
            "s/2.0.0/templates/bad.yaml",
            format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: Bad_Name\nstringData:\n  password: \"{VALUE}\"\n"
            ),
        ),
    ]);
    let dir = cat.path().to_str().unwrap();
    let v1 = format!("{name}@1.0.0");
    let v2 = format!("{name}@2.0.0");
    // Each run is scanned by the helper; the exit codes keep the scenario honest.
    let run = |args: &[&str]| code(&kyma(args));
    assert_eq!(run(&["deploy", "--catalog", dir, "--modules", &v1]), 0);
    assert_eq!(
        run(&[
            "deploy",
            "--catalog",
            dir,
            "--modules",
            &v1,
            "--reapply",
            "-o",
            "json",
            "--events",
            "ndjson",
            "-v"
        ]),
        0
    );
    // Drift: someone edits the Secret; status reports it (masked).
    let secrets = resource(&c, "v1", "Secret");
    c.apply(&secrets, &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds", "namespace": ns}, "stringData": {"password": format!("{VALUE}-edited")}}), kyma::testkit::cluster::ApplyOptions { force: true, ..Default::default() }).await.unwrap();
    for fmt in ["table", "json"] {
        assert_eq!(run(&["status", "--modules", &name, "-o", fmt]), 0);
    }
    for fmt in ["table", "json"] {
        assert_eq!(
            run(&["diff", "--catalog", dir, "--modules", &v2, "-o", fmt]),
            2,
            "the bad Secret cannot be compared"
        );
    }
    // An upgrade where one Secret fails: the failure report, in every format.
    assert_eq!(
        run(&["deploy", "--catalog", dir, "--modules", &v2, "--timeout", "30s"]),
        1
    );
    assert_eq!(
        run(&[
            "deploy",
            "--catalog",
            dir,
            "--modules",
            &v2,
            "--timeout",
            "30s",
            "-o",
            "json",
            "--events",
            "ndjson"
        ]),
        1
    );
    // Progress bars: the same deploy on a terminal (script(1) gives it one).
    let kc = kubeconfig();
    let cmd = format!(
        "{} deploy --catalog {dir} --modules {v2} --timeout 30s --wait-for-lock=15m --kubeconfig {}",
        env!("CARGO_BIN_EXE_kyma"),
        kc.display()
    );
    let tty = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("COLUMNS", "120")
        .output();
    if let Ok(out) = tty {
        assert_no_secrets("deploy (on a terminal)", &out.stdout, &out.stderr);
        // The lock wait is bounded apart from --timeout (as in every test sharing the bed): queued behind
        // the other tests' deploys, a bare --wait-for-lock (at most --timeout) gave up under CI load.
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(&name),
            "the terminal run happened: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = kyma(&["undeploy", "--modules", &name, "-o", "json"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

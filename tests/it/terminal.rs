//! What a person sees on a real terminal: kyma runs in a tmux pane of a fixed size and the test reads
//! the screen back. tmux is provisioned by scripts/test.sh.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::deploy::module_yaml;
use crate::support::*;

/// A detached tmux server of its own (tests run side by side) with one pane of `width` columns.
struct Pane {
    socket: String,
    _config: tempfile::NamedTempFile,
}

impl Pane {
    fn run(width: u16, env: &[(&str, String)], args: &[&str]) -> Pane {
        let socket = unique("kyma-term");
        // History long enough that nothing scrolls out; no user configuration.
        let config = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(config.path(), "set -g history-limit 20000\n").unwrap();
        let env: String = env.iter().map(|(k, v)| format!("{k}='{v}' ")).collect();
        let command = format!(
            "env -u NO_COLOR {env}{} {}; echo \"[exit $?]\"; sleep 600",
            env!("CARGO_BIN_EXE_kyma"),
            args.join(" ")
        );
        let status = Command::new("tmux")
            .args(["-L", &socket, "-f"])
            .arg(config.path())
            .args([
                "new-session",
                "-d",
                "-x",
                &width.to_string(),
                "-y",
                "40",
                "-s",
                "t",
            ])
            .arg(command)
            .status()
            .expect("tmux is installed (scripts/test.sh installs it)");
        assert!(status.success(), "tmux new-session failed");
        Pane {
            socket,
            _config: config,
        }
    }

    /// The whole pane, history included, row by row as a person sees it.
    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p", "-S", "-", "-t", "t"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    }

    /// Poll the screen until `needle` is on it.
    fn wait_for(&self, needle: &str, timeout: Duration) -> Option<String> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            let screen = self.screen();
            if screen.contains(needle) {
                return Some(screen);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    fn exit_code(&self, timeout: Duration) -> (i32, String) {
        let screen = self
            .wait_for("[exit ", timeout)
            .unwrap_or_else(|| panic!("kyma did not finish in {timeout:?}:\n{}", self.screen()));
        let code = screen
            .rsplit("[exit ")
            .next()
            .and_then(|t| t.split(']').next())
            .and_then(|c| c.parse().ok())
            .expect("exit code on screen");
        (code, screen[..screen.rfind("[exit ").unwrap()].to_string())
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

/// Rows that continue a line the terminal wrapped: every line kyma prints on this screen starts with
/// a module's name (bars, table rows, notes), the table header, or an indent (details); a row that
/// starts otherwise is the tail of a line that ran past the right edge. (`capture-pane -J` cannot tell:
/// indicatif pads bar lines with blanks to the full width and lets the terminal wrap after them.)
fn continuation_rows<'s>(screen: &'s str, modules: &[&str]) -> Vec<&'s str> {
    screen
        .lines()
        .filter(|row| {
            let known = row.is_empty()
                || row.starts_with(' ')
                || row.starts_with("MODULE ")
                || modules.iter().any(|m| row.starts_with(m));
            !known
        })
        .collect()
}

/// Keep the capture for the record (the terminal issue asks for it in the notes).
fn keep(name: &str, screen: &str) -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, screen).unwrap();
    path
}

/// A deploy that times out, at 120 and at 80 columns: no line wider than the pane (nothing wrapped),
/// every bar ends in its final state (never a stale "waiting"), the table fits and the blocking object
/// is named below it.
#[test]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
fn a_deploy_that_times_out_fits_the_terminal_and_ends_every_bar() {
    let _shared = CLUSTER.blocking_read();
    let mut deployed = Vec::new();
    for width in [120u16, 80] {
        let ns = unique("term");
        // Fresh modules for each width: a re-deploy of unchanged modules would be skipped.
        let slow = format!("observability-pipeline-with-a-long-name-{}", unique("m"));
        let quick = unique("quick");
        let cat = catalog(&[
            (&format!("{slow}/module.yaml"), module_yaml(&slow, &ns)),
            (
                &format!("{slow}/templates/deploy.yaml"),
                // No Node carries this label: the Pods stay Pending and the module times out.
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: collector-with-a-rather-long-name\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: c}\n  template:\n    metadata:\n      labels: {app: c}\n    spec:\n      nodeSelector: {kyma-test/no-such-node: \"yes\"}\n      containers:\n      - name: c\n        image: nginx:1.27\n".into(),
            ),
            (&format!("{quick}/module.yaml"), module_yaml(&quick, &ns)),
            (
                &format!("{quick}/templates/cm.yaml"),
                format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-{width}\ndata: {{a: b}}\n"),
            ),
        ]);
        let modules = format!("{slow},{quick}");
        deployed.push(modules.clone());
        let pane = Pane::run(
            width,
            &[("KUBECONFIG", kubeconfig().display().to_string())],
            &[
                "deploy",
                "--catalog",
                cat.path().to_str().unwrap(),
                "--modules",
                &modules,
                "--timeout",
                "6s",
                "--wait-for-lock=15m",
            ],
        );
        let (rc, screen) = pane.exit_code(Duration::from_secs(120));
        let path = keep(&format!("terminal-deploy-timeout-{width}.txt"), &screen);
        assert_eq!(rc, 3, "a timed-out deploy exits 3:\n{screen}");
        // Bars and the table show a long module name cut short (`observability-pipeli…`).
        let cut = continuation_rows(&screen, &[&slow, &quick, &slow[..12]]);
        assert!(
            cut.is_empty(),
            "lines ran past the {width}-column pane and wrapped onto: {cut:#?}\n{screen}"
        );
        let bars: Vec<&str> = screen.lines().filter(|r| r.contains(" · ready ")).collect();
        assert_eq!(bars.len(), 2, "one bar per module:\n{screen}");
        assert!(
            bars.iter().any(|l| l.contains("TimedOut")) && bars.iter().any(|l| l.contains("Ready")),
            "each bar shows its module's final state:\n{screen}"
        );
        assert!(
            bars.iter().any(|l| l.trim_start().starts_with(&quick))
                && bars.iter().any(|l| l.starts_with(&slow[..20]) && l.contains('…')),
            "each bar is labelled with its module (a long name cut short):\n{screen}"
        );
        // Labels are right-aligned to the longest: each bar's elapsed time sits in the same column.
        let elapsed: Vec<Option<usize>> = bars
            .iter()
            .map(|l| l.find("s ").map(|b| l[..b].chars().count()))
            .collect();
        assert!(
            elapsed.windows(2).all(|w| w[0] == w[1]),
            "the bars line up ({elapsed:?}):\n{screen}"
        );
        assert!(
            !bars.iter().any(|l| l.contains("waiting")),
            "no bar is left saying it is waiting:\n{screen}"
        );
        assert!(
            screen
                .lines()
                .any(|r| r.starts_with("MODULE ") && r.contains("STATE")),
            "the table's header starts a row of its own:\n{screen}"
        );
        assert!(
            screen.contains("collector-with-a-rather-long-name"),
            "the blocking Deployment is named:\n{screen}"
        );
        figure(format!(
            "terminal at {width} columns, a deploy timing out: {} rows, none wrapped; screen kept in {}",
            screen.lines().count(),
            path.display()
        ));
    }
    let out = kyma(&["undeploy", "--modules", &deployed.join(","), "--timeout", "60s"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// A download that takes more than a moment shows a bar on a terminal, fitted to it, and clears it
/// when done; off a terminal nothing of a bar is printed.
#[test]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "needs tmux and ../shared: cargo test --features cluster-tests (scripts/test.sh)"
)]
fn a_slow_download_shows_a_bar_on_a_terminal_only() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (mirror, requests) = rt.block_on(serve_dir_paced(
        real_modules_mirror(),
        Duration::from_millis(1500),
    ));
    let cache = tempfile::tempdir().unwrap();
    let pane = Pane::run(
        80,
        &[("KYMA_CACHE_DIR", cache.path().display().to_string())],
        &["render", "--mirror", &mirror, "--modules", "keda"],
    );
    let during = pane
        .wait_for("downloading", Duration::from_secs(30))
        .unwrap_or_else(|| panic!("no download bar appeared:\n{}", pane.screen()));
    let bar = during
        .lines()
        .find(|l| l.contains("downloading"))
        .unwrap()
        .to_string();
    assert!(bar.chars().count() <= 80, "the bar fits the pane: {bar:?}");
    let (rc, after) = pane.exit_code(Duration::from_secs(60));
    assert_eq!(rc, 0, "{after}");
    assert!(
        !after.contains("downloading"),
        "the bar is cleared once done:\n{after}"
    );
    assert!(
        after.contains("kind: Deployment"),
        "the render went on to print the manifest:\n{after}"
    );

    // The same download off a terminal: the manifest, and no bar.
    let plain = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kyma"))
        .args(["render", "--mirror", &mirror, "--modules", "keda"])
        .env("KYMA_CACHE_DIR", plain.path())
        .output()
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stderr}");
    assert!(stdout.contains("kind: Deployment"));
    assert!(
        !stderr.contains("downloading") && !stderr.contains('\r'),
        "no bar off a terminal: {stderr:?}"
    );
    assert_eq!(
        requests.lock().unwrap().len(),
        4,
        "two assets, fetched once per fresh cache"
    );
    figure(format!(
        "a download trickling over 1.5 s shows a bar on an 80-column terminal: {bar:?}"
    ));
}

/// More than ten clusters on a terminal: one bar for the fleet (done, ok, need attention, running),
/// fitted to the pane, instead of a bar per cluster and module; the summary is counts and the clusters
/// that need attention. Ten workspaces of the main bed through the path-prefix proxy and two servers
/// that do not answer.
#[test]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
fn a_fleet_on_a_terminal_has_one_bar_and_a_summary_of_counts() {
    let _shared = CLUSTER.blocking_read();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let prefixes: Vec<String> = (0..10)
        .map(|i| format!("/clusters/{}", unique(&format!("term-ws{i}"))))
        .collect();
    let spaces: Vec<(&str, &[&str])> = prefixes.iter().map(|p| (p.as_str(), &[][..])).collect();
    let proxy = rt.block_on(PathProxy::start_many(&kubeconfig(), &spaces));
    let dir = tempfile::tempdir().unwrap();
    let mut parts: Vec<serde_json::Value> = prefixes
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let path = proxy.kubeconfig_for(dir.path(), &format!("ws{i:02}"), p);
            kyma::testkit::yaml::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
        })
        .collect();
    for name in ["dead-1", "dead-2"] {
        let mut dead = crate::fleet::renamed(&kubeconfig(), name);
        dead["clusters"][0]["cluster"]["server"] = serde_json::json!("https://127.0.0.1:1");
        parts.push(dead);
    }
    let kc = crate::fleet::merged(dir.path(), &parts);
    let ns = unique("term-fleet");
    let module = unique("fleetbar");
    let cat = catalog(&[
        (&format!("{module}/module.yaml"), module_yaml(&module, &ns)),
        (
            &format!("{module}/templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fleet\ndata: {a: b}\n".into(),
        ),
    ]);
    let width = 100u16;
    let pane = Pane::run(
        width,
        &[("KUBECONFIG", kc.display().to_string())],
        &[
            "deploy",
            "--all-contexts",
            "--catalog",
            cat.path().to_str().unwrap(),
            "--modules",
            &module,
            "--wait-for-cluster",
            "1s",
            "--wait-for-lock=15m",
        ],
    );
    let (rc, screen) = pane.exit_code(Duration::from_secs(180));
    let path = keep("terminal-fleet-bar.txt", &screen);
    assert_eq!(rc, 4, "two clusters unreachable:\n{screen}");
    let bars: Vec<&str> = screen.lines().filter(|r| r.contains(" clusters · ")).collect();
    assert_eq!(
        bars.len(),
        1,
        "one bar for the fleet, redrawn in place:\n{screen}"
    );
    assert!(
        bars[0].contains("12/12 clusters · 10 ok · 2 need attention · 0 running"),
        "the bar ends in the fleet's final counts: {:?}\n{screen}",
        bars[0]
    );
    assert!(
        bars[0].trim_end().chars().count() <= width as usize,
        "the bar fits the pane: {:?}",
        bars[0]
    );
    assert!(
        !screen.contains(" · ready "),
        "no bar per cluster and module:\n{screen}"
    );
    assert!(
        screen.contains("12 clusters: 10 ok, 2 unreachable or refused; exit 4"),
        "{screen}"
    );
    assert!(
        screen.contains("need attention: dead-1 (unreachable or refused), dead-2 (unreachable or refused)"),
        "{screen}"
    );
    figure(format!(
        "terminal at {width} columns, a deploy to 12 clusters: one fleet bar {:?}; screen kept in {}",
        bars[0].trim_end(),
        path.display()
    ));
    let out = kyma(&["undeploy", "--modules", &module, "--timeout", "60s"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

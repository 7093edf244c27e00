//! The fault suite: kyma against a real control plane that is not there yet, goes away, throttles, or
//! answers slowly. Each case fails if anything is lost, left behind or taken that is not ours, and
//! prints its figure (`cargo test -- --nocapture` shows them; CI logs them).

use std::time::{Duration, Instant};

use crate::support::*;

fn one_configmap_module(ns: &str, name: &str) -> tempfile::TempDir {
    catalog(&[
        (
            "m/module.yaml",
            format!("apiVersion: kyma.module/v1\nname: {name}\nversion: 1.0.0\nnamespace: {ns}\n"),
        ),
        (
            "m/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  k: v\n".into(),
        ),
    ])
}

/// A CI job starts kyma right after creating its cluster: nothing listens yet. kyma waits (and says
/// so), then deploys once the server answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_cluster_that_comes_up_late_is_waited_for() {
    let _shared = CLUSTER.read().await;
    let ns = unique("late");
    let name = format!("late-{ns}");
    let cat = one_configmap_module(&ns, &name);
    let dir = tempfile::tempdir().unwrap();
    let forwarder = Forwarder::new(&kubeconfig());
    let kc = forwarder.kubeconfig(&kubeconfig(), dir.path());
    let started = Instant::now();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kyma"))
        .args([
            "deploy",
            "--catalog",
            cat.path().to_str().unwrap(),
            "--modules",
            &name,
        ])
        .args(["--wait-for-cluster", "60s", "--wait-for-lock", "-o", "json"])
        .env("KUBECONFIG", &kc)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    forwarder.open().await;
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stdout}\n{stderr}");
    let waiting = format!(
        "waiting for the cluster: cannot reach https://127.0.0.1:{} (context kyma-test-bed): connection refused",
        forwarder.port
    );
    assert!(stderr.contains(&waiting), "{stderr}");
    assert!(stderr.contains("the cluster answered after"), "{stderr}");
    // Said at start and every few seconds, not once per attempt.
    assert!(stderr.matches("waiting for the cluster").count() <= 2, "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["modules"][0]["state"], "Ready", "{doc:#}");
    figure(format!(
        "server down for the first 3 s; deploy Ready {:.1} s after start",
        started.elapsed().as_secs_f64()
    ));
    let out = kyma(&["undeploy", "--modules", &name]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// Nothing ever answers: exit 4 after the window, the cause said once with the address and context.
/// A server that speaks no TLS is a configuration problem: exit 4 at once, no waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn unreachable_and_tls_failures_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let forwarder = Forwarder::new(&kubeconfig());
    let kc = forwarder.kubeconfig(&kubeconfig(), dir.path());
    let out = kyma_at(&kc, &["status", "--wait-for-cluster", "2s"]);
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), 4, "{stderr}");
    let cause = format!(
        "cannot reach https://127.0.0.1:{} (context kyma-test-bed): connection refused",
        forwarder.port
    );
    let last = stderr.lines().last().unwrap_or("");
    assert!(
        last.starts_with("error: gave up waiting for the cluster after") && last.matches(&cause).count() == 1,
        "{stderr}"
    );

    // Something that answers, but not with TLS.
    let plain = tokio::net::TcpListener::bind(("127.0.0.1", forwarder.port))
        .await
        .unwrap();
    let server = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        while let Ok((mut s, _)) = plain.accept().await {
            let _ = s
                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    });
    let out = kyma_at(&kc, &["status", "--wait-for-cluster", "60s"]);
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), 4, "{stderr}");
    assert!(
        !stderr.contains("waiting for the cluster"),
        "TLS failures are not waited out: {stderr}"
    );
    assert!(
        stderr.contains(&format!("TLS with https://127.0.0.1:{}", forwarder.port)),
        "{stderr}"
    );
    server.abort();
}

/// A module of `n` ConfigMaps in its own namespace.
fn many_configmaps(ns: &str, name: &str, n: usize) -> tempfile::TempDir {
    catalog(&[
        (
            "m/module.yaml",
            format!("apiVersion: kyma.module/v1\nname: {name}\nversion: 1.0.0\nnamespace: {ns}\n"),
        ),
        (
            "m/templates/cms.yaml",
            format!(
                "{{% for i in range(end={n}) %}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{{{{ i }}}}\ndata:\n  k: v{{{{ i }}}}\n{{% endfor %}}\n"
            ),
        ),
    ])
}

/// Start a paced deploy (4 requests in flight, events on stdout) and wait until `n` objects are applied:
/// the moment a fault test strikes.
fn deploy_until_applied(
    kc: &std::path::Path,
    cat: &tempfile::TempDir,
    name: &str,
    timeout: &str,
    n: usize,
) -> (Running, usize) {
    let dir = cat.path().to_str().unwrap();
    let args = [
        "deploy",
        "--catalog",
        dir,
        "--modules",
        name,
        "--concurrency",
        "4",
        "--timeout",
        timeout,
        "--events",
        "ndjson",
        "-o",
        "json",
    ];
    let mut run = Running::start(kc, &args);
    let before = run.until_applied(n);
    assert!(before >= n, "the deploy got going: {:?}", run.seen);
    (run, before)
}

/// A running `kyma … --events ndjson`: its stdout lines arrive on `lines` as they are printed.
struct Running {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(kubeconfig: &std::path::Path, args: &[&str]) -> Running {
        use std::io::BufRead;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kyma"))
            .args(args)
            .env("KUBECONFIG", kubeconfig)
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for l in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    break;
                }
            }
        });
        Running {
            child,
            lines,
            seen: vec![],
        }
    }

    /// Block until `n` objects were applied (or the process ended).
    fn until_applied(&mut self, n: usize) -> usize {
        let count = |seen: &[String]| seen.iter().filter(|l| l.contains("\"objectApplied\"")).count();
        while count(&self.seen) < n {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(l) => self.seen.push(l),
                Err(_) => break,
            }
        }
        count(&self.seen)
    }

    /// Wait for the end: exit code, every stdout line, stderr.
    fn finish(mut self) -> (i32, Vec<String>, String) {
        let status = self.child.wait().unwrap();
        self.seen.extend(self.lines.iter());
        let mut stderr = String::new();
        use std::io::Read;
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_no_secrets(
            "(a fault run)",
            self.seen.join("\n").as_bytes(),
            stderr.as_bytes(),
        );
        (status.code().unwrap_or(-1), self.seen, stderr)
    }
}

fn events(lines: &[String]) -> Vec<serde_json::Value> {
    lines
        .iter()
        .filter(|l| l.starts_with("{\"event\""))
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The final JSON document after the event lines.
fn final_doc(lines: &[String]) -> serde_json::Value {
    let start = lines
        .iter()
        .position(|l| l == "{")
        .expect("a final JSON document");
    serde_json::from_str(&lines[start..].join("\n")).unwrap()
}

/// After a fault: every one of `n` ConfigMaps exists, carries kyma's ApplySet label, and is a member of
/// the module's inventory; nothing else in the namespace is labelled as kyma's.
async fn all_there_and_recorded(c: &kyma::testkit::cluster::Cluster, ns: &str, module: &str, n: usize) {
    let cms = resource(c, "v1", "ConfigMap");
    let id = kyma::testkit::store::inventory::applyset_id(module);
    let live = c.list(&cms, Some(ns), None).await.unwrap();
    let labelled: std::collections::BTreeSet<String> = live
        .iter()
        .filter(|o| {
            o.pointer("/metadata/labels/applyset.kubernetes.io~1part-of")
                .and_then(|v| v.as_str())
                == Some(id.as_str())
        })
        .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
        .collect();
    let want: std::collections::BTreeSet<String> = (0..n).map(|i| format!("c{i}")).collect();
    assert_eq!(labelled, want, "exactly the module's objects, all labelled");
    let inv = kyma::testkit::store::inventory::read_all(c)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.module == module)
        .expect("inventory");
    assert!(inv.complete, "the inventory is complete");
    let members: std::collections::BTreeSet<String> = inv
        .members
        .iter()
        .filter(|m| m.kind == "ConfigMap")
        .map(|m| m.name.clone())
        .collect();
    assert_eq!(members, want, "every object is recorded, nothing else");
}

/// The API server is killed in the middle of a 1,000-object deploy and started again 3 s later: the
/// deploy converges, each object is reported applied exactly once, and the report says how long the
/// cluster was unreachable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn api_server_restart_in_the_middle_of_a_deploy() {
    let _bed = FAULT_BED.lock().await;
    let bed = fault_bed();
    let kc = bed.join("kubeconfig");
    let ns = unique("restart");
    let name = format!("restart-{ns}");
    let cat = many_configmaps(&ns, &name, 1000);
    let started = Instant::now();
    let (run, before) = deploy_until_applied(&kc, &cat, &name, "180s", 150);
    bed_ctl("stop", "kube-apiserver", &[]);
    let stopped = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    bed_ctl("start", "kube-apiserver", &[]);
    let down = stopped.elapsed();
    let (rc, lines, stderr) = run.finish();
    let doc = final_doc(&lines);
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    assert_eq!(doc["modules"][0]["state"], "Ready", "{doc:#}");

    // Each object reported applied exactly once.
    let evs = events(&lines);
    let mut applied: std::collections::BTreeMap<String, usize> = Default::default();
    for e in evs.iter().filter(|e| e["event"] == "objectApplied") {
        *applied
            .entry(e["object"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let cms = applied.keys().filter(|k| k.starts_with("ConfigMap/")).count();
    assert_eq!(cms, 1000, "every ConfigMap applied");
    assert!(applied.values().all(|&n| n == 1), "applied once each");
    let unreachable = &doc["unreachable"];
    let secs = unreachable["seconds"].as_f64().unwrap_or(0.0);
    assert!(
        secs > 0.5 && unreachable["outages"].as_u64() >= Some(1),
        "the report says it: {doc:#}"
    );
    assert!(stderr.contains("cluster unreachable: cannot reach"), "{stderr}");
    assert!(stderr.contains("cluster reachable again after"), "{stderr}");
    let retries = evs.iter().filter(|e| e["event"] == "objectRetry").count();
    let lines_err = stderr.lines().count();
    assert!(
        lines_err < 60,
        "the outage is said in a few lines, not one per object: {lines_err}\n{stderr}"
    );

    let c = cluster_at(&kc).await;
    all_there_and_recorded(&c, &ns, &name, 1000).await;
    figure(format!(
        "API server down {:.1} s (killed after {before} objects applied); kyma reported unreachable {secs:.1} s, \
         {retries} object retries, {} round(s), {lines_err} stderr lines; converged {:.1} s after start",
        down.as_secs_f64(),
        doc["modules"][0]["rounds"],
        started.elapsed().as_secs_f64()
    ));
    let out = kyma_at(&kc, &["undeploy", "--modules", &name]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// etcd is killed for 10 s in the middle of a deploy: the API server answers 5xx and times out
/// meanwhile; the deploy converges once etcd is back, with nothing lost or doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn etcd_away_for_ten_seconds_in_the_middle_of_a_deploy() {
    let _bed = FAULT_BED.lock().await;
    let bed = fault_bed();
    let kc = bed.join("kubeconfig");
    let ns = unique("etcd");
    let name = format!("etcd-{ns}");
    let cat = many_configmaps(&ns, &name, 500);
    let started = Instant::now();
    let (run, before) = deploy_until_applied(&kc, &cat, &name, "240s", 100);
    bed_ctl("stop", "etcd", &[]);
    tokio::time::sleep(Duration::from_secs(10)).await;
    bed_ctl("start", "etcd", &[]);
    let back = started.elapsed();
    let (rc, lines, stderr) = run.finish();
    let doc = final_doc(&lines);
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    assert_eq!(doc["modules"][0]["state"], "Ready", "{doc:#}");
    let evs = events(&lines);
    let classes: std::collections::BTreeMap<String, usize> = evs
        .iter()
        .filter(|e| e["event"] == "objectRetry")
        .fold(Default::default(), |mut m, e| {
            *m.entry(e["class"].as_str().unwrap_or("").to_string())
                .or_default() += 1;
            m
        });
    let c = cluster_at(&kc).await;
    all_there_and_recorded(&c, &ns, &name, 500).await;
    figure(format!(
        "etcd away 10 s (after {before} of 500 objects); retries by class {classes:?}; {} round(s); \
         converged {:.1} s after start, {:.1} s after etcd was back",
        doc["modules"][0]["rounds"],
        started.elapsed().as_secs_f64(),
        (started.elapsed() - back).as_secs_f64()
    ));
    let out = kyma_at(&kc, &["undeploy", "--modules", &name]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// Watch the cluster lock's Lease and record each holder in turn ("" when released).
async fn watch_lock_holders(
    c: &kyma::testkit::cluster::Cluster,
) -> (
    tokio::task::JoinHandle<()>,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    use futures::StreamExt;
    let leases = resource(c, "coordination.k8s.io/v1", "Lease");
    let api = c.dynamic_api(&leases, Some(kyma::testkit::store::inventory::NAMESPACE));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let record = seen.clone();
    let task = tokio::spawn(async move {
        let cfg = kube::runtime::watcher::Config::default().fields("metadata.name=kyma-lock");
        let mut stream = kube::runtime::watcher(api, cfg).boxed();
        while let Some(ev) = stream.next().await {
            let holder = |o: &kube::api::DynamicObject| {
                o.data
                    .pointer("/spec/holderIdentity")
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            let next = match ev {
                Ok(kube::runtime::watcher::Event::Apply(o))
                | Ok(kube::runtime::watcher::Event::InitApply(o)) => holder(&o),
                Ok(kube::runtime::watcher::Event::Delete(_)) => String::new(),
                _ => continue,
            };
            let mut seen = record.lock().unwrap();
            if seen.last() != Some(&next) {
                seen.push(next);
            }
        }
    });
    (task, seen)
}

/// Five deploys of overlapping modules start at once. Without --wait-for-lock exactly one works at a
/// time and the others exit 5; with it all five succeed, one after another. The Lease never passes
/// from one holder to another without being released in between.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn five_concurrent_deploys_take_turns() {
    let _bed = FAULT_BED.lock().await;
    let kc = fault_bed().join("kubeconfig");
    let c = cluster_at(&kc).await;
    let ns = unique("five");
    let names: Vec<String> = (0..3).map(|i| format!("five{i}-{ns}")).collect();
    let mut files = vec![];
    for n in &names {
        files.push((
            format!("{n}/module.yaml"),
            format!("apiVersion: kyma.module/v1\nname: {n}\nversion: 1.0.0\nnamespace: {ns}\n"),
        ));
        files.push((
            format!("{n}/templates/cms.yaml"),
            format!(
                "{{% for i in range(end=150) %}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {n}-{{{{ i }}}}\n{{% endfor %}}\n"
            ),
        ));
    }
    let files: Vec<(&str, String)> = files.iter().map(|(p, c)| (p.as_str(), c.clone())).collect();
    let cat = catalog(&files);
    let dir = cat.path().to_str().unwrap().to_string();
    // Overlapping selections: 0+1, 1+2, 0+2, 0+1+2, 1.
    let selections = [
        format!("{},{}", names[0], names[1]),
        format!("{},{}", names[1], names[2]),
        format!("{},{}", names[0], names[2]),
        names.join(","),
        names[1].clone(),
    ];
    let (watch, holders) = watch_lock_holders(&c).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for wait in [false, true] {
        let children: Vec<_> = selections
            .iter()
            .map(|sel| {
                let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_kyma"));
                cmd.args([
                    "deploy",
                    "--catalog",
                    &dir,
                    "--modules",
                    sel,
                    "--reapply",
                    "-o",
                    "json",
                ])
                .env("KUBECONFIG", &kc)
                .env("NO_COLOR", "1")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
                if wait {
                    cmd.arg("--wait-for-lock");
                }
                cmd.spawn().unwrap()
            })
            .collect();
        let codes: Vec<i32> = children
            .into_iter()
            .map(|ch| {
                let out = ch.wait_with_output().unwrap();
                let (o, e) = text(&out);
                let rc = code(&out);
                if rc == 5 {
                    assert!(e.contains("the cluster is locked by"), "{e}");
                } else {
                    assert_eq!(rc, 0, "{o}\n{e}");
                }
                rc
            })
            .collect();
        let ok = codes.iter().filter(|&&c| c == 0).count();
        if wait {
            assert_eq!(ok, 5, "with --wait-for-lock every deploy succeeds: {codes:?}");
        } else {
            assert!(
                ok >= 1 && codes.contains(&5),
                "one works, the others are told the cluster is locked: {codes:?}"
            );
        }
        figure(format!(
            "five concurrent deploys, --wait-for-lock {wait}: exit codes {codes:?}"
        ));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    watch.abort();
    let holders = holders.lock().unwrap().clone();
    let takes = holders.iter().filter(|h| !h.is_empty()).count();
    for pair in holders.windows(2) {
        assert!(
            pair[0].is_empty() || pair[1].is_empty(),
            "the lock passed from {} to {} without a release: {holders:?}",
            pair[0],
            pair[1]
        );
    }
    assert!(takes >= 6, "at least one take per successful run: {holders:?}");
    assert_eq!(
        holders.last().map(String::as_str),
        Some(""),
        "released at the end: {holders:?}"
    );
    figure(format!(
        "the lock was taken {takes} times, never by two runs at once"
    ));
    for n in &names {
        let out = kyma_at(&kc, &["undeploy", "--modules", n]);
        assert_eq!(code(&out), 0, "{:?}", text(&out));
    }
}

/// What kyma's labels and inventory say about one module after a run ended however it ended: every
/// object carrying the module's ApplySet label is recorded in its inventory (nothing orphaned), and
/// nobody holds the cluster lock. Returns (labelled objects, recorded members).
async fn consistent(
    c: &kyma::testkit::cluster::Cluster,
    ns: &str,
    module: &str,
    group: &str,
) -> (usize, usize) {
    let id = kyma::testkit::store::inventory::applyset_id(module);
    let part_of = |o: &serde_json::Value| {
        o.pointer("/metadata/labels/applyset.kubernetes.io~1part-of")
            .and_then(|v| v.as_str())
            == Some(id.as_str())
    };
    let mut labelled = std::collections::BTreeSet::new();
    let cms = resource(c, "v1", "ConfigMap");
    for o in c
        .list(&cms, Some(ns), None)
        .await
        .unwrap()
        .iter()
        .filter(|o| part_of(o))
    {
        labelled.insert(format!("ConfigMap/{}", o["metadata"]["name"].as_str().unwrap()));
    }
    let crds = resource(c, "apiextensions.k8s.io/v1", "CustomResourceDefinition");
    if let Some(crd) = c.get(&crds, None, &format!("sprockets.{group}")).await.unwrap()
        && part_of(&crd)
    {
        labelled.insert(format!("CustomResourceDefinition/sprockets.{group}"));
    }
    let invs = kyma::testkit::store::inventory::read_all(c).await.unwrap();
    let members: std::collections::BTreeSet<String> = invs
        .iter()
        .filter(|i| i.module == module)
        .flat_map(|i| i.members.iter().map(|m| format!("{}/{}", m.kind, m.name)))
        .collect();
    let orphans: Vec<&String> = labelled.difference(&members).collect();
    assert!(
        orphans.is_empty(),
        "labelled as kyma's but not recorded: {orphans:?}"
    );
    let leases = resource(c, "coordination.k8s.io/v1", "Lease");
    let lease = c
        .get(
            &leases,
            Some(kyma::testkit::store::inventory::NAMESPACE),
            "kyma-lock",
        )
        .await
        .unwrap();
    let holder = lease
        .as_ref()
        .and_then(|l| l.pointer("/spec/holderIdentity"))
        .and_then(|h| h.as_str())
        .unwrap_or("");
    assert!(holder.is_empty(), "the lock is released after the run: {lease:?}");
    (labelled.len(), members.len())
}

fn interrupt_after(kc: &std::path::Path, args: &[&str], after: Duration) -> (i32, String) {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kyma"))
        .args(args)
        .env("KUBECONFIG", kc)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let out = child.wait_with_output().unwrap();
    (code(&out), String::from_utf8_lossy(&out.stderr).to_string())
}

/// Ctrl-C at 20 random moments of a deploy and 20 of an undeploy, each followed by a re-run: the
/// re-run always converges, nothing labelled as kyma's is ever missing from the inventory, and the
/// lock is free after every run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn ctrl_c_at_random_moments_then_rerun_converges() {
    let _bed = FAULT_BED.lock().await;
    let kc = fault_bed().join("kubeconfig");
    let ns = unique("ctrlc");
    let name = format!("ctrlc-{ns}");
    let group = format!("{ns}.kyma.test");
    let cat = catalog(&[
        (
            "m/module.yaml",
            format!("apiVersion: kyma.module/v1\nname: {name}\nversion: 1.0.0\nnamespace: {ns}\n"),
        ),
        (
            "m/templates/crd.yaml",
            format!("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: sprockets.{group}\nspec:\n  group: {group}\n  scope: Namespaced\n  names: {{kind: Sprocket, plural: sprockets, singular: sprocket, listKind: SprocketList}}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}\n"),
        ),
        (
            "m/templates/cr.yaml",
            format!("apiVersion: {group}/v1\nkind: Sprocket\nmetadata:\n  name: main\nspec: {{teeth: 12}}\n"),
        ),
        (
            "m/templates/cms.yaml",
            "{% for i in range(end=100) %}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{{ i }}\n{% endfor %}\n".into(),
        ),
    ]);
    let dir = cat.path().to_str().unwrap().to_string();
    let deploy = [
        "deploy",
        "--catalog",
        &dir,
        "--modules",
        &name,
        "--timeout",
        "120s",
    ];
    let undeploy = ["undeploy", "--modules", &name, "--timeout", "120s"];
    let c = cluster_at(&kc).await;
    let mut codes: std::collections::BTreeMap<(&str, i32), usize> = Default::default();
    let started = Instant::now();
    for round in 0..20 {
        // -1: the signal came before kyma had set up its handler (still reading the catalog or
        // connecting) and ended it, as it should at that point: nothing had been touched.
        let at = Duration::from_millis(fastrand::u64(20..700));
        let (rc, stderr) = interrupt_after(&kc, &deploy, at);
        assert!(
            matches!(rc, 0 | 130 | -1),
            "deploy interrupted at {at:?}: exit {rc}\n{stderr}"
        );
        *codes.entry(("deploy", rc)).or_default() += 1;
        consistent(&c, &ns, &name, &group).await;
        let out = kyma_at(&kc, &deploy);
        assert_eq!(
            code(&out),
            0,
            "round {round}: re-run after Ctrl-C at {at:?}: {:?}",
            text(&out)
        );
        let (labelled, members) = consistent(&c, &ns, &name, &group).await;
        assert_eq!(labelled, 101, "everything deployed (100 ConfigMaps and the CRD)");
        assert!(
            members >= 102,
            "recorded: the namespace, the CRD, the CR and 100 ConfigMaps"
        );

        let at = Duration::from_millis(fastrand::u64(50..2500));
        let (rc, stderr) = interrupt_after(&kc, &undeploy, at);
        assert!(
            matches!(rc, 0 | 130 | -1),
            "undeploy interrupted at {at:?}: exit {rc}\n{stderr}"
        );
        *codes.entry(("undeploy", rc)).or_default() += 1;
        consistent(&c, &ns, &name, &group).await;
        let out = kyma_at(&kc, &undeploy);
        let (o, e) = text(&out);
        // Already finished by the interrupted run: the module is simply not installed any more.
        let finished_before = code(&out) == 2 && e.contains("is not installed by kyma");
        assert!(
            code(&out) == 0 || finished_before,
            "round {round}: re-run of undeploy: {o}\n{e}"
        );
        assert_eq!(
            consistent(&c, &ns, &name, &group).await,
            (0, 0),
            "nothing of the module is left"
        );
    }
    figure(format!(
        "20 deploys and 20 undeploys interrupted at random moments (exit codes {codes:?}); every re-run \
         converged; {:.1} s in all",
        started.elapsed().as_secs_f64()
    ));
}

/// A validating webhook that accepts connections but does not answer for 20 s (each call times out
/// in the API server): the guarded objects are retried as "webhook unavailable" and the deploy
/// converges once it answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_webhook_that_times_out_for_twenty_seconds_is_waited_out() {
    use serde_json::json;
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("slowhook");
    let (port, ca_pem) = crate::webhook::serve_hanging(Duration::from_secs(20)).await;
    let hook = format!("{ns}.kyma.test");
    let vwc = resource(
        &c,
        "admissionregistration.k8s.io/v1",
        "ValidatingWebhookConfiguration",
    );
    use base64::Engine as _;
    c.apply(&vwc, &json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": hook},
        "webhooks": [{
            "name": hook,
            "clientConfig": {"url": format!("https://127.0.0.1:{port}/validate"), "caBundle": base64::engine::general_purpose::STANDARD.encode(&ca_pem)},
            "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["configmaps"]}],
            "namespaceSelector": {"matchLabels": {"kyma-test-slow-hook": ns}},
            "failurePolicy": "Fail", "sideEffects": "None", "admissionReviewVersions": ["v1"], "timeoutSeconds": 3
        }]
    }), Default::default()).await.unwrap();
    let name = format!("slowhook-{ns}");
    let cat = catalog(&[
        (
            "m/module.yaml",
            format!("apiVersion: kyma.module/v1\nname: {name}\nversion: 1.0.0\n"),
        ),
        (
            "m/templates/ns.yaml",
            format!(
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    kyma-test-slow-hook: {ns}\n"
            ),
        ),
        (
            "m/templates/cm.yaml",
            format!(
                "{{% for i in range(end=5) %}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: guarded-{{{{ i }}}}\n  namespace: {ns}\n{{% endfor %}}\n"
            ),
        ),
    ]);
    let started = Instant::now();
    let mut run = Running::start(
        &kubeconfig(),
        &[
            "deploy",
            "--catalog",
            cat.path().to_str().unwrap(),
            "--modules",
            &name,
            "--timeout",
            "120s",
            "--wait-for-lock",
            "--events",
            "ndjson",
            "-o",
            "json",
        ],
    );
    run.until_applied(usize::MAX);
    let (rc, lines, stderr) = run.finish();
    c.delete(&vwc, None, &hook).await.unwrap();
    let doc = final_doc(&lines);
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    let retries: Vec<serde_json::Value> = events(&lines)
        .into_iter()
        .filter(|e| e["event"] == "objectRetry")
        .collect();
    assert!(!retries.is_empty(), "the calls timed out: {lines:#?}");
    assert!(
        retries.iter().all(|r| r["class"] == "webhook-unavailable"),
        "{retries:#?}"
    );
    assert!(
        retries.iter().any(|r| {
            let m = r["message"].as_str().unwrap_or("").to_ascii_lowercase();
            m.contains("deadline") || m.contains("timeout") || m.contains("timed out")
        }),
        "timeouts, not refusals: {retries:#?}"
    );
    let cms = resource(&c, "v1", "ConfigMap");
    for i in 0..5 {
        assert!(
            c.get(&cms, Some(&ns), &format!("guarded-{i}"))
                .await
                .unwrap()
                .is_some()
        );
    }
    figure(format!(
        "webhook silent for 20 s (3 s call timeout): {} retries, {} round(s), Ready after {:.1} s",
        retries.len(),
        doc["modules"][0]["rounds"],
        started.elapsed().as_secs_f64()
    ));
    let out = kyma(&["undeploy", "--modules", &name]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// Puts the fault bed's API server back to its normal limits when the throttling test ends, passed
/// or not.
struct NormalLimits;

impl Drop for NormalLimits {
    fn drop(&mut self) {
        // Never panic here: a panic while the test is already failing would abort every test.
        let restart = || {
            bed_ctl("stop", "kube-apiserver", &[]);
            bed_ctl("start", "kube-apiserver", &[("KYMA_TEST_BED_INFLIGHT", "1000")]);
        };
        if std::panic::catch_unwind(restart).is_err() {
            eprintln!("could not restore the fault bed's API server limits");
        }
    }
}

/// Real throttling: the fault bed's API server restarted with the smallest inflight limits, and API
/// Priority and Fairness (on, as on every cluster) putting the deploying user into a priority level of
/// one seat that rejects instead of queueing. The server itself answers 429; kyma honours Retry-After,
/// backs off its concurrency and converges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_throttling_server_is_waited_on_not_hammered() {
    use serde_json::json;
    let _bed = FAULT_BED.lock().await;
    let admin = fault_bed().join("kubeconfig");
    let c = cluster_at(&admin).await;
    let user = format!("throttled-{:08x}", fastrand::u32(..));
    let who = Impersonated::at(
        &c,
        &admin,
        &user,
        json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
    )
    .await;
    let plc = resource(
        &c,
        "flowcontrol.apiserver.k8s.io/v1",
        "PriorityLevelConfiguration",
    );
    let fs = resource(&c, "flowcontrol.apiserver.k8s.io/v1", "FlowSchema");
    c.apply(&plc, &json!({"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "PriorityLevelConfiguration", "metadata": {"name": user},
        "spec": {"type": "Limited", "limited": {"nominalConcurrencyShares": 1, "lendablePercent": 0, "borrowingLimitPercent": 0, "limitResponse": {"type": "Reject"}}}}), Default::default()).await.unwrap();
    c.apply(&fs, &json!({"apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "FlowSchema", "metadata": {"name": user},
        "spec": {"priorityLevelConfiguration": {"name": user}, "matchingPrecedence": 100, "distinguisherMethod": {"type": "ByUser"},
          "rules": [{"subjects": [{"kind": "User", "user": {"name": user}}],
                     "resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"], "namespaces": ["*"], "clusterScope": true}],
                     "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}]}]}}), Default::default()).await.unwrap();
    // Flow control is set up while the server has room; the restart with the smallest limits then
    // starts with it in force (a starved server takes new flow-control objects up slowly).
    tokio::time::sleep(Duration::from_secs(2)).await;
    bed_ctl("stop", "kube-apiserver", &[]);
    bed_ctl("start", "kube-apiserver", &[("KYMA_TEST_BED_INFLIGHT", "1")]);
    let _restore = NormalLimits;
    let ns = unique("throttle");
    let name = format!("throttle-{ns}");
    let cat = many_configmaps(&ns, &name, 500);
    let started = Instant::now();
    let run = Running::start(
        &who.kubeconfig,
        &[
            "deploy",
            "--catalog",
            cat.path().to_str().unwrap(),
            "--modules",
            &name,
            "--timeout",
            "300s",
            "--events",
            "ndjson",
            "-o",
            "json",
        ],
    );
    let (rc, lines, stderr) = run.finish();
    let took = started.elapsed();
    let doc = final_doc(&lines);
    assert_eq!(rc, 0, "{doc:#}\n{stderr}");
    let throttled: Vec<serde_json::Value> = events(&lines)
        .into_iter()
        .filter(|e| e["event"] == "objectRetry" && e["class"] == "throttled")
        .collect();
    // kyma's slow start probes for room (two requests in flight against one seat), so the server
    // refuses some: that proves the bed throttles. Each 429 was waited out for at least the server's
    // Retry-After (APF sends ≥ 1 s).
    assert!(
        !throttled.is_empty(),
        "the server never answered 429: the bed does not throttle"
    );
    let honoured = throttled
        .iter()
        .filter(|e| e["delayMs"].as_u64() >= Some(1000))
        .count();
    assert_eq!(honoured, throttled.len(), "{throttled:#?}");
    all_there_and_recorded(&c, &ns, &name, 500).await;
    figure(format!(
        "one APF seat, reject on overload: 500 objects Ready in {:.1} s; kyma drew {} 429 answers, each \
         waited out for the server's Retry-After; {} round(s)",
        took.as_secs_f64(),
        throttled.len(),
        doc["modules"][0]["rounds"]
    ));
    // Normal limits first: the namespace controller's own requests crawl through a one-seat server.
    drop(_restore);
    let c = cluster_at(&admin).await;
    c.delete(&fs, None, &user).await.unwrap();
    c.delete(&plc, None, &user).await.unwrap();
    who.remove(&c).await;
    let out = kyma_at(&admin, &["undeploy", "--modules", &name]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// Run `kyma ARGS` against `kubeconfig`; also its process id (the lock's holder names it).
fn kyma_with_pid(kubeconfig: &std::path::Path, args: &[&str]) -> (u32, std::process::Output) {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kyma"))
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .env("NO_COLOR", "1")
        .env("KYMA_CACHE_DIR", std::env::temp_dir().join("kyma-test-cache"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    (pid, child.wait_with_output().unwrap())
}

/// Discovery of `/api/v1` fails in the middle of a run (a 503, as from a server mid-restart): the run
/// ends with exit 4 and the server's answer, never a panic (exit 101 here, 134 in a release build); a
/// failure after the lock is taken gives the lock back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_discovery_failure_mid_run_is_exit_4_not_a_panic() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("discofail");
    let name = format!("discofail-{ns}");
    let cat = one_configmap_module(&ns, &name);
    let dir = tempfile::tempdir().unwrap();
    let proxy = PathProxy::start(&kubeconfig(), "", &[]).await;
    let kc = proxy.kubeconfig(dir.path(), "proxied");
    let deploy = [
        "deploy",
        "--catalog",
        cat.path().to_str().unwrap(),
        "--modules",
        &name,
        "--wait-for-lock",
    ];
    let leases = resource(&c, "coordination.k8s.io/v1", "Lease");
    let lock_of = |pid: u32| {
        let (c, leases) = (c.clone(), leases.clone());
        async move {
            c.get(&leases, Some("kyma-installer"), "kyma-lock")
                .await
                .unwrap()
                .and_then(|l| l.pointer("/spec/holderIdentity")?.as_str().map(str::to_string))
                .filter(|h| h.contains(&format!("pid {pid} ")))
        }
    };

    // Connecting reads /api and /apis; the core group's resources are read on first use, and fail.
    proxy.inject(Fault::new(
        http::Method::GET,
        "/api/v1",
        0,
        503,
        "ServiceUnavailable",
    ));
    let (pid, out) = kyma_with_pid(&kc, &deploy);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 4, "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("HTTP 503") && stderr.contains("GET /api/v1 answers 503"),
        "the server's answer is said: {stderr}"
    );
    assert!(proxy.seen().iter().any(|p| p == "/api/v1"), "{:?}", proxy.seen());
    assert_eq!(lock_of(pid).await, None, "the lock is not left held");

    // The same outage after the lock is taken (the inventories cannot be listed): exit 4, lock given back.
    // The first list of inventories is the unlocked look for an unchanged deploy (this one is not:
    // the module is new); the second, under the lock, fails.
    proxy.heal();
    proxy.inject(Fault::new(
        http::Method::GET,
        "/api/v1/namespaces/kyma-installer/secrets",
        1,
        503,
        "ServiceUnavailable",
    ));
    let (pid, out) = kyma_with_pid(&kc, &deploy);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 4, "{stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.contains("HTTP 503"), "{stderr}");
    assert!(
        proxy.seen().iter().any(|p| p.contains("/leases")),
        "the lock was taken first: {:?}",
        proxy.seen()
    );
    assert_eq!(lock_of(pid).await, None, "the lock is given back");

    // Nothing was applied; the module was never recorded.
    let cms = resource(&c, "v1", "ConfigMap");
    assert!(c.get(&cms, Some(&ns), "settings").await.unwrap().is_none());
}

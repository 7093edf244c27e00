//! Shared helpers for cluster tests: the test bed's kubeconfig, unique namespaces, running the binary,
//! and a pool of Nodes a test can open (kwok plays the kubelet; nothing here patches Pod status).

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::{Value, json};

pub const DEFAULT_BED_KUBECONFIG: &str = "/tmp/kyma-test-bed/kubeconfig";
/// The compatibility lane: a Kubernetes 1.20 bed beside the main one (`scripts/test.sh` starts both).
pub const DEFAULT_COMPAT_KUBECONFIG: &str = "/tmp/kyma-test-bed-1.20/kubeconfig";

/// The own-format modules tests use (Tera templates, profiles, schemas; imitations of Kyma modules from
/// before the built-in catalog became the real releases). Relative: tests run in the package root.
pub const FIXTURES: &str = "tests/fixtures/catalog";

pub fn fixture_catalog() -> kyma::testkit::catalog::Catalog {
    kyma::testkit::catalog::Catalog::from_files(
        kyma::testkit::catalog::source::from_dir(std::path::Path::new(FIXTURES)).unwrap(),
    )
    .unwrap()
}

/// The kubeconfig of the cluster under test. Cluster tests never skip: without a cluster they fail and
/// say how to start one.
pub fn kubeconfig() -> PathBuf {
    if let Some(p) = std::env::var_os("KYMA_TEST_KUBECONFIG") {
        return PathBuf::from(p);
    }
    let bed = PathBuf::from(DEFAULT_BED_KUBECONFIG);
    if bed.exists() {
        return bed;
    }
    panic!(
        "no cluster for cluster tests: start the test bed with `scripts/test-bed.sh up` \
         (or set KYMA_TEST_KUBECONFIG to a kind/k3d kubeconfig), then run the tests again"
    );
}

/// The kubeconfig of the 1.20 compatibility bed; like `kubeconfig()`, it never skips.
pub fn compat_kubeconfig() -> PathBuf {
    if let Some(p) = std::env::var_os("KYMA_TEST_KUBECONFIG_COMPAT") {
        return PathBuf::from(p);
    }
    let bed = PathBuf::from(DEFAULT_COMPAT_KUBECONFIG);
    if bed.exists() {
        return bed;
    }
    panic!(
        "no 1.20 cluster for the compatibility tests: start it with \
         `scripts/test-bed.sh up --version 1.20 --dir /tmp/kyma-test-bed-1.20 --port 16444 --etcd-port 12381` \
         (or set KYMA_TEST_KUBECONFIG_COMPAT), then run the tests again"
    );
}

/// The fault suite's own bed (a `scripts/test-bed.sh` state directory): its tests stop, freeze and
/// throttle its components, one test at a time (`FAULT_BED`). Never skips, like `kubeconfig()`.
pub fn fault_bed() -> PathBuf {
    let dir = std::env::var_os("KYMA_TEST_FAULT_BED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/kyma-test-bed-faults"));
    assert!(
        dir.join("kubeconfig").exists() && dir.join("bed.env").exists(),
        "no fault bed in {}: start it with `scripts/test-bed.sh up --dir {} --port 16445 --etcd-port 12385` \
         (or set KYMA_TEST_FAULT_BED to a test-bed.sh state directory), then run the tests again",
        dir.display(),
        dir.display()
    );
    dir
}

pub static FAULT_BED: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// `scripts/test-bed.sh ACTION COMPONENT --dir BED [extra env]`: stop, start, pause or resume one
/// component of the fault bed.
pub fn bed_ctl(action: &str, component: &str, env: &[(&str, &str)]) {
    let out = Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/test-bed.sh"))
        .args([action, component, "--dir"])
        .arg(fault_bed())
        .envs(env.iter().copied())
        .output()
        .expect("run test-bed.sh");
    assert!(
        out.status.success(),
        "test-bed.sh {action} {component}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub async fn cluster() -> kyma::testkit::cluster::Cluster {
    cluster_at(&kubeconfig()).await
}

pub async fn cluster_at(kubeconfig: &std::path::Path) -> kyma::testkit::cluster::Cluster {
    kyma::testkit::tls::install_crypto_provider();
    let c = kyma::testkit::cluster::connect(Some(&kubeconfig.to_path_buf()), None)
        .await
        .expect("connect to the test cluster");
    c.discovery.ensure_all(&c).await;
    c
}

/// A name unique to this test run, usable as a namespace.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{:08x}", fastrand::u32(..))
}

pub fn resource(
    c: &kyma::testkit::cluster::Cluster,
    api_version: &str,
    kind: &str,
) -> kyma::testkit::cluster::Resource {
    c.discovery
        .resolve(api_version, kind)
        .unwrap_or_else(|| panic!("{kind} in {api_version} is not served"))
}

pub async fn create_namespace(c: &kyma::testkit::cluster::Cluster, name: &str) {
    let r = resource(c, "v1", "Namespace");
    c.apply(
        &r,
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
        Default::default(),
    )
    .await
    .expect("create namespace");
}

/// A kubeconfig Secret as the operator reads one: `text` under the key `config`.
pub async fn put_kubeconfig_secret(
    c: &kyma::testkit::cluster::Cluster,
    namespace: &str,
    name: &str,
    text: &str,
) {
    use base64::Engine as _;
    c.apply(
        &resource(c, "v1", "Secret"),
        &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
                "data": {"config": base64::engine::general_purpose::STANDARD.encode(text)}}),
        Default::default(),
    )
    .await
    .expect("apply the kubeconfig Secret");
}

/// Cluster tests share one cluster. Most may run side by side (each in its own namespaces); a test
/// that needs the whole cluster to itself (`undeploy --all`) takes this exclusively.
pub static CLUSTER: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// Run the kyma binary against the test cluster; offline commands (help, render, completion) run
/// without one.
pub fn kyma(args: &[&str]) -> Output {
    let kc = std::env::var_os("KYMA_TEST_KUBECONFIG")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_BED_KUBECONFIG));
    kyma_at(&kc, args)
}

/// Run the kyma binary against the cluster of `kubeconfig`.
pub fn kyma_at(kubeconfig: &std::path::Path, args: &[&str]) -> Output {
    // Tests run side by side: deploys and undeploys queue for the cluster lock instead of failing on it.
    let mut args: Vec<&str> = args.to_vec();
    // Their own --timeout stays short, so the wait is bounded apart from it.
    if matches!(args.first(), Some(&"deploy") | Some(&"undeploy"))
        && !args.contains(&"--no-lock-wait")
        && !args.iter().any(|a| a.starts_with("--wait-for-lock"))
    {
        args.push("--wait-for-lock=15m");
    }
    args.retain(|a| *a != "--no-lock-wait");

    let out = Command::new(env!("CARGO_BIN_EXE_kyma"))
        .args(&args)
        .env("KUBECONFIG", kubeconfig)
        .env("NO_COLOR", "1")
        .env("KYMA_CACHE_DIR", std::env::temp_dir().join("kyma-test-cache"))
        .output()
        .expect("run kyma");
    assert_no_secrets(&args.join(" "), &out.stdout, &out.stderr);
    out
}

/// Secret values and credentials tests use. No output of kyma, in any format, may contain one.
pub const SECRET_VALUES: &[&str] = &[
    "s3cr3t-kyma-test-value",
    "czNjcjN0LWt5bWEtdGVzdC12YWx1ZQ", // its base64, as in a Secret's `data`
    "not-a-real-token-1234",
    "secret-token-value",
    "PRIVATE KEY",
];

/// Fail if any of `SECRET_VALUES` or the bed's admin key is in the output of `what`.
pub fn assert_no_secrets(what: &str, stdout: &[u8], stderr: &[u8]) {
    static ADMIN_KEY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let admin_key = ADMIN_KEY.get_or_init(|| {
        let kc = std::env::var_os("KYMA_TEST_KUBECONFIG").map(PathBuf::from)?;
        let key = std::fs::read_to_string(kc.parent()?.join("certs/admin.key")).ok()?;
        key.lines().nth(1).map(str::to_string)
    });
    for stream in [stdout, stderr] {
        let text = String::from_utf8_lossy(stream);
        for s in SECRET_VALUES.iter().copied().chain(admin_key.as_deref()) {
            assert!(
                !text.contains(s),
                "`kyma {what}` printed a secret ({s:.12}…):\n{text}"
            );
        }
    }
}

/// Run `kyma deploy … -o json` against `kubeconfig`: exit code, the JSON document and stderr.
pub fn deploy_at(kubeconfig: &std::path::Path, args: &[&str]) -> (i32, Value, String) {
    let mut all = vec!["deploy", "-o", "json"];
    all.extend_from_slice(args);
    let out = kyma_at(kubeconfig, &all);
    let (stdout, stderr) = text(&out);
    // With --events ndjson the final document follows the event lines.
    let start = if stdout.starts_with("{\n") {
        0
    } else {
        stdout.rfind("\n{\n").map(|p| p + 1).unwrap_or(0)
    };
    let doc = serde_json::from_str(&stdout[start..]).unwrap_or_else(|_| json!({"unparsed": stdout}));
    (code(&out), doc, stderr)
}

/// A run's stdout as JSON; a failure shows both streams.
pub fn json_of(out: &Output) -> Value {
    let (stdout, stderr) = text(out);
    serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("not JSON:\n{stdout}\n{stderr}"))
}

pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Write a catalog directory for a test: `files` are paths relative to the catalog root.
pub fn catalog(files: &[(&str, String)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (p, c) in files {
        let path = dir.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, c).unwrap();
    }
    dir
}

/// Poll until `f` returns Some or the time is up (tests may poll; the product may not).
pub async fn eventually<T, F, Fut>(timeout: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let end = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if tokio::time::Instant::now() > end {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A pool of the bed's Nodes that a test opens by labelling them: a workload with
/// `nodeSelector: {<key>: "yes"}` stays Pending (the scheduler finds no node, as on a real cluster whose
/// capacity is not there yet) until `open`, then kube-scheduler binds it and kwok makes its Pods Ready.
pub struct NodePool {
    c: kyma::testkit::cluster::Cluster,
    pub key: String,
}

impl NodePool {
    pub fn new(c: &kyma::testkit::cluster::Cluster, name: &str) -> Self {
        NodePool {
            c: c.clone(),
            key: format!("pool.kyma.test/{name}"),
        }
    }

    /// The pod template's `nodeSelector`, as YAML flow.
    pub fn selector(&self) -> String {
        format!("{{\"{}\": \"yes\"}}", self.key)
    }

    async fn label(&self, value: Value) {
        let nodes = resource(&self.c, "v1", "Node");
        let list = self.c.list(&nodes, None, None).await.expect("list nodes");
        assert!(
            !list.is_empty(),
            "the test bed has no Nodes: is kwok running (scripts/test-bed.sh up)?"
        );
        for n in list {
            let name = n["metadata"]["name"].as_str().unwrap().to_string();
            self.c
                .merge_patch(
                    &nodes,
                    None,
                    &name,
                    None,
                    &json!({"metadata": {"labels": {self.key.as_str(): value}}}),
                )
                .await
                .expect("label node");
        }
    }

    pub async fn open(&self) {
        self.label(json!("yes")).await;
    }

    pub async fn close(&self) {
        self.label(Value::Null).await;
    }
}

/// The real Kyma module releases the tests use, laid out like GitHub's release-download URLs
/// (`../shared/real-modules/mirror`, beside the repository; see its README).
pub fn real_modules_mirror() -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real-modules/mirror");
    assert!(
        dir.is_dir(),
        "{} is missing: the real-module test data lives in shared/ beside the repository",
        dir.display()
    );
    dir
}

/// Serve a directory over HTTP on loopback (GET only), as a mirror of GitHub's release downloads is
/// served to air-gapped clusters. Returns the base URL and the paths requested so far.
pub async fn serve_dir(root: PathBuf) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    serve_dir_paced(root, Duration::ZERO).await
}

/// `serve_dir` on a slow line: each file's body trickles out in 50 parts over `per_file`.
pub async fn serve_dir_paced(
    root: PathBuf,
    per_file: Duration,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let root = root.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]);
                let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
                log.lock().unwrap().push(path.clone());
                let file = root.join(path.trim_start_matches('/'));
                let ok = !path.contains("..");
                let (status, body) = match std::fs::read(&file) {
                    Ok(b) if ok => ("200 OK", b),
                    _ => ("404 Not Found", b"not found".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                if per_file.is_zero() {
                    let _ = sock.write_all(&body).await;
                    return;
                }
                for part in body.chunks(body.len().div_ceil(50).max(1)) {
                    tokio::time::sleep(per_file / 50).await;
                    if sock.write_all(part).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (format!("http://{addr}"), seen)
}

/// A user with exactly the rights `rules` grant, reached through impersonation (`as:` in a copy of the
/// admin kubeconfig): the real server's RBAC refuses what they may not do. `remove` deletes the role.
pub struct Impersonated {
    pub kubeconfig: PathBuf,
    user: String,
    _dir: tempfile::TempDir,
}

impl Impersonated {
    pub async fn new(c: &kyma::testkit::cluster::Cluster, user: &str, rules: Value) -> Impersonated {
        Self::at(c, &self::kubeconfig(), user, rules).await
    }

    /// The same on the cluster of `admin` (a kubeconfig with a client certificate).
    pub async fn at(
        c: &kyma::testkit::cluster::Cluster,
        admin: &std::path::Path,
        user: &str,
        rules: Value,
    ) -> Impersonated {
        let roles = resource(c, "rbac.authorization.k8s.io/v1", "ClusterRole");
        let bindings = resource(c, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding");
        c.apply(
            &roles,
            &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": user}, "rules": rules}),
            Default::default(),
        )
        .await
        .unwrap();
        c.apply(&bindings, &json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": user},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": user},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]}), Default::default())
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let kubeconfig = dir.path().join("kubeconfig");
        let admin = std::fs::read_to_string(admin).unwrap();
        assert!(admin.contains("  user:\n"), "a kubeconfig with a user entry");
        std::fs::write(
            &kubeconfig,
            admin.replacen("  user:\n", &format!("  user:\n    as: {user}\n"), 1),
        )
        .unwrap();
        Impersonated {
            kubeconfig,
            user: user.to_string(),
            _dir: dir,
        }
    }

    pub async fn remove(self, c: &kyma::testkit::cluster::Cluster) {
        let roles = resource(c, "rbac.authorization.k8s.io/v1", "ClusterRole");
        let bindings = resource(c, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding");
        c.delete(&bindings, None, &self.user).await.unwrap();
        c.delete(&roles, None, &self.user).await.unwrap();
    }
}

/// RBAC rules for what kyma itself needs (its inventory Secrets, its lock) and the non-core groups test
/// modules use; `core` adds the rules for the core group's other resources (namespaces among them).
pub fn rules_with_core(core: Value) -> Value {
    let mut rules = vec![
        json!({"apiGroups": ["apps", "apiextensions.k8s.io", "coordination.k8s.io", "rbac.authorization.k8s.io", "admissionregistration.k8s.io"], "resources": ["*"], "verbs": ["*"]}),
        json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["*"]}),
    ];
    rules.extend(core.as_array().cloned().unwrap_or_default());
    Value::Array(rules)
}

/// A TCP forwarder on loopback in front of the test bed's API server: every byte reaches the real
/// server. Tests use it to make the server unreachable (nothing listening, connections cut) and
/// reachable again, without touching the bed other tests share.
pub struct Forwarder {
    pub port: u16,
    target: std::net::SocketAddr,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Forwarder {
    /// A free port, with nothing listening on it yet.
    pub fn new(kubeconfig: &std::path::Path) -> Forwarder {
        let text = std::fs::read_to_string(kubeconfig).unwrap();
        let server = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("server: "))
            .expect("server in kubeconfig");
        let target = server
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Forwarder {
            port,
            target,
            task: std::sync::Mutex::new(None),
        }
    }

    /// A copy of `kubeconfig` whose server is this forwarder (the bed's certificate is for 127.0.0.1).
    pub fn kubeconfig(&self, kubeconfig: &std::path::Path, dir: &std::path::Path) -> PathBuf {
        let text = std::fs::read_to_string(kubeconfig).unwrap();
        let path = dir.join("kubeconfig-forwarded");
        std::fs::write(
            &path,
            text.replace(
                &format!("https://{}", self.target),
                &format!("https://127.0.0.1:{}", self.port),
            ),
        )
        .unwrap();
        path
    }

    /// Start listening and forwarding.
    pub async fn open(&self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        let target = self.target;
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    break;
                };
                conns.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        *self.task.lock().unwrap() = Some(task);
    }

    /// Stop listening and cut every open connection (the JoinSet of connections goes with the task).
    pub fn cut(&self) {
        if let Some(t) = self.task.lock().unwrap().take() {
            t.abort();
        }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.cut();
    }
}

/// A measured figure of a cluster test: printed, and appended to `$KYMA_TEST_FIGURES` (scripts/test.sh
/// prints that file after the run, so CI logs carry every figure even though test output is captured).
pub fn figure(text: String) {
    eprintln!("figure: {text}");
    if let Some(path) = std::env::var_os("KYMA_TEST_FIGURES") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = writeln!(f, "{text}");
        }
    }
}

pub use crate::path_proxy::{Fault, PathProxy, under_workspace};

/// A kubeconfig with every file it names (client certificate and key, CA) read into the `*-data`
/// fields, as a kubeconfig in a Secret must be for the operator to take it.
pub fn inline_kubeconfig(path: &std::path::Path) -> String {
    use base64::Engine as _;
    let mut doc = kyma::testkit::yaml::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    let dir = path.parent().unwrap();
    let inline = |entry: &mut Value, file_key: &str| {
        let Some(file) = entry.get(file_key).and_then(Value::as_str).map(str::to_string) else {
            return;
        };
        let bytes = std::fs::read(dir.join(&file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let obj = entry.as_object_mut().unwrap();
        obj.remove(file_key);
        obj.insert(
            format!("{file_key}-data"),
            Value::String(base64::engine::general_purpose::STANDARD.encode(bytes)),
        );
    };
    for c in doc["clusters"].as_array_mut().into_iter().flatten() {
        inline(&mut c["cluster"], "certificate-authority");
    }
    for u in doc["users"].as_array_mut().into_iter().flatten() {
        inline(&mut u["user"], "client-certificate");
        inline(&mut u["user"], "client-key");
    }
    kyma::testkit::yaml::to_string(&doc)
}

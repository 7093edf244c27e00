//! Rendering without a cluster: golden output of every own-format fixture module (the imitation modules
//! of earlier releases, kept as test data for Tera templates, profiles and schemas), external catalogs from
//! directories and tarballs over HTTP (pinned, cached, offline), verbatim manifests.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::*;

#[test]
fn golden_render_of_every_fixture_module() {
    let catalog = fixture_catalog();
    let names: Vec<String> = catalog.names().map(str::to_string).collect();
    assert!(names.len() >= 7, "{names:?}");
    for name in names {
        let out = kyma(&["render", "--catalog", FIXTURES, "--modules", &name]);
        let (stdout, stderr) = text(&out);
        assert_eq!(code(&out), 0, "{name}: {stderr}");
        insta::assert_snapshot!(format!("render-{name}"), stdout);
    }
}

#[test]
fn render_is_deterministic_and_orders_crds_first() {
    let a = text(&kyma(&[
        "render",
        "--catalog",
        FIXTURES,
        "--modules",
        "api-gateway,istio,eventing,nats",
    ]))
    .0;
    let b = text(&kyma(&[
        "render",
        "--catalog",
        FIXTURES,
        "--modules",
        "nats,eventing,istio,api-gateway",
    ]))
    .0;
    assert_eq!(a, b, "selection order must not change the output");
    let istio_crd = a.find("name: istios.operator.kyma-project.io").unwrap();
    let istio_cr = a.find("kind: Istio\n").unwrap();
    assert!(
        istio_crd < istio_cr,
        "the CRD is printed before its custom resource"
    );
    let istio_ns = a.find("# Source: tests/fixtures/catalog/istio").unwrap();
    let gateway_module = a.find("# Source: tests/fixtures/catalog/api-gateway").unwrap();
    assert!(
        istio_ns < gateway_module,
        "istio (a dependency) before api-gateway"
    );
}

#[test]
fn fixture_modules_never_bind_cluster_admin_or_wildcards() {
    let all: Vec<String> = fixture_catalog().names().map(str::to_string).collect();
    let out = text(&kyma(&[
        "render",
        "--catalog",
        FIXTURES,
        "--modules",
        &all.join(","),
    ]))
    .0;
    let docs = kyma::testkit::yaml::parse_all(&out).unwrap();
    let mut managers = 0;
    for (_, d) in &docs {
        let kind = d["kind"].as_str().unwrap();
        if kind.ends_with("Binding") {
            assert_ne!(d["roleRef"]["name"], "cluster-admin", "{d}");
        }
        if kind.ends_with("Role") {
            for rule in d["rules"].as_array().unwrap() {
                for field in ["verbs", "resources", "apiGroups"] {
                    assert!(
                        !rule[field].as_array().unwrap().iter().any(|v| v == "*"),
                        "wildcard {field} in {d}"
                    );
                }
            }
        }
        if kind == "Deployment" {
            managers += 1;
            let image = d["spec"]["template"]["spec"]["containers"][0]["image"]
                .as_str()
                .unwrap();
            assert!(
                image.starts_with("europe-docker.pkg.dev/kyma-project/"),
                "{image}"
            );
        }
    }
    assert_eq!(managers, all.len(), "one manager Deployment per module");
}

#[test]
fn manifests_are_never_templated() {
    let out = text(&kyma(&["render", "--catalog", FIXTURES, "--modules", "eventing"])).0;
    assert!(
        out.contains("'{{ $join(spec.types, \", \") }}'"),
        "literal {{...}} kept:\n{out}"
    );
}

#[test]
fn values_precedence_end_to_end_with_locked_report() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("v.yaml"),
        "istio:\n  replicas: 3\n  numTrustedProxies: 2\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("central.yaml"),
        "istio:\n  numTrustedProxies: 5\n",
    )
    .unwrap();
    let v = dir.path().join("v.yaml");
    let o = dir.path().join("central.yaml");
    let out = kyma(&[
        "render",
        "--catalog",
        FIXTURES,
        "--modules",
        "istio",
        "--profile",
        "production",
        "-f",
        v.to_str().unwrap(),
        "--set",
        "istio.replicas=4",
        "--overrides",
        o.to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stderr}");
    assert!(
        stdout.contains("replicas: 4"),
        "--set wins over the file and the profile"
    );
    assert!(stdout.contains("numTrustedProxies: 5"), "central override wins");
    assert!(
        stderr.contains("istio.numTrustedProxies = 2 is locked by central overrides; using 5"),
        "{stderr}"
    );
}

#[test]
fn external_catalog_dir_overrides_and_adds_modules() {
    let cat = catalog(&[
        (
            "istio/module.yaml",
            "apiVersion: kyma.module/v1\nname: istio\nversion: 9.0.0\nnamespace: mesh\n".into(),
        ),
        (
            "istio/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: custom-{{ module.version }}\n".into(),
        ),
        (
            "extra/1.0.0/module.yaml",
            "apiVersion: kyma.module/v1\nname: extra\nversion: 1.0.0\ndependsOn: istio\n".into(),
        ),
        (
            "extra/1.0.0/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n".into(),
        ),
    ]);
    let out = kyma(&[
        "modules",
        "list",
        "-o",
        "json",
        "--catalog",
        cat.path().to_str().unwrap(),
    ]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let istio = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "istio")
        .unwrap();
    assert_eq!(
        istio["versions"],
        serde_json::json!(["9.0.0"]),
        "the external catalog owns istio now"
    );
    assert!(list.as_array().unwrap().iter().any(|m| m["name"] == "extra"));
    let r = text(&kyma(&[
        "render",
        "--catalog",
        cat.path().to_str().unwrap(),
        "--modules",
        "extra,istio",
    ]))
    .0;
    assert!(
        r.contains("name: custom-9.0.0") && r.contains("namespace: mesh"),
        "{r}"
    );
}

/// A tiny HTTP server on loopback serving fixed bodies; counts requests.
async fn serve(files: HashMap<String, Vec<u8>>) -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            let files = files.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = sock.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]);
                let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
                let (status, body) = match files.get(&path) {
                    Some(b) => ("200 OK", b.clone()),
                    None => ("404 Not Found", b"not found".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(&body).await;
            });
        }
    });
    (format!("http://{addr}"), hits)
}

fn tarball(files: &[(&str, &str)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    for (path, content) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(content.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        builder.append_data(&mut h, path, content.as_bytes()).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

#[tokio::test]
async fn catalog_and_manifest_urls_are_pinned_cached_and_work_offline() {
    let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-release\ndata:\n  ui: '{{ not.templated }}'\n";
    let manifest_sha = kyma::testkit::fetch::sha256_hex(manifest.as_bytes());
    let mut files = HashMap::new();
    files.insert("/m-manager.yaml".to_string(), manifest.as_bytes().to_vec());
    let (base, manifest_hits) = serve(files.clone()).await;
    let module_yaml = format!(
        "apiVersion: kyma.module/v1\nname: remote\nversion: 1.0.0\nnamespace: remote-system\nmanifests:\n- url: {base}/m-manager.yaml\n  sha256: {manifest_sha}\n"
    );
    let tgz = tarball(&[
        ("catalog/remote/module.yaml", &module_yaml),
        (
            "catalog/remote/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: t\n",
        ),
    ]);
    let tgz_sha = kyma::testkit::fetch::sha256_hex(&tgz);
    files.insert("/catalog.tar.gz".to_string(), tgz);
    let (base2, hits3) = serve(files).await;
    let cache = tempfile::tempdir().unwrap();
    let run = |args: Vec<String>| {
        let cache = cache.path().to_path_buf();
        async move {
            tokio::task::spawn_blocking(move || {
                std::process::Command::new(env!("CARGO_BIN_EXE_kyma"))
                    .args(&args)
                    .env("KYMA_CACHE_DIR", cache)
                    .env("NO_COLOR", "1")
                    .output()
                    .unwrap()
            })
            .await
            .unwrap()
        }
    };
    let url = format!("{base2}/catalog.tar.gz#sha256={tgz_sha}");
    let out = run(vec![
        "render".into(),
        "--catalog".into(),
        url.clone(),
        "--modules".into(),
        "remote".into(),
    ])
    .await;
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stderr}");
    assert!(
        stdout.contains("name: from-release")
            && stdout.contains("ui: \"{{ not.templated }}\"")
            && stdout.contains("name: t"),
        "{stdout}"
    );
    assert_eq!(hits3.load(Ordering::SeqCst), 1, "one download of the catalog");

    // Offline: the catalog and the pinned manifest both come from the cache.
    let out = run(vec![
        "render".into(),
        "--offline".into(),
        "--catalog".into(),
        url.clone(),
        "--modules".into(),
        "remote".into(),
    ])
    .await;
    assert_eq!(code(&out), 0, "{}", text(&out).1);
    assert_eq!(hits3.load(Ordering::SeqCst), 1, "offline touched no network");
    assert_eq!(
        manifest_hits.load(Ordering::SeqCst),
        1,
        "the pinned manifest was fetched once"
    );

    // A wrong pin is refused, whatever the cache holds.
    let bad = format!("{base2}/catalog.tar.gz#sha256={}", "0".repeat(64));
    let out = run(vec![
        "render".into(),
        "--catalog".into(),
        bad,
        "--modules".into(),
        "remote".into(),
    ])
    .await;
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 6, "{stderr}");
    assert!(
        stderr.contains("sha256 mismatch") && stdout.is_empty(),
        "{stderr}"
    );
    assert_eq!(
        stderr.matches("sha256 mismatch").count(),
        1,
        "said once: {stderr}"
    );
}

#[test]
fn output_dir_writes_one_file_per_module_and_modules_show_explains_values() {
    let dir = tempfile::tempdir().unwrap();
    let out = kyma(&[
        "render",
        "--catalog",
        FIXTURES,
        "--modules",
        "istio,nats",
        "--output-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    assert!(text(&out).0.is_empty(), "nothing on stdout with --output-dir");
    let istio = std::fs::read_to_string(dir.path().join("istio.yaml")).unwrap();
    let nats = std::fs::read_to_string(dir.path().join("nats.yaml")).unwrap();
    assert!(istio.contains("kind: Istio\n") && !istio.contains("kind: NATS\n"));
    assert!(nats.contains("kind: NATS\n"));

    let show = text(&kyma(&["modules", "show", "--catalog", FIXTURES, "nats"])).0;
    assert!(
        show.contains("nats 1.1.0") && show.contains("cluster.size: integer (minimum=1, maximum=5)"),
        "{show}"
    );
    let json: serde_json::Value = serde_json::from_slice(
        &kyma(&[
            "modules",
            "show",
            "--catalog",
            FIXTURES,
            "istio@1.1.0",
            "-o",
            "json",
        ])
        .stdout,
    )
    .unwrap();
    assert_eq!(json["version"], "1.1.0");
    assert_eq!(json["values"]["image"]["tag"], "1.1.0");
}

/// The own-format example module documents the contract: profiles, schema, the singular/plural
/// `ipFamily`/`ipFamilies` pattern, and `--set` list items building one list.
#[test]
fn the_example_module_renders_and_reads_both_forms_of_a_renamed_value() {
    let run = |extra: &[&str]| {
        let mut args = vec!["render", "--catalog", "examples/modules", "--modules", "hello"];
        args.extend_from_slice(extra);
        let out = kyma(&args);
        assert_eq!(code(&out), 0, "{:?}", text(&out));
        kyma::testkit::yaml::parse_all(&text(&out).0)
            .unwrap()
            .into_iter()
            .map(|(_, d)| d)
            .collect::<Vec<_>>()
    };
    let find =
        |docs: &[serde_json::Value], kind: &str| docs.iter().find(|d| d["kind"] == kind).cloned().unwrap();
    let docs = run(&["--profile", "production"]);
    assert_eq!(find(&docs, "Deployment")["spec"]["replicas"], 3);
    assert_eq!(
        find(&docs, "Service")["spec"]["ipFamilies"],
        serde_json::json!(["IPv4"]),
        "neither form set: the cluster's families (offline: IPv4)"
    );
    let old_form = run(&["--set", "hello.ipFamily=IPv6"]);
    assert_eq!(
        find(&old_form, "Service")["spec"]["ipFamilies"],
        serde_json::json!(["IPv6"])
    );
    let new_form = run(&[
        "--set",
        "hello.ipFamilies[0]=IPv6",
        "--set",
        "hello.ipFamilies[1]=IPv4",
    ]);
    // Offline the cluster is single-stack (cluster.ip_families = [IPv4]): the first family only.
    assert_eq!(
        find(&new_form, "Service")["spec"]["ipFamilyPolicy"],
        "SingleStack"
    );
    assert_eq!(
        find(&new_form, "Service")["spec"]["ipFamilies"],
        serde_json::json!(["IPv6"])
    );
    let bad = kyma(&[
        "render",
        "--catalog",
        "examples/modules",
        "--modules",
        "hello",
        "--set",
        "hello.ipFamily=IPv5",
    ]);
    assert_eq!(code(&bad), 2);
    assert!(text(&bad).1.contains("values.ipFamily"), "{:?}", text(&bad));
}

fn kyma_cached(cache: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kyma"))
        .args(args)
        .env("KYMA_CACHE_DIR", cache)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// `kyma mirror` copies release assets into GitHub's layout and lists the images; a mirror directory
/// then serves render without any network.
#[test]
fn mirror_fills_a_directory_that_serves_later_runs() {
    let source = real_modules_mirror();
    let cache = tempfile::tempdir().unwrap();
    let to = tempfile::tempdir().unwrap();
    let out = kyma_cached(
        cache.path(),
        &[
            "mirror",
            "--mirror",
            source.to_str().unwrap(),
            "--modules",
            "istio,keda",
            "--to",
            to.path().to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    for rel in [
        "kyma-project/istio/releases/download/1.30.0/istio-manager.yaml",
        "kyma-project/istio/releases/download/1.30.0/istio-default-cr.yaml",
        "kyma-project/keda-manager/releases/download/1.12.1/keda-manager.yaml",
        "kyma-project/keda-manager/releases/download/1.12.1/keda-default-cr.yaml",
    ] {
        assert_eq!(
            std::fs::read(to.path().join(rel)).unwrap(),
            std::fs::read(source.join(rel)).unwrap(),
            "{rel}"
        );
    }
    let images = std::fs::read_to_string(to.path().join("images.txt")).unwrap();
    let manifest = std::fs::read_to_string(
        source.join("kyma-project/keda-manager/releases/download/1.12.1/keda-manager.yaml"),
    )
    .unwrap();
    let docs: Vec<serde_json::Value> = kyma::testkit::yaml::parse_all(&manifest)
        .unwrap()
        .into_iter()
        .map(|(_, d)| d)
        .collect();
    let want = kyma::testkit::catalog::release::images(&docs);
    assert!(!want.is_empty());
    for i in want {
        assert!(
            images.lines().any(|l| l == i),
            "{i} missing from images.txt:\n{images}"
        );
    }
    // A fresh cache, --offline, and the new mirror directory: everything is there.
    let fresh = tempfile::tempdir().unwrap();
    let out = kyma_cached(
        fresh.path(),
        &[
            "render",
            "--offline",
            "--mirror",
            to.path().to_str().unwrap(),
            "--modules",
            "keda",
        ],
    );
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    assert!(text(&out).0.contains("kind: Keda\n"));
}

/// The digest first seen for an asset is recorded; content that changes later is refused, naming both
/// digests, until the user accepts it.
#[test]
fn a_changed_release_asset_is_refused_until_accepted() {
    let mirror = tempfile::tempdir().unwrap();
    let rel = "kyma-project/keda-manager/releases/download/1.12.1";
    std::fs::create_dir_all(mirror.path().join(rel)).unwrap();
    for f in ["keda-manager.yaml", "keda-default-cr.yaml"] {
        std::fs::copy(
            real_modules_mirror().join(rel).join(f),
            mirror.path().join(rel).join(f),
        )
        .unwrap();
    }
    let cache = tempfile::tempdir().unwrap();
    let m = mirror.path().to_str().unwrap();
    let out = kyma_cached(cache.path(), &["render", "--mirror", m, "--modules", "keda"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    let before = kyma::testkit::fetch::sha256_hex(
        &std::fs::read(mirror.path().join(rel).join("keda-manager.yaml")).unwrap(),
    );
    let recorded = std::fs::read_to_string(cache.path().join("digests.json")).unwrap();
    assert!(recorded.contains(&before), "{recorded}");

    // The publisher changes the asset; the cached copy is gone (a new machine, a cleared cache).
    let path = mirror.path().join(rel).join("keda-manager.yaml");
    let changed = std::fs::read_to_string(&path).unwrap()
        + "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: surprise\n  namespace: kyma-system\n";
    std::fs::write(&path, &changed).unwrap();
    let after = kyma::testkit::fetch::sha256_hex(changed.as_bytes());
    std::fs::remove_dir_all(cache.path().join("downloads")).unwrap();
    let out = kyma_cached(cache.path(), &["render", "--mirror", m, "--modules", "keda"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 6, "{stderr}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains(&before) && stderr.contains(&after) && stderr.contains("--accept-new-digests"),
        "{stderr}"
    );
    let out = kyma_cached(
        cache.path(),
        &[
            "render",
            "--mirror",
            m,
            "--modules",
            "keda",
            "--accept-new-digests",
        ],
    );
    assert_eq!(code(&out), 0, "{:?}", text(&out));
    assert!(text(&out).0.contains("name: surprise"));
    let out = kyma_cached(cache.path(), &["render", "--mirror", m, "--modules", "keda"]);
    assert_eq!(
        code(&out),
        0,
        "the accepted digest is the recorded one now: {:?}",
        text(&out)
    );
}

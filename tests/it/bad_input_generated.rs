//! Bad input at scale: a few hundred generated cases (broken, binary, deeply nested and huge YAML in
//! every file a user writes; objects two modules both claim; broken `--set`; kubeconfigs that are
//! wrong in every field, expired and X.509 v1 client certificates). Each must exit with its documented
//! code, name the culprit, print nothing on stdout, and apply nothing: `deploy` cases point at a
//! kubeconfig for a server that does not exist, so an error that is not found before connecting shows
//! up as a connection error instead of the expected one. No cluster needed.

use crate::bad_input::{failed_checks, run_offline};
use crate::support::figure;
use std::path::{Path, PathBuf};

struct Case {
    name: String,
    args: Vec<String>,
    exit: i32,
    /// All of these must be in stderr.
    culprit: Vec<String>,
}

fn write(path: &Path, content: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

const MODULE: &str = "apiVersion: kyma.module/v1\nname: m\nversion: 1.0.0\nnamespace: m-system\n";
const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n";

/// A catalog with module `m` (and optional extra files), under `root/<case>/cat`.
fn module_case(root: &Path, name: &str, files: &[(&str, Vec<u8>)]) -> PathBuf {
    let dir = root.join(name);
    write(&dir.join("cat/m/module.yaml"), MODULE);
    write(&dir.join("cat/m/templates/cm.yaml"), CM);
    for (p, c) in files {
        write(&dir.join("cat").join(p), c);
    }
    dir
}

/// Broken YAML of many shapes, each a complete document text.
fn broken_yaml() -> Vec<(&'static str, String)> {
    vec![
        ("unclosed-quote", "a: \"never closed\nb: 1\n".into()),
        ("unclosed-single-quote", "a: 'never closed\nb: 1\n".into()),
        ("unclosed-flow-seq", "a: [1, 2\nb: 1\n".into()),
        ("unclosed-flow-map", "a: {x: 1\nb: 1\n".into()),
        ("tab-indent", "a:\n\tb: 1\n".into()),
        ("bad-indent", "a:\n    b: 1\n  c: 2\n".into()),
        ("mapping-in-scalar", "a: b: c\n".into()),
        ("stray-dash", "a: 1\n- b\n".into()),
        ("unknown-alias", "a: *nowhere\n".into()),
        ("bad-anchor", "a: &\n".into()),
        ("duplicate-key", "a: 1\na: 2\n".into()),
        ("bad-escape", "a: \"\\q\"\n".into()),
        ("lone-colon", ":\n".into()),
        ("directive-garbage", "%YAML 9.9\n---\na: 1\n".into()),
        ("control-char", "a: \u{0007}bell\n".into()),
        ("trailing-flow", "a: [1, 2]]\n".into()),
        ("unterminated-block", "a: |\n b\nc\n  d: [\n".into()),
        ("question-key", "? [a\n: b\n".into()),
    ]
}

/// Bytes that are not text: NUL-laden, invalid UTF-8, random.
fn binaries() -> Vec<(String, Vec<u8>)> {
    let mut rng = fastrand::Rng::with_seed(0x6b796d61);
    let mut out = vec![
        ("nul".to_string(), b"a: 1\0\0\0b: 2\n".to_vec()),
        (
            "invalid-utf8".to_string(),
            vec![b'a', b':', b' ', 0xff, 0xfe, 0xfd, b'\n'],
        ),
        (
            "elf".to_string(),
            [b"\x7fELF\x02\x01\x01\0".as_slice(), &[0u8; 64]].concat(),
        ),
        (
            "gzip".to_string(),
            vec![0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3],
        ),
    ];
    for i in 0..6 {
        let len = rng.usize(16..4096);
        out.push((format!("random-{i}"), (0..len).map(|_| rng.u8(..)).collect()));
    }
    out
}

fn cases(root: &Path, bogus_kc: &Path) -> Vec<Case> {
    let mut v = Vec::new();
    let s = |x: &str| x.to_string();
    let render = |dir: &Path| {
        vec![
            s("render"),
            s("--catalog"),
            dir.join("cat").display().to_string(),
            s("--modules"),
            s("m"),
        ]
    };
    let deploy = |dir: &Path| {
        vec![
            s("deploy"),
            s("--catalog"),
            dir.join("cat").display().to_string(),
            s("--modules"),
            s("m"),
            s("--kubeconfig"),
            bogus_kc.display().to_string(),
            s("--wait-for-cluster"),
            s("0s"),
        ]
    };

    // Broken YAML in every file a module author writes, through render and deploy.
    for (what, text) in broken_yaml() {
        for (file, path) in [
            ("module", "m/module.yaml"),
            ("template", "m/templates/cm.yaml"),
            ("values", "m/values.yaml"),
        ] {
            let name = format!("yaml-{what}-in-{file}");
            let dir = module_case(root, &name, &[(path, text.clone().into_bytes())]);
            for args in [render(&dir), deploy(&dir)] {
                v.push(Case {
                    name: format!("{name}-{}", args[0]),
                    args,
                    exit: 2,
                    culprit: vec![path.to_string()],
                });
            }
        }
        // The same text as a user's --values file.
        let name = format!("yaml-{what}-in-user-values");
        let dir = module_case(root, &name, &[]);
        write(&dir.join("my-values.yaml"), &text);
        let mut args = render(&dir);
        args.extend([s("--values"), dir.join("my-values.yaml").display().to_string()]);
        v.push(Case {
            name,
            args,
            exit: 2,
            culprit: vec![s("my-values.yaml")],
        });
    }

    // Binary files where YAML is expected.
    for (what, bytes) in binaries() {
        for (file, path) in [
            ("module", "m/module.yaml"),
            ("template", "m/templates/cm.yaml"),
            ("values", "m/values.yaml"),
        ] {
            let name = format!("binary-{what}-in-{file}");
            let dir = module_case(root, &name, &[(path, bytes.clone())]);
            v.push(Case {
                name,
                args: deploy(&dir),
                exit: 2,
                culprit: vec![path.to_string()],
            });
        }
    }

    // Deep nesting: a parser that recurses must refuse, not overflow its stack.
    for depth in [200usize, 1_000, 10_000, 100_000] {
        for (shape, open, close) in [("seq", "[", "]"), ("map", "{a: ", "}")] {
            let text = format!("a: {}1{}\n", open.repeat(depth), close.repeat(depth));
            for (file, path) in [("template", "m/templates/cm.yaml"), ("values", "m/values.yaml")] {
                let name = format!("deep-{shape}-{depth}-in-{file}");
                let dir = module_case(root, &name, &[(path, text.clone().into_bytes())]);
                v.push(Case {
                    name,
                    args: render(&dir),
                    exit: 2,
                    culprit: vec![path.to_string()],
                });
            }
        }
    }
    // Block nesting (indentation), the other way to go deep.
    for depth in [300usize, 3_000] {
        let text: String = (0..depth)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect::<String>()
            + &" ".repeat(depth)
            + "x\n";
        let name = format!("deep-block-{depth}-in-values");
        let dir = module_case(root, &name, &[("m/values.yaml", text.into_bytes())]);
        v.push(Case {
            name,
            args: render(&dir),
            exit: 2,
            culprit: vec![s("m/values.yaml")],
        });
    }

    // Huge: an alias bomb (a few lines that expand to billions of nodes) and megabytes of broken text.
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\nh: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\ni: [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
    for (file, path) in [
        ("template", "m/templates/cm.yaml"),
        ("values", "m/values.yaml"),
        ("module", "m/module.yaml"),
    ] {
        let name = format!("alias-bomb-in-{file}");
        let dir = module_case(root, &name, &[(path, bomb.as_bytes().to_vec())]);
        v.push(Case {
            name,
            args: render(&dir),
            exit: 2,
            culprit: vec![path.to_string()],
        });
    }
    for mb in [1usize, 8] {
        let mut text = String::with_capacity(mb << 20);
        let mut i = 0;
        while text.len() < mb << 20 {
            text.push_str(&format!("key{i}: value {i}\n"));
            i += 1;
        }
        text.push_str("broken: [\n");
        for (file, path) in [("template", "m/templates/cm.yaml"), ("values", "m/values.yaml")] {
            let name = format!("huge-{mb}mb-broken-{file}");
            let dir = module_case(root, &name, &[(path, text.clone().into_bytes())]);
            v.push(Case {
                name,
                args: render(&dir),
                exit: 2,
                culprit: vec![path.to_string()],
            });
        }
    }

    // Two modules claiming one object (same kind, namespace and name), in many kinds.
    for (i, (api, kind, ns)) in [
        ("v1", "ConfigMap", true),
        ("v1", "Secret", true),
        ("v1", "ServiceAccount", true),
        ("v1", "Service", true),
        ("apps/v1", "Deployment", true),
        ("rbac.authorization.k8s.io/v1", "Role", true),
        ("rbac.authorization.k8s.io/v1", "ClusterRole", false),
        ("v1", "Namespace", false),
        ("scheduling.k8s.io/v1", "PriorityClass", false),
        ("networking.k8s.io/v1", "NetworkPolicy", true),
    ]
    .iter()
    .enumerate()
    {
        let name = format!("claimed-twice-{}", kind.to_lowercase());
        let dir = root.join(&name);
        let meta_ns = if *ns { "  namespace: shared\n" } else { "" };
        let obj = format!("apiVersion: {api}\nkind: {kind}\nmetadata:\n  name: same-{i}\n{meta_ns}");
        for m in ["a", "b"] {
            write(
                &dir.join(format!("cat/{m}/module.yaml")),
                format!("apiVersion: kyma.module/v1\nname: {m}\nversion: 1.0.0\n"),
            );
            write(&dir.join(format!("cat/{m}/templates/obj.yaml")), &obj);
        }
        let mut args = deploy(&dir);
        args[4] = s("a,b");
        v.push(Case {
            name,
            args,
            exit: 2,
            culprit: vec![
                format!("{kind}"),
                s("is also rendered by"),
                s("cat/a/templates/obj.yaml"),
            ],
        });
    }

    // --set in every broken shape.
    for (i, bad) in [
        "nothing",
        "=x",
        "m",
        "m.",
        "m..a=1",
        ".a=1",
        "m.a[=1",
        "m.a[x]=1",
        "m.a[-1]=1",
        "m.a[1=1",
        "m.a[99999999999999999999999]=1",
        "nosuchmodule.a=1",
    ]
    .iter()
    .enumerate()
    {
        let name = format!("set-{i}");
        let dir = module_case(root, &name, &[]);
        let mut args = deploy(&dir);
        args.extend([s("--set"), s(bad)]);
        v.push(Case {
            name,
            args,
            exit: 2,
            culprit: vec![s("--set"), bad.to_string()],
        });
    }

    // Kubeconfigs wrong in every field. Found before anything is rendered for the cluster.
    let dir = module_case(root, "kubeconfig", &[]);
    let kc_dir = root.join("kubeconfigs");
    let certs = certificates();
    let cluster = "clusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\n";
    let context = "contexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n";
    let b64 = |b: &[u8]| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(b)
    };
    let user_with = |cert: &[u8], key: &[u8]| {
        format!(
            "users:\n- name: u\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
            b64(cert),
            b64(key)
        )
    };
    let kubeconfigs: Vec<(&str, String, Vec<&str>)> = vec![
        ("empty", String::new(), vec![]),
        ("garbage", "{{{{".into(), vec![]),
        ("binary", String::from_utf8_lossy(&[0xff, 0, 1, 2]).into_owned(), vec![]),
        ("list", "- a\n- b\n".into(), vec![]),
        ("no-contexts", format!("apiVersion: v1\nkind: Config\n{cluster}users: []\n"), vec![]),
        ("unknown-cluster", "apiVersion: v1\nkind: Config\nclusters: []\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: x\n  context: {cluster: nowhere, user: u}\ncurrent-context: x\n".into(), vec![]),
        ("unknown-user", format!("apiVersion: v1\nkind: Config\n{cluster}users: []\ncontexts:\n- name: x\n  context: {{cluster: c, user: nobody}}\ncurrent-context: x\n"), vec![]),
        ("bad-server-url", "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'ht!tp://[::1'}\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n".into(), vec![]),
        ("ca-not-base64", format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: 'https://127.0.0.1:1', certificate-authority-data: '!!!'}}\nusers:\n- name: u\n  user: {{}}\n{context}"), vec![]),
        ("ca-file-missing", format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: 'https://127.0.0.1:1', certificate-authority: /nonexistent/ca.crt}}\nusers:\n- name: u\n  user: {{}}\n{context}"), vec![]),
        ("cert-not-base64", format!("apiVersion: v1\nkind: Config\n{cluster}users:\n- name: u\n  user:\n    client-certificate-data: '!!!'\n    client-key-data: '!!!'\n{context}"), vec![]),
        ("cert-file-missing", format!("apiVersion: v1\nkind: Config\n{cluster}users:\n- name: u\n  user:\n    client-certificate: /nonexistent/c.crt\n    client-key: /nonexistent/c.key\n{context}"), vec![]),
        ("cert-not-pem", format!("apiVersion: v1\nkind: Config\n{cluster}{}{context}", user_with(b"hello", &certs.key)), vec!["client-certificate-data"]),
        ("cert-expired", format!("apiVersion: v1\nkind: Config\n{cluster}{}{context}", user_with(&certs.expired, &certs.key)), vec!["users[u].client-certificate-data", "expired on"]),
        ("cert-not-yet-valid", format!("apiVersion: v1\nkind: Config\n{cluster}{}{context}", user_with(&certs.future, &certs.key)), vec!["users[u].client-certificate-data", "not valid before"]),
        ("cert-x509-v1", format!("apiVersion: v1\nkind: Config\n{cluster}{}{context}", user_with(&certs.v1, &certs.key)), vec!["users[u].client-certificate-data", "X.509 v1", "v3"]),
        ("key-without-cert", format!("apiVersion: v1\nkind: Config\n{cluster}users:\n- name: u\n  user:\n    client-key-data: {}\n{context}", b64(&certs.key)), vec![]),
    ];
    for (what, text, extra) in kubeconfigs {
        let path = kc_dir.join(what);
        write(&path, &text);
        for cmd in ["deploy", "status", "diff", "undeploy"] {
            let mut args = match cmd {
                "deploy" | "diff" => {
                    vec![
                        s(cmd),
                        s("--catalog"),
                        dir.join("cat").display().to_string(),
                        s("--modules"),
                        s("m"),
                    ]
                }
                "undeploy" => vec![s(cmd), s("--modules"), s("m")],
                _ => vec![s(cmd)],
            };
            args.extend([
                s("--kubeconfig"),
                path.display().to_string(),
                s("--wait-for-cluster"),
                s("0s"),
            ]);
            let mut culprit = vec![format!("kubeconfig {}", path.display())];
            culprit.extend(extra.iter().map(|e| e.to_string()));
            v.push(Case {
                name: format!("kubeconfig-{what}-{cmd}"),
                args,
                exit: 2,
                culprit,
            });
        }
    }
    v
}

struct Certs {
    key: Vec<u8>,
    expired: Vec<u8>,
    future: Vec<u8>,
    v1: Vec<u8>,
}

/// Client certificates that are wrong in time, and one in X.509 v1 (no extensions at all), made with
/// rcgen (v3, dated) and by hand (v1: rcgen cannot write one, so its TBS is re-encoded without the
/// version field and re-signed).
fn certificates() -> Certs {
    let key = rcgen::KeyPair::generate().unwrap();
    let dated = |from: (i32, u8, u8), to: (i32, u8, u8)| {
        let mut p = rcgen::CertificateParams::new(vec!["user".to_string()]).unwrap();
        p.not_before = rcgen::date_time_ymd(from.0, from.1, from.2);
        p.not_after = rcgen::date_time_ymd(to.0, to.1, to.2);
        p.self_signed(&key).unwrap().pem().into_bytes()
    };
    let expired = dated((2020, 1, 1), (2021, 1, 1));
    let future = dated((2090, 1, 1), (2091, 1, 1));
    let v1 = x509_v1(&key);
    Certs {
        key: key.serialize_pem().into_bytes(),
        expired,
        future,
        v1,
    }
}

/// An X.509 v1 certificate: a v3 one from rcgen without extensions, its `[0] version` dropped from the
/// TBSCertificate, signed again with the same key.
fn x509_v1(key: &rcgen::KeyPair) -> Vec<u8> {
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "legacy-user");
    let v3 = p.self_signed(key).unwrap();
    let der = v3.der().to_vec();
    // Certificate ::= SEQUENCE { tbs SEQUENCE, sigAlg, sig }
    let (_, cert_body) = der_split(&der);
    let (tbs_full, _) = der_take(cert_body);
    let (_, tbs_body) = der_split(tbs_full);
    let mut rest = tbs_body;
    // Drop [0] EXPLICIT version, and [3] extensions at the end if any.
    let mut fields = Vec::new();
    while !rest.is_empty() {
        let (f, r) = der_take(rest);
        fields.push(f);
        rest = r;
    }
    let fields: Vec<&[u8]> = fields
        .into_iter()
        .filter(|f| f[0] != 0xa0 && f[0] != 0xa3)
        .collect();
    let tbs = der_wrap(0x30, &fields.concat());
    use rcgen::SigningKey as _;
    let sig = key.sign(&tbs).unwrap();
    // ecdsa-with-SHA256 (rcgen's default key is P-256).
    let alg = der_wrap(
        0x30,
        &der_wrap(0x06, &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]),
    );
    let mut bits = vec![0u8];
    bits.extend(sig);
    let cert = der_wrap(0x30, &[tbs, alg, der_wrap(0x03, &bits)].concat());
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(cert);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
    .into_bytes()
}

/// (header length, content) of the DER element at the start of `b`.
fn der_split(b: &[u8]) -> (usize, &[u8]) {
    let (len, hdr) = if b[1] & 0x80 == 0 {
        (b[1] as usize, 2)
    } else {
        let n = (b[1] & 0x7f) as usize;
        (
            b[2..2 + n].iter().fold(0usize, |a, &x| (a << 8) | x as usize),
            2 + n,
        )
    };
    (hdr, &b[hdr..hdr + len])
}

/// The whole DER element at the start of `b`, and what follows it.
fn der_take(b: &[u8]) -> (&[u8], &[u8]) {
    let (hdr, content) = der_split(b);
    b.split_at(hdr + content.len())
}

fn der_wrap(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n.to_be_bytes().into_iter().skip_while(|&b| b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

#[test]
fn generated_bad_inputs_exit_with_their_code_and_name_the_culprit() {
    kyma::testkit::tls::install_crypto_provider();
    let root = tempfile::tempdir().unwrap();
    let bogus = root.path().join("unreachable-kubeconfig");
    write(
        &bogus,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\nusers:\n- name: u\n  user: {token: secret-token-value}\ncontexts:\n- name: x\n  context: {cluster: c, user: u}\ncurrent-context: x\n",
    );
    let cases = cases(root.path(), &bogus);
    assert!(cases.len() >= 200, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
        let out = run_offline(root.path(), &args);
        let must_name: Vec<&str> = case.culprit.iter().map(String::as_str).collect();
        failures.extend(failed_checks(&case.name, &out, case.exit, &must_name));
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stderr.contains("cannot reach") {
            failures.push(format!(
                "{}: reached for the cluster before finding the bad input:\n{stderr}",
                case.name
            ));
        }
    }
    figure(format!(
        "{} generated bad-input cases, {} failed",
        cases.len(),
        failures.len()
    ));
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

//! The fetch path's bounds: asset paths stay inside the folders they name (a mirror directory,
//! `kyma mirror --to`), and downloads and catalog archives stay within `--max-download-size`. The URL
//! rule itself is checked by the bad-input corpus (56-60); these are the links on disk that only a
//! resolved path shows, and the limits, against a server on loopback.

use std::io::Read as _;
use std::path::Path;
use std::process::Output;

use crate::support::*;

const KEDA: &str = "kyma-project/keda-manager/releases/download/1.12.1";

fn kyma_cached(cache: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_kyma"))
        .args(args)
        .env("KYMA_CACHE_DIR", cache)
        .env("NO_COLOR", "1")
        .env_remove("KYMA_MAX_DOWNLOAD_SIZE")
        .output()
        .unwrap()
}

#[cfg(unix)]
#[test]
fn links_that_lead_out_of_a_mirror_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (mirror, outside) = (tmp.path().join("mirror"), tmp.path().join("outside"));
    std::fs::create_dir_all(mirror.join(KEDA)).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    let real = real_modules_mirror().join(KEDA);
    std::fs::copy(
        real.join("keda-default-cr.yaml"),
        mirror.join(KEDA).join("keda-default-cr.yaml"),
    )
    .unwrap();
    std::fs::copy(real.join("keda-manager.yaml"), outside.join("keda-manager.yaml")).unwrap();
    std::os::unix::fs::symlink(
        outside.join("keda-manager.yaml"),
        mirror.join(KEDA).join("keda-manager.yaml"),
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let m = mirror.to_str().unwrap();
    let out = kyma_cached(cache.path(), &["render", "--mirror", m, "--modules", "keda"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 2, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("module keda@1.12.1")
            && stderr.contains(&format!("is outside {m}"))
            && stderr.contains(&format!(
                "leads to {}",
                outside.join("keda-manager.yaml").display()
            )),
        "{stderr}"
    );

    // `kyma mirror --to`: a directory link inside the target that leads out; nothing lands outside.
    let to = tmp.path().join("to");
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&to).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, to.join("kyma-project")).unwrap();
    let source = real_modules_mirror();
    let out = kyma_cached(
        cache.path(),
        &[
            "mirror",
            "--mirror",
            source.to_str().unwrap(),
            "--modules",
            "keda",
            "--to",
            to.to_str().unwrap(),
        ],
    );
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 2, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("is outside") && stderr.contains("kyma-project"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_dir(&elsewhere).unwrap().count(),
        0,
        "kyma mirror wrote outside --to"
    );
}

/// A .tar.gz holding one entry of `size` zero bytes: about 1KiB of gzip per MiB unpacked.
fn zeros_targz(kind: tar::EntryType, path: &str, size: u64) -> Vec<u8> {
    let mut b = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::best(),
    ));
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_path(path).unwrap();
    h.set_cksum();
    b.append(&h, std::io::repeat(0).take(size)).unwrap();
    b.into_inner().unwrap().finish().unwrap()
}

/// kyma with at most `data_kib` of heap (RLIMIT_DATA): a run that held an archive's unpacked bytes in
/// memory would die of it instead of failing with its message.
fn kyma_bounded(cache: &Path, data_kib: u64, args: &[&str]) -> Output {
    std::process::Command::new("bash")
        .arg("-c")
        .arg(format!("ulimit -d {data_kib} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_kyma"))
        .args(args)
        .env("KYMA_CACHE_DIR", cache)
        .env("NO_COLOR", "1")
        .env_remove("KYMA_MAX_DOWNLOAD_SIZE")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_and_catalog_archives_stay_within_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.yaml"), vec![b'#'; 2 << 20]).unwrap();
    // 300MiB of zeros in one file: more than the default limit of 256MiB.
    let bomb = zeros_targz(tar::EntryType::Regular, "c/m/templates/big.yaml", 300 << 20);
    assert!(bomb.len() < 1 << 20, "the bomb is {} bytes of gzip", bomb.len());
    std::fs::write(dir.path().join("bomb.tar.gz"), &bomb).unwrap();
    // A GNU long name, which the tar reader reads whole before it yields an entry.
    let long_name = zeros_targz(tar::EntryType::GNULongName, "././@LongLink", 64 << 20);
    std::fs::write(dir.path().join("long-name.tar.gz"), &long_name).unwrap();
    let (base, _) = serve_dir(dir.path().to_path_buf()).await;
    let cache = tempfile::tempdir().unwrap();
    let cache = cache.path().to_path_buf();
    let run = move |data_kib: u64, args: Vec<String>| {
        let cache = cache.clone();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            kyma_bounded(&cache, data_kib, &args)
        })
    };

    let big = format!("{base}/big.yaml");
    let out = run(
        1 << 20,
        vec![
            "modules".into(),
            "list".into(),
            "--catalog".into(),
            big.clone(),
            "--max-download-size".into(),
            "1MiB".into(),
        ],
    )
    .await
    .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 6, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains(&format!("{big} is larger than the download limit of 1MiB"))
            && stderr.contains("--max-download-size"),
        "{stderr}"
    );

    // The default limit, and 200MiB of heap: the 300MiB entry is refused, not unpacked.
    let url = format!("{base}/bomb.tar.gz");
    let out = run(
        200 << 10,
        vec!["modules".into(), "list".into(), "--catalog".into(), url.clone()],
    )
    .await
    .unwrap();
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 2, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains(&format!("catalog {url}: unpacks to more than 256MiB"))
            && stderr.contains("--max-download-size"),
        "{stderr}"
    );

    let url = format!("{base}/long-name.tar.gz");
    let out = run(
        200 << 10,
        vec![
            "modules".into(),
            "list".into(),
            "--catalog".into(),
            url.clone(),
            "--max-download-size".into(),
            "16MiB".into(),
        ],
    )
    .await
    .unwrap();
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), 2, "{stderr}");
    assert!(
        stderr.contains(&format!("catalog {url}: unpacks to more than 16MiB")),
        "{stderr}"
    );
}

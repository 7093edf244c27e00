//! The fetch path's bounds: asset paths stay inside the folders they name (a mirror directory,
//! `kyma mirror --to`). The URL rule itself is checked by the bad-input corpus (56-60); these are the
//! links on disk that only a resolved path shows.

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

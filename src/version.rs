//! Build identity, printed by `kyma version` and `--version`.

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const COMMIT: &str = env!("KYMA_GIT_COMMIT");
pub const TARGET: &str = env!("KYMA_BUILD_TARGET");
pub const SHORT: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("KYMA_GIT_COMMIT"),
    " ",
    env!("KYMA_BUILD_TARGET"),
    ")"
);

//! The operator's log: `tracing` events with a level, a timestamp and fields (`kyma` = the object's
//! `namespace/name`, `module`, `cluster`, `shard`), written to stderr as text or as one JSON object per
//! line (`--log-format`). The command line's own output does not go through here: it stays the report.

use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::cli::LogFormat;

/// Install the operator's subscriber: kyma's events from INFO, other crates' (kube-rs) from WARN.
pub(super) fn init(format: LogFormat) {
    let filter = Targets::new()
        .with_default(LevelFilter::WARN)
        .with_target("kyma", LevelFilter::INFO);
    let registry = tracing_subscriber::registry().with(filter);
    let text = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    // A second init (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => registry.with(text.with_ansi(color())).try_init(),
        LogFormat::Json => registry.with(text.json().with_ansi(false)).try_init(),
    };
}

/// Colours only on a terminal, and never with NO_COLOR set.
fn color() -> bool {
    crate::report::style::stderr_is_tty() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

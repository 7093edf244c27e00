//! The download bar.

use std::time::{Duration, Instant};

/// A download bar that appears only once a download has taken longer than a moment, so fast and
/// cached fetches print nothing.
pub(super) struct ProgressOnTty {
    enabled: bool,
    started: Instant,
    len: Option<u64>,
    name: String,
    bar: Option<indicatif::ProgressBar>,
}

impl ProgressOnTty {
    pub(super) fn new(enabled: bool, url: &str, len: Option<u64>) -> Self {
        let name = url.rsplit('/').next().unwrap_or(url).to_string();
        ProgressOnTty {
            enabled,
            started: Instant::now(),
            len,
            name,
            bar: None,
        }
    }
    pub(super) fn advance(&mut self, done: u64) {
        if !self.enabled {
            return;
        }
        if self.bar.is_none() && self.started.elapsed() > Duration::from_millis(300) {
            let bar = match self.len {
                Some(n) => indicatif::ProgressBar::new(n),
                None => indicatif::ProgressBar::new_spinner(),
            };
            let template = if self.len.is_some() {
                "{msg:.40} {bar:30} {bytes}/{total_bytes}"
            } else {
                "{msg:.40} {spinner} {bytes}"
            };
            bar.set_style(indicatif::ProgressStyle::with_template(template).expect("template"));
            bar.set_message(format!("downloading {}", self.name));
            self.bar = Some(bar);
        }
        if let Some(b) = &self.bar {
            b.set_position(done);
        }
    }
    pub(super) fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

//! What one command did on one cluster, kept until it can be printed: with several clusters the
//! fleet runner prints each cluster's section in order; with one, notes go to stderr at once.

use std::fmt::Write as _;

use crate::exit::Exit;
use serde_json::Value;

/// What one command did on one cluster.
#[derive(Debug, Default)]
pub struct Report {
    pub exit: Exit,
    /// The `-o json` document of a single-cluster run.
    pub json: Value,
    pub stdout: String,
    /// Notes and warnings, each line as it would go to stderr.
    pub stderr: String,
    /// One cluster: notes go to stderr as they come (a warning before the progress, not after it).
    pub immediate: bool,
}

impl Report {
    pub fn new(immediate: bool) -> Report {
        Report {
            immediate,
            ..Default::default()
        }
    }
    pub fn warn(&mut self, message: &str) {
        self.note(format!("{} {message}", crate::report::style::warning_prefix()));
    }
    pub fn note(&mut self, message: impl std::fmt::Display) {
        if self.immediate {
            eprintln!("{message}");
        } else {
            let _ = writeln!(self.stderr, "{message}");
        }
    }
    pub fn out(&mut self, text: impl std::fmt::Display) {
        let _ = write!(self.stdout, "{text}");
    }
}

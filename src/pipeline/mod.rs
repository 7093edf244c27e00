//! The offline half of the pipeline shared by render, deploy, diff and the operator:
//! load (catalog → selection → assets → values), then prepare (render → guards → plan).
//! It takes typed inputs (`input.rs`), never command-line structs.

mod input;
mod load;
mod prepare;

use anyhow::Context as _;

pub use input::{FetchSettings, Selection, Values};
pub use load::{Loaded, catalog_error, load, load_catalog, load_with, select};
pub use prepare::{Prepared, prepare, render, warning_lines};

/// Why the offline half stopped. It names what was wrong; the front ends decide the exit code (`exit.rs`:
/// bad input 2, a catalog or asset that could not be had 6).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Something the user gave is wrong (catalog, selection, values, templates, grants, a URL or
    /// mirror path that would leave its folder): fixing the input is the only cure.
    #[error(transparent)]
    Input(anyhow::Error),
    /// A catalog or an asset could not be had (network, mirror, cache): trying again may work.
    #[error(transparent)]
    Unavailable(anyhow::Error),
}

/// Mark an error as the user's input being wrong.
pub(crate) fn input(e: impl Into<anyhow::Error>) -> PipelineError {
    PipelineError::Input(e.into())
}

pub fn write_file(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    write_bytes(path, text.as_bytes())
}

pub fn write_bytes(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

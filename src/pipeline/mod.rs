//! The offline half of the pipeline shared by render, deploy, diff and the operator:
//! load (catalog → selection → assets → values), then prepare (render → guards → plan).
//! It takes typed inputs (`input.rs`), never command-line structs.

mod input;
mod load;
mod prepare;

use anyhow::Context as _;

pub use input::{FetchSettings, Selection, Values};
pub use load::{Loaded, catalog_failure, fetcher, load, load_catalog, select};
pub use prepare::{prepare, print_warnings, render, warning_lines};

pub fn write_file(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    write_bytes(path, text.as_bytes())
}

pub fn write_bytes(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

//! Everything a selected module downloads, fetched before anything is rendered: a release module's
//! assets (laid out as module files, see [`super::release::materialize`]) and the text of an
//! own-format module's manifest URLs. Rendering then works on bytes in memory and never downloads.

use super::{CatalogError, Module};
use crate::fetch::Fetcher;

/// `m` with every download it needs in memory.
pub fn fetch(m: &Module, fetcher: &Fetcher) -> Result<Module, CatalogError> {
    let mut out = super::release::materialize(m, fetcher)?;
    for r in &m.manifest_urls {
        let bytes = fetcher.get_asset(r.url(), r.sha256())?;
        let text = String::from_utf8(bytes).map_err(|_| CatalogError::BadModuleFile {
            file: r.url().to_string(),
            message: "is not UTF-8 text".into(),
        })?;
        out.downloaded.insert(r.url().to_string(), text);
    }
    Ok(out)
}

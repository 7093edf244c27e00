//! What the pipeline is given, as data: which catalogs and how to fetch from them, which modules, and
//! which values. The command line builds these from its flags (`front/requests.rs`); the operator
//! from a `Kyma` object and its own settings. No clap type reaches the pipeline.

use crate::fetch::{Fetcher, Mirror};
use crate::values::{Document, Profile};

/// Where modules come from and how they are downloaded: `--catalog`, `--offline`, `--mirror`,
/// `--accept-new-digests`, `--max-download-size`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchSettings {
    /// Catalogs added to the built-in one (directories or URLs); later ones win.
    pub catalogs: Vec<String>,
    pub offline: bool,
    pub mirror: Option<String>,
    pub accept_new_digests: bool,
    pub max_download_size: u64,
}

impl FetchSettings {
    pub fn fetcher(&self) -> Fetcher {
        Fetcher {
            offline: self.offline,
            mirror: self.mirror.as_deref().map(Mirror::parse),
            accept_new_digests: self.accept_new_digests,
            progress: true,
            max_download_size: self.max_download_size,
        }
    }
}

/// Which modules, with which values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Selection {
    /// `name` or `name@version`, each module once, in the order given.
    pub modules: Vec<String>,
    pub values: Values,
}

/// The values of a selection, lowest precedence first: the modules' profile, documents (`-f` files, or
/// a `Kyma` object's values), `--set` pairs, then the central overrides, which win over everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Values {
    pub profile: Option<Profile>,
    pub documents: Vec<Document>,
    /// `module.path.to.key=value`, all one layer.
    pub set: Vec<String>,
    pub overrides: Option<Document>,
}

impl Selection {
    /// These modules with no values of their own.
    pub fn modules(modules: Vec<String>) -> Selection {
        Selection {
            modules,
            values: Values::default(),
        }
    }
}

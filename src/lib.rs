//! `kyma`: install Kyma modules into any Kubernetes cluster.
//!
//! The pipeline, one module per stage, data flowing one way:
//! `catalog` → `values` → `render` → `plan` → `engine` (rounds, readiness; talks to `cluster`) → `report`.
//! `cli` parses flags once; `commands` wire the stages, one file per command.
//!
//! Every module is private: the binary needs [`Cli`] and [`run`], and the integration tests and fuzz
//! targets reach the few items they drive through [`testkit`]. Anything else the crate stops using,
//! the compiler reports as dead.

mod action;
mod catalog;
mod cli;
mod cluster;
mod commands;
mod engine;
mod exit;
mod inventory;
mod lock;
mod normalize;
mod object;
mod plan;
mod privilege;
mod render;
mod report;
mod tls;
mod values;
mod version;
mod yaml;

pub use cli::Cli;
pub use commands::run;

/// What `tests/it` and `fuzz/` drive directly, by the paths they use; not an API.
#[doc(hidden)]
pub mod testkit {
    pub mod catalog {
        pub use crate::catalog::{Catalog, FileSet};
        pub mod fetch {
            pub use crate::catalog::fetch::sha256_hex;
        }
        pub mod release {
            pub use crate::catalog::release::{GITHUB, images};
        }
        pub mod source {
            pub use crate::catalog::source::{builtin, from_dir};
        }
    }
    pub mod cluster {
        pub use crate::cluster::{ApplyOptions, Cluster, Resource, connect};
    }
    pub mod engine {
        pub mod classify {
            pub use crate::engine::classify::{FatalClass, RetryClass, Verdict, classify};
        }
    }
    pub mod inventory {
        pub use crate::inventory::{Inventory, NAMESPACE, PART_OF_LABEL, applyset_id, read_all};
    }
    pub mod lock {
        pub use crate::lock::{Lock, LockWait};
    }
    pub mod tls {
        pub use crate::tls::install_crypto_provider;
    }
    pub mod values {
        pub use crate::values::parse_set;
    }
    pub mod yaml {
        pub use crate::yaml::{parse, parse_all, to_string};
    }
}

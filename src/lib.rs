//! `kyma`: install Kyma modules into any Kubernetes cluster.
//!
//! The pipeline, one module per stage, data flowing one way:
//! `catalog` (+ `fetch`) → `values` → `render` → `plan` → `engine` (rounds, readiness; talks to `cluster`,
//! records in `store`) → `report`. `pipeline` runs the offline half, `action` one operation on one cluster,
//! `commands` and `operator` are the two front ends.
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
mod errors;
mod exit;
mod fetch;
mod front;
mod hash;
mod normalize;
mod object;
mod operator;
mod pipeline;
mod plan;
mod policy;
mod privilege;
mod render;
mod report;
mod rollout;
mod store;
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
        pub mod release {
            pub use crate::catalog::release::images;
            pub use crate::fetch::GITHUB;
        }
        pub mod source {
            pub use crate::catalog::source::{builtin, from_dir};
        }
    }
    pub mod cluster {
        pub use crate::cluster::{ApplyOptions, Cluster, Resource, connect};
        pub mod classify {
            pub use crate::cluster::classify::{FatalClass, RetryClass, Verdict, classify};
        }
    }
    pub mod fetch {
        pub use crate::hash::sha256_hex;
    }
    pub mod store {
        pub mod inventory {
            pub use crate::store::inventory::{Inventory, NAMESPACE, PART_OF_LABEL, applyset_id, read_all};
        }
        pub mod lock {
            pub use crate::store::lock::{Lock, LockWait};
        }
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

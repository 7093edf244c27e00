//! `kyma`: install Kyma modules into any Kubernetes cluster.
//!
//! The pipeline, one module per stage, data flowing one way:
//! `catalog` → `values` → `render` → `plan` → `engine` (rounds, readiness; talks to `cluster`) → `report`.
//! `cli` parses flags once; `commands` wire the stages, one file per command.

pub mod action;
pub mod catalog;
pub mod cli;
pub mod cluster;
pub mod commands;
pub mod engine;
pub mod exit;
pub mod inventory;
pub mod lock;
pub mod normalize;
pub mod object;
pub mod plan;
pub mod render;
pub mod report;
pub mod tls;
pub mod values;
pub mod version;
pub mod yaml;

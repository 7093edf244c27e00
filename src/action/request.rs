//! What one operation on a cluster is asked to do, as data. The command line builds a request from its
//! flags (`front/requests.rs`), the fleet runner hands the same request to every cluster, and the
//! operator builds one from a `Kyma` object — nobody builds an argv or writes a file to talk to the
//! pipeline and the engine.
//!
//! The defaults live here, once: `DeployRequest::new` and friends start from them, and the command
//! line's flags take their defaults from the same constants (`defaults`), so a flag left out and a
//! field left at its default always agree.

use std::time::Duration;

use super::deploy::DeployOptions;
use crate::pipeline::Selection;
use crate::store::lock::LockWait;

/// The defaults of every request, as the command line spells them (clap parses these same strings).
pub mod defaults {
    /// `kyma deploy --timeout`.
    pub const DEPLOY_TIMEOUT: &str = "10m";
    /// `kyma undeploy --timeout`.
    pub const UNDEPLOY_TIMEOUT: &str = "5m";
    /// `--wait-for-cluster`.
    pub const WAIT_FOR_CLUSTER: &str = "30s";
    /// `--status-grace`.
    pub const STATUS_GRACE: &str = "3s";
    /// `--error-grace`.
    pub const ERROR_GRACE: &str = "60s";
    /// Requests in flight at once, for deploy and for the reads of status and diff alike.
    pub const CONCURRENCY: u16 = 32;

    /// One of the durations above (they are constants: they always parse).
    pub fn duration(s: &str) -> std::time::Duration {
        humantime::parse_duration(s).expect("a default duration parses")
    }
}

/// Deploy a selection of modules to one cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployRequest {
    pub selection: Selection,
    /// Give up after this long.
    pub timeout: Duration,
    /// How long to wait for a cluster that does not answer yet (never longer than `timeout`).
    pub wait_for_cluster: Duration,
    /// Another run holds the cluster lock: fail, or wait.
    pub wait_for_lock: LockWait,
    /// Requests in flight at once.
    pub concurrency: u16,
    /// Wait for readiness (`--no-wait` turns it off).
    pub wait: bool,
    pub dry_run: bool,
    pub force_conflicts: bool,
    pub status_grace: Duration,
    pub error_grace: Duration,
    pub force_replace: bool,
    pub adopt: bool,
    pub allow_empty: bool,
    pub prune_crds: bool,
    pub reapply: bool,
}

impl DeployRequest {
    /// A deploy of `selection` with every default of `kyma deploy`.
    pub fn new(selection: Selection) -> DeployRequest {
        DeployRequest {
            selection,
            timeout: defaults::duration(defaults::DEPLOY_TIMEOUT),
            wait_for_cluster: defaults::duration(defaults::WAIT_FOR_CLUSTER),
            wait_for_lock: LockWait::Fail,
            concurrency: defaults::CONCURRENCY,
            wait: true,
            dry_run: false,
            force_conflicts: false,
            status_grace: defaults::duration(defaults::STATUS_GRACE),
            error_grace: defaults::duration(defaults::ERROR_GRACE),
            force_replace: false,
            adopt: false,
            allow_empty: false,
            prune_crds: false,
            reapply: false,
        }
    }

    /// How long connecting may wait for the cluster: `wait_for_cluster`, never more than `timeout`.
    pub fn connect_window(&self) -> Duration {
        self.wait_for_cluster.min(self.timeout)
    }

    /// The action's options, with the modules this server was found too old for.
    pub fn options(
        &self,
        refused: std::collections::BTreeMap<String, crate::normalize::Refusal>,
    ) -> DeployOptions {
        DeployOptions {
            settings: crate::engine::Settings {
                concurrency: self.concurrency as usize,
                timeout: self.timeout,
                wait: self.wait,
                dry_run: self.dry_run,
                force_conflicts: self.force_conflicts,
                status_grace: self.status_grace,
                error_grace: self.error_grace,
                force_replace: self.force_replace,
            },
            adopt: self.adopt,
            allow_empty: self.allow_empty,
            prune_crds: self.prune_crds,
            reapply: self.reapply,
            wait_for_lock: self.wait_for_lock,
            refused,
        }
    }
}

/// Remove modules kyma deployed from one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndeployRequest {
    pub modules: Vec<String>,
    /// Every module kyma installed (then `modules` is empty).
    pub all: bool,
    pub force: bool,
    pub prune_crds: bool,
    pub remove_finalizers: bool,
    pub timeout: Duration,
    pub wait_for_cluster: Duration,
    pub wait_for_lock: LockWait,
}

impl UndeployRequest {
    /// An undeploy of `modules` with every default of `kyma undeploy`.
    pub fn new(modules: Vec<String>) -> UndeployRequest {
        UndeployRequest {
            modules,
            all: false,
            force: false,
            prune_crds: false,
            remove_finalizers: false,
            timeout: defaults::duration(defaults::UNDEPLOY_TIMEOUT),
            wait_for_cluster: defaults::duration(defaults::WAIT_FOR_CLUSTER),
            wait_for_lock: LockWait::Fail,
        }
    }

    pub fn connect_window(&self) -> Duration {
        self.wait_for_cluster.min(self.timeout)
    }
}

/// Compare what a deploy of a selection would change on one cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffRequest {
    pub selection: Selection,
    /// Objects compared at once.
    pub concurrency: u16,
    pub wait_for_cluster: Duration,
}

/// Read what kyma installed on one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRequest {
    /// Only these modules (empty: every installed module).
    pub modules: Vec<String>,
    /// Not Ready or drifted is a failure (a CI gate).
    pub check: bool,
    pub concurrency: u16,
    pub wait_for_cluster: Duration,
}

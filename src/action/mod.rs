//! Operations on a cluster around the engine, one file each (after Helm's `pkg/action`): deploy with
//! inventory and prune, undeploy, and the read-only status and diff. Commands call these; these call
//! `cluster`, `inventory`, `lock` and `engine`.

pub mod delete;
pub mod deploy;
pub mod inspect;
pub mod request;
pub mod unchanged;
pub mod undeploy;

use crate::cluster::RequestError;
use crate::store::inventory::InventoryError;
use crate::store::lock::{LockError, Lost};

/// Why an action stopped before it could report. The action says what happened; `commands` decides
/// what exit code that is.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    #[error("cannot write the inventory of {module}")]
    InventoryWrite {
        module: String,
        /// Boxed: a request error with the server's causes is large, and this error travels in every
        /// action's `Result`.
        #[source]
        source: Box<RequestError>,
    },
    #[error("interrupted; what is not deleted yet is still recorded: re-run `kyma undeploy` to finish")]
    Interrupted,
    #[error("interrupted while waiting for the cluster lock; nothing was changed")]
    InterruptedWaitingForLock,
    /// The Lease stopped being ours mid-run: another run may be writing now, so this one stopped at
    /// once and wrote nothing more, not even its inventories (they still list everything it touched).
    #[error(
        "lost the cluster lock ({0}); this run stopped writing at once and left its inventories as they were. \
         Another run may have changed the cluster since: check with `kyma status`, then run again"
    )]
    LockLost(Lost),
    #[error("module '{module}' is not installed by kyma on this cluster (installed: {})", none_if_empty(.installed))]
    NotInstalled { module: String, installed: Vec<String> },
    #[error("{}; nothing was removed (pass --force to undeploy anyway)", .0.join("; "))]
    DependedOn(Vec<String>),
    #[error(
        "custom resources of the module's kinds that kyma did not create exist: {}; nothing was removed. \
         Delete them first, or pass --force to remove the module anyway (its CRDs then stay while such resources exist)",
        .0.join("; ")
    )]
    ForeignResources(Vec<String>),
}

fn none_if_empty(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

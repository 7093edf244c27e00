//! Exit codes are public API: CI pipelines branch on them. Documented in the README and `kyma deploy --help`.

use std::fmt;

use crate::action::ActionError;
use crate::cluster::ConnectError;
use crate::pipeline::PipelineError;
use crate::store::lock::LockError;

/// The documented, distinct exit codes of every `kyma` command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Exit {
    /// Everything asked for succeeded (for `diff`: no changes).
    #[default]
    Success = 0,
    /// At least one module failed (for `diff`: there are changes).
    ModuleFailed = 1,
    /// Bad input or configuration: flags, catalog, values, templates, kubeconfig. Nothing was applied.
    BadInput = 2,
    /// `--timeout` expired before every module was ready.
    Timeout = 3,
    /// The cluster could not be reached, or refused our credentials.
    Unreachable = 4,
    /// Another run holds the cluster lock.
    Locked = 5,
    /// A catalog or a module's release assets could not be had: unreachable, not in the mirror, not
    /// cached under `--offline`, or content that differs from its pin or recorded digest. Nothing was
    /// applied.
    Fetch = 6,
    /// A rollout over several clusters (`--waves`) halted: more clusters failed than `--max-failures`
    /// allows, and the clusters of the waves after were not started (their reports say so, with this
    /// code).
    Halted = 7,
    /// Interrupted (Ctrl-C); what was applied is reported.
    Interrupted = 130,
}

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// An error that carries the exit code it must end the process with. Stages return their own
/// `thiserror` types; commands wrap them into this at the boundary where the class is known.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub error: anyhow::Error,
}

impl Failure {
    pub fn new(exit: Exit, error: impl Into<anyhow::Error>) -> Self {
        Failure {
            exit,
            error: error.into(),
        }
    }
    pub fn bad_input(error: impl Into<anyhow::Error>) -> Self {
        Self::new(Exit::BadInput, error)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for Failure {}

/// Exit code for any error that reaches `main`: a `Failure` says its own; anything else is a bug or
/// an unexpected environment problem and is reported as a module failure, never as success.
pub fn exit_code_of(err: &anyhow::Error) -> Exit {
    if let Some(f) = err.downcast_ref::<Failure>() {
        return f.exit;
    }
    err.downcast_ref::<PipelineError>()
        .map(pipeline_exit)
        .unwrap_or(Exit::ModuleFailed)
}

/// The offline half's failures: bad input (2), or a catalog or asset that could not be had (6).
fn pipeline_exit(e: &PipelineError) -> Exit {
    match e {
        PipelineError::Input(_) => Exit::BadInput,
        PipelineError::Unavailable(_) => Exit::Fetch,
    }
}

impl From<PipelineError> for Failure {
    fn from(e: PipelineError) -> Failure {
        let exit = pipeline_exit(&e);
        Failure::new(exit, e)
    }
}

pub trait ResultExt<T> {
    /// Mark an error as bad input (exit 2).
    fn bad_input(self) -> Result<T, Failure>;
}

impl<T, E: Into<anyhow::Error>> ResultExt<T> for Result<T, E> {
    fn bad_input(self) -> Result<T, Failure> {
        self.map_err(Failure::bad_input)
    }
}

/// The exit code of each way an action can stop: the one place that decides it.
impl From<ActionError> for Failure {
    fn from(e: ActionError) -> Failure {
        let exit = match &e {
            ActionError::Lock(LockError::Held { .. } | LockError::StillHeld { .. })
            | ActionError::LockLost(_) => Exit::Locked,
            ActionError::Lock(LockError::Request(_) | LockError::NoLeases)
            | ActionError::Inventory(_)
            | ActionError::InventoryWrite { .. } => Exit::Unreachable,
            ActionError::Interrupted | ActionError::InterruptedWaitingForLock => Exit::Interrupted,
            ActionError::NotInstalled { .. }
            | ActionError::DependedOn(_)
            | ActionError::ForeignResources(_) => Exit::BadInput,
        };
        Failure::new(exit, e)
    }
}

/// A wrong kubeconfig or context is bad input; a server that does not answer or refuses our
/// credentials is unreachable (after any waiting, by how it failed at the end).
impl From<ConnectError> for Failure {
    fn from(e: ConnectError) -> Failure {
        let exit = match e.last() {
            ConnectError::Unreachable { .. } | ConnectError::Unauthorized { .. } => Exit::Unreachable,
            _ => Exit::BadInput,
        };
        Failure::new(exit, e)
    }
}

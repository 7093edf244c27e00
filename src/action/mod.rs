//! Operations on a cluster around the engine, one file each (after Helm's `pkg/action`): deploy with
//! inventory and prune, undeploy, and the read-only status and diff. Commands call these; these call
//! `cluster`, `inventory`, `lock` and `engine`.

pub mod delete;
pub mod deploy;
pub mod inspect;
pub mod undeploy;

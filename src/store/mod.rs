//! What kyma keeps in the cluster about its own work: the inventory of what it applied (the only
//! thing delete and prune may touch) and the per-cluster lock that keeps two runs apart.

pub mod inventory;
pub mod lock;

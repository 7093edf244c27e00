//! All integration tests in one binary (one link step). Cluster tests run against the real test bed
//! (`scripts/test-bed.sh up`) or `KYMA_TEST_KUBECONFIG`; they never skip.

mod support;
mod webhook;

mod bad_input;
mod bed;
mod cli;
mod classes;
mod deploy;
mod lifecycle;
mod render;

//! All integration tests in one binary (one link step). Cluster tests run against the real test bed
//! (`scripts/test-bed.sh up`) or `KYMA_TEST_KUBECONFIG`; the compatibility tests (`compat`) also use a
//! Kubernetes 1.20 bed (`KYMA_TEST_KUBECONFIG_COMPAT`). They never skip.

mod path_proxy;
mod support;
mod webhook;

mod bad_input;
mod bad_input_generated;
mod bed;
mod channels;
mod classes;
mod cli;
mod compat;
mod deploy;
mod faults;
mod fetch;
mod fleet;
mod guards;
mod identity;
mod inventory;
mod kcp;
mod lifecycle;
mod managers;
mod network;
mod operator;
mod privilege;
mod real_modules;
mod render;
mod rollout;
mod secrets;
mod stand_in;
mod terminal;
mod upgrade;
mod watches;

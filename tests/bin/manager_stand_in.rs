//! The manager stand-in (`tests/it/stand_in.rs`) as a process, for `scripts/bench.sh real`: it plays
//! the six real modules' managers against the cluster of `$KUBECONFIG` until it is stopped, and prints
//! each status it writes as `<unix seconds> <Kind ns/name> <what>` (the benchmark measures kyma's notice
//! from these).
//!
//!     manager-stand-in [DELAY_SECONDS]     Processing for DELAY (default 4.4, the real managers'), then Ready

#[path = "../it/stand_in.rs"]
#[allow(dead_code)]
mod stand_in;

use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    kyma::testkit::tls::install_crypto_provider();
    let delay: f64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("DELAY_SECONDS is a number"))
        .unwrap_or(4.4);
    let client = kube::Client::try_default()
        .await
        .expect("a cluster from $KUBECONFIG");
    let _running = stand_in::StandIn::start_printing(
        client,
        stand_in::real(&[], |_| {
            stand_in::Behaviour::ready_after(Duration::from_secs_f64(delay))
        }),
    );
    tokio::signal::ctrl_c().await.ok();
}

//! The tests' path-prefix proxy (`tests/it/path_proxy.rs`) as a process, for `scripts/bench.sh`: the
//! cluster of `$KUBECONFIG` served under each given prefix on `LISTEN`, as a kcp host serves its
//! workspaces. Prints `ready <base URL>` once it listens.
//!
//!     path-proxy LISTEN PREFIX...      e.g. path-proxy 127.0.0.1:18080 /clusters/root:cost

#[path = "../it/path_proxy.rs"]
#[allow(dead_code)]
mod path_proxy;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let listen = args.next().expect("usage: path-proxy LISTEN PREFIX...");
    let prefixes: Vec<String> = args.collect();
    assert!(!prefixes.is_empty(), "usage: path-proxy LISTEN PREFIX...");
    let kubeconfig = std::env::var_os("KUBECONFIG").expect("$KUBECONFIG names the bed");
    kyma::testkit::tls::install_crypto_provider();
    let client = kyma::testkit::cluster::connect(Some(&std::path::PathBuf::from(kubeconfig)), None)
        .await
        .expect("connect to the bed")
        .client;
    let spaces: Vec<(&str, &[&str])> = prefixes.iter().map(|p| (p.as_str(), &[][..])).collect();
    let proxy = path_proxy::PathProxy::start_with(client, &listen, &spaces).await;
    println!("ready {}", proxy.base);
    tokio::signal::ctrl_c().await.ok();
}

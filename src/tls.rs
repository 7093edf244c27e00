//! TLS for the process. One crypto provider: kube uses rustls with ring; reqwest is built without a
//! provider of its own, so both share this one and rustls never has to guess. And the trust anchors of
//! downloads: the operator runs from an image with nothing but the binary (`FROM scratch`), where the
//! host's trust store is empty, so Mozilla's root program is compiled in (`webpki-root-certs`), and
//! whatever the host trusts is added to it (its store, or `SSL_CERT_FILE` / `SSL_CERT_DIR`), so a
//! mirror behind a private CA works as it does with curl. Cluster connections are not affected: they
//! trust what their kubeconfig says.

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;

pub fn install_crypto_provider() {
    // Err means one is installed already, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The roots downloads verify against: the compiled-in ones when `bundled`, plus `host`'s.
fn roots(bundled: bool, host: Vec<CertificateDer<'static>>) -> RootCertStore {
    let mut store = RootCertStore::empty();
    if bundled {
        store.add_parsable_certificates(webpki_root_certs::TLS_SERVER_ROOT_CERTS.iter().cloned());
    }
    // A host certificate that does not parse is skipped, as curl skips it.
    store.add_parsable_certificates(host);
    store
}

/// The client configuration of every download: bundled and host roots, HTTP/2 where offered.
pub fn download_config() -> rustls::ClientConfig {
    install_crypto_provider();
    let host = rustls_native_certs::load_native_certs().certs;
    let mut config = rustls::ClientConfig::builder()
        .with_root_certificates(Arc::new(roots(true, host)))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    config
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::client::WebPkiServerVerifier;
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::{ServerName, UnixTime};

    /// A real public certificate chain (letsencrypt.org's, as recorded by the rustls-platform-verifier
    /// crate, a dependency whose source cargo has fetched), checked at a moment it was valid.
    fn public_chain() -> Option<(Vec<CertificateDer<'static>>, UnixTime)> {
        let home = std::env::var_os("CARGO_HOME")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::path::PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
        let sources = std::fs::read_dir(home.join("registry/src")).ok()?;
        let dir = sources
            .flatten()
            .flat_map(|index| std::fs::read_dir(index.path()).into_iter().flatten().flatten())
            .map(|c| c.path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("rustls-platform-verifier-"))
            })
            .map(|p| p.join("src/tests/verification_real_world"))
            .find(|p| p.join("letsencrypt_org_valid_1.crt").exists())?;
        let chain: Vec<CertificateDer<'static>> = (1..=3)
            .map(|i| {
                CertificateDer::from(
                    std::fs::read(dir.join(format!("letsencrypt_org_valid_{i}.crt"))).unwrap(),
                )
            })
            .collect();
        let (_, leaf) = x509_parser::parse_x509_certificate(&chain[0]).ok()?;
        let valid_from = leaf.validity().not_before.timestamp() as u64;
        Some((
            chain,
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(valid_from + 86_400)),
        ))
    }

    #[test]
    fn the_bundled_roots_verify_a_public_chain_without_the_host_store() {
        install_crypto_provider();
        let (chain, at) =
            public_chain().expect("rustls-platform-verifier's recorded chains in the cargo registry");
        let name = ServerName::try_from("letsencrypt.org").unwrap();
        let verify = |store: RootCertStore| {
            WebPkiServerVerifier::builder(Arc::new(store))
                .build()
                .unwrap()
                .verify_server_cert(&chain[0], &chain[1..], &name, &[], at)
                .map(|_| ())
        };
        assert_eq!(verify(roots(true, vec![])), Ok(()), "bundled roots alone");
        // The control: without the bundled roots, a host store that lacks the issuer fails (the leaf
        // issued nothing in the chain).
        let unrelated = chain[0].clone();
        let err = verify(roots(false, vec![unrelated])).unwrap_err();
        assert!(format!("{err:?}").contains("UnknownIssuer"), "{err:?}");
    }
}

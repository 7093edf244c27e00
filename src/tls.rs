//! One TLS crypto provider for the whole process. kube uses rustls with ring; reqwest is built
//! without a provider of its own, so both share this one and rustls never has to guess.

pub fn install_crypto_provider() {
    // Err means one is installed already, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

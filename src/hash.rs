//! Content digests, shared by downloads (pins, the digest record), the inventory and templates.

use sha2::{Digest, Sha256};

/// The sha256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

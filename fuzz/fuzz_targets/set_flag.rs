//! `--set` arguments: parsing may fail, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = kyma::testkit::values::parse_set(text, &["m", "istio", "api-gateway"]);
});

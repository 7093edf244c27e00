//! Values files and rendered manifests are YAML a user controls: parsing may fail, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = kyma::testkit::yaml::parse(text);
    let _ = kyma::testkit::yaml::parse_all(text);
});

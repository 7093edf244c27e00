//! A module directory whose module.yaml is arbitrary bytes: loading the catalog may fail, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut files = std::collections::BTreeMap::new();
    files.insert("m/module.yaml".to_string(), text.to_string());
    files.insert(
        "m/templates/cm.yaml".to_string(),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n".to_string(),
    );
    let set = kyma::testkit::catalog::FileSet { source: "fuzz".into(), root: "fuzz".into(), files };
    let _ = kyma::testkit::catalog::Catalog::from_files(set);
});

//! The central overrides' `policy`: which module may make which kind of powerful grant, and why. Read
//! with the values (`values`), enforced by the privilege guard (`privilege`) on the rendered objects.

use std::collections::BTreeMap;

/// What a refused grant lets a workload do; each class is allowed separately, so allowing a module's
/// reviewed cluster-admin binding does not also wave through a later release's `system:masters` one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    SuperUser,
    Escalation,
    SystemMasters,
}

impl Class {
    pub const ALL: [Class; 3] = [Class::SuperUser, Class::Escalation, Class::SystemMasters];

    /// The key under `policy` that allows it.
    pub fn policy_key(self) -> &'static str {
        match self {
            Class::SuperUser => "superUser",
            Class::Escalation => "escalation",
            Class::SystemMasters => "systemMasters",
        }
    }
}

/// The central overrides' `policy`: per class, the modules allowed to make such a grant, with the reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowances(BTreeMap<Class, BTreeMap<String, String>>);

impl Allowances {
    pub fn allow(&mut self, class: Class, module: &str, reason: &str) {
        self.0
            .entry(class)
            .or_default()
            .insert(module.to_string(), reason.to_string());
    }

    pub fn reason(&self, class: Class, module: &str) -> Option<&str> {
        self.0.get(&class)?.get(module).map(String::as_str)
    }
}

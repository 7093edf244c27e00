//! The privilege guard, between render and plan: no module may hand a workload cluster-wide super-user
//! rights (Kyma's rule: nothing installs a powerful service account). Checked on the rendered objects
//! of the whole selection, before anything is applied; a module the central overrides allow by name
//! (`policy.superUser.<module>: <reason>`) passes, and is reported.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use crate::object::Object;
use crate::render::Rendered;

/// A binding that gives a workload super-user rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub module: String,
    /// `ClusterRoleBinding/name` or `RoleBinding/ns/name`.
    pub binding: String,
    pub origin: String,
    /// What it binds, and to whom, in words.
    pub what: String,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "module {}: {}: {} grants {}. kyma never installs a super-user service account; give the workload \
     the rights it needs, or, if the module really needs this, allow it in the central overrides file: \
     `policy: {{superUser: {{{}: \"<reason>\"}}}}`",
    .0.module, .0.origin, .0.binding, .0.what, .0.module
)]
pub struct SuperUser(pub Grant);

/// Reject the first super-user grant of a module the overrides do not allow; return the allowed ones
/// with their reason, for the report.
pub fn check(
    rendered: &[Rendered],
    allowed: &BTreeMap<String, String>,
) -> Result<Vec<(Grant, String)>, SuperUser> {
    let objects: Vec<&Object> = rendered.iter().flat_map(|r| r.objects.iter()).collect();
    // ClusterRoles of the render that allow every verb on every resource of every group.
    let all_powerful: HashSet<&str> = objects
        .iter()
        .filter(|o| o.kind() == "ClusterRole" && o.group() == RBAC)
        .filter(|o| grants_everything(&o.data))
        .map(|o| o.name())
        .collect();
    let mut passed = Vec::new();
    for o in objects {
        let Some(grant) = super_user_grant(o, &all_powerful) else {
            continue;
        };
        match allowed.get(&grant.module) {
            Some(reason) => passed.push((grant, reason.clone())),
            None => return Err(SuperUser(grant)),
        }
    }
    Ok(passed)
}

const RBAC: &str = "rbac.authorization.k8s.io";

fn grants_everything(role: &Value) -> bool {
    let has_star = |rule: &Value, field: &str| {
        rule.get(field)
            .and_then(Value::as_array)
            .is_some_and(|v| v.iter().any(|x| x == "*"))
    };
    role.get("rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|r| has_star(r, "verbs") && has_star(r, "resources") && has_star(r, "apiGroups"))
}

fn super_user_grant(o: &Object, all_powerful: &HashSet<&str>) -> Option<Grant> {
    let kind = o.kind();
    if o.group() != RBAC || !(kind == "ClusterRoleBinding" || kind == "RoleBinding") {
        return None;
    }
    let role_kind = o.data.pointer("/roleRef/kind").and_then(Value::as_str)?;
    let role = o.data.pointer("/roleRef/name").and_then(Value::as_str)?;
    let role_words = match (role_kind, role) {
        ("ClusterRole", "cluster-admin") => "cluster-admin".to_string(),
        ("ClusterRole", r) if all_powerful.contains(r) => {
            format!("ClusterRole {r} (every verb on every resource in every API group)")
        }
        _ => return None,
    };
    let workloads: Vec<String> = o
        .data
        .get("subjects")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| workload_subject(s, o.namespace()))
        .collect();
    if workloads.is_empty() {
        return None;
    }
    let binding = match o.namespace() {
        Some(ns) => format!("{kind}/{ns}/{}", o.name()),
        None => format!("{kind}/{}", o.name()),
    };
    Some(Grant {
        module: o.origin.module.clone(),
        binding,
        origin: o.origin.to_string(),
        what: format!("{role_words} to {}", workloads.join(", ")),
    })
}

/// A subject that is a workload: a ServiceAccount, or the groups every (or a namespace's) service
/// account is in.
fn workload_subject(s: &Value, binding_ns: Option<&str>) -> Option<String> {
    let name = s.get("name").and_then(Value::as_str)?;
    match s.get("kind").and_then(Value::as_str)? {
        "ServiceAccount" => {
            let ns = s
                .get("namespace")
                .and_then(Value::as_str)
                .or(binding_ns)
                .unwrap_or("?");
            Some(format!("ServiceAccount {ns}/{name}"))
        }
        "Group" if name == "system:serviceaccounts" || name.starts_with("system:serviceaccounts:") => {
            Some(format!("Group {name}"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{Origin, Scope};
    use serde_json::json;

    fn obj(module: &str, data: Value) -> Object {
        Object {
            data,
            origin: Origin {
                module: module.into(),
                file: format!("{module}/templates/rbac.yaml"),
                doc: 1,
            },
            scope: Scope::Unknown,
            module_cr: false,
        }
    }

    fn rendered(objects: Vec<Object>) -> Vec<Rendered> {
        vec![Rendered {
            module: "m".into(),
            version: "1.0.0".into(),
            namespace: None,
            objects,
        }]
    }

    fn binding(kind: &str, role: &str, subject: Value) -> Value {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
               "metadata": {"name": "b", "namespace": "ns"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
               "subjects": [subject]})
    }

    fn sa() -> Value {
        json!({"kind": "ServiceAccount", "name": "manager", "namespace": "kyma-system"})
    }

    #[test]
    fn cluster_admin_to_a_service_account_is_refused_unless_allowed() {
        for kind in ["ClusterRoleBinding", "RoleBinding"] {
            let r = rendered(vec![obj("m", binding(kind, "cluster-admin", sa()))]);
            let e = check(&r, &BTreeMap::new()).unwrap_err();
            let text = e.to_string();
            assert!(
                text.contains("module m: m/templates/rbac.yaml (document 1)")
                    && text.contains("cluster-admin to ServiceAccount kyma-system/manager")
                    && text.contains("policy: {superUser: {m:"),
                "{text}"
            );
            let allowed = BTreeMap::from([("m".to_string(), "it manages the cluster".to_string())]);
            let passed = check(&r, &allowed).unwrap();
            assert_eq!(passed.len(), 1);
            assert_eq!(passed[0].1, "it manages the cluster");
        }
    }

    #[test]
    fn an_all_powerful_role_of_the_render_counts_as_cluster_admin() {
        let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                          "metadata": {"name": "god"},
                          "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]});
        let r = rendered(vec![
            obj("m", role.clone()),
            obj("other", binding("ClusterRoleBinding", "god", sa())),
        ]);
        let e = check(&r, &BTreeMap::new()).unwrap_err();
        assert_eq!(e.0.module, "other", "the module with the binding is named");
        assert!(e.0.what.contains("ClusterRole god"), "{}", e.0.what);

        // Narrower in any one dimension: not super-user.
        for (g, res, v) in [("apps", "*", "*"), ("*", "pods", "*"), ("*", "*", "get")] {
            let mut narrow = role.clone();
            narrow["rules"] = json!([{"apiGroups": [g], "resources": [res], "verbs": [v]}]);
            let r = rendered(vec![
                obj("m", narrow),
                obj("m", binding("ClusterRoleBinding", "god", sa())),
            ]);
            assert!(check(&r, &BTreeMap::new()).is_ok(), "{g} {res} {v}");
        }
    }

    #[test]
    fn people_and_narrow_roles_are_not_workloads_with_super_user_rights() {
        let user = json!({"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"});
        let every_sa = json!({"kind": "Group", "name": "system:serviceaccounts", "apiGroup": "rbac.authorization.k8s.io"});
        let r = rendered(vec![
            obj("m", binding("ClusterRoleBinding", "cluster-admin", user)),
            obj("m", binding("ClusterRoleBinding", "view", sa())),
        ]);
        assert!(check(&r, &BTreeMap::new()).is_ok());
        let r = rendered(vec![obj(
            "m",
            binding("ClusterRoleBinding", "cluster-admin", every_sa),
        )]);
        assert!(
            check(&r, &BTreeMap::new()).is_err(),
            "all service accounts are workloads"
        );
    }
}

//! The privilege guard, between render and plan: no module may hand a workload the means to own the
//! cluster (Kyma's rule: nothing installs a powerful service account). Checked on the rendered objects
//! of the whole selection, before anything is applied. Three classes are refused, each allowed per
//! module only by name and with a reason in the central overrides (`policy.<class>.<module>: <reason>`),
//! and an allowed grant is reported on every run:
//! - `superUser`: every verb on every resource (cluster-admin, a role whose rules add up to that, or
//!   one that aggregates such a role);
//! - `escalation`: rights a workload can turn into any other (escalate or bind on roles, impersonate
//!   users, groups or service accounts);
//! - `systemMasters`: any binding to `system:masters`, the group the API server lets past every
//!   authorizer.
//!
//! Only bindings to workload subjects count: a role nobody binds grants nothing, and a person given a
//! powerful role is the platform team's choice, not a module's.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use crate::object::Object;
pub use crate::policy::{Allowances, Class};
use crate::render::Rendered;

/// The rule a class of grant breaks, for the refusal.
fn rule(class: Class) -> &'static str {
    match class {
        Class::SuperUser => "kyma never installs a super-user service account",
        Class::Escalation => {
            "kyma never installs a service account that can give itself more rights than it has"
        }
        Class::SystemMasters => {
            "system:masters passes every authorization check, so no binding to it is ever needed"
        }
    }
}

/// A binding that gives a workload one of the refused classes of rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub module: String,
    pub class: Class,
    /// `ClusterRoleBinding/name` or `RoleBinding/ns/name`.
    pub binding: String,
    pub origin: String,
    /// What it binds, and to whom, in words.
    pub what: String,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "module {}: {}: {} grants {}. {}; give the workload the rights it needs, or, if the module really \
     needs this, allow it in the central overrides file: `policy: {{{}: {{{}: \"<reason>\"}}}}`",
    .0.module, .0.origin, .0.binding, .0.what, rule(.0.class), .0.class.policy_key(), .0.module
)]
pub struct Refused(pub Grant);

/// Reject the first grant of a module the overrides do not allow for its class; return the allowed
/// ones with their reason, for the report.
pub fn check(rendered: &[Rendered], allowed: &Allowances) -> Result<Vec<(Grant, String)>, Refused> {
    let roles = Roles::index(rendered);
    let mut passed = Vec::new();
    for r in rendered {
        for o in &r.objects {
            for grant in grants(o, r.namespace.as_deref(), &roles) {
                match allowed.reason(grant.class, &grant.module) {
                    Some(reason) => passed.push((grant, reason.to_string())),
                    None => return Err(Refused(grant)),
                }
            }
        }
    }
    Ok(passed)
}

const RBAC: &str = "rbac.authorization.k8s.io";

/// The verbs that, on every resource of every group, make a role all-powerful. Split across rules or
/// not, holding all of them is cluster-admin in effect; `deletecollection` or the RBAC verbs missing
/// does not make it less (write access to Pods in kube-system is enough).
const EVERY_VERB: [&str; 7] = ["get", "list", "watch", "create", "update", "patch", "delete"];

/// `key: value` pairs a built-in ClusterRole is labelled with.
type Labels = &'static [(&'static str, &'static str)];

/// The built-in ClusterRoles an aggregation selector could pull in, by their labels on every cluster:
/// cluster-admin (and admin) carry only the bootstrapping label; edit aggregates into admin, and
/// system:aggregate-to-edit into edit, both granting `impersonate` on service accounts. view (and
/// `aggregate-to-view`) is read-only without Secrets, so not listed.
const BUILTIN: [(&str, Labels, Class); 3] = [
    (
        "cluster-admin",
        &[("kubernetes.io/bootstrapping", "rbac-defaults")],
        Class::SuperUser,
    ),
    (
        "edit",
        &[
            ("kubernetes.io/bootstrapping", "rbac-defaults"),
            ("rbac.authorization.k8s.io/aggregate-to-admin", "true"),
        ],
        Class::Escalation,
    ),
    (
        "system:aggregate-to-edit",
        &[
            ("kubernetes.io/bootstrapping", "rbac-defaults"),
            ("rbac.authorization.k8s.io/aggregate-to-edit", "true"),
        ],
        Class::Escalation,
    ),
];

/// The roles of the render, to resolve a binding's `roleRef`.
struct Roles<'a> {
    cluster: HashMap<&'a str, &'a Object>,
    /// By (namespace, name); a Role without a namespace lives in its module's.
    namespaced: HashMap<(Option<&'a str>, &'a str), &'a Object>,
    /// Names of ClusterRoles of the render that are refused classes themselves: binding them, by name
    /// under `bind`, is as good as holding them.
    powerful: HashSet<&'a str>,
}

impl<'a> Roles<'a> {
    fn index(rendered: &'a [Rendered]) -> Roles<'a> {
        let mut roles = Roles {
            cluster: HashMap::new(),
            namespaced: HashMap::new(),
            powerful: HashSet::new(),
        };
        for r in rendered {
            for o in r.objects.iter().filter(|o| o.group() == RBAC) {
                match o.kind() {
                    "ClusterRole" => {
                        roles.cluster.entry(o.name()).or_insert(o);
                    }
                    "Role" => {
                        let ns = o.namespace().or(r.namespace.as_deref());
                        roles.namespaced.entry((ns, o.name())).or_insert(o);
                    }
                    _ => {}
                }
            }
        }
        let powerful: HashSet<&str> = roles
            .cluster
            .keys()
            .copied()
            .filter(|name| roles.cluster_role(name).is_some())
            .collect();
        roles.powerful = powerful;
        roles
    }

    /// A ClusterRole's refused class and why, with what it aggregates.
    fn cluster_role(&self, name: &str) -> Option<(Class, String)> {
        let (mut rules, mut builtin, mut seen) = (Vec::new(), None, HashSet::new());
        self.gather(name, &mut seen, &mut rules, &mut builtin);
        let aggregated = seen.len() > 1;
        let own = classify(&rules, &self.powerful).map(|(class, why)| match aggregated {
            true => (class, format!("{why}, with what its aggregationRule selects")),
            false => (class, why),
        });
        [builtin, own]
            .into_iter()
            .flatten()
            .min_by_key(|(class, _)| *class)
    }

    /// The rules a ClusterRole ends up with: its own and, through its aggregation rule, those of every
    /// ClusterRole of the render it selects (transitively, as the aggregation controller converges
    /// there), and the most powerful built-in role it selects.
    fn gather(
        &self,
        name: &str,
        seen: &mut HashSet<&'a str>,
        rules: &mut Vec<&'a Value>,
        builtin: &mut Option<(Class, String)>,
    ) {
        let Some((&name, &role)) = self.cluster.get_key_value(name) else {
            return;
        };
        if !seen.insert(name) {
            return;
        }
        rules.extend(array(&role.data, "rules"));
        let Some(selectors) = role.data.pointer("/aggregationRule/clusterRoleSelectors") else {
            return;
        };
        let selectors: Vec<&Value> = selectors.as_array().into_iter().flatten().collect();
        for (builtin_name, labels, class) in BUILTIN {
            let labels: BTreeMap<&str, &str> = labels.iter().copied().collect();
            if selectors.iter().any(|s| selects(s, &labels))
                && builtin.as_ref().is_none_or(|(c, _)| class < *c)
            {
                *builtin = Some((
                    class,
                    format!("aggregates the built-in ClusterRole {builtin_name}"),
                ));
            }
        }
        for (&other, o) in &self.cluster {
            let labels: BTreeMap<&str, &str> = o
                .data
                .pointer("/metadata/labels")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
                .collect();
            if selectors.iter().any(|s| selects(s, &labels)) {
                self.gather(other, seen, rules, builtin);
            }
        }
    }
}

fn array<'v>(v: &'v Value, field: &str) -> impl Iterator<Item = &'v Value> {
    v.get(field).and_then(Value::as_array).into_iter().flatten()
}

fn has(rule: &Value, field: &str, x: &str) -> bool {
    array(rule, field).any(|v| v == x)
}

/// Whether a rule covers `x` in `field`, by name or by `*`.
fn covers(rule: &Value, field: &str, x: &str) -> bool {
    has(rule, field, x) || has(rule, field, "*")
}

/// Whether a label selector of an aggregation rule selects a role with these labels (an empty selector
/// selects every ClusterRole, cluster-admin included).
fn selects(selector: &Value, labels: &BTreeMap<&str, &str>) -> bool {
    let by_labels = selector
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .all(|(k, v)| v.as_str().is_some_and(|v| labels.get(k.as_str()) == Some(&v)));
    let by_expressions = array(selector, "matchExpressions").all(|e| {
        let have = labels.get(e.get("key").and_then(Value::as_str).unwrap_or(""));
        let listed = |v: &&str| has(e, "values", v);
        match e.get("operator").and_then(Value::as_str) {
            Some("In") => have.is_some_and(listed),
            Some("NotIn") => !have.is_some_and(listed),
            Some("Exists") => have.is_some(),
            Some("DoesNotExist") => have.is_none(),
            _ => false,
        }
    });
    by_labels && by_expressions
}

/// The refused class the union of these rules amounts to, and why in words.
fn classify(rules: &[&Value], powerful: &HashSet<&str>) -> Option<(Class, String)> {
    let unrestricted = |r: &&&Value| array(r, "resourceNames").next().is_none();
    let on_everything: Vec<&Value> = rules
        .iter()
        .filter(unrestricted)
        .copied()
        .filter(|r| has(r, "apiGroups", "*") && has(r, "resources", "*"))
        .collect();
    if EVERY_VERB
        .iter()
        .all(|v| on_everything.iter().any(|r| covers(r, "verbs", v)))
    {
        let split = if on_everything.iter().any(|r| has(r, "verbs", "*")) {
            ""
        } else {
            ", split across rules"
        };
        return Some((
            Class::SuperUser,
            format!("every verb on every resource in every API group{split}"),
        ));
    }
    // escalate: edit a bound role to hold anything; bind: bind any role, cluster-admin too;
    // impersonate: act as anyone, system:masters or a service account with more rights.
    const RAISING: [(&str, &str, &[&str]); 3] = [
        ("escalate", RBAC, &["roles", "clusterroles"]),
        ("bind", RBAC, &["roles", "clusterroles"]),
        ("impersonate", "", &["users", "groups", "serviceaccounts"]),
    ];
    let mut found: Vec<String> = Vec::new();
    for (verb, group, resources) in RAISING {
        for res in resources {
            let raises = rules.iter().any(|rule| {
                // Named objects only: as dangerous as the most powerful one named.
                let names: Vec<&str> = array(rule, "resourceNames").filter_map(Value::as_str).collect();
                let named_powerful = names.iter().any(|n| match verb {
                    "impersonate" => n.starts_with("system:"),
                    _ => ["cluster-admin", "admin", "edit"].contains(n) || powerful.contains(n),
                });
                covers(rule, "apiGroups", group)
                    && covers(rule, "verbs", verb)
                    && covers(rule, "resources", res)
                    && (names.is_empty() || named_powerful)
            });
            if raises {
                found.push(format!("{verb} on {res}"));
            }
        }
    }
    (!found.is_empty()).then(|| (Class::Escalation, found.join(", ")))
}

/// The refused grants one object makes: none unless it is a binding.
fn grants(o: &Object, module_ns: Option<&str>, roles: &Roles) -> Vec<Grant> {
    let kind = o.kind();
    if o.group() != RBAC || !(kind == "ClusterRoleBinding" || kind == "RoleBinding") {
        return Vec::new();
    }
    let ns = o.namespace().or(module_ns);
    let binding = match (kind, ns) {
        ("RoleBinding", Some(ns)) => format!("{kind}/{ns}/{}", o.name()),
        _ => format!("{kind}/{}", o.name()),
    };
    let grant = |class, what| Grant {
        module: o.origin.module.clone(),
        class,
        binding: binding.clone(),
        origin: o.origin.to_string(),
        what,
    };
    let role_kind = o
        .data
        .pointer("/roleRef/kind")
        .and_then(Value::as_str)
        .unwrap_or("");
    let role = o
        .data
        .pointer("/roleRef/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let subjects: Vec<&Value> = array(&o.data, "subjects").collect();
    let mut out = Vec::new();
    if subjects.iter().any(|s| {
        s.get("kind").and_then(Value::as_str) == Some("Group")
            && s.get("name").and_then(Value::as_str) == Some("system:masters")
    }) {
        out.push(grant(
            Class::SystemMasters,
            format!("{role_kind} {role} to Group system:masters"),
        ));
    }
    let role_class = match (role_kind, role) {
        ("ClusterRole", "cluster-admin") => Some((Class::SuperUser, "cluster-admin".to_string())),
        // Bound cluster-wide, edit (and admin, which holds it) reads every Secret and impersonates
        // every service account; in one namespace it is the usual grant to a namespace's operator.
        ("ClusterRole", r @ ("admin" | "edit")) if kind == "ClusterRoleBinding" => Some((
            Class::Escalation,
            format!("the built-in ClusterRole {r} in every namespace (impersonate on serviceaccounts)"),
        )),
        ("ClusterRole", r) => roles
            .cluster_role(r)
            .map(|(class, why)| (class, format!("ClusterRole {r} ({why})"))),
        ("Role", r) => roles.namespaced.get(&(ns, r)).and_then(|role| {
            let rules: Vec<&Value> = array(&role.data, "rules").collect();
            let (class, why) = classify(&rules, &roles.powerful)?;
            Some((class, format!("Role {}/{r} ({why})", ns.unwrap_or("?"))))
        }),
        _ => None,
    };
    let workloads: Vec<String> = subjects.iter().filter_map(|s| workload_subject(s, ns)).collect();
    if let Some((class, words)) = role_class
        && !workloads.is_empty()
    {
        out.push(grant(class, format!("{words} to {}", workloads.join(", "))));
    }
    out
}

/// A subject that is a workload: a ServiceAccount (or the user name it authenticates as), the groups
/// every (or a namespace's) service account is in, and the groups that hold every service account
/// and anonymous requests.
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
        "User" if name.starts_with("system:serviceaccount:") || name == "system:anonymous" => {
            Some(format!("User {name}"))
        }
        "Group"
            if name == "system:serviceaccounts"
                || name.starts_with("system:serviceaccounts:")
                || name == "system:authenticated"
                || name == "system:unauthenticated" =>
        {
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

    fn none() -> Allowances {
        Allowances::default()
    }

    fn allow(class: Class, reason: &str) -> Allowances {
        let mut a = Allowances::default();
        a.allow(class, "m", reason);
        a
    }

    fn cluster_role(name: &str, rules: Value) -> Value {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": name}, "rules": rules})
    }

    /// Refused with the class's policy key named, passed once that class allows it, refused still
    /// when only another class allows it.
    fn refused_unless_allowed(r: &[Rendered], class: Class, what: &str) {
        let e = check(r, &none()).unwrap_err();
        let text = e.to_string();
        assert_eq!(e.0.class, class, "{text}");
        assert!(text.contains(what), "{text}");
        assert!(
            text.contains(&format!("policy: {{{}: {{m:", class.policy_key())),
            "{text}"
        );
        let passed = check(r, &allow(class, "reviewed")).unwrap();
        assert!(
            passed
                .iter()
                .all(|(g, why)| g.class == class && why == "reviewed")
        );
        for other in Class::ALL.into_iter().filter(|c| *c != class) {
            assert!(check(r, &allow(other, "wrong class")).is_err(), "{other:?}");
        }
    }

    fn sa() -> Value {
        json!({"kind": "ServiceAccount", "name": "manager", "namespace": "kyma-system"})
    }

    #[test]
    fn cluster_admin_to_a_service_account_is_refused_unless_allowed() {
        for kind in ["ClusterRoleBinding", "RoleBinding"] {
            let r = rendered(vec![obj("m", binding(kind, "cluster-admin", sa()))]);
            let e = check(&r, &none()).unwrap_err();
            let text = e.to_string();
            assert!(
                text.contains("module m: m/templates/rbac.yaml (document 1)")
                    && text.contains("cluster-admin to ServiceAccount kyma-system/manager")
                    && text.contains("policy: {superUser: {m:"),
                "{text}"
            );
            let passed = check(&r, &allow(Class::SuperUser, "it manages the cluster")).unwrap();
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
        let e = check(&r, &none()).unwrap_err();
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
            assert!(check(&r, &none()).is_ok(), "{g} {res} {v}");
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
        assert!(check(&r, &none()).is_ok());
        let r = rendered(vec![obj(
            "m",
            binding("ClusterRoleBinding", "cluster-admin", every_sa),
        )]);
        assert!(check(&r, &none()).is_err(), "all service accounts are workloads");
    }

    #[test]
    fn rules_that_add_up_to_everything_are_super_user() {
        let split = cluster_role(
            "split",
            json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list", "watch"]},
                   {"apiGroups": ["*"], "resources": ["*"], "verbs": ["create", "update", "patch", "delete"]}]),
        );
        let r = rendered(vec![
            obj("m", split.clone()),
            obj("m", binding("ClusterRoleBinding", "split", sa())),
        ]);
        refused_unless_allowed(
            &r,
            Class::SuperUser,
            "ClusterRole split (every verb on every resource in every API group, split across rules)",
        );

        // One verb short, or one rule only for some names: not everything.
        let mut short = split.clone();
        short["rules"][1]["verbs"] = json!(["create", "update", "patch"]);
        let mut named = split;
        named["rules"][1]["resourceNames"] = json!(["x"]);
        for role in [short, named] {
            let r = rendered(vec![
                obj("m", role),
                obj("m", binding("ClusterRoleBinding", "split", sa())),
            ]);
            assert!(check(&r, &none()).is_ok());
        }
    }

    #[test]
    fn roles_that_raise_their_own_rights_are_refused_unless_allowed() {
        let cases = [
            (
                json!({"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["escalate"]}),
                "escalate on clusterroles",
            ),
            (
                json!({"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "clusterroles"], "verbs": ["bind"]}),
                "bind on roles, bind on clusterroles",
            ),
            (
                json!({"apiGroups": [""], "resources": ["users", "groups"], "verbs": ["impersonate"]}),
                "impersonate on users, impersonate on groups",
            ),
            (
                json!({"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["*"], "verbs": ["*"]}),
                "escalate on roles",
            ),
            (
                json!({"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["*"]}),
                "impersonate on serviceaccounts",
            ),
            (
                json!({"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind"], "resourceNames": ["cluster-admin"]}),
                "bind on clusterroles",
            ),
        ];
        for (rule, what) in cases {
            let r = rendered(vec![
                obj("m", cluster_role("raiser", json!([rule]))),
                obj("m", binding("ClusterRoleBinding", "raiser", sa())),
            ]);
            refused_unless_allowed(&r, Class::Escalation, what);
        }
        // A namespaced Role, bound in its namespace.
        let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
                          "metadata": {"name": "raiser", "namespace": "ns"},
                          "rules": [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"], "verbs": ["escalate"]}]});
        let mut rb = binding("RoleBinding", "raiser", sa());
        rb["roleRef"]["kind"] = json!("Role");
        let r = rendered(vec![obj("m", role), obj("m", rb)]);
        refused_unless_allowed(&r, Class::Escalation, "Role ns/raiser (escalate on roles)");
    }

    #[test]
    fn narrow_rbac_rights_are_not_escalation() {
        // What the real managers hold: write bindings and roles (the API server's own escalation check
        // stops them granting more than they have), bind a named narrow role, impersonate nobody.
        let rules = json!([
            {"apiGroups": ["rbac.authorization.k8s.io"],
             "resources": ["clusterrolebindings", "clusterroles", "rolebindings", "roles"],
             "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]},
            {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["bind"],
             "resourceNames": ["my-narrow-role"]},
            {"apiGroups": ["*"], "resources": ["*"], "verbs": ["get"]},
            {"apiGroups": ["*"], "resources": ["*/scale"], "verbs": ["get", "list", "patch", "update", "watch"]},
            {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["create", "get"]},
        ]);
        let r = rendered(vec![
            obj("m", cluster_role("manager", rules)),
            obj("m", binding("ClusterRoleBinding", "manager", sa())),
        ]);
        assert!(check(&r, &none()).is_ok());
        // Unbound, a dangerous role grants nothing.
        let r = rendered(vec![obj(
            "m",
            cluster_role(
                "raiser",
                json!([{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]),
            ),
        )]);
        assert!(check(&r, &none()).is_ok());
    }

    #[test]
    fn aggregating_a_powerful_role_counts_as_that_role() {
        let aggregating = |selectors: Value| {
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                   "metadata": {"name": "agg"}, "aggregationRule": {"clusterRoleSelectors": selectors},
                   "rules": []})
        };
        let cases = [
            (
                json!([{}]),
                Class::SuperUser,
                "aggregates the built-in ClusterRole cluster-admin",
            ),
            (
                json!([{"matchLabels": {"kubernetes.io/bootstrapping": "rbac-defaults"}}]),
                Class::SuperUser,
                "aggregates the built-in ClusterRole cluster-admin",
            ),
            (
                json!([{"matchExpressions": [{"key": "kubernetes.io/bootstrapping", "operator": "Exists"}]}]),
                Class::SuperUser,
                "cluster-admin",
            ),
            (
                json!([{"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-admin": "true"}}]),
                Class::Escalation,
                "aggregates the built-in ClusterRole edit",
            ),
            (
                json!([{"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}}]),
                Class::Escalation,
                "system:aggregate-to-edit",
            ),
            (
                json!([{"matchLabels": {"team": "god"}}]),
                Class::SuperUser,
                "every verb on every resource in every API group, with what its aggregationRule selects",
            ),
        ];
        let god = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                         "metadata": {"name": "god", "labels": {"team": "god"}},
                         "rules": [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]});
        for (selectors, class, what) in cases {
            let r = rendered(vec![
                obj("m", god.clone()),
                obj("m", aggregating(selectors)),
                obj("m", binding("ClusterRoleBinding", "agg", sa())),
            ]);
            refused_unless_allowed(&r, class, what);
        }
        // What the real modules' roles aggregate into (view), or a label nothing powerful carries.
        for selectors in [
            json!([{"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}}]),
            json!([{"matchLabels": {"team": "nobody"}}]),
            json!([]),
        ] {
            let r = rendered(vec![
                obj("m", god.clone()),
                obj("m", aggregating(selectors.clone())),
                obj("m", binding("ClusterRoleBinding", "agg", sa())),
            ]);
            assert!(check(&r, &none()).is_ok(), "{selectors}");
        }
    }

    #[test]
    fn any_binding_to_system_masters_is_refused_unless_allowed() {
        let masters =
            json!({"kind": "Group", "name": "system:masters", "apiGroup": "rbac.authorization.k8s.io"});
        let r = rendered(vec![obj("m", binding("RoleBinding", "view", masters))]);
        refused_unless_allowed(
            &r,
            Class::SystemMasters,
            "ClusterRole view to Group system:masters",
        );
        let other = json!({"kind": "Group", "name": "team-a", "apiGroup": "rbac.authorization.k8s.io"});
        let r = rendered(vec![obj("m", binding("RoleBinding", "view", other))]);
        assert!(check(&r, &none()).is_ok());
    }

    #[test]
    fn a_service_account_named_as_a_user_or_every_authenticated_caller_is_a_workload() {
        for subject in [
            json!({"kind": "User", "name": "system:serviceaccount:kyma-system:manager"}),
            json!({"kind": "Group", "name": "system:authenticated"}),
        ] {
            let r = rendered(vec![obj(
                "m",
                binding("ClusterRoleBinding", "cluster-admin", subject),
            )]);
            refused_unless_allowed(&r, Class::SuperUser, "cluster-admin to ");
        }
    }

    /// Every Role and ClusterRole of the six real modules (`/work/shared/real-modules`, where present),
    /// each bound to a service account: none is refused, so they deploy without any allowance.
    #[test]
    fn the_real_modules_roles_pass() {
        let root = std::path::Path::new("/work/shared/real-modules/mirror");
        if !root.is_dir() {
            return;
        }
        let mut files = Vec::new();
        let mut dirs = vec![root.to_path_buf()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(d).unwrap().flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.to_string_lossy().ends_with(".yaml") {
                    files.push(p);
                }
            }
        }
        let mut objects = Vec::new();
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap();
            for (_, doc) in crate::yaml::parse_all(&text).unwrap() {
                let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
                if matches!(
                    kind,
                    "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding"
                ) {
                    let name = doc
                        .pointer("/metadata/name")
                        .and_then(Value::as_str)
                        .unwrap()
                        .to_string();
                    let ns = doc
                        .pointer("/metadata/namespace")
                        .cloned()
                        .unwrap_or(json!("kyma-system"));
                    let role_kind = if kind == "Role" { "Role" } else { "ClusterRole" };
                    let mut b = binding(
                        if kind == "Role" {
                            "RoleBinding"
                        } else {
                            "ClusterRoleBinding"
                        },
                        &name,
                        sa(),
                    );
                    b["roleRef"]["kind"] = json!(role_kind);
                    b["metadata"]["namespace"] = ns;
                    b["metadata"]["name"] = json!(format!("test-{name}"));
                    if kind.ends_with("Role") {
                        objects.push(obj("m", b));
                    }
                    objects.push(obj("m", doc));
                }
            }
        }
        assert!(
            objects.len() > 40,
            "{} RBAC objects in {} files",
            objects.len(),
            files.len()
        );
        let r = rendered(objects);
        if let Err(e) = check(&r, &none()) {
            panic!("a real module would be refused: {e}");
        }
    }
}

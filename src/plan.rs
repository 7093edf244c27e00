//! The change graph: in which order objects are worth attempting and what each waits for. Pure logic,
//! no I/O. Edges are the real relations (a custom resource waits for its CRD to be Established, a
//! namespaced object for its Namespace); kind ranks and soft `dependsOn` only order what is ready.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::object::Object;
use crate::render::Rendered;

/// Submission rank by kind, after Helm's install order, with custom resources and webhook
/// configurations last (a webhook registered before its server is up blocks everything it matches).
pub fn kind_rank(group: &str, kind: &str) -> u8 {
    match (group, kind) {
        ("apiextensions.k8s.io", "CustomResourceDefinition") => 0,
        ("", "Namespace") => 1,
        ("networking.k8s.io", "NetworkPolicy")
        | ("", "ResourceQuota")
        | ("", "LimitRange")
        | ("policy", _) => 2,
        ("", "ServiceAccount") => 3,
        ("", "Secret") | ("", "ConfigMap") => 4,
        ("storage.k8s.io", "StorageClass") | ("", "PersistentVolume") | ("", "PersistentVolumeClaim") => 5,
        ("rbac.authorization.k8s.io", "ClusterRole") => 6,
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => 7,
        ("rbac.authorization.k8s.io", "Role") => 8,
        ("rbac.authorization.k8s.io", "RoleBinding") => 9,
        ("", "Service") => 10,
        ("apps", _) | ("", "Pod") | ("", "ReplicationController") | ("batch", _) | ("autoscaling", _) => 11,
        ("networking.k8s.io", _)
        | ("apiregistration.k8s.io", _)
        | ("scheduling.k8s.io", _)
        | ("coordination.k8s.io", _) => 12,
        ("admissionregistration.k8s.io", _) => 14,
        (g, _) if is_builtin_group(g) => 12,
        _ => 13,
    }
}

fn is_builtin_group(g: &str) -> bool {
    g.is_empty() || !g.contains('.') || g.ends_with(".k8s.io")
}

/// What a node waits for before it is worth attempting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// The other node has been applied.
    Applied(usize),
    /// The other node (a CRD) is Established and discovery knows its kinds.
    Established(usize),
}

#[derive(Debug, Clone)]
pub struct Node {
    pub object: Object,
    pub module: usize,
    pub rank: u8,
    pub waits: Vec<Wait>,
    /// A module namespace no module renders: kyma creates it (like `--create-namespace`) but never
    /// records it as the module's, so undeploy and prune never delete a namespace others may share.
    pub implicit: bool,
    /// kyma applied these fields before and another manager has changed them since: the next apply
    /// takes them back (forced), as a restore, not a takeover of someone else's fields.
    pub reclaim: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Modules in soft-dependency order; indices used by nodes.
    pub modules: Vec<PlannedModule>,
    pub nodes: Vec<Node>,
    pub warnings: Vec<String>,
    /// Every object carries its ApplySet label (`inventory::label_plan`): a plan kept across the
    /// operator's reconciles is labelled once and then only read.
    pub labelled: bool,
    /// Each module's manifest hash, as its inventory records it, once taken (`action::deploy`): a plan
    /// kept across the operator's resyncs hashes its objects — megabytes for a real module — once, not
    /// on every resync. Objects are not changed after labelling (labelling clears it).
    pub manifest_hashes: std::sync::OnceLock<Vec<String>>,
}

#[derive(Debug, Clone)]
pub struct PlannedModule {
    pub name: String,
    pub version: String,
    pub namespace: Option<String>,
    pub depends_on: Vec<String>,
}

impl Plan {
    /// Order key within the ready queue: kind rank first, then soft module order, then input order.
    pub fn priority(&self, i: usize) -> (u8, usize, usize) {
        (self.nodes[i].rank, self.nodes[i].module, i)
    }
    /// The group/versions the plan's objects use: what discovery must know before anything is sent.
    pub fn api_versions(&self) -> impl Iterator<Item = String> + '_ {
        self.nodes.iter().map(|n| n.object.api_version().to_string())
    }

    pub fn nodes_of(&self, module: usize) -> impl Iterator<Item = (usize, &Node)> {
        self.nodes
            .iter()
            .enumerate()
            .filter(move |(_, n)| n.module == module)
    }
}

/// Order modules by soft `dependsOn` (dependencies first, name order otherwise). A cycle is reported
/// as a warning and broken by name order.
pub fn module_order(deps: &BTreeMap<String, Vec<String>>) -> (Vec<String>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut order = Vec::new();
    let mut state: HashMap<&str, u8> = HashMap::new(); // 1 visiting, 2 done
    fn visit<'a>(
        n: &'a str,
        deps: &'a BTreeMap<String, Vec<String>>,
        state: &mut HashMap<&'a str, u8>,
        order: &mut Vec<String>,
        path: &mut Vec<&'a str>,
        warnings: &mut Vec<String>,
    ) {
        match state.get(n) {
            Some(2) => return,
            Some(1) => {
                let start = path.iter().position(|p| *p == n).unwrap_or(0);
                let mut cycle: Vec<&str> = path[start..].to_vec();
                cycle.push(n);
                warnings.push(format!(
                    "dependsOn cycle {}: ordering by name there",
                    cycle.join(" → ")
                ));
                return;
            }
            _ => {}
        }
        state.insert(n, 1);
        path.push(n);
        for d in deps.get(n).into_iter().flatten() {
            if deps.contains_key(d) {
                visit(d, deps, state, order, path, warnings);
            }
        }
        path.pop();
        state.insert(n, 2);
        order.push(n.to_string());
    }
    for n in deps.keys() {
        visit(n, deps, &mut state, &mut order, &mut Vec::new(), &mut warnings);
    }
    (order, warnings)
}

/// Build the plan for rendered modules. `depends_on` gives each module's soft dependencies.
pub fn build(rendered: Vec<Rendered>, depends_on: &BTreeMap<String, Vec<String>>) -> Plan {
    let selected: BTreeSet<&str> = rendered.iter().map(|r| r.module.as_str()).collect();
    let mut warnings = Vec::new();
    for r in &rendered {
        for d in depends_on.get(&r.module).into_iter().flatten() {
            if !selected.contains(d.as_str()) {
                warnings.push(format!(
                    "{} lists {d} in dependsOn and {d} is not selected: it is deployed anyway; add --modules {d} if it is not installed yet",
                    r.module
                ));
            }
        }
    }
    let graph: BTreeMap<String, Vec<String>> = rendered
        .iter()
        .map(|r| {
            (
                r.module.clone(),
                depends_on.get(&r.module).cloned().unwrap_or_default(),
            )
        })
        .collect();
    let (order, cycle_warnings) = module_order(&graph);
    warnings.extend(cycle_warnings);
    let position: HashMap<&str, usize> = order.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();

    let mut rendered = rendered;
    rendered.sort_by_key(|r| position[r.module.as_str()]);
    let mut modules = Vec::new();
    let mut nodes = Vec::new();
    for (mi, r) in rendered.into_iter().enumerate() {
        modules.push(PlannedModule {
            name: r.module.clone(),
            version: r.version,
            namespace: r.namespace,
            depends_on: depends_on.get(&r.module).cloned().unwrap_or_default(),
        });
        for o in r.objects {
            let rank = kind_rank(o.group(), o.kind());
            nodes.push(Node {
                object: o,
                module: mi,
                rank,
                waits: Vec::new(),
                implicit: false,
                reclaim: false,
            });
        }
    }
    add_implicit_namespaces(&modules, &mut nodes);
    link(&mut nodes);
    Plan {
        modules,
        nodes,
        warnings,
        labelled: false,
        manifest_hashes: Default::default(),
    }
}

fn add_implicit_namespaces(modules: &[PlannedModule], nodes: &mut Vec<Node>) {
    let rendered: BTreeSet<String> = nodes
        .iter()
        .filter(|n| n.object.group().is_empty() && n.object.kind() == "Namespace")
        .map(|n| n.object.name().to_string())
        .collect();
    let mut added = BTreeSet::new();
    for (mi, m) in modules.iter().enumerate() {
        let Some(ns) = &m.namespace else { continue };
        if rendered.contains(ns) || !added.insert(ns.clone()) {
            continue;
        }
        let data = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
        let origin = crate::object::Origin {
            module: m.name.clone(),
            file: "(module namespace)".into(),
            doc: 1,
        };
        let object = Object {
            data,
            origin,
            scope: crate::object::Scope::Cluster,
            module_cr: false,
        };
        nodes.push(Node {
            object,
            module: mi,
            rank: kind_rank("", "Namespace"),
            waits: Vec::new(),
            implicit: true,
            reclaim: false,
        });
    }
}

/// Add the real edges: custom resource → its CRD (Established), namespaced object → its Namespace.
pub fn link(nodes: &mut [Node]) {
    let mut crds: HashMap<(String, String), usize> = HashMap::new();
    let mut namespaces: HashMap<String, usize> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        if let Some(gk) = n.object.crd_defines() {
            crds.insert(gk, i);
        }
        if n.object.group().is_empty() && n.object.kind() == "Namespace" {
            namespaces.insert(n.object.name().to_string(), i);
        }
    }
    for node in nodes.iter_mut() {
        let mut waits = Vec::new();
        let o = &node.object;
        if let Some(&c) = crds.get(&(o.group().to_string(), o.kind().to_string())) {
            waits.push(Wait::Established(c));
        }
        if let Some(&ns) = o.namespace().and_then(|ns| namespaces.get(ns)) {
            waits.push(Wait::Applied(ns));
        }
        node.waits = waits;
    }
}

/// The order `kyma render` prints: modules in soft-dependency order, objects by kind rank within each.
pub fn ordered_for_output(plan: &Plan) -> Vec<(usize, Vec<usize>)> {
    (0..plan.modules.len())
        .map(|m| {
            let mut idx: Vec<usize> = plan.nodes_of(m).map(|(i, _)| i).collect();
            idx.sort_by_key(|&i| plan.priority(i));
            (m, idx)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::{Origin, Scope};
    use serde_json::json;

    fn obj(api: &str, kind: &str, name: &str, ns: Option<&str>) -> Object {
        let mut data = json!({"apiVersion": api, "kind": kind, "metadata": {"name": name}});
        if let Some(ns) = ns {
            data["metadata"]["namespace"] = json!(ns);
        }
        Object {
            data,
            origin: Origin {
                module: "m".into(),
                file: "f".into(),
                doc: 1,
            },
            scope: Scope::Unknown,
            module_cr: false,
        }
    }

    fn rendered(module: &str, objects: Vec<Object>) -> Rendered {
        Rendered {
            module: module.into(),
            version: "1.0.0".into(),
            namespace: None,
            objects,
        }
    }

    #[test]
    fn custom_resource_waits_for_its_crd_and_namespace_across_modules() {
        let mut crd = obj(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "gateways.networking.istio.io",
            None,
        );
        crd.data["spec"] = json!({"group": "networking.istio.io", "names": {"kind": "Gateway"}});
        let plan = build(
            vec![
                rendered(
                    "api-gateway",
                    vec![obj(
                        "networking.istio.io/v1beta1",
                        "Gateway",
                        "g",
                        Some("kyma-system"),
                    )],
                ),
                rendered("istio", vec![obj("v1", "Namespace", "kyma-system", None), crd]),
            ],
            &BTreeMap::from([("api-gateway".to_string(), vec!["istio".to_string()])]),
        );
        // istio first: api-gateway depends on it.
        assert_eq!(plan.modules[0].name, "istio");
        let gw = plan
            .nodes
            .iter()
            .position(|n| n.object.kind() == "Gateway")
            .unwrap();
        let crd = plan.nodes.iter().position(|n| n.object.is_crd()).unwrap();
        let ns = plan
            .nodes
            .iter()
            .position(|n| n.object.kind() == "Namespace")
            .unwrap();
        assert_eq!(
            plan.nodes[gw].waits,
            vec![Wait::Established(crd), Wait::Applied(ns)]
        );
        assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
    }

    #[test]
    fn ranks_put_crds_first_and_webhooks_last() {
        let order = [
            ("apiextensions.k8s.io", "CustomResourceDefinition"),
            ("", "Namespace"),
            ("", "ServiceAccount"),
            ("", "ConfigMap"),
            ("rbac.authorization.k8s.io", "ClusterRole"),
            ("rbac.authorization.k8s.io", "RoleBinding"),
            ("", "Service"),
            ("apps", "Deployment"),
            ("operator.kyma-project.io", "Istio"),
            ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ];
        let ranks: Vec<u8> = order.iter().map(|(g, k)| kind_rank(g, k)).collect();
        let mut sorted = ranks.clone();
        sorted.sort();
        assert_eq!(ranks, sorted);
    }

    #[test]
    fn dependency_cycle_is_a_warning_not_a_crash() {
        let deps = BTreeMap::from([
            ("a".to_string(), vec!["b".to_string()]),
            ("b".to_string(), vec!["a".to_string()]),
            ("c".to_string(), vec![]),
        ]);
        let (order, warnings) = module_order(&deps);
        assert_eq!(order.len(), 3);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("cycle"), "{warnings:?}");
    }

    #[test]
    fn absent_dependency_only_warns() {
        let plan = build(
            vec![rendered("eventing", vec![obj("v1", "ConfigMap", "c", Some("x"))])],
            &BTreeMap::from([("eventing".to_string(), vec!["nats".to_string()])]),
        );
        assert_eq!(plan.nodes.len(), 1);
        assert!(plan.nodes[0].waits.is_empty());
        assert!(
            plan.warnings[0].contains("nats is not selected"),
            "{:?}",
            plan.warnings
        );
    }
}

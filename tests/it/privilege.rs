//! The privilege guard on a real server: a module that binds cluster-admin to its service account is
//! stopped before anything is applied; the central overrides can allow it by name, with a reason.

use crate::deploy::module_yaml;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_module_granting_cluster_admin_to_a_workload_is_stopped_with_nothing_applied() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("priv");
    let (module, bystander) = (unique("godmode"), unique("bystander"));
    let cat = catalog(&[
        (&format!("{module}/module.yaml"), module_yaml(&module, &ns)),
        (
            &format!("{module}/templates/sa.yaml"),
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: manager\n".into(),
        ),
        (
            &format!("{module}/templates/rbac.yaml"),
            format!(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: {module}-manager\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}}\nsubjects:\n- {{kind: ServiceAccount, name: manager, namespace: {ns}}}\n"
            ),
        ),
        (
            &format!("{bystander}/module.yaml"),
            module_yaml(&bystander, &format!("{ns}-b")),
        ),
        (
            &format!("{bystander}/templates/cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: innocent\n".into(),
        ),
    ]);
    let dir = cat.path().to_str().unwrap();
    let modules = format!("{bystander},{module}");
    let out = kyma(&[
        "deploy",
        "--catalog",
        dir,
        "--modules",
        &modules,
        "--timeout",
        "60s",
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 2, "bad input: {stdout}\n{stderr}");
    for needle in [
        format!("module {module}"),
        format!("{module}/templates/rbac.yaml"),
        format!("ClusterRoleBinding/{module}-manager"),
        format!("cluster-admin to ServiceAccount {ns}/manager"),
        "policy: {superUser:".to_string(),
    ] {
        assert!(stderr.contains(&needle), "the error names {needle:?}: {stderr}");
    }
    // Nothing of either module reached the server: not the namespaces, not the bystander's ConfigMap.
    let namespaces = resource(&c, "v1", "Namespace");
    for n in [ns.clone(), format!("{ns}-b")] {
        assert!(
            c.get(&namespaces, None, &n).await.unwrap().is_none(),
            "{n} was created"
        );
    }
    let bindings = resource(&c, "rbac.authorization.k8s.io/v1", "ClusterRoleBinding");
    assert!(
        c.get(&bindings, None, &format!("{module}-manager"))
            .await
            .unwrap()
            .is_none(),
        "the binding was applied"
    );

    // The platform team allows it for this module, with a reason: deployed, and the reason is shown.
    let overrides = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        overrides.path(),
        format!("policy:\n  superUser:\n    {module}: \"a test of the allowance\"\n"),
    )
    .unwrap();
    let out = kyma(&[
        "deploy",
        "--catalog",
        dir,
        "--modules",
        &modules,
        "--overrides",
        overrides.path().to_str().unwrap(),
        "--timeout",
        "60s",
    ]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("allowed by the central overrides: a test of the allowance"),
        "{stderr}"
    );
    assert!(
        c.get(&bindings, None, &format!("{module}-manager"))
            .await
            .unwrap()
            .is_some()
    );

    // An allowance for a module the catalog does not have is itself bad input.
    std::fs::write(
        overrides.path(),
        "policy:\n  superUser:\n    no-such-module: \"why\"\n",
    )
    .unwrap();
    let out = kyma(&[
        "render",
        "--catalog",
        dir,
        "--modules",
        &module,
        "--overrides",
        overrides.path().to_str().unwrap(),
    ]);
    let (_, stderr) = text(&out);
    assert_eq!(code(&out), 2, "{stderr}");
    assert!(
        stderr.contains("policy.superUser.no-such-module: not a module in the catalog"),
        "{stderr}"
    );

    let out = kyma(&["undeploy", "--modules", &modules, "--timeout", "60s"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

/// A role that lets its service account raise its own rights (escalate and bind on ClusterRoles) is
/// stopped like cluster-admin, under its own policy key; allowed there, it deploys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    not(feature = "cluster-tests"),
    ignore = "cluster test: cargo test --features cluster-tests (scripts/test.sh)"
)]
async fn a_module_whose_workload_can_raise_its_own_rights_is_stopped_with_nothing_applied() {
    let _shared = CLUSTER.read().await;
    let c = cluster().await;
    let ns = unique("priv");
    let module = unique("raiser");
    let cat = catalog(&[
        (&format!("{module}/module.yaml"), module_yaml(&module, &ns)),
        (
            &format!("{module}/templates/sa.yaml"),
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: manager\n".into(),
        ),
        (
            &format!("{module}/templates/role.yaml"),
            format!(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {module}-role\nrules:\n- {{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [get, escalate, bind]}}\n"
            ),
        ),
        (
            &format!("{module}/templates/binding.yaml"),
            format!(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: {module}-manager\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {module}-role}}\nsubjects:\n- {{kind: ServiceAccount, name: manager, namespace: {ns}}}\n"
            ),
        ),
    ]);
    let dir = cat.path().to_str().unwrap();
    let deploy = |extra: &[&str]| {
        let mut args = vec![
            "deploy",
            "--catalog",
            dir,
            "--modules",
            &module,
            "--timeout",
            "60s",
        ];
        args.extend_from_slice(extra);
        kyma(&args)
    };
    let out = deploy(&[]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 2, "bad input: {stdout}\n{stderr}");
    for needle in [
        format!("module {module}"),
        format!("{module}/templates/binding.yaml"),
        format!("ClusterRoleBinding/{module}-manager"),
        format!("ClusterRole {module}-role (escalate on clusterroles, bind on clusterroles)"),
        format!("ServiceAccount {ns}/manager"),
        format!("policy: {{escalation: {{{module}:"),
    ] {
        assert!(stderr.contains(&needle), "the error names {needle:?}: {stderr}");
    }
    let namespaces = resource(&c, "v1", "Namespace");
    assert!(
        c.get(&namespaces, None, &ns).await.unwrap().is_none(),
        "{ns} was created"
    );
    let roles = resource(&c, "rbac.authorization.k8s.io/v1", "ClusterRole");
    assert!(
        c.get(&roles, None, &format!("{module}-role"))
            .await
            .unwrap()
            .is_none(),
        "the role was applied"
    );

    // Allowing super-user rights is not allowing escalation.
    let overrides = tempfile::NamedTempFile::new().unwrap();
    let path = overrides.path().to_str().unwrap();
    std::fs::write(
        path,
        format!("policy:\n  superUser:\n    {module}: \"wrong class\"\n"),
    )
    .unwrap();
    assert_eq!(code(&deploy(&["--overrides", path])), 2);

    std::fs::write(
        path,
        format!("policy:\n  escalation:\n    {module}: \"a test of the allowance\"\n"),
    )
    .unwrap();
    let out = deploy(&["--overrides", path]);
    let (stdout, stderr) = text(&out);
    assert_eq!(code(&out), 0, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("allowed by the central overrides: a test of the allowance (policy.escalation)"),
        "{stderr}"
    );
    assert!(
        c.get(&roles, None, &format!("{module}-role"))
            .await
            .unwrap()
            .is_some()
    );

    let out = kyma(&["undeploy", "--modules", &module, "--timeout", "60s"]);
    assert_eq!(code(&out), 0, "{:?}", text(&out));
}

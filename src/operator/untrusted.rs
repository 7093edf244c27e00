//! A kubeconfig the operator reads from a Secret was written by whoever may write Secrets in a watched
//! namespace, not by the operator's administrator. Loading it as kubectl would runs its `exec` command
//! and reads the files it names as the operator's user; so only inline credentials are taken unless
//! the operator was started with an explicit opt-in (as Flux guards `--insecure-kubeconfig-exec`).
//! The check reads the document only: nothing is run and no file is opened.

use kube::config::Kubeconfig;

/// What the operator's administrator allowed beyond inline credentials.
#[derive(Debug, Clone, Copy, Default)]
pub struct Allowed {
    /// `exec` and `auth-provider` entries (`--insecure-kubeconfig-exec`).
    pub exec: bool,
    /// File paths: `tokenFile`, `client-certificate`, `client-key`, `certificate-authority`
    /// (`--insecure-kubeconfig-files`).
    pub files: bool,
}

/// A field of the kubeconfig the operator refuses to honour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Where it is, as a person finds it in the YAML: `users[0].user.exec (user "admin")`.
    pub field: String,
    pub why: Why,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// Runs a program on the operator's machine.
    RunsCommand,
    /// Reads a file on the operator's machine.
    ReadsFile,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.why {
            Why::RunsCommand => write!(
                f,
                "{} would run a command as the operator; only inline credentials are taken from a Secret \
                 (start the operator with --insecure-kubeconfig-exec to allow it)",
                self.field
            ),
            Why::ReadsFile => write!(
                f,
                "{} names a file the operator would read; only inline credentials are taken from a Secret \
                 (use the *-data field, or start the operator with --insecure-kubeconfig-files)",
                self.field
            ),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum UntrustedError {
    #[error("not a kubeconfig: {0}")]
    Parse(String),
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Refused(Vec<Refused>),
}

/// Check a kubeconfig from a Secret: `Ok` when it carries nothing `allowed` does not permit.
pub fn check(text: &[u8], allowed: Allowed) -> Result<(), UntrustedError> {
    let text = std::str::from_utf8(text).map_err(|e| UntrustedError::Parse(e.to_string()))?;
    let config = Kubeconfig::from_yaml(text).map_err(|e| UntrustedError::Parse(e.to_string()))?;
    let mut refused = Vec::new();
    let mut flag = |field: String, set: bool, why: Why| {
        let permitted = match why {
            Why::RunsCommand => allowed.exec,
            Why::ReadsFile => allowed.files,
        };
        if set && !permitted {
            refused.push(Refused { field, why });
        }
    };
    for (n, user) in config.auth_infos.iter().enumerate() {
        let Some(a) = &user.auth_info else { continue };
        let at = |f: &str| format!("users[{n}].user.{f} (user {:?})", user.name);
        flag(at("exec"), a.exec.is_some(), Why::RunsCommand);
        flag(at("auth-provider"), a.auth_provider.is_some(), Why::RunsCommand);
        flag(at("tokenFile"), a.token_file.is_some(), Why::ReadsFile);
        flag(
            at("client-certificate"),
            a.client_certificate.is_some(),
            Why::ReadsFile,
        );
        flag(at("client-key"), a.client_key.is_some(), Why::ReadsFile);
    }
    for (n, cluster) in config.clusters.iter().enumerate() {
        let Some(c) = &cluster.cluster else { continue };
        let at = format!(
            "clusters[{n}].cluster.certificate-authority (cluster {:?})",
            cluster.name
        );
        flag(at, c.certificate_authority.is_some(), Why::ReadsFile);
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(UntrustedError::Refused(refused))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kubeconfig(user: &str, cluster: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\ncontexts:\n- name: c\n  context: {{cluster: k, user: u}}\n\
             clusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:6443\n{cluster}\
             users:\n- name: u\n  user:\n{user}"
        )
    }

    #[test]
    fn inline_credentials_pass() {
        let k = kubeconfig("    token: abc\n", "    certificate-authority-data: Zm9v\n");
        assert!(check(k.as_bytes(), Allowed::default()).is_ok());
    }

    #[test]
    fn commands_and_files_are_refused_and_named() {
        let exec = "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: sh\n      args: [-c, 'touch /tmp/x']\n";
        let k = kubeconfig(exec, "    certificate-authority: /etc/kubernetes/pki/ca.crt\n");
        let Err(UntrustedError::Refused(r)) = check(k.as_bytes(), Allowed::default()) else {
            panic!("accepted")
        };
        let fields: Vec<&str> = r.iter().map(|r| r.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "users[0].user.exec (user \"u\")",
                "clusters[0].cluster.certificate-authority (cluster \"k\")"
            ]
        );
        let text = UntrustedError::Refused(r).to_string();
        assert!(text.contains("--insecure-kubeconfig-exec") && text.contains("--insecure-kubeconfig-files"));
        // Each opt-in lifts its own class only.
        let exec_only = Allowed {
            exec: true,
            files: false,
        };
        assert!(matches!(check(k.as_bytes(), exec_only), Err(UntrustedError::Refused(r)) if r.len() == 1));
        assert!(
            check(
                k.as_bytes(),
                Allowed {
                    exec: true,
                    files: true
                }
            )
            .is_ok()
        );
    }

    #[test]
    fn token_files_client_files_and_auth_providers_are_refused() {
        for (user, field) in [
            (
                "    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token\n",
                "tokenFile",
            ),
            ("    client-certificate: /a.crt\n", "client-certificate"),
            ("    client-key: /a.key\n", "client-key"),
            (
                "    auth-provider:\n      name: oidc\n      config: {}\n",
                "auth-provider",
            ),
        ] {
            let k = kubeconfig(user, "");
            match check(k.as_bytes(), Allowed::default()) {
                Err(UntrustedError::Refused(r)) => assert!(r[0].field.contains(field), "{r:?}"),
                other => panic!("{field}: {other:?}"),
            }
        }
        assert!(matches!(
            check(b"{not yaml", Allowed::default()),
            Err(UntrustedError::Parse(_))
        ));
    }
}

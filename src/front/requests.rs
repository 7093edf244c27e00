//! Flags → typed requests: the one place the command line's structs become the data the pipeline,
//! the actions and the fleet runner take.

use crate::action::request::{DeployRequest, DiffRequest, StatusRequest, UndeployRequest};
use crate::cli::{ClusterArgs, DeployArgs, DiffArgs, GlobalArgs, SelectionArgs, StatusArgs, UndeployArgs};
use crate::cluster::Target;
use crate::exit::Failure;
use crate::pipeline::{FetchSettings, Selection, Values};
use crate::store::lock::LockWait;
use crate::values::Document;

pub fn fetch(global: &GlobalArgs) -> FetchSettings {
    FetchSettings {
        catalogs: global.catalogs.clone(),
        offline: global.offline,
        mirror: global.mirror.clone(),
        accept_new_digests: global.accept_new_digests,
        max_download_size: global.max_download_size,
    }
}

pub fn selection(args: &SelectionArgs) -> Selection {
    Selection {
        modules: on_channel(&args.modules, args.channel.as_deref()),
        values: Values {
            profile: args.profile,
            documents: args.values.iter().cloned().map(Document::File).collect(),
            set: args.set.clone(),
            overrides: args.overrides.clone().map(Document::File),
        },
    }
}

/// Modules named without `@` take the channel (`--channel`, a `Kyma`'s `spec.channel`); a version or
/// channel given with the name wins.
pub fn on_channel(modules: &[String], channel: Option<&str>) -> Vec<String> {
    modules
        .iter()
        .map(|m| match channel {
            Some(c) if !m.contains('@') => format!("{m}@{c}"),
            _ => m.clone(),
        })
        .collect()
}

pub fn deploy(args: &DeployArgs) -> DeployRequest {
    DeployRequest {
        selection: selection(&args.selection),
        timeout: args.timeout,
        wait_for_cluster: args.cluster.wait_for_cluster,
        wait_for_lock: LockWait::from_flag(args.wait_for_lock, args.timeout),
        concurrency: args.concurrency,
        wait: !args.no_wait,
        dry_run: args.dry_run,
        force_conflicts: args.force_conflicts,
        status_grace: args.status_grace,
        error_grace: args.error_grace,
        force_replace: args.force_replace,
        adopt: args.adopt,
        allow_empty: args.allow_empty,
        prune_crds: args.prune_crds,
        reapply: args.reapply,
    }
}

pub fn undeploy(args: &UndeployArgs) -> UndeployRequest {
    UndeployRequest {
        modules: args.modules.clone(),
        all: args.all,
        force: args.force,
        prune_crds: args.prune_crds,
        remove_finalizers: args.remove_finalizers,
        timeout: args.timeout,
        wait_for_cluster: args.cluster.wait_for_cluster,
        wait_for_lock: LockWait::from_flag(args.wait_for_lock, args.timeout),
    }
}

pub fn diff(args: &DiffArgs) -> DiffRequest {
    DiffRequest {
        selection: selection(&args.selection),
        concurrency: args.concurrency,
        wait_for_cluster: args.cluster.wait_for_cluster,
    }
}

pub fn status(args: &StatusArgs) -> StatusRequest {
    StatusRequest {
        modules: args.modules.clone(),
        check: args.check,
        concurrency: args.concurrency,
        wait_for_cluster: args.cluster.wait_for_cluster,
    }
}

/// The clusters a command goes to: `--kubeconfig`, `--context`, `--all-contexts`.
pub fn targets(args: &ClusterArgs) -> Result<Vec<Target>, Failure> {
    crate::cluster::targets(&args.kubeconfig, &args.context, args.all_contexts).map_err(Failure::from)
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(argv: &[&str]) -> Command {
        Cli::try_parse_from(std::iter::once("kyma").chain(argv.iter().copied()))
            .expect("parses")
            .command
    }

    #[test]
    fn flags_left_out_are_the_requests_defaults() {
        let Command::Deploy(args) = parse(&["deploy", "--modules", "a,b@1.0.0"]) else {
            panic!("not deploy")
        };
        let want = DeployRequest::new(Selection::modules(vec!["a".into(), "b@1.0.0".into()]));
        assert_eq!(deploy(&args), want);
        let Command::Undeploy(args) = parse(&["undeploy", "--modules", "a"]) else {
            panic!("not undeploy")
        };
        assert_eq!(undeploy(&args), UndeployRequest::new(vec!["a".into()]));
    }

    #[test]
    fn flags_given_reach_the_request() {
        let Command::Deploy(args) = parse(&[
            "deploy",
            "-m",
            "a",
            "-f",
            "v.yaml",
            "--set",
            "a.x=1",
            "--overrides",
            "o.yaml",
            "--timeout",
            "90s",
            "--wait-for-lock",
            "--no-wait",
            "--dry-run",
            "--reapply",
        ]) else {
            panic!("not deploy")
        };
        let r = deploy(&args);
        assert_eq!(
            r.selection.values.documents,
            vec![Document::File("v.yaml".into())]
        );
        assert_eq!(r.selection.values.set, vec!["a.x=1".to_string()]);
        assert_eq!(
            r.selection.values.overrides,
            Some(Document::File("o.yaml".into()))
        );
        assert_eq!(r.timeout, std::time::Duration::from_secs(90));
        assert_eq!(
            r.wait_for_lock,
            LockWait::Upto(std::time::Duration::from_secs(90))
        );
        assert!(!r.wait && r.dry_run && r.reapply && !r.adopt);
    }
}

//! A `Kyma` object as typed requests — the same `DeployRequest` and `UndeployRequest` the command line
//! builds from its flags, run by the same code (`kyma deploy`'s per-cluster deploy, `kyma undeploy`'s
//! action), so the defaults and the behaviour are the CLI's.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::mpsc;

use super::Ctx;
use super::api::KymaSpec;

/// Modules a channel's rollout pins to a version: the one they have (held back) or the one the rollout
/// let them take — deployed as `name@version`, never resolved through the channel again.
pub(super) type Pins = std::collections::BTreeMap<String, Pin>;

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Pin {
    pub version: String,
    /// The channel whose rollout holds the module back; `None`: admitted.
    pub held_by: Option<String>,
}
use crate::action::request::{DeployRequest, UndeployRequest};
use crate::cli::{OperatorRunArgs, OverridesSource};
use crate::cluster::Target;
use crate::exit::{Exit, Failure};
use crate::front::Report;
use crate::pipeline::{Selection, Values};
use crate::store::lock::LockWait;
use crate::values::Document;

/// What `kyma deploy` would be asked for this spec: its modules (`name@version`), their values as
/// one document (as `-f` gives them), the central overrides, the operator's --timeout, and a wait for
/// the cluster lock. No `--reapply`: a resync of an unchanged spec checks the cluster (one LIST per kind
/// and namespace) and applies only modules with something missing, edited or unhealthy, instead of
/// every object of every module every time.
pub(super) fn deploy_request(
    args: &OperatorRunArgs,
    key: &str,
    spec: &KymaSpec,
    pins: &Pins,
    overrides: Option<Document>,
) -> DeployRequest {
    let modules = spec
        .modules
        .iter()
        .map(|m| match pins.get(&m.name) {
            Some(pin) => format!("{}@{}", m.name, pin.version),
            None => spec.pick(m),
        })
        .collect();
    let values: serde_json::Map<String, Value> = spec
        .modules
        .iter()
        .filter_map(|m| m.values.clone().map(|v| (m.name.clone(), v)))
        .collect();
    let values = Values {
        documents: vec![Document::Data {
            origin: format!("Kyma {key} spec.modules[].values"),
            value: Value::Object(values),
        }],
        overrides,
        ..Values::default()
    };
    DeployRequest {
        timeout: args.timeout,
        // Reconciles of objects aimed at one cluster take turns on its lock: waiting is normal here.
        wait_for_lock: LockWait::Upto(lock_wait(args)),
        ..DeployRequest::new(Selection { modules, values })
    }
}

/// Undeploy modules taken out of a spec (or of a deleted object), with `kyma undeploy`'s guards.
pub(super) fn undeploy_request(args: &OperatorRunArgs, modules: &[String]) -> UndeployRequest {
    UndeployRequest {
        timeout: args.timeout,
        wait_for_cluster: args.cluster.wait_for_cluster,
        wait_for_lock: LockWait::Upto(lock_wait(args)),
        ..UndeployRequest::new(modules.to_vec())
    }
}

/// How long a reconcile waits for its cluster's lock: its --timeout, and never less than ten minutes
/// (the other reconciles aimed at that cluster hold it in turn; the wait is not counted in --timeout).
fn lock_wait(args: &OperatorRunArgs) -> Duration {
    args.timeout.max(Duration::from_secs(600))
}

/// `kyma deploy` of the spec's modules, through the command's own per-cluster code: its pipeline, its
/// action, its report. Module results are logged as they finish.
pub(super) async fn deploy(
    ctx: &Ctx,
    target: &Target,
    spec: &KymaSpec,
    pins: &Pins,
    key: &str,
) -> Result<Report, Failure> {
    let overrides = super::targets::central_overrides(ctx).await?;
    let request = deploy_request(&ctx.args, key, spec, pins, overrides);
    let (catalog, generation, assets) = ctx.catalog().await?;
    let inputs = super::memo::inputs_key(generation, &request.selection);
    let loaded = match inputs.as_deref().and_then(|k| ctx.memo.loaded(k)) {
        Some(l) => l,
        None => {
            let mut loaded = crate::pipeline::load_with(&catalog, &request.selection, |m| assets.fetch(m))?;
            if let Some(OverridesSource::Secret(_)) = &ctx.args.overrides_from {
                for l in &mut loaded.locked {
                    l.hide(crate::values::Hidden::FromSecret);
                }
            }
            let loaded = std::sync::Arc::new(loaded);
            if let Some(k) = &inputs {
                ctx.memo.keep_loaded(k, loaded.clone());
            }
            loaded
        }
    };
    let (tx, rx) = mpsc::unbounded_channel::<crate::engine::Event>();
    let log = tokio::spawn(log_modules(key.to_string(), target.label.clone(), rx));
    let to = crate::front::deploy::Destination {
        target,
        // The report is read, never printed: its JSON document becomes the status; a table would be
        // made on every resync for no one.
        output: crate::cli::OutputFormat::Json,
        immediate: false,
    };
    let cancel = ctx.shutdown.child_token();
    let cluster = match ctx.connections.get(target, request.connect_window()).await {
        Ok(c) => c,
        Err(e) => {
            drop(tx);
            let _ = log.await;
            return Err(Failure::from(e));
        }
    };
    let facts = crate::cluster::facts::read(&cluster, loaded.uses_network_facts()).await;
    let report = match prepare(ctx, inputs.as_deref(), &loaded, &facts) {
        Ok(prepared) => {
            crate::front::deploy::deploy_prepared(&cluster, &request, prepared, to, tx, cancel).await
        }
        Err(e) => {
            drop(tx);
            Err(Failure::from(e))
        }
    };
    let _ = log.await;
    forget_if_unreachable(ctx, target, &report);
    report
}

/// The selection rendered for these facts: kept from an earlier reconcile with the same inputs, or
/// rendered now (and kept).
fn prepare(
    ctx: &Ctx,
    inputs: Option<&str>,
    loaded: &crate::pipeline::Loaded,
    facts: &crate::render::ClusterFacts,
) -> Result<Arc<crate::pipeline::Prepared>, crate::pipeline::PipelineError> {
    let facts_key = serde_json::to_string(facts).unwrap_or_default();
    if let Some(p) = inputs.and_then(|k| ctx.memo.prepared(k, &facts_key)) {
        return Ok(p);
    }
    let mut prepared = crate::pipeline::render(loaded, facts)?;
    // Labelled once here: every later reconcile of these inputs only reads the kept plan.
    crate::store::inventory::label_plan(&mut prepared.plan);
    let prepared = Arc::new(prepared);
    if let Some(k) = inputs {
        ctx.memo.keep_prepared(k, &facts_key, &prepared);
    }
    Ok(prepared)
}

/// A reconcile that could not reach its cluster connects afresh next time.
fn forget_if_unreachable(ctx: &Ctx, target: &Target, report: &Result<Report, Failure>) {
    let exit = match report {
        Ok(r) => r.exit,
        Err(f) => f.exit,
    };
    if exit == Exit::Unreachable {
        ctx.connections.drop_target(target);
    }
}

/// One log line per module as it finishes.
async fn log_modules(key: String, cluster: String, mut rx: mpsc::UnboundedReceiver<crate::engine::Event>) {
    while let Some(ev) = rx.recv().await {
        if let crate::engine::Event::ModuleFinished {
            module,
            state,
            ready,
            total,
            ..
        } = &ev
        {
            let skipped = *state == crate::engine::ModuleState::Skipped;
            let state = state.as_str();
            // An unchanged module on every resync is the steady state, not news: debug only.
            if skipped {
                tracing::debug!(kyma = %key, module = %module, cluster = %cluster, state, ready, total,
                    "{module}: {state} ({ready}/{total})");
            } else {
                tracing::info!(kyma = %key, module = %module, cluster = %cluster, state, ready, total,
                    "{module}: {state} ({ready}/{total})");
            }
        }
    }
}

/// `kyma undeploy` of `modules`, with its guards; gone already counts as done.
pub(super) async fn undeploy(ctx: &Ctx, target: &Target, modules: &[String]) -> Result<(), Failure> {
    let request = undeploy_request(&ctx.args, modules);
    let cluster = ctx
        .connections
        .get(target, request.wait_for_cluster)
        .await
        .map_err(Failure::from)?;
    // Only what is installed: the action refuses a list with one module it does not find, and a
    // module the status still lists may be gone already (undeployed by hand, or by an earlier reconcile
    // whose status write failed) — the rest must still go.
    let installed: Vec<String> = crate::store::inventory::read_all(&cluster)
        .await
        .map_err(|e| {
            ctx.connections.drop_target(target);
            Failure::new(
                Exit::Unreachable,
                anyhow::anyhow!("cannot list what is installed: {e}"),
            )
        })?
        .into_iter()
        .map(|i| i.module)
        .collect();
    let request = UndeployRequest {
        modules: request
            .modules
            .iter()
            .filter(|m| installed.contains(m))
            .cloned()
            .collect(),
        ..request
    };
    if request.modules.is_empty() {
        return Ok(());
    }
    let cancel = ctx.shutdown.child_token();
    let result = crate::action::undeploy::run(&cluster, &request, cancel).await;
    if let Err(crate::action::ActionError::Lock(_) | crate::action::ActionError::Inventory(_)) = &result {
        ctx.connections.drop_target(target);
    }
    match result {
        Ok(r) if r.complete() => Ok(()),
        Ok(r) if r.refused() => {
            let refused: Vec<String> = r
                .modules
                .iter()
                .flat_map(|(_, d)| d.refused.iter().map(|(o, why)| format!("{o}: {why}")))
                .collect();
            Err(Failure::new(
                Exit::Unreachable,
                anyhow::anyhow!("the server refused to delete {}", refused.join("; ")),
            ))
        }
        Ok(_) => Err(Failure::new(
            Exit::Timeout,
            anyhow::anyhow!("objects are still being deleted"),
        )),
        // Already gone (someone ran `kyma undeploy`): nothing left to do.
        Err(crate::action::ActionError::NotInstalled { .. }) => Ok(()),
        Err(e) => Err(Failure::from(e)),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;
    use serde_json::json;

    use super::*;
    use crate::cli::{Cli, Command, OperatorCommand};

    fn operator_args(extra: &[&str]) -> OperatorRunArgs {
        let argv = ["kyma", "operator", "run"]
            .into_iter()
            .chain(extra.iter().copied());
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Operator(OperatorCommand::Run(args)) => *args,
            _ => unreachable!(),
        }
    }

    fn cli_deploy(argv: &[&str]) -> DeployRequest {
        let argv = ["kyma", "deploy"].into_iter().chain(argv.iter().copied());
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Deploy(args) => crate::front::requests::deploy(&args),
            _ => unreachable!(),
        }
    }

    /// The operator's request is exactly what `kyma deploy` builds from the flags the operator used to
    /// pass it (`--modules … -f … --timeout … --wait-for-lock=…`), values aside (those are data now).
    #[test]
    fn the_operators_request_is_the_clis_for_the_same_flags() {
        let spec: KymaSpec = serde_json::from_value(json!({"modules": [
            {"name": "web"}, {"name": "conf", "version": "1.0.0", "values": {"greeting": "hi"}}]}))
        .unwrap();
        for (flags, timeout, lock) in [(&[][..], "5m", "10m"), (&["--timeout", "15m"][..], "15m", "15m")] {
            let args = operator_args(flags);
            let mut ours = deploy_request(&args, "t/k", &spec, &Pins::new(), None);
            let cli = cli_deploy(&[
                "--modules",
                "web,conf@1.0.0",
                "-f",
                "values.yaml",
                "--timeout",
                timeout,
                &format!("--wait-for-lock={lock}"),
            ]);
            assert_eq!(
                ours.selection.values.documents,
                vec![Document::Data {
                    origin: "Kyma t/k spec.modules[].values".into(),
                    value: json!({"conf": {"greeting": "hi"}}),
                }]
            );
            ours.selection.values.documents = cli.selection.values.documents.clone();
            assert_eq!(ours, cli);
        }
    }

    #[test]
    fn undeploy_requests_are_the_clis_defaults_with_the_operators_timeout_and_lock_wait() {
        let args = operator_args(&["--wait-for-cluster", "7s"]);
        let ours = undeploy_request(&args, &["a".into()]);
        let want = UndeployRequest {
            wait_for_cluster: Duration::from_secs(7),
            wait_for_lock: LockWait::Upto(Duration::from_secs(600)),
            ..UndeployRequest::new(vec!["a".into()])
        };
        assert_eq!(ours, want);
    }
}

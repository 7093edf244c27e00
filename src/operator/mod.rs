//! `kyma operator`: the deploy pipeline as a controller. It watches `Kyma` objects (and the Secrets they
//! name) and reconciles each with exactly the code `kyma deploy` and `kyma undeploy` run — catalog →
//! values → render → plan → engine → inventory — so `kyma status` reads what the operator deployed
//! and the CLI and the operator can never disagree.

pub mod api;
pub mod manifests;
mod untrusted;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use futures::StreamExt;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use self::api::{FINALIZER, KymaSpec};
use crate::cli::{DeployArgs, GlobalArgs, OperatorRunArgs};
use crate::cluster::{ApplyOptions, Cluster, Resource, Target};
use crate::commands::fleet::Report;
use crate::exit::{Exit, Failure};

struct Ctx {
    global: GlobalArgs,
    args: OperatorRunArgs,
    /// The cluster the operator watches (its `Kyma` objects and Secrets live here).
    home: Cluster,
    home_target: Target,
    kymas: Resource,
    secrets: Resource,
    /// Failed reconciles in a row, per object: the requeue backs off with them.
    failures: Mutex<HashMap<String, u32>>,
    /// Kubeconfigs of remote clusters (mode 0600) and values files, one per `Kyma` object.
    workdir: PathBuf,
    /// The shards this process reconciles now: its --shard, or with --leader-election the shards whose
    /// Lease it holds.
    leading: Arc<Mutex<std::collections::BTreeSet<u32>>>,
    /// SIGTERM or SIGINT: in-flight reconciles stop, shard Leases are given back.
    shutdown: tokio_util::sync::CancellationToken,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ReconcileError(String);

pub async fn run(global: GlobalArgs, args: OperatorRunArgs) -> anyhow::Result<Exit> {
    if args.shard >= args.shards {
        return Err(Failure::bad_input(anyhow::anyhow!(
            "--shard {} is not one of the {} shards (0 to {})",
            args.shard,
            args.shards,
            args.shards - 1
        ))
        .into());
    }
    let targets = crate::commands::fleet::targets(&args.cluster)?;
    let [home_target] = targets.as_slice() else {
        return Err(Failure::bad_input(anyhow::anyhow!(
            "the operator watches one cluster: give at most one --context and one --kubeconfig"
        ))
        .into());
    };
    let home = crate::cluster::connect_within(home_target, args.cluster.wait_for_cluster)
        .await
        .map_err(Failure::from)?;
    // The CRD first: the operator brings its own API.
    let crds = resolve(&home, "apiextensions.k8s.io/v1", "CustomResourceDefinition").await?;
    home.apply(&crds, &api::crd(), ApplyOptions::default())
        .await
        .map_err(|e| {
            Failure::new(
                Exit::Unreachable,
                anyhow::anyhow!("cannot install the Kyma CRD: {e}"),
            )
        })?;
    let kymas = wait_for_kind(&home, &api::api_version(), api::KIND).await?;
    let secrets = resolve(&home, "v1", "Secret").await?;
    let ctx = Arc::new(Ctx {
        global,
        args,
        home: home.clone(),
        home_target: home_target.clone(),
        kymas: kymas.clone(),
        secrets: secrets.clone(),
        failures: Mutex::new(HashMap::new()),
        workdir: {
            let dir = std::env::temp_dir().join(format!("kyma-operator-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            dir
        },
        leading: Arc::new(Mutex::new(Default::default())),
        shutdown: crate::commands::signals::cancel_on_signal(),
    });
    eprintln!(
        "kyma operator: watching {} objects on {} (context {}); resync every {}",
        api::KIND,
        home.server,
        home.context,
        humantime::format_duration(ctx.args.resync)
    );
    // Which shards this process reconciles. Without leader election: its --shard. With it: every shard
    // whose Lease it holds — its own --shard as soon as that is free, any other only after that shard's
    // leader has been gone for a while (so replicas started together each take their own), which is how
    // killing one leader moves its shard to another process.
    let (gained_tx, gained_rx) = futures::channel::mpsc::unbounded::<()>();
    let mut leaders = Vec::new();
    let give_back = tokio_util::sync::CancellationToken::new();
    if ctx.args.leader_election {
        for shard in 0..ctx.args.shards {
            let (ctx, gained, give_back) = (ctx.clone(), gained_tx.clone(), give_back.clone());
            leaders.push(tokio::spawn(lead(ctx, shard, gained, give_back)));
        }
    } else {
        ctx.leading.lock().unwrap().insert(ctx.args.shard);
    }
    let kyma_api = home.dynamic_api(&kymas, ctx.args.namespace.as_deref());
    let mut watch = watcher::Config::default();
    if let Some(sel) = &ctx.args.selector {
        watch = watch.labels(sel);
    }
    let controller = Controller::new_with(kyma_api, watch, kymas.api_resource());
    let store = controller.store();
    let kyma_ar = kymas.api_resource();
    let secret_api = home.dynamic_api(&secrets, ctx.args.namespace.as_deref());
    // A changed kubeconfig Secret reconciles the Kyma objects that name it.
    let controller = controller.watches_with(
        secret_api,
        secrets.api_resource(),
        watcher::Config::default(),
        move |secret: kube::api::DynamicObject| {
            let ns = secret.metadata.namespace.clone();
            let name = secret.metadata.name.clone();
            store
                .state()
                .into_iter()
                .filter(|k| k.metadata.namespace == ns)
                .filter(|k| {
                    k.data
                        .pointer("/spec/kubeconfigSecretRef/name")
                        .and_then(Value::as_str)
                        == name.as_deref()
                })
                .map(|k| ObjectRef::from_obj_with(k.as_ref(), kyma_ar.clone()))
                .collect::<Vec<_>>()
        },
    );
    // A shard gained: every object is looked at again (those of the new shard were skipped so far).
    // On SIGTERM the controller takes no new work and waits for the reconciles in flight, which the
    // same token interrupts (their engine stops dispatching; their cluster lock is released).
    let shutdown = ctx.shutdown.clone();
    controller
        .reconcile_all_on(gained_rx)
        .graceful_shutdown_on(shutdown.clone().cancelled_owned())
        .run(reconcile, error_policy, ctx)
        .for_each(|r| async move {
            if let Err(e) = r {
                eprintln!("kyma operator: {e}");
            }
        })
        .await;
    // The shard Leases are given back once nothing of ours reconciles any more, so a standby leads at
    // once instead of after the lease runs out. Bounded: a server that does not answer must not keep
    // the process from exiting (the Leases then expire by themselves).
    shutdown.cancel();
    give_back.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), futures::future::join_all(leaders)).await;
    eprintln!("kyma operator: stopped");
    Ok(Exit::Success)
}

/// Hold shard `shard`'s Lease whenever possible: wait for it, lead until it is lost, wait again.
/// Ends when `give_back` is cancelled (shutdown), releasing the Lease if it holds it.
async fn lead(
    ctx: Arc<Ctx>,
    shard: u32,
    gained: futures::channel::mpsc::UnboundedSender<()>,
    give_back: tokio_util::sync::CancellationToken,
) {
    let spec = crate::store::lock::LeaseSpec {
        namespace: ctx.args.operator_namespace.clone(),
        name: format!("kyma-operator-shard-{shard}"),
        duration_secs: ctx.args.lease_duration.as_secs().max(3) as i64,
        renew_every: ctx.args.lease_duration / 3,
    };
    let stop = give_back;
    if shard != ctx.args.shard {
        tokio::select! {
            _ = tokio::time::sleep(ctx.args.lease_duration * 2) => {}
            _ = stop.cancelled() => return,
        }
    }
    loop {
        eprintln!(
            "kyma operator: waiting to lead shard {shard} (Lease {}/{})",
            spec.namespace, spec.name
        );
        let acquired = tokio::select! {
            r = crate::store::lock::Lock::acquire_lease(&ctx.home, &spec, crate::store::lock::LockWait::Forever) => r,
            _ = stop.cancelled() => return,
        };
        let lock = match acquired {
            Ok(lock) => lock,
            Err(e) => {
                eprintln!("kyma operator: shard {shard}: {e}; trying again");
                tokio::select! {
                    _ = tokio::time::sleep(ctx.args.lease_duration) => continue,
                    _ = stop.cancelled() => return,
                }
            }
        };
        ctx.leading.lock().unwrap().insert(shard);
        eprintln!("kyma operator: leading shard {shard}");
        let _ = gained.unbounded_send(());
        tokio::select! {
            _ = lock.lost.cancelled() => {
                ctx.leading.lock().unwrap().remove(&shard);
                eprintln!("kyma operator: lost shard {shard} (another replica leads it now)");
            }
            _ = stop.cancelled() => {
                ctx.leading.lock().unwrap().remove(&shard);
                lock.release().await;
                eprintln!("kyma operator: released shard {shard}");
                return;
            }
        }
    }
}

/// The shard of a `Kyma` object: a stable hash of `namespace/name` (SHA-256, so every build and
/// every replica agrees), modulo the number of shards.
pub fn shard_of(key: &str, shards: u32) -> u32 {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(key.as_bytes());
    let n = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
    (n % u64::from(shards.max(1))) as u32
}

async fn resolve(cluster: &Cluster, api_version: &str, kind: &str) -> Result<Resource, Failure> {
    cluster.discovery.ensure(cluster, [api_version.to_string()]).await;
    cluster.discovery.resolve(api_version, kind).ok_or_else(|| {
        Failure::new(
            Exit::Unreachable,
            anyhow::anyhow!("the server does not serve {kind} in {api_version}"),
        )
    })
}

/// The CRD was just applied: wait (bounded) until discovery serves its kind.
async fn wait_for_kind(cluster: &Cluster, api_version: &str, kind: &str) -> Result<Resource, Failure> {
    for _ in 0..100 {
        let _ = cluster.discovery.refresh(cluster, api_version).await;
        if let Some(r) = cluster.discovery.resolve(api_version, kind) {
            return Ok(r);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    resolve(cluster, api_version, kind).await
}

fn key_of(obj: &kube::api::DynamicObject) -> String {
    format!(
        "{}/{}",
        obj.metadata.namespace.as_deref().unwrap_or(""),
        obj.metadata.name.as_deref().unwrap_or("")
    )
}

/// On failure: back off per object (2 s, 4 s, … up to 5 min), never a fixed poll.
fn error_policy(obj: Arc<kube::api::DynamicObject>, e: &ReconcileError, ctx: Arc<Ctx>) -> Action {
    let key = key_of(&obj);
    let n = {
        let mut f = ctx.failures.lock().unwrap();
        let n = f.entry(key.clone()).or_insert(0);
        *n += 1;
        *n
    };
    let wait = Duration::from_secs(2u64.saturating_pow(n.min(9))).min(Duration::from_secs(300));
    eprintln!(
        "kyma operator: {key}: {e}; retrying in {}",
        humantime::format_duration(wait)
    );
    Action::requeue(wait)
}

async fn reconcile(obj: Arc<kube::api::DynamicObject>, ctx: Arc<Ctx>) -> Result<Action, ReconcileError> {
    let key = key_of(&obj);
    if !ctx
        .leading
        .lock()
        .unwrap()
        .contains(&shard_of(&key, ctx.args.shards))
    {
        return Ok(Action::await_change());
    }
    let ns = obj.metadata.namespace.clone().unwrap_or_default();
    let name = obj.metadata.name.clone().unwrap_or_default();
    let generation = obj.metadata.generation.unwrap_or(0);
    let spec: KymaSpec = match serde_json::from_value(obj.data.get("spec").cloned().unwrap_or(json!({}))) {
        Ok(s) => s,
        Err(e) => {
            let status = condition_status(
                &obj,
                generation,
                "False",
                "InvalidSpec",
                &format!("spec: {e}"),
                vec![],
            );
            patch_status(&ctx, &ns, &name, status).await?;
            return Ok(Action::await_change());
        }
    };
    let previous: Vec<String> = obj
        .data
        .pointer("/status/modules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m["name"].as_str().map(str::to_string))
        .collect();
    let finalizers = obj.metadata.finalizers.clone().unwrap_or_default();

    if obj.metadata.deletion_timestamp.is_some() {
        if !finalizers.iter().any(|f| f == FINALIZER) {
            return Ok(Action::await_change());
        }
        let (target, _kubeconfig) = target_of(&ctx, &spec, &obj).await.map_err(|f| fail(&f))?;
        if !previous.is_empty() {
            undeploy(&ctx, &target, &previous).await.map_err(|f| fail(&f))?;
        }
        let rest: Vec<&String> = finalizers.iter().filter(|f| *f != FINALIZER).collect();
        set_finalizers(&ctx, &obj, json!(rest)).await?;
        eprintln!("kyma operator: {key}: deleted; undeployed {}", list(&previous));
        return Ok(Action::await_change());
    }
    if !finalizers.iter().any(|f| f == FINALIZER) {
        let mut all = finalizers.clone();
        all.push(FINALIZER.to_string());
        set_finalizers(&ctx, &obj, json!(all)).await?;
    }
    if let Some(m) = spec.modules.iter().find(|m| m.channel.is_some()) {
        let message = format!(
            "module {}: channel {:?}: the catalog defines no release channels; give a version instead",
            m.name,
            m.channel.as_deref().unwrap_or("")
        );
        let status = condition_status(&obj, generation, "False", "InvalidSpec", &message, vec![]);
        patch_status(&ctx, &ns, &name, status).await?;
        return Ok(Action::await_change());
    }

    let (target, _kubeconfig) = match target_of(&ctx, &spec, &obj).await {
        Ok(t) => t,
        Err(f) => {
            let status = condition_status(
                &obj,
                generation,
                "False",
                reason_of(f.exit),
                &format!("{:#}", f.error),
                vec![],
            );
            patch_status(&ctx, &ns, &name, status).await?;
            // A refused or missing kubeconfig does not heal by retrying: the Secret's watch brings the
            // object back when it changes.
            if f.exit == Exit::BadInput {
                return Ok(Action::await_change());
            }
            return Err(fail(&f));
        }
    };
    // A module taken out of the spec is undeployed, with the same guards as `kyma undeploy`.
    let wanted: Vec<&str> = spec.modules.iter().map(|m| m.name.as_str()).collect();
    let removed: Vec<String> = previous
        .iter()
        .filter(|p| !wanted.contains(&p.as_str()))
        .cloned()
        .collect();
    if !removed.is_empty() {
        undeploy(&ctx, &target, &removed).await.map_err(|f| fail(&f))?;
        eprintln!(
            "kyma operator: {key}: undeployed {} (taken out of the spec)",
            list(&removed)
        );
    }
    if spec.modules.is_empty() {
        let status = condition_status(&obj, generation, "True", "Ready", "no modules asked for", vec![]);
        patch_status(&ctx, &ns, &name, status).await?;
        ctx.failures.lock().unwrap().remove(&key);
        return Ok(Action::requeue(ctx.args.resync));
    }

    let report = deploy(&ctx, &target, &spec, &key).await;
    let (exit, message, modules) = match &report {
        Ok(r) => (r.exit, summary(&r.json), modules_of(&r.json)),
        Err(f) => (f.exit, format!("{:#}", f.error), vec![]),
    };
    let ready = if exit == Exit::Success { "True" } else { "False" };
    let status = condition_status(&obj, generation, ready, reason_of(exit), &message, modules);
    patch_status(&ctx, &ns, &name, status).await?;
    match exit {
        Exit::Success => {
            ctx.failures.lock().unwrap().remove(&key);
            Ok(Action::requeue(ctx.args.resync))
        }
        // Bad input does not heal by retrying: wait for the spec (or a Secret) to change.
        Exit::BadInput => Ok(Action::await_change()),
        _ => Err(ReconcileError(message)),
    }
}

fn fail(f: &Failure) -> ReconcileError {
    ReconcileError(format!("{:#}", f.error))
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        "nothing".into()
    } else {
        names.join(", ")
    }
}

/// The cluster a `Kyma` object's modules go to: this one, or the one its kubeconfig Secret names (then
/// with the private file that holds the kubeconfig, which lives as long as the target is used).
async fn target_of(
    ctx: &Ctx,
    spec: &KymaSpec,
    obj: &kube::api::DynamicObject,
) -> Result<(Target, Option<Private>), Failure> {
    let Some(r) = &spec.kubeconfig_secret_ref else {
        return Ok((ctx.home_target.clone(), None));
    };
    let ns = obj.metadata.namespace.as_deref().unwrap_or("default");
    let bytes = read_key(ctx, &ctx.secrets, ns, &r.name, &r.key).await?;
    let allowed = untrusted::Allowed {
        exec: ctx.args.insecure_kubeconfig_exec,
        files: ctx.args.insecure_kubeconfig_files,
    };
    untrusted::check(&bytes, allowed).map_err(|e| {
        Failure::bad_input(anyhow::anyhow!(
            "the kubeconfig in Secret {ns}/{} key {:?}: {e}",
            r.name,
            r.key
        ))
    })?;
    let file = private_file(&ctx.workdir, "kubeconfig", &bytes)?;
    let target = Target {
        kubeconfig: Some(file.path().to_path_buf()),
        context: None,
        label: format!("{ns}/{}", r.name),
    };
    Ok((target, Some(file)))
}

/// `kyma deploy` of the spec's modules, through the command's own code: its flags parsed by its own
/// parser (so the defaults are the CLI's), its pipeline, its report.
async fn deploy(ctx: &Ctx, target: &Target, spec: &KymaSpec, key: &str) -> Result<Report, Failure> {
    let modules: Vec<String> = spec
        .modules
        .iter()
        .map(|m| match &m.version {
            Some(v) => format!("{}@{v}", m.name),
            None => m.name.clone(),
        })
        .collect();
    let values: serde_json::Map<String, Value> = spec
        .modules
        .iter()
        .filter_map(|m| m.values.clone().map(|v| (m.name.clone(), v)))
        .collect();
    let values_file = private_file(
        &ctx.workdir,
        "values",
        crate::yaml::to_string(&Value::Object(values)).as_bytes(),
    )?;
    let mut argv: Vec<String> = vec![
        "deploy".into(),
        "--modules".into(),
        modules.join(","),
        "-f".into(),
        values_file.path().display().to_string(),
        "--timeout".into(),
        humantime::format_duration(ctx.args.timeout).to_string(),
        // Reconciles of objects aimed at one cluster take turns on its lock: waiting is normal here.
        format!("--wait-for-lock={}", humantime::format_duration(lock_wait(ctx))),
        // No --reapply: a resync of an unchanged spec checks the cluster (one LIST per kind and namespace)
        // and applies only modules with something missing, edited or unhealthy, instead of every object
        // of every module every time.
    ];
    let overrides = central_overrides(ctx).await?;
    if let Some(o) = &overrides {
        argv.extend(["--overrides".into(), o.path().display().to_string()]);
    }
    let args = DeployCommand::try_parse_from(argv)
        .map_err(|e| Failure::bad_input(anyhow::anyhow!("{e}")))?
        .deploy;
    let mut loaded = crate::pipeline::load(&ctx.global, &args.selection)?;
    if let Some(crate::cli::OverridesSource::Secret(_)) = &ctx.args.overrides_from {
        for l in &mut loaded.locked {
            l.hide(crate::values::Hidden::FromSecret);
        }
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<crate::engine::Event>();
    let label = key.to_string();
    let log = tokio::spawn(async move {
        while let Some(ev) = rx.recv().await {
            if let crate::engine::Event::ModuleFinished {
                module,
                state,
                ready,
                total,
                ..
            } = &ev
            {
                eprintln!(
                    "kyma operator: {label}: {module}: {} ({ready}/{total})",
                    state.as_str()
                );
            }
        }
    });
    let report = crate::commands::deploy::deploy_to(
        &ctx.global,
        &args,
        &loaded,
        target,
        false,
        tx,
        ctx.shutdown.child_token(),
    )
    .await;
    let _ = log.await;
    report
}

/// How long a reconcile waits for its cluster's lock: its --timeout, and never less than ten minutes
/// (the other reconciles aimed at that cluster hold it in turn; the wait is not counted in --timeout).
fn lock_wait(ctx: &Ctx) -> Duration {
    ctx.args.timeout.max(Duration::from_secs(600))
}

/// `kyma deploy`'s flags, parsed by clap as the command line parses them.
#[derive(Debug, Parser)]
#[command(name = "deploy")]
struct DeployCommand {
    #[command(flatten)]
    deploy: DeployArgs,
}

async fn undeploy(ctx: &Ctx, target: &Target, modules: &[String]) -> Result<(), Failure> {
    let cluster = crate::cluster::connect_within(target, ctx.args.cluster.wait_for_cluster).await?;
    let opts = crate::action::undeploy::UndeployOptions {
        modules: modules.to_vec(),
        all: false,
        force: false,
        prune_crds: false,
        remove_finalizers: false,
        timeout: ctx.args.timeout,
        wait_for_lock: crate::store::lock::LockWait::Upto(lock_wait(ctx)),
    };
    match crate::action::undeploy::run(&cluster, &opts, ctx.shutdown.child_token()).await {
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

fn reason_of(exit: Exit) -> &'static str {
    match exit {
        Exit::Success => "Ready",
        Exit::ModuleFailed => "ModuleFailed",
        Exit::BadInput => "InvalidSpec",
        Exit::Timeout => "Progressing",
        Exit::Unreachable => "ClusterUnreachable",
        Exit::Locked => "Locked",
        Exit::Fetch => "CatalogUnavailable",
        Exit::Interrupted => "Interrupted",
    }
}

/// A line for the condition's message: each module and its state.
fn summary(doc: &Value) -> String {
    let parts: Vec<String> = doc["modules"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            format!(
                "{}: {}",
                m["name"].as_str().unwrap_or(""),
                m["state"].as_str().unwrap_or("")
            )
        })
        .collect();
    parts.join(", ")
}

/// The CLI report's facts per module: state, version, ready/total, what blocks it.
fn modules_of(doc: &Value) -> Vec<Value> {
    doc["modules"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            // An unchanged module the cluster confirmed is Ready, in lifecycle-manager's words.
            let state = if m["state"] == "Skipped" {
                json!("Ready")
            } else {
                m["state"].clone()
            };
            json!({
                "name": m["name"],
                "version": m["version"],
                "state": state,
                "ready": m["ready"],
                "total": m["total"],
                "blocking": m["blocking"].as_array().cloned().unwrap_or_default().into_iter()
                    .map(|b| json!({"object": b["object"], "reason": b["reason"]})).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// The status to write: modules, `observedGeneration`, and a `Ready` condition whose transition time
/// moves only when its status does (so `kubectl wait --for=condition=Ready` works as with any object).
fn condition_status(
    obj: &kube::api::DynamicObject,
    generation: i64,
    ready: &str,
    reason: &str,
    message: &str,
    modules: Vec<Value>,
) -> Value {
    let before = obj
        .data
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|c| c.iter().find(|c| c["type"] == "Ready"))
        .cloned();
    let since = match &before {
        Some(b) if b["status"] == ready => b["lastTransitionTime"].clone(),
        _ => json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    };
    let state = match (ready, reason) {
        ("True", _) => "Ready",
        (_, "Progressing") => "Processing",
        _ => "Error",
    };
    json!({
        "state": state,
        "observedGeneration": generation,
        "modules": modules,
        "conditions": [{
            "type": "Ready",
            "status": ready,
            "reason": reason,
            "message": message,
            "observedGeneration": generation,
            "lastTransitionTime": since,
        }],
    })
}

async fn patch_status(ctx: &Ctx, ns: &str, name: &str, status: Value) -> Result<(), ReconcileError> {
    ctx.home
        .merge_patch(
            &ctx.kymas,
            Some(ns),
            name,
            Some("status"),
            &json!({"status": status}),
        )
        .await
        .map(|_| ())
        .map_err(|e| ReconcileError(format!("cannot write the status of {ns}/{name}: {e}")))
}

/// Finalizers are replaced as a whole list, guarded by the resourceVersion read: another controller's
/// finalizer added meanwhile is never dropped (the patch is refused and the object reconciled again).
async fn set_finalizers(
    ctx: &Ctx,
    obj: &kube::api::DynamicObject,
    list: Value,
) -> Result<(), ReconcileError> {
    let ns = obj.metadata.namespace.as_deref();
    let name = obj.metadata.name.as_deref().unwrap_or("");
    let rv = obj.metadata.resource_version.clone();
    ctx.home
        .merge_patch(
            &ctx.kymas,
            ns,
            name,
            None,
            &json!({"metadata": {"finalizers": list, "resourceVersion": rv}}),
        )
        .await
        .map(|_| ())
        .map_err(|e| ReconcileError(format!("cannot update the finalizers of {name}: {e}")))
}

/// A file of one reconcile's own: kubeconfigs carry credentials and values may carry secrets, so it is
/// readable by the operator's user only (0600), has a name no other reconcile uses (concurrent
/// reconciles never share or overwrite one), and is removed when the handle is dropped.
type Private = tempfile::NamedTempFile;

fn private_file(dir: &std::path::Path, what: &str, bytes: &[u8]) -> Result<Private, Failure> {
    use std::io::Write as _;
    let cannot = |e: std::io::Error| {
        Failure::new(
            Exit::ModuleFailed,
            anyhow::anyhow!("cannot write a {what} file in {}: {e}", dir.display()),
        )
    };
    let mut file = tempfile::Builder::new()
        .prefix(&format!("{what}-"))
        .tempfile_in(dir)
        .map_err(cannot)?;
    file.write_all(bytes).and_then(|_| file.flush()).map_err(cannot)?;
    Ok(file)
}

/// Where this reconcile's central overrides are: the operator's `--overrides FILE`, or a private copy of
/// what `--overrides-from` held when it was read.
enum Overrides {
    File(PathBuf),
    Read(Private),
}

impl Overrides {
    fn path(&self) -> &std::path::Path {
        match self {
            Overrides::File(p) => p,
            Overrides::Read(f) => f.path(),
        }
    }
}

/// The central overrides file for this reconcile: `--overrides FILE`, or the ConfigMap/Secret of
/// `--overrides-from` read now (so a change reaches every object by its next resync).
async fn central_overrides(ctx: &Ctx) -> Result<Option<Overrides>, Failure> {
    use crate::cli::OverridesSource;
    let Some(source) = &ctx.args.overrides_from else {
        return Ok(ctx.args.overrides.clone().map(Overrides::File));
    };
    let ns = ctx.args.operator_namespace.as_str();
    let (kind, name) = match source {
        OverridesSource::ConfigMap(n) => ("ConfigMap", n),
        OverridesSource::Secret(n) => ("Secret", n),
    };
    let r = resolve(&ctx.home, "v1", kind).await?;
    let text = read_key(ctx, &r, ns, name, "overrides.yaml").await.map_err(|f| {
        Failure::new(
            f.exit,
            f.error.context("the central overrides (--overrides-from)"),
        )
    })?;
    Ok(Some(Overrides::Read(private_file(
        &ctx.workdir,
        "overrides",
        &text,
    )?)))
}

/// One key of a ConfigMap or Secret of the watched cluster (a Secret's value decoded from base64): the
/// kubeconfig a `Kyma` object names, the central overrides.
async fn read_key(ctx: &Ctx, r: &Resource, ns: &str, name: &str, key: &str) -> Result<Vec<u8>, Failure> {
    let kind = r.kind.as_str();
    let object = ctx
        .home
        .get(r, Some(ns), name)
        .await
        .map_err(|e| {
            Failure::new(
                Exit::Unreachable,
                anyhow::anyhow!("cannot read {kind} {ns}/{name}: {e}"),
            )
        })?
        .ok_or_else(|| Failure::bad_input(anyhow::anyhow!("{kind} {ns}/{name} does not exist")))?;
    let field = object
        .pointer(&format!("/data/{}", key.replace('~', "~0").replace('/', "~1")))
        .and_then(Value::as_str)
        .ok_or_else(|| Failure::bad_input(anyhow::anyhow!("{kind} {ns}/{name} has no key {key:?}")))?;
    if kind != "Secret" {
        return Ok(field.as_bytes().to_vec());
    }
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(field)
        .map_err(|e| Failure::bad_input(anyhow::anyhow!("{kind} {ns}/{name} key {key:?}: not base64: {e}")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn shards_are_stable_and_spread() {
        assert_eq!(super::shard_of("tenants/a", 1), 0);
        let counts = (0..400).fold([0u32; 4], |mut c, i| {
            c[super::shard_of(&format!("ns/kyma-{i}"), 4) as usize] += 1;
            c
        });
        assert!(counts.iter().all(|&n| n > 60), "{counts:?}");
        assert_eq!(super::shard_of("tenants/a", 7), super::shard_of("tenants/a", 7));
    }
}

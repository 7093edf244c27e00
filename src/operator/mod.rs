//! `kyma operator`: the deploy pipeline as a controller. It watches `Kyma` objects (and the Secrets they
//! name) and reconciles each with exactly the code `kyma deploy` and `kyma undeploy` run — catalog →
//! values → render → plan → engine → inventory — so `kyma status` reads what the operator deployed
//! and the CLI and the operator can never disagree. A `Kyma` object becomes a typed `DeployRequest`
//! (values and central overrides as data, the kubeconfig of a Secret in memory): no argv, no files.
//!
//! - `controller.rs`: the reconcile of one object (finalizer, removed modules, deploy, status).
//! - `request.rs`: a `Kyma` object → `DeployRequest` / `UndeployRequest`, and running them.
//! - `targets.rs`: which cluster an object's modules go to; Secrets and ConfigMaps read in memory.
//! - `kubeconfigs.rs`: kubeconfig Secrets as read, used again while the Secret watch sees no change.
//! - `connections.rs`: one client and discovery per target cluster, kept across reconciles.
//! - `catalogs.rs`: the catalog loaded once and again when it changes; assets read once per version.
//! - `memo.rs`: loads and renders kept by their inputs (bounded), so an unchanged resync renders nothing.
//! - `rollouts.rs`: a channel's new version taken by its objects in waves (`ChannelRollout`).
//! - `status.rs`: the status and finalizers written back.
//! - `shards.rs`: sharding by a stable hash, and the shard Leases of leader election.
//! - `log.rs`: the operator's log lines (`tracing`, text or JSON).

pub mod api;
mod catalogs;
mod connections;
mod controller;
mod kubeconfigs;
mod log;
pub mod manifests;
mod memo;
mod request;
mod rollouts;
mod shards;
mod status;
mod targets;
mod untrusted;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures::StreamExt;
use kube::runtime::controller::Controller;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use crate::cli::{GlobalArgs, OperatorRunArgs};
use crate::cluster::{ApplyOptions, Cluster, Resource, Target};
use crate::exit::{Exit, Failure};
use crate::pipeline::FetchSettings;

struct Ctx {
    /// Catalogs and downloads, from the operator's own flags (`--catalog`, `--mirror`, …).
    fetch: FetchSettings,
    args: OperatorRunArgs,
    /// The cluster the operator watches (its `Kyma` objects and Secrets live here).
    home: Cluster,
    home_target: Target,
    kymas: Resource,
    secrets: Resource,
    rollouts: Resource,
    /// lifecycle-manager's ModuleReleaseMeta, when the cluster serves it: its objects map channels.
    release_metas: Option<Resource>,
    release_store: OnceLock<Store>,
    /// What the watches see of `Kyma` and `ChannelRollout` objects (set when the watches start).
    kyma_store: OnceLock<Store>,
    rollout_store: OnceLock<Store>,
    /// `Kyma` objects a rollout lets take a new version: reconciled now, not at their next resync.
    admit: futures::channel::mpsc::UnboundedSender<ObjectRef<kube::api::DynamicObject>>,
    /// Per object and channel, the versions it was last woken for (each wake-up happens once).
    woken: Mutex<HashMap<String, String>>,
    /// Failed reconciles in a row, per object: the requeue backs off with them.
    failures: Mutex<HashMap<String, u32>>,
    /// The shards this process reconciles now: its --shard, or with --leader-election the shards whose
    /// Lease it holds.
    leading: Arc<Mutex<BTreeSet<u32>>>,
    /// SIGTERM or SIGINT: in-flight reconciles stop, shard Leases are given back.
    shutdown: CancellationToken,
    /// One connection (client and discovery) per target cluster, across reconciles.
    connections: connections::Connections,
    /// The catalog, reloaded when it changes, and the assets of the module versions used.
    catalogs: catalogs::Catalogs,
    /// Loads and renders by their inputs: an unchanged object renders nothing on its resync.
    memo: memo::Memo,
    /// Kubeconfig Secrets as read, while the Secret watch sees them unchanged.
    kubeconfigs: kubeconfigs::Kubeconfigs,
}

type Store = kube::runtime::reflector::Store<kube::api::DynamicObject>;

impl Ctx {
    /// The catalog with the cluster's ModuleReleaseMetas over its channels. Waits (bounded) for their
    /// watch's first list: a reconcile must not resolve a channel by the files alone when the cluster
    /// maps it otherwise.
    async fn catalog(
        &self,
    ) -> Result<(Arc<crate::catalog::Catalog>, u64, catalogs::Assets<'_>), crate::pipeline::PipelineError>
    {
        let mut metas = Vec::new();
        if let Some(store) = self.release_store.get() {
            // A channel is never resolved by the files alone while the cluster may map it otherwise:
            // no first list (no access, a server in trouble), no catalog — the reconcile fails, says
            // why, and backs off.
            if tokio::time::timeout(Duration::from_secs(10), store.wait_until_ready())
                .await
                .is_err()
            {
                return Err(crate::pipeline::PipelineError::Unavailable(anyhow::anyhow!(
                    "the ModuleReleaseMeta objects of namespace {} could not be listed (the operator needs list and watch on them)",
                    self.args.operator_namespace
                )));
            }
            metas = store.state();
        }
        self.catalogs.current(&self.fetch, &metas)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ReconcileError(String);

pub async fn run(global: GlobalArgs, args: OperatorRunArgs) -> anyhow::Result<Exit> {
    log::init(args.log_format);
    let (home, home_target) = connect_home(&args).await?;
    let (kymas, secrets, rollouts) = install_api(&home).await?;
    let (admit, admitted) = futures::channel::mpsc::unbounded();
    let release_metas = served(
        &home,
        "operator.kyma-project.io/v1beta2",
        crate::catalog::channels::KIND,
    )
    .await;
    let ctx = Arc::new(Ctx {
        fetch: crate::front::requests::fetch(&global),
        args,
        home: home.clone(),
        home_target,
        kymas,
        secrets,
        rollouts,
        release_metas,
        release_store: OnceLock::new(),
        kyma_store: OnceLock::new(),
        rollout_store: OnceLock::new(),
        admit,
        woken: Mutex::new(HashMap::new()),
        failures: Mutex::new(HashMap::new()),
        leading: Arc::new(Mutex::new(Default::default())),
        shutdown: crate::front::signals::cancel_on_signal(),
        connections: Default::default(),
        catalogs: Default::default(),
        memo: Default::default(),
        kubeconfigs: Default::default(),
    });
    tracing::info!(
        server = %home.server,
        context = %home.context,
        resync = %humantime::format_duration(ctx.args.resync),
        "watching {} objects",
        api::KIND
    );
    let (gained, leaders, give_back) = shards::start(&ctx);
    watch(&ctx, gained, admitted).await;
    // The shard Leases are given back once nothing of ours reconciles any more, so a standby leads at
    // once instead of after the lease runs out. Bounded: a server that does not answer must not keep
    // the process from exiting (the Leases then expire by themselves).
    ctx.shutdown.cancel();
    give_back.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), futures::future::join_all(leaders)).await;
    tracing::info!("stopped");
    Ok(Exit::Success)
}

/// The one cluster the operator watches, checked and connected.
async fn connect_home(args: &OperatorRunArgs) -> Result<(Cluster, Target), Failure> {
    if args.shard >= args.shards {
        return Err(Failure::bad_input(anyhow::anyhow!(
            "--shard {} is not one of the {} shards (0 to {})",
            args.shard,
            args.shards,
            args.shards - 1
        )));
    }
    let targets = crate::front::requests::targets(&args.cluster)?;
    let [home_target] = targets.as_slice() else {
        return Err(Failure::bad_input(anyhow::anyhow!(
            "the operator watches one cluster: give at most one --context and one --kubeconfig"
        )));
    };
    let home = crate::cluster::connect_within(home_target, args.cluster.wait_for_cluster)
        .await
        .map_err(Failure::from)?;
    Ok((home, home_target.clone()))
}

/// The CRDs first (the operator brings its own API), then the kinds it watches.
async fn install_api(home: &Cluster) -> Result<(Resource, Resource, Resource), Failure> {
    let crds = resolve(home, "apiextensions.k8s.io/v1", "CustomResourceDefinition").await?;
    for crd in [api::crd(), api::rollout_crd()] {
        home.apply(&crds, &crd, ApplyOptions::default())
            .await
            .map_err(|e| {
                Failure::new(
                    Exit::Unreachable,
                    anyhow::anyhow!("cannot install the CRD {}: {e}", crd["metadata"]["name"]),
                )
            })?;
    }
    let kymas = wait_for_kind(home, &api::api_version(), api::KIND).await?;
    let rollouts = wait_for_kind(home, &api::api_version(), api::ROLLOUT_KIND).await?;
    let secrets = resolve(home, "v1", "Secret").await?;
    Ok((kymas, secrets, rollouts))
}

/// Watch `Kyma` objects (and the Secrets they name) and `ChannelRollout` objects until shutdown,
/// reconciling each.
async fn watch(
    ctx: &Arc<Ctx>,
    gained: futures::channel::mpsc::UnboundedReceiver<()>,
    admitted: futures::channel::mpsc::UnboundedReceiver<ObjectRef<kube::api::DynamicObject>>,
) {
    let kyma_api = ctx.home.dynamic_api(&ctx.kymas, ctx.args.namespace.as_deref());
    let mut config = watcher::Config::default();
    if let Some(sel) = &ctx.args.selector {
        config = config.labels(sel);
    }
    // The controller's own watch, filtered: a status write (ours, after every reconcile that changed
    // something) must not bring the object straight back for a check that finds nothing to do.
    let controller = {
        use kube::runtime::WatchStreamExt as _;
        let writer = kube::runtime::reflector::store::Writer::new(ctx.kymas.api_resource());
        let store = writer.as_reader();
        let events = kube::runtime::reflector(writer, watcher::watcher(kyma_api.clone(), config.clone()))
            .applied_objects()
            .predicate_filter(controller::asks_for_work, Default::default());
        Controller::for_stream_with(events, store, ctx.kymas.api_resource())
    };
    let store = controller.store();
    let _ = ctx.kyma_store.set(store.clone());
    let store_for_metas = store.clone();
    let kyma_ar = ctx.kymas.api_resource();
    let secret_api = ctx.home.metadata_api(&ctx.secrets, ctx.args.namespace.as_deref());
    // A changed kubeconfig Secret reconciles the Kyma objects that name it (and what the watch sees
    // tells which Secrets as read are still current).
    let seen = ctx.clone();
    let secret_events = {
        use futures::TryStreamExt as _;
        use kube::runtime::WatchStreamExt as _;
        watcher::watcher(secret_api, watcher::Config::default())
            .inspect_ok(move |e| seen.kubeconfigs.observe(e))
            .touched_objects()
    };
    let controller = controller.watches_stream_with(
        secret_events,
        move |secret: kubeconfigs::SecretMeta| {
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
        ctx.secrets.api_resource(),
    );
    // A changed ModuleReleaseMeta (a channel moved) reconciles the objects with that module at once.
    let controller = match &ctx.release_metas {
        Some(r) => {
            use kube::runtime::WatchStreamExt as _;
            let writer = kube::runtime::reflector::store::Writer::new(r.api_resource());
            let _ = ctx.release_store.set(writer.as_reader());
            // Central configuration: only the operator's own namespace maps channels (whoever may
            // create one elsewhere must not re-point every tenant's modules).
            let api = ctx
                .home
                .dynamic_api(r, Some(ctx.args.operator_namespace.as_str()));
            let metas = kube::runtime::reflector(writer, watcher::watcher(api, watcher::Config::default()))
                .touched_objects();
            let (kymas, kyma_ar) = (store_for_metas, ctx.kymas.api_resource());
            controller.watches_stream_with(
                metas,
                move |meta: kube::api::DynamicObject| {
                    let module = meta
                        .data
                        .pointer("/spec/moduleName")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    kymas
                        .state()
                        .into_iter()
                        .filter(|k| rollouts::follows(k, module.as_deref()))
                        .map(|k| ObjectRef::from_obj_with(k.as_ref(), kyma_ar.clone()))
                        .collect::<Vec<_>>()
                },
                r.api_resource(),
            )
        }
        None => controller,
    };
    // A shard gained: every object is looked at again (those of the new shard were skipped so far).
    // On SIGTERM the controller takes no new work and waits for the reconciles in flight, which the
    // same token interrupts (their engine stops dispatching; their cluster lock is released).
    let kymas = controller
        .with_config(kube::runtime::controller::Config::default().concurrency(ctx.args.concurrency))
        .reconcile_all_on(gained)
        .reconcile_on(admitted)
        .graceful_shutdown_on(ctx.shutdown.clone().cancelled_owned())
        .run(controller::reconcile, controller::error_policy, ctx.clone())
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::warn!("{e}");
            }
        });
    // A rollout is looked at again whenever an object on its channel changes (its status may finish a
    // wave). `--selector` selects rollouts as it selects `Kyma` objects.
    let rollout_api = ctx.home.dynamic_api(&ctx.rollouts, ctx.args.namespace.as_deref());
    let rollouts = Controller::new_with(rollout_api, config.clone(), ctx.rollouts.api_resource());
    let _ = ctx.rollout_store.set(rollouts.store());
    let rollout_ar = ctx.rollouts.api_resource();
    let rollouts = rollouts
        .watches_with(kyma_api, ctx.kymas.api_resource(), config, move |k| {
            rollouts::rollouts_of(&k, &rollout_ar)
        })
        .graceful_shutdown_on(ctx.shutdown.clone().cancelled_owned())
        .run(rollouts::reconcile, rollouts::error_policy, ctx.clone())
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::warn!("{e}");
            }
        });
    futures::join!(kymas, rollouts);
}

/// A kind the cluster may serve (an optional API such as lifecycle-manager's).
async fn served(cluster: &Cluster, api_version: &str, kind: &str) -> Option<Resource> {
    cluster.discovery.ensure(cluster, [api_version.to_string()]).await;
    cluster.discovery.resolve(api_version, kind)
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

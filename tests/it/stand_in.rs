//! A stand-in for the Kyma module managers, behaving as the real keda, nats and serverless managers were
//! measured to behave on a 1.37 API server (`../shared/reference/real-managers.md`): the real images
//! cannot run on the test bed. It is a controller like any other: it watches a module's CR kind, holds a
//! finalizer on each CR, writes `status` through the status subresource (`Processing` with a condition
//! and a message, then `Ready` after a delay; every status field the CRD requires; `observedGeneration`
//! where the CRD has one), can be scripted to pass through `Error` or end in `Warning`, cleans up when
//! the CR is deleted, and can create an object that is not in the release manifest (keda's APIService).
//!
//! Like a real manager it only acts while it runs: while its Deployment exists and has an available
//! replica. Delete the Deployment before the CR and the CR's finalizer is never released — the order
//! lifecycle-manager and kyma delete in is what makes an undeploy end.
//!
//! Shared by the cluster tests (`tests/it`) and the benchmark (`tests/bin/manager_stand_in.rs`, built
//! as the `manager-stand-in` example), so it uses only the crate's normal dependencies.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use kube::runtime::watcher;
use serde_json::{Value, json};

/// The real modules' managers (the built-in catalog's facts): module, CR apiVersion, CR kind, manager
/// Deployment in `kyma-system`.
pub const REAL: &[(&str, &str, &str, &str)] = &[
    (
        "istio",
        "operator.kyma-project.io/v1alpha2",
        "Istio",
        "istio-controller-manager",
    ),
    (
        "api-gateway",
        "operator.kyma-project.io/v1alpha1",
        "APIGateway",
        "api-gateway-controller-manager",
    ),
    (
        "eventing",
        "operator.kyma-project.io/v1alpha1",
        "Eventing",
        "eventing-manager",
    ),
    (
        "nats",
        "operator.kyma-project.io/v1alpha1",
        "NATS",
        "nats-manager",
    ),
    (
        "keda",
        "operator.kyma-project.io/v1alpha1",
        "Keda",
        "keda-manager",
    ),
    (
        "serverless",
        "operator.kyma-project.io/v1alpha1",
        "Serverless",
        "serverless-operator",
    ),
];

/// The real managers of `modules` (all six when empty), each behaving as `behaviour` says.
pub fn real(modules: &[&str], behaviour: impl Fn(&str) -> Behaviour) -> Vec<Manager> {
    REAL.iter()
        .filter(|(m, ..)| modules.is_empty() || modules.contains(m))
        .map(|(m, av, kind, deployment)| Manager {
            api_version: av.to_string(),
            kind: kind.to_string(),
            namespace: "kyma-system".into(),
            deployment: deployment.to_string(),
            behaviour: behaviour(m),
        })
        .collect()
}

/// keda-manager's APIService: not in its release manifest; where its Service cannot answer, it makes
/// namespace deletion hang anywhere in the cluster (`NamespaceDeletionDiscoveryFailure`).
pub fn keda_apiservice() -> Value {
    json!({
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": "v1beta1.external.metrics.k8s.io"},
        "spec": {
            "group": "external.metrics.k8s.io",
            "version": "v1beta1",
            "service": {"name": "keda-operator-metrics-apiserver", "namespace": "kyma-system", "port": 443},
            "insecureSkipTLSVerify": true,
            "groupPriorityMinimum": 100,
            "versionPriority": 100
        }
    })
}

/// The finalizer each CR carries while the stand-in manages it.
pub const FINALIZER: &str = "stand-in.kyma-project.io/cleanup";

/// One state the manager reports, and how long it holds it before the next (the last one stays).
#[derive(Clone, Debug)]
pub struct Step {
    pub state: &'static str,
    pub reason: &'static str,
    pub message: String,
    pub hold: Duration,
}

impl Step {
    pub fn new(
        state: &'static str,
        reason: &'static str,
        message: impl Into<String>,
        hold: Duration,
    ) -> Step {
        Step {
            state,
            reason,
            message: message.into(),
            hold,
        }
    }
}

/// How one module's manager behaves.
#[derive(Clone, Debug)]
pub struct Behaviour {
    /// What it reports on each new generation of a CR, in order.
    pub steps: Vec<Step>,
    /// How long it holds the finalizer of a deleted CR (its cleanup).
    pub cleanup: Duration,
    /// An object it creates while it runs, not part of the release manifest; recreated when deleted.
    pub extra: Option<Value>,
    /// Leave `extra` behind on cleanup (a manager that does not remove what it registered).
    pub leaves_extra: bool,
    /// Write the judged generation into its conditions (`metav1.Condition.observedGeneration`).
    /// `status.observedGeneration` is written whenever the CRD has the field.
    pub reports_generation: bool,
}

impl Behaviour {
    /// `Processing` for `delay`, then `Ready`: what keda (4.3 s) and serverless (4.4 s) did.
    pub fn ready_after(delay: Duration) -> Behaviour {
        Behaviour {
            steps: vec![
                Step::new("Processing", "Verification", "verification in progress", delay),
                Step::new("Ready", "Verified", "server ready", Duration::ZERO),
            ],
            cleanup: Duration::from_millis(500),
            extra: None,
            leaves_extra: false,
            reports_generation: false,
        }
    }

    pub fn steps(steps: Vec<Step>) -> Behaviour {
        Behaviour {
            steps,
            ..Behaviour::ready_after(Duration::ZERO)
        }
    }
}

/// One module's manager: the CR kind it reconciles and the Deployment that is "it".
#[derive(Clone, Debug)]
pub struct Manager {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub deployment: String,
    pub behaviour: Behaviour,
}

/// What the stand-in did, in order, with wall-clock times (the benchmark compares them with kyma's).
#[derive(Clone, Debug)]
pub struct Entry {
    pub at: SystemTime,
    /// `Kind namespace/name`.
    pub object: String,
    pub what: String,
}

#[derive(Clone, Default)]
pub struct Log {
    entries: Arc<Mutex<Vec<Entry>>>,
    /// Print each entry to stdout as it happens (the benchmark's process reads them).
    print: bool,
}

impl Log {
    fn push(&self, object: &str, what: impl Into<String>) {
        self.push_at(SystemTime::now(), object, what)
    }

    fn push_at(&self, at: SystemTime, object: &str, what: impl Into<String>) {
        let what = what.into();
        if self.print {
            println!("{:.3} {object} {what}", unix(at));
        }
        self.entries.lock().unwrap().push(Entry {
            at,
            object: object.to_string(),
            what,
        });
    }
    pub fn entries(&self) -> Vec<Entry> {
        self.entries.lock().unwrap().clone()
    }
    /// The entries about objects of `kind`, as `what` texts.
    pub fn of(&self, kind: &str) -> Vec<String> {
        self.entries()
            .into_iter()
            .filter(|e| e.object.starts_with(&format!("{kind} ")))
            .map(|e| e.what)
            .collect()
    }
}

pub fn unix(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// The running stand-in; its managers stop when it is dropped.
pub struct StandIn {
    pub log: Log,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl StandIn {
    pub fn start(client: kube::Client, managers: Vec<Manager>) -> StandIn {
        Self::start_with(client, managers, Log::default())
    }

    /// Printing each entry to stdout as it happens.
    #[allow(
        dead_code,
        reason = "the benchmark's process (tests/bin) uses it, the tests do not"
    )]
    pub fn start_printing(client: kube::Client, managers: Vec<Manager>) -> StandIn {
        let log = Log {
            print: true,
            ..Log::default()
        };
        Self::start_with(client, managers, log)
    }

    fn start_with(client: kube::Client, managers: Vec<Manager>, log: Log) -> StandIn {
        let tasks = managers
            .into_iter()
            .map(|m| tokio::spawn(run(client.clone(), m, log.clone())))
            .collect();
        StandIn { log, tasks }
    }
}

/// A CR this manager knows, and what it is doing about it.
struct Tracked {
    latest: DynamicObject,
    /// The generation the manager has judged or is judging, and the run of steps for it (none for a
    /// CR that already had a state when this manager first saw it: a manager that restarts does not
    /// report an unchanged CR afresh).
    run: Option<(i64, Option<Task>)>,
    cleanup: Option<Task>,
}

impl Tracked {
    fn new(o: &DynamicObject) -> Tracked {
        let judged = o.data.pointer("/status/state").is_some();
        Tracked {
            latest: o.clone(),
            run: judged.then(|| (o.metadata.generation.unwrap_or(0), None)),
            cleanup: None,
        }
    }
}

/// A task of the manager, stopped with it: dropping the stand-in (or forgetting a CR) leaves nothing
/// running that could still write a status.
struct Task(tokio::task::JoinHandle<()>);

impl Task {
    /// Let it finish instead of stopping it.
    fn detach(self) {
        std::mem::forget(self);
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Ctx {
    client: kube::Client,
    m: Manager,
    log: Log,
    ar: ApiResource,
    /// Placeholders for the status fields the CRD requires, and whether its status has `observedGeneration`.
    required: Value,
    observed_generation: bool,
    description: bool,
    /// Where `behaviour.extra` lives, and its name.
    extra: Option<(Api<DynamicObject>, String)>,
}

async fn run(client: kube::Client, m: Manager, log: Log) {
    // A manager's process starts with its Deployment and finds its CRD; when the CRD goes (an
    // undeploy) and comes back, it starts over, as a restarted manager would — no watch left backing
    // off against a kind that is gone.
    loop {
        manage(&client, &m, &log).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// One life of the manager: from its CRD served until its watch fails (the CRD is gone).
async fn manage(client: &kube::Client, m: &Manager, log: &Log) {
    let (group, version) = m.api_version.split_once('/').expect("a group/version");
    let gvk = GroupVersionKind::gvk(group, version, &m.kind);
    // Until the module's CRD is served there is nothing to manage (a real manager would crash-loop).
    let ar = loop {
        if let Ok((ar, _)) = kube::discovery::pinned_kind(client, &gvk).await {
            break ar;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let crd_name = format!("{}.{group}", ar.plural);
    let Ok(crd) = Api::<CustomResourceDefinition>::all(client.clone())
        .get(&crd_name)
        .await
    else {
        return;
    };
    let crd = serde_json::to_value(crd).expect("a CRD serialises");
    let schema = crd["spec"]["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == version)
        .map(|v| v["schema"]["openAPIV3Schema"]["properties"]["status"].clone())
        .unwrap_or(Value::Null);
    let extra = match &m.behaviour.extra {
        Some(e) => Some(extra_api(client, e).await),
        None => None,
    };
    let ctx = Arc::new(Ctx {
        extra,
        required: required_status(&schema),
        observed_generation: schema["properties"].get("observedGeneration").is_some(),
        description: schema["properties"].get("description").is_some(),
        client: client.clone(),
        m: m.clone(),
        log: log.clone(),
        ar: ar.clone(),
    });
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let mut tracked: HashMap<String, Tracked> = HashMap::new();
    let mut events = watcher(api, watcher::Config::default()).boxed();
    // A manager that was not running when a CR changed looks again once it runs: a tick re-handles
    // every CR it knows (the real ones requeue the same way).
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(watcher::Event::Apply(o) | watcher::Event::InitApply(o))) => {
                    let uid = o.metadata.uid.clone().unwrap_or_default();
                    let t = tracked.entry(uid).or_insert_with(|| Tracked::new(&o));
                    t.latest = o;
                    handle(&ctx, t).await;
                }
                Some(Ok(watcher::Event::Delete(o))) => {
                    // Its cleanup, which released the finalizer, finishes on its own (it may not have
                    // logged yet); a run of steps stops.
                    if let Some(t) = tracked.remove(&o.metadata.uid.clone().unwrap_or_default())
                        && let Some(cleanup) = t.cleanup
                    {
                        cleanup.detach();
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            },
            _ = tick.tick() => {
                for t in tracked.values_mut() {
                    handle(&ctx, t).await;
                }
            }
        }
    }
}

fn name_of(ctx: &Ctx, o: &DynamicObject) -> String {
    format!(
        "{} {}/{}",
        ctx.m.kind,
        o.metadata.namespace.as_deref().unwrap_or(""),
        o.metadata.name.as_deref().unwrap_or("")
    )
}

/// Runs when its Deployment exists, is not being deleted and has an available replica.
async fn alive(ctx: &Ctx) -> bool {
    let api: Api<Deployment> = Api::namespaced(ctx.client.clone(), &ctx.m.namespace);
    match api.get_opt(&ctx.m.deployment).await {
        Ok(Some(d)) => {
            d.metadata.deletion_timestamp.is_none()
                && d.status.and_then(|s| s.available_replicas).unwrap_or(0) > 0
        }
        _ => false,
    }
}

fn cr_api(ctx: &Ctx, o: &DynamicObject) -> Api<DynamicObject> {
    match o.metadata.namespace.as_deref() {
        Some(ns) => Api::namespaced_with(ctx.client.clone(), ns, &ctx.ar),
        None => Api::all_with(ctx.client.clone(), &ctx.ar),
    }
}

async fn handle(ctx: &Arc<Ctx>, t: &mut Tracked) {
    let o = t.latest.clone();
    let ours = o.metadata.finalizers.iter().flatten().any(|f| f == FINALIZER);
    if o.metadata.deletion_timestamp.is_some() {
        t.run = None;
        if ours && t.cleanup.is_none() && alive(ctx).await {
            t.cleanup = Some(Task(tokio::spawn(clean_up(ctx.clone(), o))));
        }
        return;
    }
    if !alive(ctx).await {
        return;
    }
    let name = o.metadata.name.clone().unwrap_or_default();
    if !ours {
        let mut finalizers = o.metadata.finalizers.clone().unwrap_or_default();
        finalizers.push(FINALIZER.into());
        let patch =
            json!({"metadata": {"finalizers": finalizers, "resourceVersion": o.metadata.resource_version}});
        if cr_api(ctx, &o)
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .is_ok()
        {
            ctx.log.push(&name_of(ctx, &o), "finalizer added");
        }
    }
    ensure_extra(ctx, &o).await;
    let generation = o.metadata.generation.unwrap_or(0);
    if t.run.as_ref().map(|(g, _)| *g) != Some(generation) {
        t.run = Some((
            generation,
            Some(Task(tokio::spawn(walk(ctx.clone(), o, generation)))),
        ));
    }
}

/// The steps for one generation: each state written, then held.
async fn walk(ctx: Arc<Ctx>, o: DynamicObject, generation: i64) {
    for step in &ctx.m.behaviour.steps {
        while !alive(&ctx).await {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        write_status(&ctx, &o, step.state, step.reason, &step.message, generation).await;
        tokio::time::sleep(step.hold).await;
    }
}

async fn write_status(
    ctx: &Ctx,
    o: &DynamicObject,
    state: &str,
    reason: &str,
    message: &str,
    generation: i64,
) {
    let mut status = ctx.required.clone();
    status["state"] = json!(state);
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    // keda-manager's conditions (its docs/user/05-01-conditions.md): `Installed` Unknown while it
    // works, False in Error, True when Ready; `Deleted` Unknown while it cleans up.
    let (ty, cond) = match state {
        "Ready" | "Warning" => ("Installed", "True"),
        "Error" => ("Installed", "False"),
        "Deleting" => ("Deleted", "Unknown"),
        _ => ("Installed", "Unknown"),
    };
    let mut condition = json!({
        "type": ty,
        "status": cond,
        "reason": reason,
        "message": message,
        "lastTransitionTime": now,
    });
    if ctx.m.behaviour.reports_generation {
        condition["observedGeneration"] = json!(generation);
    }
    status["conditions"] = json!([condition]);
    if ctx.observed_generation {
        status["observedGeneration"] = json!(generation);
    }
    if ctx.description {
        status["description"] = json!(message);
    }
    // The flip is when the manager sends it: what it takes the server to answer counts in the
    // benchmark's latency, not against it.
    let sent = SystemTime::now();
    let name = o.metadata.name.clone().unwrap_or_default();
    let patch = json!({"status": status});
    match cr_api(ctx, o)
        .patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => ctx.log.push_at(
            sent,
            &name_of(ctx, o),
            format!("state {state} (generation {generation})"),
        ),
        Err(e) => ctx.log.push(&name_of(ctx, o), format!("status refused: {e}")),
    }
}

/// A deleted CR: report `Deleting`, clean up, then release the finalizer — while the manager runs.
async fn clean_up(ctx: Arc<Ctx>, o: DynamicObject) {
    let generation = o.metadata.generation.unwrap_or(0);
    write_status(
        &ctx,
        &o,
        "Deleting",
        "Deletion",
        "removing the module's resources",
        generation,
    )
    .await;
    tokio::time::sleep(ctx.m.behaviour.cleanup).await;
    if let Some((api, name)) = &ctx.extra
        && !ctx.m.behaviour.leaves_extra
    {
        let _ = api.delete(name, &DeleteParams::default()).await;
    }
    let name = o.metadata.name.clone().unwrap_or_default();
    let api = cr_api(&ctx, &o);
    loop {
        if !alive(&ctx).await {
            ctx.log.push(
                &name_of(&ctx, &o),
                "manager gone before its cleanup ended: finalizer kept",
            );
            return;
        }
        let Ok(Some(live)) = api.get_opt(&name).await else {
            return;
        };
        let finalizers: Vec<String> = live
            .metadata
            .finalizers
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|f| f != FINALIZER)
            .collect();
        let patch = json!({"metadata": {"finalizers": finalizers, "resourceVersion": live.metadata.resource_version}});
        match api
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => {
                ctx.log
                    .push(&name_of(&ctx, &o), "finalizer released, manager running");
                return;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

async fn extra_api(client: &kube::Client, extra: &Value) -> (Api<DynamicObject>, String) {
    let av = extra["apiVersion"]
        .as_str()
        .expect("the extra object's apiVersion");
    let (group, version) = av.split_once('/').unwrap_or(("", av));
    let gvk = GroupVersionKind::gvk(group, version, extra["kind"].as_str().expect("its kind"));
    let (ar, caps) = kube::discovery::pinned_kind(client, &gvk)
        .await
        .expect("the extra object's kind is served");
    let name = extra["metadata"]["name"].as_str().expect("its name").to_string();
    let api = match (caps.scope, extra["metadata"]["namespace"].as_str()) {
        (kube::discovery::Scope::Namespaced, Some(ns)) => Api::namespaced_with(client.clone(), ns, &ar),
        _ => Api::all_with(client.clone(), &ar),
    };
    (api, name)
}

/// The object a manager registers outside its release manifest, (re)created while it runs.
async fn ensure_extra(ctx: &Ctx, o: &DynamicObject) {
    let (Some(extra), Some((api, name))) = (&ctx.m.behaviour.extra, &ctx.extra) else {
        return;
    };
    if matches!(api.get_opt(name).await, Ok(Some(_))) {
        return;
    }
    let obj: DynamicObject = serde_json::from_value(extra.clone()).expect("the extra object is an object");
    if api.create(&PostParams::default(), &obj).await.is_ok() {
        ctx.log.push(
            &name_of(ctx, o),
            format!("created {} {name}", extra["kind"].as_str().unwrap_or("")),
        );
    }
}

/// A value for each status field the CRD requires (the server refuses a status without them): the
/// first enum value (or "True"), 0, false, {}, [].
fn required_status(status_schema: &Value) -> Value {
    let mut out = json!({});
    for name in status_schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let p = &status_schema["properties"][name];
        out[name] = match p["type"].as_str() {
            Some("integer") | Some("number") => json!(0),
            Some("boolean") => json!(false),
            Some("object") => json!({}),
            Some("array") => json!([]),
            _ => p["enum"]
                .as_array()
                .and_then(|e| e.iter().find(|x| *x == "True").or(e.first()))
                .cloned()
                .unwrap_or(json!("True")),
        };
    }
    out
}

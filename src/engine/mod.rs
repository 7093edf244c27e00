//! The deploy engine: applies a plan with server-side apply, as soon as each object's real
//! prerequisites hold (CRD Established, Namespace applied), retries what is retryable with backoff and
//! jitter, tracks readiness from watches, and stops on success, timeout or Ctrl-C. It prints nothing:
//! it emits events and returns an outcome.

pub mod events;
pub mod readiness;
mod watch;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::cluster::classify::{FatalClass, RetryClass, Verdict, backoff, classify, repeat_limit};
use crate::cluster::{ApplyOptions, Cluster, RequestError, Resource};
use crate::object::Scope;
use crate::plan::{Plan, Wait};
pub use events::Event;
use readiness::Health;

/// A decision made before the engine starts, per module.
#[derive(Debug, Clone, PartialEq)]
pub enum Preset {
    /// Unchanged since the last complete deploy: nothing to do.
    Skip,
    /// Refused before anything was sent (e.g. it would adopt another tool's object).
    Refuse {
        object: String,
        reason: String,
        origin: String,
    },
}

#[derive(Debug, Clone)]
pub struct Settings {
    pub concurrency: usize,
    pub timeout: Duration,
    pub wait: bool,
    pub dry_run: bool,
    pub force_conflicts: bool,
    pub status_grace: Duration,
    /// How long a module CR may stay in state `Error` before its module fails.
    pub error_grace: Duration,
    /// Delete and recreate an object whose update the server refuses as immutable.
    pub force_replace: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ModuleState {
    Ready,
    Applied,
    Failed,
    TimedOut,
    Interrupted,
    Skipped,
}

impl ModuleState {
    pub fn as_str(self) -> &'static str {
        match self {
            ModuleState::Ready => "Ready",
            ModuleState::Applied => "Applied",
            ModuleState::Failed => "Failed",
            ModuleState::TimedOut => "TimedOut",
            ModuleState::Interrupted => "Interrupted",
            ModuleState::Skipped => "Skipped",
        }
    }
}

/// The object that holds a module back, and why.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Blocking {
    pub object: String,
    pub reason: String,
    pub origin: String,
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModuleResult {
    pub name: String,
    pub version: String,
    pub state: ModuleState,
    pub ready: usize,
    pub applied: usize,
    pub total: usize,
    pub rounds: u32,
    pub duration_ms: u64,
    /// Every object still not ready or failed, first one first.
    pub blocking: Vec<Blocking>,
    /// Ready, but with something to read (a module CR in state `Warning`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Blocking>,
    /// Objects deleted and recreated because an immutable field changed (`--force-replace`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replaced: Vec<String>,
    /// Objects of a module that had not changed since its last deploy, found missing or edited on the
    /// cluster and applied again.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub restored: Vec<Restored>,
}

/// An object put back by a re-deploy, and what had happened to it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Restored {
    pub object: String,
    pub drift: String,
}

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub modules: Vec<ModuleResult>,
    pub timed_out: bool,
    pub interrupted: bool,
    /// Time during which the cluster did not answer at all (from the first request that got no answer
    /// to the next one that did), summed over `outages`.
    #[serde(skip_serializing_if = "Outage::is_none")]
    pub unreachable: Outage,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outage {
    pub outages: u32,
    pub seconds: f64,
}

impl Outage {
    pub fn is_none(&self) -> bool {
        self.outages == 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    Blocked,
    Queued,
    InFlight,
    Backoff,
    Applied,
    Ready,
    Failed,
}

struct NodeState {
    st: St,
    pending: usize,
    attempts: u32,
    same_message: u32,
    /// When the current run of identical answers began.
    same_since: Option<Instant>,
    /// When the last request for this object was sent.
    sent_at: Option<Instant>,
    /// Failed only because this object (a dependency) failed: it never got its own answer.
    blocked_by: Option<usize>,
    last_message: String,
    reason: String,
    warning: Option<String>,
    /// Deleted and recreated once because an update hit an immutable field.
    replaced: bool,
    /// The watch this object waits on fails, and why.
    watch_error: Option<String>,
    resource: Option<Resource>,
    established: bool,
    dependents: Vec<usize>,
    /// Custom resources waiting for this CRD's establishment.
    est_dependents: Vec<usize>,
}

enum Msg {
    Applied(usize, Result<(Resource, Value), RequestError>),
    Requeue(usize),
    Health(usize, Health),
    Established(usize),
    /// The watch these objects wait on fails (`Some`), or works again.
    WatchFailing {
        nodes: Vec<usize>,
        error: Option<String>,
    },
    /// A readiness watch failed (it is retried with backoff).
    WatchError {
        module: String,
        kind: String,
        namespace: Option<String>,
        message: String,
    },
}

/// An object's place in the ready queue: kind rank, then the plan's tie-breakers (`Plan::priority`).
type Priority = (u8, usize, usize);

struct Engine<'a> {
    cluster: &'a Cluster,
    plan: &'a mut Plan,
    s: Settings,
    nodes: Vec<NodeState>,
    ready_q: BinaryHeap<Reverse<(Priority, usize)>>,
    tx: mpsc::UnboundedSender<Msg>,
    events: mpsc::UnboundedSender<Event>,
    /// Applies, backoffs, watches in flight; finished ones are reaped as the loop goes.
    tasks: JoinSet<()>,
    /// How objects join the watch of their kind and namespace that is already running.
    watches: HashMap<watch::Key, mpsc::UnboundedSender<watch::Waiter>>,
    in_flight: usize,
    start: Instant,
    module_done: Vec<Option<Duration>>,
    presets: Vec<Option<Preset>>,
    /// Since when no request got an answer, while that lasts.
    down_since: Option<Instant>,
    unreachable: Outage,
    /// Requests allowed in flight now, as TCP paces packets: a slow start up to `--concurrency`, halved
    /// when the server answers 429, grown back by one per window of successes (AIMD). A throttled server
    /// gets fewer requests instead of the same number again after each Retry-After.
    limit: f64,
    last_cut: Option<Instant>,
}

/// Requests in flight at first; the window doubles per round trip up to `--concurrency`.
const SLOW_START: f64 = 1.0;

/// Run the plan against the cluster.
pub async fn run(
    cluster: &Cluster,
    plan: &mut Plan,
    s: Settings,
    presets: Vec<Option<Preset>>,
    events: mpsc::UnboundedSender<Event>,
    cancel: CancellationToken,
) -> Outcome {
    // Learn exactly the kinds this plan uses, in parallel, before the first apply.
    cluster.discovery.ensure(cluster, plan.api_versions()).await;
    // From here the engine paces its own requests (slow start, AIMD on 429).
    cluster.throttle.release();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let n = plan.nodes.len();
    let mut nodes: Vec<NodeState> = (0..n)
        .map(|_| NodeState {
            st: St::Blocked,
            pending: 0,
            attempts: 0,
            same_message: 0,
            same_since: None,
            sent_at: None,
            blocked_by: None,
            last_message: String::new(),
            reason: "waiting to be applied".into(),
            warning: None,
            replaced: false,
            watch_error: None,
            resource: None,
            established: false,
            dependents: vec![],
            est_dependents: vec![],
        })
        .collect();
    for (i, node) in plan.nodes.iter().enumerate() {
        for w in &node.waits {
            match *w {
                Wait::Applied(j) => nodes[j].dependents.push(i),
                Wait::Established(j) => nodes[j].est_dependents.push(i),
            }
            nodes[i].pending += 1;
        }
    }
    let module_count = plan.modules.len();
    let mut e = Engine {
        cluster,
        plan,
        s,
        nodes,
        ready_q: BinaryHeap::new(),
        tx,
        events,
        tasks: JoinSet::new(),
        watches: HashMap::new(),
        in_flight: 0,
        start: Instant::now(),
        module_done: vec![None; module_count],
        presets,
        down_since: None,
        unreachable: Outage::default(),
        limit: SLOW_START,
        last_cut: None,
    };
    for m in 0..module_count {
        let module = &e.plan.modules[m];
        let objects = e.plan.nodes.iter().filter(|nd| nd.module == m).count();
        e.emit(Event::ModuleStarted {
            module: module.name.clone(),
            version: module.version.clone(),
            objects,
        });
    }
    let mut settled = Vec::new();
    for i in 0..n {
        match e.presets.get(e.plan.nodes[i].module).cloned().flatten() {
            Some(Preset::Skip) => e.nodes[i].st = St::Ready,
            Some(Preset::Refuse { reason, .. }) => {
                e.nodes[i].st = St::Failed;
                e.nodes[i].reason = format!("not applied: {reason}");
            }
            None => continue,
        }
        settled.push(i);
    }
    // Another module's objects may wait on these (its namespace, its CRD). A skipped module's objects
    // are on the server as recorded; a refused module's were not touched, and may well be there (the
    // object it would not adopt is). Either way the waiting objects go ahead and the server decides: a
    // namespace or kind that is really missing is retried with that reason until --timeout, instead
    // of waiting silently for an apply that will never come.
    for i in settled {
        let waiting: Vec<usize> = std::mem::take(&mut e.nodes[i].dependents)
            .into_iter()
            .chain(std::mem::take(&mut e.nodes[i].est_dependents))
            .collect();
        for d in waiting {
            e.release(d);
        }
    }
    for i in 0..n {
        if e.nodes[i].st == St::Blocked && e.nodes[i].pending == 0 {
            e.enqueue(i);
        }
    }
    for m in 0..module_count {
        e.check_module_done(m);
    }
    let deadline = tokio::time::Instant::now() + e.s.timeout;
    let mut timed_out = false;
    let mut interrupted = false;
    loop {
        // Checked before every dispatch, not only when the select below picks the cancel branch: a
        // stop that came while another message was being handled (the lock lost during a pause) must
        // not let one more apply out.
        if !interrupted && cancel.is_cancelled() {
            interrupted = true;
            e.ready_q.clear();
        }
        if !interrupted {
            e.dispatch();
        }
        if e.all_done() || (interrupted && e.in_flight == 0) {
            break;
        }
        tokio::select! {
            msg = rx.recv() => {
                if let Some(msg) = msg { e.handle(msg) }
                while e.tasks.try_join_next().is_some() {}
            }
            _ = tokio::time::sleep_until(deadline) => { timed_out = true; break; }
            _ = cancel.cancelled(), if !interrupted => {
                interrupted = true;
                e.ready_q.clear();
            }
        }
    }
    e.tasks.abort_all();
    e.outcome(timed_out && !e.all_done(), interrupted).await
}

impl Engine<'_> {
    fn emit(&self, ev: Event) {
        let _ = self.events.send(ev);
    }

    fn key(&self, i: usize) -> String {
        self.plan.nodes[i].object.key().to_string()
    }

    fn module_name(&self, i: usize) -> String {
        self.plan.modules[self.plan.nodes[i].module].name.clone()
    }

    fn enqueue(&mut self, i: usize) {
        self.nodes[i].st = St::Queued;
        self.ready_q.push(Reverse((self.plan.priority(i), i)));
    }

    fn is_done(&self, i: usize) -> bool {
        match self.nodes[i].st {
            St::Failed | St::Ready => true,
            St::Applied => !self.s.wait,
            _ => false,
        }
    }

    fn all_done(&self) -> bool {
        (0..self.nodes.len()).all(|i| self.is_done(i))
    }

    fn dispatch(&mut self) {
        while (self.in_flight as f64) < self.limit.floor().max(1.0) {
            let Some(Reverse((_, i))) = self.ready_q.pop() else {
                break;
            };
            if self.nodes[i].st != St::Queued {
                continue;
            }
            self.nodes[i].st = St::InFlight;
            self.nodes[i].attempts += 1;
            self.nodes[i].sent_at = Some(Instant::now());
            self.in_flight += 1;
            let node = &mut self.plan.nodes[i];
            let module_ns = self.plan.modules[node.module].namespace.clone();
            let cluster = self.cluster.clone();
            let tx = self.tx.clone();
            let opts = ApplyOptions {
                force: self.s.force_conflicts || node.reclaim,
                dry_run: self.s.dry_run,
                raw: true,
            };
            let attempts = self.nodes[i].attempts;
            let api_version = node.object.api_version().to_string();
            let kind = node.object.kind().to_string();
            // Settle an unknown scope from discovery before the object goes out.
            let resource = cluster.discovery.resolve(&api_version, &kind);
            if let (Some(r), Scope::Unknown) = (&resource, node.object.scope) {
                node.object.scope = if r.namespaced {
                    Scope::Namespaced
                } else {
                    Scope::Cluster
                };
                crate::render::apply_scope(&mut node.object, module_ns.as_deref());
            }
            let data = node.object.data.clone();
            let dry_run_unserved = self.s.dry_run && resource.is_none();
            self.tasks.spawn(async move {
                let result = match resource {
                    Some(r) => cluster.apply(&r, &data, opts).await.map(|v| (r, v)),
                    None if dry_run_unserved => Ok((unserved_resource(&api_version, &kind), data)),
                    None => {
                        // Not in discovery: maybe its CRD arrived from elsewhere since. Refresh this
                        // group/version only on retries, not on the first miss.
                        if attempts > 1 {
                            let _ = cluster.discovery.refresh(&cluster, &api_version).await;
                        }
                        match cluster.discovery.resolve(&api_version, &kind) {
                            Some(r) => cluster.apply(&r, &data, opts).await.map(|v| (r, v)),
                            None => Err(RequestError {
                                code: Some(404),
                                reason: "NotFound".into(),
                                message: format!("the server does not serve {kind} in {api_version} (is its CRD installed and established?)"),
                                ..Default::default()
                            }),
                        }
                    }
                };
                let _ = tx.send(Msg::Applied(i, result));
            });
        }
    }

    fn handle(&mut self, msg: Msg) {
        match msg {
            Msg::Applied(i, result) => {
                self.in_flight -= 1;
                match result {
                    Ok((r, live)) => self.on_applied(i, r, live),
                    Err(err) => self.on_error(i, err),
                }
            }
            Msg::Requeue(i) => {
                if self.nodes[i].st == St::Backoff {
                    self.enqueue(i);
                }
            }
            Msg::Health(i, h) => self.on_health(i, h),
            Msg::WatchFailing { nodes, error } => {
                for i in nodes {
                    self.nodes[i].watch_error = error.clone();
                }
            }
            Msg::WatchError {
                module,
                kind,
                namespace,
                message,
            } => {
                self.emit(Event::WatchError {
                    module,
                    kind,
                    namespace,
                    message,
                });
            }
            Msg::Established(i) => {
                self.nodes[i].established = true;
                for d in std::mem::take(&mut self.nodes[i].est_dependents) {
                    self.release(d);
                }
            }
        }
    }

    fn release(&mut self, i: usize) {
        if self.nodes[i].st != St::Blocked {
            return;
        }
        self.nodes[i].pending -= 1;
        if self.nodes[i].pending == 0 {
            self.enqueue(i);
        }
    }

    fn on_applied(&mut self, i: usize, r: Resource, live: Value) {
        self.answered();
        let max = self.s.concurrency.max(1) as f64;
        match self.last_cut {
            // Slow start: one more per success doubles the window each round trip, so a server that
            // throttles sees a handful of requests before the first 429, not a burst of --concurrency.
            None => self.limit = (self.limit + 1.0).min(max),
            // After a cut, grow back by one per window, and only after a long quiet spell: each 429 costs
            // its object the server's Retry-After (APF raises it while drops go on), so probing for more
            // room too early costs more than it gains.
            Some(t) if t.elapsed() >= Duration::from_secs(10) => {
                self.limit = (self.limit + 1.0 / self.limit).min(max)
            }
            Some(_) => {}
        }
        let attempt = self.nodes[i].attempts;
        self.nodes[i].st = St::Applied;
        self.nodes[i].resource = Some(r.clone());
        self.emit(Event::ObjectApplied {
            module: self.module_name(i),
            object: self.key(i),
            attempt,
        });
        for d in std::mem::take(&mut self.nodes[i].dependents) {
            self.release(d);
        }
        let obj = &self.plan.nodes[i].object;
        let is_crd = obj.is_crd();
        if is_crd && !self.nodes[i].est_dependents.is_empty() && self.s.dry_run {
            // Nothing is persisted in a dry run: the CRD never becomes established.
            let _ = self.tx.send(Msg::Established(i));
        }
        if self.s.dry_run {
            self.nodes[i].st = St::Ready;
            self.check_module_done(self.plan.nodes[i].module);
            return;
        }
        let ctx = readiness::Context {
            has_status_subresource: r.has_status,
            module_cr: obj.module_cr,
            ..Default::default()
        };
        let h = readiness::health(&live, obj.group(), obj.kind(), ctx);
        let needs_watch =
            (self.s.wait && !h.is_ready()) || (is_crd && !self.nodes[i].est_dependents.is_empty());
        if needs_watch {
            self.spawn_watch(i, r, &live);
        }
        self.on_health(i, h);
    }

    fn on_health(&mut self, i: usize, h: Health) {
        let is_crd = self.plan.nodes[i].object.is_crd();
        if is_crd && h.is_ready() && !self.nodes[i].established && !self.nodes[i].est_dependents.is_empty() {
            self.nodes[i].established = true;
            self.spawn_refresh_for_crd(i);
        }
        if !self.s.wait || !matches!(self.nodes[i].st, St::Applied) {
            self.check_module_done(self.plan.nodes[i].module);
            return;
        }
        match h {
            Health::Ready | Health::Warning(_) => {
                self.nodes[i].st = St::Ready;
                if let Health::Warning(w) = h {
                    self.nodes[i].warning = Some(w);
                }
                self.emit(Event::ObjectReady {
                    module: self.module_name(i),
                    object: self.key(i),
                });
            }
            Health::Failed(reason) => {
                self.nodes[i].reason = reason.clone();
                self.fail(i, reason);
            }
            Health::InProgress(reason) => {
                if reason != self.nodes[i].reason {
                    self.nodes[i].reason = reason.clone();
                    self.emit(Event::ObjectWaiting {
                        module: self.module_name(i),
                        object: self.key(i),
                        reason,
                    });
                }
            }
        }
        self.check_module_done(self.plan.nodes[i].module);
    }

    fn on_error(&mut self, i: usize, err: RequestError) {
        let verdict = classify(&err);
        let message = err.message.clone();
        // A dry run persists nothing, so an object whose namespace or kind comes from this same plan
        // cannot be checked by the server; what it would wait for exists in the plan, so it counts as
        // applied (unvalidated) rather than waiting forever.
        if self.s.dry_run
            && !self.plan.nodes[i].waits.is_empty()
            && matches!(
                verdict,
                Verdict::Retry {
                    class: RetryClass::NamespaceMissing | RetryClass::KindNotServed,
                    ..
                }
            )
        {
            let r = unserved_resource(
                self.plan.nodes[i].object.api_version(),
                self.plan.nodes[i].object.kind(),
            );
            let data = self.plan.nodes[i].object.data.clone();
            return self.on_applied(i, r, data);
        }
        if message == self.nodes[i].last_message {
            self.nodes[i].same_message += 1;
        } else {
            self.nodes[i].same_message = 1;
            self.nodes[i].same_since = Some(Instant::now());
            self.nodes[i].last_message = message.clone();
        }
        let retry_class = match verdict {
            Verdict::Retry { class, .. } => Some(class),
            Verdict::Fail(_) => None,
        };
        if retry_class == Some(RetryClass::Transport) {
            self.unanswered(&message);
        } else {
            self.answered();
        }
        if retry_class == Some(RetryClass::Throttled)
            && self
                .last_cut
                .is_none_or(|cut| self.nodes[i].sent_at.is_some_and(|sent| sent > cut))
        {
            // One cut per window: a 429 for a request sent before the last cut says nothing new.
            self.cluster.throttle.throttled();
            self.limit = (self.limit / 2.0).max(1.0);
            self.last_cut = Some(Instant::now());
        }
        match verdict {
            Verdict::Retry { class, after } => {
                // The same answer again and again is a verdict only once it has also lasted: a server
                // whose etcd is away answers 5xx for as long as that takes.
                let lasted = self.nodes[i]
                    .same_since
                    .is_some_and(|t| t.elapsed() >= self.s.error_grace.min(self.s.timeout / 2));
                if lasted && repeat_limit(class).is_some_and(|limit| self.nodes[i].same_message >= limit) {
                    let text = format!(
                        "{} (the same answer {} times in a row; not transient)",
                        err, self.nodes[i].same_message
                    );
                    return self.fail(i, text);
                }
                let attempt = self.nodes[i].attempts;
                let delay = after
                    .unwrap_or_else(|| backoff(attempt))
                    .max(backoff(attempt).min(Duration::from_millis(100)));
                self.nodes[i].st = St::Backoff;
                self.nodes[i].reason = format!("{}: {}", retry_label(class), message);
                self.emit(Event::ObjectRetry {
                    module: self.module_name(i),
                    object: self.key(i),
                    class,
                    message,
                    attempt,
                    delay_ms: delay.as_millis() as u64,
                });
                let tx = self.tx.clone();
                self.tasks.spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = tx.send(Msg::Requeue(i));
                });
            }
            Verdict::Fail(FatalClass::Immutable) if !self.nodes[i].replaced && self.may_replace(i) => {
                self.replace(i, message)
            }
            Verdict::Fail(class) => {
                let text = match class {
                    FatalClass::FieldConflict => format!(
                        "{err}; another field manager owns these fields: pass --force-conflicts to take them over"
                    ),
                    FatalClass::Immutable => format!(
                        "{}; the server cannot change this field in place. Re-run with --force-replace to delete and \
                         recreate {} (or annotate it {REPLACE_ANNOTATION}: \"true\")",
                        immutable_summary(&message),
                        self.key(i)
                    ),
                    FatalClass::UnknownField => format!(
                        "this cluster ({}) does not know a field of this object ({}); the module needs a newer Kubernetes",
                        self.cluster.server_version,
                        unknown_field(&message)
                    ),
                    _ => err.to_string(),
                };
                self.fail(i, text);
            }
        }
    }

    /// A request got no answer: the cluster is unreachable from now, unless it already was.
    fn unanswered(&mut self, message: &str) {
        if self.down_since.is_none() {
            self.down_since = Some(Instant::now());
            self.emit(Event::ClusterUnreachable {
                message: message.to_string(),
            });
        }
    }

    /// The server answered (success or a refusal): an outage, if any, is over.
    fn answered(&mut self) {
        if let Some(d) = self.end_outage() {
            self.emit(Event::ClusterReachable {
                after_ms: d.as_millis() as u64,
            });
        }
    }

    /// Count the outage in progress, if any, into `unreachable`; how long it lasted.
    fn end_outage(&mut self) -> Option<Duration> {
        let d = self.down_since.take()?.elapsed();
        self.unreachable.outages += 1;
        self.unreachable.seconds += d.as_secs_f64();
        Some(d)
    }

    fn may_replace(&self, i: usize) -> bool {
        let annotated = self.plan.nodes[i]
            .object
            .data
            .pointer(&format!(
                "/metadata/annotations/{}",
                REPLACE_ANNOTATION.replace('/', "~1")
            ))
            .and_then(Value::as_str)
            == Some("true");
        !self.s.dry_run && (self.s.force_replace || annotated)
    }

    /// Delete the object, wait until it is gone, then apply it again (once).
    fn replace(&mut self, i: usize, why: String) {
        self.nodes[i].replaced = true;
        self.nodes[i].st = St::Backoff;
        self.nodes[i].reason = format!("replacing: {}", immutable_summary(&why));
        self.emit(Event::ObjectReplacing {
            module: self.module_name(i),
            object: self.key(i),
            reason: immutable_summary(&why),
        });
        let obj = &self.plan.nodes[i].object;
        let (av, kind, ns, name) = (
            obj.api_version().to_string(),
            obj.kind().to_string(),
            obj.namespace().map(str::to_string),
            obj.name().to_string(),
        );
        let cluster = self.cluster.clone();
        let tx = self.tx.clone();
        self.tasks.spawn(async move {
            if let Some(r) = cluster.discovery.resolve(&av, &kind) {
                let _ = cluster.delete(&r, ns.as_deref(), &name).await;
                // Until it is gone (its finalizers done); the apply after that creates it anew.
                for _ in 0..600 {
                    match cluster.get(&r, ns.as_deref(), &name).await {
                        Ok(None) => break,
                        _ => tokio::time::sleep(Duration::from_millis(100)).await,
                    }
                }
            }
            let _ = tx.send(Msg::Requeue(i));
        });
    }

    /// Fail a node and everything that can no longer happen because of it.
    fn fail(&mut self, i: usize, reason: String) {
        let mut stack = vec![(i, reason, None)];
        while let Some((j, why, cause)) = stack.pop() {
            if self.nodes[j].st == St::Failed {
                continue;
            }
            self.nodes[j].st = St::Failed;
            self.nodes[j].reason = why.clone();
            self.nodes[j].blocked_by = cause;
            let o = &self.plan.nodes[j].object;
            self.emit(Event::ObjectFailed {
                module: self.module_name(j),
                object: self.key(j),
                message: why,
                origin: o.origin.to_string(),
            });
            let blocked = format!("blocked: {} failed", self.key(j));
            let mut deps = std::mem::take(&mut self.nodes[j].dependents);
            deps.append(&mut self.nodes[j].est_dependents);
            for d in deps {
                if self.nodes[d].st == St::Blocked {
                    stack.push((d, blocked.clone(), Some(j)));
                }
            }
            self.check_module_done(self.plan.nodes[j].module);
        }
    }

    fn check_module_done(&mut self, m: usize) {
        if self.module_done[m].is_some() {
            return;
        }
        let idx: Vec<usize> = self.plan.nodes_of(m).map(|(i, _)| i).collect();
        if idx.iter().all(|&i| self.is_done(i)) {
            self.module_done[m] = Some(self.start.elapsed());
            let r = self.module_result(m, false, false);
            let done = if r.state == ModuleState::Applied {
                r.applied
            } else {
                r.ready
            };
            self.emit(Event::ModuleFinished {
                module: r.name,
                state: r.state,
                ready: done,
                total: r.total,
                rounds: r.rounds,
            });
        }
    }

    /// Wait for an applied object on the watch of its kind and namespace: the running one of its
    /// module if any, else a new one.
    fn spawn_watch(&mut self, i: usize, r: Resource, live: &Value) {
        let obj = &self.plan.nodes[i].object;
        let since = live
            .pointer("/metadata/resourceVersion")
            .and_then(Value::as_str)
            .and_then(|v| v.parse::<u64>().ok());
        let part_of = obj
            .data
            .pointer(&format!(
                "/metadata/labels/{}",
                crate::store::inventory::PART_OF_LABEL.replace('/', "~1")
            ))
            .and_then(Value::as_str);
        // A shared watch must tell states from before the apply from those after it, which takes
        // ordered resource versions; without them (or without the label) the object watches alone.
        let filter = match (part_of, since) {
            (Some(id), Some(_)) => {
                watch::Filter::Label(format!("{}={id}", crate::store::inventory::PART_OF_LABEL))
            }
            _ => watch::Filter::Name(obj.name().to_string()),
        };
        let namespace = if r.namespaced {
            obj.namespace().map(str::to_string)
        } else {
            None
        };
        let key = watch::Key {
            api_version: r.api_version(),
            plural: r.plural.clone(),
            namespace,
            filter,
        };
        let waiter = watch::Waiter {
            node: i,
            name: obj.name().to_string(),
            group: obj.group().to_string(),
            kind: obj.kind().to_string(),
            has_status: r.has_status,
            module_cr: obj.module_cr,
            since,
        };
        // A watch that has ended (none of its objects waited any more) has closed its channel.
        let waiter = match self.watches.get(&key) {
            Some(joins) => match joins.send(waiter) {
                Ok(()) => return,
                Err(mpsc::error::SendError(w)) => w,
            },
            None => waiter,
        };
        let (joins, joined) = mpsc::unbounded_channel();
        let spec = watch::Spec {
            api: self.cluster.dynamic_api(&r, key.namespace.as_deref()),
            module: self.module_name(i),
            kind: obj.kind().to_string(),
            grace: self.s.status_grace,
            error_grace: self.s.error_grace,
            key: key.clone(),
        };
        self.watches.insert(key, joins);
        self.tasks
            .spawn(watch::run(spec, waiter, joined, self.tx.clone()));
    }

    /// A CRD is established: learn its kinds from the server for each served version, then release the
    /// custom resources waiting for it.
    fn spawn_refresh_for_crd(&mut self, i: usize) {
        let crd = &self.plan.nodes[i].object.data;
        let group = crd
            .pointer("/spec/group")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let versions: Vec<String> = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|v| v.get("served").and_then(Value::as_bool) != Some(false))
            .filter_map(|v| {
                v.get("name")
                    .and_then(Value::as_str)
                    .map(|n| format!("{group}/{n}"))
            })
            .collect();
        let cluster = self.cluster.clone();
        let tx = self.tx.clone();
        self.tasks.spawn(async move {
            for gv in versions {
                // Established can precede discovery by a moment; a failed refresh is retried by the
                // custom resource's own kind-not-served path.
                for _ in 0..20 {
                    if cluster.discovery.refresh(&cluster, &gv).await.is_ok() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            let _ = tx.send(Msg::Established(i));
        });
    }

    fn module_result(&self, m: usize, timed_out: bool, interrupted: bool) -> ModuleResult {
        let module = &self.plan.modules[m];
        let idx: Vec<usize> = {
            let mut v: Vec<usize> = self.plan.nodes_of(m).map(|(i, _)| i).collect();
            v.sort_by_key(|&i| self.plan.priority(i));
            v
        };
        let total = idx.len();
        let ready = idx.iter().filter(|&&i| self.nodes[i].st == St::Ready).count();
        let applied = idx
            .iter()
            .filter(|&&i| matches!(self.nodes[i].st, St::Ready | St::Applied))
            .count();
        let rounds = idx.iter().map(|&i| self.nodes[i].attempts).max().unwrap_or(0);
        let failed: Vec<usize> = idx
            .iter()
            .copied()
            .filter(|&i| self.nodes[i].st == St::Failed)
            .collect();
        let not_done: Vec<usize> = idx.iter().copied().filter(|&i| !self.is_done(i)).collect();
        let preset = self.presets.get(m).cloned().flatten();
        let state = if preset == Some(Preset::Skip) {
            ModuleState::Skipped
        } else if !failed.is_empty() {
            ModuleState::Failed
        } else if not_done.is_empty() {
            if self.s.wait && !self.s.dry_run {
                ModuleState::Ready
            } else {
                ModuleState::Applied
            }
        } else if interrupted {
            ModuleState::Interrupted
        } else if timed_out {
            ModuleState::TimedOut
        } else {
            ModuleState::Applied
        };
        // Failed objects that caused the failure come before those merely blocked by them.
        let mut blocking_idx: Vec<usize> = failed
            .iter()
            .copied()
            .filter(|&i| self.nodes[i].blocked_by.is_none())
            .collect();
        blocking_idx.extend(
            failed
                .iter()
                .copied()
                .filter(|&i| self.nodes[i].blocked_by.is_some()),
        );
        blocking_idx.extend(not_done);
        let blocking: Vec<Blocking> = match preset {
            // A refused module: the one reason, not every object it never sent.
            Some(Preset::Refuse {
                object,
                reason,
                origin,
            }) => vec![Blocking {
                object,
                reason,
                origin,
            }],
            _ => blocking_idx
                .into_iter()
                .map(|i| Blocking {
                    object: self.key(i),
                    reason: match (&self.nodes[i].watch_error, self.nodes[i].st) {
                        (Some(e), St::Applied) => format!("{} ({e})", self.nodes[i].reason),
                        _ => self.nodes[i].reason.clone(),
                    },
                    origin: self.plan.nodes[i].object.origin.to_string(),
                })
                .collect(),
        };
        let duration = self.module_done[m].unwrap_or_else(|| self.start.elapsed());
        let warnings: Vec<Blocking> = idx
            .iter()
            .filter_map(|&i| {
                let w = self.nodes[i].warning.clone()?;
                Some(Blocking {
                    object: self.key(i),
                    reason: w,
                    origin: self.plan.nodes[i].object.origin.to_string(),
                })
            })
            .collect();
        ModuleResult {
            name: module.name.clone(),
            version: module.version.clone(),
            state,
            ready,
            applied,
            total,
            rounds,
            duration_ms: duration.as_millis() as u64,
            blocking,
            warnings,
            replaced: idx
                .iter()
                .filter(|&&i| self.nodes[i].replaced)
                .map(|&i| self.key(i))
                .collect(),
            restored: Vec::new(),
        }
    }

    async fn outcome(&mut self, timed_out: bool, interrupted: bool) -> Outcome {
        if timed_out {
            self.explain_workloads().await;
        }
        let modules: Vec<ModuleResult> = (0..self.plan.modules.len())
            .map(|m| self.module_result(m, timed_out, interrupted))
            .collect();
        // Every module ends with its final state in the stream (TimedOut, Interrupted), so no bar or
        // log is left saying "waiting".
        for (m, r) in modules.iter().enumerate() {
            if self.module_done[m].is_none() {
                self.emit(Event::ModuleFinished {
                    module: r.name.clone(),
                    state: r.state,
                    ready: r.ready,
                    total: r.total,
                    rounds: r.rounds,
                });
            }
        }
        // Still unreachable at the end: that outage counts too, but the cluster never came back.
        self.end_outage();
        Outcome {
            modules,
            timed_out,
            interrupted,
            unreachable: self.unreachable,
        }
    }

    /// On timeout, a Deployment's own status says little ("0/1 ready"); its pods say why
    /// (ImagePullBackOff, Unschedulable). Look once, at the end.
    async fn explain_workloads(&mut self) {
        let Some(pods) = self.cluster.discovery.resolve("v1", "Pod") else {
            return;
        };
        for i in 0..self.nodes.len() {
            if self.is_done(i) || self.nodes[i].st != St::Applied {
                continue;
            }
            let o = &self.plan.nodes[i].object;
            if !(o.group() == "apps" && matches!(o.kind(), "Deployment" | "StatefulSet" | "DaemonSet")) {
                continue;
            }
            let Some(labels) = o
                .data
                .pointer("/spec/selector/matchLabels")
                .and_then(Value::as_object)
            else {
                continue;
            };
            let selector: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect();
            let Ok(list) = self
                .cluster
                .list(&pods, o.namespace(), Some(&selector.join(",")))
                .await
            else {
                continue;
            };
            if list.is_empty() {
                self.nodes[i].reason.push_str("; no pods exist yet");
                continue;
            }
            if let Some(why) = list.iter().find_map(readiness::pod_waiting_reason) {
                self.nodes[i].reason.push_str(&format!("; pod: {why}"));
            } else {
                let pending = list
                    .iter()
                    .filter(|p| p.pointer("/status/phase").and_then(Value::as_str) == Some("Pending"))
                    .count();
                if pending > 0 {
                    self.nodes[i]
                        .reason
                        .push_str(&format!("; {pending} pod(s) Pending (no node has started them)"));
                }
            }
        }
    }
}

pub(crate) fn retry_label(c: RetryClass) -> &'static str {
    match c {
        RetryClass::KindNotServed => "kind not served yet",
        RetryClass::NamespaceMissing => "namespace missing",
        RetryClass::WebhookUnavailable => "webhook unavailable",
        RetryClass::Throttled => "throttled",
        RetryClass::ServerError => "server error",
        RetryClass::Transport => "no answer",
        RetryClass::Conflict => "conflict",
        RetryClass::Unknown => "error",
    }
}

fn unserved_resource(api_version: &str, kind: &str) -> Resource {
    let kube::core::GroupVersion { group, version } = api_version
        .parse()
        .unwrap_or_else(|_| kube::core::GroupVersion::gv("", api_version));
    Resource {
        group,
        version,
        kind: kind.to_string(),
        plural: String::new(),
        namespaced: true,
        has_status: false,
        listable: false,
    }
}

/// Annotation on an object that allows kyma to delete and recreate it when an upgrade changes an
/// immutable field.
pub const REPLACE_ANNOTATION: &str = "kyma-project.io/replace";

/// `Deployment.apps "x" is invalid: spec.selector: Invalid value: {…}: field is immutable` →
/// `spec.selector changed (now {…})`.
fn immutable_summary(message: &str) -> String {
    let tail = message
        .split_once("is invalid: ")
        .map(|(_, t)| t)
        .unwrap_or(message);
    match tail.split_once(": Invalid value: ") {
        Some((field, rest)) => format!(
            "{field} changed (new value {})",
            rest.trim_end_matches(": field is immutable")
        ),
        None => tail.to_string(),
    }
}

/// `… .webhooks[0].matchConditions: field not declared in schema` → `.webhooks[0].matchConditions`.
fn unknown_field(message: &str) -> String {
    message
        .split(": field not declared in schema")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .unwrap_or(message)
        .to_string()
}

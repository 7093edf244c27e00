//! The deploy engine: applies a plan with server-side apply, as soon as each object's real
//! prerequisites hold (CRD Established, Namespace applied), retries what is retryable with backoff and
//! jitter, tracks readiness from watches, and stops on success, timeout or Ctrl-C. It prints nothing:
//! it emits events and returns an outcome.
//!
//! The run loop is here; each concern has its file, the decisions pure and tested offline:
//! `state` (each object's place: blocked, queued, applied, ready, failed, and failure propagation),
//! `verdict` (retry, replace or fail on a refusal), `pacing` (AIMD window, outages), `outcome` (module
//! results), and the I/O around them: `apply` (dispatch and answers), `watch` (readiness watches),
//! `discovery` (kinds and CRD refreshes), `replace` (immutable fields), `readiness`, `events`.

mod apply;
mod discovery;
pub mod events;
mod outcome;
mod pacing;
pub mod readiness;
mod replace;
mod state;
mod verdict;
mod watch;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::cluster::{Cluster, RequestError, Resource};
use crate::object::Object;
use crate::plan::Plan;
pub use events::Event;
pub use outcome::{ModuleResult, ModuleState, Outage, Outcome, Restored};
use pacing::{Pacer, Reachability};
use readiness::Health;
use state::{Failing, Graph, HealthStep, Settled};
pub(crate) use verdict::retry_label;

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

struct Engine<'a> {
    cluster: &'a Cluster,
    /// Only read: the operator's reconciles of one render share it, however many run at once (memory
    /// grows with their number by the engine's own state, not by copies of the plan).
    plan: &'a Plan,
    /// Objects whose scope was unknown until discovery told it, as sent (`None`: as in the plan).
    settled: Vec<Option<Object>>,
    s: Settings,
    graph: Graph,
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
    reach: Reachability,
    pacer: Pacer,
}

/// Run the plan against the cluster.
pub async fn run(
    cluster: &Cluster,
    plan: &Plan,
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
    let mut e = Engine::new(cluster, plan, s, presets, tx, events);
    e.begin();
    let deadline = tokio::time::Instant::now() + e.s.timeout;
    let mut timed_out = false;
    let mut interrupted = false;
    loop {
        // Checked before every dispatch, not only when the select below picks the cancel branch: a
        // stop that came while another message was being handled (the lock lost during a pause) must
        // not let one more apply out.
        if !interrupted && cancel.is_cancelled() {
            interrupted = true;
            e.graph.clear_queue();
        }
        if !interrupted {
            e.dispatch();
        }
        if e.graph.all_done() || (interrupted && e.in_flight == 0) {
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
                e.graph.clear_queue();
            }
        }
    }
    e.tasks.abort_all();
    e.outcome(timed_out && !e.graph.all_done(), interrupted).await
}

impl<'a> Engine<'a> {
    fn new(
        cluster: &'a Cluster,
        plan: &'a Plan,
        s: Settings,
        presets: Vec<Option<Preset>>,
        tx: mpsc::UnboundedSender<Msg>,
        events: mpsc::UnboundedSender<Event>,
    ) -> Engine<'a> {
        let graph = Graph::new(
            plan.nodes
                .iter()
                .enumerate()
                .map(|(i, n)| (n.waits.as_slice(), plan.priority(i))),
            s.wait,
        );
        Engine {
            cluster,
            module_done: vec![None; plan.modules.len()],
            settled: vec![None; plan.nodes.len()],
            plan,
            pacer: Pacer::new(s.concurrency),
            s,
            graph,
            tx,
            events,
            tasks: JoinSet::new(),
            watches: HashMap::new(),
            in_flight: 0,
            start: Instant::now(),
            presets,
            reach: Reachability::default(),
        }
    }

    /// Announce the modules, settle the objects of skipped and refused ones, queue the first objects.
    fn begin(&mut self) {
        for (m, module) in self.plan.modules.iter().enumerate() {
            let _ = self.events.send(Event::ModuleStarted {
                module: module.name.clone(),
                version: module.version.clone(),
                objects: self.plan.nodes_of(m).count(),
            });
        }
        let settled: Vec<(usize, Settled)> = (0..self.plan.nodes.len())
            .filter_map(|i| {
                let how = match self.presets.get(self.plan.nodes[i].module)?.as_ref()? {
                    Preset::Skip => Settled::Ready,
                    Preset::Refuse { reason, .. } => Settled::Refused(reason.clone()),
                };
                Some((i, how))
            })
            .collect();
        self.graph.start(settled);
        for m in 0..self.plan.modules.len() {
            self.check_module_done(m);
        }
    }

    fn emit(&self, ev: Event) {
        let _ = self.events.send(ev);
    }

    /// Node `i`'s object as it goes out (its scope settled once discovery knew it).
    fn object(&self, i: usize) -> &Object {
        object_of(self.plan, &self.settled, i)
    }

    fn key(&self, i: usize) -> String {
        self.object(i).key().to_string()
    }

    fn module_name(&self, i: usize) -> String {
        self.plan.modules[self.plan.nodes[i].module].name.clone()
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
            Msg::Requeue(i) => self.graph.requeue(i),
            Msg::Health(i, h) => self.on_health(i, h),
            Msg::WatchFailing { nodes, error } => {
                for i in nodes {
                    self.graph.nodes[i].watch_error = error.clone();
                }
            }
            Msg::WatchError {
                module,
                kind,
                namespace,
                message,
            } => self.emit(Event::WatchError {
                module,
                kind,
                namespace,
                message,
            }),
            Msg::Established(i) => self.graph.established(i),
        }
    }

    fn on_health(&mut self, i: usize, h: Health) {
        if self.object(i).is_crd() && self.graph.crd_seen(i, h.is_ready()) {
            self.spawn_refresh_for_crd(i);
        }
        match self.graph.health(i, h) {
            HealthStep::Ready => self.emit(Event::ObjectReady {
                module: self.module_name(i),
                object: self.key(i),
            }),
            HealthStep::Waiting(reason) => self.emit(Event::ObjectWaiting {
                module: self.module_name(i),
                object: self.key(i),
                reason,
            }),
            HealthStep::Fail(reason) => self.fail(i, reason),
            HealthStep::Unchanged => {}
        }
        self.check_module_done(self.plan.nodes[i].module);
    }

    /// Fail a node and everything that can no longer happen because of it.
    fn fail(&mut self, i: usize, reason: String) {
        let mut failing = Failing::new(i, reason);
        while let Some(j) = self.graph.fail_next(&mut failing, |j| {
            object_of(self.plan, &self.settled, j).key().to_string()
        }) {
            self.emit(Event::ObjectFailed {
                module: self.module_name(j),
                object: self.key(j),
                message: self.graph.nodes[j].reason.clone(),
                origin: self.object(j).origin.to_string(),
            });
            self.check_module_done(self.plan.nodes[j].module);
        }
    }
}

/// `Engine::object`, for where the engine is borrowed in parts.
fn object_of<'p>(plan: &'p Plan, settled: &'p [Option<Object>], i: usize) -> &'p Object {
    settled[i].as_ref().unwrap_or(&plan.nodes[i].object)
}

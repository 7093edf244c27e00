//! Readiness watches shared by the objects that wait: one per kind, namespace and module (its ApplySet
//! label), not one per object, so a module of thousands of slow objects costs the server a handful of
//! watches. Each watch hands what it sees to the objects waiting on it by name, and ends when none wait.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::time::Duration;

use futures::StreamExt;
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::readiness::{self, Health};
use super::{Engine, Msg};
use crate::cluster::Resource;
use crate::object::Fields as _;
use crate::store::inventory::PART_OF_LABEL;

/// Which objects a watch asks the server for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Filter {
    /// A label selector, `applyset.kubernetes.io/part-of=<id>`: every member of one module's ApplySet.
    Label(String),
    /// One object by name: one without the ApplySet label (a shared module namespace), or whose server
    /// gives resource versions that cannot be ordered.
    Name(String),
}

/// One watch: a resource in a namespace (`None` for cluster-scoped kinds), filtered.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Key {
    pub api_version: String,
    pub plural: String,
    pub namespace: Option<String>,
    pub filter: Filter,
}

impl Key {
    fn config(&self) -> watcher::Config {
        match &self.filter {
            Filter::Label(selector) => watcher::Config::default().labels(selector),
            Filter::Name(name) => watcher::Config::default().fields(&format!("metadata.name={name}")),
        }
    }
}

/// An applied object that waits to be seen ready.
#[derive(Debug)]
pub(super) struct Waiter {
    pub node: usize,
    pub name: String,
    pub group: String,
    pub kind: String,
    pub has_status: bool,
    pub module_cr: bool,
    /// The resourceVersion of the apply's answer. A shared watch may have listed the object before it
    /// was applied; a state older than the apply says nothing about what was applied.
    pub since: Option<u64>,
    /// A module CR whose status predates kyma's change of it: the time of the change and the status
    /// the apply answered with (see `readiness::stale_status_since`).
    pub stale_before: Option<(String, Value)>,
}

struct Waiting {
    node: usize,
    group: String,
    kind: String,
    ctx: readiness::Context,
    /// When the status grace of this join ends (a timer left by an earlier join of the same name
    /// must not end this one's grace early).
    grace_at: Instant,
    /// Set when a module CR first reports Error; it fails only if still in Error then.
    error_at: Option<Instant>,
    since: Option<u64>,
    /// Until the manager writes a status other than this one or later than this time (or the status
    /// grace passes), its state is its verdict on the old spec.
    stale_before: Option<(String, Value)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    /// The status grace window of a kind with a status subresource.
    Grace,
    /// The error grace window of a module CR in state Error.
    Error,
}

/// The objects one watch serves, and the latest state it has seen of every object it shows (an object
/// may show up before it joins: its apply's answer reaches the engine after the watch saw the change).
pub(super) struct Group {
    grace: Duration,
    error_grace: Duration,
    waiting: HashMap<String, Waiting>,
    seen: HashMap<String, Value>,
    timers: BinaryHeap<Reverse<(Instant, Timer, String)>>,
}

fn resource_version(v: &Value) -> Option<u64> {
    v.pointer("/metadata/resourceVersion")?.as_str()?.parse().ok()
}

impl Group {
    pub fn new(grace: Duration, error_grace: Duration) -> Group {
        Group {
            grace,
            error_grace,
            waiting: HashMap::new(),
            seen: HashMap::new(),
            timers: BinaryHeap::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// The engine's nodes still waiting here.
    pub fn nodes(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.waiting.values().map(|w| w.node).collect();
        v.sort_unstable();
        v
    }

    pub fn join(&mut self, w: Waiter, now: Instant) -> Option<(usize, Health)> {
        let grace_at = now + self.grace;
        self.timers
            .push(Reverse((grace_at, Timer::Grace, w.name.clone())));
        self.waiting.insert(
            w.name.clone(),
            Waiting {
                node: w.node,
                group: w.group,
                kind: w.kind,
                ctx: readiness::Context {
                    has_status_subresource: w.has_status,
                    module_cr: w.module_cr,
                    ..Default::default()
                },
                grace_at,
                error_at: None,
                since: w.since,
                stale_before: w.stale_before,
            },
        );
        self.evaluate(&w.name, now)
    }

    /// A state the watch showed (added, modified, listed).
    pub fn observe(&mut self, v: Value, now: Instant) -> Option<(usize, Health)> {
        let name = v.pointer("/metadata/name")?.as_str()?.to_string();
        self.seen.insert(name.clone(), v);
        self.evaluate(&name, now)
    }

    pub fn forget(&mut self, name: &str) {
        self.seen.remove(name);
    }

    pub fn next_timer(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((t, _, _))| *t)
    }

    /// Grace windows that have passed: the waiting object's last state is judged again.
    pub fn fire(&mut self, now: Instant) -> Vec<(usize, Health)> {
        let mut out = Vec::new();
        while let Some(Reverse((t, timer, name))) = self.timers.peek().cloned() {
            if t > now {
                break;
            }
            self.timers.pop();
            let Some(w) = self.waiting.get_mut(&name) else {
                continue;
            };
            let live = match timer {
                Timer::Grace if w.grace_at == t && !w.ctx.grace_expired => {
                    w.ctx.grace_expired = true;
                    true
                }
                // Only the deadline of the current stay in Error counts.
                Timer::Error => w.error_at == Some(t) && !w.ctx.error_grace_expired,
                Timer::Grace => false,
            };
            if live && let Some(h) = self.evaluate(&name, now) {
                out.push(h);
            }
        }
        out
    }

    /// Judge a waiting object on its latest state, if the watch has shown one as new as its apply.
    /// A ready or failed object waits no more.
    fn evaluate(&mut self, name: &str, now: Instant) -> Option<(usize, Health)> {
        let w = self.waiting.get_mut(name)?;
        let v = self.seen.get(name)?;
        if let (Some(since), Some(rv)) = (w.since, resource_version(v))
            && rv < since
        {
            return None;
        }
        if let Some((before, old)) = &w.stale_before {
            let new = v.get("status").is_some_and(|s| s != old)
                || readiness::status_written_at(v).is_some_and(|at| at > before.as_str());
            if new {
                w.stale_before = None;
            } else if !w.ctx.grace_expired {
                let node = w.node;
                return Some((node, readiness::awaiting_manager()));
            }
        }
        let in_error = v.pointer("/status/state").and_then(Value::as_str) == Some("Error");
        if !in_error {
            w.error_at = None;
        } else if w.error_at.is_none() {
            let at = now + self.error_grace;
            w.error_at = Some(at);
            self.timers.push(Reverse((at, Timer::Error, name.to_string())));
        }
        w.ctx.error_grace_expired = in_error && w.error_at.is_some_and(|at| now >= at);
        let h = readiness::health(v, &w.group, &w.kind, w.ctx);
        let node = w.node;
        if h.is_ready() || matches!(h, Health::Failed(_)) {
            self.waiting.remove(name);
            self.seen.remove(name);
        }
        Some((node, h))
    }
}

/// What a watch needs besides its objects.
pub(super) struct Spec {
    pub key: Key,
    pub api: kube::Api<kube::api::DynamicObject>,
    pub module: String,
    pub kind: String,
    pub grace: Duration,
    pub error_grace: Duration,
}

/// A running watch: its group of waiting objects and the way back to the engine.
struct Running {
    spec: Spec,
    group: Group,
    tx: mpsc::UnboundedSender<Msg>,
    /// The watch's last error, until it works again.
    last_error: Option<String>,
}

impl Running {
    fn send(&self, h: Option<(usize, Health)>) {
        if let Some((i, h)) = h {
            let _ = self.tx.send(Msg::Health(i, h));
        }
    }

    /// Said on the waiting objects too, until the watch works again: on timeout they were never seen
    /// ready because of it.
    fn failing(&self, nodes: Vec<usize>, message: Option<String>) {
        let _ = self.tx.send(Msg::WatchFailing {
            nodes,
            error: message.map(|m| format!("watching {} failed: {m}", self.spec.kind)),
        });
    }

    fn join(&mut self, w: Waiter) {
        let h = self.group.join(w, Instant::now());
        self.send(h);
    }

    /// An object joins the running watch: told at once if the watch is failing.
    fn join_running(&mut self, w: Waiter) {
        if let Some(message) = &self.last_error {
            self.failing(vec![w.node], Some(message.clone()));
        }
        self.join(w);
    }

    /// A change seen on the watch shows that it works again.
    fn recovered(&mut self) {
        if self.last_error.take().is_some() {
            self.failing(self.group.nodes(), None);
        }
    }

    fn on_event(&mut self, ev: Result<watcher::Event<kube::api::DynamicObject>, watcher::Error>) {
        match ev {
            Ok(watcher::Event::Apply(o)) => {
                self.recovered();
                let h = self.group.observe(to_value(&o), Instant::now());
                self.send(h);
            }
            // Listing works; only a change seen on the watch shows that the watch does.
            Ok(watcher::Event::InitApply(o)) => {
                let h = self.group.observe(to_value(&o), Instant::now());
                self.send(h);
            }
            Ok(watcher::Event::Delete(o)) => {
                self.recovered();
                if let Some(name) = o.metadata.name.as_deref() {
                    self.group.forget(name);
                }
            }
            Ok(watcher::Event::Init | watcher::Event::InitDone) => {}
            Err(e) => {
                let message = e.to_string();
                // The same error again after each backoff is said once.
                if self.last_error.as_deref() != Some(message.as_str()) {
                    self.failing(self.group.nodes(), Some(message.clone()));
                    let _ = self.tx.send(Msg::WatchError {
                        module: self.spec.module.clone(),
                        kind: self.spec.kind.clone(),
                        namespace: self.spec.key.namespace.clone(),
                        message: message.clone(),
                    });
                    self.last_error = Some(message);
                }
            }
        }
    }
}

fn to_value(o: &kube::api::DynamicObject) -> Value {
    serde_json::to_value(o).unwrap_or(Value::Null)
}

/// Run one watch until none of its objects wait. Objects join through `joins`; once the group is
/// empty the channel is closed, so a late joiner's send fails and the engine starts a new watch.
pub(super) async fn run(
    spec: Spec,
    first: Waiter,
    mut joins: mpsc::UnboundedReceiver<Waiter>,
    tx: mpsc::UnboundedSender<Msg>,
) {
    // The default backoff keeps a failing watch (no permission, server away) from spinning; its
    // errors still come through, each one after a longer pause.
    let mut stream = watcher(spec.api.clone(), spec.key.config())
        .default_backoff()
        .boxed();
    let mut w = Running {
        group: Group::new(spec.grace, spec.error_grace),
        spec,
        tx,
        last_error: None,
    };
    w.join(first);
    let mut open = true;
    loop {
        if w.group.is_empty() {
            joins.close();
            while let Ok(waiter) = joins.try_recv() {
                w.join(waiter);
            }
            open = false;
            if w.group.is_empty() {
                break;
            }
        }
        let next = w.group.next_timer();
        tokio::select! {
            waiter = joins.recv(), if open => match waiter {
                Some(waiter) => w.join_running(waiter),
                None => open = false,
            },
            ev = stream.next() => match ev {
                None => break,
                Some(ev) => w.on_event(ev),
            },
            _ = tokio::time::sleep_until(next.unwrap_or_else(Instant::now)), if next.is_some() => {
                for h in w.group.fire(Instant::now()) {
                    w.send(Some(h));
                }
            }
        }
    }
}

/// Which objects a watch for this object asks for. A shared watch must tell states from before the
/// apply from those after it, which takes ordered resource versions; without them (or without the
/// module's ApplySet label) the object watches alone.
fn filter_for(part_of: Option<&str>, since: Option<u64>, name: &str) -> Filter {
    match (part_of, since) {
        (Some(id), Some(_)) => Filter::Label(format!("{PART_OF_LABEL}={id}")),
        _ => Filter::Name(name.to_string()),
    }
}

impl Engine<'_> {
    /// Wait for an applied object on the watch of its kind and namespace: the running one of its
    /// module if any, else a new one.
    pub(super) fn spawn_watch(
        &mut self,
        i: usize,
        r: Resource,
        live: &Value,
        stale_before: Option<(String, Value)>,
    ) {
        let obj = self.object(i);
        let since = resource_version(live);
        let part_of = obj.data.label(PART_OF_LABEL);
        let key = Key {
            api_version: r.api_version(),
            plural: r.plural.clone(),
            namespace: obj.namespace().filter(|_| r.namespaced).map(str::to_string),
            filter: filter_for(part_of, since, obj.name()),
        };
        let waiter = Waiter {
            node: i,
            name: obj.name().to_string(),
            group: obj.group().to_string(),
            kind: obj.kind().to_string(),
            has_status: r.has_status,
            module_cr: obj.module_cr,
            since,
            stale_before,
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
        let spec = Spec {
            api: self.cluster.dynamic_api(&r, key.namespace.as_deref()),
            module: self.module_name(i),
            kind: obj.kind().to_string(),
            grace: self.s.status_grace,
            error_grace: self.s.error_grace,
            key: key.clone(),
        };
        self.watches.insert(key, joins);
        self.tasks.spawn(run(spec, waiter, joined, self.tx.clone()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn waiter(node: usize, name: &str, since: u64) -> Waiter {
        Waiter {
            node,
            name: name.into(),
            group: "apps".into(),
            kind: "Deployment".into(),
            has_status: true,
            module_cr: false,
            since: Some(since),
            stale_before: None,
        }
    }

    fn deployment(name: &str, rv: u64, ready: i64) -> Value {
        json!({
            "metadata": {"name": name, "resourceVersion": rv.to_string(), "generation": 1},
            "spec": {"replicas": 1},
            "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": ready, "availableReplicas": ready}
        })
    }

    #[test]
    fn one_watch_serves_its_waiting_objects_by_name_and_ignores_states_older_than_their_apply() {
        let now = Instant::now();
        let mut g = Group::new(Duration::from_secs(3), Duration::from_secs(30));
        assert!(g.join(waiter(7, "a", 100), now).is_none(), "nothing seen yet");
        assert!(g.join(waiter(8, "b", 100), now).is_none());
        // The watch listed `a` before its apply (ready then): that says nothing about the new spec.
        assert_eq!(g.observe(deployment("a", 90, 1), now), None);
        // An object nobody waits for is remembered, not reported.
        assert_eq!(g.observe(deployment("c", 120, 1), now), None);
        assert_eq!(
            g.observe(deployment("a", 110, 0), now),
            Some((7, Health::InProgress("0/1 replicas ready".into())))
        );
        assert_eq!(g.observe(deployment("b", 111, 1), now), Some((8, Health::Ready)));
        assert_eq!(g.nodes(), vec![7], "b is ready and waits no more");
        // `c` showed up before it joined: judged on join, not after the next change that may never come.
        assert_eq!(g.join(waiter(9, "c", 115), now), Some((9, Health::Ready)));
        assert_eq!(g.observe(deployment("a", 130, 1), now), Some((7, Health::Ready)));
        assert!(g.is_empty());
    }

    #[test]
    fn objects_share_their_module_watch_only_with_the_applyset_label_and_an_ordered_version() {
        let label = Filter::Label(format!("{PART_OF_LABEL}=applyset-abc"));
        let alone = Filter::Name("manager".into());
        for (part_of, since, want) in [
            (Some("applyset-abc"), Some(42), &label),
            (Some("applyset-abc"), None, &alone),
            (None, Some(42), &alone),
            (None, None, &alone),
        ] {
            assert_eq!(
                &filter_for(part_of, since, "manager"),
                want,
                "{part_of:?} {since:?}"
            );
        }
    }

    #[test]
    fn grace_windows_are_per_object() {
        let now = Instant::now();
        let mut g = Group::new(Duration::from_secs(3), Duration::from_secs(10));
        let cr = |name: &str, node: usize, module_cr: bool| Waiter {
            node,
            name: name.into(),
            group: "x.io".into(),
            kind: "Thing".into(),
            has_status: true,
            module_cr,
            since: None,
            stale_before: None,
        };
        g.join(cr("quiet", 1, false), now);
        g.observe(json!({"metadata": {"name": "quiet"}, "spec": {}}), now);
        g.join(cr("late", 2, false), now + Duration::from_secs(2));
        g.observe(json!({"metadata": {"name": "late"}, "spec": {}}), now);
        g.join(cr("broken", 3, true), now);
        assert!(matches!(
            g.observe(
                json!({"metadata": {"name": "broken"}, "status": {"state": "Error"}}),
                now
            ),
            Some((3, Health::InProgress(_)))
        ));
        assert_eq!(
            g.fire(now + Duration::from_secs(3)),
            vec![
                (3, Health::InProgress("state Error (failing if it stays)".into())),
                (1, Health::Ready)
            ],
            "only the objects that joined 3 s ago are past their grace window; Error has longer"
        );
        assert_eq!(g.fire(now + Duration::from_secs(5)), vec![(2, Health::Ready)]);
        assert_eq!(
            g.fire(now + Duration::from_secs(10)),
            vec![(3, Health::Failed("state Error".into()))],
            "a module CR still in Error after the error grace fails"
        );
        assert!(g.is_empty());
    }

    #[test]
    fn a_timer_left_by_an_earlier_join_does_not_end_a_later_ones_grace() {
        let now = Instant::now();
        let mut g = Group::new(Duration::from_secs(3), Duration::from_secs(10));
        let thing = |node| Waiter {
            node,
            name: "thing".into(),
            group: "x.io".into(),
            kind: "Thing".into(),
            has_status: true,
            module_cr: false,
            since: None,
            stale_before: None,
        };
        // The first join is judged (and leaves), the same name joins again 2 s later (re-applied).
        g.join(thing(1), now);
        assert_eq!(
            g.observe(
                json!({"metadata": {"name": "thing"}, "status": {"state": "Ready"}}),
                now
            ),
            Some((1, Health::Ready))
        );
        g.join(thing(1), now + Duration::from_secs(2));
        g.observe(
            json!({"metadata": {"name": "thing"}, "spec": {}}),
            now + Duration::from_secs(2),
        );
        assert_eq!(
            g.fire(now + Duration::from_secs(3)),
            vec![],
            "the first join's grace timer is not the second's"
        );
        assert_eq!(g.fire(now + Duration::from_secs(5)), vec![(1, Health::Ready)]);
    }

    #[test]
    fn a_ready_from_before_the_change_waits_for_the_manager() {
        let now = Instant::now();
        let mut g = Group::new(Duration::from_secs(3), Duration::from_secs(10));
        let keda = |status_at: &str, state: &str| {
            json!({"metadata": {"name": "default", "managedFields": [
                {"manager": "keda-manager", "operation": "Update", "subresource": "status", "time": status_at}
            ]}, "status": {"state": state}})
        };
        let waiter = |node| Waiter {
            node,
            name: "default".into(),
            group: "operator.kyma-project.io".into(),
            kind: "Keda".into(),
            has_status: true,
            module_cr: true,
            since: None,
            stale_before: Some(("2026-11-30T10:00:05Z".into(), json!({"state": "Ready"}))),
        };
        g.join(waiter(1), now);
        assert!(matches!(
            g.observe(keda("2026-11-30T10:00:01Z", "Ready"), now),
            Some((1, Health::InProgress(r))) if r.contains("report on the change")
        ));
        assert!(
            matches!(
                g.observe(keda("2026-11-30T10:00:05Z", "Ready"), now),
                Some((1, Health::InProgress(r))) if r.contains("report on the change")
            ),
            "the same second and the same status: maybe from before the apply"
        );
        assert!(matches!(
            g.observe(keda("2026-11-30T10:00:05Z", "Processing"), now),
            Some((1, Health::InProgress(r))) if r.contains("Processing")
        ));
        assert_eq!(
            g.observe(keda("2026-11-30T10:00:06Z", "Ready"), now),
            Some((1, Health::Ready))
        );

        // A manager that never reports on the change: its state is taken once the status grace passes.
        g.join(waiter(2), now);
        assert!(
            g.observe(keda("2026-11-30T10:00:01Z", "Ready"), now)
                .is_some_and(|(_, h)| !h.is_ready())
        );
        assert_eq!(g.fire(now + Duration::from_secs(3)), vec![(2, Health::Ready)]);
    }
}

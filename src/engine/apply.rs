//! Sending objects and reading the answers: dispatch within the pacing window, one server-side apply
//! per task, and what follows from a success or a refusal (decided in `state` and `verdict`).

use std::time::{Duration, Instant};

use serde_json::Value;

use super::verdict::{self, Decision};
use super::{Engine, Event, Msg, discovery, readiness, replace};
use crate::cluster::classify::{RetryClass, Verdict, classify};
use crate::cluster::{ApplyOptions, Cluster, RequestError, Resource};

/// One object to apply, as sent.
struct Request {
    resource: Option<Resource>,
    api_version: String,
    kind: String,
    data: Value,
    opts: ApplyOptions,
    /// Not the first attempt: a kind discovery does not know is worth a refresh.
    retry: bool,
    /// A dry run of a kind not served yet: nothing to ask the server.
    dry_run_unserved: bool,
}

async fn apply(cluster: Cluster, req: Request) -> Result<(Resource, Value), RequestError> {
    let r = match req.resource {
        Some(r) => r,
        None if req.dry_run_unserved => {
            return Ok((
                discovery::unserved_resource(&req.api_version, &req.kind),
                req.data,
            ));
        }
        None => discovery::resolve_late(&cluster, &req.api_version, &req.kind, req.retry).await?,
    };
    cluster.apply(&r, &req.data, req.opts).await.map(|v| (r, v))
}

impl Engine<'_> {
    /// Send queued objects, highest priority first, while the pacing window has room.
    pub(super) fn dispatch(&mut self) {
        while self.in_flight < self.pacer.window() {
            let Some(i) = self.graph.pop_ready(Instant::now()) else {
                break;
            };
            self.in_flight += 1;
            let req = self.request(i);
            let cluster = self.cluster.clone();
            let tx = self.tx.clone();
            self.tasks.spawn(async move {
                let _ = tx.send(Msg::Applied(i, apply(cluster, req).await));
            });
        }
    }

    fn request(&mut self, i: usize) -> Request {
        let plan = self.plan;
        let node = &plan.nodes[i];
        let api_version = node.object.api_version().to_string();
        let kind = node.object.kind().to_string();
        let resource = self.cluster.discovery.resolve(&api_version, &kind);
        if let Some(r) = &resource
            && self.settled[i].is_none()
            && let Some(settled) =
                discovery::settled_scope(&node.object, r, plan.modules[node.module].namespace.as_deref())
        {
            self.settled[i] = Some(settled);
        }
        Request {
            dry_run_unserved: self.s.dry_run && resource.is_none(),
            resource,
            api_version,
            kind,
            data: self.object(i).data.clone(),
            opts: ApplyOptions {
                force: self.s.force_conflicts || node.reclaim,
                dry_run: self.s.dry_run,
                raw: true,
            },
            retry: self.graph.nodes[i].attempts > 1,
        }
    }

    pub(super) fn on_applied(&mut self, i: usize, r: Resource, live: Value) {
        let now = Instant::now();
        self.answered(now);
        self.pacer.success(now);
        self.graph.applied(i);
        self.emit(Event::ObjectApplied {
            module: self.module_name(i),
            object: self.key(i),
            attempt: self.graph.nodes[i].attempts,
        });
        let obj = self.object(i);
        let crd_awaited = obj.is_crd() && self.graph.awaits_establishment(i);
        if self.s.dry_run {
            if crd_awaited {
                // Nothing is persisted in a dry run: the CRD never becomes established.
                let _ = self.tx.send(Msg::Established(i));
            }
            self.graph.ready_unchecked(i);
            return self.check_module_done(self.plan.nodes[i].module);
        }
        let ctx = readiness::Context {
            has_status_subresource: r.has_status,
            module_cr: obj.module_cr,
            ..Default::default()
        };
        let mut h = readiness::health(&live, obj.group(), obj.kind(), ctx);
        // A module CR answering with the state its manager wrote before this change is no verdict on
        // it: the watch waits for the manager's next word (a status other than this one, or later).
        let stale_before = obj
            .module_cr
            .then(|| readiness::stale_status_since(&live, crate::cluster::FIELD_MANAGER))
            .flatten()
            .map(|at| (at, live.get("status").cloned().unwrap_or(Value::Null)));
        if stale_before.is_some() && h.is_ready() {
            h = readiness::awaiting_manager();
        }
        if (self.s.wait && !h.is_ready()) || crd_awaited {
            self.spawn_watch(i, r, &live, stale_before);
        }
        self.on_health(i, h);
    }

    pub(super) fn on_error(&mut self, i: usize, err: RequestError) {
        let verdict = classify(&err);
        let waits_in_plan = !self.plan.nodes[i].waits.is_empty();
        if verdict::unvalidated_in_dry_run(&verdict, self.s.dry_run, waits_in_plan) {
            let obj = self.object(i);
            let r = discovery::unserved_resource(obj.api_version(), obj.kind());
            let data = obj.data.clone();
            return self.on_applied(i, r, data);
        }
        let now = Instant::now();
        self.graph.nodes[i].repeats.observe(&err.message, now);
        self.paced(i, &verdict, &err.message, now);
        let key = self.key(i);
        let node = &self.graph.nodes[i];
        let cx = verdict::Context {
            attempt: node.attempts,
            repeats: &node.repeats,
            now,
            patience: self.s.error_grace.min(self.s.timeout / 2),
            may_replace: !node.replaced
                && replace::allowed(&self.object(i).data, self.s.dry_run, self.s.force_replace),
            key: &key,
            server_version: &self.cluster.server_version,
        };
        match verdict::decide(&err, verdict, &cx) {
            Decision::Retry { class, delay } => self.retry(i, class, err.message, delay),
            Decision::Replace => self.replace(i, err.message),
            Decision::Fail(text) => self.fail(i, text),
        }
    }

    /// What a refusal says about the cluster as a whole: it answers (or not), it throttles.
    fn paced(&mut self, i: usize, verdict: &Verdict, message: &str, now: Instant) {
        let class = match verdict {
            Verdict::Retry { class, .. } => Some(*class),
            Verdict::Fail(_) => None,
        };
        if class == Some(RetryClass::Transport) {
            if self.reach.unanswered(now) {
                self.emit(Event::ClusterUnreachable {
                    message: message.to_string(),
                });
            }
        } else {
            self.answered(now);
        }
        if class == Some(RetryClass::Throttled) && self.pacer.throttled(self.graph.nodes[i].sent_at, now) {
            self.cluster.throttle.throttled();
        }
    }

    /// The server answered (success or a refusal): an outage, if any, is over.
    fn answered(&mut self, now: Instant) {
        if let Some(d) = self.reach.answered(now) {
            self.emit(Event::ClusterReachable {
                after_ms: d.as_millis() as u64,
            });
        }
    }

    /// Try again after `delay`.
    fn retry(&mut self, i: usize, class: RetryClass, message: String, delay: Duration) {
        let attempt = self.graph.nodes[i].attempts;
        self.graph
            .backoff(i, format!("{}: {}", verdict::retry_label(class), message));
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
}

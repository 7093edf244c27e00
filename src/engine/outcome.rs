//! What a run ends with, per module: its state, counts, and every object that held it back with the
//! reason a person can act on (on timeout, a workload's pods are asked why).

use serde_json::Value;

use super::state::{Graph, St};
use super::{Engine, Event, Preset, readiness};

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

/// One module's objects, counted.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Tally {
    pub ready: usize,
    pub applied: usize,
    pub rounds: u32,
    pub failed: Vec<usize>,
    pub not_done: Vec<usize>,
}

pub(super) fn tally(g: &Graph, idx: &[usize]) -> Tally {
    let st = |i: usize| g.nodes[i].st;
    Tally {
        ready: idx.iter().filter(|&&i| st(i) == St::Ready).count(),
        applied: idx
            .iter()
            .filter(|&&i| matches!(st(i), St::Ready | St::Applied))
            .count(),
        rounds: idx.iter().map(|&i| g.nodes[i].attempts).max().unwrap_or(0),
        failed: idx.iter().copied().filter(|&i| st(i) == St::Failed).collect(),
        not_done: idx.iter().copied().filter(|&i| !g.is_done(i)).collect(),
    }
}

/// What decides a module's state besides its objects.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Ending {
    /// Its preset was Skip (unchanged since the last deploy).
    pub skipped: bool,
    /// Done means ready (`--wait`, not a dry run), not only applied.
    pub waited: bool,
    pub interrupted: bool,
    pub timed_out: bool,
}

pub(super) fn module_state(t: &Tally, e: Ending) -> ModuleState {
    if e.skipped {
        ModuleState::Skipped
    } else if !t.failed.is_empty() {
        ModuleState::Failed
    } else if t.not_done.is_empty() {
        if e.waited {
            ModuleState::Ready
        } else {
            ModuleState::Applied
        }
    } else if e.interrupted {
        ModuleState::Interrupted
    } else if e.timed_out {
        ModuleState::TimedOut
    } else {
        ModuleState::Applied
    }
}

/// The objects that hold a module back, first one first: failed objects that caused the failure,
/// then those merely blocked by them, then those not done.
pub(super) fn blocking_order(g: &Graph, t: &Tally) -> Vec<usize> {
    let caused = |i: &usize| g.nodes[*i].blocked_by.is_none();
    let mut v: Vec<usize> = t.failed.iter().copied().filter(caused).collect();
    v.extend(t.failed.iter().copied().filter(|i| !caused(i)));
    v.extend(t.not_done.iter().copied());
    v
}

/// A workload's label selector (`k=v,…`), if it has one.
pub(super) fn selector(workload: &Value) -> Option<String> {
    let labels = workload
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)?;
    let pairs: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    Some(pairs.join(","))
}

/// What a workload's pods say about why it is not ready, to add to its reason.
pub(super) fn workload_hint(pods: &[Value]) -> Option<String> {
    if pods.is_empty() {
        return Some("; no pods exist yet".into());
    }
    if let Some(why) = pods.iter().find_map(readiness::pod_waiting_reason) {
        return Some(format!("; pod: {why}"));
    }
    let pending = pods
        .iter()
        .filter(|p| p.pointer("/status/phase").and_then(Value::as_str) == Some("Pending"))
        .count();
    (pending > 0).then(|| format!("; {pending} pod(s) Pending (no node has started them)"))
}

impl Engine<'_> {
    /// Say when a module is done (every object ready or failed, or applied without `--wait`).
    pub(super) fn check_module_done(&mut self, m: usize) {
        if self.module_done[m].is_some() || !self.plan.nodes_of(m).all(|(i, _)| self.graph.is_done(i)) {
            return;
        }
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

    fn module_result(&self, m: usize, timed_out: bool, interrupted: bool) -> ModuleResult {
        let module = &self.plan.modules[m];
        let mut idx: Vec<usize> = self.plan.nodes_of(m).map(|(i, _)| i).collect();
        idx.sort_by_key(|&i| self.plan.priority(i));
        let t = tally(&self.graph, &idx);
        let preset = self.presets.get(m).cloned().flatten();
        let state = module_state(
            &t,
            Ending {
                skipped: preset == Some(Preset::Skip),
                waited: self.s.wait && !self.s.dry_run,
                interrupted,
                timed_out,
            },
        );
        let blocking = match preset {
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
            _ => blocking_order(&self.graph, &t)
                .into_iter()
                .map(|i| self.blocking(i))
                .collect(),
        };
        let duration = self.module_done[m].unwrap_or_else(|| self.start.elapsed());
        ModuleResult {
            name: module.name.clone(),
            version: module.version.clone(),
            state,
            ready: t.ready,
            applied: t.applied,
            total: idx.len(),
            rounds: t.rounds,
            duration_ms: duration.as_millis() as u64,
            blocking,
            warnings: self.warnings(&idx),
            replaced: idx
                .iter()
                .filter(|&&i| self.graph.nodes[i].replaced)
                .map(|&i| self.key(i))
                .collect(),
            restored: Vec::new(),
        }
    }

    /// Why object `i` holds its module back.
    fn blocking(&self, i: usize) -> Blocking {
        let node = &self.graph.nodes[i];
        Blocking {
            object: self.key(i),
            reason: match (&node.watch_error, node.st) {
                (Some(e), St::Applied) => format!("{} ({e})", node.reason),
                _ => node.reason.clone(),
            },
            origin: self.object(i).origin.to_string(),
        }
    }

    fn warnings(&self, idx: &[usize]) -> Vec<Blocking> {
        idx.iter()
            .filter_map(|&i| {
                Some(Blocking {
                    reason: self.graph.nodes[i].warning.clone()?,
                    object: self.key(i),
                    origin: self.object(i).origin.to_string(),
                })
            })
            .collect()
    }

    pub(super) async fn outcome(&mut self, timed_out: bool, interrupted: bool) -> Outcome {
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
        let unreachable = std::mem::take(&mut self.reach).finish(std::time::Instant::now());
        Outcome {
            modules,
            timed_out,
            interrupted,
            unreachable,
        }
    }

    /// On timeout, a Deployment's own status says little ("0/1 ready"); its pods say why
    /// (ImagePullBackOff, Unschedulable). Look once, at the end.
    async fn explain_workloads(&mut self) {
        let Some(pods) = self.cluster.discovery.resolve("v1", "Pod") else {
            return;
        };
        for i in 0..self.graph.nodes.len() {
            if self.graph.is_done(i) || self.graph.nodes[i].st != St::Applied {
                continue;
            }
            let o = self.object(i);
            if !(o.group() == "apps" && matches!(o.kind(), "Deployment" | "StatefulSet" | "DaemonSet")) {
                continue;
            }
            let Some(selector) = selector(&o.data) else {
                continue;
            };
            let Ok(list) = self.cluster.list(&pods, o.namespace(), Some(&selector)).await else {
                continue;
            };
            if let Some(hint) = workload_hint(&list) {
                self.graph.nodes[i].reason.push_str(&hint);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Wait;
    use serde_json::json;

    fn tally_of(failed: &[usize], not_done: &[usize]) -> Tally {
        Tally {
            failed: failed.to_vec(),
            not_done: not_done.to_vec(),
            ..Tally::default()
        }
    }

    #[test]
    fn a_module_state_follows_its_objects_then_how_the_run_ended() {
        use ModuleState::*;
        let done = tally_of(&[], &[]);
        let failed = tally_of(&[3], &[4]);
        let waiting = tally_of(&[], &[4]);
        let e = Ending::default();
        let cases = [
            ("skipped wins", &failed, Ending { skipped: true, ..e }, Skipped),
            (
                "a failure wins over the ending",
                &failed,
                Ending {
                    interrupted: true,
                    timed_out: true,
                    ..e
                },
                Failed,
            ),
            (
                "done with --wait",
                &done,
                Ending {
                    waited: true,
                    timed_out: true,
                    ..e
                },
                Ready,
            ),
            ("done without --wait", &done, e, Applied),
            (
                "interrupted wins over timed out",
                &waiting,
                Ending {
                    interrupted: true,
                    timed_out: true,
                    ..e
                },
                Interrupted,
            ),
            (
                "timed out",
                &waiting,
                Ending {
                    timed_out: true,
                    waited: true,
                    ..e
                },
                TimedOut,
            ),
            ("still running", &waiting, Ending { waited: true, ..e }, Applied),
        ];
        for (name, t, ending, want) in cases {
            assert_eq!(module_state(t, ending), want, "{name}");
        }
    }

    #[test]
    fn the_cause_of_a_failure_is_listed_before_what_it_blocked_and_what_is_not_done() {
        // 0 ← 1 ← 2; 3 independent and not done; 4 ready.
        let waits: [&[Wait]; 5] = [&[], &[Wait::Applied(0)], &[Wait::Applied(1)], &[], &[]];
        let mut g = Graph::new(waits.iter().enumerate().map(|(i, w)| (*w, (0, 0, i))), true);
        g.start([]);
        while g.pop_ready(std::time::Instant::now()).is_some() {}
        g.applied(4);
        g.health(4, readiness::Health::Ready);
        g.nodes[3].attempts = 3;
        let mut f = super::super::state::Failing::new(0, "invalid".into());
        while g.fail_next(&mut f, |j| j.to_string()).is_some() {}
        // Listed in priority order, as the engine does: blocked ones first here on purpose.
        let t = tally(&g, &[2, 1, 3, 0, 4]);
        assert_eq!(
            t,
            Tally {
                ready: 1,
                applied: 1,
                rounds: 3,
                failed: vec![2, 1, 0],
                not_done: vec![3]
            }
        );
        assert_eq!(blocking_order(&g, &t), [0, 2, 1, 3]);
    }

    #[test]
    fn pods_say_why_a_workload_is_not_ready() {
        let pending = json!({"status": {"phase": "Pending"}});
        let running = json!({"status": {"phase": "Running"}});
        let pulling = json!({"status": {"phase": "Pending", "containerStatuses": [
            {"name": "c", "state": {"waiting": {"reason": "ImagePullBackOff", "message": "no such image"}}}
        ]}});
        assert_eq!(workload_hint(&[]).as_deref(), Some("; no pods exist yet"));
        assert_eq!(
            workload_hint(&[running.clone(), pending.clone(), pending]).as_deref(),
            Some("; 2 pod(s) Pending (no node has started them)")
        );
        assert_eq!(
            workload_hint(&[running.clone(), pulling]).as_deref(),
            Some("; pod: ImagePullBackOff: no such image"),
            "a pod's own reason says more than the count"
        );
        assert_eq!(workload_hint(&[running]), None);
        assert_eq!(
            selector(&json!({"spec": {"selector": {"matchLabels": {"app": "x", "tier": "web"}}}})).as_deref(),
            Some("app=x,tier=web")
        );
        assert_eq!(
            selector(&json!({"spec": {"selector": {"matchExpressions": []}}})),
            None
        );
    }
}

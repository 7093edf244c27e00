//! Each object's place in a run, and what follows from an answer: Blocked (waiting for what it needs)
//! → Queued → InFlight → Applied → Ready, with Backoff between tries, or Failed (its own answer, or
//! blocked by something it needs that failed). Pure bookkeeping, no I/O: the engine tells the graph
//! what happened and does what the graph says follows (emit, watch, spawn).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

use super::readiness::Health;
use super::verdict::Repeats;
use crate::plan::Wait;

/// An object's place in the ready queue: kind rank, then the plan's tie-breakers (`Plan::priority`).
pub(super) type Priority = (u8, usize, usize);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum St {
    Blocked,
    Queued,
    InFlight,
    Backoff,
    Applied,
    Ready,
    Failed,
}

#[derive(Debug)]
pub(super) struct NodeState {
    pub st: St,
    /// What it still waits for (applies and establishments) before it is worth attempting.
    pending: usize,
    pub attempts: u32,
    /// The run of identical error answers it got last.
    pub repeats: Repeats,
    /// When the last request for this object was sent.
    pub sent_at: Option<Instant>,
    /// Failed only because this object (a dependency) failed: it never got its own answer.
    pub blocked_by: Option<usize>,
    pub reason: String,
    pub warning: Option<String>,
    /// Deleted and recreated once because an update hit an immutable field.
    pub replaced: bool,
    /// The watch this object waits on fails, and why.
    pub watch_error: Option<String>,
    established: bool,
    dependents: Vec<usize>,
    /// Custom resources waiting for this CRD's establishment.
    est_dependents: Vec<usize>,
}

impl NodeState {
    fn new() -> NodeState {
        NodeState {
            st: St::Blocked,
            pending: 0,
            attempts: 0,
            repeats: Repeats::default(),
            sent_at: None,
            blocked_by: None,
            reason: "waiting to be applied".into(),
            warning: None,
            replaced: false,
            watch_error: None,
            established: false,
            dependents: vec![],
            est_dependents: vec![],
        }
    }
}

/// How a module's preset settles its objects before anything is sent.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Settled {
    /// Unchanged since the last deploy: on the server as recorded.
    Ready,
    /// Refused before anything was sent, with this reason.
    Refused(String),
}

/// What a readiness observation changes for an applied object.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum HealthStep {
    Unchanged,
    Ready,
    /// Still in progress, for a reason other than the last one said.
    Waiting(String),
    /// It failed: fail it and what waits on it (`Graph::fail_next`).
    Fail(String),
}

/// Objects whose failure is still to be carried to what waits on them.
pub(super) struct Failing(Vec<(usize, String, Option<usize>)>);

impl Failing {
    pub fn new(i: usize, reason: String) -> Failing {
        Failing(vec![(i, reason, None)])
    }
}

/// Every object of the plan, what each waits for, and the queue of those worth attempting now.
pub(super) struct Graph {
    pub nodes: Vec<NodeState>,
    priority: Vec<Priority>,
    queue: BinaryHeap<Reverse<(Priority, usize)>>,
    /// `--wait`: an object is done when ready, not when applied.
    wait: bool,
}

impl Graph {
    /// One node per plan node: what it waits for and its queue priority.
    pub fn new<'a>(plan: impl IntoIterator<Item = (&'a [Wait], Priority)>, wait: bool) -> Graph {
        let (waits, priority): (Vec<&[Wait]>, Vec<Priority>) = plan.into_iter().unzip();
        let mut nodes: Vec<NodeState> = waits.iter().map(|_| NodeState::new()).collect();
        for (i, ws) in waits.iter().enumerate() {
            for w in ws.iter() {
                match *w {
                    Wait::Applied(j) => nodes[j].dependents.push(i),
                    Wait::Established(j) => nodes[j].est_dependents.push(i),
                }
                nodes[i].pending += 1;
            }
        }
        Graph {
            nodes,
            priority,
            queue: BinaryHeap::new(),
            wait,
        }
    }

    /// Settle the objects of skipped and refused modules, then queue everything that waits for nothing.
    ///
    /// Another module's objects may wait on settled ones (its namespace, its CRD). A skipped module's
    /// objects are on the server as recorded; a refused module's were not touched, and may well be
    /// there (the object it would not adopt is). Either way the waiting objects go ahead and the server
    /// decides: a namespace or kind that is really missing is retried with that reason until
    /// --timeout, instead of waiting silently for an apply that will never come.
    pub fn start(&mut self, settled: impl IntoIterator<Item = (usize, Settled)>) {
        let mut done = Vec::new();
        for (i, how) in settled {
            match how {
                Settled::Ready => self.nodes[i].st = St::Ready,
                Settled::Refused(reason) => {
                    self.nodes[i].st = St::Failed;
                    self.nodes[i].reason = format!("not applied: {reason}");
                }
            }
            done.push(i);
        }
        for i in done {
            let node = &mut self.nodes[i];
            let mut waiting = std::mem::take(&mut node.dependents);
            waiting.append(&mut node.est_dependents);
            for d in waiting {
                self.release(d);
            }
        }
        for i in 0..self.nodes.len() {
            if self.nodes[i].st == St::Blocked && self.nodes[i].pending == 0 {
                self.enqueue(i);
            }
        }
    }

    fn enqueue(&mut self, i: usize) {
        self.nodes[i].st = St::Queued;
        self.queue.push(Reverse((self.priority[i], i)));
    }

    /// One thing `i` waited for has happened.
    fn release(&mut self, i: usize) {
        if self.nodes[i].st != St::Blocked {
            return;
        }
        self.nodes[i].pending -= 1;
        if self.nodes[i].pending == 0 {
            self.enqueue(i);
        }
    }

    /// Nothing more goes out (Ctrl-C).
    pub fn clear_queue(&mut self) {
        self.queue.clear();
    }

    /// The queued object to send next, highest priority first, now in flight.
    pub fn pop_ready(&mut self, now: Instant) -> Option<usize> {
        while let Some(Reverse((_, i))) = self.queue.pop() {
            let node = &mut self.nodes[i];
            if node.st != St::Queued {
                continue;
            }
            node.st = St::InFlight;
            node.attempts += 1;
            node.sent_at = Some(now);
            return Some(i);
        }
        None
    }

    /// The server accepted the object: what waits for its apply goes ahead.
    pub fn applied(&mut self, i: usize) {
        self.nodes[i].st = St::Applied;
        for d in std::mem::take(&mut self.nodes[i].dependents) {
            self.release(d);
        }
    }

    /// Nothing is checked beyond the apply (a dry run): applied is ready.
    pub fn ready_unchecked(&mut self, i: usize) {
        self.nodes[i].st = St::Ready;
    }

    /// Custom resources wait for this CRD.
    pub fn awaits_establishment(&self, i: usize) -> bool {
        !self.nodes[i].est_dependents.is_empty()
    }

    /// A CRD's readiness was seen. True when this is the first sign of its establishment that custom
    /// resources wait for: discovery must learn its kinds before they are released.
    pub fn crd_seen(&mut self, i: usize, ready: bool) -> bool {
        let node = &mut self.nodes[i];
        let first = ready && !node.established && !node.est_dependents.is_empty();
        if first {
            node.established = true;
        }
        first
    }

    /// Discovery knows the CRD's kinds: its custom resources go ahead.
    pub fn established(&mut self, i: usize) {
        self.nodes[i].established = true;
        for d in std::mem::take(&mut self.nodes[i].est_dependents) {
            self.release(d);
        }
    }

    /// What a readiness observation of `i` changes. Only an applied object that is waited for moves:
    /// a late observation of a failed or not yet applied object changes nothing.
    pub fn health(&mut self, i: usize, h: Health) -> HealthStep {
        let node = &mut self.nodes[i];
        if !self.wait || node.st != St::Applied {
            return HealthStep::Unchanged;
        }
        match h {
            Health::Ready => {
                node.st = St::Ready;
                HealthStep::Ready
            }
            Health::Warning(w) => {
                node.st = St::Ready;
                node.warning = Some(w);
                HealthStep::Ready
            }
            Health::Failed(reason) => {
                node.reason = reason.clone();
                HealthStep::Fail(reason)
            }
            Health::InProgress(reason) if reason != node.reason => {
                node.reason = reason.clone();
                HealthStep::Waiting(reason)
            }
            Health::InProgress(_) => HealthStep::Unchanged,
        }
    }

    /// Waiting before the next try, for this reason.
    pub fn backoff(&mut self, i: usize, reason: String) {
        self.nodes[i].st = St::Backoff;
        self.nodes[i].reason = reason;
    }

    /// The object is being deleted to be created anew (once).
    pub fn replacing(&mut self, i: usize, reason: String) {
        self.nodes[i].replaced = true;
        self.backoff(i, reason);
    }

    /// A backoff (or a replacement) is over: try again, unless it was settled meanwhile.
    pub fn requeue(&mut self, i: usize) {
        if self.nodes[i].st == St::Backoff {
            self.enqueue(i);
        }
    }

    /// Fail the next object of `f` and queue what waited on it (blocked: it can no longer happen);
    /// the object failed, or `None` when the failure has gone as far as it goes. `key` names objects
    /// in the reason of those they block.
    pub fn fail_next(&mut self, f: &mut Failing, key: impl Fn(usize) -> String) -> Option<usize> {
        while let Some((j, why, cause)) = f.0.pop() {
            let node = &mut self.nodes[j];
            if node.st == St::Failed {
                continue;
            }
            node.st = St::Failed;
            node.reason = why;
            node.blocked_by = cause;
            let mut deps = std::mem::take(&mut node.dependents);
            deps.append(&mut node.est_dependents);
            let blocked = format!("blocked: {} failed", key(j));
            for d in deps {
                if self.nodes[d].st == St::Blocked {
                    f.0.push((d, blocked.clone(), Some(j)));
                }
            }
            return Some(j);
        }
        None
    }

    pub fn is_done(&self, i: usize) -> bool {
        match self.nodes[i].st {
            St::Failed | St::Ready => true,
            St::Applied => !self.wait,
            _ => false,
        }
    }

    pub fn all_done(&self) -> bool {
        (0..self.nodes.len()).all(|i| self.is_done(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Wait::{Applied as A, Established as E};

    /// A graph of `waits.len()` nodes, priority by index unless `rank` says otherwise.
    fn graph(waits: &[&[Wait]], rank: &[u8], wait: bool) -> Graph {
        Graph::new(
            waits
                .iter()
                .enumerate()
                .map(|(i, w)| (*w, (rank.get(i).copied().unwrap_or(0), 0, i))),
            wait,
        )
    }

    fn sts(g: &Graph) -> Vec<St> {
        g.nodes.iter().map(|n| n.st).collect()
    }

    fn drain(g: &mut Graph) -> Vec<usize> {
        std::iter::from_fn(|| g.pop_ready(Instant::now())).collect()
    }

    fn fail_all(g: &mut Graph, i: usize, reason: &str) -> Vec<usize> {
        let mut f = Failing::new(i, reason.into());
        std::iter::from_fn(|| g.fail_next(&mut f, |j| format!("obj{j}"))).collect()
    }

    #[test]
    fn objects_go_out_by_priority_once_what_they_wait_for_has_happened() {
        // 0 CRD, 1 Namespace, 2 a CR in the namespace (waits for both), 3 a ConfigMap in it.
        let mut g = graph(&[&[], &[], &[E(0), A(1)], &[A(1)]], &[0, 1, 13, 4], true);
        g.start([]);
        assert_eq!(sts(&g), [St::Queued, St::Queued, St::Blocked, St::Blocked]);
        assert_eq!(drain(&mut g), [0, 1], "kind rank first");
        assert_eq!(g.nodes[0].attempts, 1);
        g.applied(1);
        assert_eq!(drain(&mut g), [3], "the CR still waits for its CRD");
        g.applied(0);
        assert_eq!(drain(&mut g), Vec::<usize>::new(), "applied is not established");
        assert!(g.awaits_establishment(0));
        assert!(
            g.crd_seen(0, true),
            "the first ready CRD with waiting CRs needs discovery"
        );
        assert!(!g.crd_seen(0, true), "only once");
        g.established(0);
        assert_eq!(drain(&mut g), [2]);
    }

    #[test]
    fn a_crd_nobody_waits_for_needs_no_refresh_and_not_ready_is_not_established() {
        let mut g = graph(&[&[], &[]], &[], true);
        assert!(!g.crd_seen(0, true));
        let mut g = graph(&[&[], &[E(0)]], &[], true);
        assert!(!g.crd_seen(0, false));
        assert!(g.crd_seen(0, true));
    }

    #[test]
    fn a_backoff_requeues_and_counts_attempts_but_a_settled_object_is_not_resent() {
        let mut g = graph(&[&[], &[]], &[], true);
        g.start([]);
        assert_eq!(drain(&mut g), [0, 1]);
        g.backoff(0, "throttled: slow down".into());
        g.backoff(1, "server error".into());
        g.requeue(0);
        let mut f = Failing::new(1, "gave up".into());
        g.fail_next(&mut f, |j| j.to_string());
        g.requeue(1);
        assert_eq!(drain(&mut g), [0]);
        assert_eq!(g.nodes[0].attempts, 2);
        assert_eq!(g.nodes[1].st, St::Failed);
    }

    #[test]
    fn presets_settle_their_objects_and_release_what_waits_on_them() {
        // Module X (0 namespace, 1 CRD) is skipped or refused; module Y's 2 waits for X's namespace,
        // 3 for X's CRD, 4 for Y's own 2.
        for (how, settled_st) in [
            (Settled::Ready, St::Ready),
            (Settled::Refused("would adopt".into()), St::Failed),
        ] {
            let mut g = graph(&[&[], &[], &[A(0)], &[E(1)], &[A(2)]], &[], true);
            g.start([(0, how.clone()), (1, how.clone())]);
            assert_eq!(
                sts(&g),
                [settled_st, settled_st, St::Queued, St::Queued, St::Blocked],
                "{how:?}"
            );
            if settled_st == St::Failed {
                assert_eq!(g.nodes[0].reason, "not applied: would adopt");
            }
            assert!(!g.all_done());
        }
    }

    #[test]
    fn a_failure_blocks_everything_that_can_no_longer_happen_and_nothing_else() {
        // 0 ← 1 (applied) ← 2 (established); 5 waits for 1 and 4; 3 and 4 wait for nothing and are
        // in flight.
        let mut g = graph(&[&[], &[A(0)], &[E(1)], &[], &[], &[A(1), A(4)]], &[], true);
        g.start([]);
        drain(&mut g);
        let failed = fail_all(&mut g, 0, "HTTP 422: invalid");
        assert_eq!(failed, [0, 1, 2, 5], "depth first, each once");
        assert_eq!(g.nodes[0].blocked_by, None);
        assert_eq!(g.nodes[0].reason, "HTTP 422: invalid");
        assert_eq!(g.nodes[1].blocked_by, Some(0));
        assert_eq!(g.nodes[1].reason, "blocked: obj0 failed");
        assert_eq!(g.nodes[2].blocked_by, Some(1));
        assert_eq!(g.nodes[2].reason, "blocked: obj1 failed");
        assert_eq!(g.nodes[5].blocked_by, Some(1));
        assert_eq!(g.nodes[3].st, St::InFlight, "in flight: its own answer decides");
        assert_eq!(g.nodes[4].st, St::InFlight);
        assert_eq!(fail_all(&mut g, 1, "again"), Vec::<usize>::new(), "failed once");
        assert_eq!(g.nodes[1].reason, "blocked: obj0 failed");
    }

    #[test]
    fn an_applied_object_does_not_block_what_waits_for_it_when_it_fails_later() {
        // 1 waits for 0's apply, which happened; 0 then fails on readiness: 1 goes on.
        let mut g = graph(&[&[], &[A(0)]], &[], true);
        g.start([]);
        drain(&mut g);
        g.applied(0);
        assert_eq!(fail_all(&mut g, 0, "crash loop"), [0]);
        assert_eq!(sts(&g), [St::Failed, St::Queued]);
    }

    #[test]
    fn readiness_moves_only_applied_objects_that_are_waited_for() {
        let ready = || Health::Ready;
        let cases: Vec<(&str, bool, St, Health, HealthStep, St)> = vec![
            ("ready", true, St::Applied, ready(), HealthStep::Ready, St::Ready),
            (
                "warning is ready",
                true,
                St::Applied,
                Health::Warning("w".into()),
                HealthStep::Ready,
                St::Ready,
            ),
            (
                "failed",
                true,
                St::Applied,
                Health::Failed("Stalled".into()),
                HealthStep::Fail("Stalled".into()),
                St::Applied,
            ),
            (
                "new reason",
                true,
                St::Applied,
                Health::InProgress("0/1 ready".into()),
                HealthStep::Waiting("0/1 ready".into()),
                St::Applied,
            ),
            (
                "same reason again",
                true,
                St::Applied,
                Health::InProgress("waiting to be applied".into()),
                HealthStep::Unchanged,
                St::Applied,
            ),
            (
                "no --wait",
                false,
                St::Applied,
                ready(),
                HealthStep::Unchanged,
                St::Applied,
            ),
            (
                "late for a failed one",
                true,
                St::Failed,
                ready(),
                HealthStep::Unchanged,
                St::Failed,
            ),
            (
                "before its apply's answer",
                true,
                St::InFlight,
                ready(),
                HealthStep::Unchanged,
                St::InFlight,
            ),
        ];
        for (name, wait, st, h, step, after) in cases {
            let mut g = graph(&[&[]], &[], wait);
            g.nodes[0].st = st;
            assert_eq!(g.health(0, h), step, "{name}");
            assert_eq!(g.nodes[0].st, after, "{name}");
        }
        let mut g = graph(&[&[]], &[], true);
        g.nodes[0].st = St::Applied;
        g.health(0, Health::Warning("state Warning".into()));
        assert_eq!(g.nodes[0].warning.as_deref(), Some("state Warning"));
    }

    #[test]
    fn done_means_ready_or_failed_and_applied_only_without_wait() {
        use St::*;
        for (st, with_wait, without_wait) in [
            (Blocked, false, false),
            (Queued, false, false),
            (InFlight, false, false),
            (Backoff, false, false),
            (Applied, false, true),
            (Ready, true, true),
            (Failed, true, true),
        ] {
            for (wait, want) in [(true, with_wait), (false, without_wait)] {
                let mut g = graph(&[&[]], &[], wait);
                g.nodes[0].st = st;
                assert_eq!(g.is_done(0), want, "{st:?} wait={wait}");
            }
        }
    }
}

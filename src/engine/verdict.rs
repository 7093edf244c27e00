//! What to do with a request the server refused or did not answer: try again after a delay, delete
//! and recreate the object, or fail with a message a person can act on. Pure: the classified answer,
//! the object's history and the settings in, a decision out.

use std::time::{Duration, Instant};

use super::replace::REPLACE_ANNOTATION;
use super::replace::immutable_summary;
use crate::cluster::RequestError;
use crate::cluster::classify::{FatalClass, RetryClass, Verdict, backoff, repeat_limit};

/// The run of identical answers an object got last.
#[derive(Debug, Clone, Default)]
pub(super) struct Repeats {
    message: String,
    count: u32,
    /// When this run of identical answers began.
    since: Option<Instant>,
}

impl Repeats {
    pub fn observe(&mut self, message: &str, now: Instant) {
        if message == self.message {
            self.count += 1;
        } else {
            self.count = 1;
            self.since = Some(now);
            self.message = message.to_string();
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Decision {
    Retry {
        class: RetryClass,
        delay: Duration,
    },
    /// Delete the object and apply it anew (an immutable field changed, and replacing is allowed).
    Replace,
    Fail(String),
}

/// What the decision depends on besides the answer.
pub(super) struct Context<'a> {
    /// The attempt that got this answer (1 for the first).
    pub attempt: u32,
    pub repeats: &'a Repeats,
    pub now: Instant,
    /// How long the same answer must last before its repeats are a verdict.
    pub patience: Duration,
    /// Replacing is allowed (`--force-replace` or the annotation, not a dry run) and not yet done.
    pub may_replace: bool,
    /// The object, as the messages name it.
    pub key: &'a str,
    pub server_version: &'a str,
}

pub(super) fn decide(err: &RequestError, verdict: Verdict, cx: &Context) -> Decision {
    match verdict {
        Verdict::Retry { class, after } => {
            // The same answer again and again is a verdict only once it has also lasted: a server
            // whose etcd is away answers 5xx for as long as that takes.
            let r = cx.repeats;
            let lasted = r
                .since
                .is_some_and(|t| cx.now.saturating_duration_since(t) >= cx.patience);
            if lasted && repeat_limit(class).is_some_and(|limit| r.count >= limit) {
                return Decision::Fail(format!(
                    "{err} (the same answer {} times in a row; not transient)",
                    r.count
                ));
            }
            Decision::Retry {
                class,
                delay: retry_delay(after, cx.attempt),
            }
        }
        Verdict::Fail(FatalClass::Immutable) if cx.may_replace => Decision::Replace,
        Verdict::Fail(class) => Decision::Fail(fatal_message(err, class, cx)),
    }
}

/// The server's Retry-After if it sent one (at least 100 ms), else exponential backoff with jitter.
pub(super) fn retry_delay(after: Option<Duration>, attempt: u32) -> Duration {
    after
        .unwrap_or_else(|| backoff(attempt))
        .max(backoff(attempt).min(Duration::from_millis(100)))
}

/// A failure, said with what to do about it where kyma knows.
fn fatal_message(err: &RequestError, class: FatalClass, cx: &Context) -> String {
    let message = &err.message;
    match class {
        FatalClass::FieldConflict => format!(
            "{err}; another field manager owns these fields: pass --force-conflicts to take them over"
        ),
        FatalClass::Immutable => format!(
            "{}; the server cannot change this field in place. Re-run with --force-replace to delete and \
             recreate {} (or annotate it {REPLACE_ANNOTATION}: \"true\")",
            immutable_summary(message),
            cx.key
        ),
        FatalClass::UnknownField => format!(
            "this cluster ({}) does not know a field of this object ({}); the module needs a newer Kubernetes",
            cx.server_version,
            unknown_field(message)
        ),
        _ => err.to_string(),
    }
}

/// A dry run persists nothing, so an object whose namespace or kind comes from this same plan cannot
/// be checked by the server; what it would wait for exists in the plan, so it counts as applied
/// (unvalidated) rather than waiting forever.
pub(super) fn unvalidated_in_dry_run(verdict: &Verdict, dry_run: bool, waits_in_plan: bool) -> bool {
    dry_run
        && waits_in_plan
        && matches!(
            verdict,
            Verdict::Retry {
                class: RetryClass::NamespaceMissing | RetryClass::KindNotServed,
                ..
            }
        )
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

/// `… .webhooks[0].matchConditions: field not declared in schema` → `.webhooks[0].matchConditions`.
fn unknown_field(message: &str) -> String {
    message
        .split(": field not declared in schema")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .unwrap_or(message)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn err(code: u16, message: &str) -> RequestError {
        RequestError {
            code: Some(code),
            message: message.into(),
            ..Default::default()
        }
    }

    fn retry(class: RetryClass) -> Verdict {
        Verdict::Retry { class, after: None }
    }

    /// The decision for the `count`-th identical answer, the first of which came `lasted` ago, with
    /// 30 s of patience.
    fn decide_after(verdict: Verdict, count: u32, lasted: Duration, may_replace: bool) -> Decision {
        let t0 = Instant::now();
        let mut repeats = Repeats::default();
        for _ in 0..count {
            repeats.observe("etcdserver: request timed out", t0);
        }
        let cx = Context {
            attempt: count,
            repeats: &repeats,
            now: t0 + lasted,
            patience: 30 * S,
            may_replace,
            key: "Deployment/kyma-system/manager",
            server_version: "v1.20.2",
        };
        decide(&err(500, "etcdserver: request timed out"), verdict, &cx)
    }

    fn kind(d: &Decision) -> &'static str {
        match d {
            Decision::Retry { .. } => "retry",
            Decision::Replace => "replace",
            Decision::Fail(_) => "fail",
        }
    }

    #[test]
    fn repeated_answers_fail_only_past_their_class_limit_and_the_patience() {
        use RetryClass::*;
        let cases = [
            // class, same answers, for how long, decision
            (ServerError, 3, 60 * S, "retry"),
            (ServerError, 4, 60 * S, "fail"),
            (ServerError, 4, 29 * S, "retry"),
            (ServerError, 40, 29 * S, "retry"),
            (ServerError, 4, 30 * S, "fail"),
            (Unknown, 4, 60 * S, "retry"),
            (Unknown, 5, 60 * S, "fail"),
            (Conflict, 7, 60 * S, "retry"),
            (Conflict, 8, 60 * S, "fail"),
            (KindNotServed, 500, 600 * S, "retry"),
            (NamespaceMissing, 500, 600 * S, "retry"),
            (WebhookUnavailable, 500, 600 * S, "retry"),
            (Throttled, 500, 600 * S, "retry"),
            (Transport, 500, 600 * S, "retry"),
        ];
        for (class, count, lasted, want) in cases {
            let d = decide_after(retry(class), count, lasted, false);
            assert_eq!(kind(&d), want, "{class:?} ×{count} over {lasted:?}: {d:?}");
        }
        assert_eq!(
            decide_after(retry(ServerError), 4, 60 * S, false),
            Decision::Fail(
                "HTTP 500: etcdserver: request timed out (the same answer 4 times in a row; not transient)"
                    .into()
            )
        );
    }

    #[test]
    fn a_different_answer_starts_a_new_run() {
        let t0 = Instant::now();
        let mut r = Repeats::default();
        r.observe("a", t0);
        r.observe("a", t0 + S);
        r.observe("b", t0 + 2 * S);
        r.observe("b", t0 + 3 * S);
        assert_eq!((r.count, r.since), (2, Some(t0 + 2 * S)));
    }

    #[test]
    fn retry_after_is_kept_but_never_below_100_ms_and_backoff_grows() {
        assert_eq!(retry_delay(Some(5 * S), 1), 5 * S);
        assert_eq!(retry_delay(Some(Duration::ZERO), 1), Duration::from_millis(100));
        assert_eq!(
            retry_delay(Some(Duration::from_millis(30)), 9),
            Duration::from_millis(100)
        );
        let first = retry_delay(None, 1);
        let sixth = retry_delay(None, 6);
        assert!(
            (Duration::from_millis(187)..=Duration::from_millis(313)).contains(&first),
            "{first:?}"
        );
        assert!((6 * S..=10 * S).contains(&sixth), "{sixth:?}");
    }

    #[test]
    fn fatal_answers_say_what_to_do() {
        let immutable = "Deployment.apps \"manager\" is invalid: spec.selector: Invalid value: {\"app\":\"x\"}: field is immutable";
        let cases: [(FatalClass, &str, bool, &str); 5] = [
            (FatalClass::Immutable, immutable, true, "replace"),
            (
                FatalClass::Immutable,
                immutable,
                false,
                "spec.selector changed (new value {\"app\":\"x\"}); the server cannot change this field in place. \
                 Re-run with --force-replace to delete and recreate Deployment/kyma-system/manager (or annotate it \
                 kyma-project.io/replace: \"true\")",
            ),
            (
                FatalClass::FieldConflict,
                "Apply failed with 1 conflict",
                true,
                "HTTP 500: Apply failed with 1 conflict; another field manager owns these fields: pass --force-conflicts \
                 to take them over",
            ),
            (
                FatalClass::UnknownField,
                "failed to create typed patch object (/x): .webhooks[0].matchConditions: field not declared in schema",
                false,
                "this cluster (v1.20.2) does not know a field of this object (.webhooks[0].matchConditions); the module \
                 needs a newer Kubernetes",
            ),
            (FatalClass::Forbidden, "forbidden", true, "HTTP 500: forbidden"),
        ];
        for (class, message, may_replace, want) in cases {
            let repeats = Repeats::default();
            let cx = Context {
                attempt: 1,
                repeats: &repeats,
                now: Instant::now(),
                patience: 30 * S,
                may_replace,
                key: "Deployment/kyma-system/manager",
                server_version: "v1.20.2",
            };
            let got = decide(&err(500, message), Verdict::Fail(class), &cx);
            match got {
                Decision::Replace => assert_eq!(want, "replace", "{class:?}"),
                Decision::Fail(text) => assert_eq!(text, want, "{class:?}"),
                other => panic!("{class:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_dry_run_lets_only_plan_internal_prerequisites_pass_unvalidated() {
        use RetryClass::*;
        for (class, dry_run, waits, want) in [
            (NamespaceMissing, true, true, true),
            (KindNotServed, true, true, true),
            (NamespaceMissing, true, false, false),
            (NamespaceMissing, false, true, false),
            (ServerError, true, true, false),
            (WebhookUnavailable, true, true, false),
        ] {
            assert_eq!(
                unvalidated_in_dry_run(&retry(class), dry_run, waits),
                want,
                "{class:?} dry_run={dry_run} waits={waits}"
            );
        }
        assert!(!unvalidated_in_dry_run(
            &Verdict::Fail(FatalClass::Invalid),
            true,
            true
        ));
    }
}

//! Which failures are worth another round. Decided on the HTTP code and the Status the server sent,
//! never on a client helper's guess (an unknown API group answers a plain-text `404 page not found`).

use std::time::Duration;

use crate::cluster::RequestError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RetryClass {
    /// The kind is not served (yet): its CRD is missing or not established.
    KindNotServed,
    /// The target namespace does not exist (yet).
    NamespaceMissing,
    /// An admission or conversion webhook could not be called.
    WebhookUnavailable,
    /// 429: the server asked us to slow down.
    Throttled,
    /// 5xx or an etcd hiccup.
    ServerError,
    /// No answer: connection refused or reset, timeout.
    Transport,
    /// 409 on a concurrent create or update.
    Conflict,
    /// Not recognised; retried a few rounds, then a failure.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FatalClass {
    /// 400/422: the object is invalid.
    Invalid,
    /// 401/403: we may not do this.
    Forbidden,
    /// Server-side apply found fields owned by another manager.
    FieldConflict,
    /// 422 "field is immutable": the change needs the object deleted and recreated.
    Immutable,
    /// 500 "field not declared in schema": the server is too old for a field of the object.
    UnknownField,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Retry {
        class: RetryClass,
        after: Option<Duration>,
    },
    Fail(FatalClass),
}

pub fn classify(e: &RequestError) -> Verdict {
    if e.code.is_none() {
        return Verdict::Retry {
            class: RetryClass::Transport,
            after: None,
        };
    }
    by_status(e).unwrap_or_else(|| by_code_and_message(e))
}

fn retry(class: RetryClass) -> Verdict {
    Verdict::Retry { class, after: None }
}

/// A webhook that could not be called (as opposed to one that answered "no"). No Status reason tells
/// these apart — the API server wraps the call's error in an InternalError or BadRequest — so this one
/// question is answered from the message, within a reason that allows it.
fn webhook_unreachable(msg: &str) -> bool {
    let webhook = msg.contains("failed calling webhook")
        || msg.contains("failed calling admission webhook")
        || msg.contains("conversion webhook")
        || (msg.contains("webhook")
            && (msg.contains("connection refused")
                || msg.contains("timeout")
                || msg.contains("no endpoints")));
    webhook && !msg.contains("denied the request")
}

/// The server's own words first: `Status.reason` and `details.causes`. `None` for a reason this does
/// not know, or none at all (a proxy's plain-text answer, `404 page not found`): then the HTTP code
/// and the message decide.
fn by_status(e: &RequestError) -> Option<Verdict> {
    let msg = e.message.to_ascii_lowercase();
    Some(match e.reason.as_str() {
        // A namespaced write whose namespace is missing names `namespaces` in its details; any other
        // NotFound on a write means the resource type is not there (yet).
        "NotFound" if e.details_kind == "namespaces" => retry(RetryClass::NamespaceMissing),
        "NotFound" => retry(RetryClass::KindNotServed),
        // Someone created it between our read and our write: read and write again.
        "AlreadyExists" => retry(RetryClass::Conflict),
        // Server-side apply lists each field another manager owns as a FieldManagerConflict cause; a
        // Conflict without them is optimistic concurrency (a stale resourceVersion), worth a retry.
        "Conflict" if e.causes.iter().any(|c| c.reason == "FieldManagerConflict") => {
            Verdict::Fail(FatalClass::FieldConflict)
        }
        "Conflict" => retry(RetryClass::Conflict),
        // An Invalid without causes (a server or proxy that drops the details): the message must do.
        "Invalid" if e.causes.is_empty() => return None,
        // Replacing the object helps only when every field the server refused is an immutable one
        // (`field.Invalid(…, "field is immutable")`: a FieldValueInvalid whose detail says so).
        "Invalid"
            if e.causes
                .iter()
                .all(|c| c.reason == "FieldValueInvalid" && c.message.ends_with("field is immutable")) =>
        {
            Verdict::Fail(FatalClass::Immutable)
        }
        "Invalid" | "RequestEntityTooLarge" => Verdict::Fail(FatalClass::Invalid),
        "BadRequest" if webhook_unreachable(&msg) => retry(RetryClass::WebhookUnavailable),
        "BadRequest" => Verdict::Fail(FatalClass::Invalid),
        "Unauthorized" | "Forbidden" => Verdict::Fail(FatalClass::Forbidden),
        "TooManyRequests" => Verdict::Retry {
            class: RetryClass::Throttled,
            after: e.retry_after,
        },
        // An InternalError is the server's catch-all: a webhook it could not call and a field an older
        // server's schema lacks both arrive as one, told apart only by their message.
        "InternalError" if webhook_unreachable(&msg) => retry(RetryClass::WebhookUnavailable),
        "InternalError" if msg.contains("field not declared in schema") => {
            Verdict::Fail(FatalClass::UnknownField)
        }
        "InternalError" | "ServiceUnavailable" | "Timeout" | "ServerTimeout" => Verdict::Retry {
            class: RetryClass::ServerError,
            after: e.retry_after,
        },
        _ => return None,
    })
}

/// For answers without a Status reason (proxies, gateways, servers that answer in plain text): the
/// HTTP code, and the message where the code alone cannot say.
fn by_code_and_message(e: &RequestError) -> Verdict {
    let msg = e.message.to_ascii_lowercase();
    let webhook = webhook_unreachable(&msg);
    match e.code {
        None => retry(RetryClass::Transport),
        Some(404) => {
            if e.details_kind == "namespaces" || (msg.contains("namespaces \"") && msg.contains("not found"))
            {
                retry(RetryClass::NamespaceMissing)
            } else {
                // "404 page not found" (unknown group/version) or a resource type the server dropped.
                retry(RetryClass::KindNotServed)
            }
        }
        Some(409) => {
            if msg.contains("apply failed with") || msg.contains("conflict with") {
                Verdict::Fail(FatalClass::FieldConflict)
            } else {
                retry(RetryClass::Conflict)
            }
        }
        Some(429) => Verdict::Retry {
            class: RetryClass::Throttled,
            after: e.retry_after,
        },
        Some(400) | Some(422) if webhook => retry(RetryClass::WebhookUnavailable),
        Some(422) if msg.contains("field is immutable") => Verdict::Fail(FatalClass::Immutable),
        Some(400) | Some(422) => Verdict::Fail(FatalClass::Invalid),
        Some(401) | Some(403) => Verdict::Fail(FatalClass::Forbidden),
        Some(500) if webhook => retry(RetryClass::WebhookUnavailable),
        Some(500) if msg.contains("field not declared in schema") => Verdict::Fail(FatalClass::UnknownField),
        Some(500) | Some(502) | Some(503) | Some(504) => Verdict::Retry {
            class: RetryClass::ServerError,
            after: e.retry_after,
        },
        Some(_) if webhook => retry(RetryClass::WebhookUnavailable),
        Some(_) => retry(RetryClass::Unknown),
    }
}

/// Times the same message may repeat before a class stops being treated as transient. A webhook that
/// is not serving yet or a missing CRD may legitimately take until `--timeout`; a 500 that keeps saying
/// the same thing is the server's verdict, not a hiccup.
pub fn repeat_limit(class: RetryClass) -> Option<u32> {
    match class {
        RetryClass::ServerError => Some(4),
        RetryClass::Unknown => Some(5),
        RetryClass::Conflict => Some(8),
        _ => None,
    }
}

/// Exponential backoff with ±25% jitter: 250 ms, 500 ms, 1 s, … capped at 8 s.
pub fn backoff(attempt: u32) -> Duration {
    let base = 250u64
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(5))
        .min(8_000);
    let jitter = (base as f64 * (0.75 + fastrand::f64() * 0.5)) as u64;
    Duration::from_millis(jitter.max(50))
}

/// [`backoff`]'s curve for `backon`'s retry loops: `backoff(1)`, `backoff(2)`, … at most `times` delays
/// (then the last error stands).
pub fn delays(times: usize) -> impl backon::Backoff {
    (1..=u32::MAX).map(backoff).take(times)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(code: Option<u16>, reason: &str, message: &str, details_kind: &str) -> RequestError {
        RequestError {
            code,
            reason: reason.into(),
            message: message.into(),
            details_kind: details_kind.into(),
            ..Default::default()
        }
    }

    #[test]
    fn classes() {
        let cases = [
            (
                err(Some(404), "", "404 page not found", ""),
                Verdict::Retry {
                    class: RetryClass::KindNotServed,
                    after: None,
                },
            ),
            (
                err(Some(404), "NotFound", "namespaces \"x\" not found", "namespaces"),
                Verdict::Retry {
                    class: RetryClass::NamespaceMissing,
                    after: None,
                },
            ),
            (
                err(
                    Some(500),
                    "InternalError",
                    "Internal error occurred: failed calling webhook \"v.x\": Post \"https://127.0.0.1:1/\": dial tcp: connect: connection refused",
                    "",
                ),
                Verdict::Retry {
                    class: RetryClass::WebhookUnavailable,
                    after: None,
                },
            ),
            (
                err(
                    Some(422),
                    "Invalid",
                    "Deployment.apps \"x\" is invalid: spec.replicas: Invalid value: -1",
                    "",
                ),
                Verdict::Fail(FatalClass::Invalid),
            ),
            (
                err(
                    Some(400),
                    "BadRequest",
                    "admission webhook \"v.x\" denied the request: no",
                    "",
                ),
                Verdict::Fail(FatalClass::Invalid),
            ),
            (
                err(Some(403), "Forbidden", "forbidden", ""),
                Verdict::Fail(FatalClass::Forbidden),
            ),
            (
                with_causes(
                    err(
                        Some(409),
                        "Conflict",
                        "Apply failed with 1 conflict: conflict with \"kubectl\": .data.a",
                        "",
                    ),
                    vec![cause(
                        "FieldManagerConflict",
                        ".data.a",
                        "conflict with \"kubectl\"",
                    )],
                ),
                Verdict::Fail(FatalClass::FieldConflict),
            ),
            (
                err(
                    Some(409),
                    "Conflict",
                    "Operation cannot be fulfilled: the object has been modified",
                    "",
                ),
                Verdict::Retry {
                    class: RetryClass::Conflict,
                    after: None,
                },
            ),
            (
                err(Some(503), "", "unavailable", ""),
                Verdict::Retry {
                    class: RetryClass::ServerError,
                    after: None,
                },
            ),
            (
                with_causes(
                    err(
                        Some(422),
                        "Invalid",
                        "Deployment.apps \"m\" is invalid: spec.selector: Invalid value: {\"matchLabels\":{\"a\":\"b\"}}: field is immutable",
                        "",
                    ),
                    vec![cause(
                        "FieldValueInvalid",
                        "spec.selector",
                        "Invalid value: {\"matchLabels\":{\"a\":\"b\"}}: field is immutable",
                    )],
                ),
                Verdict::Fail(FatalClass::Immutable),
            ),
            (
                err(
                    Some(500),
                    "InternalError",
                    "failed to create typed patch object: .webhooks[0].matchConditions: field not declared in schema",
                    "",
                ),
                Verdict::Fail(FatalClass::UnknownField),
            ),
            (
                err(None, "", "connection reset by peer", ""),
                Verdict::Retry {
                    class: RetryClass::Transport,
                    after: None,
                },
            ),
        ];
        for (e, want) in cases {
            assert_eq!(classify(&e), want, "{e:?}");
        }
        let mut throttled = err(Some(429), "TooManyRequests", "slow down", "");
        throttled.retry_after = Some(Duration::from_secs(2));
        assert_eq!(
            classify(&throttled),
            Verdict::Retry {
                class: RetryClass::Throttled,
                after: Some(Duration::from_secs(2))
            }
        );
    }

    fn cause(reason: &str, field: &str, message: &str) -> crate::cluster::Cause {
        crate::cluster::Cause {
            reason: reason.into(),
            field: field.into(),
            message: message.into(),
        }
    }

    fn with_causes(mut e: RequestError, causes: Vec<crate::cluster::Cause>) -> RequestError {
        e.causes = causes;
        e
    }

    /// Each decision the Status makes, with a message that would have decided otherwise (or nothing).
    #[test]
    fn the_status_reason_decides_before_the_message() {
        let fail = Verdict::Fail;
        let cases = [
            // An invalid object whose offending value happens to mention a webhook timing out: the
            // message alone read it as an unreachable webhook and retried it until --timeout.
            (
                with_causes(
                    err(
                        Some(422),
                        "Invalid",
                        "Thing.x.io \"t\" is invalid: spec.webhook: Invalid value: \"timeout\": webhook timeout must be a duration",
                        "",
                    ),
                    vec![cause(
                        "FieldValueInvalid",
                        "spec.webhook",
                        "Invalid value: \"timeout\": webhook timeout must be a duration",
                    )],
                ),
                fail(FatalClass::Invalid),
            ),
            // Immutable only when every refused field is: replacing would not fix spec.replicas.
            (
                with_causes(
                    err(
                        Some(422),
                        "Invalid",
                        "Deployment.apps \"m\" is invalid: [spec.replicas: Invalid value: -1: must be greater than or equal to 0, spec.selector: Invalid value: {}: field is immutable]",
                        "",
                    ),
                    vec![
                        cause(
                            "FieldValueInvalid",
                            "spec.replicas",
                            "Invalid value: -1: must be greater than or equal to 0",
                        ),
                        cause(
                            "FieldValueInvalid",
                            "spec.selector",
                            "Invalid value: {}: field is immutable",
                        ),
                    ],
                ),
                fail(FatalClass::Invalid),
            ),
            (
                with_causes(
                    err(Some(422), "Invalid", "Deployment.apps \"m\" is invalid", ""),
                    vec![cause(
                        "FieldValueInvalid",
                        "spec.selector",
                        "Invalid value: {}: field is immutable",
                    )],
                ),
                fail(FatalClass::Immutable),
            ),
            (
                with_causes(
                    err(Some(422), "Invalid", "Service \"s\" is invalid", ""),
                    vec![cause(
                        "FieldValueNotSupported",
                        "spec.ports[0].protocol",
                        "Unsupported value: \"TPC\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
                    )],
                ),
                fail(FatalClass::Invalid),
            ),
            // A field conflict is told by its causes; an optimistic-concurrency 409 whose message
            // quotes a manager's words is not one.
            (
                with_causes(
                    err(Some(409), "Conflict", "Apply failed with 1 conflict", ""),
                    vec![cause(
                        "FieldManagerConflict",
                        ".data.a",
                        "conflict with \"kubectl\"",
                    )],
                ),
                fail(FatalClass::FieldConflict),
            ),
            (
                err(
                    Some(409),
                    "Conflict",
                    "Operation cannot be fulfilled on configmaps \"c\": precondition failed (conflict with a newer write)",
                    "",
                ),
                retry(RetryClass::Conflict),
            ),
            (
                err(
                    Some(409),
                    "AlreadyExists",
                    "leases \"kyma-lock\" already exists",
                    "leases",
                ),
                retry(RetryClass::Conflict),
            ),
            // NotFound: the details say whether the namespace is what is missing, not the wording.
            (
                err(Some(404), "NotFound", "namespaces \"x\" not found", "namespaces"),
                retry(RetryClass::NamespaceMissing),
            ),
            (
                err(
                    Some(404),
                    "NotFound",
                    "configmaps \"namespaces \" not found\"",
                    "configmaps",
                ),
                retry(RetryClass::KindNotServed),
            ),
            // A refusal that says "timeout" in a name is still a refusal.
            (
                err(
                    Some(403),
                    "Forbidden",
                    "validatingwebhookconfigurations \"webhook-timeout\" is forbidden: User \"u\" cannot patch",
                    "",
                ),
                fail(FatalClass::Forbidden),
            ),
            (
                err(Some(401), "Unauthorized", "Unauthorized", ""),
                fail(FatalClass::Forbidden),
            ),
            (
                err(
                    Some(413),
                    "RequestEntityTooLarge",
                    "Request entity too large: limit is 3145728",
                    "",
                ),
                fail(FatalClass::Invalid),
            ),
            // Whatever code a gateway chose, the server's reason says these pass.
            (
                err(
                    Some(504),
                    "Timeout",
                    "Timeout: request did not complete within 60s",
                    "",
                ),
                Verdict::Retry {
                    class: RetryClass::ServerError,
                    after: None,
                },
            ),
            (
                err(
                    Some(500),
                    "ServerTimeout",
                    "The list operation against configmaps could not be completed at this time",
                    "",
                ),
                Verdict::Retry {
                    class: RetryClass::ServerError,
                    after: None,
                },
            ),
            (
                err(
                    Some(503),
                    "ServiceUnavailable",
                    "the server is currently unable to handle the request",
                    "",
                ),
                Verdict::Retry {
                    class: RetryClass::ServerError,
                    after: None,
                },
            ),
            (
                err(Some(500), "InternalError", "etcdserver: leader changed", ""),
                Verdict::Retry {
                    class: RetryClass::ServerError,
                    after: None,
                },
            ),
        ];
        for (e, want) in cases {
            assert_eq!(classify(&e), want, "{e:?}");
        }
        let mut throttled = err(Some(503), "TooManyRequests", "storage is (re)initializing", "");
        throttled.retry_after = Some(Duration::from_secs(1));
        assert_eq!(
            classify(&throttled),
            Verdict::Retry {
                class: RetryClass::Throttled,
                after: Some(Duration::from_secs(1))
            }
        );
    }

    /// Without a reason (a proxy's plain-text answer) the code and the message still decide.
    #[test]
    fn without_a_reason_the_message_is_the_fallback() {
        let cases = [
            (
                err(
                    Some(409),
                    "",
                    "Apply failed with 1 conflict: conflict with \"kubectl\": .data.a",
                    "",
                ),
                Verdict::Fail(FatalClass::FieldConflict),
            ),
            (
                err(Some(404), "", "namespaces \"x\" not found", ""),
                retry(RetryClass::NamespaceMissing),
            ),
            (
                err(
                    Some(422),
                    "",
                    "x is invalid: spec.selector: Invalid value: {}: field is immutable",
                    "",
                ),
                Verdict::Fail(FatalClass::Immutable),
            ),
            (
                err(Some(502), "", "Bad Gateway", ""),
                Verdict::Retry {
                    class: RetryClass::ServerError,
                    after: None,
                },
            ),
        ];
        for (e, want) in cases {
            assert_eq!(classify(&e), want, "{e:?}");
        }
    }

    #[test]
    fn a_terminating_namespace_is_known_by_its_cause() {
        let with_cause = with_causes(
            err(Some(403), "Forbidden", "unable to create new content", ""),
            vec![cause(
                "NamespaceTerminating",
                "metadata.namespace",
                "namespace kyma-installer is being terminated",
            )],
        );
        assert!(with_cause.namespace_terminating());
        let old = err(
            Some(403),
            "Forbidden",
            "leases \"kyma-lock\" is forbidden: unable to create new content in namespace kyma-installer because it is being terminated",
            "",
        );
        assert!(old.namespace_terminating());
        assert!(!err(Some(403), "Forbidden", "User \"u\" cannot create leases", "").namespace_terminating());
    }

    #[test]
    fn delays_follow_the_backoff_curve_and_stop() {
        let d: Vec<Duration> = delays(3).collect();
        assert_eq!(d.len(), 3);
        assert!(d[0] < Duration::from_millis(400) && d[2] >= Duration::from_millis(750));
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        for a in 1..20 {
            let d = backoff(a);
            assert!(d <= Duration::from_millis(10_000), "{a}: {d:?}");
        }
        assert!(backoff(1) < Duration::from_millis(400));
        assert!(backoff(6) >= Duration::from_millis(5_000));
    }
}

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
    let msg = e.message.to_ascii_lowercase();
    let retry = |class| Verdict::Retry { class, after: None };
    let webhook = msg.contains("failed calling webhook")
        || msg.contains("failed calling admission webhook")
        || msg.contains("conversion webhook")
        || (msg.contains("webhook")
            && (msg.contains("connection refused")
                || msg.contains("timeout")
                || msg.contains("no endpoints")));
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
        Some(400) | Some(422) if webhook && !msg.contains("denied the request") => {
            retry(RetryClass::WebhookUnavailable)
        }
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
                err(
                    Some(409),
                    "Conflict",
                    "Apply failed with 1 conflict: conflict with \"kubectl\": .data.a",
                    "",
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
                err(
                    Some(422),
                    "Invalid",
                    "Deployment.apps \"m\" is invalid: spec.selector: Invalid value: {\"matchLabels\":{\"a\":\"b\"}}: field is immutable",
                    "",
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

//! Error text shared by every layer: an error and its causes in one line.

use std::error::Error;

/// An error with its whole chain of causes, each said once (a cause whose text an earlier part already
/// contains is left out), joined by `: `.
pub fn chain(e: &dyn Error) -> String {
    let mut parts = vec![e.to_string()];
    push_causes(e, &mut parts);
    parts.join(": ")
}

/// Only the causes below `e`, each said once; `e` itself when it has none. For errors whose own text
/// only repeats what the caller already said (reqwest's "error sending request for url (…)").
pub fn causes(e: &dyn Error) -> String {
    let mut parts = Vec::new();
    push_causes(e, &mut parts);
    if parts.is_empty() {
        e.to_string()
    } else {
        parts.join(": ")
    }
}

fn push_causes(e: &dyn Error, parts: &mut Vec<String>) {
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{text}")]
    struct E {
        text: &'static str,
        #[source]
        source: Option<Box<E>>,
    }

    fn e(text: &'static str, source: Option<E>) -> E {
        E {
            text,
            source: source.map(Box::new),
        }
    }

    #[test]
    fn each_cause_is_said_once() {
        let err = e("sending", Some(e("connect: refused", Some(e("refused", None)))));
        assert_eq!(chain(&err), "sending: connect: refused");
        assert_eq!(causes(&err), "connect: refused");
        assert_eq!(causes(&e("alone", None)), "alone");
        assert_eq!(chain(&e("alone", None)), "alone");
    }
}

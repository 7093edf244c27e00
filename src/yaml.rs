//! YAML in and out, through serde-saphyr (maintained, pure Rust, what kube 5 itself uses; serde_yaml is
//! archived). Everything inside `kyma` is a `serde_json::Value`; YAML exists only at the edges.

use serde_json::Value;

/// A YAML syntax error with the line it is on.
#[derive(Debug, Clone, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct YamlError {
    pub line: u64,
    pub message: String,
}

fn convert(e: serde_saphyr::Error) -> YamlError {
    let line = e.location().map(|l| l.line()).unwrap_or(0);
    let text = e.to_string();
    // The crate's Display is a multi-line report; its first line is the message.
    let first = text.lines().next().unwrap_or("").trim();
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let message = match first.split_once(": ") {
        Some((loc, rest)) if loc.starts_with("line ") => rest.to_string(),
        _ => first.to_string(),
    };
    YamlError { line, message }
}

/// Parse one YAML document. An empty document is `null`.
pub fn parse(text: &str) -> Result<Value, YamlError> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_saphyr::from_str(text).map_err(convert)
}

/// Parse a multi-document YAML stream; empty documents are dropped. Each document comes with the
/// line its text starts on, so later errors can point into the stream.
pub fn parse_all(text: &str) -> Result<Vec<(usize, Value)>, YamlError> {
    let mut out = Vec::new();
    // Split on document markers ourselves so an error names the line in the whole stream and each
    // object knows its document index.
    let mut chunk = String::new();
    let mut chunk_start = 1usize;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let lineno = i + 1;
        if line.starts_with("---") && (line.trim_end() == "---" || line[3..].starts_with([' ', '\t'])) {
            flush(&chunk, chunk_start, &mut out)?;
            chunk.clear();
            chunk_start = lineno + 1;
            continue;
        }
        if line.trim_end() == "..." {
            continue;
        }
        if chunk.is_empty() {
            chunk_start = lineno;
        }
        chunk.push_str(line);
    }
    flush(&chunk, chunk_start, &mut out)?;
    Ok(out)
}

fn flush(chunk: &str, first_line: usize, out: &mut Vec<(usize, Value)>) -> Result<(), YamlError> {
    let v = parse(chunk).map_err(|mut e| {
        e.line += first_line as u64 - 1;
        e
    })?;
    if !v.is_null() {
        out.push((first_line, v));
    }
    Ok(())
}

/// Serialize a value as one YAML document.
pub fn to_string(v: &Value) -> String {
    serde_saphyr::to_string(v).unwrap_or_else(|e| format!("# unserializable: {e}\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_lines_are_stream_lines() {
        let text = "a: 1\n---\nb: 2\n---\n\n---\nc: [1,\n";
        let err = parse_all(text).unwrap_err();
        assert_eq!(err.line, 7, "{err}");
        let ok = parse_all("a: 1\n---\n# only a comment\n---\nb: 2\n").unwrap();
        assert_eq!(ok.len(), 2);
        assert_eq!(ok[1].0, 5);
    }

    #[test]
    fn round_trip_keeps_strings_strings() {
        let v: Value = serde_json::json!({"a": "true", "b": "{{x}}", "c": "1.0"});
        assert_eq!(parse(&to_string(&v)).unwrap(), v);
    }
}

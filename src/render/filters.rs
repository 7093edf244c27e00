//! The helpers a chart author expects, registered on every module's Tera environment. Tera filters take
//! named arguments only: `{{ values.x | nindent(width=4) }}`, `{{ values.y | required(message="…") }}`.

use base64::Engine as _;
use tera::{Kwargs, State, Tera, TeraResult, Value};

fn to_json_value(v: &Value) -> TeraResult<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| tera::Error::message(format!("value cannot be serialised: {e}")))
}

fn indent_lines(text: &str, width: usize) -> String {
    let pad = " ".repeat(width);
    text.lines()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                format!("{pad}{l}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn register(tera: &mut Tera) {
    tera.register_filter(
        "to_yaml",
        |v: Value, _: Kwargs, _: &State| -> TeraResult<String> {
            let j = to_json_value(&v)?;
            Ok(crate::yaml::to_string(&j).trim_end_matches('\n').to_string())
        },
    );
    tera.register_filter(
        "to_json",
        |v: Value, kw: Kwargs, _: &State| -> TeraResult<String> {
            let j = to_json_value(&v)?;
            let pretty = kw.get::<bool>("pretty")?.unwrap_or(false);
            let out = if pretty {
                serde_json::to_string_pretty(&j)
            } else {
                serde_json::to_string(&j)
            };
            out.map_err(|e| tera::Error::message(e.to_string()))
        },
    );
    // Helm's nindent: a newline, then every line indented; the usual way to embed a block.
    tera.register_filter(
        "nindent",
        |v: &str, kw: Kwargs, _: &State| -> TeraResult<String> {
            let width = kw.get::<usize>("width")?.unwrap_or(2);
            Ok(format!("\n{}", indent_lines(v, width)))
        },
    );
    tera.register_filter("b64encode", |v: &str, _: Kwargs, _: &State| {
        base64::engine::general_purpose::STANDARD.encode(v.as_bytes())
    });
    tera.register_filter(
        "b64decode",
        |v: &str, _: Kwargs, _: &State| -> TeraResult<String> {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .map_err(|e| tera::Error::message(format!("b64decode: not base64: {e}")))?;
            String::from_utf8(bytes)
                .map_err(|_| tera::Error::message("b64decode: the decoded bytes are not UTF-8"))
        },
    );
    tera.register_filter("sha256", |v: &str, _: Kwargs, _: &State| {
        crate::hash::sha256_hex(v.as_bytes())
    });
    // A YAML-safe double-quoted scalar: JSON string syntax is valid YAML.
    tera.register_filter("quote", |v: Value, _: Kwargs, _: &State| -> TeraResult<String> {
        let s = match to_json_value(&v)? {
            serde_json::Value::String(s) => s,
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        Ok(serde_json::Value::String(s).to_string())
    });
    tera.register_filter(
        "required",
        |v: Value, kw: Kwargs, _: &State| -> TeraResult<Value> {
            let missing = v.is_undefined() || v.is_none() || v.as_str().is_some_and(str::is_empty);
            if missing {
                let message = kw
                    .get::<String>("message")?
                    .unwrap_or_else(|| "a required value is missing".into());
                return Err(tera::Error::message(format!("required: {message}")));
            }
            Ok(v)
        },
    );
}

#[cfg(test)]
mod tests {
    fn render(tpl: &str, ctx: serde_json::Value) -> Result<String, String> {
        let mut t = tera::Tera::new();
        t.autoescape_on(Vec::<&str>::new());
        super::register(&mut t);
        t.add_raw_template("t", tpl).map_err(|e| e.to_string())?;
        let ctx = tera::Context::from_serialize(&ctx).unwrap();
        t.render("t", &ctx).map_err(|e| format!("{e:?}"))
    }

    #[test]
    fn yaml_and_indent() {
        let out = render(
            "x:{{ m | to_yaml | nindent(width=2) }}",
            serde_json::json!({"m": {"a": 1, "b": ["c"]}}),
        )
        .unwrap();
        assert_eq!(out, "x:\n  a: 1\n  b:\n  - c");
        let parsed = crate::yaml::parse(&out).unwrap();
        assert_eq!(parsed, serde_json::json!({"x": {"a": 1, "b": ["c"]}}));
    }

    #[test]
    fn encoders() {
        assert_eq!(
            render("{{ s | b64encode }}", serde_json::json!({"s": "kyma"})).unwrap(),
            "a3ltYQ=="
        );
        assert_eq!(
            render(
                "{{ s | b64encode | b64decode }}",
                serde_json::json!({"s": "kyma"})
            )
            .unwrap(),
            "kyma"
        );
        assert_eq!(
            render("{{ s | sha256 }}", serde_json::json!({"s": ""})).unwrap(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            render("{{ s | quote }}", serde_json::json!({"s": "a \"b\": c"})).unwrap(),
            r#""a \"b\": c""#
        );
        assert_eq!(
            render("{{ n | quote }}", serde_json::json!({"n": 8080})).unwrap(),
            r#""8080""#
        );
        assert_eq!(
            render("{{ m | to_json }}", serde_json::json!({"m": {"a": [1]}})).unwrap(),
            r#"{"a":[1]}"#
        );
    }

    #[test]
    fn default_and_required() {
        assert_eq!(
            render("{{ v.x | default(value=3) }}", serde_json::json!({"v": {}})).unwrap(),
            "3"
        );
        let err = render(
            "{{ v.x | required(message=\"set v.x\") }}",
            serde_json::json!({"v": {}}),
        )
        .unwrap_err();
        assert!(err.contains("set v.x"), "{err}");
        assert_eq!(
            render("{{ v.x | required }}", serde_json::json!({"v": {"x": "ok"}})).unwrap(),
            "ok"
        );
    }
}

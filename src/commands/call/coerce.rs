//! Turns `--tool-arg key=value` text into the JSON a tool expects, guided by its `inputSchema`:
//! `count=5` becomes the number 5 where the schema says integer and stays the string "5" where it
//! says string. Where the schema is silent the text is sent as JSON when it parses as JSON, else
//! as a string (the contract's rule). A value that cannot be what the schema asks for is a usage
//! error that names the field, rather than a request the server would reject for a reason the
//! user cannot see.

use serde_json::{Map, Value};

use crate::config::key_value;

/// Why one `--tool-arg` could not be turned into JSON.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum CoerceError {
    #[error("--tool-arg {0}: expected KEY=VALUE")]
    NotKeyValue(String),
    #[error(
        "--tool-arg {key}={value}: the tool's inputSchema says {expected}; pass the arguments verbatim with --tool-args-json to send anything else"
    )]
    Mismatch {
        key: String,
        value: String,
        expected: String,
    },
}

/// Builds the `arguments` object from `--tool-args-json` (if any) and the `--tool-arg` pairs, in
/// that order, so a pair overrides the same key of the JSON.
pub fn arguments(
    schema: Option<&Value>,
    json: Option<Map<String, Value>>,
    pairs: &[String],
) -> Result<Map<String, Value>, CoerceError> {
    let mut out = json.unwrap_or_default();
    for pair in pairs {
        let (key, text) = key_value(pair).ok_or_else(|| CoerceError::NotKeyValue(pair.clone()))?;
        let property = schema.and_then(|s| property(s, s, key));
        let value = match property {
            Some(p) => by_schema(schema.unwrap_or(&Value::Null), p, text).ok_or_else(|| {
                CoerceError::Mismatch {
                    key: key.to_owned(),
                    value: text.to_owned(),
                    expected: describe(schema.unwrap_or(&Value::Null), p),
                }
            })?,
            None => untyped(text),
        };
        out.insert(key.to_owned(), value);
    }
    Ok(out)
}

/// `KEY=VALUE` pairs of a flag other than `--tool-arg` (`--metadata`, `--tool-metadata`): each
/// value JSON where it parses as JSON, else the text.
pub fn pairs(flag: &str, pairs: &[String]) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for pair in pairs {
        let (key, text) =
            key_value(pair).ok_or_else(|| format!("{flag} {pair}: expected KEY=VALUE"))?;
        out.insert(key.to_owned(), untyped(text));
    }
    Ok(out)
}

/// The subschema of property `key`, following a local `$ref` on the way.
fn property<'a>(root: &'a Value, schema: &'a Value, key: &str) -> Option<&'a Value> {
    let schema = resolve(root, schema);
    schema
        .get("properties")
        .and_then(|p| p.get(key))
        .map(|p| resolve(root, p))
}

/// Follows `$ref`s that point inside the document (`#/$defs/x`), a few levels deep at most so a
/// cycle cannot hang us; anything else stays as it is.
fn resolve<'a>(root: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..8 {
        match schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
            .and_then(|pointer| root.pointer(pointer))
        {
            Some(target) => schema = target,
            None => break,
        }
    }
    schema
}

/// The JSON types a schema allows, from `type` (a string or a list), `anyOf` / `oneOf`
/// branches, or the values of `enum` / `const`. Empty means "any".
fn types(root: &Value, schema: &Value) -> Vec<&'static str> {
    let schema = resolve(root, schema);
    let mut out = Vec::new();
    let mut add = |t: &str| {
        if let Some(known) = KNOWN.iter().find(|k| **k == t)
            && !out.contains(known)
        {
            out.push(*known);
        }
    };
    match schema.get("type") {
        Some(Value::String(t)) => add(t),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).for_each(&mut add),
        _ => {}
    }
    for key in ["anyOf", "oneOf"] {
        for branch in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            types(root, branch).into_iter().for_each(&mut add);
        }
    }
    let listed = schema
        .get("enum")
        .and_then(Value::as_array)
        .cloned()
        .or_else(|| schema.get("const").map(|c| vec![c.clone()]));
    for value in listed.iter().flatten() {
        add(json_type(value));
    }
    out
}

const KNOWN: [&str; 7] = [
    "null", "boolean", "integer", "number", "string", "array", "object",
];

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The value `text` stands for under `schema`, or None when it cannot be of any allowed type.
/// Non-string readings are tried first so `5` is a number where both are allowed; a string is
/// the last resort, and only where the schema allows one.
fn by_schema(root: &Value, schema: &Value, text: &str) -> Option<Value> {
    let allowed = types(root, schema);
    if allowed.is_empty() {
        return Some(untyped(text));
    }
    let parsed = serde_json::from_str::<Value>(text).ok();
    for t in &allowed {
        let fits = match (*t, &parsed) {
            ("string", _) => false,
            ("integer", Some(Value::Number(n))) => {
                n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            ("number", Some(Value::Number(_))) => true,
            ("boolean", Some(Value::Bool(_)))
            | ("null", Some(Value::Null))
            | ("array", Some(Value::Array(_)))
            | ("object", Some(Value::Object(_))) => true,
            _ => false,
        };
        if fits {
            return parsed;
        }
    }
    allowed
        .contains(&"string")
        .then(|| Value::String(text.to_owned()))
}

/// A value whose schema says nothing of its type: JSON where it parses, else the text itself.
fn untyped(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

fn describe(root: &Value, schema: &Value) -> String {
    let allowed = types(root, schema);
    match allowed.as_slice() {
        [one] => one.to_string(),
        many => format!("one of {}", many.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "count": {"type": "integer"},
                "ratio": {"type": "number"},
                "loud": {"type": "boolean"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "name": {"type": "string"},
                "maybe": {"type": ["integer", "null"]},
                "mode": {"enum": ["fast", "slow"]},
                "level": {"$ref": "#/$defs/level"},
                "either": {"anyOf": [{"type": "boolean"}, {"type": "string"}]},
            },
            "$defs": {"level": {"type": "integer"}},
        })
    }

    fn run(pairs: &[&str]) -> Result<Value, CoerceError> {
        let pairs: Vec<String> = pairs.iter().map(|p| (*p).to_owned()).collect();
        arguments(Some(&schema()), None, &pairs).map(Value::Object)
    }

    #[test]
    fn values_take_the_type_the_schema_names() {
        let got = run(&[
            "count=5",
            "ratio=0.25",
            "loud=true",
            "tags=[\"a\",\"b\"]",
            "name=5",
            "maybe=null",
            "mode=fast",
            "level=3",
            "either=yes",
        ])
        .unwrap();
        assert_eq!(
            got,
            json!({"count": 5, "ratio": 0.25, "loud": true, "tags": ["a", "b"], "name": "5",
                   "maybe": null, "mode": "fast", "level": 3, "either": "yes"})
        );
        assert_eq!(run(&["either=false"]).unwrap(), json!({"either": false}));
        assert_eq!(run(&["count=5.0"]).unwrap(), json!({"count": 5.0}));
    }

    #[test]
    fn a_value_the_schema_cannot_take_is_refused_with_its_field() {
        let err = run(&["count=five"]).unwrap_err();
        assert!(err.to_string().contains("count=five") && err.to_string().contains("integer"));
        assert!(run(&["count=2.5"]).is_err());
        assert!(run(&["loud=yes"]).is_err());
        assert!(run(&["tags=a,b"]).is_err());
        assert!(
            run(&["maybe=x"])
                .unwrap_err()
                .to_string()
                .contains("integer, null")
        );
        assert_eq!(
            run(&["novalue"]).unwrap_err(),
            CoerceError::NotKeyValue("novalue".into())
        );
    }

    #[test]
    fn where_the_schema_is_silent_json_is_tried_then_text() {
        let pairs = [
            "n=7".to_owned(),
            "s=hello".to_owned(),
            "o={\"a\":1}".to_owned(),
        ];
        assert_eq!(
            Value::Object(arguments(None, None, &pairs).unwrap()),
            json!({"n": 7, "s": "hello", "o": {"a": 1}})
        );
        assert_eq!(
            Value::Object(arguments(Some(&schema()), None, &pairs).unwrap()),
            json!({"n": 7, "s": "hello", "o": {"a": 1}})
        );
    }

    #[test]
    fn pairs_override_the_json_object() {
        let base = json!({"count": 1, "name": "x"}).as_object().cloned();
        let got = arguments(Some(&schema()), base, &["count=2".to_owned()]).unwrap();
        assert_eq!(Value::Object(got), json!({"count": 2, "name": "x"}));
    }
}

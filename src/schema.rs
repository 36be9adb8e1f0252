//! JSON Schema validation for the workbench: tool arguments against `inputSchema` before
//! sending, and `structuredContent` against `outputSchema` after. The draft follows the schema's
//! `$schema` (2020-12 when absent, as MCP 2025-11-25 says); `$ref`s resolve only inside the
//! document, never over the network or from disk.

use serde_json::{Value, json};

/// The verdict as the API returns it: `{"valid": bool, "errors": [{"path", "schemaPath",
/// "message"}]}`, or `{"valid": null, "schemaError": str}` when the schema itself is unusable.
pub fn validate(schema: &Value, instance: &Value) -> Value {
    let validator = match jsonschema::options().build(schema) {
        Ok(v) => v,
        Err(e) => return json!({"valid": null, "schemaError": e.to_string()}),
    };
    let errors: Vec<Value> = validator
        .iter_errors(instance)
        .take(100)
        .map(|e| {
            json!({
                "path": e.instance_path().to_string(),
                "schemaPath": e.schema_path().to_string(),
                "message": e.to_string(),
            })
        })
        .collect();
    json!({"valid": errors.is_empty(), "errors": errors})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draft_2020_12_is_the_default_and_errors_name_their_path() {
        let schema = json!({
            "type": "object",
            "properties": {"a": {"type": "number", "minimum": 0}, "b": {"type": "string", "format": "email"}},
            "required": ["a"],
        });
        assert_eq!(validate(&schema, &json!({"a": 1}))["valid"], true);
        let v = validate(&schema, &json!({"a": -1}));
        assert_eq!(v["valid"], false);
        assert_eq!(v["errors"][0]["path"], "/a");
        assert_eq!(validate(&schema, &json!({}))["errors"][0]["path"], "");
    }

    #[test]
    fn draft_07_schemas_and_internal_refs_work() {
        let schema = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "definitions": {"item": {"type": "integer"}},
            "type": "object",
            "properties": {"items": {"type": "array", "items": {"$ref": "#/definitions/item"}}},
        });
        assert_eq!(validate(&schema, &json!({"items": [1, 2]}))["valid"], true);
        let v = validate(&schema, &json!({"items": [1, "x"]}));
        assert_eq!(v["errors"][0]["path"], "/items/1");
        let defs = json!({"$defs": {"n": {"type": "null"}}, "anyOf": [{"$ref": "#/$defs/n"}, {"type": "string"}]});
        assert_eq!(validate(&defs, &json!(null))["valid"], true);
        assert_eq!(validate(&defs, &json!(3))["valid"], false);
    }

    #[test]
    fn a_remote_ref_is_never_fetched() {
        let schema = json!({"$ref": "https://example.com/schema.json"});
        assert!(validate(&schema, &json!(1))["schemaError"].is_string());
    }
}

//! The modern era (protocol revision 2026-07-28): no handshake, a `server/discover` probe, the
//! `_meta` every request carries, the `resultType` every result carries, and the HTTP headers a
//! request is routed by (`Mcp-Method`, `Mcp-Name`, `Mcp-Param-*` from a tool's `x-mcp-header`
//! parameters). Pure functions over JSON, so each rule is tested here without a server.

use std::collections::{BTreeMap, HashSet};

use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::version_list;
use crate::session::ConnectOptions;
use crate::wire::Outcome;

pub const MODERN_VERSION: &str = "2026-07-28";
pub(in crate::session) const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
const META_CLIENT: &str = "io.modelcontextprotocol/clientInfo";
const META_LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
const META_SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";

/// What `server/discover` told us, for the session object.
#[derive(Debug)]
pub(in crate::session) struct Discovered {
    /// The result as the server sent it (supportedVersions, capabilities, ttlMs, …).
    pub result: Value,
    pub server_info: Option<Value>,
    pub capabilities: Option<Value>,
    pub instructions: Option<Value>,
    pub warnings: Vec<String>,
}

/// Why a probe did not establish the modern era.
#[derive(Debug, PartialEq)]
pub(in crate::session) enum NotModern {
    /// The server speaks the modern era but not our version: its `supported` list.
    Unsupported { supported: Vec<String>, why: String },
    /// Anything else: an error, a result that is not a DiscoverResult.
    Other(String),
}

impl NotModern {
    pub(crate) fn message(&self) -> &str {
        match self {
            NotModern::Unsupported { why, .. } | NotModern::Other(why) => why,
        }
    }
}

/// Adds the modern keys to a request's `params._meta`. Keys the caller set win, so a user can
/// send a deliberately wrong version to see what the server does.
pub(in crate::session) fn with_meta(params: Option<Value>, options: &ConnectOptions) -> Value {
    let mut params = params.unwrap_or_else(|| json!({}));
    let Some(obj) = params.as_object_mut() else {
        return params;
    };
    let meta = obj.entry("_meta").or_insert_with(|| json!({}));
    let Some(meta) = meta.as_object_mut() else {
        return params;
    };
    meta.entry(META_VERSION)
        .or_insert_with(|| json!(MODERN_VERSION));
    meta.entry(META_CAPABILITIES)
        .or_insert_with(|| modern_capabilities(options));
    meta.entry(META_CLIENT).or_insert_with(super::client_info);
    if let Some(level) = &options.log_level {
        meta.entry(META_LOG_LEVEL).or_insert_with(|| json!(level));
    }
    params
}

/// The tasks extension, which mcpscope follows in the modern era.
pub(in crate::session) const TASKS_EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// The client capabilities a modern request declares: the session's, plus the tasks extension
/// unless the caller chose the `extensions` themselves, plus MCP Apps when hosted.
fn modern_capabilities(options: &ConnectOptions) -> Value {
    let mut caps = options.client_capabilities.clone();
    if let Some(obj) = caps.as_object_mut() {
        // Client-hosted tasks are 2025-11-25's; the tasks extension has none.
        obj.remove("tasks");
        obj.entry("extensions")
            .or_insert_with(|| json!({ TASKS_EXTENSION: {} }));
    }
    if options.apps {
        crate::apps::declare(&mut caps);
    }
    caps
}

/// Reads the answer to `server/discover`.
pub(in crate::session) fn interpret_discover(outcome: &Outcome) -> Result<Discovered, NotModern> {
    let result: Value = match outcome {
        Outcome::Error(e) => {
            let error: Value = serde_json::from_str(e.get()).unwrap_or(Value::Null);
            let supported = version_list(error.pointer("/data/supported"));
            if error.get("code") == Some(&json!(-32022)) && !supported.is_empty() {
                return Err(NotModern::Unsupported {
                    why: format!(
                        "the server does not support protocol version {MODERN_VERSION} (-32022); it supports {}",
                        supported.join(", ")
                    ),
                    supported,
                });
            }
            return Err(NotModern::Other(format!(
                "server/discover was refused: {}",
                e.get()
            )));
        }
        Outcome::Result(r) => serde_json::from_str(r.get()).unwrap_or(Value::Null),
    };
    if !result.get("supportedVersions").is_some_and(Value::is_array) {
        return Err(NotModern::Other(format!(
            "the server/discover result has no supportedVersions list: {result}"
        )));
    }
    let supported = version_list(result.get("supportedVersions"));
    if !supported.iter().any(|v| v == MODERN_VERSION) {
        return Err(NotModern::Unsupported {
            why: format!(
                "the server supports {}, not {MODERN_VERSION}",
                if supported.is_empty() {
                    "no protocol version".to_owned()
                } else {
                    supported.join(", ")
                }
            ),
            supported,
        });
    }
    let mut warnings = Vec::new();
    if !result.get("capabilities").is_some_and(Value::is_object) {
        warnings.push("server/discover result: capabilities must be an object".into());
    }
    // The spec puts serverInfo in the result's `_meta`; some servers put it in the body.
    let server_info = result
        .pointer(&format!("/_meta/{}", META_SERVER_INFO.replace('/', "~1")))
        .or_else(|| result.get("serverInfo"))
        .cloned();
    if server_info.is_none() {
        warnings.push(format!(
            "server/discover result: _meta[\"{META_SERVER_INFO}\"] is missing"
        ));
    } else if result.get("serverInfo").is_some() && result.get("_meta").is_none() {
        warnings.push(format!(
            "server/discover result: serverInfo belongs in _meta[\"{META_SERVER_INFO}\"], not the result body"
        ));
    }
    if let Some(w) = result_type_warning(result.get("resultType"), "server/discover") {
        warnings.push(w);
    }
    Ok(Discovered {
        capabilities: result.get("capabilities").cloned(),
        instructions: result.get("instructions").cloned(),
        server_info,
        result,
        warnings,
    })
}

/// What kind of result a modern answer is.
#[derive(Debug, PartialEq)]
pub(in crate::session) enum ResultKind {
    Complete,
    InputRequired,
    Task,
    /// A value we do not know: shown as a finding, passed on as it is.
    Unknown(String),
}

/// The kind of a result, from its `resultType` (absent means complete).
pub(in crate::session) fn result_kind(result_type: Option<&Value>) -> ResultKind {
    match result_type {
        None => ResultKind::Complete,
        Some(Value::String(s)) => match s.as_str() {
            "complete" => ResultKind::Complete,
            "input_required" => ResultKind::InputRequired,
            "task" => ResultKind::Task,
            other => ResultKind::Unknown(other.to_owned()),
        },
        Some(other) => ResultKind::Unknown(other.to_string()),
    }
}

/// A finding for a result whose `resultType` is missing (allowed: it means complete, but the
/// 2026-07-28 wire requires it) or not one we know.
pub(in crate::session) fn result_type_warning(
    result_type: Option<&Value>,
    method: &str,
) -> Option<String> {
    match result_kind(result_type) {
        ResultKind::Unknown(t) => Some(format!(
            "the {method} result has resultType {t}, which mcpscope does not know"
        )),
        _ if result_type.is_none() => Some(format!(
            "the {method} result has no resultType (read as \"complete\"; the 2026-07-28 wire requires it)"
        )),
        _ => None,
    }
}

/// The headers one request carries on modern Streamable HTTP, besides `MCP-Protocol-Version`.
pub(in crate::session) fn request_headers(
    method: &str,
    params: &Value,
    tool_headers: &BTreeMap<String, Vec<(String, String)>>,
) -> Vec<(String, String)> {
    let mut out = vec![("Mcp-Method".to_owned(), method.to_owned())];
    let key = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" => "uri",
        // The tasks extension routes its methods by task.
        "tasks/get" | "tasks/update" | "tasks/cancel" => "taskId",
        _ => return out,
    };
    let Some(name) = params.get(key).and_then(Value::as_str) else {
        return out;
    };
    out.push(("Mcp-Name".to_owned(), header_value(name)));
    if method == "tools/call"
        && let Some(params_headers) = tool_headers.get(name)
    {
        let args = params.get("arguments");
        for (param, header) in params_headers {
            let value = match args.and_then(|a| a.get(param)) {
                None | Some(Value::Null) => continue,
                Some(Value::String(s)) => header_value(s),
                Some(Value::Bool(b)) => b.to_string(),
                Some(Value::Number(n)) => n.to_string(),
                // Validation keeps non-primitive parameters out; a value of another type than
                // the schema says is still sent, as JSON, so the server's check can be seen.
                Some(other) => header_value(&other.to_string()),
            };
            out.push((format!("Mcp-Param-{header}"), value));
        }
    }
    out
}

/// A header value as the spec carries it: as it is when safe, else the base64 sentinel.
pub(in crate::session) fn header_value(s: &str) -> String {
    let unsafe_char = s.chars().any(|c| (c as u32) < 0x20 || (c as u32) > 0x7e);
    let padded = s.starts_with([' ', '\t']) || s.ends_with([' ', '\t']);
    if unsafe_char || padded {
        format!(
            "=?base64?{}?=",
            base64::engine::general_purpose::STANDARD.encode(s)
        )
    } else {
        s.to_owned()
    }
}

/// A tool's `x-mcp-header` parameters, or why the tool must be excluded (the spec: HTTP clients
/// MUST drop a tool whose annotations are invalid).
pub(in crate::session) fn tool_param_headers(
    tool: &Value,
) -> Result<Vec<(String, String)>, String> {
    let Some(props) = tool
        .pointer("/inputSchema/properties")
        .and_then(Value::as_object)
    else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for (param, schema) in props {
        let Some(header) = schema.get("x-mcp-header") else {
            continue;
        };
        let Some(header) = header.as_str() else {
            return Err(format!(
                "parameter {param:?}: x-mcp-header must be a string, not {header}"
            ));
        };
        if header.is_empty() {
            return Err(format!("parameter {param:?}: x-mcp-header is empty"));
        }
        if let Some(c) = header.chars().find(|c| !c.is_ascii_graphic() || *c == ':') {
            return Err(format!(
                "parameter {param:?}: x-mcp-header {header:?} has {c:?}, which a header name cannot carry"
            ));
        }
        if !seen.insert(header.to_ascii_lowercase()) {
            return Err(format!(
                "parameter {param:?}: x-mcp-header {header:?} is used twice (names are case-insensitive)"
            ));
        }
        if !primitive(schema) {
            return Err(format!(
                "parameter {param:?}: x-mcp-header is only allowed on string, integer or boolean parameters"
            ));
        }
        out.push((param.clone(), header.to_owned()));
    }
    Ok(out)
}

/// The types a header can carry exactly: `number` is left out on purpose (SEP-2243), since a
/// float has no single decimal spelling to compare.
fn primitive(schema: &Value) -> bool {
    let ok = |t: &str| matches!(t, "string" | "integer" | "boolean");
    match schema.get("type") {
        Some(Value::String(t)) => ok(t),
        Some(Value::Array(ts)) => {
            !ts.is_empty()
                && ts
                    .iter()
                    .all(|t| t.as_str().is_some_and(|t| ok(t) || t == "null"))
        }
        _ => false,
    }
}

/// The retry of a request after its input requests were answered: the original params, the
/// answers, and the server's `requestState` exactly as it came (absent when it was absent).
pub(in crate::session) fn retry_params(
    original: Option<&Value>,
    responses: Map<String, Value>,
    request_state: Option<&Value>,
) -> Value {
    let mut params = original.cloned().unwrap_or_else(|| json!({}));
    if let Some(obj) = params.as_object_mut() {
        obj.insert("inputResponses".into(), Value::Object(responses));
        match request_state {
            Some(state) => {
                obj.insert("requestState".into(), state.clone());
            }
            None => {
                obj.remove("requestState");
            }
        }
    }
    params
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;

    fn ok(v: Value) -> Outcome {
        Outcome::Result(RawValue::from_string(v.to_string()).unwrap())
    }

    #[test]
    fn a_host_of_apps_declares_the_extension_beside_tasks() {
        let options = ConnectOptions {
            apps: true,
            ..ConnectOptions::default()
        };
        let caps = modern_capabilities(&options);
        assert!(caps["extensions"][TASKS_EXTENSION].is_object(), "{caps}");
        assert_eq!(
            caps["extensions"][crate::apps::EXTENSION]["mimeTypes"][0],
            crate::apps::MIME_TYPE
        );
        assert!(caps.get("tasks").is_none());
        let caps = modern_capabilities(&ConnectOptions::default());
        assert!(caps["extensions"].get(crate::apps::EXTENSION).is_none());
    }

    #[test]
    fn meta_is_added_without_overriding_the_caller() {
        let options = ConnectOptions {
            log_level: Some("debug".into()),
            ..ConnectOptions::default()
        };
        let p = with_meta(
            Some(json!({"name": "t", "_meta": {META_VERSION: "1999-01-01", "progressToken": 1}})),
            &options,
        );
        assert_eq!(p["_meta"][META_VERSION], "1999-01-01");
        assert_eq!(p["_meta"]["progressToken"], 1);
        assert_eq!(p["_meta"][META_LOG_LEVEL], "debug");
        assert_eq!(p["_meta"][META_CLIENT]["name"], "mcpscope");
        assert!(p["_meta"][META_CAPABILITIES].is_object());
        let p = with_meta(None, &ConnectOptions::default());
        assert_eq!(p["_meta"][META_VERSION], MODERN_VERSION);
        assert!(p["_meta"].get(META_LOG_LEVEL).is_none());
    }

    #[test]
    fn discover_results_and_refusals() {
        let good = json!({"supportedVersions": ["2026-07-28"], "capabilities": {"tools": {}},
            "_meta": {META_SERVER_INFO: {"name": "s", "version": "1"}}, "resultType": "complete",
            "ttlMs": 0, "cacheScope": "private"});
        let d = interpret_discover(&ok(good)).unwrap();
        assert!(d.warnings.is_empty(), "{:?}", d.warnings);
        assert_eq!(d.server_info.unwrap()["name"], "s");

        let body_info = json!({"supportedVersions": ["2026-07-28"], "capabilities": {},
            "serverInfo": {"name": "t"}, "resultType": "complete"});
        let d = interpret_discover(&ok(body_info)).unwrap();
        assert_eq!(d.server_info.unwrap()["name"], "t");
        assert_eq!(d.warnings.len(), 1);

        let old = interpret_discover(&ok(json!({"supportedVersions": ["2027-01-01"]})));
        assert!(matches!(old, Err(NotModern::Unsupported { .. })));
        assert!(matches!(
            interpret_discover(&ok(json!({}))),
            Err(NotModern::Other(_))
        ));
        let e = Outcome::Error(
            RawValue::from_string(
                r#"{"code":-32022,"message":"no","data":{"supported":["2026-07-28"],"requested":"x"}}"#
                    .into(),
            )
            .unwrap(),
        );
        assert_eq!(
            interpret_discover(&e).err(),
            Some(NotModern::Unsupported {
                supported: vec!["2026-07-28".into()],
                why: "the server does not support protocol version 2026-07-28 (-32022); it supports 2026-07-28".into()
            })
        );
        let e = Outcome::Error(
            RawValue::from_string(r#"{"code":-32601,"message":"nope"}"#.into()).unwrap(),
        );
        assert!(matches!(interpret_discover(&e), Err(NotModern::Other(_))));
    }

    #[test]
    fn result_types() {
        assert_eq!(result_kind(None), ResultKind::Complete);
        assert_eq!(
            result_kind(Some(&json!("input_required"))),
            ResultKind::InputRequired
        );
        assert_eq!(
            result_kind(Some(&json!("weird"))),
            ResultKind::Unknown("weird".into())
        );
        assert!(result_type_warning(None, "tools/call").is_some());
        assert!(result_type_warning(Some(&json!("complete")), "x").is_none());
    }

    #[test]
    fn header_values_use_the_base64_sentinel_only_when_needed() {
        assert_eq!(header_value("us west 1"), "us west 1");
        assert_eq!(header_value(""), "");
        assert_eq!(
            header_value("Hello, 世界"),
            "=?base64?SGVsbG8sIOS4lueVjA==?="
        );
        assert!(header_value(" padded ").starts_with("=?base64?"));
        assert!(header_value("line1\nline2").starts_with("=?base64?"));
        assert!(header_value("\tx").starts_with("=?base64?"));
    }

    #[test]
    fn standard_and_parameter_headers() {
        let tool = json!({"name": "t", "inputSchema": {"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "n": {"type": "integer", "x-mcp-header": "Priority"},
            "v": {"type": "boolean", "x-mcp-header": "Verbose"},
            "q": {"type": "string"}}}});
        let mut map = BTreeMap::new();
        map.insert("t".to_owned(), tool_param_headers(&tool).unwrap());
        let params =
            json!({"name": "t", "arguments": {"region": " x", "n": 42, "v": null, "q": "s"}});
        let h = request_headers("tools/call", &params, &map);
        let get = |k: &str| h.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("Mcp-Method"), Some("tools/call"));
        assert_eq!(get("Mcp-Name"), Some("t"));
        assert!(get("Mcp-Param-Region").unwrap().starts_with("=?base64?"));
        assert_eq!(get("Mcp-Param-Priority"), Some("42"));
        assert_eq!(get("Mcp-Param-Verbose"), None, "null is omitted");
        assert_eq!(h.len(), 4);
        let h = request_headers("resources/read", &json!({"uri": "file:///a%20b"}), &map);
        assert_eq!(h[1], ("Mcp-Name".to_owned(), "file:///a%20b".to_owned()));
        assert_eq!(request_headers("tools/list", &json!({}), &map).len(), 1);
    }

    #[test]
    fn invalid_x_mcp_headers_exclude_the_tool() {
        let with = |prop: Value| json!({"inputSchema": {"type": "object", "properties": prop}});
        for bad in [
            json!({"a": {"type": "string", "x-mcp-header": ""}}),
            json!({"a": {"type": "object", "x-mcp-header": "A"}}),
            json!({"a": {"type": "array", "x-mcp-header": "A"}}),
            json!({"a": {"type": "number", "x-mcp-header": "A"}}),
            json!({"a": {"type": "null", "x-mcp-header": "A"}}),
            json!({"a": {"type": "string", "x-mcp-header": null}}),
            json!({"a": {"type": "string", "x-mcp-header": 5}}),
            json!({"a": {"type": "string", "x-mcp-header": "R"}, "b": {"type": "string", "x-mcp-header": "R"}}),
            json!({"a": {"type": "string", "x-mcp-header": "F"}, "b": {"type": "string", "x-mcp-header": "f"}}),
            json!({"a": {"type": "string", "x-mcp-header": "My Region"}}),
            json!({"a": {"type": "string", "x-mcp-header": "Region:Primary"}}),
            json!({"a": {"type": "string", "x-mcp-header": "Région"}}),
            json!({"a": {"type": "string", "x-mcp-header": "Region\t1"}}),
        ] {
            assert!(tool_param_headers(&with(bad.clone())).is_err(), "{bad}");
        }
        assert_eq!(
            tool_param_headers(&with(
                json!({"a": {"type": "string", "x-mcp-header": "Region"}})
            ))
            .unwrap(),
            vec![("a".to_owned(), "Region".to_owned())]
        );
    }

    #[test]
    fn a_retry_keeps_the_params_and_echoes_the_state_untouched() {
        let original = json!({"name": "t", "arguments": {"x": 1}, "requestState": "stale"});
        let mut answers = Map::new();
        answers.insert("confirm".into(), json!({"action": "accept"}));
        let p = retry_params(Some(&original), answers.clone(), Some(&json!("s1")));
        assert_eq!(p["requestState"], "s1");
        assert_eq!(p["arguments"]["x"], 1);
        assert_eq!(p["inputResponses"]["confirm"]["action"], "accept");
        let p = retry_params(Some(&original), answers, None);
        assert!(p.get("requestState").is_none());
    }
}

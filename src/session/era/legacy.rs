//! The legacy-era handshake (protocol revisions 2024-11-05 … 2025-11-25): the `initialize`
//! request we send and how we read its answer. Kept apart from the session loop so the modern era
//! (2026-07-28: `server/discover`, per-request `_meta`, no handshake) can be added beside it.

use serde_json::{Value, json};

use crate::session::ConnectOptions;
use crate::wire::Outcome;

pub const DEFAULT_PROTOCOL_VERSION: &str = "2025-11-25";
pub const KNOWN_PROTOCOL_VERSIONS: &[&str] =
    &["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// What a successful handshake established.
#[derive(Debug)]
pub(in crate::session) struct Established {
    pub protocol_version: String,
    pub server_info: Option<Value>,
    pub capabilities: Option<Value>,
    pub instructions: Option<Value>,
    /// Oddities worth a finding that do not stop the session.
    pub warnings: Vec<String>,
}

pub(in crate::session) fn initialize_params(options: &ConnectOptions) -> Value {
    json!({
        "protocolVersion": options.protocol_version,
        "capabilities": options.capabilities(),
        "clientInfo": super::client_info(),
    })
}

/// Reads the `initialize` answer. An error answer or a result without a protocol version fails
/// the connection; anything merely unusual becomes a warning, because a debugger should stay
/// connected to a server that is slightly wrong.
pub(in crate::session) fn interpret(
    outcome: &Outcome,
    options: &ConnectOptions,
) -> Result<Established, String> {
    let result: Value = match outcome {
        Outcome::Error(e) => {
            let error: Value = serde_json::from_str(e.get()).unwrap_or(Value::Null);
            let supported = super::version_list(error.pointer("/data/supported"));
            // A modern-only server: say which era would work, not just that it failed.
            if !supported.is_empty()
                && supported
                    .iter()
                    .all(|v| !KNOWN_PROTOCOL_VERSIONS.contains(&v.as_str()))
            {
                return Err(format!(
                    "the server refused initialize: it supports only {} (connect with protocol era modern or auto): {}",
                    supported.join(", "),
                    e.get()
                ));
            }
            return Err(format!("the server refused initialize: {}", e.get()));
        }
        Outcome::Result(r) => serde_json::from_str(r.get()).unwrap_or(Value::Null),
    };
    let Some(version) = result.get("protocolVersion").and_then(Value::as_str) else {
        return Err(format!(
            "the initialize result has no protocolVersion string: {result}"
        ));
    };
    let mut warnings = Vec::new();
    if !KNOWN_PROTOCOL_VERSIONS.contains(&version) {
        warnings.push(format!(
            "the server chose protocol version {version}, which mcpscope does not know (known: {})",
            KNOWN_PROTOCOL_VERSIONS.join(", ")
        ));
    } else if version != options.protocol_version {
        warnings.push(format!(
            "the server answered protocol version {version} to our {}; continuing with {version}",
            options.protocol_version
        ));
    }
    match result.get("serverInfo") {
        Some(info) if info.get("name").is_some_and(Value::is_string) => {}
        _ => warnings.push("initialize result: serverInfo.name is missing".into()),
    }
    if !result.get("capabilities").is_some_and(Value::is_object) {
        warnings.push("initialize result: capabilities must be an object".into());
    }
    Ok(Established {
        protocol_version: version.to_owned(),
        server_info: result.get("serverInfo").cloned(),
        capabilities: result.get("capabilities").cloned(),
        instructions: result.get("instructions").cloned(),
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;

    fn ok(text: &str) -> Outcome {
        Outcome::Result(RawValue::from_string(text.into()).unwrap())
    }

    #[test]
    fn a_plain_answer_connects_without_warnings() {
        let e = interpret(
            &ok(r#"{"protocolVersion":"2025-11-25","capabilities":{"tools":{}},"serverInfo":{"name":"s","version":""}}"#),
            &ConnectOptions::default(),
        )
        .unwrap();
        assert_eq!(e.protocol_version, "2025-11-25");
        assert!(e.warnings.is_empty());
    }

    #[test]
    fn a_downgrade_is_a_warning_and_an_error_fails() {
        let e = interpret(
            &ok(r#"{"protocolVersion":"2024-11-05","capabilities":{},"serverInfo":{"name":"s"}}"#),
            &ConnectOptions::default(),
        )
        .unwrap();
        assert_eq!(e.warnings.len(), 1);
        let err = Outcome::Error(
            RawValue::from_string(r#"{"code":-32602,"message":"bad"}"#.into()).unwrap(),
        );
        assert!(interpret(&err, &ConnectOptions::default()).is_err());
        assert!(interpret(&ok("{}"), &ConnectOptions::default()).is_err());
    }
}

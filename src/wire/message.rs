//! What every reader of a JSON-RPC line checks, whoever wrote the line: the text (UTF-8, empty,
//! not JSON), batches, and each message object's shape (`jsonrpc`, method, id and params types,
//! result or error, the error object), read into a frame event and findings. The engine pairs
//! what this reads with our requests, the observer with either peer's, the mock answers it.

use serde::{Deserialize, Deserializer};
use serde_json::{Value, value::RawValue};

use super::Outcome;
use crate::events::{Direction, FrameEvent, FrameType, Severity};

/// The fields of a JSON-RPC message, each kept as raw text. A field that is present with the
/// value `null` is `Some("null")`, unlike a plain `Option`, because `"id": null` and a missing id
/// mean different things.
#[derive(Deserialize)]
pub(super) struct Envelope {
    #[serde(default, deserialize_with = "present")]
    pub(super) jsonrpc: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "present")]
    pub(super) id: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "present")]
    pub(super) method: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "present")]
    pub(super) params: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "present")]
    pub(super) result: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "present")]
    pub(super) error: Option<Box<RawValue>>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(d).map(Some)
}

/// Reads one line either peer sent (without its line terminator) into its frame event and the
/// findings any reader makes: the text, UTF-8, JSON, batches; each message object it holds is
/// handed to `each` for the checks and pairing of the reader's side.
pub(crate) fn read_line(
    line: &[u8],
    batches_allowed: bool,
    mut each: impl FnMut(&RawValue, &mut FrameEvent, &mut Vec<(Severity, String)>),
) -> (FrameEvent, Vec<(Severity, String)>) {
    let mut findings = Vec::new();
    let text = match std::str::from_utf8(line) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(e) => {
            findings.push((
                Severity::Error,
                format!(
                    "invalid UTF-8 at byte {}: MCP frames must be UTF-8; shown and processed with U+FFFD replacements",
                    e.valid_up_to()
                ),
            ));
            String::from_utf8_lossy(line)
        }
    };
    let mut frame = FrameEvent {
        bytes: line.len(),
        ..frame_stub()
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        frame.raw = Some(text.into_owned());
        findings.push((
            Severity::Warning,
            "empty line on stdout: only JSON-RPC messages may be written there".into(),
        ));
        return (frame, findings);
    }
    let whole: Box<RawValue> = match serde_json::from_str(trimmed) {
        Ok(v) => v,
        Err(e) => {
            frame.raw = Some(text.into_owned());
            findings.push((
                Severity::Error,
                format!(
                    "not JSON ({e}): stdout must carry only JSON-RPC messages (logs belong on stderr)"
                ),
            ));
            return (frame, findings);
        }
    };
    if trimmed.starts_with('[') {
        frame.frame_type = FrameType::Batch;
        if !batches_allowed {
            findings.push((
                Severity::Warning,
                "JSON-RPC batch: batches exist only in protocol 2025-03-26".into(),
            ));
        }
        match serde_json::from_str::<Vec<Box<RawValue>>>(whole.get()) {
            Ok(items) if !items.is_empty() => {
                for item in items {
                    let mut inner = frame_stub();
                    each(&item, &mut inner, &mut findings);
                }
            }
            _ => findings.push((Severity::Error, "empty JSON-RPC batch".into())),
        }
    } else {
        each(&whole, &mut frame, &mut findings);
    }
    frame.message = Some(whole);
    (frame, findings)
}

/// What one JSON-RPC message object is, after the checks every reader makes of it: a request
/// (with an id) or a notification, or an answer with its id.
pub enum Parsed {
    Call {
        id: Option<Value>,
        method: String,
        params: Option<Value>,
    },
    Answer {
        id: Value,
        outcome: Outcome,
    },
}

/// Reads one message object into `frame` (type, method, id) and the findings about its shape,
/// whoever sent it; pairing answers with requests is the reader's own.
pub(crate) fn parse_message(
    raw: &RawValue,
    frame: &mut FrameEvent,
    findings: &mut Vec<(Severity, String)>,
) -> Option<Parsed> {
    let env: Envelope = match serde_json::from_str(raw.get()) {
        Ok(e) => e,
        Err(e) => {
            findings.push((
                Severity::Error,
                format!("not a JSON-RPC message object: {e}"),
            ));
            return None;
        }
    };
    match env.jsonrpc.as_deref().map(RawValue::get) {
        Some(r#""2.0""#) => {}
        Some(other) => findings.push((
            Severity::Warning,
            format!(r#""jsonrpc" is {other}, expected "2.0""#),
        )),
        None => findings.push((Severity::Warning, r#""jsonrpc": "2.0" is missing"#.into())),
    }
    let id: Option<Value> = env
        .id
        .as_deref()
        .and_then(|r| serde_json::from_str(r.get()).ok());
    frame.id = id.clone();

    if let Some(method_raw) = &env.method {
        let Ok(method) = serde_json::from_str::<String>(method_raw.get()) else {
            findings.push((Severity::Error, "\"method\" is not a string".into()));
            return None;
        };
        frame.method = Some(method.clone());
        if env.result.is_some() || env.error.is_some() {
            findings.push((
                Severity::Error,
                "message has both \"method\" and \"result\"/\"error\"".into(),
            ));
        }
        let params = match env
            .params
            .as_deref()
            .map(|p| serde_json::from_str::<Value>(p.get()))
        {
            None => None,
            Some(Ok(v)) => {
                if !(v.is_object() || v.is_array()) {
                    findings.push((
                        Severity::Warning,
                        "\"params\" must be an object or an array".into(),
                    ));
                }
                Some(v)
            }
            Some(Err(_)) => None,
        };
        match id {
            Some(id) => {
                frame.frame_type = FrameType::Request;
                if !(id.is_string() || id.is_i64() || id.is_u64()) {
                    findings.push((
                        Severity::Error,
                        format!("request id {id} must be a string or an integer"),
                    ));
                }
                return Some(Parsed::Call {
                    id: Some(id),
                    method,
                    params,
                });
            }
            None => {
                frame.frame_type = FrameType::Notification;
                if env.id.is_some() {
                    findings.push((Severity::Error, "request id must not be null".into()));
                }
                return Some(Parsed::Call {
                    id: None,
                    method,
                    params,
                });
            }
        }
    }

    let outcome = match (env.result, env.error) {
        (Some(r), None) => {
            frame.frame_type = FrameType::Response;
            Outcome::Result(r)
        }
        (None, Some(e)) => {
            frame.frame_type = FrameType::Error;
            check_error_object(&e, findings);
            Outcome::Error(e)
        }
        (Some(r), Some(_)) => {
            frame.frame_type = FrameType::Response;
            findings.push((
                Severity::Error,
                "response has both \"result\" and \"error\"; using \"result\"".into(),
            ));
            Outcome::Result(r)
        }
        (None, None) => {
            findings.push((
                Severity::Error,
                "neither a request, a notification nor a response (no method, result or error)"
                    .into(),
            ));
            return None;
        }
    };
    let Some(id) = id else {
        findings.push((
            Severity::Error,
            "response without an id (or with id null): it cannot be matched to a request".into(),
        ));
        return None;
    };
    Some(Parsed::Answer { id, outcome })
}

/// The messages one line holds (each of a batch's), read with the checks every reader makes:
/// for our own server's side (the mock), which answers what a client asks.
pub fn messages(line: &[u8]) -> Vec<Parsed> {
    let mut out = Vec::new();
    read_line(line, true, |raw, frame, findings| {
        if let Some(parsed) = parse_message(raw, frame, findings) {
            out.push(parsed);
        }
    });
    out
}

/// A received frame with nothing known about it yet.
fn frame_stub() -> FrameEvent {
    FrameEvent {
        direction: Direction::Received,
        message: None,
        raw: None,
        method: None,
        id: None,
        frame_type: FrameType::Invalid,
        duration_ms: None,
        request_method: None,
        late: None,
        answered_by: None,
        bytes: 0,
    }
}

fn check_error_object(e: &RawValue, findings: &mut Vec<(Severity, String)>) {
    let ok = serde_json::from_str::<Value>(e.get()).is_ok_and(|v| {
        v.get("code").is_some_and(|c| c.is_i64()) && v.get("message").is_some_and(Value::is_string)
    });
    if !ok {
        findings.push((
            Severity::Warning,
            "error object must have an integer \"code\" and a string \"message\"".into(),
        ));
    }
}

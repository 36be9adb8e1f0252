//! What every reader of a JSON-RPC line checks, whoever wrote the line: the text (UTF-8, empty,
//! not JSON), batches, and each message object's shape (`jsonrpc`, method, id and params types,
//! result or error, the error object), read into a frame event and findings. The engine pairs
//! what this reads with our requests, the observer with either peer's, the mock answers it.

use serde::{Deserialize, Deserializer};
use serde_json::{Value, value::RawValue};

use super::Outcome;
use crate::events::{Direction, FrameEvent, FrameType, Severity};

/// The fields of a JSON-RPC message, each its raw text where it lies in the message (nothing is
/// copied until it is kept). A field that is present with the value `null` is `Some("null")`,
/// unlike a plain `Option`, because `"id": null` and a missing id mean different things.
#[derive(Deserialize)]
pub(super) struct Envelope<'a> {
    #[serde(default, borrow, deserialize_with = "present")]
    pub(super) jsonrpc: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub(super) id: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub(super) method: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub(super) params: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub(super) result: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    pub(super) error: Option<&'a RawValue>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// Lines shorter than this are parsed once into a copy; longer ones are kept without one.
const SMALL_LINE: usize = 64 * 1024;

/// Where an answer's outcome lies in its message (byte offsets), when it was left there.
pub type Within = std::ops::Range<usize>;

/// Reads one line either peer sent (without its line terminator) into its frame event and the
/// findings any reader makes: the text, UTF-8, JSON, batches; each message object it holds is
/// handed to `each` for the checks and pairing of the reader's side.
///
/// The line is taken by value: a valid line becomes the frame's message without a copy (a
/// 100 MB answer is held once here, not twice).
/// `each` is told whether the object is the whole line (not an item of a batch).
pub(crate) fn read_line(
    line: impl Into<Vec<u8>>,
    batches_allowed: bool,
    mut each: impl FnMut(&RawValue, bool, &mut FrameEvent, &mut Vec<(Severity, String)>),
) -> (FrameEvent, Vec<(Severity, String)>) {
    let line: Vec<u8> = line.into();
    let mut findings = Vec::new();
    let mut frame = FrameEvent {
        bytes: line.len(),
        ..frame_stub()
    };
    let text = match String::from_utf8(line) {
        Ok(s) => s,
        Err(e) => {
            findings.push((
                Severity::Error,
                format!(
                    "invalid UTF-8 at byte {}: MCP frames must be UTF-8; shown and processed with U+FFFD replacements",
                    e.utf8_error().valid_up_to()
                ),
            ));
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }
    };
    let trimmed = text.trim();
    if trimmed.is_empty() {
        frame.raw = Some(text);
        findings.push((
            Severity::Warning,
            "empty line on stdout: only JSON-RPC messages may be written there".into(),
        ));
        return (frame, findings);
    }
    let batch = trimmed.starts_with('[');
    // A line that is not JSON stays to be shown. A small line is parsed once, into a copy (the
    // relay's common case: two parses of each answer were ~3% of its instructions); a big one
    // is checked borrowed first, then becomes the message without a copy.
    let not_json = |e: serde_json::Error, text: String, frame: &mut FrameEvent| {
        frame.raw = Some(text);
        (
            Severity::Error,
            format!(
                "not JSON ({e}): stdout must carry only JSON-RPC messages (logs belong on stderr)"
            ),
        )
    };
    let whole = if text.len() < SMALL_LINE {
        match serde_json::from_str::<Box<RawValue>>(trimmed) {
            Ok(whole) => whole,
            Err(e) => {
                findings.push(not_json(e, text, &mut frame));
                return (frame, findings);
            }
        }
    } else {
        if let Err(e) = serde_json::from_str::<&RawValue>(trimmed) {
            findings.push(not_json(e, text, &mut frame));
            return (frame, findings);
        }
        let owned = if trimmed.len() == text.len() {
            text
        } else {
            trimmed.to_owned()
        };
        match RawValue::from_string(owned) {
            Ok(whole) => whole,
            Err(e) => {
                findings.push((Severity::Error, format!("not JSON ({e})")));
                return (frame, findings);
            }
        }
    };
    if batch {
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
                    each(&item, false, &mut inner, &mut findings);
                }
            }
            _ => findings.push((Severity::Error, "empty JSON-RPC batch".into())),
        }
    } else {
        each(&whole, true, &mut frame, &mut findings);
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
    parse_leaving(raw, frame, findings, usize::MAX).map(|(parsed, _)| parsed)
}

/// [`parse_message`], where an answer's outcome longer than `leave_above` bytes is left in the
/// message (`Within`; the outcome is then `null` until its reader takes it from there), so that
/// a big answer is not copied while the message that holds it is still alive.
pub(crate) fn parse_leaving(
    raw: &RawValue,
    frame: &mut FrameEvent,
    findings: &mut Vec<(Severity, String)>,
    leave_above: usize,
) -> Option<(Parsed, Option<Within>)> {
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
    match env.jsonrpc.map(RawValue::get) {
        Some(r#""2.0""#) => {}
        Some(other) => findings.push((
            Severity::Warning,
            format!(r#""jsonrpc" is {other}, expected "2.0""#),
        )),
        None => findings.push((Severity::Warning, r#""jsonrpc": "2.0" is missing"#.into())),
    }
    let id: Option<Value> = env.id.and_then(|r| serde_json::from_str(r.get()).ok());
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
        let params = match env.params.map(|p| serde_json::from_str::<Value>(p.get())) {
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
                return Some((
                    Parsed::Call {
                        id: Some(id),
                        method,
                        params,
                    },
                    None,
                ));
            }
            None => {
                frame.frame_type = FrameType::Notification;
                if env.id.is_some() {
                    findings.push((Severity::Error, "request id must not be null".into()));
                }
                return Some((
                    Parsed::Call {
                        id: None,
                        method,
                        params,
                    },
                    None,
                ));
            }
        }
    }

    let (error, text) = match (env.result, env.error) {
        (Some(r), None) => {
            frame.frame_type = FrameType::Response;
            (false, r)
        }
        (None, Some(e)) => {
            frame.frame_type = FrameType::Error;
            check_error_object(e, findings);
            (true, e)
        }
        (Some(r), Some(_)) => {
            frame.frame_type = FrameType::Response;
            findings.push((
                Severity::Error,
                "response has both \"result\" and \"error\"; using \"result\"".into(),
            ));
            (false, r)
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
    let (kept, within) = if text.get().len() > leave_above {
        // Its place in the message: both are slices of the same text.
        let start = text.get().as_ptr() as usize - raw.get().as_ptr() as usize;
        let null = RawValue::from_string("null".into()).expect("null is JSON");
        (null, Some(start..start + text.get().len()))
    } else {
        (text.to_owned(), None)
    };
    let outcome = if error {
        Outcome::Error(kept)
    } else {
        Outcome::Result(kept)
    };
    Some((Parsed::Answer { id, outcome }, within))
}

/// The messages one line holds (each of a batch's), read with the checks every reader makes:
/// for our own server's side (the mock), which answers what a client asks.
pub fn messages(line: &[u8]) -> Vec<Parsed> {
    let mut out = Vec::new();
    read_line(line, true, |raw, _, frame, findings| {
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

//! The JSON-RPC engine. No I/O: text in, classified messages and findings out; our requests out
//! as text. It owns our request-id space (integers we allocate) and keeps it apart from the
//! server's (echoed back verbatim, whatever their type), matches responses in any order, tracks
//! deadlines, and remembers recently finished ids so that duplicate and late answers are named
//! for what they are.
//!
//! Nothing a server sends can make it panic or lose a frame: every line yields a [`FrameEvent`]
//! (the exact text, embedded verbatim when it is JSON) plus zero or more findings.

use std::{
    collections::{HashMap, VecDeque},
    time::{Duration, Instant},
};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Value, value::RawValue};

use crate::events::{Direction, FrameEvent, Severity};

/// How many finished request ids we remember for duplicate / late detection.
const FINISHED_MEMORY: usize = 4096;

/// One request of ours that waits for an answer. `T` is whatever the caller needs to deliver the
/// outcome (a oneshot sender, usually); the engine never looks inside it.
#[derive(Debug)]
pub struct Outstanding<T> {
    pub method: String,
    pub sent_at: Instant,
    pub deadline: Option<Instant>,
    pub timeout: Option<Timeout>,
    pub progress_token: Option<Value>,
    pub tag: T,
}

/// One request's time limit: `idle` without an answer or progress, never past `max_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeout {
    pub idle: Duration,
    pub max_total: Duration,
}

impl Timeout {
    /// A limit that progress does not extend.
    pub fn fixed(d: Duration) -> Self {
        Timeout {
            idle: d,
            max_total: d,
        }
    }
}

impl<T> Outstanding<T> {
    /// Whether the deadline is the hard maximum rather than the idle limit.
    pub fn at_hard_maximum(&self) -> bool {
        match (self.deadline, self.timeout) {
            (Some(d), Some(t)) => d >= self.sent_at + t.max_total,
            _ => false,
        }
    }
}

/// How a request of ours ended without a normal answer; kept to explain late frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Finish {
    Answered,
    TimedOut,
    Cancelled,
    Failed,
}

/// The server's answer to one of our requests, as raw JSON (never re-serialised).
#[derive(Debug)]
pub enum Outcome {
    Result(Box<RawValue>),
    Error(Box<RawValue>),
}

/// One JSON-RPC message from the server, classified.
#[derive(Debug)]
pub enum Inbound<T> {
    Response {
        id: i64,
        outcome: Outcome,
        request: Outstanding<T>,
    },
    /// A server→client request; `id` must be echoed back exactly.
    Request {
        id: Value,
        method: String,
        params: Option<Value>,
    },
    Notification {
        method: String,
        params: Option<Value>,
    },
}

/// Everything one inbound line produced.
#[derive(Debug)]
pub struct Received<T> {
    pub frame: FrameEvent,
    pub findings: Vec<(Severity, String)>,
    pub messages: Vec<Inbound<T>>,
}

/// The fields of a JSON-RPC message, each kept as raw text. A field that is present with the
/// value `null` is `Some("null")`, unlike a plain `Option`, because `"id": null` and a missing id
/// mean different things.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default, deserialize_with = "present")]
    jsonrpc: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "present")]
    id: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "present")]
    method: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "present")]
    params: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "present")]
    result: Option<Box<RawValue>>,
    #[serde(default, deserialize_with = "present")]
    error: Option<Box<RawValue>>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(d).map(Some)
}

#[derive(Debug)]
pub struct Engine<T> {
    next_id: i64,
    pending: HashMap<i64, Outstanding<T>>,
    finished: HashMap<i64, Finish>,
    finished_order: VecDeque<i64>,
    /// JSON-RPC batches exist only in protocol 2025-03-26.
    pub batches_allowed: bool,
    /// Deadlines are held (the user is authorizing in a browser): nothing expires meanwhile.
    held: bool,
}

impl<T> Default for Engine<T> {
    fn default() -> Self {
        Engine {
            next_id: 1,
            pending: HashMap::new(),
            finished: HashMap::new(),
            finished_order: VecDeque::new(),
            batches_allowed: false,
            held: false,
        }
    }
}

impl<T> Engine<T> {
    /// The id the next request will get.
    pub fn peek_id(&self) -> i64 {
        self.next_id
    }

    /// Allocates an id, registers the request and returns `(id, frame text)`.
    pub fn start_request(
        &mut self,
        method: &str,
        params: Option<&Value>,
        timeout: Option<Timeout>,
        progress_token: Option<Value>,
        tag: T,
    ) -> (i64, String) {
        let id = self.next_id;
        self.next_id += 1;
        let now = Instant::now();
        self.pending.insert(
            id,
            Outstanding {
                method: method.to_owned(),
                sent_at: now,
                deadline: timeout.map(|t| now + t.idle.min(t.max_total)),
                timeout,
                progress_token,
                tag,
            },
        );
        (id, request_text(id, method, params))
    }

    /// The earliest deadline among waiting requests; none while deadlines are held.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.held {
            return None;
        }
        self.pending.values().filter_map(|o| o.deadline).min()
    }

    /// Holds every deadline while the user does something only they can (authorize in a
    /// browser), so a request waiting on them does not time out.
    pub fn hold_deadlines(&mut self) {
        self.held = true;
    }

    /// Ends a hold: every waiting request's clock starts again from now, since the time the
    /// user took says nothing about the server.
    pub fn release_deadlines(&mut self, now: Instant) {
        if !std::mem::take(&mut self.held) {
            return;
        }
        for o in self.pending.values_mut() {
            o.sent_at = now;
            o.deadline = o.timeout.map(|t| now + t.idle.min(t.max_total));
        }
    }

    /// Removes and returns every request whose deadline has passed.
    pub fn expire(&mut self, now: Instant) -> Vec<(i64, Outstanding<T>)> {
        if self.held {
            return Vec::new();
        }
        let ids: Vec<i64> = self
            .pending
            .iter()
            .filter(|(_, o)| o.deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        ids.into_iter()
            .filter_map(|id| self.finish(id, Finish::TimedOut).map(|o| (id, o)))
            .collect()
    }

    /// The caller gave up on `id`; a later answer will be marked as arriving after cancel.
    pub fn cancel(&mut self, id: i64) -> Option<Outstanding<T>> {
        self.finish(id, Finish::Cancelled)
    }

    /// One request could not be delivered; a later answer to it is still named.
    pub fn fail(&mut self, id: i64) -> Option<Outstanding<T>> {
        self.finish(id, Finish::Failed)
    }

    /// The transport is gone: every waiting request fails.
    pub fn fail_all(&mut self) -> Vec<(i64, Outstanding<T>)> {
        let ids: Vec<i64> = self.pending.keys().copied().collect();
        ids.into_iter()
            .filter_map(|id| self.finish(id, Finish::Failed).map(|o| (id, o)))
            .collect()
    }

    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// Progress arrived for `id`: its idle limit starts again, up to the hard maximum.
    pub fn touch(&mut self, id: i64, now: Instant) {
        if let Some(o) = self.pending.get_mut(&id)
            && let Some(t) = o.timeout
        {
            o.deadline = Some((now + t.idle).min(o.sent_at + t.max_total));
        }
    }

    /// Requests still waiting, in id order.
    pub fn outstanding(&self) -> Vec<(i64, &Outstanding<T>)> {
        let mut list: Vec<_> = self.pending.iter().map(|(id, o)| (*id, o)).collect();
        list.sort_by_key(|(id, _)| *id);
        list
    }

    /// Which of our requests a progress token belongs to.
    pub fn request_for_progress(&self, token: &Value) -> Option<i64> {
        self.pending
            .iter()
            .find(|(_, o)| o.progress_token.as_ref() == Some(token))
            .map(|(id, _)| *id)
    }

    fn finish(&mut self, id: i64, how: Finish) -> Option<Outstanding<T>> {
        let out = self.pending.remove(&id)?;
        self.finished.insert(id, how);
        self.finished_order.push_back(id);
        if self.finished_order.len() > FINISHED_MEMORY
            && let Some(old) = self.finished_order.pop_front()
        {
            self.finished.remove(&old);
        }
        Some(out)
    }

    /// Classifies one line the server sent (without its line terminator).
    pub fn receive(&mut self, line: &[u8]) -> Received<T> {
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
        let mut messages = Vec::new();
        let trimmed = text.trim();
        if trimmed.is_empty() {
            frame.raw = Some(text.into_owned());
            findings.push((
                Severity::Warning,
                "empty line on stdout: only JSON-RPC messages may be written there".into(),
            ));
            return Received {
                frame,
                findings,
                messages,
            };
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
                return Received {
                    frame,
                    findings,
                    messages,
                };
            }
        };
        if trimmed.starts_with('[') {
            frame.frame_type = "batch";
            if !self.batches_allowed {
                findings.push((
                    Severity::Warning,
                    "JSON-RPC batch: batches exist only in protocol 2025-03-26".into(),
                ));
            }
            match serde_json::from_str::<Vec<Box<RawValue>>>(whole.get()) {
                Ok(items) if !items.is_empty() => {
                    for item in items {
                        let mut inner = frame_stub();
                        self.classify(&item, &mut inner, &mut findings, &mut messages);
                    }
                }
                _ => findings.push((Severity::Error, "empty JSON-RPC batch".into())),
            }
        } else {
            self.classify(&whole, &mut frame, &mut findings, &mut messages);
        }
        frame.message = Some(whole);
        Received {
            frame,
            findings,
            messages,
        }
    }

    fn classify(
        &mut self,
        raw: &RawValue,
        frame: &mut FrameEvent,
        findings: &mut Vec<(Severity, String)>,
        messages: &mut Vec<Inbound<T>>,
    ) {
        let env: Envelope = match serde_json::from_str(raw.get()) {
            Ok(e) => e,
            Err(e) => {
                findings.push((
                    Severity::Error,
                    format!("not a JSON-RPC message object: {e}"),
                ));
                return;
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
                return;
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
                    frame.frame_type = "request";
                    if !(id.is_string() || id.is_i64() || id.is_u64()) {
                        findings.push((
                            Severity::Error,
                            format!("request id {id} must be a string or an integer"),
                        ));
                    }
                    messages.push(Inbound::Request { id, method, params });
                }
                None => {
                    frame.frame_type = "notification";
                    if env.id.is_some() {
                        findings.push((Severity::Error, "request id must not be null".into()));
                    }
                    messages.push(Inbound::Notification { method, params });
                }
            }
            return;
        }

        let outcome = match (env.result, env.error) {
            (Some(r), None) => {
                frame.frame_type = "response";
                Outcome::Result(r)
            }
            (None, Some(e)) => {
                frame.frame_type = "error";
                check_error_object(&e, findings);
                Outcome::Error(e)
            }
            (Some(r), Some(_)) => {
                frame.frame_type = "response";
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
                return;
            }
        };
        let Some(id) = id else {
            findings.push((
                Severity::Error,
                "response without an id (or with id null): it cannot be matched to a request"
                    .into(),
            ));
            return;
        };
        let our_id = match &id {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => {
                let parsed = s
                    .parse::<i64>()
                    .ok()
                    .filter(|n| self.pending.contains_key(n));
                if parsed.is_some() {
                    findings.push((
                        Severity::Warning,
                        format!(
                            "response id {id} is a string; the request's id was the number {s}"
                        ),
                    ));
                }
                parsed
            }
            _ => None,
        };
        let Some(our_id) = our_id else {
            findings.push((
                Severity::Error,
                format!("response to id {id}, which mcpscope never sent"),
            ));
            return;
        };
        match self.finish(our_id, Finish::Answered) {
            Some(request) => {
                frame.duration_ms = Some(request.sent_at.elapsed().as_secs_f64() * 1000.0);
                frame.request_method = Some(request.method.clone());
                messages.push(Inbound::Response {
                    id: our_id,
                    outcome,
                    request,
                });
            }
            None => match self.finished.get(&our_id) {
                Some(Finish::Answered) => findings.push((
                    Severity::Error,
                    format!("duplicate response: request {our_id} was already answered"),
                )),
                Some(how) => {
                    let (late, why) = match how {
                        Finish::TimedOut => ("after timeout", "timed out"),
                        Finish::Cancelled => ("after cancel", "was cancelled"),
                        _ => ("after failure", "had already failed"),
                    };
                    frame.late = Some(late);
                    findings.push((
                        Severity::Info,
                        format!("response to request {our_id}, which {why}: arrived {late}"),
                    ));
                }
                None if our_id < 1 || our_id >= self.next_id => findings.push((
                    Severity::Error,
                    format!("response to id {id}, which mcpscope never sent"),
                )),
                None => findings.push((
                    Severity::Error,
                    format!("response to id {id}, which is not waiting for an answer"),
                )),
            },
        }
    }
}

/// A received frame with nothing known about it yet.
fn frame_stub() -> FrameEvent {
    FrameEvent {
        direction: Direction::Received,
        message: None,
        raw: None,
        method: None,
        id: None,
        frame_type: "invalid",
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

/// Every frame we send, borrowed: serialised in one pass, field order as JSON-RPC writes it,
/// absent members left out, and nothing cloned.
#[derive(Serialize)]
struct Outgoing<'a> {
    jsonrpc: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    params: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a Value>,
}

impl Outgoing<'_> {
    const EMPTY: Outgoing<'static> = Outgoing {
        jsonrpc: "2.0",
        id: None,
        method: None,
        params: None,
        result: None,
        error: None,
    };

    fn text(&self) -> String {
        serde_json::to_string(self).expect("JSON values always serialise")
    }
}

/// Text of a request of ours.
fn request_text(id: i64, method: &str, params: Option<&Value>) -> String {
    Outgoing {
        id: Some(&Value::from(id)),
        method: Some(method),
        params,
        ..Outgoing::EMPTY
    }
    .text()
}

/// Text of a notification we send.
pub fn notification(method: &str, params: Option<&Value>) -> String {
    Outgoing {
        method: Some(method),
        params,
        ..Outgoing::EMPTY
    }
    .text()
}

/// Text of our answer to a server request; `id` is echoed exactly as the server sent it.
pub fn response(id: &Value, outcome: Result<&Value, &Value>) -> String {
    let (result, error) = match outcome {
        Ok(result) => (Some(result), None),
        Err(error) => (None, Some(error)),
    };
    Outgoing {
        id: Some(id),
        result,
        error,
        ..Outgoing::EMPTY
    }
    .text()
}

/// What a response to one of our requests carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answered {
    Result,
    Error,
}

/// Whether `frame` is a response to our request `id`, and of which kind. Transports ask this to
/// know that a stream carried the answer it was opened for, or that an HTTP error status came
/// with a JSON-RPC refusal, so that the engine stays the only JSON-RPC parser.
pub fn answers(frame: &[u8], id: i64) -> Option<Answered> {
    let env: Envelope = serde_json::from_slice(frame).ok()?;
    if env.method.is_some() || env.id?.get() != id.to_string() {
        return None;
    }
    match (env.result, env.error) {
        (Some(_), None) => Some(Answered::Result),
        (None, Some(_)) => Some(Answered::Error),
        _ => None,
    }
}

/// Summary of an outgoing frame for the event stream; `text` is embedded verbatim.
pub fn sent_frame(
    text: &str,
    method: Option<&str>,
    id: Option<Value>,
    frame_type: &'static str,
) -> FrameEvent {
    FrameEvent {
        direction: Direction::Sent,
        message: RawValue::from_string(text.to_owned()).ok(),
        raw: None,
        method: method.map(str::to_owned),
        id,
        frame_type,
        duration_ms: None,
        request_method: None,
        late: None,
        answered_by: None,
        bytes: text.len(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn outgoing_frames_have_exactly_the_members_they_need() {
        assert_eq!(
            request_text(7, "tools/call", Some(&json!({"name": "x"}))),
            r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x"}}"#
        );
        assert_eq!(
            request_text(8, "ping", None),
            r#"{"jsonrpc":"2.0","id":8,"method":"ping"}"#
        );
        assert_eq!(
            notification("notifications/initialized", None),
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#
        );
        assert_eq!(
            response(&json!("s-1"), Ok(&json!({}))),
            r#"{"jsonrpc":"2.0","id":"s-1","result":{}}"#
        );
        assert_eq!(
            response(&json!(0), Err(&json!({"code": -32601, "message": "no"}))),
            r#"{"jsonrpc":"2.0","id":0,"error":{"code":-32601,"message":"no"}}"#
        );
    }

    #[test]
    fn answers_tells_a_response_to_our_id_from_anything_else() {
        let err = br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32022,"message":"no"}}"#;
        assert_eq!(answers(err, 1), Some(Answered::Error));
        assert_eq!(
            answers(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#, 1),
            Some(Answered::Result)
        );
        assert_eq!(answers(err, 2), None);
        assert_eq!(
            answers(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#, 1),
            None
        );
        assert_eq!(
            answers(br#"{"jsonrpc":"2.0","id":"1","result":{}}"#, 1),
            None
        );
        assert_eq!(answers(b"Bad Request", 1), None);
    }

    fn engine() -> Engine<&'static str> {
        Engine::default()
    }

    #[test]
    fn responses_match_in_any_order_and_ids_are_ours() {
        let mut e = engine();
        let (a, text) = e.start_request("tools/list", None, None, None, "a");
        let (b, _) = e.start_request("ping", Some(&json!({})), None, None, "b");
        assert_eq!(text, r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#);
        let r = e.receive(format!(r#"{{"jsonrpc":"2.0","id":{b},"result":{{}}}}"#).as_bytes());
        assert!(r.findings.is_empty());
        assert!(
            matches!(&r.messages[..], [Inbound::Response { id, request, .. }] if *id == b && request.tag == "b")
        );
        let r = e.receive(
            format!(r#"{{"jsonrpc":"2.0","id":{a},"result":{{"z":1,"a":2}}}}"#).as_bytes(),
        );
        let Inbound::Response {
            outcome: Outcome::Result(raw),
            ..
        } = &r.messages[0]
        else {
            panic!("{r:?}")
        };
        assert_eq!(raw.get(), r#"{"z":1,"a":2}"#, "result kept byte for byte");
        assert_eq!(r.frame.request_method.as_deref(), Some("tools/list"));
        assert_eq!(e.pending_count(), 0);
    }

    #[test]
    fn server_request_ids_are_a_separate_space() {
        let mut e = engine();
        e.start_request("tools/call", None, None, None, "ours");
        // The server's own request with id 1 must not be taken for an answer to our id 1.
        let r = e.receive(br#"{"jsonrpc":"2.0","id":1,"method":"roots/list"}"#);
        assert!(
            matches!(&r.messages[..], [Inbound::Request { id, method, .. }] if *id == json!(1) && method == "roots/list")
        );
        assert_eq!(e.pending_count(), 1);
    }

    #[test]
    fn junk_invalid_utf8_and_wrong_shapes_become_findings() {
        let mut e = engine();
        let r = e.receive(b"Server started on stdio");
        assert_eq!(r.frame.raw.as_deref(), Some("Server started on stdio"));
        assert_eq!(r.findings[0].0, Severity::Error);
        assert!(r.messages.is_empty());

        let r = e.receive(b"{\"jsonrpc\":\"2.0\",\"method\":\"x\",\"params\":{\"s\":\"\xff\"}}");
        assert!(r.findings[0].1.contains("UTF-8"));
        assert!(matches!(&r.messages[..], [Inbound::Notification { .. }]));

        for bad in [
            &b"[1,2]"[..],
            b"42",
            br#"{"jsonrpc":"2.0"}"#,
            br#"{"id":7,"result":1}"#,
        ] {
            let r = e.receive(bad);
            assert!(!r.findings.is_empty(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn stray_duplicate_and_late_responses_are_named() {
        let mut e = engine();
        let r = e.receive(br#"{"jsonrpc":"2.0","id":99,"result":{}}"#);
        assert!(r.findings[0].1.contains("never sent"), "{:?}", r.findings);

        let (id, _) = e.start_request("ping", None, None, None, "p");
        let line = format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{}}}}"#);
        assert_eq!(e.receive(line.as_bytes()).messages.len(), 1);
        let r = e.receive(line.as_bytes());
        assert!(r.findings[0].1.contains("duplicate"));

        let (id, _) = e.start_request("tools/call", None, None, None, "c");
        assert!(e.cancel(id).is_some());
        let r = e.receive(format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{{}}}}"#).as_bytes());
        assert_eq!(r.frame.late, Some("after cancel"));
        assert!(r.messages.is_empty());
    }

    #[test]
    fn held_deadlines_do_not_expire_and_restart_on_release() {
        let mut e = engine();
        let (id, _) = e.start_request(
            "slow",
            None,
            Some(Timeout::fixed(Duration::from_secs(5))),
            None,
            "s",
        );
        e.hold_deadlines();
        assert_eq!(e.next_deadline(), None);
        assert!(
            e.expire(Instant::now() + Duration::from_secs(60))
                .is_empty()
        );
        let later = Instant::now() + Duration::from_secs(60);
        e.release_deadlines(later);
        assert_eq!(e.next_deadline(), Some(later + Duration::from_secs(5)));
        assert!(e.expire(later + Duration::from_secs(4)).is_empty());
        assert_eq!(e.expire(later + Duration::from_secs(5))[0].0, id);
    }

    #[test]
    fn deadlines_expire_and_progress_tokens_map_back() {
        let mut e = engine();
        let (id, _) = e.start_request(
            "slow",
            None,
            Some(Timeout::fixed(Duration::ZERO)),
            Some(json!("tok")),
            "s",
        );
        e.start_request("forever", None, None, None, "f");
        assert_eq!(e.request_for_progress(&json!("tok")), Some(id));
        assert!(e.next_deadline().is_some());
        let expired = e.expire(Instant::now());
        assert_eq!(expired.len(), 1);
        assert_eq!(expired[0].0, id);
        assert_eq!(e.fail_all().len(), 1);
    }

    #[test]
    fn null_result_and_error_responses_are_kept() {
        let mut e = engine();
        let (a, _) = e.start_request("x", None, None, None, "x");
        let r = e.receive(format!(r#"{{"jsonrpc":"2.0","id":{a},"result":null}}"#).as_bytes());
        assert!(
            matches!(&r.messages[..], [Inbound::Response { outcome: Outcome::Result(v), .. }] if v.get() == "null")
        );
        let (b, _) = e.start_request("y", None, None, None, "y");
        let r = e.receive(
            format!(r#"{{"jsonrpc":"2.0","id":{b},"error":{{"code":-32601,"message":"nope"}}}}"#)
                .as_bytes(),
        );
        assert!(r.findings.is_empty());
        assert_eq!(r.frame.frame_type, "error");
    }

    #[test]
    fn batches_are_split_and_flagged_outside_2025_03_26() {
        let mut e = engine();
        let r = e.receive(br#"[{"jsonrpc":"2.0","method":"a"},{"jsonrpc":"2.0","method":"b"}]"#);
        assert_eq!(r.messages.len(), 2);
        assert_eq!(r.findings.len(), 1);
    }

    #[test]
    fn progress_extends_the_idle_limit_but_never_past_the_hard_maximum() {
        let mut e = engine();
        let t = Timeout {
            idle: Duration::from_secs(10),
            max_total: Duration::from_secs(25),
        };
        let (id, _) = e.start_request("long", None, Some(t), Some(json!("p")), "l");
        let sent = e.outstanding()[0].1.sent_at;
        assert_eq!(e.next_deadline(), Some(sent + Duration::from_secs(10)));
        e.touch(id, sent + Duration::from_secs(8));
        assert_eq!(e.next_deadline(), Some(sent + Duration::from_secs(18)));
        assert!(!e.outstanding()[0].1.at_hard_maximum());
        e.touch(id, sent + Duration::from_secs(20));
        assert_eq!(e.next_deadline(), Some(sent + Duration::from_secs(25)));
        assert!(e.outstanding()[0].1.at_hard_maximum());
        assert!(e.expire(sent + Duration::from_secs(24)).is_empty());
        assert_eq!(e.expire(sent + Duration::from_secs(25)).len(), 1);
    }
}

//! One job: the JSON-RPC engine. No I/O: text in, classified messages and findings out; our requests out
//! as text. It owns our request-id space (integers we allocate) and keeps it apart from the
//! server's (echoed back verbatim, whatever their type), matches responses in any order, tracks
//! deadlines, and remembers recently finished ids so that duplicate and late answers are named
//! for what they are.
//!
//! Nothing a server sends can make it panic or lose a frame: every line yields a [`FrameEvent`]
//! (the exact text, embedded verbatim when it is JSON) plus zero or more findings. How a line is
//! read and checked is `wire/message.rs`, shared with the observer of tapped connections
//! (`wire/observer.rs`) and the mock.

use std::{
    collections::{HashMap, VecDeque},
    time::{Duration, Instant},
};

use serde::Serialize;
use serde_json::{Value, value::RawValue};

use crate::events::{Direction, FrameEvent, FrameType, Late, Severity};

mod message;
pub mod observer;

pub use message::Within;
use message::{Envelope, parse_leaving, read_line};
pub use message::{Parsed, messages};

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

/// An outcome longer than this is left in its message by the engine (`Inbound::Response`'s
/// `within`).
const LEAVE_ABOVE: usize = 1 << 20;

impl Outcome {
    /// The outcome `left` in place, taken from `message` (the text that holds the frame's
    /// message at `at`): one copy of the outcome alone, made once the line is no longer held.
    /// `None` if the text does not hold a message there (which the bus's layout rules out).
    pub fn taken_from(&self, text: &str, at: usize, within: &Within) -> Option<Outcome> {
        if !text.get(at..)?.starts_with('{') {
            return None;
        }
        let part = text.get(at + within.start..at + within.end)?;
        let part = RawValue::from_string(part.to_owned()).ok()?;
        Some(match self {
            Outcome::Result(_) => Outcome::Result(part),
            Outcome::Error(_) => Outcome::Error(part),
        })
    }
}

/// One JSON-RPC message from the server, classified.
#[derive(Debug)]
pub enum Inbound<T> {
    Response {
        id: i64,
        /// `null` while `within` says where the outcome was left in the message.
        outcome: Outcome,
        request: Outstanding<T>,
        /// Where in the frame's message the outcome lies, when it was left there (see
        /// [`Outcome::taken_from`]).
        within: Option<Within>,
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
    pub fn receive(&mut self, line: impl Into<Vec<u8>>) -> Received<T> {
        let mut messages = Vec::new();
        let batches_allowed = self.batches_allowed;
        let (frame, findings) = read_line(line, batches_allowed, |raw, whole, frame, findings| {
            self.classify(raw, whole, frame, findings, &mut messages)
        });
        Received {
            frame,
            findings,
            messages,
        }
    }

    fn classify(
        &mut self,
        raw: &RawValue,
        whole: bool,
        frame: &mut FrameEvent,
        findings: &mut Vec<(Severity, String)>,
        messages: &mut Vec<Inbound<T>>,
    ) {
        // A big outcome of a line that is one message is left in it, for the session to take
        // from the text it keeps of the frame: copied now, it would be held twice.
        let leave_above = if whole { LEAVE_ABOVE } else { usize::MAX };
        let ((id, outcome), within) = match parse_leaving(raw, frame, findings, leave_above) {
            None => return,
            Some((
                Parsed::Call {
                    id: Some(id),
                    method,
                    params,
                },
                _,
            )) => {
                messages.push(Inbound::Request { id, method, params });
                return;
            }
            Some((
                Parsed::Call {
                    id: None,
                    method,
                    params,
                },
                _,
            )) => {
                messages.push(Inbound::Notification { method, params });
                return;
            }
            Some((Parsed::Answer { id, outcome }, within)) => ((id, outcome), within),
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
                    within,
                });
            }
            None => match self.finished.get(&our_id) {
                Some(Finish::Answered) => findings.push((
                    Severity::Error,
                    format!("duplicate response: request {our_id} was already answered"),
                )),
                Some(how) => {
                    let (late, why) = match how {
                        Finish::TimedOut => (Late::AfterTimeout, "timed out"),
                        Finish::Cancelled => (Late::AfterCancel, "was cancelled"),
                        _ => (Late::AfterFailure, "had already failed"),
                    };
                    frame.late = Some(late);
                    findings.push((
                        Severity::Info,
                        format!(
                            "response to request {our_id}, which {why}: arrived {}",
                            late.as_str()
                        ),
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

/// The id of an answer from the first bytes of its line, when they are a JSON object's start
/// holding its top-level `"id"` (an integer, or an integer in a string as the engine accepts it,
/// whole before the head ends) and its `"result"` or `"error"` key, and no `"method"`: for a
/// frame too long to read, so that the request it answers fails at once. A line that does not
/// say so early gives none, and the request waits for its deadline as before.
pub fn answer_id_in_head(head: &[u8]) -> Option<i64> {
    let text = String::from_utf8_lossy(head);
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let (mut key_start, mut last_key) = (0, None::<&str>);
    let (mut id, mut answer) = (None, false);
    for (i, c) in text.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    in_string = false;
                    if depth == 1 {
                        last_key = Some(&text[key_start..i]);
                    }
                }
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                key_start = i + 1;
            }
            '{' | '[' => depth += 1,
            '}' | ']' => depth = depth.saturating_sub(1),
            ':' if depth == 1 => match last_key.take() {
                Some("id") => id = whole_integer(text[i + 1..].trim_start()),
                Some("result" | "error") => answer = true,
                Some("method") => return None,
                _ => {}
            },
            ',' => last_key = None,
            _ => {}
        }
    }
    id.filter(|_| answer)
}

/// An integer (or one in quotes) at the start of `rest`, only if it ends there: followed by a
/// `,`, `}` or whitespace, not cut off by the end of the head, not a fraction or an exponent.
fn whole_integer(rest: &str) -> Option<i64> {
    let (quoted, body) = match rest.strip_prefix('"') {
        Some(inner) => (true, inner),
        None => (false, rest),
    };
    let end = body.find(|c: char| !(c.is_ascii_digit() || c == '-'))?;
    let after = &body[end..];
    let ends = if quoted {
        after.starts_with('"')
    } else {
        after.starts_with([',', '}', ' ', '\t', '\r', '\n'])
    };
    if !ends {
        return None;
    }
    body[..end].parse().ok()
}

/// Summary of an outgoing frame for the event stream; `text` is embedded verbatim.
pub fn sent_frame(
    text: &str,
    method: Option<&str>,
    id: Option<Value>,
    frame_type: FrameType,
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
mod tests;

//! `mcpscope mock FILE`: a recording's server side as a server, for testing MCP clients. The
//! recorded exchanges (read through `events::observed`, so a tap's recording, an export and a
//! `--save` all serve) become a script: each request the client made with the server's answer,
//! and what the server sent on its own after each client message (its requests and
//! notifications, in order, those before the answer apart from those after it).
//!
//! A request gets the recorded answer for the same method and params (structural match as
//! replay's diff: `_meta` such as progress tokens ignored, and the `--ignore` paths), the first
//! not yet used, else the last that matched; the handshake (`initialize`, `server/discover`) is
//! answered from the recorded one whatever the client sends; `ping` always. An unrecorded
//! request gets a JSON-RPC error naming the closest recorded request and how it differs. The
//! server's recorded requests are sent with their recorded ids and the mock waits for the
//! client's answer before going on; a recorded progress notification names the new request's
//! token. No I/O here: `commands/mock.rs` serves stdio, `mock/http.rs` Streamable HTTP.

pub mod http;

use std::sync::Arc;

use serde_json::{Value, json};

use crate::{
    events::{
        Direction, FrameType,
        observed::{Observation, observe},
    },
    recording::{Recording, diff},
    wire::{self, Parsed},
};

/// Methods answered from the recording whatever their params say: the handshake.
const HANDSHAKE: &[&str] = &["initialize", "server/discover"];

/// One client message of the recording and what the server did about it.
#[derive(Debug, Clone)]
struct Entry {
    method: String,
    params: Value,
    /// The recorded answer: `Ok(result)` or `Err(error)`; None for a notification, or a request
    /// the recording never saw answered.
    answer: Option<Result<Value, Value>>,
    /// What the server sent after this message and before its answer, then after its answer
    /// (until the client's next message).
    before: Vec<Value>,
    after: Vec<Value>,
    /// The progress token the recorded request carried, to be replaced by the new one's.
    progress_token: Option<Value>,
    /// A request (it gets an answer), not a notification.
    is_request: bool,
}

/// A recording read into what the mock serves.
#[derive(Debug, Default)]
pub struct Script {
    entries: Vec<Entry>,
}

impl Script {
    /// The script a recording holds; an error when it holds no answered request.
    pub fn from_recording(recording: &Recording) -> Result<Script, String> {
        let mut entries: Vec<Entry> = Vec::new();
        // Which entry a request of the client's (by its observation index) became.
        let mut by_index = std::collections::HashMap::new();
        for (at, o) in observe(recording.stamped()).into_iter().enumerate() {
            let Observation::Message(m) = o else { continue };
            match (m.direction, m.kind) {
                (Direction::Sent, FrameType::Request | FrameType::Notification) => {
                    // Absent params and `{}` ask the same.
                    let params = match m.params() {
                        Value::Null => json!({}),
                        p => p.clone(),
                    };
                    by_index.insert(at, entries.len());
                    entries.push(Entry {
                        method: m.method.clone().unwrap_or_default(),
                        progress_token: params.pointer("/_meta/progressToken").cloned(),
                        params,
                        answer: None,
                        before: Vec::new(),
                        after: Vec::new(),
                        is_request: m.kind == FrameType::Request,
                    });
                }
                (Direction::Received, FrameType::Response | FrameType::Error) => {
                    if let Some(answered) = &m.answers
                        && let Some(&entry) = by_index.get(&answered.request)
                    {
                        let e = &mut entries[entry];
                        e.answer = Some(match m.message.get("error") {
                            Some(error) => Err(error.clone()),
                            None => Ok(m.message.get("result").cloned().unwrap_or(json!({}))),
                        });
                    }
                }
                (Direction::Received, FrameType::Request | FrameType::Notification) => {
                    // The server's own message goes with the client's latest one: before
                    // that one's answer while it had none yet.
                    if let Some(last) = entries.last_mut() {
                        if last.answer.is_none() && last.is_request {
                            last.before.push(m.message.clone());
                        } else {
                            last.after.push(m.message.clone());
                        }
                    }
                }
                _ => {}
            }
        }
        for e in &mut entries {
            if e.answer.is_none() && e.is_request {
                // Never answered in the recording: what came "before" came after all.
                e.after.splice(0..0, std::mem::take(&mut e.before));
            }
        }
        if !entries.iter().any(|e| e.answer.is_some()) {
            return Err("the recording holds no answered request to serve".into());
        }
        Ok(Script { entries })
    }

    /// How many recorded requests the script answers.
    pub fn answers(&self) -> usize {
        self.entries.iter().filter(|e| e.answer.is_some()).count()
    }
}

/// What to send, in order.
#[derive(Debug, PartialEq)]
pub enum Out {
    /// A line to send as it is (a notification of the server's).
    Send(String),
    /// A request of the server's: send it, then wait for the client's answer to `id`.
    Ask { id: Value, line: String },
    /// The answer to the client's request. Over HTTP it ends the request's stream: what
    /// follows it goes on the session's own stream.
    Answer(String),
}

/// One client's run through a script: which recorded answers were given.
pub struct Mock {
    script: Arc<Script>,
    used: Vec<bool>,
    ignore: Vec<diff::Ignore>,
}

impl Mock {
    pub fn new(script: Arc<Script>, ignore: Vec<diff::Ignore>) -> Self {
        Mock {
            used: vec![false; script.entries.len()],
            script,
            ignore,
        }
    }

    /// What one line from the client asks of the mock (several for a batch). The client's
    /// answers to the server's requests are the caller's to route (`answered`).
    pub fn on_line(&mut self, line: &[u8]) -> (Vec<Out>, Vec<Value>) {
        let mut outs = Vec::new();
        let mut answered = Vec::new();
        let messages = wire::messages(line);
        if messages.is_empty() && !line.trim_ascii().is_empty() {
            // Not a JSON-RPC message: JSON-RPC's answer to that, with a null id.
            let error = json!({"code": -32700, "message": "mcpscope mock: not a JSON-RPC message"});
            return (
                vec![Out::Answer(wire::response(&Value::Null, Err(&error)))],
                answered,
            );
        }
        for parsed in messages {
            match parsed {
                Parsed::Call {
                    id: Some(id),
                    method,
                    params,
                } => outs.extend(self.request(&id, &method, params.as_ref())),
                Parsed::Call {
                    id: None,
                    method,
                    params,
                } => outs.extend(self.notification(&method, params.as_ref())),
                Parsed::Answer { id, .. } => answered.push(id),
            }
        }
        (outs, answered)
    }

    /// Whether a line holds anything but answers (then it waits its turn), and the ids of the
    /// answers it holds.
    pub fn peek_answers(line: &[u8]) -> (bool, Vec<Value>) {
        let mut other = false;
        let mut answered = Vec::new();
        for parsed in wire::messages(line) {
            match parsed {
                Parsed::Answer { id, .. } => answered.push(id),
                Parsed::Call { .. } => other = true,
            }
        }
        (other, answered)
    }

    fn request(&mut self, id: &Value, method: &str, params: Option<&Value>) -> Vec<Out> {
        let params = params.cloned().unwrap_or(json!({}));
        let Some(at) = self.find(method, &params) else {
            if method == "ping" {
                return vec![Out::Answer(wire::response(id, Ok(&json!({}))))];
            }
            return vec![Out::Answer(wire::response(
                id,
                Err(&self.refusal(method, &params)),
            ))];
        };
        self.used[at] = true;
        let script = self.script.clone();
        let entry = &script.entries[at];
        let token = params.pointer("/_meta/progressToken");
        let replay = |msgs: &[Value]| -> Vec<Out> {
            msgs.iter()
                .map(|m| server_message(m, entry.progress_token.as_ref(), token))
                .collect()
        };
        let mut outs = replay(&entry.before);
        let answer = entry.answer.as_ref().expect("found only answered entries");
        outs.push(Out::Answer(wire::response(id, answer.as_ref())));
        outs.extend(replay(&entry.after));
        outs
    }

    fn notification(&mut self, method: &str, params: Option<&Value>) -> Vec<Out> {
        let params = params.cloned().unwrap_or(json!({}));
        let found = (0..self.script.entries.len()).find(|&i| {
            let e = &self.script.entries[i];
            !self.used[i] && !e.is_request && e.method == method && self.same(&e.params, &params)
        });
        let Some(at) = found else { return Vec::new() };
        self.used[at] = true;
        self.script.entries[at]
            .after
            .iter()
            .map(|m| server_message(m, None, None))
            .collect()
    }

    /// The recorded request this one gets the answer of: the first unused that matches, else
    /// the last that matches (a call made again gets the same answer).
    fn find(&self, method: &str, params: &Value) -> Option<usize> {
        let handshake = HANDSHAKE.contains(&method);
        let matching: Vec<usize> = (0..self.script.entries.len())
            .filter(|&i| {
                let e = &self.script.entries[i];
                e.answer.is_some()
                    && e.method == method
                    && (handshake || self.same(&e.params, params))
            })
            .collect();
        matching
            .iter()
            .copied()
            .find(|&i| !self.used[i])
            .or(matching.last().copied())
    }

    fn same(&self, recorded: &Value, asked: &Value) -> bool {
        diff::diff(&without_meta(recorded), &without_meta(asked), &self.ignore).is_empty()
    }

    /// The error for a request the recording cannot answer, naming the closest recorded one.
    fn refusal(&self, method: &str, params: &Value) -> Value {
        let closest = self
            .script
            .entries
            .iter()
            .filter(|e| e.answer.is_some() && e.method == method)
            .map(|e| {
                let d = diff::diff(
                    &without_meta(&e.params),
                    &without_meta(params),
                    &self.ignore,
                );
                (d.len(), e, d)
            })
            .min_by_key(|(n, _, _)| *n);
        match closest {
            Some((_, e, differences)) => json!({
                "code": -32602,
                "message": format!(
                    "mcpscope mock: the recording has no {method} with these params; the closest recorded is {method} {} (differs at {})",
                    without_meta(&e.params),
                    differences
                        .iter()
                        .filter_map(|d| d.get("path").and_then(Value::as_str))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "data": {"closest": {"method": method, "params": without_meta(&e.params)}, "differences": differences},
            }),
            None => {
                let mut methods: Vec<&str> = self
                    .script
                    .entries
                    .iter()
                    .filter(|e| e.answer.is_some())
                    .map(|e| e.method.as_str())
                    .collect();
                methods.sort();
                methods.dedup();
                json!({
                    "code": -32601,
                    "message": format!(
                        "mcpscope mock: the recording has no {method} request; it answers {}",
                        methods.join(", ")
                    ),
                    "data": {"recorded": methods},
                })
            }
        }
    }
}

/// A server message as the mock sends it: a request to wait on, or a notification; a progress
/// notification for the recorded request names the new request's token.
fn server_message(m: &Value, recorded_token: Option<&Value>, token: Option<&Value>) -> Out {
    let mut m = m.clone();
    if let (Some(old), Some(new)) = (recorded_token, token)
        && m.pointer("/params/progressToken") == Some(old)
    {
        m["params"]["progressToken"] = new.clone();
    }
    let line = m.to_string();
    match m.get("id").filter(|_| m.get("method").is_some()) {
        Some(id) => Out::Ask {
            id: id.clone(),
            line,
        },
        None => Out::Send(line),
    }
}

fn without_meta(params: &Value) -> Value {
    let mut p = params.clone();
    if let Some(o) = p.as_object_mut() {
        o.remove("_meta");
    }
    p
}

#[cfg(test)]
mod tests;

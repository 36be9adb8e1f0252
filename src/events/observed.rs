//! The observed exchanges: a session's events, read typed, as what crossed the wire in order.
//! Each message keeps the engine's classification from when it crossed (the frame event's
//! `frameType`, `method` and `id`), so nothing here classifies a frame again; what this adds is
//! the pairing, done once for every reader: our requests with the server's answers, the
//! server's requests with ours, per connection (ids start again at each `connecting`). Lint and
//! replay read a session through here.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::{AppEvent, Direction, Event, FrameType, HttpEvent, SessionState, Severity, Stamped};

/// One JSON-RPC message as it crossed, parsed.
#[derive(Debug, Clone)]
pub struct Message {
    /// The seq of its frame event.
    pub seq: u64,
    pub direction: Direction,
    /// Request, notification, response or error, as the engine saw it.
    pub kind: FrameType,
    pub method: Option<String>,
    pub id: Option<Value>,
    pub message: Value,
    /// For an answer (either way): the request it answers.
    pub answers: Option<Answered>,
}

impl Message {
    pub fn params(&self) -> &Value {
        self.message.get("params").unwrap_or(&Value::Null)
    }

    /// A response or error; or a frame with an id and no method that is neither (no `result`
    /// or `error`): malformed, still an answer to the request with its id, as it was meant.
    pub fn is_answer(&self) -> bool {
        match self.kind {
            FrameType::Response | FrameType::Error => true,
            FrameType::Invalid => self.method.is_none() && self.id.is_some(),
            _ => false,
        }
    }
}

/// What an answer answers: the request's place in the observations (same connection), its
/// method, and whether we had cancelled it before this answer came (our requests only).
#[derive(Debug, Clone)]
pub struct Answered {
    pub request: usize,
    pub method: String,
    pub after_cancel: bool,
}

/// One thing observed, in the order it happened.
#[derive(Debug)]
pub enum Observation {
    /// A connection began (`connecting`): request ids start again. `remote` when its target is
    /// not a stdio process.
    Connecting {
        remote: bool,
    },
    Message(Message),
    Http(Box<HttpEvent>),
    /// A message of an MCP App's bridge (the page hosting the app reported it).
    App {
        seq: u64,
        event: Box<AppEvent>,
    },
    /// One of the engine's own findings.
    Finding {
        seq: u64,
        severity: Severity,
        message: String,
        frame_seq: Option<u64>,
    },
}

/// A JSON-RPC id as a map key (ids of both types never collide: `1` and `"1"` differ).
pub fn key(id: &Value) -> String {
    id.to_string()
}

/// Reads a session's events into what crossed the wire, paired. Frames that are not one JSON
/// object (a batch, an invalid line) are left out: the engine's findings name them.
pub fn observe(events: impl IntoIterator<Item = Stamped>) -> Vec<Observation> {
    let mut out: Vec<Observation> = Vec::new();
    // Requests waiting for their answer, by id: ours and the server's, apart.
    let mut ours: HashMap<String, usize> = HashMap::new();
    let mut theirs: HashMap<String, usize> = HashMap::new();
    let mut cancelled: HashSet<String> = HashSet::new();
    for e in events {
        match e.event {
            Event::State(info) if info.state == SessionState::Connecting => {
                let remote = info
                    .target
                    .as_ref()
                    .and_then(|t| t.get("transport"))
                    .and_then(Value::as_str)
                    .is_some_and(|t| t != "stdio");
                ours.clear();
                theirs.clear();
                cancelled.clear();
                out.push(Observation::Connecting { remote });
            }
            Event::Http(http) => out.push(Observation::Http(http)),
            Event::App(event) => out.push(Observation::App { seq: e.seq, event }),
            Event::Finding {
                severity,
                message,
                frame_seq,
            } => out.push(Observation::Finding {
                seq: e.seq,
                severity,
                message,
                frame_seq,
            }),
            Event::Frame(frame) => {
                let Some(message) = frame
                    .message
                    .as_deref()
                    .and_then(|m| serde_json::from_str::<Value>(m.get()).ok())
                    .filter(Value::is_object)
                else {
                    continue;
                };
                let id = frame.id.filter(|i| !i.is_null());
                let mut msg = Message {
                    seq: e.seq,
                    direction: frame.direction,
                    kind: frame.frame_type,
                    method: frame.method,
                    id,
                    message,
                    answers: None,
                };
                let sent = msg.direction == Direction::Sent;
                let at = out.len();
                match (msg.kind, &msg.id) {
                    (FrameType::Request, Some(id)) => {
                        let waiting = if sent { &mut ours } else { &mut theirs };
                        waiting.insert(key(id), at);
                    }
                    (FrameType::Notification, _)
                        if sent && msg.method.as_deref() == Some("notifications/cancelled") =>
                    {
                        if let Some(rid) = msg.message.pointer("/params/requestId") {
                            cancelled.insert(key(rid));
                        }
                    }
                    (_, Some(id)) if msg.is_answer() => {
                        // Only the first answer pairs: a duplicate stands alone.
                        let k = key(id);
                        let waiting = if sent { &mut theirs } else { &mut ours };
                        if let Some(request) = waiting.remove(&k)
                            && let Observation::Message(req) = &out[request]
                        {
                            msg.answers = Some(Answered {
                                request,
                                method: req.method.clone().unwrap_or_default(),
                                after_cancel: !sent && cancelled.contains(&k),
                            });
                        }
                    }
                    _ => {}
                }
                out.push(Observation::Message(msg));
            }
            _ => {}
        }
    }
    out
}

/// The message at `index` of what [`observe`] gave.
pub fn message_at(observations: &[Observation], index: usize) -> Option<&Message> {
    match observations.get(index) {
        Some(Observation::Message(m)) => Some(m),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::events::{EventBus, FrameEvent, RingLimits, SessionInfo};

    fn frame(direction: Direction, kind: FrameType, text: &str) -> Event {
        let v: Value = serde_json::from_str(text).unwrap();
        Event::Frame(FrameEvent {
            direction,
            message: Some(serde_json::value::RawValue::from_string(text.into()).unwrap()),
            raw: None,
            method: v.get("method").and_then(Value::as_str).map(str::to_owned),
            id: v.get("id").cloned(),
            frame_type: kind,
            duration_ms: None,
            request_method: None,
            late: None,
            answered_by: None,
            bytes: text.len(),
        })
    }

    fn observed(events: Vec<Event>) -> Vec<Observation> {
        let bus = EventBus::new(RingLimits::default());
        for e in events {
            bus.publish(e);
        }
        let records = bus.next_after(0, usize::MAX).records;
        observe(records.iter().map(|r| r.read().unwrap()))
    }

    fn answered(o: &[Observation]) -> Vec<(u64, Option<usize>, String)> {
        o.iter()
            .filter_map(|o| match o {
                Observation::Message(m) if m.is_answer() => Some((
                    m.seq,
                    m.answers.as_ref().map(|a| a.request),
                    m.answers
                        .as_ref()
                        .map_or(String::new(), |a| a.method.clone()),
                )),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn answers_pair_once_per_connection_each_way_even_when_malformed() {
        use Direction::{Received, Sent};
        let connecting = Event::State(Box::new(SessionInfo {
            state: SessionState::Connecting,
            target: Some(json!({"transport": "stdio"})),
            ..SessionInfo::default()
        }));
        let o = observed(vec![
            connecting,
            frame(
                Sent,
                FrameType::Request,
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
            ),
            frame(
                Received,
                FrameType::Request,
                r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            ),
            frame(
                Sent,
                FrameType::Response,
                r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
            ),
            frame(
                Received,
                FrameType::Response,
                r#"{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}"#,
            ),
            // A duplicate stands alone.
            frame(
                Received,
                FrameType::Response,
                r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
            ),
            frame(
                Sent,
                FrameType::Request,
                r#"{"jsonrpc":"2.0","id":2,"method":"prompts/list"}"#,
            ),
            // Neither result nor error: malformed, still the answer to request 2.
            frame(Received, FrameType::Invalid, r#"{"jsonrpc":"2.0","id":2}"#),
        ]);
        assert_eq!(
            answered(&o),
            [
                (4, Some(2), "ping".to_owned()),
                (5, Some(1), "tools/list".to_owned()),
                (6, None, String::new()),
                (8, Some(6), "prompts/list".to_owned()),
            ]
        );
        // A new connection starts the ids again: an old id pairs with nothing.
        let o = observed(vec![
            frame(
                Sent,
                FrameType::Request,
                r#"{"jsonrpc":"2.0","id":1,"method":"a"}"#,
            ),
            Event::State(Box::new(SessionInfo {
                state: SessionState::Connecting,
                ..SessionInfo::default()
            })),
            frame(
                Received,
                FrameType::Response,
                r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
            ),
        ]);
        assert_eq!(answered(&o), [(3, None, String::new())]);
    }
}

//! The follower's state for `--otlp`: what each session is (names, server, transport), the
//! requests waiting for their answers, and how an observed event becomes spans: one per
//! request with its answer, notifications as its events, the W3C trace of `_meta.traceparent`
//! kept; unanswered requests end when their connection does, when cancelled, or when too many
//! wait. Pure: events in, `SpanData` out; the exporter is `otlp.rs`'s.

use std::{collections::HashMap, sync::Arc, time::SystemTime};

use opentelemetry::{
    InstrumentationScope, KeyValue,
    trace::{Event, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState},
};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use serde_json::Value;

use crate::{
    events::{Direction, Event as Observed, FrameType, SessionState, Stamped},
    recording::export::Secrets,
    session::Sessions,
};

/// Requests followed at once (waiting for their answers); past this, the oldest ends as
/// unanswered to make room.
const OPEN_MAX: usize = 16_384;
/// Events one span keeps; past this they are counted as dropped.
const EVENTS_MAX: usize = 128;

/// What the follower knows of a session, for the spans' attributes.
#[derive(Default, Clone)]
struct Meta {
    name: Option<String>,
    server: Option<String>,
    version: Option<String>,
    transport: Option<String>,
    tapped: bool,
}

/// One request waiting for its answer.
struct Open {
    start: SystemTime,
    name: String,
    kind: SpanKind,
    trace: TraceId,
    span: SpanId,
    parent: SpanId,
    remote_parent: bool,
    attributes: Vec<KeyValue>,
    events: Vec<Event>,
    dropped_events: u32,
    token: Option<Value>,
    order: u64,
}

/// The follower's state: sessions' meta and their open requests.
#[derive(Default)]
pub(super) struct Spans {
    meta: HashMap<String, Meta>,
    /// Each session's secrets as last built, with the values they were built from: building
    /// them (every spelling of every value) is not for each frame.
    secrets: HashMap<String, (Vec<String>, Arc<Secrets>)>,
    /// By (session, the direction the request went, its id).
    open: HashMap<(String, bool, String), Open>,
    order: u64,
}

impl Spans {
    pub(super) fn observe(&mut self, e: Stamped, sessions: &Sessions) -> Vec<SpanData> {
        let Some(session) = e.session.clone() else {
            return Vec::new();
        };
        let at = humantime::parse_rfc3339_weak(&e.time).unwrap_or_else(|_| SystemTime::now());
        match e.event {
            Observed::State(info) => {
                let meta = self.meta.entry(session.clone()).or_default();
                meta.name = info.name.clone();
                meta.server = info
                    .server_info
                    .as_ref()
                    .and_then(|s| s.get("name"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                meta.version = info.protocol_version.clone();
                meta.transport = info
                    .target
                    .as_ref()
                    .and_then(|t| t.get("transport"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                meta.tapped = info.tapped;
                if info.state == SessionState::Connecting {
                    return self.close_all(&session, at, "the connection started again");
                }
                if matches!(
                    info.state,
                    SessionState::Disconnected | SessionState::Failed
                ) {
                    return self.close_all(&session, at, "the connection ended before an answer");
                }
                Vec::new()
            }
            Observed::Removed {} => {
                self.meta.remove(&session);
                self.secrets.remove(&session);
                self.close_all(&session, at, "the session was removed")
            }
            Observed::Frame(frame) => {
                let Some(message) = frame
                    .message
                    .as_deref()
                    .and_then(|m| serde_json::from_str::<Value>(m.get()).ok())
                else {
                    return Vec::new();
                };
                let sent = frame.direction == Direction::Sent;
                match (frame.frame_type, &frame.id, frame.method.as_deref()) {
                    (FrameType::Request, Some(id), Some(method)) => {
                        let secrets = self.secrets_of(&session, sessions);
                        self.start(&session, sent, id, method, &message, at, &secrets)
                    }
                    (FrameType::Notification, _, Some("notifications/cancelled")) => {
                        // The sender cancels its own request: it ends here, unanswered.
                        let Some(rid) = message.pointer("/params/requestId") else {
                            return Vec::new();
                        };
                        let key = (session.clone(), sent, rid.to_string());
                        self.open
                            .remove(&key)
                            .map(|open| Self::unanswered(open, at, "cancelled"))
                            .into_iter()
                            .collect()
                    }
                    (FrameType::Notification, _, Some(method)) => {
                        self.notification(&session, sent, method, &message, at)
                    }
                    (FrameType::Response | FrameType::Error, Some(id), _) => {
                        // An answer goes the other way from its request.
                        let key = (session.clone(), !sent, id.to_string());
                        match self.open.remove(&key) {
                            Some(open) => {
                                let secrets = self.secrets_of(&session, sessions);
                                vec![Self::finish(open, &message, at, &secrets)]
                            }
                            None => Vec::new(),
                        }
                    }
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
        }
    }

    /// The session's secrets, built again only when its values changed.
    fn secrets_of(&mut self, session: &str, sessions: &Sessions) -> Arc<Secrets> {
        let values = sessions
            .get(session)
            .map(|s| s.secret_values())
            .unwrap_or_default();
        match self.secrets.get(session) {
            Some((built_from, secrets)) if *built_from == values => secrets.clone(),
            _ => {
                let secrets = Arc::new(Secrets::new(values.clone()));
                self.secrets
                    .insert(session.to_owned(), (values, secrets.clone()));
                secrets
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn start(
        &mut self,
        session: &str,
        sent: bool,
        id: &Value,
        method: &str,
        message: &Value,
        at: SystemTime,
        secrets: &Secrets,
    ) -> Vec<SpanData> {
        // Room for it: the oldest request still waiting ends as unanswered.
        let mut ended = Vec::new();
        if self.open.len() >= OPEN_MAX
            && let Some(oldest) = self
                .open
                .iter()
                .min_by_key(|(_, o)| o.order)
                .map(|(k, _)| k.clone())
            && let Some(open) = self.open.remove(&oldest)
        {
            ended.push(Self::unanswered(
                open,
                at,
                "no answer while too many requests waited",
            ));
        }
        let params = message.get("params").unwrap_or(&Value::Null);
        let meta = self.meta.get(session).cloned().unwrap_or_default();
        let mut attributes = vec![
            KeyValue::new("mcp.method.name", method.to_owned()),
            KeyValue::new("jsonrpc.request.id", id_text(id)),
            KeyValue::new("mcpscope.session.id", session.to_owned()),
            KeyValue::new("mcpscope.tapped", meta.tapped),
            KeyValue::new(
                "network.transport",
                if meta.transport.as_deref() == Some("stdio") {
                    "pipe"
                } else {
                    "tcp"
                },
            ),
        ];
        for (key, value) in [
            ("mcpscope.session.name", &meta.name),
            ("mcp.server.name", &meta.server),
            ("mcp.protocol.version", &meta.version),
        ] {
            if let Some(v) = value {
                attributes.push(KeyValue::new(key, v.clone()));
            }
        }
        let target = match method {
            "tools/call" => params.get("name").map(|n| ("gen_ai.tool.name", n)),
            "prompts/get" => params.get("name").map(|n| ("gen_ai.prompt.name", n)),
            "resources/read" | "resources/subscribe" | "resources/unsubscribe" => {
                params.get("uri").map(|u| ("mcp.resource.uri", u))
            }
            _ => None,
        }
        .and_then(|(k, v)| {
            // A URI's credential-named query parameters are hidden as in `http` events.
            let v = crate::redact::url_text(v.as_str()?, &Default::default());
            Some((k, scrub(secrets, &v)))
        });
        let name = match &target {
            Some((_, t)) => format!("{method} {t}"),
            None => method.to_owned(),
        };
        if let Some((key, value)) = target {
            attributes.push(KeyValue::new(key, value));
        }
        let (trace, parent, remote_parent) = params
            .pointer("/_meta/traceparent")
            .and_then(Value::as_str)
            .and_then(traceparent)
            .map(|(t, p)| (t, p, true))
            .unwrap_or_else(|| (TraceId::from_bytes(random()), SpanId::INVALID, false));
        self.order += 1;
        let replaced = self.open.insert(
            (session.to_owned(), sent, id.to_string()),
            Open {
                start: at,
                name,
                kind: if sent {
                    SpanKind::Client
                } else {
                    SpanKind::Server
                },
                trace,
                span: SpanId::from_bytes(random()[..8].try_into().expect("8 bytes")),
                parent,
                remote_parent,
                attributes,
                events: Vec::new(),
                dropped_events: 0,
                token: params.pointer("/_meta/progressToken").cloned(),
                order: self.order,
            },
        );
        // The same id asked again while the first waited: the first ends here, unanswered.
        if let Some(old) = replaced {
            ended.push(Self::unanswered(
                old,
                at,
                "its id was used again before an answer",
            ));
        }
        ended
    }

    /// A notification: an event of the request it concerns, else of the newest open request of
    /// its session, else a span of its own.
    fn notification(
        &mut self,
        session: &str,
        sent: bool,
        method: &str,
        message: &Value,
        at: SystemTime,
    ) -> Vec<SpanData> {
        let mut attributes = vec![KeyValue::new(
            "mcp.notification.direction",
            if sent { "client" } else { "server" },
        )];
        let params = message.get("params").unwrap_or(&Value::Null);
        for key in ["progress", "total", "level"] {
            if let Some(v) = params.get(key) {
                attributes.push(KeyValue::new(format!("mcp.{key}"), v.to_string()));
            }
        }
        let event = Event::new(method.to_owned(), at, attributes, 0);
        let token = params.get("progressToken");
        let target = self
            .open
            .iter_mut()
            .filter(|((s, _, _), _)| s == session)
            .max_by_key(|(_, o)| (token.is_some() && o.token.as_ref() == token, o.order))
            .map(|(_, o)| o);
        if let Some(open) = target {
            if open.events.len() < EVENTS_MAX {
                open.events.push(event);
            } else {
                open.dropped_events = open.dropped_events.saturating_add(1);
            }
            return Vec::new();
        }
        let meta = self.meta.get(session).cloned().unwrap_or_default();
        let mut events = SpanEvents::default();
        events.events.push(event);
        let mut attributes = vec![
            KeyValue::new("mcp.method.name", method.to_owned()),
            KeyValue::new("mcpscope.session.id", session.to_owned()),
        ];
        if let Some(server) = meta.server {
            attributes.push(KeyValue::new("mcp.server.name", server));
        }
        vec![SpanData {
            span_context: context(
                TraceId::from_bytes(random()),
                SpanId::from_bytes(random()[..8].try_into().expect("8 bytes")),
            ),
            parent_span_id: SpanId::INVALID,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: method.to_owned().into(),
            start_time: at,
            end_time: at,
            attributes,
            dropped_attributes_count: 0,
            events,
            links: SpanLinks::default(),
            status: Status::Unset,
            instrumentation_scope: scope(),
        }]
    }

    fn finish(mut open: Open, answer: &Value, at: SystemTime, secrets: &Secrets) -> SpanData {
        let status = match answer.get("error") {
            Some(error) => {
                let code = error.get("code").and_then(Value::as_i64).unwrap_or(0);
                let message = error.get("message").and_then(Value::as_str).unwrap_or("");
                open.attributes
                    .push(KeyValue::new("rpc.jsonrpc.error_code", code));
                open.attributes
                    .push(KeyValue::new("error.type", code.to_string()));
                Status::error(scrub(secrets, message))
            }
            None if answer.pointer("/result/isError") == Some(&Value::Bool(true)) => {
                open.attributes
                    .push(KeyValue::new("error.type", "tool_error"));
                Status::error("the tool answered isError")
            }
            None => Status::Ok,
        };
        let mut events = SpanEvents::default();
        events.events = open.events;
        events.dropped_count = open.dropped_events;
        SpanData {
            span_context: context(open.trace, open.span),
            parent_span_id: open.parent,
            parent_span_is_remote: open.remote_parent,
            span_kind: open.kind,
            name: open.name.into(),
            start_time: open.start,
            end_time: at.max(open.start),
            attributes: open.attributes,
            dropped_attributes_count: 0,
            events,
            links: SpanLinks::default(),
            status,
            instrumentation_scope: scope(),
        }
    }

    /// A request that ends with no answer, and why.
    fn unanswered(
        open: Open,
        at: SystemTime,
        why: impl Into<std::borrow::Cow<'static, str>>,
    ) -> SpanData {
        let mut span = Self::finish(open, &Value::Null, at, &Secrets::new(Vec::<String>::new()));
        span.status = Status::error(why);
        span
    }

    /// Every open request of a session ends unanswered.
    fn close_all(&mut self, session: &str, at: SystemTime, why: &str) -> Vec<SpanData> {
        let keys: Vec<_> = self
            .open
            .keys()
            .filter(|(s, _, _)| s == session)
            .cloned()
            .collect();
        keys.into_iter()
            .filter_map(|k| self.open.remove(&k))
            .map(|open| Self::unanswered(open, at, why.to_owned()))
            .collect()
    }
}

fn context(trace: TraceId, span: SpanId) -> SpanContext {
    SpanContext::new(
        trace,
        span,
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    )
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("mcpscope")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build()
}

fn id_text(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A string with the session's secrets hidden, as exports hide them.
fn scrub(secrets: &Secrets, text: &str) -> String {
    let line = Value::String(text.to_owned()).to_string();
    serde_json::from_str(&secrets.scrub(&line)).unwrap_or_else(|_| text.to_owned())
}

/// A W3C `traceparent` (`00-<trace>-<parent>-<flags>`): its trace and parent span.
fn traceparent(text: &str) -> Option<(TraceId, SpanId)> {
    let mut parts = text.trim().split('-');
    let (Some(version), Some(trace), Some(parent), Some(_flags)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if version.len() != 2 || version == "ff" || trace.len() != 32 || parent.len() != 16 {
        return None;
    }
    let trace = TraceId::from_hex(trace)
        .ok()
        .filter(|t| *t != TraceId::INVALID)?;
    let parent = SpanId::from_hex(parent)
        .ok()
        .filter(|s| *s != SpanId::INVALID)?;
    Some((trace, parent))
}

fn random() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    let _ = getrandom::getrandom(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventBus;

    #[test]
    fn a_traceparent_is_read_or_refused() {
        let (t, p) =
            traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        assert_eq!(format!("{t}"), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(format!("{p}"), "00f067aa0ba902b7");
        for bad in [
            "",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-xyz-00f067aa0ba902b7-01",
        ] {
            assert!(traceparent(bad).is_none(), "{bad}");
        }
    }

    fn frame(seq: u64, direction: Direction, text: &str) -> Stamped {
        let v: Value = serde_json::from_str(text).unwrap();
        let kind = match (v.get("method"), v.get("id")) {
            (Some(_), Some(_)) => FrameType::Request,
            (Some(_), None) => FrameType::Notification,
            _ => FrameType::Response,
        };
        let mut f = crate::wire::sent_frame(
            text,
            v.get("method").and_then(Value::as_str),
            v.get("id").cloned(),
            kind,
        );
        f.direction = direction;
        Stamped {
            seq,
            time: "2026-12-05T00:00:00Z".into(),
            session: Some("s1".into()),
            event: Observed::Frame(f),
        }
    }

    fn sessions() -> Arc<Sessions> {
        Sessions::new(
            EventBus::new(Default::default()),
            Arc::new(crate::responders::ResponderStore::open(None).unwrap()),
            crate::oauth::broker::Broker::new(None, None),
            Arc::new(crate::model::Providers::default()),
        )
    }

    #[test]
    fn a_chatty_request_keeps_its_first_events_and_a_cancelled_one_ends() {
        let sessions = sessions();
        let mut spans = Spans::default();
        let mut out = Vec::new();
        out.extend(spans.observe(
            frame(
                1,
                Direction::Sent,
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"slow"}}"#,
            ),
            &sessions,
        ));
        for i in 0..200 {
            let note = format!(
                r#"{{"jsonrpc":"2.0","method":"notifications/message","params":{{"level":"info","data":{i}}}}}"#
            );
            out.extend(spans.observe(frame(2 + i, Direction::Received, &note), &sessions));
        }
        out.extend(spans.observe(
            frame(
                300,
                Direction::Received,
                r#"{"jsonrpc":"2.0","id":1,"result":{}}"#,
            ),
            &sessions,
        ));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].name, "tools/call slow");
        assert_eq!(out[0].events.events.len(), EVENTS_MAX);
        assert_eq!(out[0].events.dropped_count, 200 - EVENTS_MAX as u32);
        // A request its sender cancels ends there, as an error; nothing stays open.
        spans.observe(
            frame(
                301,
                Direction::Sent,
                r#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#,
            ),
            &sessions,
        );
        let ended = spans.observe(
            frame(
                302,
                Direction::Sent,
                r#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2}}"#,
            ),
            &sessions,
        );
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].status, Status::error("cancelled"));
        assert!(spans.open.is_empty());
    }

    #[test]
    fn a_secret_in_a_uri_is_scrubbed() {
        let s = Secrets::new(["tok-123456".to_owned()]);
        assert_eq!(
            scrub(&s, "file:///x?key=tok-123456"),
            "file:///x?key=<redacted>"
        );
    }
}

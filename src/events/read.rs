//! The one typed reader of the event stream: a record's text (from the ring, or a line of a
//! recording) back into its stamp and its [`Event`]. Lint, replay, the commands and recordings
//! read events through here, never by matching on JSON keys.

use std::borrow::Cow;

use serde::Deserialize;

use super::{Event, Record};

/// An event with what the bus stamped on it.
#[derive(Debug)]
pub struct Stamped {
    pub seq: u64,
    pub time: String,
    pub session: Option<String>,
    pub event: Event,
}

#[derive(Deserialize)]
struct Head<'a> {
    seq: u64,
    #[serde(borrow, default)]
    time: Cow<'a, str>,
    #[serde(default)]
    session: Option<String>,
    #[serde(borrow)]
    kind: Cow<'a, str>,
}

/// Reads one record's text. An event of a kind this build does not know (a newer recording) or
/// of the wrong shape is an error, which a reader skips or reports.
pub fn read(json: &str) -> Result<Stamped, String> {
    let head: Head<'_> = serde_json::from_str(json).map_err(|e| format!("not an event: {e}"))?;
    // A frame's message is kept as its own text (`RawValue`), which serde's buffer for tagged
    // enums cannot carry: a frame is read as a frame.
    let event = if head.kind == "frame" {
        serde_json::from_str(json).map(Event::Frame)
    } else {
        serde_json::from_str(json)
    }
    .map_err(|e| format!("a {:?} event of another shape: {e}", head.kind))?;
    Ok(Stamped {
        seq: head.seq,
        time: head.time.into_owned(),
        session: head.session,
        event,
    })
}

impl Record {
    /// This record's event, typed.
    pub fn read(&self) -> Result<Stamped, String> {
        read(&self.json)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json, value::RawValue};

    use super::*;
    use crate::events::{
        AppDirection, AppEvent, AuthStep, ChatStep, Direction, Ended, EventBus, FrameEvent,
        FrameType, HttpEvent, HttpKind, Late, PendingView, RingLimits, RoundEvent, RoundStep,
        SessionInfo, SessionState, Severity, TaskSide, TaskView, ToolCall,
    };

    fn every_kind() -> Vec<Event> {
        vec![
            Event::Frame(FrameEvent {
                direction: Direction::Received,
                message: Some(
                    RawValue::from_string(
                        r#"{"jsonrpc":"2.0", "id":7,"result":{"b":1,"a":2}}"#.into(),
                    )
                    .unwrap(),
                ),
                raw: None,
                method: None,
                id: Some(json!(7)),
                frame_type: FrameType::Response,
                duration_ms: Some(1.5),
                request_method: Some("tools/list".into()),
                late: Some(Late::AfterCancel),
                answered_by: None,
                bytes: 44,
            }),
            Event::Frame(FrameEvent {
                direction: Direction::Received,
                message: None,
                raw: Some("not json\u{1b}[2J".into()),
                method: None,
                id: None,
                frame_type: FrameType::Invalid,
                duration_ms: None,
                request_method: None,
                late: None,
                answered_by: None,
                bytes: 12,
            }),
            Event::Stderr {
                line: "a line".into(),
            },
            Event::State(Box::new(SessionInfo {
                id: Some("s1".into()),
                state: SessionState::Connecting,
                target: Some(json!({"transport": "http", "url": "http://127.0.0.1:1/mcp"})),
                authorization: Some(crate::events::AuthorizationView {
                    phase: "token".into(),
                    url: None,
                    paused: Some(crate::events::Paused {
                        flow: "f1".into(),
                        next: "POST /token".into(),
                        editable: vec!["scopes".into()],
                        current: json!({"scopes": ["a"]}),
                    }),
                    details: serde_json::Map::from_iter([("stepByStep".into(), json!(true))]),
                }),
                ..SessionInfo::default()
            })),
            Event::Pending(PendingView {
                id: "p1".into(),
                method: "sampling/createMessage".into(),
                params: json!({"messages": []}),
                received_at: "2026-12-05T00:00:00Z".into(),
                server_id: Some(json!("srv-1")),
                ..PendingView::default()
            }),
            Event::Round(RoundEvent {
                step: RoundStep::InputRequired {
                    keys: vec!["k".into()],
                    request_state: true,
                },
                request_id: 3,
                origin_request_id: 2,
                round: 1,
                method: "tools/call".into(),
            }),
            Event::Task(Box::new(TaskView {
                task_id: "t1".into(),
                side: TaskSide::Server,
                era: crate::events::Era::Legacy,
                method: "tools/call".into(),
                subject: Some("echo".into()),
                request_id: Some(4),
                server_request_id: None,
                status: Some(json!("working")),
                status_message: None,
                created_at: None,
                last_updated_at: None,
                ttl_ms: Some(json!(60000)),
                poll_interval_ms: 1000,
                task: json!({"taskId": "t1", "status": "working"}),
                outcome: None,
                answered_by: None,
                lost: None,
                polls: 2,
                seen_ms: Some(5),
            })),
            Event::Progress {
                request_id: Some(json!(3)),
                progress_token: json!("tok"),
                progress: json!(1),
                total: Some(json!(2)),
                message: None,
                after: Some(Ended::Timeout),
                after_ms: Some(10),
            },
            Event::Http(Box::new(HttpEvent {
                kind: Some(HttpKind::Exchange),
                method: Some("POST".into()),
                url: Some("http://127.0.0.1:1/mcp".into()),
                status: Some(401),
                response_headers: Some(json!({"www-authenticate": "Bearer"})),
                ..HttpEvent::default()
            })),
            Event::Http(Box::new(HttpEvent {
                kind: Some(HttpKind::StreamClosed),
                method: Some("GET".into()),
                events: Some(0),
                first_event_id: Some(None),
                last_event_id: Some(Some("7".into())),
                error: Some(None),
                ..HttpEvent::default()
            })),
            Event::Auth(AuthStep {
                phase: "prm".into(),
                ok: true,
                message: "found".into(),
                details: json!({"url": "http://127.0.0.1:1/.well-known"}),
            }),
            Event::App(Box::new(AppEvent {
                direction: AppDirection::FromApp,
                message: json!({"jsonrpc": "2.0", "id": 1, "method": "ui/initialize", "params": {}}),
                view: "v1".into(),
                request_id: Some(json!(4)),
                tool: Some("get-time".into()),
                uri: Some("ui://get-time/app.html".into()),
            })),
            Event::App(Box::new(AppEvent {
                direction: AppDirection::ToApp,
                message: json!({"jsonrpc": "2.0", "method": "ui/notifications/tool-input", "params": {}}),
                view: "v1".into(),
                request_id: None,
                tool: None,
                uri: None,
            })),
            Event::Chat(Box::new(ChatStep {
                chat: "c1".into(),
                step: 1,
                part: "tool".into(),
                model: None,
                text: None,
                tool_call: Some(ToolCall {
                    session: "s1".into(),
                    name: "echo".into(),
                    arguments: json!({"message": "hi"}),
                    result: json!({"content": []}),
                }),
            })),
            Event::Finding {
                severity: Severity::Warning,
                message: "odd".into(),
                frame_seq: Some(1),
            },
            Event::Removed {},
            Event::Exit {
                code: Some(0),
                signal: None,
                description: "exited".into(),
            },
        ]
    }

    /// Whatever the bus publishes reads back as the same event: the same JSON when written
    /// again, a frame's message text byte for byte (key order and spacing kept), and the stamp.
    #[test]
    fn every_kind_of_event_reads_back_as_it_was_published() {
        let bus = EventBus::new(RingLimits::default());
        let session: std::sync::Arc<str> = "s1".into();
        let events = every_kind();
        let written: Vec<String> = events
            .iter()
            .map(|e| serde_json::to_string(e).unwrap())
            .collect();
        for e in events {
            bus.publish_for(Some(&session), e);
        }
        let records = bus.next_after(0, usize::MAX).records;
        assert_eq!(records.len(), written.len());
        for (record, original) in records.iter().zip(&written) {
            let stamped = record
                .read()
                .unwrap_or_else(|e| panic!("{e}: {}", record.json));
            assert_eq!(stamped.seq, record.seq);
            assert_eq!(stamped.session.as_deref(), Some("s1"));
            assert!(!stamped.time.is_empty());
            assert_eq!(&serde_json::to_string(&stamped.event).unwrap(), original);
        }
        let Event::Frame(frame) = records[0].read().unwrap().event else {
            panic!("the first is a frame");
        };
        assert_eq!(
            frame.message.unwrap().get(),
            r#"{"jsonrpc":"2.0", "id":7,"result":{"b":1,"a":2}}"#
        );
    }

    #[test]
    fn a_line_that_is_no_event_is_an_error_not_a_panic() {
        for line in [
            "",
            "[]",
            r#"{"seq":1}"#,
            r#"{"seq":1,"kind":"nothing-we-know"}"#,
            r#"{"seq":1,"kind":"frame","direction":"sideways"}"#,
            r#"{"seq":1,"kind":"state","state":"asleep"}"#,
        ] {
            assert!(read(line).is_err(), "{line}");
        }
        let v: Value = json!({"seq": 2, "kind": "stderr", "line": "x", "future": true});
        assert!(read(&v.to_string()).is_ok(), "unknown fields are ignored");
    }

    /// A stream's end says its ids and error even when there are none; an exchange does not.
    #[test]
    fn a_stream_end_keeps_its_null_ids_and_an_exchange_has_none() {
        let closed = HttpEvent {
            kind: Some(HttpKind::StreamClosed),
            first_event_id: Some(None),
            last_event_id: Some(None),
            error: Some(None),
            ..HttpEvent::default()
        };
        let v = serde_json::to_value(&closed).unwrap();
        assert!(
            v["firstEventId"].is_null() && v.get("firstEventId").is_some(),
            "{v}"
        );
        assert!(v.get("error").is_some());
        let exchange = serde_json::to_value(HttpEvent {
            kind: Some(HttpKind::Exchange),
            status: Some(200),
            ..HttpEvent::default()
        })
        .unwrap();
        assert!(exchange.get("error").is_none() && exchange.get("lastEventId").is_none());
    }

    #[test]
    fn a_403_asks_for_authorization_when_any_part_says_insufficient_scope() {
        let refused = |excerpt: &str| HttpEvent {
            status: Some(403),
            body_excerpt: Some(excerpt.into()),
            ..HttpEvent::default()
        };
        assert!(refused(r#"{"error":"insufficient_scope"}"#).asks_authorization());
        assert!(!refused("forbidden").asks_authorization());
        let unauthorized = HttpEvent {
            status: Some(401),
            ..HttpEvent::default()
        };
        assert!(unauthorized.asks_authorization());
    }
}

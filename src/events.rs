//! The one event stream: a closed [`Event`] type, numbered and timestamped, serialised once when
//! published, kept in a ring bounded by count and bytes, and followed by any number of
//! subscribers that never slow the publisher down.
//!
//! Subscribers do not get their own queue. They keep the last `seq` they saw and copy what is newer
//! out of the ring, woken by a `watch` of the newest seq. A subscriber that falls further behind
//! than the ring reaches learns of the gap through [`Batch::lagged`], then carries on.

use std::{
    sync::{Arc, Mutex},
    time::SystemTime,
};

use serde::{Deserialize, Serialize};
use serde_json::{Value, value::RawValue};
use tokio::sync::watch;

mod elide;
mod history;
mod info;
pub mod observed;
mod payload;
pub mod read;
mod ring;

pub use history::{HistoryFilter, Needle, Page, SCAN_BUDGET, TailStart};
pub use info::{AuthorizationView, Era, Paused, SessionInfo, SessionState};
pub use payload::{
    AppDirection, AppEvent, AuthStep, ChatStep, HttpEvent, HttpKind, PendingView, RoundEvent,
    RoundStep, TaskSide, TaskView, ToolCall,
};
pub use read::{Stamped, read};
use ring::Ring;

/// Everything observable about a session. Closed on purpose: the UI and tests switch on `kind`.
/// Which session an event belongs to is not part of the event: [`EventBus::publish_for`] stamps
/// it beside `seq` and `time`. Read back (from the ring or a recording) with [`read`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Event {
    /// One JSON-RPC frame, exactly as it crossed the wire. (Its raw text cannot pass through
    /// serde's tagged-enum buffer, so [`read`] reads a frame on its own.)
    #[serde(skip_deserializing)]
    Frame(FrameEvent),
    /// One line the stdio child wrote to stderr.
    Stderr { line: String },
    /// The session object changed (connect, handshake, failure, disconnect).
    State(Box<SessionInfo>),
    /// A server→client request (or a modern input request) is waiting for an answer.
    Pending(PendingView),
    /// A step of a modern call that asked for input (MRTR), tied to the call.
    Round(RoundEvent),
    /// A task this session follows changed (created, a new status, its outcome, lost): the
    /// whole task view as `GET /api/tasks` lists it.
    Task(Box<TaskView>),
    /// A `notifications/progress` tied back to the request that carried its token. Progress
    /// may legitimately race our cancel or timeout; then it is still tied to that request, and
    /// `after` says how the request had ended, `afterMs` how long before.
    Progress {
        #[serde(rename = "requestId")]
        request_id: Option<Value>,
        #[serde(rename = "progressToken")]
        progress_token: Value,
        progress: Value,
        total: Option<Value>,
        message: Option<Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        after: Option<Ended>,
        #[serde(rename = "afterMs", skip_serializing_if = "Option::is_none")]
        after_ms: Option<u64>,
    },
    /// One HTTP exchange with a remote target, headers already redacted; an authorization
    /// flow's requests say their `phase`.
    Http(Box<HttpEvent>),
    /// One step of an authorization flow. Never a token, code, verifier or secret.
    Auth(AuthStep),
    /// One message of an MCP App's bridge, tied to the tool call that opened the app.
    App(Box<AppEvent>),
    /// One step of a chat (`POST /api/chat`, an eval case): the model's turn or a tool's result.
    Chat(Box<ChatStep>),
    /// A protocol violation or oddity, tied to the frame it concerns.
    Finding {
        severity: Severity,
        message: String,
        /// The `seq` of the frame event this finding is about, if any.
        #[serde(rename = "frameSeq")]
        frame_seq: Option<u64>,
    },
    /// The session was forgotten (`DELETE /api/sessions/{id}`); nothing more will carry its id.
    Removed {},
    /// The stdio child exited.
    Exit {
        code: Option<i32>,
        signal: Option<i32>,
        description: String,
    },
}

/// A frame event. `message` holds the frame's own text when it was valid JSON, so nothing is
/// re-ordered or re-formatted; `raw` holds the text when it was not JSON.
#[derive(Debug, Serialize, Deserialize)]
pub struct FrameEvent {
    /// `direction` and then `message` come first: [`Record::message_at`] finds the message
    /// right after them.
    pub direction: Direction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Box<RawValue>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
    /// Summary fields so consumers can filter without parsing `message`: what the engine
    /// classified when the frame crossed the wire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    #[serde(rename = "frameType")]
    pub frame_type: FrameType,
    /// For responses to our requests: how long the server took, in milliseconds.
    #[serde(rename = "durationMs", skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// For responses: the method of the request they answer.
    #[serde(rename = "requestMethod", skip_serializing_if = "Option::is_none")]
    pub request_method: Option<String>,
    /// Set when the frame answers a request the caller already gave up on (timeout or cancel).
    #[serde(rename = "late", default, skip_serializing_if = "Option::is_none")]
    pub late: Option<Late>,
    /// For our answers to the server's requests: who chose the answer (a person, a mock rule,
    /// the roots list), so automatic answers are never mistaken for manual ones.
    #[serde(rename = "answeredBy", skip_serializing_if = "Option::is_none")]
    pub answered_by: Option<Value>,
    /// Byte length on the wire (without the line terminator).
    #[serde(default)]
    pub bytes: usize,
}

/// What a frame is, as the engine classified it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FrameType {
    Request,
    Notification,
    /// A response with a `result`.
    Response,
    /// A response with an `error`.
    Error,
    Batch,
    /// Not JSON, or not a JSON-RPC message.
    Invalid,
}

/// How a request of ours had ended when its answer came anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Late {
    #[serde(rename = "after timeout")]
    AfterTimeout,
    #[serde(rename = "after cancel")]
    AfterCancel,
    #[serde(rename = "after failure")]
    AfterFailure,
}

impl Late {
    pub fn as_str(self) -> &'static str {
        match self {
            Late::AfterTimeout => "after timeout",
            Late::AfterCancel => "after cancel",
            Late::AfterFailure => "after failure",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Sent,
    Received,
}

/// How we gave up on a request of ours before its answer came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Ended {
    Cancelled,
    Timeout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// A published event: its number, its session, and its JSON text (an object with `seq`, `time`,
/// `session` when it has one, `kind`, …).
#[derive(Debug)]
pub struct Record {
    pub seq: u64,
    pub session: Option<Arc<str>>,
    pub json: String,
}

impl Record {
    /// Where a frame's message starts in the text: it is written there as it crossed the wire,
    /// after the stamp, the kind and the direction.
    pub fn message_at(&self) -> Option<usize> {
        const KEY: &[u8] = b"\"message\":";
        let head = &self.json.as_bytes()[..self.json.len().min(256)];
        memchr::memmem::find(head, KEY).map(|at| at + KEY.len())
    }

    /// Whether a subscriber following `session` sees this record: its own events and those that
    /// belong to no session.
    pub fn visible_to(&self, session: Option<&str>) -> bool {
        match (session, &self.session) {
            (Some(want), Some(own)) => **own == *want,
            _ => true,
        }
    }
}

/// Limits of the retained history.
#[derive(Debug, Clone, Copy)]
pub struct RingLimits {
    pub max_events: usize,
    pub max_bytes: usize,
}

impl RingLimits {
    /// Room for `max_events`: `max_mb` when given, else the default bytes or, for a longer
    /// history, 512 bytes an event (a small event takes about 250), so a bigger count is not
    /// cut short by the default byte bound.
    pub fn sized(max_events: usize, max_mb: Option<u64>) -> RingLimits {
        let max_bytes = match max_mb {
            Some(mb) => usize::try_from(mb.saturating_mul(1 << 20)).unwrap_or(usize::MAX),
            None => RingLimits::default()
                .max_bytes
                .max(max_events.saturating_mul(512)),
        };
        RingLimits {
            max_events,
            max_bytes,
        }
    }
}

impl Default for RingLimits {
    fn default() -> Self {
        RingLimits {
            max_events: 100_000,
            max_bytes: 256 * 1024 * 1024,
        }
    }
}

/// A frame this big (bytes on the wire) is serialised straight into the ring's text.
const BIG_FRAME: usize = 64 * 1024;

/// Our own types always serialise; keep the stream whole even if one does not.
fn unserialisable(e: &serde_json::Error) -> String {
    format!(r#"{{"kind":"finding","severity":"error","message":"unserialisable event: {e}"}}"#)
}

/// The room [`stamp`] takes, at most.
fn stamp_len(session: Option<&Arc<str>>) -> usize {
    64 + session.map_or(0, |id| id.len() + 14)
}

/// `{"seq":…,"time":"…","session":"…",`: what the bus puts in front of an event's own fields.
fn stamp(out: &mut Vec<u8>, seq: u64, time: &str, session: Option<&Arc<str>>) {
    out.extend_from_slice(b"{\"seq\":");
    out.extend_from_slice(seq.to_string().as_bytes());
    out.extend_from_slice(b",\"time\":\"");
    out.extend_from_slice(time.as_bytes());
    out.extend_from_slice(b"\",");
    if let Some(id) = session {
        // Session ids are ours (`s1`, `s2`, …): no escaping needed.
        out.extend_from_slice(b"\"session\":\"");
        out.extend_from_slice(id.as_bytes());
        out.extend_from_slice(b"\",");
    }
}

/// A writer that drops the first byte written to it (the event's own `{`, after our stamp).
struct SkipFirst<'a>(&'a mut Vec<u8>, bool);

impl std::io::Write for SkipFirst<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut rest = buf;
        if self.1 && !rest.is_empty() {
            self.1 = false;
            rest = &rest[1..];
        }
        self.0.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The bus: publish from anywhere, subscribe from anywhere. Cheap to clone.
#[derive(Clone)]
pub struct EventBus {
    inner: Arc<BusInner>,
}

struct BusInner {
    ring: Mutex<Ring>,
    limits: RingLimits,
    newest: watch::Sender<u64>,
}

/// What a subscriber gets from one [`EventBus::next_after`] call.
#[derive(Debug, Default)]
pub struct Batch {
    /// Set when events after the subscriber's position were evicted before it read them:
    /// `(first missing seq, how many)`.
    pub lagged: Option<(u64, u64)>,
    pub records: Vec<Arc<Record>>,
}

impl EventBus {
    pub fn new(limits: RingLimits) -> Self {
        let (newest, _) = watch::channel(0);
        EventBus {
            inner: Arc::new(BusInner {
                ring: Mutex::new(Ring::new()),
                limits,
                newest,
            }),
        }
    }

    /// A bus whose history starts with recorded events, kept as they were written (their seq,
    /// time and session). Seqs must rise; the next event published follows the last one.
    pub fn with_history(limits: RingLimits, history: Vec<Record>) -> Self {
        let bus = EventBus::new(limits);
        let last = history.last().map_or(0, |r| r.seq);
        {
            let mut ring = bus.inner.ring.lock().unwrap();
            ring.recorded = last;
            ring.next_seq = last + 1;
            for record in history {
                let seq = record.seq;
                let summary = record.summary_by_reading();
                ring.push_unbounded(Arc::new(record));
                if let Some(summary) = summary {
                    ring.set_summary(seq, summary.into());
                }
            }
        }
        bus.inner.newest.send_replace(last);
        bus
    }

    /// Publishes an event that belongs to no session.
    pub fn publish(&self, event: Event) -> u64 {
        self.publish_for(None, event)
    }

    /// Numbers, stamps, serialises and stores one event; returns its seq. Never blocks on readers.
    pub fn publish_for(&self, session: Option<&Arc<str>>, event: Event) -> u64 {
        self.publish_kept(session, event).seq
    }

    /// [`EventBus::publish_for`], handing back the record kept (shared with the ring, and
    /// there to read even if the ring has let it go meanwhile).
    pub fn publish_kept(&self, session: Option<&Arc<str>>, event: Event) -> Arc<Record> {
        let time = humantime::format_rfc3339_micros(SystemTime::now()).to_string();
        if matches!(&event, Event::Frame(f) if f.bytes >= BIG_FRAME) {
            return self.publish_big(session, &event, &time);
        }
        let body = serde_json::to_string(&event).unwrap_or_else(|e| unserialisable(&e));
        let record = {
            let mut ring = self.inner.ring.lock().unwrap();
            let seq = ring.next_seq;
            ring.next_seq += 1;
            // `body` is `{"kind":…}`; splice seq and time in front without re-parsing it, in
            // one allocation: a regrowth would double it, and the ring holds 100k of these.
            let mut json = Vec::with_capacity(body.len() + stamp_len(session));
            stamp(&mut json, seq, &time, session);
            json.extend_from_slice(&body.as_bytes()[1..]);
            self.keep(&mut ring, seq, session, json)
        };
        self.inner.newest.send_replace(record.seq);
        record
    }

    /// A big frame is written once, straight into the text the ring keeps: serialising it apart
    /// first would hold a second copy of the server's bytes (a 100 MB result cost 5× its size).
    fn publish_big(&self, session: Option<&Arc<str>>, event: &Event, time: &str) -> Arc<Record> {
        // The text as it will be written: a line's invalid UTF-8 replaced, or a line that is
        // not JSON escaped, is longer than the bytes that crossed.
        let hint = match event {
            Event::Frame(f) => {
                f.message.as_ref().map_or(0, |m| m.get().len())
                    + f.raw.as_ref().map_or(0, |r| r.len() * 2)
                    + 1024
            }
            _ => 0,
        };
        // What a page is sent instead (the frame without its bytes), made now, not by every
        // reader that asks.
        let summary = elide::summary_body(event);
        let record = {
            let mut ring = self.inner.ring.lock().unwrap();
            let seq = ring.next_seq;
            ring.next_seq += 1;
            let mut json = Vec::with_capacity(hint + stamp_len(session));
            stamp(&mut json, seq, time, session);
            let start = json.len();
            if let Err(e) = serde_json::to_writer(SkipFirst(&mut json, true), event) {
                json.truncate(start);
                json.extend_from_slice(&unserialisable(&e).as_bytes()[1..]);
            }
            let record = self.keep(&mut ring, seq, session, json);
            if let Some(body) = summary {
                let mut text = Vec::with_capacity(body.len() + stamp_len(session));
                stamp(&mut text, seq, time, session);
                text.extend_from_slice(&body.as_bytes()[1..]);
                let text = String::from_utf8(text).expect("serde_json and our stamp write UTF-8");
                ring.set_summary(seq, text.into());
            }
            record
        };
        self.inner.newest.send_replace(record.seq);
        record
    }

    fn keep(
        &self,
        ring: &mut Ring,
        seq: u64,
        session: Option<&Arc<str>>,
        json: Vec<u8>,
    ) -> Arc<Record> {
        let json = String::from_utf8(json).expect("serde_json and our stamp write UTF-8");
        let record = Arc::new(Record {
            seq,
            session: session.cloned(),
            json,
        });
        ring.push(record.clone(), self.inner.limits);
        record
    }

    /// The seq of the newest event published so far (0 when none).
    pub fn newest_seq(&self) -> u64 {
        *self.inner.newest.borrow()
    }

    /// A receiver that changes whenever something is published.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.inner.newest.subscribe()
    }

    /// Up to `max` retained events with seq greater than `after`, in seq order; every event
    /// evicted after `after` before it was read is counted in [`Batch::lagged`].
    pub fn next_after(&self, after: u64, max: usize) -> Batch {
        self.read_after(after, max, after)
    }

    /// As [`EventBus::next_after`], where events evicted at or below `horizon` are history that
    /// was gone when the reader started (see [`TailStart::horizon`]), not a lag.
    pub fn read_after(&self, after: u64, max: usize, horizon: u64) -> Batch {
        self.inner.ring.lock().unwrap().after(after, max, horizon)
    }

    /// Retained counts, for tests and diagnostics.
    pub fn retained(&self) -> (usize, usize) {
        self.inner.ring.lock().unwrap().retained()
    }
}

#[cfg(test)]
mod tests;

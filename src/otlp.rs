//! `--otlp URL`: every session's traffic (ours, tapped and proxied alike) as OpenTelemetry traces
//! sent to a collector over OTLP/HTTP (protobuf, `URL/v1/traces`), with the OpenTelemetry crates:
//! the SDK's batch processor and the OTLP exporter. A follower reads the event stream through the
//! typed reader, like every other consumer, and makes one span per request with its answer:
//! method, the tool, resource or prompt it acts on, status and error code, duration, the session
//! and server names. The server's (and client's) notifications are span events of the request
//! they concern (by progress token, else the newest open request of the session). A request
//! whose `_meta.traceparent` names a W3C trace context becomes a span of that trace, child of
//! the span it names; others start a trace of their own.
//!
//! Never in the way: spans wait in a bounded queue, and one that would go past it is dropped and
//! counted ([`Otlp::dropped`], said in the log), never waited for. Strings that may carry a
//! session's secrets (URIs, error messages) are scrubbed as exports scrub them.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, SystemTime},
};

use opentelemetry::{
    InstrumentationScope, KeyValue,
    trace::{Event, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState},
};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::{
    Resource,
    error::OTelSdkResult,
    trace::{
        BatchConfigBuilder, BatchSpanProcessor, SpanData, SpanEvents, SpanExporter, SpanLinks,
        SpanProcessor,
    },
};
use serde_json::Value;
use tokio::sync::watch;

use crate::{
    events::{Direction, Event as Observed, EventBus, FrameType, SessionState, Stamped},
    recording::export::Secrets,
    session::Sessions,
};

/// Spans waiting to be exported; past this, new ones are dropped and counted.
const QUEUE: usize = 8192;
/// Requests followed at once (waiting for their answers); past this, new ones are not traced.
const OPEN_MAX: usize = 16_384;

/// The exporter, counting what it has taken off the queue.
#[derive(Debug)]
struct Counting {
    inner: opentelemetry_otlp::SpanExporter,
    pending: Arc<AtomicUsize>,
}

impl SpanExporter for Counting {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len();
        let done = self.inner.export(batch).await;
        self.pending.fetch_sub(n, Ordering::Relaxed);
        done
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// The running export.
pub struct Otlp {
    processor: BatchSpanProcessor,
    pending: Arc<AtomicUsize>,
    dropped: AtomicU64,
}

impl Otlp {
    /// The exporter for a collector at `url` (its base: `/v1/traces` is added).
    pub fn new(url: &str) -> Result<Otlp, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("--otlp {url:?}: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("--otlp {url:?}: an http(s) URL of a collector"));
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let endpoint = format!("{}/v1/traces", url.trim_end_matches('/'));
        let inner = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint)
            .with_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| format!("--otlp: {e}"))?;
        let pending = Arc::new(AtomicUsize::new(0));
        let mut processor = BatchSpanProcessor::builder(Counting {
            inner,
            pending: pending.clone(),
        })
        .with_batch_config(
            BatchConfigBuilder::default()
                // Above ours, so the SDK never drops on its own: we count what is dropped.
                .with_max_queue_size(QUEUE * 2)
                .with_max_export_batch_size(512)
                .with_scheduled_delay(Duration::from_millis(500))
                .build(),
        )
        .build();
        processor.set_resource(
            &Resource::builder_empty()
                .with_service_name("mcpscope")
                .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
                .build(),
        );
        Ok(Otlp {
            processor,
            pending,
            dropped: AtomicU64::new(0),
        })
    }

    /// Spans dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn offer(&self, span: SpanData) {
        if self.pending.fetch_add(1, Ordering::Relaxed) >= QUEUE {
            self.pending.fetch_sub(1, Ordering::Relaxed);
            if self.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
                tracing::warn!(
                    "the OTLP queue is full: spans are dropped (and counted) until the collector catches up"
                );
            }
            return;
        }
        self.processor.on_end(span);
    }

    /// Follows the event stream until `stop`, then sends what is queued.
    pub async fn follow(
        self,
        bus: EventBus,
        sessions: Arc<Sessions>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut watch = bus.watch();
        let mut after = bus.newest_seq();
        let mut spans = Spans::default();
        loop {
            let batch = bus.next_after(after, 1024);
            if let Some(last) = batch.records.last() {
                after = last.seq;
                for record in &batch.records {
                    if let Ok(stamped) = record.read() {
                        for span in spans.observe(stamped, &sessions) {
                            self.offer(span);
                        }
                    }
                }
                continue;
            }
            tokio::select! {
                changed = watch.changed() => if changed.is_err() { break },
                _ = stop.wait_for(|s| *s) => break,
            }
        }
        let dropped = self.dropped();
        if dropped > 0 {
            tracing::warn!(dropped, "OTLP: spans dropped because the queue was full");
        }
        let processor = self.processor;
        let _ = tokio::task::spawn_blocking(move || processor.shutdown()).await;
    }
}

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
    token: Option<Value>,
    order: u64,
}

/// The follower's state: sessions' meta and their open requests.
#[derive(Default)]
struct Spans {
    meta: HashMap<String, Meta>,
    /// By (session, the direction the request went, its id).
    open: HashMap<(String, bool, String), Open>,
    order: u64,
}

impl Spans {
    fn observe(&mut self, e: Stamped, sessions: &Sessions) -> Vec<SpanData> {
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
                let secrets = || {
                    Secrets::new(
                        sessions
                            .get(&session)
                            .map(|s| s.secret_values())
                            .unwrap_or_default(),
                    )
                };
                match (frame.frame_type, &frame.id, frame.method.as_deref()) {
                    (FrameType::Request, Some(id), Some(method)) => {
                        self.start(&session, sent, id, method, &message, at, &secrets());
                        Vec::new()
                    }
                    (FrameType::Notification, _, Some(method)) => {
                        self.notification(&session, sent, method, &message, at)
                    }
                    (FrameType::Response | FrameType::Error, Some(id), _) => {
                        // An answer goes the other way from its request.
                        let key = (session.clone(), !sent, id.to_string());
                        match self.open.remove(&key) {
                            Some(open) => vec![Self::finish(open, &message, at, &secrets())],
                            None => Vec::new(),
                        }
                    }
                    _ => Vec::new(),
                }
            }
            _ => Vec::new(),
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
    ) {
        if self.open.len() >= OPEN_MAX {
            return;
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
        .and_then(|(k, v)| v.as_str().map(|v| (k, scrub(secrets, v))));
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
        self.open.insert(
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
                token: params.pointer("/_meta/progressToken").cloned(),
                order: self.order,
            },
        );
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
            open.events.push(event);
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

    /// Every open request of a session ends unanswered.
    fn close_all(&mut self, session: &str, at: SystemTime, why: &str) -> Vec<SpanData> {
        let keys: Vec<_> = self
            .open
            .keys()
            .filter(|(s, _, _)| s == session)
            .cloned()
            .collect();
        let none = Secrets::new(Vec::<String>::new());
        keys.into_iter()
            .filter_map(|k| self.open.remove(&k))
            .map(|open| {
                let mut span = Self::finish(open, &Value::Null, at, &none);
                span.status = Status::error(why.to_owned());
                span
            })
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

    #[test]
    fn a_secret_in_a_uri_is_scrubbed() {
        let s = Secrets::new(["tok-123456".to_owned()]);
        assert_eq!(
            scrub(&s, "file:///x?key=tok-123456"),
            "file:///x?key=<redacted>"
        );
    }
}

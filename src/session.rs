//! The session: the one owner of a live connection to a target. A task (the actor) owns the
//! transport link and the wire engine; everything else talks to it through [`SessionHandle`]
//! commands. It runs the handshake, relays our requests and their outcomes, answers the server's
//! `ping`, queues server→client requests for a person or script to answer, turns progress into
//! events, enforces per-request deadlines, and fails every waiting call at once when the target
//! goes away.
//!
//! [`Sessions`] holds the current session and its public state object; connecting replaces it.

mod handshake;

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

use serde_json::{Value, json, value::RawValue};
use tokio::sync::{mpsc, oneshot};

pub use handshake::{DEFAULT_PROTOCOL_VERSION, KNOWN_PROTOCOL_VERSIONS};
pub use http::{RemoteKind, RemoteTarget};

use crate::{
    events::{Event, EventBus, Severity},
    responders::{AutoAnswer, ResponderStore, Settings},
    transport::{Link, TransportEvent, http, stdio},
    wire::{self, Engine, Inbound, Outcome, Timeout},
};

/// Default per-request timeout: how long a request may go without an answer or progress.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default hard maximum per request, however much progress arrives.
pub const DEFAULT_MAX_TOTAL: Duration = Duration::from_secs(600);
/// How many URL elicitation ids we remember to match `notifications/elicitation/complete`.
const ELICITATION_MEMORY: usize = 256;
/// How long connecting may take before the handshake counts as failed.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// stderr lines kept to explain a failed start.
const STDERR_TAIL: usize = 12;

/// What to connect to.
#[derive(Debug, Clone)]
pub enum Target {
    Stdio(stdio::StdioTarget),
    Remote(http::RemoteTarget),
}

impl Target {
    /// The target as the session object shows it. Environment and header values are redacted:
    /// they are where tokens live, and the session object travels in events.
    pub fn describe(&self) -> Value {
        match self {
            Target::Stdio(t) => json!({
                "transport": "stdio",
                "command": t.command,
                "args": t.args,
                "env": t.env.keys().map(|k| (k.clone(), json!("<redacted>"))).collect::<serde_json::Map<_, _>>(),
                "cwd": t.cwd,
            }),
            Target::Remote(t) => json!({
                "transport": t.kind.as_str(),
                "url": t.url,
                "headers": t.headers.keys().map(|k| (k.clone(), json!("<redacted>"))).collect::<serde_json::Map<_, _>>(),
            }),
        }
    }
}

/// Everything that shapes one connection besides the target.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub protocol_version: String,
    pub client_capabilities: Value,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            protocol_version: DEFAULT_PROTOCOL_VERSION.to_owned(),
            client_capabilities: default_client_capabilities(),
        }
    }
}

/// Everything mcpscope can answer, so servers show every feature; the user may turn parts off
/// to test a server's fallbacks.
pub fn default_client_capabilities() -> Value {
    json!({
        "roots": {"listChanged": true},
        "sampling": {"tools": {}},
        "elicitation": {"form": {}, "url": {}},
    })
}

/// The public session object (`GET /api/session`, `state` events).
#[derive(Debug, Clone, Default)]
pub struct SessionInfo {
    pub state: &'static str,
    pub target: Option<Value>,
    pub protocol_version: Option<String>,
    pub server_info: Option<Value>,
    pub capabilities: Option<Value>,
    pub instructions: Option<Value>,
    pub client_capabilities: Option<Value>,
    pub error: Option<String>,
}

impl SessionInfo {
    fn disconnected() -> Self {
        SessionInfo {
            state: "disconnected",
            ..Default::default()
        }
    }

    pub fn to_json(&self) -> Value {
        json!({
            "state": self.state,
            "target": self.target,
            "protocolVersion": self.protocol_version,
            "serverInfo": self.server_info,
            "capabilities": self.capabilities,
            "instructions": self.instructions,
            "clientCapabilities": self.client_capabilities,
            "error": self.error,
        })
    }
}

/// A failure on our side of the wire (the server never answered).
#[derive(Debug, Clone, thiserror::Error)]
pub enum LocalError {
    #[error("not connected")]
    NotConnected,
    #[error("{0}; notifications/cancelled was sent")]
    Timeout(String),
    #[error("{0}")]
    Transport(String),
    #[error("cancelled: {0}")]
    Cancelled(String),
    #[error("{0}")]
    Unsupported(String),
}

/// The server's answer to an API request, with the id we gave the request.
#[derive(Debug)]
pub struct Answer {
    pub id: i64,
    pub outcome: Outcome,
}

/// A server→client request waiting for an answer.
#[derive(Debug, Clone)]
pub struct PendingRequest {
    pub key: String,
    pub server_id: Value,
    pub method: String,
    pub params: Value,
    pub received_at: String,
}

impl PendingRequest {
    pub fn to_json(&self) -> Value {
        json!({"id": self.key, "method": self.method, "params": self.params, "receivedAt": self.received_at, "serverId": self.server_id})
    }
}

enum Command {
    Request {
        method: String,
        params: Option<Value>,
        timeout: Timeout,
        reply: oneshot::Sender<Result<Answer, LocalError>>,
    },
    RootsChanged,
    Inflight {
        reply: oneshot::Sender<Vec<Value>>,
    },
    Notify {
        method: String,
        params: Option<Value>,
    },
    Cancel {
        request_id: i64,
        reason: Option<String>,
        reply: oneshot::Sender<bool>,
    },
    AnswerPending {
        key: String,
        outcome: Result<Value, Value>,
        reply: oneshot::Sender<bool>,
    },
    Shutdown {
        done: oneshot::Sender<()>,
    },
}

/// A cheap, cloneable way to talk to a running session.
#[derive(Clone)]
pub struct SessionHandle {
    commands: mpsc::UnboundedSender<Command>,
}

impl SessionHandle {
    /// Sends a request and waits for the server's answer or a local failure.
    pub async fn request(
        &self,
        method: String,
        params: Option<Value>,
        timeout: Timeout,
    ) -> Result<Answer, LocalError> {
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(Command::Request {
                method,
                params,
                timeout,
                reply,
            })
            .map_err(|_| LocalError::NotConnected)?;
        rx.await
            .unwrap_or_else(|_| Err(LocalError::Transport("the session ended".into())))
    }

    pub fn notify(&self, method: String, params: Option<Value>) -> Result<(), LocalError> {
        self.commands
            .send(Command::Notify { method, params })
            .map_err(|_| LocalError::NotConnected)
    }

    /// Cancels one of our requests; false if it was not waiting.
    pub async fn cancel(&self, request_id: i64, reason: Option<String>) -> bool {
        let (reply, rx) = oneshot::channel();
        if self
            .commands
            .send(Command::Cancel {
                request_id,
                reason,
                reply,
            })
            .is_err()
        {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    /// Answers a queued server→client request; false if no such request is waiting.
    pub async fn answer_pending(&self, key: String, outcome: Result<Value, Value>) -> bool {
        let (reply, rx) = oneshot::channel();
        if self
            .commands
            .send(Command::AnswerPending {
                key,
                outcome,
                reply,
            })
            .is_err()
        {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    /// Our requests still waiting for an answer, with their time limits and latest progress.
    pub async fn inflight(&self) -> Vec<Value> {
        let (reply, rx) = oneshot::channel();
        if self.commands.send(Command::Inflight { reply }).is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    async fn shutdown(&self) {
        let (done, rx) = oneshot::channel();
        if self.commands.send(Command::Shutdown { done }).is_ok() {
            let _ = rx.await;
        }
    }
}

/// The current session, if any, and its state object.
pub struct Sessions {
    events: EventBus,
    responders: Arc<ResponderStore>,
    inner: Mutex<Current>,
    /// Serialises connect and disconnect so two connects cannot interleave.
    lifecycle: tokio::sync::Mutex<()>,
}

struct Current {
    /// The last target connected to, with its real (unredacted) settings, for reconnect.
    last: Option<(Target, ConnectOptions)>,
    generation: u64,
    handle: Option<SessionHandle>,
    info: SessionInfo,
    pending: Vec<PendingRequest>,
}

/// What the actor uses to publish state; ignores updates from a session that was replaced.
#[derive(Clone)]
struct Reporter {
    sessions: Arc<Sessions>,
    generation: u64,
}

impl Reporter {
    fn update(&self, f: impl FnOnce(&mut SessionInfo)) {
        let json = {
            let mut cur = self.sessions.inner.lock().unwrap();
            if cur.generation != self.generation {
                return;
            }
            f(&mut cur.info);
            cur.info.to_json()
        };
        self.sessions.events.publish(Event::State(json));
    }

    fn set_pending(&self, f: impl FnOnce(&mut Vec<PendingRequest>)) {
        let mut cur = self.sessions.inner.lock().unwrap();
        if cur.generation == self.generation {
            f(&mut cur.pending);
        }
    }

    fn publish(&self, event: Event) -> u64 {
        self.sessions.events.publish(event)
    }
}

impl Sessions {
    pub fn new(events: EventBus, responders: Arc<ResponderStore>) -> Arc<Self> {
        Arc::new(Sessions {
            events,
            responders,
            inner: Mutex::new(Current {
                last: None,
                generation: 0,
                handle: None,
                info: SessionInfo::disconnected(),
                pending: Vec::new(),
            }),
            lifecycle: tokio::sync::Mutex::new(()),
        })
    }

    pub fn info(&self) -> SessionInfo {
        self.inner.lock().unwrap().info.clone()
    }

    pub fn handle(&self) -> Option<SessionHandle> {
        self.inner.lock().unwrap().handle.clone()
    }

    pub fn pending(&self) -> Vec<PendingRequest> {
        self.inner.lock().unwrap().pending.clone()
    }

    pub fn responders(&self) -> Settings {
        self.responders.get().settings().clone()
    }

    /// Replaces the responder settings; when the roots changed, the live session tells the
    /// server (`notifications/roots/list_changed`, where the client declared it).
    pub fn set_responders(&self, settings: Settings) -> Result<Settings, String> {
        let old = self.responders.replace(settings)?;
        let new = self.responders.get();
        if old.settings().roots != new.settings().roots
            && let Some(handle) = self.handle()
        {
            let _ = handle.commands.send(Command::RootsChanged);
        }
        Ok(new.settings().clone())
    }

    /// Replaces any current session with a new one and waits until it is connected or failed.
    ///
    /// The lifecycle lock covers only the swap, not the handshake, so a disconnect (or another
    /// connect) can end a session that hangs while connecting.
    pub async fn connect(self: &Arc<Self>, target: Target, options: ConnectOptions) -> SessionInfo {
        let guard = self.lifecycle.lock().await;
        self.stop_current().await;
        let generation = {
            let mut cur = self.inner.lock().unwrap();
            cur.last = Some((target.clone(), options.clone()));
            cur.generation += 1;
            cur.pending.clear();
            cur.generation
        };
        let reporter = Reporter {
            sessions: self.clone(),
            generation,
        };
        reporter.update(|info| {
            *info = SessionInfo {
                state: "connecting",
                target: Some(target.describe()),
                client_capabilities: Some(options.client_capabilities.clone()),
                ..Default::default()
            }
        });
        let link = match &target {
            Target::Stdio(t) => {
                stdio::spawn(t).map_err(|e| format!("could not start `{}`: {e}", t.command))
            }
            Target::Remote(t) => http::spawn(t),
        };
        let link = match link {
            Ok(link) => link,
            Err(message) => {
                drop(guard);
                reporter.update(|info| {
                    info.state = "failed";
                    info.error = Some(message);
                });
                return self.info();
            }
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        let (auto_tx, auto_rx) = mpsc::unbounded_channel();
        self.inner.lock().unwrap().handle = Some(SessionHandle { commands: tx });
        let actor = Actor {
            link,
            engine: Engine::default(),
            reporter,
            options,
            stderr_tail: VecDeque::new(),
            ready: Some(ready_tx),
            connected: false,
            pending_seq: 0,
            pending: HashMap::new(),
            responders: self.responders.clone(),
            auto_tx,
            delayed: HashMap::new(),
            last_progress: HashMap::new(),
            elicitations: VecDeque::new(),
            remote: matches!(target, Target::Remote(_)),
        };
        tokio::spawn(actor.run(rx, auto_rx));
        drop(guard);
        let _ = ready_rx.await;
        // If a disconnect or another connect ended this session, let it finish reporting first.
        let _settled = self.lifecycle.lock().await;
        self.info()
    }

    /// Connects again to the last target, with the same settings; None if there was none.
    pub async fn reconnect(self: &Arc<Self>) -> Option<SessionInfo> {
        let last = self.inner.lock().unwrap().last.clone();
        let (target, options) = last?;
        Some(self.connect(target, options).await)
    }

    /// Shuts the current session down (if any) and reports `disconnected`.
    pub async fn disconnect(self: &Arc<Self>) -> SessionInfo {
        let _guard = self.lifecycle.lock().await;
        self.stop_current().await;
        let json = {
            let mut cur = self.inner.lock().unwrap();
            cur.generation += 1;
            let target = cur.info.target.take();
            cur.info = SessionInfo {
                target,
                ..SessionInfo::disconnected()
            };
            cur.pending.clear();
            cur.info.to_json()
        };
        self.events.publish(Event::State(json));
        self.info()
    }

    async fn stop_current(&self) {
        let handle = self.inner.lock().unwrap().handle.take();
        if let Some(handle) = handle {
            handle.shutdown().await;
        }
    }
}

/// Why we sent a request: the API waits for it, or it is part of the handshake.
enum Tag {
    Api(oneshot::Sender<Result<Answer, LocalError>>),
    Handshake,
}

struct Actor {
    link: Link,
    engine: Engine<Tag>,
    reporter: Reporter,
    options: ConnectOptions,
    stderr_tail: VecDeque<String>,
    ready: Option<oneshot::Sender<()>>,
    connected: bool,
    pending_seq: u64,
    /// Server requests not yet answered: those waiting for a person, and delayed mock answers.
    pending: HashMap<String, PendingRequest>,
    responders: Arc<ResponderStore>,
    /// A delayed mock answer's timer reports its pending key here.
    auto_tx: mpsc::UnboundedSender<String>,
    delayed: HashMap<String, AutoAnswer>,
    /// The latest progress per request of ours, for the in-flight list.
    last_progress: HashMap<i64, Value>,
    /// Recent URL elicitation ids, to tell whether a completion notice matches one.
    elicitations: VecDeque<String>,
    /// An HTTP target: no child process, no exit status.
    remote: bool,
}

impl Actor {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut auto: mpsc::UnboundedReceiver<String>,
    ) {
        let init = handshake::initialize_params(&self.options);
        self.send_request(
            "initialize",
            Some(init),
            Timeout::fixed(HANDSHAKE_TIMEOUT),
            None,
            Tag::Handshake,
        );
        let mut shutdown_done: Option<oneshot::Sender<()>> = None;
        let mut commands_open = true;
        loop {
            let deadline = self.engine.next_deadline();
            tokio::select! {
                cmd = commands.recv(), if commands_open && shutdown_done.is_none() => match cmd {
                    Some(Command::Shutdown { done }) => {
                        shutdown_done = Some(done);
                        self.begin_shutdown();
                    }
                    Some(cmd) => self.command(cmd),
                    None => {
                        commands_open = false;
                        self.begin_shutdown();
                    }
                },
                event = self.link.incoming.recv() => match event {
                    Some(TransportEvent::Frame(bytes)) => self.frame(&bytes),
                    Some(TransportEvent::Stderr(line)) => {
                        if self.stderr_tail.len() == STDERR_TAIL {
                            self.stderr_tail.pop_front();
                        }
                        self.stderr_tail.push_back(line.clone());
                        self.reporter.publish(Event::Stderr { line });
                    }
                    Some(TransportEvent::Overlong { bytes }) => {
                        self.reporter.publish(Event::Finding {
                            severity: Severity::Error,
                            message: format!("a frame of {bytes} bytes exceeded the {} byte limit and was skipped", stdio::MAX_FRAME_BYTES),
                            frame_seq: None,
                        });
                    }
                    Some(TransportEvent::Http(value)) => {
                        if let Some(actual) = value.get("fallback").and_then(Value::as_str) {
                            // The session object says what we really speak now.
                            let actual = actual.to_owned();
                            self.reporter.update(|info| {
                                if let Some(t) = info.target.as_mut() {
                                    t["fallbackFrom"] = t["transport"].take();
                                    t["transport"] = json!(actual);
                                }
                            });
                        }
                        self.reporter.publish(Event::Http(value));
                    }
                    Some(TransportEvent::SendFailed { id, message }) => self.send_failed(id, message),
                    Some(TransportEvent::Closed(exit)) => {
                        self.closed(Some(exit), shutdown_done.is_some());
                        break;
                    }
                    None => {
                        self.closed(None, shutdown_done.is_some());
                        break;
                    }
                },
                _ = sleep_until(deadline) => self.expire(),
                Some(key) = auto.recv() => self.delayed_answer(&key),
            }
        }
        if let Some(done) = shutdown_done {
            let _ = done.send(());
        }
    }

    fn begin_shutdown(&mut self) {
        if let Some(tx) = self.link.shutdown.take() {
            let _ = tx.send(());
        }
    }

    fn send(
        &self,
        text: String,
        method: Option<&str>,
        id: Option<Value>,
        frame_type: &'static str,
    ) {
        self.transmit(wire::sent_frame(&text, method, id, frame_type), text);
    }

    /// Shows a frame in the event stream, then queues it for the wire.
    fn transmit(&self, frame: crate::events::FrameEvent, text: String) {
        self.reporter.publish(Event::Frame(frame));
        // A closed channel means the transport is going away; `Closed` will report it.
        let _ = self.link.outgoing.send(text);
    }

    fn send_notification(&self, method: &str, params: Option<&Value>) {
        self.send(
            wire::notification(method, params),
            Some(method),
            None,
            "notification",
        );
    }

    fn send_request(
        &mut self,
        method: &str,
        params: Option<Value>,
        timeout: Timeout,
        progress_token: Option<Value>,
        tag: Tag,
    ) -> i64 {
        let (id, text) =
            self.engine
                .start_request(method, params.as_ref(), Some(timeout), progress_token, tag);
        self.send(text, Some(method), Some(json!(id)), "request");
        id
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Request {
                method,
                params,
                timeout,
                reply,
            } => {
                if !self.connected {
                    let _ = reply.send(Err(LocalError::NotConnected));
                    return;
                }
                let (params, token) = with_progress_token(params, self.engine.peek_id());
                self.send_request(&method, params, timeout, token, Tag::Api(reply));
            }
            Command::Notify { method, params } => {
                self.send_notification(&method, params.as_ref());
            }
            Command::Cancel {
                request_id,
                reason,
                reply,
            } => {
                let found = match self.engine.cancel(request_id) {
                    Some(req) => {
                        self.last_progress.remove(&request_id);
                        let reason = reason.unwrap_or_else(|| "cancelled by the user".into());
                        self.send_cancelled(request_id, &reason);
                        if let Tag::Api(tx) = req.tag {
                            let _ = tx.send(Err(LocalError::Cancelled(reason)));
                        }
                        true
                    }
                    None => false,
                };
                let _ = reply.send(found);
            }
            Command::AnswerPending {
                key,
                outcome,
                reply,
            } => {
                let found = match self.take_pending(&key) {
                    Some(req) => {
                        self.send_answer(
                            &req.server_id,
                            outcome.as_ref(),
                            json!({"responder": "manual", "pending": key}),
                        );
                        true
                    }
                    None => false,
                };
                let _ = reply.send(found);
            }
            Command::RootsChanged => {
                let declared = self
                    .options
                    .client_capabilities
                    .pointer("/roots/listChanged")
                    .is_some_and(|v| v == &json!(true));
                if self.connected && declared {
                    self.send_notification("notifications/roots/list_changed", None);
                }
            }
            Command::Inflight { reply } => {
                let now = Instant::now();
                let wall = SystemTime::now();
                let list = self
                    .engine
                    .outstanding()
                    .into_iter()
                    .filter(|(_, o)| matches!(o.tag, Tag::Api(_)))
                    .map(|(id, o)| {
                        let elapsed = now - o.sent_at;
                        json!({
                            "requestId": id,
                            "method": o.method,
                            "progressToken": o.progress_token,
                            "sentAt": humantime::format_rfc3339_micros(wall - elapsed).to_string(),
                            "elapsedMs": elapsed.as_millis() as u64,
                            "timeoutMs": o.timeout.map(|t| t.idle.as_millis() as u64),
                            "maxTotalMs": o.timeout.map(|t| t.max_total.as_millis() as u64),
                            "deadlineInMs": o.deadline.map(|d| d.saturating_duration_since(now).as_millis() as u64),
                            "progress": self.last_progress.get(&id),
                        })
                    })
                    .collect();
                let _ = reply.send(list);
            }
            Command::Shutdown { .. } => unreachable!("handled in run"),
        }
    }

    /// Sends our answer to a server request, noting who chose it.
    fn send_answer(&self, server_id: &Value, outcome: Result<&Value, &Value>, answered_by: Value) {
        let text = wire::response(server_id, outcome);
        let kind = if outcome.is_ok() { "response" } else { "error" };
        let mut frame = wire::sent_frame(&text, None, Some(server_id.clone()), kind);
        frame.answered_by = Some(answered_by);
        self.transmit(frame, text);
    }

    fn send_cancelled(&self, request_id: i64, reason: &str) {
        let params = json!({"requestId": request_id, "reason": reason});
        self.send_notification("notifications/cancelled", Some(&params));
    }

    fn expire(&mut self) {
        for (id, req) in self.engine.expire(Instant::now()) {
            self.last_progress.remove(&id);
            let ms = req.deadline.map_or(0, |d| (d - req.sent_at).as_millis());
            let extendable = req.timeout.is_some_and(|t| t.max_total > t.idle);
            let why = if req.at_hard_maximum() && extendable {
                format!("still running after the {ms} ms maximum")
            } else {
                let idle = req.timeout.map_or(ms, |t| t.idle.as_millis());
                if ms > idle {
                    format!("no answer or progress for {idle} ms ({ms} ms in all)")
                } else {
                    format!("no answer within {ms} ms")
                }
            };
            self.send_cancelled(id, &format!("mcpscope: {why}"));
            match req.tag {
                Tag::Api(tx) => {
                    let _ = tx.send(Err(LocalError::Timeout(why)));
                }
                Tag::Handshake => self.fail(format!(
                    "the server did not answer initialize within {ms} ms{}",
                    self.stderr_hint()
                )),
            }
        }
    }

    fn stderr_hint(&self) -> String {
        if self.stderr_tail.is_empty() {
            String::new()
        } else {
            let lines: Vec<&str> = self.stderr_tail.iter().map(String::as_str).collect();
            format!("; last stderr lines:\n{}", lines.join("\n"))
        }
    }

    fn fail(&mut self, message: String) {
        self.connected = false;
        self.reporter.update(|info| {
            info.state = "failed";
            info.error = Some(message);
        });
        if let Some(ready) = self.ready.take() {
            let _ = ready.send(());
        }
        self.begin_shutdown();
    }

    fn frame(&mut self, bytes: &[u8]) {
        let received = self.engine.receive(bytes);
        let seq = self.reporter.publish(Event::Frame(received.frame));
        for (severity, message) in received.findings {
            self.reporter.publish(Event::Finding {
                severity,
                message,
                frame_seq: Some(seq),
            });
        }
        for message in received.messages {
            match message {
                Inbound::Response {
                    id,
                    outcome,
                    request,
                } => match request.tag {
                    Tag::Api(tx) => {
                        self.last_progress.remove(&id);
                        let _ = tx.send(Ok(Answer { id, outcome }));
                    }
                    Tag::Handshake => self.handshake_answer(outcome, seq),
                },
                Inbound::Request { id, method, params } => {
                    self.server_request(id, method, params, seq)
                }
                Inbound::Notification { method, params } => self.notification(&method, params, seq),
            }
        }
    }

    fn handshake_answer(&mut self, outcome: Outcome, seq: u64) {
        match handshake::interpret(&outcome, &self.options) {
            Ok(done) => {
                for warning in &done.warnings {
                    self.reporter.publish(Event::Finding {
                        severity: Severity::Warning,
                        message: warning.clone(),
                        frame_seq: Some(seq),
                    });
                }
                self.engine.batches_allowed = done.protocol_version == "2025-03-26";
                self.send_notification("notifications/initialized", None);
                self.connected = true;
                self.reporter.update(|info| {
                    info.state = "connected";
                    info.protocol_version = Some(done.protocol_version);
                    info.server_info = done.server_info;
                    info.capabilities = done.capabilities;
                    info.instructions = done.instructions;
                    info.error = None;
                });
                if let Some(ready) = self.ready.take() {
                    let _ = ready.send(());
                }
            }
            Err(message) => self.fail(message),
        }
    }

    fn server_request(&mut self, id: Value, method: String, params: Option<Value>, seq: u64) {
        let params = params.unwrap_or_else(|| json!({}));
        let responders = self.responders.get();
        let auto = match method.as_str() {
            "ping" => {
                self.send_answer(&id, Ok(&json!({})), json!({"responder": "ping"}));
                return;
            }
            "sampling/createMessage" if self.declared("sampling") => {
                self.check_sampling(&params, seq);
                responders.sampling_answer(&params)
            }
            "elicitation/create" if self.declared("elicitation") => {
                if let Err(message) = self.check_elicitation(&params) {
                    self.finding(Severity::Warning, message.clone(), seq);
                    let error = json!({"code": -32602, "message": message});
                    self.send_answer(&id, Err(&error), json!({"responder": "capabilities"}));
                    return;
                }
                responders.elicitation_answer(&params)
            }
            "roots/list" if self.declared("roots") => {
                let result = responders.roots_result();
                self.send_answer(&id, Ok(&result), json!({"responder": "roots"}));
                return;
            }
            _ => {
                let error =
                    json!({"code": -32601, "message": format!("Method not found: {method}")});
                self.send_answer(&id, Err(&error), json!({"responder": "capabilities"}));
                return;
            }
        };
        match auto {
            Some(answer) if answer.delay.is_zero() => {
                self.send_answer(&id, answer.outcome.as_ref(), answer.answered_by);
            }
            Some(answer) => {
                // Held back on purpose (to test the server's timeout); still cancellable by the
                // server, so it waits in the actor's table, not in the public queue.
                self.pending_seq += 1;
                let key = self.pending_seq.to_string();
                let tx = self.auto_tx.clone();
                let (delay, timer_key) = (answer.delay, key.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = tx.send(timer_key);
                });
                self.pending.insert(
                    key.clone(),
                    PendingRequest {
                        key: key.clone(),
                        server_id: id,
                        method,
                        params,
                        received_at: now_rfc3339(),
                    },
                );
                self.delayed.insert(key, answer);
            }
            None => self.queue(id, method, params),
        }
    }

    /// Removes a server request from every place it waits: the actor's table, a delayed mock
    /// answer, and the public queue.
    fn take_pending(&mut self, key: &str) -> Option<PendingRequest> {
        self.delayed.remove(key);
        self.reporter.set_pending(|p| p.retain(|r| r.key != key));
        self.pending.remove(key)
    }

    fn delayed_answer(&mut self, key: &str) {
        if let (Some(answer), Some(req)) = (self.delayed.remove(key), self.pending.remove(key)) {
            self.send_answer(&req.server_id, answer.outcome.as_ref(), answer.answered_by);
        }
    }

    /// Puts a server request in the public queue for a person or script.
    fn queue(&mut self, id: Value, method: String, params: Value) {
        if method == "elicitation/create"
            && let Some(eid) = params.get("elicitationId").and_then(Value::as_str)
        {
            if self.elicitations.len() == ELICITATION_MEMORY {
                self.elicitations.pop_front();
            }
            self.elicitations.push_back(eid.to_owned());
        }
        self.pending_seq += 1;
        let req = PendingRequest {
            key: self.pending_seq.to_string(),
            server_id: id,
            method,
            params,
            received_at: now_rfc3339(),
        };
        self.reporter.publish(Event::Pending {
            id: req.key.clone(),
            method: req.method.clone(),
            params: req.params.clone(),
            received_at: req.received_at.clone(),
        });
        let copy = req.clone();
        self.reporter.set_pending(|p| p.push(copy));
        self.pending.insert(req.key.clone(), req);
    }

    /// Flags sampling requests that use what the client did not declare; the request is still
    /// shown, since seeing what the server sends is the point.
    fn check_sampling(&self, params: &Value, seq: u64) {
        let caps = &self.options.client_capabilities;
        if params.get("tools").is_some() && caps.pointer("/sampling/tools").is_none() {
            self.finding(
                Severity::Warning,
                "sampling/createMessage carries tools, but the client did not declare sampling.tools".into(),
                seq,
            );
        }
        let context = params.get("includeContext").and_then(Value::as_str);
        if matches!(context, Some("thisServer" | "allServers"))
            && caps.pointer("/sampling/context").is_none()
        {
            self.finding(
                Severity::Warning,
                format!(
                    "sampling/createMessage asks for includeContext {:?}, but the client did not declare sampling.context",
                    context.unwrap_or_default()
                ),
                seq,
            );
        }
    }

    /// An elicitation in a mode the client did not declare is refused, as a real client would.
    fn check_elicitation(&self, params: &Value) -> Result<(), String> {
        let caps = self
            .options
            .client_capabilities
            .get("elicitation")
            .and_then(Value::as_object);
        let mode = params.get("mode").and_then(Value::as_str).unwrap_or("form");
        // `elicitation: {}` means form only.
        let declared = caps.is_some_and(|c| match mode {
            "form" => c.is_empty() || c.contains_key("form"),
            "url" => c.contains_key("url"),
            _ => false,
        });
        if declared {
            Ok(())
        } else {
            Err(format!(
                "elicitation/create in mode {mode:?}, which the client did not declare"
            ))
        }
    }

    fn finding(&self, severity: Severity, message: String, seq: u64) {
        self.reporter.publish(Event::Finding {
            severity,
            message,
            frame_seq: Some(seq),
        });
    }

    fn declared(&self, capability: &str) -> bool {
        self.options.client_capabilities.get(capability).is_some()
    }

    fn notification(&mut self, method: &str, params: Option<Value>, seq: u64) {
        match method {
            "notifications/progress" => {
                let params = params.unwrap_or(Value::Null);
                let token = params.get("progressToken").cloned().unwrap_or(Value::Null);
                let request_id = self.engine.request_for_progress(&token);
                if let Some(id) = request_id {
                    self.engine.touch(id, Instant::now());
                    self.last_progress.insert(id, params.clone());
                }
                if request_id.is_none() {
                    self.reporter.publish(Event::Finding {
                        severity: Severity::Warning,
                        message: format!(
                            "progress for token {token}, which belongs to no request in flight"
                        ),
                        frame_seq: Some(seq),
                    });
                }
                self.reporter.publish(Event::Progress {
                    request_id: request_id.map(|id| json!(id)),
                    progress_token: token,
                    progress: params.get("progress").cloned().unwrap_or(Value::Null),
                    total: params.get("total").cloned(),
                    message: params.get("message").cloned(),
                });
            }
            "notifications/cancelled" => {
                // The server withdrew one of its own requests.
                let id = params.as_ref().and_then(|p| p.get("requestId")).cloned();
                if let Some(id) = id {
                    let keys: Vec<String> = self
                        .pending
                        .values()
                        .filter(|r| r.server_id == id)
                        .map(|r| r.key.clone())
                        .collect();
                    for key in keys {
                        self.take_pending(&key);
                    }
                }
            }
            "notifications/elicitation/complete" => {
                let eid = params
                    .as_ref()
                    .and_then(|p| p.get("elicitationId"))
                    .and_then(Value::as_str);
                let known = eid.is_some_and(|e| self.elicitations.iter().any(|k| k == e));
                if !known {
                    self.finding(
                        Severity::Warning,
                        format!(
                            "notifications/elicitation/complete for {}, which no URL elicitation of this session used",
                            eid.map_or_else(|| "a missing elicitationId".to_owned(), |e| format!("{e:?}"))
                        ),
                        seq,
                    );
                }
            }
            _ => {}
        }
    }

    /// One message of ours never reached the server (or its answer was lost): only its caller
    /// fails.
    fn send_failed(&mut self, id: i64, message: String) {
        if let Some(req) = self.engine.fail(id) {
            self.last_progress.remove(&id);
            match req.tag {
                Tag::Api(tx) => {
                    let _ = tx.send(Err(LocalError::Transport(message)));
                }
                Tag::Handshake => self.fail(message),
            }
        }
    }

    fn closed(&mut self, exit: Option<crate::transport::Exit>, requested: bool) {
        let description = exit.as_ref().map_or_else(
            || "the transport closed".to_owned(),
            |e| e.description.clone(),
        );
        if let Some(exit) = exit.filter(|_| !self.remote) {
            self.reporter.publish(Event::Exit {
                code: exit.code,
                signal: exit.signal,
                description: exit.description,
            });
        }
        let message = if requested {
            "disconnected".to_owned()
        } else if self.remote {
            format!("the connection ended: {description}")
        } else {
            format!("the server exited ({description})")
        };
        self.last_progress.clear();
        for (_, req) in self.engine.fail_all() {
            match req.tag {
                Tag::Api(tx) => {
                    let _ = tx.send(Err(LocalError::Transport(format!(
                        "{message} before answering {}",
                        req.method
                    ))));
                }
                Tag::Handshake => {}
            }
        }
        self.connected = false;
        if !requested {
            let hint = self.stderr_hint();
            self.reporter.update(|info| {
                info.state = "failed";
                info.error = Some(format!("{message}{hint}"));
            });
        }
        if let Some(ready) = self.ready.take() {
            let _ = ready.send(());
        }
    }
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_micros(SystemTime::now()).to_string()
}

/// Adds `_meta.progressToken` unless the caller set one, so progress always shows.
fn with_progress_token(params: Option<Value>, id: i64) -> (Option<Value>, Option<Value>) {
    let mut params = params.unwrap_or_else(|| json!({}));
    let Some(obj) = params.as_object_mut() else {
        return (Some(params), None);
    };
    let meta = obj.entry("_meta").or_insert_with(|| json!({}));
    let Some(meta) = meta.as_object_mut() else {
        return (Some(params), None);
    };
    let token = meta
        .entry("progressToken")
        .or_insert_with(|| json!(format!("mcpscope-{id}")))
        .clone();
    (Some(params), Some(token))
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

/// Renders an outcome as the API's JSON body without re-serialising the server's payload.
pub fn outcome_body(outcome: &Outcome) -> String {
    let (key, raw): (&str, &RawValue) = match outcome {
        Outcome::Result(r) => ("result", r),
        Outcome::Error(e) => ("error", e),
    };
    let mut body = String::with_capacity(raw.get().len() + 16);
    body.push_str("{\"");
    body.push_str(key);
    body.push_str("\":");
    body.push_str(raw.get());
    body.push('}');
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_token_is_added_only_when_absent() {
        let (p, t) = with_progress_token(None, 3);
        assert_eq!(t, Some(json!("mcpscope-3")));
        assert_eq!(p.unwrap()["_meta"]["progressToken"], "mcpscope-3");
        let (p, t) = with_progress_token(Some(json!({"name":"x","_meta":{"progressToken":7}})), 4);
        assert_eq!(t, Some(json!(7)));
        assert_eq!(p.unwrap()["name"], "x");
    }

    #[test]
    fn target_description_redacts_env_values() {
        let t = Target::Stdio(stdio::StdioTarget {
            command: "node".into(),
            args: vec!["x.js".into()],
            env: [("API_KEY".to_owned(), "secret".to_owned())].into(),
            cwd: None,
        });
        let d = t.describe().to_string();
        assert!(d.contains("API_KEY") && !d.contains("secret"), "{d}");
    }
}

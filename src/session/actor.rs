//! The session actor: one task per connection that owns the transport link and the wire engine.
//! This file is the loop and its dispatch only: commands in, transport events in, deadlines, and
//! how the connection ends. What each message means lives in the sibling files.

use crate::events::{AuthorizationView, Era, SessionState};
use std::{collections::VecDeque, sync::Arc, time::Instant};

use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use super::{
    ConnectOptions, PendingRequest,
    era::legacy,
    handle::{Command, LocalError},
    inflight::Tag,
    registry::{Current, Session},
};
use crate::{
    events::{Event, Severity},
    responders::SessionResponders,
    transport::{Exit, Link, ToTransport, TransportEvent, stdio},
    wire::{Engine, Inbound, Outcome},
};

/// stderr lines kept to explain a failed start.
const STDERR_TAIL: usize = 12;

/// What the actor uses to publish; ignores state updates from a connection that was replaced.
#[derive(Clone)]
pub(super) struct Reporter {
    session: Arc<Session>,
    generation: u64,
}

impl Reporter {
    pub(super) fn new(session: Arc<Session>, generation: u64) -> Self {
        Reporter {
            session,
            generation,
        }
    }

    /// Changes the session object and publishes it as a `state` event.
    pub(super) fn update(&self, f: impl FnOnce(&mut Current)) {
        self.update_if(|cur| {
            f(cur);
            true
        });
    }

    /// Like [`Reporter::update`], but publishes only when `f` says it changed something.
    pub(super) fn update_if(&self, f: impl FnOnce(&mut Current) -> bool) {
        {
            let mut cur = self.session.inner.lock().unwrap();
            if cur.generation != self.generation || !f(&mut cur) {
                return;
            }
        }
        let info = self.session.info();
        self.session.publish(Event::State(Box::new(info)));
    }

    pub(super) fn set_pending(&self, f: impl FnOnce(&mut Vec<PendingRequest>)) {
        let mut cur = self.session.inner.lock().unwrap();
        if cur.generation == self.generation {
            f(&mut cur.pending);
        }
    }

    pub(super) fn publish(&self, event: Event) -> u64 {
        self.session.publish(event)
    }

    /// [`Reporter::publish`], keeping the published record.
    pub(super) fn publish_kept(&self, event: Event) -> Arc<crate::events::Record> {
        self.session.publish_kept(event)
    }

    pub(super) fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// Whether the session is still this generation's (not reconnected, forgotten or reused).
    pub(super) fn is_current(&self) -> bool {
        self.session.inner.lock().unwrap().generation == self.generation
    }
}

pub(super) struct Actor {
    /// The lists kept for this connection; what the server says changed goes from them.
    pub(super) lists: std::sync::Arc<super::lists::Lists>,
    pub(super) link: Link,
    pub(super) engine: Engine<Tag>,
    pub(super) reporter: Reporter,
    pub(super) options: ConnectOptions,
    pub(super) stderr_tail: VecDeque<String>,
    pub(super) ready: Option<oneshot::Sender<()>>,
    pub(super) connected: bool,
    /// The session already failed with a reason (a refused handshake, a timeout); the exit
    /// that follows must not replace that reason.
    pub(super) failed: bool,
    /// Server requests not yet answered: those waiting for a person, and delayed mock answers.
    pub(super) server_requests: super::server_requests::ServerRequests,
    pub(super) responders: Arc<SessionResponders>,
    /// A delayed mock answer's timer reports its pending key here.
    pub(super) auto_tx: mpsc::UnboundedSender<super::outbox::Auto>,
    /// The LLM providers a `llm` responder asks.
    pub(super) models: Arc<crate::model::Providers>,
    /// What we keep of our requests besides the engine's pending map: progress, and the tokens
    /// of those we gave up on.
    pub(super) inflight: super::inflight::InFlight,
    /// An HTTP target: no child process, no exit status.
    pub(super) remote: bool,
    /// The session speaks the modern era (established by `server/discover`).
    pub(super) modern: bool,
    /// Our messages carry the modern `_meta` and headers: from the probe on, unless `auto`
    /// fell back to `initialize`.
    pub(super) modern_wire: bool,
    /// Modern era: each tool's `x-mcp-header` parameters (parameter, header name), and the
    /// tools excluded for invalid ones, with why.
    pub(super) tool_headers: super::results::ToolHeaders,
    /// Modern era: calls waiting for the answers to their input requests.
    pub(super) rounds: super::rounds::Rounds,
    /// Modern era: the `subscriptions/listen` stream.
    pub(super) listen: super::listen::Listen,
    /// The tasks this connection follows (both eras).
    pub(super) tasks: super::tasks::Tasks,
    /// The tasks the server asked this client to run (legacy era).
    pub(super) client_tasks: super::client_tasks::ClientTasks,
}

impl Actor {
    pub(super) async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut auto: mpsc::UnboundedReceiver<super::outbox::Auto>,
    ) {
        self.establish();
        let mut shutdown_done: Option<oneshot::Sender<()>> = None;
        let mut commands_open = true;
        let mut alarm = Alarm::default();
        loop {
            alarm.want(self.engine.next_deadline());
            let relisten = self.listen.retry_at;
            let task_poll = self.next_task_poll();
            let task_expiry = self.client_tasks.next_expiry();
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
                    Some(TransportEvent::Closed(exit)) => {
                        self.closed(Some(exit), shutdown_done.is_some());
                        break;
                    }
                    None => {
                        self.closed(None, shutdown_done.is_some());
                        break;
                    }
                    Some(event) => self.transport_event(event),
                },
                () = alarm.rung() => self.expire(),
                _ = sleep_until(relisten) => self.listen_now(),
                _ = sleep_until(task_poll) => self.poll_tasks(),
                _ = sleep_until(task_expiry) => self.expire_client_tasks(),
                Some(auto) = auto.recv() => self.auto(auto),
            }
        }
        if let Some(done) = shutdown_done {
            let _ = done.send(());
        }
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Request {
                method,
                params,
                timeout,
                reply,
            } => self.api_request(method, params, timeout, reply),
            Command::Notify { method, params } => {
                self.send_notification(&method, params.as_ref());
            }
            Command::Cancel {
                request_id,
                reason,
                reply,
            } => {
                let _ = reply.send(self.cancel(request_id, reason));
            }
            Command::AnswerPending {
                key,
                outcome,
                reply,
            } => {
                let _ = reply.send(self.answer_pending(&key, outcome));
            }
            Command::RootsChanged => self.roots_changed(),
            Command::SetLogLevel { level } => {
                self.options.log_level = level.clone();
                self.reporter.update(|cur| cur.info.log_level = level);
            }
            Command::Subscribe { reply, .. } if !self.modern => {
                let _ = reply.send(Err(LocalError::Unsupported(
                    "listen streams are the modern era's; this session speaks legacy".into(),
                )));
            }
            Command::Subscribe { uri, on, reply } => self.listen_for(uri, on, reply),
            Command::Relisten if self.modern => self.listen_now(),
            Command::Relisten => {}
            Command::Tasks { reply } => {
                let mut all = self.tasks_view();
                all.extend(self.client_tasks_view());
                let _ = reply.send(all);
            }
            Command::CancelTask { task_id, reply } => self.cancel_task(&task_id, reply),
            Command::Inflight { reply } => {
                let _ = reply.send(self.inflight());
            }
            Command::Shutdown { .. } => unreachable!("handled in run"),
        }
    }

    fn transport_event(&mut self, event: TransportEvent) {
        match event {
            TransportEvent::Frame(bytes) => self.frame(bytes),
            TransportEvent::Stderr(line) => {
                if self.stderr_tail.len() == STDERR_TAIL {
                    self.stderr_tail.pop_front();
                }
                self.stderr_tail.push_back(line.clone());
                self.reporter.publish(Event::Stderr { line });
            }
            TransportEvent::Overlong { bytes, head } => {
                let message = format!(
                    "a frame of {bytes} bytes exceeded the {} byte limit and was skipped",
                    stdio::MAX_FRAME_BYTES
                );
                self.reporter.publish(Event::Finding {
                    severity: Severity::Error,
                    message: message.clone(),
                    frame_seq: None,
                });
                // The answer to one of ours: its caller learns why now, not at its timeout.
                if let Some(id) = crate::wire::answer_id_in_head(&head) {
                    self.send_failed(id, format!("its answer was not read: {message}"));
                }
            }
            TransportEvent::Http(value) => {
                self.reporter.publish(Event::Http(value));
            }
            TransportEvent::Auth(value) => {
                self.reporter.publish(Event::Auth(value));
            }
            TransportEvent::Authorization { active, view } => self.authorization(active, view),
            TransportEvent::Fallback { from, to } => {
                // The session object says what we really speak now.
                self.reporter.update(|cur| {
                    if let Some(t) = cur.info.target.as_mut() {
                        t["fallbackFrom"] = json!(from);
                        t["transport"] = json!(to);
                    }
                });
            }
            TransportEvent::OverBudget => {
                self.reporter.publish(Event::Finding {
                    severity: Severity::Error,
                    message: crate::net::budget::OverBudget.to_string(),
                    frame_seq: None,
                });
            }
            TransportEvent::SendFailed { id, message } => self.send_failed(id, message),
            TransportEvent::Closed(_) => unreachable!("handled in run"),
        }
    }

    pub(super) fn begin_shutdown(&mut self) {
        if let Some(tx) = self.link.shutdown.take() {
            let _ = tx.send(());
        }
    }

    fn frame(&mut self, bytes: Vec<u8>) {
        let received = self.engine.receive(bytes);
        // The line is held once: as the frame until it is published, then as the text the ring
        // keeps, from which a big outcome the engine left in place is taken.
        let record = self.reporter.publish_kept(Event::Frame(received.frame));
        let seq = record.seq;
        for (severity, message) in received.findings {
            self.finding(severity, message, seq);
        }
        for message in received.messages {
            match message {
                Inbound::Response {
                    id,
                    outcome,
                    request,
                    within,
                } => {
                    let outcome = match within {
                        Some(within) => {
                            let taken = record
                                .message_at()
                                .and_then(|at| outcome.taken_from(&record.json, at, &within));
                            match taken {
                                Some(taken) => taken,
                                None => {
                                    // The bus's layout rules this out; said, never silent.
                                    self.finding(
                                        Severity::Error,
                                        "mcpscope could not read this answer back from its record: the caller gets null".into(),
                                        seq,
                                    );
                                    outcome
                                }
                            }
                        }
                        None => outcome,
                    };
                    self.response(id, outcome, request, seq)
                }
                Inbound::Request { id, method, params } => {
                    self.server_request(id, method, params, seq)
                }
                Inbound::Notification { method, params } => self.notification(&method, params, seq),
            }
        }
    }

    /// The answer to `initialize`: the session is established, or it fails with the reason.
    pub(super) fn handshake_answer(&mut self, outcome: Outcome, seq: u64) {
        match legacy::interpret(&outcome, &self.options) {
            Ok(done) => {
                for warning in done.warnings {
                    self.finding(Severity::Warning, warning, seq);
                }
                self.engine.batches_allowed = done.protocol_version == "2025-03-26";
                // In this order: the transport must know the version before `initialized`
                // leaves, and open its server stream only after.
                let _ = self
                    .link
                    .outgoing
                    .send(ToTransport::ProtocolVersion(done.protocol_version.clone()));
                self.send_notification("notifications/initialized", None);
                let _ = self.link.outgoing.send(ToTransport::OpenServerStream);
                self.connected = true;
                self.reporter.update(|cur| {
                    cur.info.state = SessionState::Connected;
                    cur.info.era = Some(Era::Legacy);
                    cur.info.protocol_version = Some(done.protocol_version);
                    cur.info.server_info = done.server_info;
                    cur.info.capabilities = done.capabilities;
                    cur.info.instructions = done.instructions;
                    cur.info.error = None;
                });
                if let Some(ready) = self.ready.take() {
                    let _ = ready.send(());
                }
            }
            Err(message) => self.fail(message),
        }
    }

    pub(super) fn finding(&self, severity: Severity, message: String, seq: u64) {
        self.reporter.publish(Event::Finding {
            severity,
            message,
            frame_seq: Some(seq),
        });
    }

    pub(super) fn stderr_hint(&self) -> String {
        if self.stderr_tail.is_empty() {
            String::new()
        } else {
            let lines: Vec<&str> = self.stderr_tail.iter().map(String::as_str).collect();
            format!("; last stderr lines:\n{}", lines.join("\n"))
        }
    }

    /// Ends the session with a reason; the transport is told to shut down, and its exit will
    /// not replace the reason.
    pub(super) fn fail(&mut self, message: String) {
        self.connected = false;
        self.failed = true;
        self.reporter.update(|cur| {
            cur.info.state = SessionState::Failed;
            cur.info.error = Some(message);
            cur.info.subscriptions.clear();
        });
        if let Some(ready) = self.ready.take() {
            let _ = ready.send(());
        }
        self.begin_shutdown();
    }

    /// The authorization flow waits on the user (or moved on), or ended. While it waits, no
    /// request of ours times out: the person in the browser sets the pace, not the server.
    fn authorization(&mut self, active: bool, view: AuthorizationView) {
        // The user has something to do: open the page, or let a paused flow go on.
        let needs_user = view.url.is_some() || view.paused.is_some();
        if active {
            self.engine.hold_deadlines();
        } else {
            self.engine.release_deadlines(Instant::now());
        }
        let connected = self.connected;
        self.reporter.update(|cur| {
            cur.info.state = match (active, connected) {
                (true, _) => SessionState::Authorizing,
                (false, true) => SessionState::Connected,
                (false, false) => SessionState::Connecting,
            };
            cur.info.authorization = Some(view);
        });
        // A connect call returns once the user has something to open.
        if active
            && needs_user
            && let Some(ready) = self.ready.take()
        {
            let _ = ready.send(());
        }
    }

    fn closed(&mut self, exit: Option<Exit>, requested: bool) {
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
        self.fail_all_inflight(&message);
        self.connected = false;
        if !requested && !self.failed {
            let hint = self.stderr_hint();
            self.reporter.update(|cur| {
                cur.info.state = SessionState::Failed;
                cur.info.error = Some(format!("{message}{hint}"));
                cur.info.subscriptions.clear();
            });
        }
        if let Some(ready) = self.ready.take() {
            let _ = ready.send(());
        }
    }
}

/// The engine's earliest deadline, as one timer kept across turns of the loop and only ever
/// moved earlier. A timer made anew each turn (or moved later) cost a timer-wheel entry per
/// message, and, since the runtime sleeps with no timer due between calls, a wake-up of its own
/// driver (an eventfd write and one more epoll event) on every call. Ringing early is harmless:
/// `expire` ends only what is due, and the next turn arms the timer for what is left.
struct Alarm {
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
    armed: Option<Instant>,
}

impl Default for Alarm {
    fn default() -> Self {
        Alarm {
            // Not registered with the timer until first polled, which waits for `want`.
            sleep: Box::pin(tokio::time::sleep(std::time::Duration::ZERO)),
            armed: None,
        }
    }
}

impl Alarm {
    fn want(&mut self, at: Option<Instant>) {
        if let Some(at) = at
            && self.armed.is_none_or(|armed| at < armed)
        {
            self.sleep.as_mut().reset(at.into());
            self.armed = Some(at);
        }
    }

    async fn rung(&mut self) {
        if self.armed.is_none() {
            return std::future::pending().await;
        }
        self.sleep.as_mut().await;
        self.armed = None;
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

//! The registry of sessions and each session's lifecycle. A [`Session`] keeps its id and name for
//! the life of the process, however often it connects, disconnects or reconnects; each connect
//! starts a new actor under a new *generation*, and only the current generation may update the
//! public state, so a replaced actor cannot overwrite its successor.
//!
//! Sessions share the event bus and everyone's responder settings and nothing else (a session
//! may have settings of its own in front of them): each has its own actor, transport, engine,
//! pending queue and lifecycle lock, so one that hangs, crashes or floods never holds another up.

use crate::events::{AuthorizationView, SessionState};
use std::{
    collections::{BTreeSet, VecDeque},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
};

use tokio::sync::{mpsc, oneshot};

use super::{
    ConnectOptions, PendingRequest, SessionHandle, SessionInfo, Target,
    actor::{Actor, Reporter},
};
use crate::{
    events::{Event, EventBus},
    oauth::broker::Broker,
    responders::{ResponderStore, SessionResponders, Settings},
    transport::{http, stdio},
    wire::Engine,
};

/// What every session shares.
pub(super) struct Shared {
    pub(super) events: EventBus,
    pub(super) responders: Arc<ResponderStore>,
    /// What every session's authorization flows share (the callback, kept credentials).
    pub(super) oauth: Arc<Broker>,
    /// The LLM providers the environment configures (for sampling mode `llm`).
    pub(super) models: Arc<crate::model::Providers>,
}

/// Every session, in creation order, and which one the single-session routes act on.
pub struct Sessions {
    shared: Arc<Shared>,
    registry: Mutex<Registry>,
}

struct Registry {
    sessions: Vec<Arc<Session>>,
    selected: Option<Arc<Session>>,
    next_id: u64,
}

/// One session: its identity, its current connection (if any) and its public state.
pub struct Session {
    id: Arc<str>,
    shared: Arc<Shared>,
    pub(super) inner: Mutex<Current>,
    /// Serialises connect and disconnect of this session so two connects cannot interleave; other
    /// sessions have their own.
    lifecycle: tokio::sync::Mutex<()>,
    pub(super) findings: AtomicU64,
    /// Who answers this session's server: its own settings, or everyone's.
    responders: Arc<SessionResponders>,
}

pub(super) struct Current {
    /// The name was chosen (by the user or the catalog), so a new target does not rename it.
    named: bool,
    /// The last target connected to, with its real (unredacted) settings, for reconnect.
    last: Option<(Target, ConnectOptions)>,
    /// The secret values of every target this session was ever given, for scrubbing exports:
    /// its history holds the traffic of all of them, not only of the last.
    pub(super) given: BTreeSet<String>,
    pub(super) generation: u64,
    handle: Option<SessionHandle>,
    pub(super) info: SessionInfo,
    pub(super) pending: Vec<PendingRequest>,
}

impl Sessions {
    pub fn new(
        events: EventBus,
        responders: Arc<ResponderStore>,
        oauth: Arc<Broker>,
        models: Arc<crate::model::Providers>,
    ) -> Arc<Self> {
        Arc::new(Sessions {
            shared: Arc::new(Shared {
                events,
                responders,
                oauth,
                models,
            }),
            registry: Mutex::new(Registry {
                sessions: Vec::new(),
                selected: None,
                next_id: 1,
            }),
        })
    }

    /// The LLM providers (sampling mode `llm`, chat, evals).
    pub fn models(&self) -> Arc<crate::model::Providers> {
        self.shared.models.clone()
    }

    /// Every session, oldest first.
    pub fn list(&self) -> Vec<Arc<Session>> {
        self.registry.lock().unwrap().sessions.clone()
    }

    pub fn get(&self, id: &str) -> Option<Arc<Session>> {
        let reg = self.registry.lock().unwrap();
        reg.sessions.iter().find(|s| &*s.id == id).cloned()
    }

    /// The session the single-session routes act on: the one selected, else the first.
    pub fn selected(&self) -> Option<Arc<Session>> {
        let reg = self.registry.lock().unwrap();
        reg.selected
            .clone()
            .or_else(|| reg.sessions.first().cloned())
    }

    /// Makes `id` the selected session and returns it; None when there is no such session.
    pub fn select(&self, id: &str) -> Option<Arc<Session>> {
        let mut reg = self.registry.lock().unwrap();
        let found = reg.sessions.iter().find(|s| &*s.id == id).cloned()?;
        reg.selected = Some(found.clone());
        Some(found)
    }

    /// A new, disconnected session. The first one becomes the selected one.
    pub fn create(&self, name: Option<String>, catalog: Option<String>) -> Arc<Session> {
        let mut reg = self.registry.lock().unwrap();
        let id: Arc<str> = format!("s{}", reg.next_id).into();
        reg.next_id += 1;
        let named = name.is_some();
        let info = SessionInfo {
            id: Some(id.to_string()),
            name,
            catalog,
            ..SessionInfo::disconnected()
        };
        self.insert(reg, id, named, info)
    }

    /// An opened recording as a read-only session, under the id its events carry (so they are
    /// shown as they were written); later sessions are numbered after it.
    pub fn open_recording(&self, info: SessionInfo) -> Arc<Session> {
        let mut reg = self.registry.lock().unwrap();
        let id: Arc<str> = info.id.clone().unwrap_or_else(|| "s1".into()).into();
        if let Some(n) = id.strip_prefix('s').and_then(|n| n.parse::<u64>().ok()) {
            reg.next_id = reg.next_id.max(n + 1);
        }
        self.insert(reg, id, true, info)
    }

    fn insert(
        &self,
        mut reg: std::sync::MutexGuard<'_, Registry>,
        id: Arc<str>,
        named: bool,
        info: SessionInfo,
    ) -> Arc<Session> {
        let session = Arc::new(Session {
            id,
            shared: self.shared.clone(),
            inner: Mutex::new(Current {
                named,
                last: None,
                given: BTreeSet::new(),
                generation: 0,
                handle: None,
                info,
                pending: Vec::new(),
            }),
            lifecycle: tokio::sync::Mutex::new(()),
            findings: AtomicU64::new(0),
            responders: Arc::new(SessionResponders::new(self.shared.responders.clone())),
        });
        reg.sessions.push(session.clone());
        if reg.selected.is_none() {
            reg.selected = Some(session.clone());
        }
        session
    }

    /// The selected session, or a new one when there is none (the single-session connect).
    pub fn selected_or_create(&self) -> Arc<Session> {
        self.selected().unwrap_or_else(|| self.create(None, None))
    }

    /// Disconnects a session and forgets it; a `removed` event says so. Returns the session,
    /// or None if there was no such session.
    pub async fn remove(&self, id: &str) -> Option<Arc<Session>> {
        let session = self.get(id)?;
        session.disconnect().await;
        {
            let mut reg = self.registry.lock().unwrap();
            reg.sessions.retain(|s| !Arc::ptr_eq(s, &session));
            if reg
                .selected
                .as_ref()
                .is_some_and(|s| Arc::ptr_eq(s, &session))
            {
                reg.selected = reg.sessions.first().cloned();
            }
        }
        self.shared
            .events
            .publish_for(Some(&session.id), Event::Removed {});
        Some(session)
    }

    /// Shuts every session down, for exit.
    pub async fn disconnect_all(&self) {
        for session in self.list() {
            session.disconnect().await;
        }
    }

    pub fn responders(&self) -> Settings {
        self.shared.responders.get().settings().clone()
    }

    /// Replaces the responder settings; when the roots changed, every live session that
    /// follows them tells its server (`notifications/roots/list_changed`, where the client
    /// declared it).
    pub fn set_responders(&self, settings: Settings) -> Result<Settings, String> {
        let old = self.shared.responders.replace(settings)?;
        let new = self.shared.responders.get();
        if old.settings().roots != new.settings().roots {
            for session in self.list() {
                if !session.responders.is_own()
                    && let Some(handle) = session.handle()
                {
                    handle.roots_changed();
                }
            }
        }
        Ok(new.settings().clone())
    }
}

impl Session {
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The session object, with its counts as of now.
    pub fn info(&self) -> SessionInfo {
        let cur = self.inner.lock().unwrap();
        let mut info = cur.info.clone();
        info.pending = cur.pending.len();
        info.findings = self.findings.load(Ordering::Relaxed);
        info
    }

    pub fn handle(&self) -> Option<SessionHandle> {
        self.inner.lock().unwrap().handle.clone()
    }

    pub fn pending(&self) -> Vec<PendingRequest> {
        self.inner.lock().unwrap().pending.clone()
    }

    /// The target last connected to, with its real settings (for a replay of this session).
    pub fn last_target(&self) -> Option<Target> {
        self.inner
            .lock()
            .unwrap()
            .last
            .as_ref()
            .map(|(t, _)| t.clone())
    }

    /// The settings that answer this session's server, and whether they are its own.
    pub fn responders(&self) -> (Settings, bool) {
        (
            self.responders.get().settings().clone(),
            self.responders.is_own(),
        )
    }

    /// Gives the session settings of its own (None: everyone's again); when its roots changed,
    /// its server is told.
    pub fn set_responders(&self, settings: Option<Settings>) -> Result<(Settings, bool), String> {
        let old = self.responders.set(settings)?;
        if old.settings().roots != self.responders.get().settings().roots
            && let Some(handle) = self.handle()
        {
            handle.roots_changed();
        }
        Ok(self.responders())
    }

    /// Whether this is an opened recording, which never connects.
    pub fn is_recording(&self) -> bool {
        self.inner.lock().unwrap().info.recording.is_some()
    }

    /// Whether this is a tapped session: a real client's traffic, shown as it passes.
    pub fn is_tapped(&self) -> bool {
        self.inner.lock().unwrap().info.tapped
    }

    /// Whether this session only shows what happened (an opened recording or a tapped
    /// session): nothing is sent on it, it never connects.
    pub fn is_read_only(&self) -> bool {
        let cur = self.inner.lock().unwrap();
        cur.info.recording.is_some() || cur.info.tapped
    }

    /// Every secret value this session was given (those of every target it connected to), and
    /// every OAuth secret this run has held (client secrets, access and refresh tokens, the
    /// rotated ones too), for scrubbing exports of anything a server echoed back.
    pub fn secret_values(&self) -> Vec<String> {
        let given = self.inner.lock().unwrap().given.clone();
        given
            .into_iter()
            .chain(self.shared.oauth.secret_values())
            .chain(self.shared.models.secrets())
            .collect()
    }

    /// The URL of the remote target last connected to, unredacted (for its kept credentials).
    pub fn remote_url(&self) -> Option<String> {
        match &self.inner.lock().unwrap().last {
            Some((Target::Remote(t), _)) => Some(t.url.clone()),
            _ => None,
        }
    }

    /// Renames the session (and marks the name as chosen).
    pub fn rename(&self, name: String) {
        let mut cur = self.inner.lock().unwrap();
        cur.named = true;
        cur.info.name = Some(name);
    }

    /// Ties the session to a catalog entry (or unties it).
    pub fn set_catalog(&self, catalog: Option<String>) {
        self.inner.lock().unwrap().info.catalog = catalog;
    }

    /// Replaces this session's connection with a new one and waits until it is connected or
    /// failed.
    ///
    /// The lifecycle lock covers only the swap, not the handshake, so a disconnect (or another
    /// connect) can end a session that hangs while connecting.
    pub async fn connect(self: &Arc<Self>, target: Target, options: ConnectOptions) -> SessionInfo {
        let guard = self.lifecycle.lock().await;
        self.stop_current().await;
        let generation = {
            let mut cur = self.inner.lock().unwrap();
            cur.given.extend(target.secret_values());
            cur.last = Some((target.clone(), options.clone()));
            cur.generation += 1;
            cur.pending.clear();
            if !cur.named {
                cur.info.name = Some(target.label());
            }
            cur.generation
        };
        let reporter = Reporter::new(self.clone(), generation);
        reporter.update(|cur| {
            cur.info = SessionInfo {
                target: Some(target.describe()),
                client_capabilities: Some(options.capabilities()),
                ..cur.info.restart(SessionState::Connecting)
            }
        });
        let link = match &target {
            Target::Stdio(t) => stdio::spawn(t, options.exit_grace)
                .map_err(|e| format!("could not start `{}`: {e}", t.command)),
            Target::Remote(t) => http::spawn(t, Some(self.shared.oauth.clone())),
        };
        let link = match link {
            Ok(link) => link,
            Err(message) => {
                drop(guard);
                reporter.update(|cur| {
                    cur.info.state = SessionState::Failed;
                    cur.info.error = Some(message);
                });
                return self.info();
            }
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let (ready_tx, ready_rx) = oneshot::channel();
        let (auto_tx, auto_rx) = mpsc::unbounded_channel();
        let lists = Arc::new(super::lists::Lists::default());
        self.inner.lock().unwrap().handle = Some(SessionHandle {
            commands: tx,
            lists: lists.clone(),
        });
        let actor = Actor {
            lists,
            link,
            engine: Engine::default(),
            reporter,
            options,
            stderr_tail: VecDeque::new(),
            ready: Some(ready_tx),
            connected: false,
            failed: false,
            server_requests: Default::default(),
            responders: self.responders.clone(),
            auto_tx,
            models: self.shared.models.clone(),
            inflight: Default::default(),
            remote: target.is_remote(),
            modern: false,
            modern_wire: false,
            tool_headers: Default::default(),
            rounds: Default::default(),
            listen: Default::default(),
            tasks: Default::default(),
            client_tasks: Default::default(),
        };
        tokio::spawn(actor.run(rx, auto_rx));
        drop(guard);
        let _ = ready_rx.await;
        // If a disconnect or another connect ended this session, let it finish reporting first.
        let _settled = self.lifecycle.lock().await;
        self.info()
    }

    /// Marks the session failed before any connection was tried (e.g. a catalog entry whose
    /// placeholders cannot be resolved), so the reason shows where the user looks.
    pub fn fail_before_start(&self, reason: String) {
        let json = {
            let mut cur = self.inner.lock().unwrap();
            cur.generation += 1;
            cur.info.state = SessionState::Failed;
            cur.info.error = Some(reason);
            Box::new(cur.info.clone())
        };
        self.publish(Event::State(json));
    }

    /// The kept OAuth credentials were forgotten: the authorization view says so (unless a
    /// flow is running, which shows its own), so no badge goes on claiming "authorized".
    pub fn credentials_forgotten(&self, resource: &str) {
        let json = {
            let mut cur = self.inner.lock().unwrap();
            // Only a view that shows an authorization can go on claiming it.
            if cur.info.state == SessionState::Authorizing || cur.info.authorization.is_none() {
                return;
            }
            cur.info.authorization = Some(AuthorizationView {
                phase: "forgotten".into(),
                url: None,
                paused: None,
                details: serde_json::Map::from_iter([("resource".into(), resource.into())]),
            });
            Box::new(cur.info.clone())
        };
        self.publish(Event::State(json));
    }

    /// Connects again to the last target, with the same settings; None if there was none.
    pub async fn reconnect(self: &Arc<Self>) -> Option<SessionInfo> {
        let last = self.inner.lock().unwrap().last.clone();
        let (target, options) = last?;
        Some(self.connect(target, options).await)
    }

    /// Shuts the connection down (if any) and reports `disconnected`.
    pub async fn disconnect(&self) -> SessionInfo {
        let _guard = self.lifecycle.lock().await;
        self.stop_current().await;
        let json = {
            let mut cur = self.inner.lock().unwrap();
            cur.generation += 1;
            cur.info = SessionInfo {
                target: cur.info.target.take(),
                ..cur.info.restart(SessionState::Disconnected)
            };
            cur.pending.clear();
            Box::new(cur.info.clone())
        };
        self.publish(Event::State(json));
        self.info()
    }

    async fn stop_current(&self) {
        let handle = self.inner.lock().unwrap().handle.take();
        if let Some(handle) = handle {
            handle.shutdown().await;
        }
    }

    /// Publishes an event that happened outside the connection but belongs to this session
    /// (what the page reports of the apps it hosts).
    pub fn publish_event(&self, event: Event) -> u64 {
        self.publish(event)
    }

    pub(super) fn publish(&self, event: Event) -> u64 {
        self.publish_kept(event).seq
    }

    /// Publishes `event` and hands back the record the ring keeps of it.
    pub(super) fn publish_kept(&self, event: Event) -> Arc<crate::events::Record> {
        // The count asks for attention: a note (an era fallback, the policy an app runs under)
        // is in the stream, not in it.
        if let Event::Finding { severity, .. } = &event
            && *severity != crate::events::Severity::Info
        {
            self.findings.fetch_add(1, Ordering::Relaxed);
        }
        self.shared.events.publish_kept(Some(&self.id), event)
    }
}

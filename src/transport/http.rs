//! Remote targets: Streamable HTTP (2025-03-26 … 2025-11-25) and the legacy HTTP+SSE transport
//! (2024-11-05), with the fallback from the first to the second. Every HTTP exchange becomes a
//! `TransportEvent::Http` with secrets redacted; every JSON-RPC message that arrives (a JSON
//! body, or an SSE `message` event) becomes a `Frame`, byte for byte.
//!
//! What each message is comes typed from the session ([`Outgoing`]); the negotiated version and
//! the moment to open the server stream come as [`ToTransport`] controls. The only question this
//! module asks of a frame's content, whether it answers a given request, goes to the engine
//! ([`wire::answers`]).
//!
//! Each client message is POSTed on its own task, so a long call never holds up the others. A
//! POST that fails reports the JSON-RPC id it carried, so only that call fails. Redirects are
//! never followed and no proxy is used: we talk to the URL the user gave, nothing else. The
//! legacy endpoint must stay on the SSE URL's origin, since our headers (tokens included) go
//! with every POST. A 401 (or a 403 `insufficient_scope`) goes to the authorization flow
//! ([`Authorizer`]), and the message is sent again with its token.
//!
//! | file | owns |
//! |---|---|
//! | `http.rs` | the shared client and headers, the loop that hands each message to its POST, one request and its `http` event, reading bodies and SSE streams, DELETE |
//! | `http/streamable.rs` | a Streamable HTTP POST and its answer (refusals, fallback, resuming), the GET stream |
//! | `http/legacy.rs` | the HTTP+SSE stream and its endpoint, its POSTs, the fallback to it |

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use reqwest::{
    Method, StatusCode,
    header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue},
};
use serde_json::{Value, json};
use tokio::{
    sync::{mpsc, oneshot, watch},
    task::JoinHandle,
};
use url::Url;

use super::{
    Exit, Link, Outgoing, ToTransport, TransportEvent,
    sse::{SseEvent, SseParser},
    stdio::MAX_FRAME_BYTES,
};
use crate::{
    events::{HttpEvent, HttpKind},
    net::{self, BodyError, budget, describe_error, read_limited},
    oauth::{OAuthOptions, Reporter, broker::Broker, flow::Authorizer},
    redact, wire,
};

mod legacy;
mod stream;
mod streamable;

use legacy::{post_legacy, start_legacy_stream};
use stream::read_sse;
use streamable::{get_loop, post_streamable};

const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";
/// How much of an error body the timeline shows.
const BODY_EXCERPT: usize = 2048;
/// How often a dropped GET stream is re-opened in a row before we give up on it.
const MAX_GET_RETRIES: u32 = 5;
const DEFAULT_RETRY: Duration = Duration::from_millis(1000);
/// How long an in-order POST (a notification or response) may hold up the next message.
const ORDERED_POST_LIMIT: Duration = Duration::from_secs(10);
/// How many times one message is sent again after an authorization before it fails.
const MAX_AUTH_RETRIES: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteKind {
    Http,
    Sse,
}

impl RemoteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RemoteKind::Http => "http",
            RemoteKind::Sse => "sse",
        }
    }
}

#[derive(Debug, Clone)]
pub struct RemoteTarget {
    pub kind: RemoteKind,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    /// Header names (any case) whose values never appear in events, besides the usual ones.
    pub secret_headers: BTreeSet<String>,
    /// What the user said about OAuth for this server (used only if it asks for authorization).
    pub oauth: OAuthOptions,
    /// Values that came from `${input:}` / `${env:}` placeholders: hidden wherever they appear
    /// in the description (the URL), and scrubbed from exports.
    pub secrets: Vec<String>,
}

/// Which way we currently talk to the server.
#[derive(Debug, Clone, PartialEq)]
enum Mode {
    Streamable,
    /// Legacy HTTP+SSE; the POST endpoint arrives on the GET stream.
    Legacy,
}

struct Shared {
    client: reqwest::Client,
    url: Url,
    headers: HeaderMap,
    secret: BTreeSet<String>,
    /// Values from the target's placeholders: hidden in every URL and header shown, whatever
    /// the parameter or header is called.
    secret_values: Vec<String>,
    mode: Mutex<Mode>,
    session_id: Mutex<Option<String>>,
    protocol_version: Mutex<Option<String>>,
    /// The modern era: stateless POSTs only (no GET stream, no resuming, no DELETE).
    modern: std::sync::atomic::AtomicBool,
    /// The legacy POST endpoint, once the GET stream named it.
    endpoint: watch::Sender<Option<Url>>,
    events: mpsc::Sender<TransportEvent>,
    /// Reports that the connection is over (the reason), e.g. the server forgot our session.
    ended: mpsc::Sender<String>,
    /// The long-lived GET stream (standalone or legacy), aborted on shutdown.
    get_task: Mutex<Option<JoinHandle<()>>>,
    /// Answers a 401 (or a 403 `insufficient_scope`) with the authorization flow; None where
    /// no flow can run.
    auth: Option<Arc<Authorizer>>,
}

/// `broker` is what authorization flows share; without one, a 401 simply fails the request.
pub fn spawn(target: &RemoteTarget, broker: Option<Arc<Broker>>) -> Result<Link, String> {
    let url = Url::parse(&target.url).map_err(|e| format!("{}: {e}", target.url))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{url}: only http and https URLs are supported"));
    }
    let mut headers = HeaderMap::new();
    for (name, value) in &target.headers {
        let n = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| format!("header {name:?}: not a valid header name"))?;
        let mut v = HeaderValue::from_str(value.trim())
            .map_err(|_| format!("header {name}: the value has characters HTTP does not allow"))?;
        if redact::is_secret_name(name, &target.secret_headers) {
            v.set_sensitive(true);
        }
        headers.insert(n, v);
    }
    let client = net::client()?;
    let (events_tx, events_rx) = mpsc::channel(1024);
    let (out_tx, out_rx) = mpsc::unbounded_channel();
    let (shutdown_tx, shutdown_rx) = oneshot::channel();
    let (ended_tx, ended_rx) = mpsc::channel(4);
    let auth = broker.map(|b| {
        let events = events_tx.clone();
        let report: Reporter = Arc::new(move |report| {
            let events = events.clone();
            Box::pin(async move {
                let _ = events.send(TransportEvent::from(report)).await;
            })
        });
        Authorizer::new(b, url.clone(), target.oauth.clone(), client.clone(), report)
    });
    let shared = Arc::new(Shared {
        client,
        url,
        headers,
        secret: target.secret_headers.clone(),
        secret_values: target.secrets.clone(),
        mode: Mutex::new(match target.kind {
            RemoteKind::Http => Mode::Streamable,
            RemoteKind::Sse => Mode::Legacy,
        }),
        session_id: Mutex::new(None),
        protocol_version: Mutex::new(None),
        modern: Default::default(),
        endpoint: watch::channel(None).0,
        events: events_tx,
        ended: ended_tx,
        get_task: Mutex::new(None),
        auth,
    });
    if target.kind == RemoteKind::Sse {
        start_legacy_stream(&shared);
    }
    tokio::spawn(run(shared, out_rx, shutdown_rx, ended_rx));
    Ok(Link {
        outgoing: out_tx,
        incoming: events_rx,
        shutdown: Some(shutdown_tx),
    })
}

async fn run(
    sh: Arc<Shared>,
    mut outgoing: mpsc::UnboundedReceiver<ToTransport>,
    mut shutdown: oneshot::Receiver<()>,
    mut ended: mpsc::Receiver<String>,
) {
    let mut posts = tokio::task::JoinSet::new();
    // Each request's POST task, so a modern cancel can close its stream.
    let mut by_id: std::collections::HashMap<i64, tokio::task::AbortHandle> = Default::default();
    let description = loop {
        tokio::select! {
            msg = outgoing.recv() => match msg {
                Some(ToTransport::Message(msg)) if msg.request_id().is_some() => {
                    // A request may take as long as the tool does: it must not hold up others.
                    by_id.retain(|_, h| !h.is_finished());
                    let id = msg.request_id().expect("a request");
                    by_id.insert(id, posts.spawn(post(sh.clone(), msg)));
                }
                Some(ToTransport::Message(msg)) => {
                    // Notifications and responses go in order, so that `initialized` reaches
                    // the server before the next request (some SDKs refuse requests until it has).
                    tokio::select! {
                        _ = tokio::time::timeout(ORDERED_POST_LIMIT, post(sh.clone(), msg)) => {}
                        _ = &mut shutdown => break "disconnected".to_owned(),
                    }
                }
                Some(ToTransport::ProtocolVersion(v)) => {
                    *sh.protocol_version.lock().unwrap() = Some(v);
                }
                Some(ToTransport::Modern) => {
                    sh.modern.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                Some(ToTransport::Abandon { id, reason }) => {
                    if let Some(task) = by_id.remove(&id) {
                        task.abort();
                        sh.note(format!("closed the response stream of request {id} to cancel it ({reason})")).await;
                    }
                }
                Some(ToTransport::OpenServerStream) => {
                    if *sh.mode.lock().unwrap() == Mode::Streamable {
                        let sh2 = sh.clone();
                        let task = tokio::spawn(async move { get_loop(sh2, None, None, DEFAULT_RETRY).await });
                        *sh.get_task.lock().unwrap() = Some(task);
                    }
                }
                None => break "disconnected".to_owned(),
            },
            _ = &mut shutdown => break "disconnected".to_owned(),
            Some(reason) = ended.recv() => break reason,
            Some(_) = posts.join_next(), if !posts.is_empty() => {}
        }
    };
    posts.abort_all();
    if let Some(task) = sh.get_task.lock().unwrap().take() {
        task.abort();
    }
    let has_session = sh.session_id.lock().unwrap().is_some();
    let streamable = *sh.mode.lock().unwrap() == Mode::Streamable;
    if description == "disconnected" && streamable && has_session && !sh.is_modern() {
        delete_session(&sh).await;
    }
    let _ = sh
        .events
        .send(TransportEvent::Closed(Exit {
            code: None,
            signal: None,
            description,
        }))
        .await;
}

impl Shared {
    async fn emit(&self, event: TransportEvent) {
        let _ = self.events.send(event).await;
    }

    async fn http(&self, event: HttpEvent) {
        self.emit(TransportEvent::Http(Box::new(event))).await;
    }

    async fn note(&self, message: String) {
        self.http(HttpEvent::note(message)).await;
    }

    /// Only a request of ours has a caller waiting; a lost notification or answer shows in its
    /// `http` event alone.
    async fn fail(&self, msg: &Outgoing, message: String) {
        if let Some(id) = msg.request_id() {
            self.emit(TransportEvent::SendFailed { id, message }).await;
        }
    }

    /// Nothing listens any more: the session is over, said plainly, rather than looking alive.
    async fn stopped_answering(&self, error: &str) {
        let _ = self
            .ended
            .send(format!("the server stopped answering: {error}"))
            .await;
    }

    fn redact_map(&self, headers: &HeaderMap) -> Value {
        let mut shown = redact::header_map(headers, &self.secret);
        if !self.secret_values.is_empty() {
            for v in shown
                .as_object_mut()
                .into_iter()
                .flat_map(|m| m.values_mut())
            {
                if let Some(s) = v.as_str() {
                    *v = Value::String(redact::values_in(s, &self.secret_values));
                }
            }
        }
        shown
    }

    fn redact_url(&self, url: &Url) -> String {
        redact::values_in(&redact::url(url, &self.secret), &self.secret_values)
    }

    fn is_modern(&self) -> bool {
        self.modern.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Our headers plus the session headers the protocol requires, and the bearer token once
    /// authorized (with which token it is, for a refusal).
    fn request_headers(&self, accept: &'static str, json_body: bool) -> (HeaderMap, u64) {
        let mut h = self.headers.clone();
        let mut generation = 0;
        if let Some(auth) = &self.auth {
            let (bearer, g) = auth.bearer();
            generation = g;
            if let Some(v) = bearer {
                h.insert(reqwest::header::AUTHORIZATION, v);
            }
        }
        h.insert(ACCEPT, HeaderValue::from_static(accept));
        if json_body {
            h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        if *self.mode.lock().unwrap() == Mode::Streamable {
            if let Some(id) = self.session_id.lock().unwrap().as_deref()
                && let Ok(v) = HeaderValue::from_str(id)
            {
                h.insert(SESSION_HEADER, v);
            }
            if let Some(v) = self.protocol_version.lock().unwrap().as_deref()
                && let Ok(v) = HeaderValue::from_str(v)
            {
                h.insert(VERSION_HEADER, v);
            }
        }
        (h, generation)
    }

    /// A POST the server refused, in words: the status, its challenge and what its body says.
    fn refusal(&self, status: StatusCode, www_authenticate: Option<&str>, body: &str) -> String {
        let mut message = format!("POST {} answered {status}", self.redact_url(&self.url));
        if let Some(w) = www_authenticate {
            message.push_str(&format!("; WWW-Authenticate: {w}"));
        }
        if !body.trim().is_empty() {
            message.push_str(&format!(": {}", body.trim()));
        }
        message
    }

    /// Whether a refusal is the authorization flow's to answer: a 401, or a 403 whose
    /// challenge says `insufficient_scope`.
    fn asks_authorization(&self, status: StatusCode, www_authenticate: Option<&str>) -> bool {
        self.auth.is_some()
            && (status == StatusCode::UNAUTHORIZED
                || (status == StatusCode::FORBIDDEN
                    && www_authenticate
                        .and_then(crate::oauth::challenge::bearer)
                        .is_some_and(|c| c.param("error") == Some("insufficient_scope"))))
    }

    /// Runs (or waits for) the authorization flow after a refusal; Ok means send again.
    async fn authorize(
        &self,
        status: StatusCode,
        www_authenticate: Option<&str>,
        used: u64,
    ) -> Result<(), String> {
        let auth = self.auth.as_ref().expect("asks_authorization checked");
        auth.refused(status.as_u16(), www_authenticate, used).await
    }

    /// Sends one request. With a response, returns it and its `exchange` event, not yet emitted
    /// so the caller can add to it; with none (refused, TLS, reset), emits the `error` event and
    /// returns why.
    async fn send(
        &self,
        method: Method,
        url: &Url,
        headers: HeaderMap,
        body: Option<&str>,
        carries: Option<&Outgoing>,
        timeout: Option<Duration>,
    ) -> Result<(reqwest::Response, HttpEvent), Unanswered> {
        let mut req = self
            .client
            .request(method.clone(), url.clone())
            .headers(headers.clone());
        if let Some(body) = body {
            req = req.body(body.to_owned());
        }
        if let Some(t) = timeout {
            req = req.timeout(t);
        }
        let started = Instant::now();
        let sent = req.send().await;
        let mut event = HttpEvent {
            method: Some(method.as_str().to_owned()),
            url: Some(self.redact_url(url)),
            request_headers: Some(self.redact_map(&headers)),
            duration_ms: Some(started.elapsed().as_secs_f64() * 1000.0),
            carries: carries.map(|msg| json!({"method": msg.method, "id": msg.request_id()})),
            ..HttpEvent::default()
        };
        match sent {
            Ok(res) => {
                event.kind = Some(HttpKind::Exchange);
                event.status = Some(res.status().as_u16());
                event.response_headers = Some(self.redact_map(res.headers()));
                Ok((res, event))
            }
            Err(e) => {
                let message = describe_error(&e);
                event.kind = Some(HttpKind::Error);
                event.error = Some(Some(message.clone()));
                self.http(event).await;
                Err(Unanswered {
                    message,
                    connect: e.is_connect(),
                })
            }
        }
    }

    /// A POST that got no response: only its own call fails, but a refused connection means
    /// the server is gone. Not in the modern era: it is stateless, so a server that restarts
    /// loses nothing, and the next request (or the listen stream's retry) simply reaches it.
    async fn post_unanswered(&self, url: &Url, msg: &Outgoing, why: Unanswered) {
        self.fail(
            msg,
            format!("POST {}: {}", self.redact_url(url), why.message),
        )
        .await;
        if why.connect && !self.is_modern() {
            self.stopped_answering(&why.message).await;
        }
    }
}

/// A request that got no response at all.
struct Unanswered {
    message: String,
    connect: bool,
}

/// The `WWW-Authenticate` challenge of an answer, as sent.
fn www_authenticate(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn content_type(res: &reqwest::Response) -> String {
    res.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase()
}

async fn excerpt(res: reqwest::Response) -> String {
    excerpt_of(&read_limited(res, MAX_FRAME_BYTES).await.unwrap_or_default())
}

fn excerpt_of(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(BODY_EXCERPT)]).into_owned()
}

/// Sends one client message, in whichever mode we are in.
async fn post(sh: Arc<Shared>, msg: Outgoing) {
    let mode = sh.mode.lock().unwrap().clone();
    match mode {
        Mode::Streamable => post_streamable(&sh, &msg).await,
        Mode::Legacy => post_legacy(&sh, &msg).await,
    }
}

/// An answer body, with a finding when the memory budget cut it off.
async fn read_body(sh: &Shared, res: reqwest::Response) -> Result<Vec<u8>, String> {
    match read_limited(res, MAX_FRAME_BYTES).await {
        Ok(body) => Ok(body),
        Err(BodyError::OverBudget(e)) => {
            sh.emit(TransportEvent::OverBudget).await;
            Err(e.to_string())
        }
        Err(BodyError::Other(e)) => Err(e),
    }
}

/// Ends the session on the server; its id travels in the request headers the event shows.
async fn delete_session(sh: &Shared) {
    let (headers, _) = sh.request_headers("application/json, text/event-stream", false);
    let timeout = Some(Duration::from_secs(3));
    if let Ok((_, exchange)) = sh
        .send(Method::DELETE, &sh.url, headers, None, None, timeout)
        .await
    {
        sh.http(exchange).await;
    }
}

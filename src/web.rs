//! The browser-facing side: the router, the security guard in front of every route, the JSON API,
//! the SSE event stream, the server-rendered pages and the embedded static files. The only module
//! that knows HTTP towards the browser.

mod apps;
mod assets;
mod calls;
mod catalog;
mod chat;
mod connect;
mod error;
mod extract;
mod guard;
mod history;
mod listen;
mod lists;
mod oauth;
mod pages;
mod recording;
mod requests;
mod server_requests;
mod sessions;
mod sse;
mod tap;
mod tasks;
mod validate;

use std::{convert::Infallible, sync::Arc};

use axum::{
    Router,
    extract::{DefaultBodyLimit, Request},
    response::Response,
    routing::{delete, get, post, put},
};
use tokio::sync::watch;
use tower_layer::Layer;
use tower_service::Service;

use crate::{events::EventBus, session::Sessions};

/// The page may run only our own scripts and talk only to us. Server-supplied images are allowed
/// only as `data:` URIs, so rendering a tool result never makes the browser fetch a server URL.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The UI's policy: [`CONTENT_SECURITY_POLICY`], and when the apps listener runs, frames from
/// its view origins (`<label>.localhost` on its port: the MCP App sandboxes) and nothing else.
pub fn content_security_policy(apps_port: Option<u16>) -> String {
    match apps_port {
        Some(port) => format!("{CONTENT_SECURITY_POLICY}; frame-src http://*.localhost:{port}"),
        None => CONTENT_SECURITY_POLICY.to_owned(),
    }
}

/// What every handler shares, cloned for each request by its `State` extractor: one reference
/// count, not one per field (the fields' clones and drops were about 3% of the relay's CPU).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub events: EventBus,
    pub sessions: Arc<Sessions>,
    /// The servers the user keeps, and those of `--config`.
    pub catalog: Arc<std::sync::Mutex<crate::catalog::Catalog>>,
    pub token: Arc<str>,
    /// `Host` values we answer to (`127.0.0.1:<port>`, `localhost:<port>`, `[::1]:<port>`, …).
    pub allowed_hosts: Arc<[String]>,
    /// With `--dangerously-bind-all`, any IP-literal `Host` on our port is accepted too: the
    /// machine's addresses are not known in advance, and DNS rebinding needs a name, not an IP.
    pub ip_hosts_on_port: Option<u16>,
    /// What the UI's connect form offers when there is no target: this binary's demo server.
    pub demo_command: Arc<str>,
    /// Flips to true when mcpscope is shutting down, so long-lived streams end.
    pub shutting_down: watch::Receiver<bool>,
    /// Where `/oauth/callback` hands a browser's return to the flow waiting for it.
    pub oauth: Arc<crate::oauth::broker::Broker>,
    /// The outcomes of the page's calls, kept for a page that reloads while they run.
    pub calls: Arc<calls::Calls>,
    /// The port of the apps origin (MCP App views), when it listens.
    pub apps_port: Option<u16>,
}

impl Shared {
    /// Whether `host` (a `Host` header value, or an origin without its scheme) names us.
    pub fn is_own_host(&self, host: &str) -> bool {
        if self
            .allowed_hosts
            .iter()
            .any(|a| a.eq_ignore_ascii_case(host))
        {
            return true;
        }
        let Some(port) = self.ip_hosts_on_port else {
            return false;
        };
        let Some((ip, p)) = host.rsplit_once(':') else {
            return false;
        };
        let ip = ip.trim_start_matches('[').trim_end_matches(']');
        p.parse() == Ok(port) && ip.parse::<std::net::IpAddr>().is_ok()
    }

    /// The loopback `Host` values for a listener on `port`.
    pub fn hosts_for(port: u16) -> Arc<[String]> {
        crate::net::loopback_hosts(port).into()
    }
}

/// The routes that act on one session. Written once and nested twice: under `/api` they act on
/// the selected session, under `/api/sessions/{id}` on that one ([`extract::Which`] tells them
/// apart).
fn per_session() -> Router<AppState> {
    Router::new()
        .route("/request", post(requests::request))
        .route("/list", post(lists::list))
        .route("/notify", post(requests::notify))
        .route("/cancel", post(requests::cancel))
        .route("/inflight", get(requests::inflight))
        .route("/pending", get(server_requests::pending))
        .route("/pending/{pid}", post(server_requests::answer_pending))
        .route("/log-level", put(listen::set_log_level))
        .route(
            "/subscriptions",
            post(listen::subscribe).delete(listen::unsubscribe),
        )
        .route("/listen", post(listen::relisten))
        .route("/credentials", delete(oauth::forget_credentials))
        .route(
            "/authorization/continue",
            post(oauth::continue_authorization),
        )
        .route("/app", post(apps::report))
        .route("/tasks", get(tasks::tasks))
        .route("/tasks/{task}/cancel", post(tasks::cancel_task))
        .route("/export", get(recording::export))
        .route("/history", get(history::history))
        .route("/events/{seq}", get(history::event))
        .route("/lint", get(recording::lint))
        .route("/recorded", get(recording::recorded_calls))
}

/// A session's connection: `/api/session/…` for the selected one, `/api/sessions/{id}/…`.
fn lifecycle() -> Router<AppState> {
    Router::new()
        .route("/connect", post(connect::connect))
        .route("/disconnect", post(connect::disconnect))
        .route("/reconnect", post(connect::reconnect))
}

/// The whole application, usable by tests without a socket: the routes behind the guard and
/// its headers ([`guard::Secure`]), wrapped once around the router, not layered on each route.
pub fn app(
    state: AppState,
) -> impl Service<Request, Response = Response, Error = Infallible, Future: Send> + Clone + Send + 'static
{
    // A debugger must be able to send what the user asks, e.g. a large base64 argument.
    let limited = DefaultBodyLimit::max(crate::transport::stdio::MAX_FRAME_BYTES)
        .layer(router(state.clone()));
    guard::Secure::new(limited, state)
}

fn router(state: AppState) -> Router {
    let one_session = per_session()
        .merge(lifecycle())
        .route("/", get(sessions::session).delete(sessions::remove))
        .route("/select", post(sessions::select))
        .route("/calls/{call}", get(calls::call_outcome))
        .route(
            "/responders",
            get(server_requests::session_responders)
                .put(server_requests::set_session_responders)
                .delete(server_requests::clear_session_responders),
        )
        .route(
            "/replay",
            post(recording::replay).get(recording::replay_plan),
        );
    let api = per_session()
        .route("/session", get(sessions::session))
        .nest("/session", lifecycle())
        .route("/sessions", get(sessions::sessions).post(connect::create))
        .nest("/sessions/{id}", one_session)
        .route("/catalog", get(catalog::list).post(catalog::add))
        .route("/catalog/export", get(catalog::export))
        .route("/catalog/import", post(catalog::import))
        .route(
            "/catalog/{name}",
            put(catalog::edit).delete(catalog::remove),
        )
        .route("/catalog/{name}/duplicate", post(catalog::duplicate))
        .route("/catalog/{name}/connect", post(catalog::connect))
        .route("/validate", post(validate::validate))
        .route("/tap", post(tap::tap))
        .route("/chat", post(chat::chat))
        .route("/models", get(chat::models))
        .route(
            "/responders",
            get(server_requests::responders).put(server_requests::set_responders),
        )
        .route("/events", get(sse::events))
        .fallback(error::not_found);
    Router::new()
        .route("/", get(pages::index))
        .route("/static/{*path}", get(assets::asset))
        .route("/favicon.ico", get(assets::favicon))
        .route("/oauth/callback", get(oauth::callback))
        .nest("/api", api)
        .with_state(state)
}

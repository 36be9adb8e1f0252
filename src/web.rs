//! The browser-facing side: the router, the security guard in front of every route, the JSON API,
//! the SSE event stream, the server-rendered pages and the embedded static files. The only module
//! that knows HTTP towards the browser.

mod api;
mod assets;
mod calls;
mod catalog;
mod guard;
mod lists;
mod oauth;
mod pages;
mod recording;
mod sse;

use std::sync::Arc;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderValue, header},
    middleware,
    routing::{get, post, put},
};
use tokio::sync::watch;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::{events::EventBus, session::Sessions};

/// The page may run only our own scripts and talk only to us. Server-supplied images are allowed
/// only as `data:` URIs, so rendering a tool result never makes the browser fetch a server URL.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
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
}

impl AppState {
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
        [
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
        ]
        .into()
    }
}

/// The whole application, usable by tests without a socket.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        // The selected session.
        .route("/session", get(api::session))
        .route("/session/connect", post(api::connect))
        .route("/session/disconnect", post(api::disconnect))
        .route("/session/reconnect", post(api::reconnect))
        .route("/request", post(api::request))
        .route("/list", post(lists::list))
        .route("/notify", post(api::notify))
        .route("/cancel", post(api::cancel))
        .route("/pending", get(api::pending))
        .route("/pending/{pid}", post(api::answer_pending))
        .route("/inflight", get(api::inflight))
        .route("/log-level", put(api::set_log_level))
        .route(
            "/subscriptions",
            post(api::subscribe).delete(api::unsubscribe),
        )
        .route("/listen", post(api::relisten))
        .route(
            "/credentials",
            axum::routing::delete(api::forget_credentials),
        )
        .route("/authorization/continue", post(api::continue_authorization))
        .route("/tasks", get(api::tasks))
        .route("/tasks/{task}/cancel", post(api::cancel_task))
        // Any session by id; the same handlers.
        .route("/sessions", get(api::sessions).post(api::create))
        .route("/sessions/{id}", get(api::session).delete(api::remove))
        .route("/sessions/{id}/select", post(api::select))
        .route("/sessions/{id}/connect", post(api::connect))
        .route("/sessions/{id}/disconnect", post(api::disconnect))
        .route("/sessions/{id}/reconnect", post(api::reconnect))
        .route("/sessions/{id}/request", post(api::request))
        .route("/sessions/{id}/list", post(lists::list))
        .route("/sessions/{id}/calls/{call}", get(calls::call_outcome))
        .route("/sessions/{id}/notify", post(api::notify))
        .route("/sessions/{id}/cancel", post(api::cancel))
        .route("/sessions/{id}/pending", get(api::pending))
        .route("/sessions/{id}/pending/{pid}", post(api::answer_pending))
        .route("/sessions/{id}/inflight", get(api::inflight))
        .route("/sessions/{id}/log-level", put(api::set_log_level))
        .route(
            "/sessions/{id}/subscriptions",
            post(api::subscribe).delete(api::unsubscribe),
        )
        .route("/sessions/{id}/listen", post(api::relisten))
        .route(
            "/sessions/{id}/credentials",
            axum::routing::delete(api::forget_credentials),
        )
        .route(
            "/sessions/{id}/authorization/continue",
            post(api::continue_authorization),
        )
        .route("/sessions/{id}/tasks", get(api::tasks))
        .route("/sessions/{id}/export", get(recording::export))
        .route("/export", get(recording::export))
        .route("/sessions/{id}/lint", get(recording::lint))
        .route("/lint", get(recording::lint))
        .route("/sessions/{id}/recorded", get(recording::recorded_calls))
        .route("/recorded", get(recording::recorded_calls))
        .route(
            "/sessions/{id}/replay",
            post(recording::replay).get(recording::replay_plan),
        )
        .route("/sessions/{id}/tasks/{task}/cancel", post(api::cancel_task))
        .route("/catalog", get(catalog::list).post(catalog::add))
        .route("/catalog/export", get(catalog::export))
        .route("/catalog/import", post(catalog::import))
        .route(
            "/catalog/{name}",
            axum::routing::put(catalog::edit).delete(catalog::remove),
        )
        .route("/catalog/{name}/duplicate", post(catalog::duplicate))
        .route("/catalog/{name}/connect", post(catalog::connect))
        .route("/validate", post(api::validate))
        .route("/responders", get(api::responders).put(api::set_responders))
        .route("/events", get(sse::events))
        .fallback(api::not_found)
        // A debugger must be able to send what the user asks, e.g. a large base64 argument.
        .layer(DefaultBodyLimit::max(
            crate::transport::stdio::MAX_FRAME_BYTES,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ));
    Router::new()
        .route("/", get(pages::index))
        .route("/static/{*path}", get(assets::asset))
        .route("/favicon.ico", get(assets::favicon))
        .route("/oauth/callback", get(oauth::callback))
        .nest("/api", api)
        .layer(middleware::from_fn_with_state(state.clone(), guard::guard))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        // The first page load carries the token in its URL; never leak it as a referrer.
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .with_state(state)
}

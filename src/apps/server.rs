//! The apps origins: a second loopback listener (`--apps-port`) that serves MCP App views and
//! nothing of the UI. It holds no token and knows no session: the sandbox proxy page (framed
//! only by the UI's own origins), its script, the probe each view gets, and the views
//! themselves, each with the Content-Security-Policy its resource declared.
//!
//! Each view gets an origin of its own, `http://<label>.localhost:<port>` (browsers resolve
//! `*.localhost` to loopback without DNS): another site than the UI's `127.0.0.1`, so no
//! cookie or storage of the UI, of another view, or of another local service is shared.
//!
//! A view's HTML reaches it the way the spec's sandbox proxy is given it: the UI posts
//! `ui/notifications/sandbox-resource-ready` to the proxy, and the proxy stores it here with
//! `POST /views` and frames `GET /views/{id}`. Serving the view from a URL, rather than
//! `srcdoc`, lets its policy be a real response header the view cannot edit. The view shares
//! the proxy's origin and can script it, so each sandbox page may store one view only (its
//! slot, spent by the proxy before the view exists): a view cannot store another under a wider
//! policy.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, Path, Request, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use rust_embed::RustEmbed;
use serde::Deserialize;
use serde_json::{Value, json};

use super::csp;

#[derive(RustEmbed)]
#[folder = "static/sandbox/"]
struct Sandbox;

/// How many views are kept at once, and how many bytes of HTML; the oldest go first.
const MAX_VIEWS: usize = 64;
const MAX_VIEW_BYTES: usize = 64 << 20;
/// One view's HTML (a bundled React app is about 0.5 MB).
const MAX_ONE_VIEW: usize = 16 << 20;

/// How many sandbox pages may wait for their one view at once.
const MAX_SLOTS: usize = 64;

/// What the apps listener needs to know.
#[derive(Clone)]
pub struct AppsState {
    /// `Host` values this listener answers to besides `<label>.localhost:<port>`.
    hosts: Arc<[String]>,
    port: u16,
    /// mcpscope's listeners: a view may not declare them.
    own_ports: [u16; 2],
    /// The UI's origins: the only pages that may frame the sandbox.
    ui_origins: Arc<str>,
    views: Arc<Mutex<Views>>,
}

impl AppsState {
    /// `port` is this listener's, `hosts` its loopback `Host` values (`127.0.0.1:<port>`, …);
    /// `ui_hosts` and `ui_port` the UI listener's.
    pub fn new(port: u16, hosts: Arc<[String]>, ui_hosts: &[String], ui_port: u16) -> AppsState {
        let ui_origins = ui_hosts
            .iter()
            .map(|h| format!("http://{h}"))
            .collect::<Vec<_>>()
            .join(" ");
        AppsState {
            hosts,
            port,
            own_ports: [port, ui_port],
            ui_origins: ui_origins.into(),
            views: Default::default(),
        }
    }

    /// Whether a `Host` names this listener: a loopback name on its port, or a view's
    /// `<label>.localhost` on it.
    fn is_own_host(&self, host: &str) -> bool {
        if self.hosts.iter().any(|a| a.eq_ignore_ascii_case(host)) {
            return true;
        }
        let Some(label) = host
            .strip_suffix(&format!(".localhost:{}", self.port))
            .filter(|l| !l.is_empty() && l.len() <= 63)
        else {
            return false;
        };
        label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }
}

#[derive(Default)]
struct Views {
    list: VecDeque<(String, Arc<View>)>,
    bytes: usize,
    /// Sandbox pages served and not yet given their view: (slot, its host).
    slots: VecDeque<(String, String)>,
}

struct View {
    html: String,
    policy: String,
    /// The origin (`Host`) it was stored from and is served to.
    host: String,
}

impl Views {
    fn add(&mut self, id: String, view: View) {
        self.bytes += view.html.len();
        self.list.push_back((id, Arc::new(view)));
        while self.list.len() > MAX_VIEWS || self.bytes > MAX_VIEW_BYTES {
            let Some((_, old)) = self.list.pop_front() else {
                break;
            };
            self.bytes -= old.html.len();
        }
    }

    fn get(&self, id: &str) -> Option<Arc<View>> {
        self.list
            .iter()
            .find(|(i, _)| i == id)
            .map(|(_, v)| v.clone())
    }

    fn open_slot(&mut self, host: &str) -> String {
        let slot = crate::net::random_hex(16);
        self.slots
            .push_back((slot.clone(), host.to_ascii_lowercase()));
        if self.slots.len() > MAX_SLOTS {
            self.slots.pop_front();
        }
        slot
    }

    /// Spends a slot: true when it was open, for this host.
    fn take_slot(&mut self, slot: &str, host: &str) -> bool {
        match self.slots.iter().position(|(s, h)| s == slot && h == host) {
            Some(i) => {
                self.slots.remove(i);
                true
            }
            None => false,
        }
    }
}

pub fn router(state: AppsState) -> Router {
    Router::new()
        .route("/sandbox", get(sandbox_page))
        .route("/sandbox.js", get(|| async { script("sandbox.js") }))
        .route("/probe.js", get(|| async { script("probe.js") }))
        .route("/views", post(add_view))
        .route("/views/{id}", get(view))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found") })
        .layer(DefaultBodyLimit::max(MAX_ONE_VIEW + (1 << 20)))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// Only our own loopback `Host` (no DNS rebinding); a write only from this same origin (the
/// sandbox proxy), never from another site's page.
/// Only our own loopback `Host` (no DNS rebinding: `*.localhost` never goes to DNS); a write
/// only from the same origin as the request (a sandbox proxy storing its view), never from
/// another site's page or another view's origin.
async fn guard(State(state): State<AppsState>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let Some(host) = host.filter(|h| state.is_own_host(h)) else {
        return (StatusCode::FORBIDDEN, "unexpected Host").into_response();
    };
    if let Some(origin) = headers.get(header::ORIGIN) {
        let same = origin
            .to_str()
            .ok()
            .and_then(|o| o.strip_prefix("http://"))
            .is_some_and(|o| o.eq_ignore_ascii_case(host));
        if !same {
            return (StatusCode::FORBIDDEN, "foreign Origin").into_response();
        }
    } else if request.method() != axum::http::Method::GET {
        return (StatusCode::FORBIDDEN, "a write needs its Origin").into_response();
    }
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The request's `Host`, as the guard let it in, for keying what this origin may do.
fn host_of(headers: &HeaderMap) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// A sandbox page, with the slot for the one view it may store.
async fn sandbox_page(State(state): State<AppsState>, headers: HeaderMap) -> Response {
    let slot = state.views.lock().unwrap().open_slot(&host_of(&headers));
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"mcpscope-slot\" content=\"{slot}\"><title>mcpscope app sandbox</title>\
         <script src=\"/sandbox.js\"></script></head><body></body></html>\n"
    );
    let policy = format!(
        "default-src 'none'; script-src 'self'; connect-src 'self'; frame-src 'self'; \
         base-uri 'none'; form-action 'none'; frame-ancestors {}",
        state.ui_origins
    );
    html(page, &policy)
}

fn html(body: String, policy: &str) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    match HeaderValue::from_str(policy) {
        Ok(v) => {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
        // Never serve a view without its policy.
        Err(_) => return (StatusCode::INTERNAL_SERVER_ERROR, "bad policy").into_response(),
    }
    response
}

fn script(name: &str) -> Response {
    match Sandbox::get(name) {
        Some(file) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/javascript; charset=utf-8"),
            )],
            file.data,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

#[derive(Deserialize)]
struct NewView {
    /// The sandbox page's slot: one view per page.
    slot: String,
    html: String,
    #[serde(default)]
    csp: Option<Value>,
    #[serde(default)]
    permissions: Option<Value>,
}

async fn add_view(State(state): State<AppsState>, headers: HeaderMap, body: Bytes) -> Response {
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_body {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "send JSON").into_response();
    }
    let new: NewView = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    if new.html.len() > MAX_ONE_VIEW {
        return (StatusCode::PAYLOAD_TOO_LARGE, "view too big").into_response();
    }
    let host = host_of(&headers);
    if !state.views.lock().unwrap().take_slot(&new.slot, &host) {
        return (
            StatusCode::FORBIDDEN,
            "this sandbox has stored its view already (or was never served)",
        )
            .into_response();
    }
    let built = csp::build(new.csp.as_ref(), new.permissions.as_ref(), &state.own_ports);
    let id = crate::net::random_hex(16);
    let policy = format!(
        "{}; frame-ancestors 'self' {}",
        built.header, state.ui_origins
    );
    state.views.lock().unwrap().add(
        id.clone(),
        View {
            html: with_probe(&new.html),
            policy: policy.clone(),
            host,
        },
    );
    Json(json!({
        "url": format!("/views/{id}"),
        "csp": policy,
        "allow": built.allow,
        "ignored": built.ignored,
        "applied": built.applied,
    }))
    .into_response()
}

/// A view, to its own origin only.
async fn view(
    State(state): State<AppsState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let found = state.views.lock().unwrap().get(&id);
    match found {
        Some(v) if v.host == host_of(&headers) => html(v.html.clone(), &v.policy),
        _ => (
            StatusCode::NOT_FOUND,
            "no such view (views are kept while recent)",
        )
            .into_response(),
    }
}

const PROBE: &str = "<script src=\"/probe.js\"></script>";

/// The view's HTML with the probe as its first script, so a policy violation or an error
/// during the view's own first script is reported too: right after `<head …>`, else after
/// `<html …>`, else after the doctype (before it, the page would render in quirks mode), else
/// first.
fn with_probe(html: &str) -> String {
    let at = tag_end(html, "<head")
        .or_else(|| tag_end(html, "<html"))
        .or_else(|| doctype_end(html))
        .unwrap_or(0);
    let mut out = String::with_capacity(html.len() + PROBE.len());
    out.push_str(&html[..at]);
    out.push_str(PROBE);
    out.push_str(&html[at..]);
    out
}

/// Just past a leading `<!doctype …>` (after a byte-order mark and white space).
fn doctype_end(html: &str) -> Option<usize> {
    let lead = html.len()
        - html
            .trim_start_matches(['\u{feff}', ' ', '\t', '\n', '\r'])
            .len();
    let rest = &html[lead..];
    rest.get(..9)
        .filter(|d| d.eq_ignore_ascii_case("<!doctype"))
        .and_then(|_| rest.find('>'))
        .map(|j| lead + j + 1)
}

/// Where the first `<name …>` start tag ends (just past its `>`), matched without case.
fn tag_end(html: &str, name: &str) -> Option<usize> {
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name) {
        let start = from + i;
        let after = start + name.len();
        match lower.as_bytes().get(after) {
            Some(b'>' | b' ' | b'\t' | b'\n' | b'\r' | b'/') => {
                return lower[after..].find('>').map(|j| after + j + 1);
            }
            _ => from = after,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_is_the_first_script_of_the_head() {
        assert_eq!(
            with_probe(
                "<!doctype html><HTML lang=en><header></header><Head class=x><script>1</script>"
            ),
            format!(
                "<!doctype html><HTML lang=en><header></header><Head class=x>{PROBE}<script>1</script>"
            )
        );
        assert_eq!(
            with_probe("<html><body>x</body></html>"),
            format!("<html>{PROBE}<body>x</body></html>")
        );
        assert_eq!(with_probe("<p>bare</p>"), format!("{PROBE}<p>bare</p>"));
        assert_eq!(
            with_probe("\u{feff}<!DOCTYPE html><meta charset=utf-8><div>"),
            format!("\u{feff}<!DOCTYPE html>{PROBE}<meta charset=utf-8><div>")
        );
    }

    #[test]
    fn views_are_bounded_and_a_sandbox_stores_one() {
        let mut v = Views::default();
        for i in 0..MAX_VIEWS + 3 {
            v.add(
                i.to_string(),
                View {
                    html: "x".into(),
                    policy: String::new(),
                    host: String::new(),
                },
            );
        }
        assert_eq!(v.list.len(), MAX_VIEWS);
        assert!(v.get("0").is_none() && v.get(&(MAX_VIEWS + 2).to_string()).is_some());
        let slot = v.open_slot("a.localhost:1");
        assert!(
            !v.take_slot(&slot, "b.localhost:1"),
            "another origin's slot"
        );
        assert!(v.take_slot(&slot, "a.localhost:1"));
        assert!(!v.take_slot(&slot, "a.localhost:1"), "spent");
    }

    #[test]
    fn a_view_origin_is_a_label_of_localhost_on_this_port() {
        let s = AppsState::new(7000, Arc::from(["127.0.0.1:7000".to_owned()]), &[], 6274);
        for ok in ["127.0.0.1:7000", "v-3f2a.localhost:7000"] {
            assert!(s.is_own_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:7000",
            "a.b.localhost:7000",
            "v1.localhost:7001",
            ".localhost:7000",
            "V1.localhost:7000",
            "x.localhost.evil:7000",
        ] {
            assert!(!s.is_own_host(bad), "{bad}");
        }
    }
}

//! Sessions: each one the single owner of a live connection to a target. A task (the actor)
//! owns the transport link and the wire engine; everything else talks to it through
//! [`SessionHandle`] commands. [`Sessions`] is the registry of every session with its id, name and
//! public state object; one of them is *selected* for the single-session API routes.
//!
//! | file | owns |
//! |---|---|
//! | `registry.rs` | the registry, ids and selection, and each session's lifecycle (connect, reconnect, disconnect, forget) |
//! | `info.rs` | the public session object (derived `Serialize`) |
//! | `target.rs` | what to connect to, its redacted description and its default name |
//! | `handle.rs` | commands, the cloneable handle, local errors, pending server requests |
//! | `actor.rs` | the actor loop and dispatch only: commands, transport events, deadlines |
//! | `outbound.rs` | the typed messages we hand the transport, each shown as a frame event first |
//! | `inflight.rs` | our requests in flight: progress tokens, deadlines, cancel, the in-flight view, the tokens of requests we gave up on |
//! | `server_requests.rs` | the server's requests: ping, capability checks, responders, the manual queue |
//! | `notifications.rs` | the server's notifications that change what the session knows |
//! | `subscriptions.rs` | the resource subscriptions the session holds, as the server confirmed them |
//! | `establish.rs` | establishing a connection per era: `initialize`, the `server/discover` probe, the `auto` fallback |
//! | `era/` | the eras: the legacy `initialize` handshake; the modern probe, `_meta`, `resultType` and HTTP routing headers |
//! | `listen.rs` | the modern era's `subscriptions/listen` stream: filter, acknowledgement, routing by subscription id, re-listen |
//! | `tasks.rs` | tasks in both eras: created by an answer, followed by `tasks/get`, the outcome fetched or read inline, modern input requests answered with `tasks/update`, cancel |
//! | `tapped.rs` | a tapped session: a real client's traffic reported by `mcpscope tap` or `proxy`, read by the engine's observer into the same events, read-only |
//! | `rounds.rs` | the modern era's input rounds (MRTR): input requests served like server requests, then the retry |

mod actor;
mod client_tasks;
mod era;
mod establish;
mod handle;
pub mod headless;
mod inflight;

mod listen;
mod lists;
mod notifications;
mod outbound;
mod outbox;
mod registry;
mod results;
mod rounds;
mod server_requests;
mod subscriptions;
mod tapped;
mod target;
mod tasks;

use std::time::Duration;

use serde_json::{Value, json};

pub use crate::events::{Era, SessionInfo, SessionState};
pub use era::EraChoice;
pub use era::legacy::{DEFAULT_PROTOCOL_VERSION, KNOWN_PROTOCOL_VERSIONS};
pub use era::modern::MODERN_VERSION;
pub use handle::{Answer, LocalError, PendingRequest, SessionHandle};
pub use lists::{LIST_METHODS, Listed};
pub use registry::{Session, Sessions};
pub use tapped::Tapped;
pub use target::Target;

pub use crate::transport::http::{RemoteKind, RemoteTarget};

/// The log levels of `logging/setLevel` and the modern `_meta` log level (RFC 5424 names).
pub const LOG_LEVELS: [&str; 8] = [
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
];

/// Default per-request timeout: how long a request may go without an answer or progress.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
/// Default hard maximum per request, however much progress arrives.
pub const DEFAULT_MAX_TOTAL: Duration = Duration::from_secs(600);

/// A request's limit from how long it may go without an answer or progress: progress extends
/// it up to [`DEFAULT_MAX_TOTAL`], or to `idle` itself when that is longer.
pub fn timeout_after(idle: Duration) -> crate::wire::Timeout {
    crate::wire::Timeout {
        idle,
        max_total: DEFAULT_MAX_TOTAL.max(idle),
    }
}

/// Everything that shapes one connection besides the target.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The version a legacy `initialize` asks for.
    pub protocol_version: String,
    pub client_capabilities: Value,
    pub era: EraChoice,
    /// The modern era's per-request log level (it has no `logging/setLevel`).
    pub log_level: Option<String>,
    /// How many input rounds (MRTR) one request may take before we give up on it.
    pub max_rounds: u32,
    /// How long a stdio server may take to exit once its stdin is closed, before SIGTERM.
    pub exit_grace: std::time::Duration,
    /// Whether the MCP Apps extension is declared (the UI hosts apps; a one-shot cannot).
    pub apps: bool,
}

impl ConnectOptions {
    /// The client capabilities as declared: the session's, with the MCP Apps extension when
    /// this connection hosts apps.
    pub fn capabilities(&self) -> Value {
        let mut caps = self.client_capabilities.clone();
        if self.apps {
            crate::apps::declare(&mut caps);
        }
        caps
    }
}

/// Default cap on input rounds per request: enough for any real form sequence, low enough to
/// stop a server that asks forever.
pub const DEFAULT_MAX_ROUNDS: u32 = 10;

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            protocol_version: DEFAULT_PROTOCOL_VERSION.to_owned(),
            client_capabilities: default_client_capabilities(),
            era: EraChoice::default(),
            log_level: None,
            max_rounds: DEFAULT_MAX_ROUNDS,
            exit_grace: crate::transport::stdio::GRACE_AFTER_EOF,
            apps: false,
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
        // The client hosts task-augmented sampling and elicitation (2025-11-25).
        "tasks": {
            "list": {},
            "cancel": {},
            "requests": {"sampling": {"createMessage": {}}, "elicitation": {"create": {}}},
        },
    })
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string()
}

//! Transports: the only code that does I/O with the target server. Each one hands the session a
//! [`Link`]: an ordered channel of [`ToTransport`] (typed messages, plus the little a transport
//! must learn from the session) and a stream of [`TransportEvent`]s (frame lines, stderr lines,
//! HTTP exchanges, a fallback, the end of the connection).
//!
//! The contract is typed so that no transport parses our JSON-RPC: the session says what each
//! message is (kind, method, our id) and what it learnt (the protocol version), and the transport
//! decides how to carry it (its own POST, in order, which headers).
//!
//! | transport | module | status |
//! |---|---|---|
//! | stdio child process | [`stdio`] | here |
//! | Streamable HTTP, legacy HTTP+SSE (and the fallback between them) | [`http`], [`sse`] | here |

pub mod http;
pub mod sse;
pub mod stdio;

use tokio::sync::{mpsc, oneshot};

use crate::events::{AuthStep, AuthorizationView, HttpEvent};

/// What a message of ours is, as far as carrying it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// A request of ours, with the id we gave it; it may take as long as the server does.
    Request {
        id: i64,
    },
    Notification,
    /// Our answer to a server request.
    Response,
}

/// One message of ours: its exact text and what a transport needs to carry it.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub text: String,
    pub kind: MessageKind,
    /// The request's or notification's method.
    pub method: Option<String>,
    /// Extra HTTP headers this message travels with (the modern era's `MCP-Protocol-Version`,
    /// `Mcp-Method`, `Mcp-Name`, `Mcp-Param-*`); stdio ignores them.
    pub headers: Vec<(String, String)>,
}

impl Outgoing {
    /// Our request id; None for notifications and for answers (whose id is the server's).
    pub fn request_id(&self) -> Option<i64> {
        match self.kind {
            MessageKind::Request { id } => Some(id),
            MessageKind::Notification | MessageKind::Response => None,
        }
    }

    pub fn is_request(&self, method: &str) -> bool {
        self.request_id().is_some() && self.method.as_deref() == Some(method)
    }
}

/// Everything the session hands a transport, in one ordered channel, so that what it learnt
/// (a version) is in place before the next message goes out.
#[derive(Debug)]
pub enum ToTransport {
    Message(Outgoing),
    /// The protocol version the handshake settled on; HTTP sends it on every later request.
    ProtocolVersion(String),
    /// The session is established: a transport with a separate stream for server-initiated
    /// messages (Streamable HTTP's GET) opens it now.
    OpenServerStream,
    /// The session speaks the modern era: no session, no GET stream, no resuming a dropped
    /// response stream (the request is lost), and cancelling means closing the stream.
    Modern,
    /// Cancel one request of ours by closing its response stream (modern HTTP).
    Abandon {
        id: i64,
        reason: String,
    },
}

/// Something the transport observed.
#[derive(Debug)]
pub enum TransportEvent {
    /// One complete frame (a stdout line, without the terminator).
    Frame(Vec<u8>),
    /// One stderr line.
    Stderr(String),
    /// A frame line longer than we accept was cut off; the rest of it was skipped.
    Overlong { bytes: usize, head: Vec<u8> },
    /// One HTTP exchange or stream milestone with a remote target, secrets already redacted.
    /// An authorization flow's requests carry their `phase`.
    Http(Box<HttpEvent>),
    /// One step of an authorization flow, secrets left out.
    Auth(AuthStep),
    /// An authorization flow started waiting on the user or moved on (`active`), or ended
    /// (`!active`: authorized or failed). `view` is the session object's `authorization`.
    Authorization {
        active: bool,
        view: AuthorizationView,
    },
    /// The transport now speaks `to` instead of `from` (Streamable HTTP fell back to HTTP+SSE).
    Fallback {
        from: &'static str,
        to: &'static str,
    },
    /// An answer was dropped because the answers being read at once went over the process's
    /// memory budget ([`crate::net::budget`]); the session goes on.
    OverBudget,
    /// A message of ours with this JSON-RPC id could not be delivered (or its answer could not
    /// be read); only that call fails.
    SendFailed { id: i64, message: String },
    /// The connection is over (for stdio: the child exited). Always the last event.
    Closed(Exit),
}

/// How the target went away.
#[derive(Debug, Clone)]
pub struct Exit {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub description: String,
}

/// The session's handle on a live transport.
#[derive(Debug)]
pub struct Link {
    /// Messages to send, in order. Unbounded so that a target that stops reading cannot stall
    /// the session loop; what we send is driven by API calls, not by the server.
    pub outgoing: mpsc::UnboundedSender<ToTransport>,
    pub incoming: mpsc::Receiver<TransportEvent>,
    /// Asks the transport to shut the target down; `Closed` follows.
    pub shutdown: Option<oneshot::Sender<()>>,
}

/// How long to wait before opening a stream again after `failures` failures in a row (the GET
/// stream of Streamable HTTP, the modern listen stream): 1 s, doubling, at most 30 s.
pub fn backoff(failures: u32) -> std::time::Duration {
    std::time::Duration::from_secs(1u64 << failures.saturating_sub(1).min(5))
        .min(std::time::Duration::from_secs(30))
}

/// An authorization flow's reports travel with the connection's own events, in order.
impl From<crate::oauth::Report> for TransportEvent {
    fn from(report: crate::oauth::Report) -> Self {
        match report {
            crate::oauth::Report::Http(event) => TransportEvent::Http(event),
            crate::oauth::Report::Step(step) => TransportEvent::Auth(step),
            crate::oauth::Report::View { active, view } => {
                TransportEvent::Authorization { active, view }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_and_is_capped() {
        let secs: Vec<u64> = (1..=8).map(|d| super::backoff(d).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 30, 30, 30]);
    }
}

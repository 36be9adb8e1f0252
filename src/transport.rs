//! Transports: the only code that does I/O with the target server. Each one hands the session a
//! [`Link`]: a way to send frame text and a stream of [`TransportEvent`]s (frame lines, stderr
//! lines, HTTP exchanges, the end of the connection).
//!
//! | transport | module | status |
//! |---|---|---|
//! | stdio child process | [`stdio`] | here |
//! | Streamable HTTP, legacy HTTP+SSE (and the fallback between them) | [`http`], [`sse`] | here |

pub mod http;
pub mod sse;
pub mod stdio;

use tokio::sync::{mpsc, oneshot};

/// Something the transport observed.
#[derive(Debug)]
pub enum TransportEvent {
    /// One complete frame (a stdout line, without the terminator).
    Frame(Vec<u8>),
    /// One stderr line.
    Stderr(String),
    /// A frame line longer than we accept was cut off; the rest of it was skipped.
    Overlong { bytes: usize },
    /// One HTTP exchange or stream milestone with a remote target, secrets already redacted.
    Http(serde_json::Value),
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
    /// Frame texts to send, in order. Unbounded so that a target that stops reading cannot stall
    /// the session loop; what we send is driven by API calls, not by the server.
    pub outgoing: mpsc::UnboundedSender<String>,
    pub incoming: mpsc::Receiver<TransportEvent>,
    /// Asks the transport to shut the target down; `Closed` follows.
    pub shutdown: Option<oneshot::Sender<()>>,
}

//! Transports: the only code that does I/O with the target server. Each one hands the session a
//! [`Link`]: a way to send frame text and a stream of [`TransportEvent`]s (frame lines, stderr
//! lines, HTTP exchanges, the end of the connection).
//!
//! | transport | module | status |
//! |---|---|---|
//! | stdio child process | [`stdio`] | here |
//! | Streamable HTTP, legacy HTTP+SSE | — | a later issue; refused with a clear error |

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

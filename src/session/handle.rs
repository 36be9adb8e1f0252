//! How the rest of the program talks to a running session: the [`Command`]s its actor takes, the
//! cloneable [`SessionHandle`] that sends them, the local errors a call can end in, and the shape
//! of a server request waiting for an answer.

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::{
    events::{PendingView, TaskView},
    wire::{Outcome, Timeout},
};

/// A failure on our side of the wire (the server never answered).
#[derive(Debug, Clone, thiserror::Error)]
pub enum LocalError {
    #[error("not connected")]
    NotConnected,
    /// `request_id` and `elapsed_ms` (from sending to giving up) let the API say which call
    /// ended and after how long.
    #[error("{message}; notifications/cancelled was sent")]
    Timeout {
        message: String,
        request_id: i64,
        elapsed_ms: u64,
    },
    #[error("{0}")]
    Transport(String),
    #[error("cancelled: {reason}")]
    Cancelled {
        reason: String,
        request_id: i64,
        elapsed_ms: u64,
    },
    #[error("{0}")]
    Unsupported(String),
    /// mcpscope would not send it, or stopped part-way, as a real client must (a tool excluded
    /// for invalid headers, input rounds over the cap, an input request answered with an error).
    #[error("{0}")]
    Refused(String),
}

/// The server's answer to an API request, with the id we gave the request.
#[derive(Debug)]
pub struct Answer {
    pub id: i64,
    pub outcome: Outcome,
}

/// Where the answer to a server request goes: a JSON-RPC response with the server's id echoed
/// (legacy), or one entry of the `inputResponses` of a request's next round (the modern era's
/// input requests, which arrive inside a result).
#[derive(Debug, Clone, PartialEq)]
pub enum ReplyTo {
    JsonRpc(Value),
    Input {
        /// The conversation (one API call across its rounds).
        conversation: u64,
        /// The id of the request whose result asked, and the first request of the call.
        request_id: i64,
        origin_id: i64,
        round: u32,
        key: String,
    },
    /// One entry of the `inputResponses` of a modern task's `tasks/update`.
    TaskInput {
        task_id: String,
        key: String,
    },
    /// The request of a task the client hosts (it was answered with the task already).
    ClientTask {
        task_id: String,
    },
}

/// A server→client request waiting for an answer.
#[derive(Debug, Clone)]
pub struct PendingRequest {
    pub key: String,
    pub reply_to: ReplyTo,
    pub method: String,
    pub params: Value,
    pub received_at: String,
    /// A model's draft answer waiting for a person's review (responders' `review: true`).
    pub draft: Option<Draft>,
}

/// What a model proposed for a sampling request, or why it could not.
#[derive(Debug, Clone)]
pub struct Draft {
    pub result: Option<Value>,
    pub error: Option<String>,
    /// Which model, and the tokens it used (the `answeredBy` the answer would carry).
    pub by: Value,
}

impl PendingRequest {
    /// What the API lists and a `pending` event carries.
    pub fn view(&self) -> PendingView {
        let mut v = PendingView {
            id: self.key.clone(),
            method: self.method.clone(),
            params: self.params.clone(),
            received_at: self.received_at.clone(),
            draft: self.draft.as_ref().and_then(|d| d.result.clone()),
            draft_error: self.draft.as_ref().and_then(|d| d.error.clone()),
            drafted_by: self.draft.as_ref().map(|d| d.by.clone()),
            ..PendingView::default()
        };
        match &self.reply_to {
            ReplyTo::JsonRpc(server_id) => v.server_id = Some(server_id.clone()),
            ReplyTo::Input {
                request_id,
                origin_id,
                round,
                key,
                ..
            } => {
                v.request_id = Some(*request_id);
                v.origin_request_id = Some(*origin_id);
                v.round = Some(*round);
                v.input_key = Some(key.clone());
            }
            ReplyTo::TaskInput { task_id, key } => {
                v.task_id = Some(task_id.clone());
                v.input_key = Some(key.clone());
            }
            ReplyTo::ClientTask { task_id } => {
                v.task_id = Some(task_id.clone());
                v.hosted_task = Some(true);
            }
        }
        v
    }
}

pub(super) enum Command {
    Request {
        method: String,
        params: Option<Value>,
        timeout: Timeout,
        reply: oneshot::Sender<Result<Answer, LocalError>>,
    },
    RootsChanged,
    /// The modern era's per-request log level (it has no `logging/setLevel`).
    SetLogLevel {
        level: Option<String>,
    },
    Inflight {
        reply: oneshot::Sender<Vec<Value>>,
    },
    /// Modern era: add or remove a resource on the listen stream; answered with the filter the
    /// next stream acknowledged.
    Subscribe {
        uri: String,
        on: bool,
        reply: oneshot::Sender<Result<Value, LocalError>>,
    },
    /// Modern era: open the listen stream again now.
    Relisten,
    /// The tasks this connection follows.
    Tasks {
        reply: oneshot::Sender<Vec<TaskView>>,
    },
    CancelTask {
        task_id: String,
        reply: oneshot::Sender<Result<Answer, LocalError>>,
    },
    Notify {
        method: String,
        params: Option<Value>,
    },
    Cancel {
        request_id: i64,
        reason: Option<String>,
        reply: oneshot::Sender<bool>,
    },
    AnswerPending {
        key: String,
        outcome: Result<Value, Value>,
        reply: oneshot::Sender<bool>,
    },
    Shutdown {
        done: oneshot::Sender<()>,
    },
}

/// A cheap, cloneable way to talk to a running session.
#[derive(Clone)]
pub struct SessionHandle {
    pub(super) commands: mpsc::UnboundedSender<Command>,
    /// The connection's kept lists (`lists.rs`), shared with its actor.
    pub(super) lists: std::sync::Arc<super::lists::Lists>,
}

impl SessionHandle {
    /// Sends a request and waits for the server's answer or a local failure.
    pub async fn request(
        &self,
        method: String,
        params: Option<Value>,
        timeout: Timeout,
    ) -> Result<Answer, LocalError> {
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(Command::Request {
                method,
                params,
                timeout,
                reply,
            })
            .map_err(|_| LocalError::NotConnected)?;
        rx.await
            .unwrap_or_else(|_| Err(LocalError::Transport("the session ended".into())))
    }

    pub fn notify(&self, method: String, params: Option<Value>) -> Result<(), LocalError> {
        self.commands
            .send(Command::Notify { method, params })
            .map_err(|_| LocalError::NotConnected)
    }

    /// Cancels one of our requests; false if it was not waiting.
    pub async fn cancel(&self, request_id: i64, reason: Option<String>) -> bool {
        self.ask(|reply| Command::Cancel {
            request_id,
            reason,
            reply,
        })
        .await
        .unwrap_or(false)
    }

    /// Answers a queued server→client request; false if no such request is waiting.
    pub async fn answer_pending(&self, key: String, outcome: Result<Value, Value>) -> bool {
        self.ask(|reply| Command::AnswerPending {
            key,
            outcome,
            reply,
        })
        .await
        .unwrap_or(false)
    }

    /// Our requests still waiting for an answer, with their time limits and latest progress.
    pub async fn inflight(&self) -> Vec<Value> {
        self.ask(|reply| Command::Inflight { reply })
            .await
            .unwrap_or_default()
    }

    /// Modern era: subscribes to (or unsubscribes from) a resource on the listen stream, and
    /// waits for the server to acknowledge the new filter.
    pub async fn listen_for(&self, uri: String, on: bool) -> Result<Value, LocalError> {
        self.ask(|reply| Command::Subscribe { uri, on, reply })
            .await
            .unwrap_or(Err(LocalError::NotConnected))
    }

    /// The tasks this connection follows, newest first.
    pub async fn tasks(&self) -> Vec<TaskView> {
        self.ask(|reply| Command::Tasks { reply })
            .await
            .unwrap_or_default()
    }

    /// Sends `tasks/cancel` for a task this connection follows; the server's answer.
    pub async fn cancel_task(&self, task_id: String) -> Result<Answer, LocalError> {
        self.ask(|reply| Command::CancelTask { task_id, reply })
            .await
            .unwrap_or(Err(LocalError::NotConnected))
    }

    /// Modern era: listens again at once (after a drop, or a stream the server ended).
    pub fn relisten(&self) -> Result<(), LocalError> {
        self.commands
            .send(Command::Relisten)
            .map_err(|_| LocalError::NotConnected)
    }

    /// Sets the log level the modern era sends in every request's `_meta`.
    pub fn set_log_level(&self, level: Option<String>) -> Result<(), LocalError> {
        self.commands
            .send(Command::SetLogLevel { level })
            .map_err(|_| LocalError::NotConnected)
    }

    pub(super) fn roots_changed(&self) {
        let _ = self.commands.send(Command::RootsChanged);
    }

    pub(super) async fn shutdown(&self) {
        let _ = self.ask(|done| Command::Shutdown { done }).await;
    }

    /// Sends a command that carries its reply channel; None when the session is gone.
    async fn ask<T>(&self, command: impl FnOnce(oneshot::Sender<T>) -> Command) -> Option<T> {
        let (reply, rx) = oneshot::channel();
        self.commands.send(command(reply)).ok()?;
        rx.await.ok()
    }
}

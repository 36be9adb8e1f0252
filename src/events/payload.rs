//! What the session's events carry besides frames, typed: a server request waiting for a
//! person, a step of a modern call that asked for input, a followed task, one HTTP exchange, one
//! step of an authorization flow, one message of an MCP App's bridge, one step of a chat. Each serialises to the shape the API and the UI read (the
//! contract's), and reads back from a recording the same way.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A server→client request (or a modern input request) waiting for an answer, as
/// `GET /api/pending` lists it and a `pending` event carries it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingView {
    /// Our key for it (what `POST …/pending/{id}` names).
    pub id: String,
    pub method: String,
    pub params: Value,
    pub received_at: String,
    /// A JSON-RPC request: the server's id, echoed in the answer as it came.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_id: Option<Value>,
    /// A modern input request: the request whose result asked, the call's first request, the
    /// round, and the key of `inputRequests`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin_request_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_key: Option<String>,
    /// A task's input request, or the request of a task the client hosts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosted_task: Option<bool>,
    /// Sampling answered by a model under review: its proposed result (or why there is none),
    /// and which model drafted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drafted_by: Option<Value>,
}

/// A step of a modern call that asked for input (MRTR), tied to the call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoundEvent {
    #[serde(flatten)]
    pub step: RoundStep,
    /// The request this step is about (for `retry`, the new one).
    pub request_id: i64,
    pub origin_request_id: i64,
    pub round: u32,
    pub method: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum RoundStep {
    /// The result asked for these input keys.
    InputRequired {
        keys: Vec<String>,
        #[serde(rename = "requestState")]
        request_state: bool,
    },
    /// One key was answered, and by whom.
    Answered {
        key: String,
        #[serde(rename = "answeredBy")]
        answered_by: Value,
    },
    /// Every key answered: the call went out again.
    Retry {
        #[serde(rename = "previousRequestId")]
        previous_request_id: i64,
    },
    /// The call stopped asking, and why.
    Ended { reason: String },
}

/// Which side runs a task: the server runs ours, or we host one the server asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskSide {
    Server,
    Client,
}

/// A task a session follows, as `GET /api/tasks` lists it and a `task` event carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskView {
    pub task_id: String,
    pub side: TaskSide,
    pub era: super::Era,
    pub method: String,
    pub subject: Option<String>,
    /// A server-side task: the request of ours that created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<i64>,
    /// A hosted task: the server's request it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_request_id: Option<Value>,
    pub status: Option<Value>,
    pub status_message: Option<Value>,
    pub created_at: Option<Value>,
    pub last_updated_at: Option<Value>,
    pub ttl_ms: Option<Value>,
    pub poll_interval_ms: u64,
    /// The task object as its side last stated it.
    pub task: Value,
    pub outcome: Option<Value>,
    /// A hosted task: who chose its answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_by: Option<Value>,
    /// Why the task is no longer followed, when it is not.
    pub lost: Option<String>,
    pub polls: u64,
    /// A server-side task: how long since it was last heard of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen_ms: Option<u64>,
}

/// What an `http` event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HttpKind {
    /// A request and its answer.
    Exchange,
    /// A request that got no answer (it could not be sent, or the answer could not be read).
    Error,
    /// A stream (an SSE answer or the GET stream) ended.
    StreamClosed,
    /// Something the transport decided, in words (a fallback, a legacy endpoint, an event type
    /// it ignores).
    Note,
}

/// One HTTP exchange with a remote target (or an authorization server), headers and bodies
/// already redacted; an authorization flow's requests say their `phase`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct HttpEvent {
    #[serde(rename = "type")]
    pub kind: Option<HttpKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_headers: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<Value>,
    /// The JSON-RPC message a POST carried: its method and id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carries: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_headers: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_excerpt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    /// A stream's end: how many events it carried, the first and last event ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<u64>,
    /// These three are present on a stream's end even when null (`Some(None)`), absent from
    /// the other kinds.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub first_event_id: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub last_event_id: Option<Option<String>>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub error: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A note about a fallback: the transport it falls back to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

/// A member that is there, even as null, reads as `Some` (absent stays `None` by `default`).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl HttpEvent {
    /// A note in words.
    pub fn note(message: String) -> HttpEvent {
        HttpEvent {
            kind: Some(HttpKind::Note),
            message: Some(message),
            ..HttpEvent::default()
        }
    }

    /// Whether this exchange is a refusal asking for authorization: a 401, or a 403 asking for
    /// more scope.
    pub fn asks_authorization(&self) -> bool {
        match self.status {
            Some(401) => true,
            // Anywhere in the exchange: the challenge, the body or its excerpt.
            Some(403) => {
                serde_json::to_string(self).is_ok_and(|text| text.contains("insufficient_scope"))
            }
            _ => false,
        }
    }
}

/// One step of an authorization flow, in plain words. Never a token, code, verifier or secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthStep {
    /// challenge, prm, as-metadata, registration, authorize, callback, token, refresh, step-up
    pub phase: String,
    pub ok: bool,
    pub message: String,
    pub details: Value,
}

/// One message of an MCP App's postMessage bridge, as the page (the host) sent or received it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppEvent {
    pub direction: AppDirection,
    /// The JSON-RPC message as it crossed the bridge (a view's HTML is summarised: it is in
    /// the `resources/read` frame already).
    pub message: Value,
    /// The page's name for this app instance: one per rendering of a view.
    pub view: String,
    /// The `tools/call` that opened the app, once its id is known.
    #[serde(default)]
    pub request_id: Option<Value>,
    /// That tool's name and its view's `ui://` URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppDirection {
    /// From the host (mcpscope's page) to the app.
    ToApp,
    /// From the app to the host.
    FromApp,
}

/// One tool call the model made, as it went.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ToolCall {
    pub session: String,
    /// The tool's own name (whatever the provider needed it spelled as).
    pub name: String,
    pub arguments: Value,
    /// The `CallToolResult`, or `{"error": …}` when the call failed.
    pub result: Value,
}

/// One step, as a `chat` event carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatStep {
    /// Which chat (one per `POST /api/chat` or eval case run).
    pub chat: String,
    pub step: u32,
    /// `delta` (text as the model streams it), `model` (the model's turn: its whole text) or
    /// `tool` (one tool call and its result). Not `kind`: that names the event.
    pub part: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call: Option<ToolCall>,
}

//! The public session object (`GET /api/session`, `GET /api/sessions`, `state` events), with a
//! derived `Serialize` so its shape is the struct.

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    /// Stable for the life of the process; null only when no session exists at all.
    pub id: Option<String>,
    pub name: Option<String>,
    pub state: &'static str,
    pub target: Option<Value>,
    /// The era the connection speaks (`legacy` or `modern`), once established.
    pub era: Option<&'static str>,
    pub protocol_version: Option<String>,
    /// Modern era: the `server/discover` result as the server sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discover: Option<Value>,
    /// Modern era: the log level every request asks for in its `_meta`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_level: Option<String>,
    /// Modern era: the `subscriptions/listen` stream: `state` (connecting, listening, dropped,
    /// closed, failed, off), its `requestId`, the filter `requested` and `acknowledged`, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<Value>,
    /// OAuth: while `state` is `authorizing`, what the flow waits for (`phase`, the `url` for the
    /// user to open, its `host`); afterwards how it ended (`authorized` with issuer and scopes,
    /// or `failed` with the error).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Value>,
    /// Tools an HTTP client must not call (invalid `x-mcp-header`), with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded_tools: Vec<Value>,
    pub server_info: Option<Value>,
    pub capabilities: Option<Value>,
    pub instructions: Option<Value>,
    pub client_capabilities: Option<Value>,
    pub error: Option<String>,
    /// An opened recording (`mcpscope open FILE`): the file, its header's `version` and
    /// `startedAt`, how many events it holds. Such a session is read-only: it never connects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording: Option<Value>,
    /// The catalog entry this session was connected from, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog: Option<String>,
    /// Server requests waiting for an answer, and findings so far (for the server list).
    pub pending: usize,
    pub findings: u64,
    /// The resource URIs this connection is subscribed to, in subscribe order: what the server
    /// accepted, not what was clicked.
    pub subscriptions: Vec<String>,
}

impl SessionInfo {
    pub fn disconnected() -> Self {
        SessionInfo {
            state: "disconnected",
            ..Default::default()
        }
    }

    /// The session object for a new state of the same session: its identity (id, name,
    /// catalog entry) kept, everything about the previous connection cleared.
    pub fn restart(&self, state: &'static str) -> Self {
        SessionInfo {
            id: self.id.clone(),
            name: self.name.clone(),
            catalog: self.catalog.clone(),
            recording: self.recording.clone(),
            state,
            ..Default::default()
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("the session object serialises")
    }
}

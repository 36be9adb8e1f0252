//! The public session object (`GET /api/session`, `GET /api/sessions`, `state` events), with a
//! derived `Serialize` so its shape is the struct.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// What an authorization flow shows the user: what it waits for, or how it ended.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationView {
    /// discovery, registration, browser, token, …; authorized, failed, forgotten.
    pub phase: String,
    /// The page for the user to open, while the flow waits on the browser.
    pub url: Option<String>,
    /// A step-by-step flow waits here for Continue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<Paused>,
    /// The rest of what the phase says: `resource`, `stepByStep`, `issuer`, `scopes`, `host`,
    /// `error`, ….
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

/// Where a step-by-step flow stands still.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paused {
    /// The flow's id, which Continue names.
    pub flow: String,
    /// The request it makes next.
    pub next: String,
    /// What the user may change before it goes on (`scopes`, `clientId`).
    pub editable: Vec<String>,
    /// Their current values.
    pub current: Value,
}

/// Where a session stands. The wire names (`connecting`, …) are the API's and the UI's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionState {
    #[default]
    Disconnected,
    Connecting,
    /// An OAuth flow runs: the person may have a page to open or a paused step to continue.
    Authorizing,
    Connected,
    Failed,
    /// An opened recording: read-only, never connects.
    Recorded,
}

impl SessionState {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::Disconnected => "disconnected",
            SessionState::Connecting => "connecting",
            SessionState::Authorizing => "authorizing",
            SessionState::Connected => "connected",
            SessionState::Failed => "failed",
            SessionState::Recorded => "recorded",
        }
    }
}

impl fmt::Display for SessionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The protocol era a connection speaks, once established (contract §"Protocol eras").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Era {
    /// Revisions 2024-11-05 … 2025-11-25: an `initialize` handshake.
    Legacy,
    /// 2026-07-28: `server/discover`, per-request `_meta`, no handshake.
    Modern,
}

impl Era {
    pub fn as_str(self) -> &'static str {
        match self {
            Era::Legacy => "legacy",
            Era::Modern => "modern",
        }
    }

    /// A recording header's or an API body's era word.
    pub fn parse(s: &str) -> Option<Era> {
        match s {
            "legacy" => Some(Era::Legacy),
            "modern" => Some(Era::Modern),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SessionInfo {
    /// Stable for the life of the process; null only when no session exists at all.
    pub id: Option<String>,
    pub name: Option<String>,
    pub state: SessionState,
    pub target: Option<Value>,
    /// The era the connection speaks (`legacy` or `modern`), once established.
    pub era: Option<Era>,
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
    pub authorization: Option<AuthorizationView>,
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
    /// A tapped session (`mcpscope tap`, `mcpscope proxy`): a real client's traffic with its
    /// server, shown as it passes. Read-only: nothing can be sent on it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub tapped: bool,
    /// A tapped session: the `clientInfo` the client sent in `initialize`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_info: Option<Value>,
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
            state: SessionState::Disconnected,
            ..Default::default()
        }
    }

    /// The session object for a new state of the same session: its identity (id, name,
    /// catalog entry) kept, everything about the previous connection cleared.
    pub fn restart(&self, state: SessionState) -> Self {
        SessionInfo {
            id: self.id.clone(),
            name: self.name.clone(),
            catalog: self.catalog.clone(),
            recording: self.recording.clone(),
            tapped: self.tapped,
            state,
            ..Default::default()
        }
    }

    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("the session object serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The API, the UI and recordings read the serde names; messages print `as_str`: one word
    /// per state in both, and a recording's state reads back as the same state.
    #[test]
    fn state_and_era_words_agree_with_their_serde_names() {
        use SessionState::*;
        for state in [
            Disconnected,
            Connecting,
            Authorizing,
            Connected,
            Failed,
            Recorded,
        ] {
            let json = serde_json::to_value(state).unwrap();
            assert_eq!(json, state.as_str());
            assert_eq!(serde_json::from_value::<SessionState>(json).unwrap(), state);
        }
        for era in [Era::Legacy, Era::Modern] {
            assert_eq!(serde_json::to_value(era).unwrap(), era.as_str());
            assert_eq!(Era::parse(era.as_str()), Some(era));
        }
        assert_eq!(Era::parse("auto"), None);
    }
}

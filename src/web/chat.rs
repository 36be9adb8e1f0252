//! `POST /api/chat`: a model that may call the tools of the connected sessions (all of them, or
//! those named), run to its answer by [`crate::chat::run`]; every step is a `chat` event and
//! every tool call a frame on its session.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::{Json, body::Bytes, extract::State, response::IntoResponse, response::Response};
use serde::Deserialize;
use serde_json::Value;

use super::{
    AppState,
    error::{ApiError, parse},
};
use crate::{
    chat::{self, Host, MAX_STEPS},
    model::ModelRef,
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ChatBody {
    /// The conversation so far: `{role, content}` with content a string or MCP content blocks.
    messages: Vec<Value>,
    /// `PROVIDER:MODEL`; default `--model`.
    model: Option<String>,
    /// The sessions whose tools the model may call; default every connected one.
    sessions: Option<Vec<String>>,
    /// Model turns at most (default 8, at most 32).
    max_steps: Option<u32>,
}

static CHATS: AtomicU64 = AtomicU64::new(0);

/// `GET /api/models`: the providers configured (never their keys) and the default model.
pub(super) async fn models(State(state): State<AppState>) -> Response {
    let providers = state.sessions.models();
    let configured: Vec<&str> = [
        crate::model::Provider::OpenAi,
        crate::model::Provider::Anthropic,
    ]
    .into_iter()
    .filter(|p| providers.configured(*p))
    .map(|p| p.as_str())
    .collect();
    Json(serde_json::json!({
        "providers": configured,
        "default": providers.default.as_ref().map(ToString::to_string),
    }))
    .into_response()
}

pub(super) async fn chat(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let body: ChatBody = parse(&body)?;
    if body.messages.is_empty() {
        return Err(ApiError::BadRequest(
            "\"messages\" must not be empty".into(),
        ));
    }
    let providers = state.sessions.models();
    let model = match &body.model {
        Some(m) => ModelRef::parse(m).map_err(ApiError::BadRequest)?,
        None => providers.default.clone().ok_or_else(|| {
            ApiError::BadRequest(
                "no model: start mcpscope with --model PROVIDER:MODEL or send \"model\"".into(),
            )
        })?,
    };
    let mut hosts = Vec::new();
    match &body.sessions {
        Some(ids) => {
            for id in ids {
                let session = state
                    .sessions
                    .get(id)
                    .ok_or_else(|| ApiError::NotFound(format!("no session {id:?}")))?;
                let handle = session
                    .handle()
                    .filter(|_| !session.is_read_only())
                    .ok_or_else(|| ApiError::Conflict(format!("session {id} is not connected")))?;
                hosts.push(Host { session, handle });
            }
        }
        None => {
            for session in state.sessions.list() {
                if let Some(handle) = session.handle().filter(|_| !session.is_read_only()) {
                    hosts.push(Host { session, handle });
                }
            }
        }
    }
    let id = format!("c{}", CHATS.fetch_add(1, Ordering::Relaxed) + 1);
    let events = state.events.clone();
    let publish = move |e| {
        events.publish(e);
    };
    let steps = body.max_steps.unwrap_or(MAX_STEPS).clamp(1, 32);
    let run = chat::Chat {
        id: &id,
        providers: &providers,
        model: &model,
        hosts: &hosts,
        newest_seq: state.events.newest_seq(),
        max_steps: steps,
    };
    let reply = chat::run(&run, &body.messages, &publish)
        .await
        .map_err(ApiError::Model)?;
    let mut answer = serde_json::to_value(&reply).unwrap_or_default();
    answer["chat"] = Value::from(id);
    Ok(Json(answer).into_response())
}

//! The server's requests to us: the queue waiting for a person, answering one, and the
//! responder settings (mock rules, roots) that answer them automatically.

use std::collections::BTreeMap;

use axum::{
    body::Bytes,
    extract::{Path, State},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    AppState,
    error::{ApiError, parse},
    extract::Which,
};
use crate::{events::PendingView, responders::Settings};

pub(super) async fn pending(
    State(state): State<AppState>,
    which: Which,
) -> Result<Response, ApiError> {
    let list: Vec<PendingView> = which
        .session(&state)?
        .map(|s| s.pending().iter().map(|p| p.view()).collect())
        .unwrap_or_default();
    Ok(axum::Json(list).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PendingAnswer {
    result: Option<Value>,
    error: Option<Value>,
}

pub(super) async fn answer_pending(
    State(state): State<AppState>,
    which: Which,
    Path(params): Path<BTreeMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = params.get("pid").cloned().unwrap_or_default();
    let body: PendingAnswer = parse(&body)?;
    let outcome = match (body.result, body.error) {
        (Some(r), None) => Ok(r),
        (None, Some(e))
            if e.get("code").is_some_and(Value::is_i64)
                && e.get("message").is_some_and(Value::is_string) =>
        {
            Err(e)
        }
        _ => {
            return Err(ApiError::BadRequest(
                "send {\"result\": {...}} or {\"error\": {\"code\": int, \"message\": str}}".into(),
            ));
        }
    };
    let handle = which.handle(&state)?;
    if handle.answer_pending(id.clone(), outcome).await {
        Ok(axum::Json(json!({"answered": id})).into_response())
    } else {
        Err(ApiError::NotFound(format!("no pending request {id}")))
    }
}

pub(super) async fn responders(State(state): State<AppState>) -> Response {
    axum::Json(state.sessions.responders()).into_response()
}

pub(super) async fn set_responders(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let settings: Settings = parse(&body)?;
    let settings = state
        .sessions
        .set_responders(settings)
        .map_err(ApiError::BadRequest)?;
    Ok(axum::Json(settings).into_response())
}

/// `GET /api/sessions/{id}/responders`: the settings that answer this session's server, and
/// whether they are its own (`own`) or everyone's.
pub(super) async fn session_responders(
    State(state): State<AppState>,
    which: Which,
) -> Result<Response, ApiError> {
    let session = which.existing(&state)?;
    Ok(responders_answer(session.responders()))
}

/// `PUT /api/sessions/{id}/responders`: settings of the session's own, in place of everyone's
/// for this session only (kept across its reconnects, not written to the responders file).
pub(super) async fn set_session_responders(
    State(state): State<AppState>,
    which: Which,
    body: Bytes,
) -> Result<Response, ApiError> {
    let session = which.existing(&state)?;
    super::extract::writable(&session)?;
    let settings: Settings = parse(&body)?;
    let set = session
        .set_responders(Some(settings))
        .map_err(ApiError::BadRequest)?;
    Ok(responders_answer(set))
}

/// `DELETE /api/sessions/{id}/responders`: the session follows everyone's settings again.
pub(super) async fn clear_session_responders(
    State(state): State<AppState>,
    which: Which,
) -> Result<Response, ApiError> {
    let session = which.existing(&state)?;
    let set = session.set_responders(None).map_err(ApiError::BadRequest)?;
    Ok(responders_answer(set))
}

fn responders_answer((settings, own): (Settings, bool)) -> Response {
    axum::Json(json!({"own": own, "settings": settings})).into_response()
}

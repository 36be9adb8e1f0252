//! The sessions themselves: the session object (`GET /api/session`, `/api/sessions/{id}`), the
//! list, forgetting one, selecting one.

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Response},
};
use serde_json::Value;

use super::{AppState, error::ApiError, extract::Which};
use crate::session::SessionInfo;

pub(super) fn info_json(info: &SessionInfo) -> Response {
    axum::Json(info).into_response()
}

pub(super) async fn session(
    State(state): State<AppState>,
    which: Which,
) -> Result<Response, ApiError> {
    let info = which
        .session(&state)?
        .map_or_else(SessionInfo::disconnected, |s| s.info());
    Ok(info_json(&info))
}

pub(super) async fn sessions(State(state): State<AppState>) -> Response {
    let list: Vec<Value> = state
        .sessions
        .list()
        .iter()
        .map(|s| s.info().to_json())
        .collect();
    axum::Json(list).into_response()
}

pub(super) async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let session = state
        .sessions
        .remove(&id)
        .await
        .ok_or_else(|| ApiError::NotFound(format!("no session {id:?}")))?;
    Ok(info_json(&session.info()))
}

pub(super) async fn select(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let session = state
        .sessions
        .select(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no session {id:?}")))?;
    Ok(info_json(&session.info()))
}

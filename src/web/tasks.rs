//! The tasks a session follows: the list, and `tasks/cancel`.

use std::collections::BTreeMap;

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Response},
};

use super::{AppState, error::ApiError, extract::Which, requests::answer_into_response};
use crate::session::LocalError;

/// `GET /api/tasks`: the tasks this connection follows, newest first.
pub(super) async fn tasks(
    State(state): State<AppState>,
    which: Which,
) -> Result<Response, ApiError> {
    let list = match which.live(&state)? {
        Some(handle) => handle.tasks().await,
        None => Vec::new(),
    };
    Ok(axum::Json(list).into_response())
}

/// `POST /api/tasks/{task}/cancel`: `tasks/cancel`, answered like `/api/request`.
pub(super) async fn cancel_task(
    State(state): State<AppState>,
    which: Which,
    Path(params): Path<BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    let task = params.get("task").cloned().unwrap_or_default();
    let answer = match which.handle(&state)?.cancel_task(task).await {
        Err(LocalError::Unsupported(why)) => return Err(ApiError::NotFound(why)),
        other => other?,
    };
    Ok(answer_into_response(answer))
}

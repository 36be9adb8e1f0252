//! `POST …/app`: the page, which hosts a session's MCP Apps, reports what crossed each app's
//! bridge and what went wrong inside it; each report becomes events on that session's stream
//! (see [`crate::apps::report`]). An opened recording hosts no app.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::{
    AppState,
    error::{ApiError, parse},
    extract::{Which, writable},
};
use crate::apps::report::Report;

pub(super) async fn report(
    State(state): State<AppState>,
    which: Which,
    body: Bytes,
) -> Result<Response, ApiError> {
    let report: Report = parse(&body)?;
    let session = which.existing(&state)?;
    writable(&session)?;
    let seqs: Vec<u64> = report
        .events()
        .into_iter()
        .map(|e| session.publish_event(e))
        .collect();
    Ok(Json(json!({ "seqs": seqs })).into_response())
}

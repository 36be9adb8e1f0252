//! `POST /api/list` and `/api/sessions/{id}/list`: one page of a list as the session keeps it
//! (`session/lists.rs`), answered as `/request` would answer it; an opened recording answers
//! with what it recorded.

use crate::session::Era;
use axum::{body::Bytes, extract::State, http::HeaderValue, response::Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    AppState,
    error::{ApiError, parse},
    extract::Which,
    requests::answer_response,
};
use crate::session::DEFAULT_TIMEOUT;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ListBody {
    method: String,
    cursor: Option<Value>,
    /// The seq of the newest `list_changed` the caller has seen: a page kept from before it
    /// is listed again.
    #[serde(default)]
    since: u64,
    /// List again whatever is kept (the Refresh button).
    #[serde(default)]
    refresh: bool,
}

/// `POST …/list`: one page of a list, as `/request` would answer it, kept per session
/// (`session/lists.rs`), so reloads and switches send nothing. A kept answer says so in
/// `x-mcpscope-cached`.
pub(super) async fn list(
    State(state): State<AppState>,
    which: Which,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: ListBody = parse(&body)?;
    if !crate::session::LIST_METHODS
        .iter()
        .any(|(m, _)| *m == body.method)
    {
        return Err(ApiError::BadRequest(format!(
            "{:?} is not a list this route keeps (tools/list, resources/list, resources/templates/list, prompts/list)",
            body.method
        )));
    }
    let session = which.session(&state)?;
    if let Some(session) = &session
        && session.is_read_only()
    {
        let params = body.cursor.map(|c| json!({ "cursor": c }));
        return super::recording::recorded_answer(&state, session, &body.method, params.as_ref());
    }
    let handle = which.handle(&state)?;
    let timeout = crate::session::timeout_after(DEFAULT_TIMEOUT);
    let modern = session.is_some_and(|s| s.info().era == Some(Era::Modern));
    let listed = handle
        .list(
            &body.method,
            body.cursor.as_ref(),
            state.events.newest_seq(),
            body.since,
            body.refresh,
            modern,
            timeout,
        )
        .await?;
    let mut response = answer_response(&listed.answer);
    if listed.cached {
        response
            .headers_mut()
            .insert("x-mcpscope-cached", HeaderValue::from_static("true"));
    }
    Ok(response)
}

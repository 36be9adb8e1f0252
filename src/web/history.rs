//! `GET …/history?before=SEQ&limit=N`: a session's retained events, newest first, a page at a
//! time, so a page can show the tail at once and fetch older rows as they are wanted instead of
//! replaying the whole history. The events are the ring's own text, written out as they are.

use axum::{
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

use super::{AppState, error::ApiError, extract::Which};

/// Events per page when the caller does not say, and at most.
const DEFAULT_LIMIT: usize = 500;
const MAX_LIMIT: usize = 5000;

pub(super) async fn history(
    State(state): State<AppState>,
    which: Which,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let session = which.existing(&state)?;
    let mut before = u64::MAX;
    let mut limit = DEFAULT_LIMIT;
    for (key, value) in uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|p| p.split_once('='))
    {
        match key {
            "before" => {
                before = value.parse().map_err(|_| {
                    ApiError::BadRequest(format!("before={value:?} is not an event's seq"))
                })?;
            }
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or_else(|| {
                        ApiError::BadRequest(format!(
                            "limit={value:?}: a number of events from 1 to {MAX_LIMIT}"
                        ))
                    })?;
            }
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unknown parameter {other:?} (before, limit)"
                )));
            }
        }
    }
    let (page, more) = state.events.before(before, limit, Some(session.id()));
    let mut body = String::with_capacity(page.iter().map(|r| r.json.len() + 1).sum::<usize>() + 96);
    body.push_str("{\"events\":[");
    for (i, record) in page.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&record.json);
    }
    body.push_str("],\"more\":");
    body.push_str(if more { "true" } else { "false" });
    body.push_str(",\"oldest\":");
    match page.last() {
        Some(r) => body.push_str(&r.seq.to_string()),
        None => body.push_str("null"),
    }
    body.push_str(",\"newest\":");
    body.push_str(&state.events.newest_seq().to_string());
    body.push('}');
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

//! Recordings and lint over HTTP: `GET /api/sessions/{id}/export` streams the session's events
//! as a recording file (NDJSON, secrets scrubbed), the same file the UI's Export offers;
//! `GET /api/sessions/{id}/lint` holds what the session observed to the spec.

use axum::{
    body::Body,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use tokio_stream::wrappers::ReceiverStream;

use super::{
    AppState,
    api::{ApiError, Which},
};
use crate::recording::{self, Header, export};

pub(super) async fn export(
    State(state): State<AppState>,
    which: Which,
) -> Result<Response, ApiError> {
    let session = which.existing(&state)?;
    let info = session.info();
    let id: std::sync::Arc<str> = session.id().into();
    let header = match &info.recording {
        // An opened recording exports as it was opened: its own header, its own events.
        Some(r) => serde_json::from_value::<Header>(r["header"].clone())
            .map_err(|e| ApiError::Conflict(format!("the opened recording's header: {e}")))?,
        None => Header::for_session(&state.events, &id, &info),
    };
    let file = format!(
        "mcpscope-{}-{}.ndjson",
        safe_name(info.name.as_deref().unwrap_or(&id)),
        header
            .started_at
            .as_deref()
            .map_or_else(String::new, |t| t.get(..19).unwrap_or(t).replace(':', ""))
    );
    let chunks = export::stream(
        state.events.clone(),
        id,
        header,
        export::Secrets::new(session.secret_values()),
    );
    let mut response = Body::from_stream(ReceiverStream::new(chunks)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{file}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

pub(super) async fn lint(
    State(state): State<AppState>,
    which: Which,
) -> Result<Response, ApiError> {
    let session = which.existing(&state)?;
    let events = recording::session_events(&state.events, session.id());
    let findings = crate::lint::lint(events);
    Ok(axum::Json(crate::lint::report(&findings)).into_response())
}

/// A session name as a file name: letters, digits, `-`, `_` and `.`; the rest become `-`.
fn safe_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    s.trim_matches('-').to_owned()
}

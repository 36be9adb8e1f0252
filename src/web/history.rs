//! `GET …/history?before=SEQ&limit=N`: a session's retained events, newest first, a page at a
//! time, so a page can show the tail at once and fetch older rows as they are wanted instead of
//! replaying the whole history. The events are the ring's own text, written out as they are.
//! `kind=` keeps some kinds, `q=` those whose JSON holds a text (the search over the whole
//! history), `scope=all` every session's events.

use axum::{
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

use super::{AppState, error::ApiError, extract::Which};
use crate::events::{HistoryFilter, Needle, SCAN_BUDGET};

/// Events per page when the caller does not say, and at most.
const DEFAULT_LIMIT: usize = 500;
const MAX_LIMIT: usize = 5000;
/// The longest text searched for.
const MAX_TEXT: usize = 1024;
/// More kinds than there are.
const MAX_KINDS: usize = 32;

pub(super) async fn history(
    State(state): State<AppState>,
    which: Which,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    let session = which.existing(&state)?;
    let mut before = u64::MAX;
    let mut limit = DEFAULT_LIMIT;
    let mut elide = None;
    let mut filter = HistoryFilter {
        session: Some(session.id().to_owned()),
        ..HistoryFilter::default()
    };
    for (key, value) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        match &*key {
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
            "kind" => {
                for kind in value.split(',').filter(|k| !k.is_empty()) {
                    if kind.len() > 32 || !kind.bytes().all(|b| b.is_ascii_lowercase()) {
                        return Err(ApiError::BadRequest(format!(
                            "kind={kind:?} is not an event kind"
                        )));
                    }
                    if !filter.kinds.iter().any(|k| k == kind) {
                        filter.kinds.push(kind.to_owned());
                    }
                    if filter.kinds.len() > MAX_KINDS {
                        return Err(ApiError::BadRequest(format!(
                            "kind: at most {MAX_KINDS} kinds"
                        )));
                    }
                }
            }
            "q" => {
                if value.len() > MAX_TEXT {
                    return Err(ApiError::BadRequest(format!(
                        "q is {} bytes: search for at most {MAX_TEXT}",
                        value.len()
                    )));
                }
                filter.text = Needle::new(&value);
            }
            "elide" => {
                let n: usize = value.parse().map_err(|_| {
                    ApiError::BadRequest(format!("elide={value:?} is not a number of bytes"))
                })?;
                elide = Some(n);
            }
            "scope" if value == "all" => filter.session = None,
            "scope" => {
                return Err(ApiError::BadRequest(format!(
                    "scope={value:?}: only \"all\" (every session's events)"
                )));
            }
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unknown parameter {other:?} (before, limit, kind, q, scope, elide)"
                )));
            }
        }
    }
    // A page may read a few hundred thousand events: off the runtime, whose one thread serves
    // every session and stream.
    let bus = state.events.clone();
    let page = tokio::task::spawn_blocking(move || bus.before(before, limit, &filter, SCAN_BUDGET))
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    let (page, more, edge) = (page.records, page.more, page.edge);
    let summaries: Vec<Option<std::sync::Arc<str>>> = page
        .iter()
        .map(|r| elide.and_then(|n| state.events.elided(r, n)))
        .collect();
    let texts: Vec<&str> = page
        .iter()
        .zip(&summaries)
        .map(|(r, summary)| summary.as_deref().unwrap_or(&r.json))
        .collect();
    let mut body = String::with_capacity(texts.iter().map(|t| t.len() + 1).sum::<usize>() + 96);
    body.push_str("{\"events\":[");
    for (i, text) in texts.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(text);
    }
    body.push_str("],\"more\":");
    body.push_str(if more { "true" } else { "false" });
    body.push_str(",\"oldest\":");
    match edge {
        Some(seq) => body.push_str(&seq.to_string()),
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

/// `GET …/events/{seq}`: one retained event of the session (or of no session), whole, as the
/// ring holds it: a frame the stream or a history page elided, fetched when it is opened.
pub(super) async fn event(
    State(state): State<AppState>,
    which: Which,
    axum::extract::Path(params): axum::extract::Path<std::collections::BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    let session = which.existing(&state)?;
    let raw = params.get("seq").map(String::as_str).unwrap_or_default();
    let seq: u64 = raw
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("{raw:?} is not an event's seq")))?;
    let record = state
        .events
        .record(seq)
        .filter(|r| r.visible_to(Some(session.id())))
        .ok_or_else(|| {
            ApiError::NotFound(format!("event {seq} of this session is not retained"))
        })?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        axum::body::Body::from(axum::body::Bytes::from_owner(super::sse::Shared(record))),
    )
        .into_response())
}

//! Our requests to the server: `/api/request` (answered with the server's outcome as it came,
//! without re-serialising it), notifications, cancelling one of ours, and what is in flight.

use std::time::Duration;

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, value::RawValue};

use super::{
    AppState, calls,
    error::{ApiError, json_text, parse},
    extract::Which,
};
use crate::{
    session::{Answer, DEFAULT_MAX_TOTAL, DEFAULT_TIMEOUT},
    wire::{Outcome, Timeout},
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RequestBody {
    method: String,
    params: Option<Value>,
    /// How long the request may go without an answer or progress.
    timeout_ms: Option<u64>,
    /// The hard maximum, however much progress arrives.
    max_total_ms: Option<u64>,
    /// The caller's name for this call: its outcome is kept under it (`GET …/calls/{ref}`), so
    /// a page that reloads while the call runs still gets its answer.
    #[serde(rename = "ref")]
    reference: Option<String>,
}

pub(super) async fn request(
    State(state): State<AppState>,
    which: Which,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: RequestBody = parse(&body)?;
    if body.params.as_ref().is_some_and(|p| !p.is_object()) {
        return Err(ApiError::BadRequest("\"params\" must be an object".into()));
    }
    if let Some(session) = which.session(&state)?
        && session.is_read_only()
    {
        return super::recording::recorded_answer(
            &state,
            &session,
            &body.method,
            body.params.as_ref(),
        );
    }
    let handle = which.handle(&state)?;
    let idle = body
        .timeout_ms
        .map_or(DEFAULT_TIMEOUT, Duration::from_millis);
    let max_total = body
        .max_total_ms
        .map_or(DEFAULT_MAX_TOTAL.max(idle), Duration::from_millis);
    if max_total < idle {
        return Err(ApiError::BadRequest(
            "\"maxTotalMs\" must not be below \"timeoutMs\"".into(),
        ));
    }
    let timeout = Timeout { idle, max_total };
    let Some(reference) = body.reference else {
        let answer = handle.request(body.method, body.params, timeout).await?;
        return Ok(answer_into_response(answer));
    };
    let session = which.existing(&state)?;
    calls::keep(
        &state,
        session.id(),
        reference,
        handle,
        body.method,
        body.params,
        timeout,
    )
    .await
}

/// The server's answer to one of our requests, as `/api/request` gives it: the outcome as the
/// body, our request id in a header.
pub(super) fn answer_response(answer: &Answer) -> Response {
    with_request_id(
        json_text(StatusCode::OK, outcome_body(&answer.outcome)),
        answer.id,
    )
}

/// [`answer_response`] for an answer no one else holds: the server's text becomes the body
/// where it lies (the key written in front of it in place), so a 100 MB result is not copied.
pub(super) fn answer_into_response(answer: Answer) -> Response {
    let (key, raw) = match answer.outcome {
        Outcome::Result(r) => ("{\"result\":", r),
        Outcome::Error(e) => ("{\"error\":", e),
    };
    let mut body = Box::<str>::from(raw).into_string();
    body.reserve_exact(key.len() + 1);
    body.insert_str(0, key);
    body.push('}');
    with_request_id(json_text(StatusCode::OK, body), answer.id)
}

fn with_request_id(mut response: Response, id: i64) -> Response {
    response
        .headers_mut()
        .insert("x-mcpscope-request-id", HeaderValue::from(id));
    response
}

/// Renders an outcome as the API's JSON body without re-serialising the server's payload.
fn outcome_body(outcome: &Outcome) -> String {
    let (key, raw): (&str, &RawValue) = match outcome {
        Outcome::Result(r) => ("result", r),
        Outcome::Error(e) => ("error", e),
    };
    let mut body = String::with_capacity(raw.get().len() + 16);
    body.push_str("{\"");
    body.push_str(key);
    body.push_str("\":");
    body.push_str(raw.get());
    body.push('}');
    body
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NotifyBody {
    method: String,
    params: Option<Value>,
}

pub(super) async fn notify(
    State(state): State<AppState>,
    which: Which,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: NotifyBody = parse(&body)?;
    let handle = which.handle(&state)?;
    handle.notify(body.method, body.params)?;
    Ok(StatusCode::ACCEPTED.into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CancelBody {
    request_id: Value,
    reason: Option<String>,
}

pub(super) async fn cancel(
    State(state): State<AppState>,
    which: Which,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: CancelBody = parse(&body)?;
    let id = body
        .request_id
        .as_i64()
        .or_else(|| body.request_id.as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| {
            ApiError::BadRequest("\"requestId\" must be one of our request ids".into())
        })?;
    let handle = which.handle(&state)?;
    if handle.cancel(id, body.reason).await {
        Ok(StatusCode::ACCEPTED.into_response())
    } else {
        Err(ApiError::NotFound(format!("request {id} is not in flight")))
    }
}

pub(super) async fn inflight(
    State(state): State<AppState>,
    which: Which,
) -> Result<Response, ApiError> {
    let list = match which.live(&state)? {
        Some(handle) => handle.inflight().await,
        None => Vec::new(),
    };
    Ok(axum::Json(list).into_response())
}

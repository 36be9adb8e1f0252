//! What the session hears from the server beyond answers: the modern log level, resource
//! subscriptions in either era, and opening the modern listen stream again.

use crate::session::Era;
use axum::{
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;

use super::{
    AppState,
    connect::check_log_level,
    error::{ApiError, parse},
    extract::Which,
    requests::answer_into_response,
};
use crate::{
    session::{DEFAULT_TIMEOUT, LocalError},
    wire::Timeout,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogLevelBody {
    level: Option<String>,
}

/// The modern era's log level (sent in every request's `_meta`; the era has no
/// `logging/setLevel`). `null` stops asking for one.
pub(super) async fn set_log_level(
    State(state): State<AppState>,
    which: Which,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: LogLevelBody = parse(&body)?;
    check_log_level(body.level.as_deref())?;
    which.handle(&state)?.set_log_level(body.level)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscriptionBody {
    uri: String,
}

/// `POST /api/subscriptions {uri}`: hear about changes to a resource, in whichever era the
/// session speaks: legacy sends `resources/subscribe`, modern listens again with the URI in the
/// filter. Answers like `/api/request`: the server's result or error.
pub(super) async fn subscribe(
    State(state): State<AppState>,
    which: Which,
    body: Bytes,
) -> Result<Response, ApiError> {
    subscription(state, which, body, true).await
}

/// `DELETE /api/subscriptions {uri}`: the reverse.
pub(super) async fn unsubscribe(
    State(state): State<AppState>,
    which: Which,
    body: Bytes,
) -> Result<Response, ApiError> {
    subscription(state, which, body, false).await
}

async fn subscription(
    state: AppState,
    which: Which,
    body: Bytes,
    on: bool,
) -> Result<Response, ApiError> {
    let body: SubscriptionBody = parse(&body)?;
    let session = which
        .session(&state)?
        .ok_or(ApiError::Local(LocalError::NotConnected))?;
    let handle = session
        .handle()
        .ok_or(ApiError::Local(LocalError::NotConnected))?;
    if session.info().era == Some(Era::Modern) {
        let acknowledged = handle.listen_for(body.uri, on).await?;
        return Ok(axum::Json(json!({"result": {"acknowledged": acknowledged}})).into_response());
    }
    let method = if on {
        "resources/subscribe"
    } else {
        "resources/unsubscribe"
    };
    let params = json!({ "uri": body.uri });
    let answer = handle
        .request(method.into(), Some(params), Timeout::fixed(DEFAULT_TIMEOUT))
        .await?;
    Ok(answer_into_response(answer))
}

/// `POST /api/listen`: the modern listen stream opens again now (after a drop or an end).
pub(super) async fn relisten(
    State(state): State<AppState>,
    which: Which,
) -> Result<Response, ApiError> {
    which.handle(&state)?.relisten()?;
    Ok(StatusCode::ACCEPTED.into_response())
}

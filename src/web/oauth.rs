//! OAuth towards the browser. `/oauth/callback`: where an authorization server sends the user's
//! browser back. It needs no API token (a redirect cannot carry one); the guard's Host and Origin
//! checks still apply, and the flow's `state` decides whether anything happens at all. The page
//! shows the outcome as text and never echoes the code. And a session's OAuth routes: forget its
//! credentials, continue a step-by-step flow from its pause.

use crate::session::SessionState;
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    body::Bytes,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::json;

use super::{
    AppState,
    error::{ApiError, parse},
    extract::Which,
};
use crate::oauth::broker::Callback;

#[derive(Template, WebTemplate)]
#[template(path = "oauth_callback.html")]
pub(super) struct CallbackPage {
    title: &'static str,
    message: String,
}

pub(super) async fn callback(
    State(state): State<AppState>,
    Query(callback): Query<Callback>,
) -> (StatusCode, CallbackPage) {
    let refused_by_server = callback.error.clone();
    match state.oauth.deliver(callback) {
        Ok(step_by_step) => (
            StatusCode::OK,
            CallbackPage {
                title: if refused_by_server.is_some() {
                    "Authorization refused"
                } else {
                    "Authorization received"
                },
                message: match refused_by_server {
                    Some(e) => format!(
                        "The authorization server answered {e:?}; mcpscope shows the details in the session's authorization steps."
                    ),
                    None if step_by_step => "mcpscope checks the answer, then pauses before the token request (step by step): press Continue in its Authorization panel to fetch the token and connect.".into(),
                    None => "mcpscope checks the answer and asks for the token now; its Authorization panel shows how that goes.".into(),
                },
            },
        ),
        Err(why) => (
            StatusCode::BAD_REQUEST,
            CallbackPage {
                title: "Callback refused",
                message: format!("mcpscope refused this callback: {why}."),
            },
        ),
    }
}

/// `DELETE /api/sessions/{id}/credentials`: the OAuth client and tokens kept for this
/// session's server are forgotten (memory and the credentials file); the next refusal
/// authorizes from the start.
pub(super) async fn forget_credentials(
    State(state): State<AppState>,
    which: Which,
) -> Result<Response, ApiError> {
    let session = which.existing(&state)?;
    let url = session
        .remote_url()
        .ok_or_else(|| ApiError::BadRequest("this session has no remote target".into()))?;
    let resource = url::Url::parse(&url)
        .map(|u| crate::oauth::discovery::canonical_resource(&u))
        .map_err(|e| ApiError::BadRequest(format!("{url}: {e}")))?;
    let forgotten = state.oauth.forget(&resource);
    if forgotten {
        session.credentials_forgotten(&resource);
    }
    Ok(axum::Json(json!({"resource": resource, "forgotten": forgotten})).into_response())
}

/// `POST /api/sessions/{id}/authorization/continue {scopes?, clientId?}`: a step-by-step
/// authorization flow goes on from its pause, with the user's edits.
pub(super) async fn continue_authorization(
    State(state): State<AppState>,
    which: Which,
    body: Bytes,
) -> Result<Response, ApiError> {
    let edits: crate::oauth::broker::Edits = parse(&body)?;
    let session = which.existing(&state)?;
    let info = session.info();
    let flow = info
        .authorization
        .as_ref()
        .and_then(|a| a.paused.as_ref())
        .map(|p| p.flow.as_str())
        .filter(|_| info.state == SessionState::Authorizing);
    match flow {
        Some(flow) if state.oauth.resume(flow, edits) => Ok(StatusCode::ACCEPTED.into_response()),
        _ => Err(ApiError::Conflict(
            "no authorization flow of this session is paused".into(),
        )),
    }
}

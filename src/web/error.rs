//! The one error type every API route answers with, `{"error": {"kind", "message"}}`, its
//! status chosen in one exhaustive match; reading a JSON body; a JSON answer from text.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::json;

use crate::session::LocalError;

/// Local failures, as the API reports them.
#[derive(Debug, thiserror::Error)]
pub(super) enum ApiError {
    #[error("missing or wrong token: send Authorization: Bearer <token>")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// The request is fine but the session is not in a state where it applies.
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Local(#[from] LocalError),
    /// The model's provider gave no answer (refused, unreachable, not configured).
    #[error("{0}")]
    Model(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind) = match &self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Model(_) => (StatusCode::BAD_GATEWAY, "model"),
            ApiError::Local(LocalError::NotConnected) => (StatusCode::CONFLICT, "not_connected"),
            ApiError::Local(LocalError::Timeout { .. }) => (StatusCode::GATEWAY_TIMEOUT, "timeout"),
            ApiError::Local(LocalError::Transport(_)) => (StatusCode::BAD_GATEWAY, "transport"),
            // 499 (client closed request): the call ended because someone cancelled it.
            ApiError::Local(LocalError::Cancelled { .. }) => {
                (StatusCode::from_u16(499).unwrap(), "cancelled")
            }
            ApiError::Local(LocalError::Unsupported(_)) => {
                (StatusCode::NOT_IMPLEMENTED, "unsupported")
            }
            ApiError::Local(LocalError::Refused(_)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "refused")
            }
        };
        let mut error = json!({"kind": kind, "message": self.to_string()});
        // A call we gave up on names its request and how long it ran, so a UI can say
        // "cancelled by you after 2.1 s" and find the request in the timeline.
        if let ApiError::Local(
            LocalError::Cancelled {
                request_id,
                elapsed_ms,
                ..
            }
            | LocalError::Timeout {
                request_id,
                elapsed_ms,
                ..
            },
        ) = &self
        {
            error["requestId"] = json!(request_id);
            error["elapsedMs"] = json!(elapsed_ms);
        }
        (status, axum::Json(json!({"error": error}))).into_response()
    }
}

pub(super) fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("bad JSON body: {e}")))
}

pub(super) fn json_text(status: StatusCode, body: impl Into<axum::body::Body>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.into(),
    )
        .into_response()
}

pub(super) async fn not_found() -> ApiError {
    ApiError::NotFound("no such API route".into())
}

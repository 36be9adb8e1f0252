//! `POST /api/validate`: an instance checked against a JSON Schema, the same check the forms
//! show before sending.

use axum::{
    body::Bytes,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::Value;

use super::error::{ApiError, parse};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ValidateBody {
    schema: Value,
    instance: Value,
}

pub(super) async fn validate(body: Bytes) -> Result<Response, ApiError> {
    let body: ValidateBody = parse(&body)?;
    Ok(axum::Json(crate::schema::validate(&body.schema, &body.instance)).into_response())
}

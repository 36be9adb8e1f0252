//! `POST /api/tap`: where `mcpscope tap` and `mcpscope proxy` report a real client's traffic.
//! The request body is a stream of report records (`tap/report.rs`) for as long as the tapped
//! connection lives; it becomes a tapped session (`session/tapped.rs`), and when the body ends
//! the session stays, disconnected, for reading, lint and export.

use std::time::Duration;

use axum::{
    Json,
    body::Body,
    extract::State,
    response::{IntoResponse, Response},
};
use serde_json::json;
use tokio_stream::StreamExt;

use super::{AppState, error::ApiError};
use crate::tap::report::{Decoder, Hello, Report};

/// How long the first record (hello) may take.
const HELLO_WITHIN: Duration = Duration::from_secs(10);
/// The longest session name a tap may ask for.
const MAX_NAME: usize = 200;

pub(super) async fn tap(State(state): State<AppState>, body: Body) -> Result<Response, ApiError> {
    let mut stream = body.into_data_stream();
    let mut decoder = Decoder::default();
    let hello = tokio::time::timeout(HELLO_WITHIN, async {
        loop {
            match decoder.next_record() {
                Ok(Some(Report::Hello(v))) => {
                    return serde_json::from_value::<Hello>(v)
                        .map_err(|e| ApiError::BadRequest(format!("hello: {e}")));
                }
                Ok(Some(_)) => {
                    return Err(ApiError::BadRequest(
                        "a tap report begins with its hello".into(),
                    ));
                }
                Ok(None) => {}
                Err(e) => return Err(ApiError::BadRequest(e)),
            }
            match stream.next().await {
                Some(Ok(chunk)) => decoder.push(&chunk),
                _ => {
                    return Err(ApiError::BadRequest(
                        "the report ended before its hello".into(),
                    ));
                }
            }
        }
    })
    .await
    .map_err(|_| ApiError::BadRequest("no hello within 10 s".into()))??;
    if hello
        .name
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NAME)
    {
        return Err(ApiError::BadRequest(format!(
            "a session name is at most {MAX_NAME} characters"
        )));
    }
    let mut tapped = state.sessions.open_tap(&hello);
    let mut shutting_down = state.shutting_down.clone();
    let why = 'report: loop {
        loop {
            // A forgotten session takes nothing more: no event may carry its id after its
            // `removed`.
            if !tapped.is_current() {
                break 'report None;
            }
            match decoder.next_record() {
                Ok(Some(record)) => tapped.apply(record),
                Ok(None) => break,
                Err(e) => {
                    tapped.end(Some(format!("the tap's report broke off: {e}")));
                    return Err(ApiError::BadRequest(e));
                }
            }
        }
        tokio::select! {
            chunk = stream.next() => match chunk {
                Some(Ok(chunk)) => decoder.push(&chunk),
                Some(Err(e)) => break 'report Some(format!("the tap's report broke off: {e}")),
                None => break 'report None,
            },
            _ = shutting_down.wait_for(|down| *down) => break 'report Some("mcpscope is stopping".into()),
        }
    };
    let id = tapped.session().id().to_owned();
    tapped.end(why);
    Ok(Json(json!({ "session": id })).into_response())
}

//! Calls that outlive the page that made them. A page names its `POST …/request` with a `ref`;
//! the call then runs on its own task, whether or not anyone still waits for its answer, and its
//! outcome (status, request id, body: what `/request` answers) is kept under that ref, so a page
//! reloaded mid-call asks `GET …/calls/{ref}` and gets the same answer when it comes.
//!
//! Kept outcomes are bounded by count and bytes; the oldest finished ones go first. A body too big
//! to keep is replaced by a short error that says so (the frame itself is in the timeline).

use std::{collections::VecDeque, sync::Mutex};

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::watch;

use super::{
    AppState,
    error::{ApiError, json_text},
    requests::answer_into_response,
};
use crate::{
    session::{LocalError, SessionHandle},
    wire::Timeout,
};

/// How many calls are remembered at once, and how many bytes of outcomes.
const MAX_CALLS: usize = 256;
const MAX_BYTES: usize = 64 << 20;
/// A longest ref: the page's own, an opaque string.
pub(super) const MAX_REF: usize = 128;

/// A finished call as `/request` answered it.
#[derive(Clone)]
pub(super) struct Outcome {
    status: StatusCode,
    request_id: Option<HeaderValue>,
    body: Bytes,
    /// From the call's start to its end: a page that picks the outcome up later still shows
    /// how long the call took, not how long it waited.
    duration: std::time::Duration,
}

impl Outcome {
    /// Reads a finished `/request` answer, `duration` after the call started, into something
    /// that can be answered again.
    pub(super) async fn of(response: Response, duration: std::time::Duration) -> Outcome {
        let status = response.status();
        let request_id = response.headers().get("x-mcpscope-request-id").cloned();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        Outcome {
            status,
            request_id,
            body,
            duration,
        }
    }

    pub(super) fn response(&self) -> Response {
        let mut response = super::error::json_text(self.status, self.body.clone());
        if let Some(id) = &self.request_id {
            response
                .headers_mut()
                .insert("x-mcpscope-request-id", id.clone());
        }
        response.headers_mut().insert(
            "x-mcpscope-duration-ms",
            HeaderValue::from(u64::try_from(self.duration.as_millis()).unwrap_or(u64::MAX)),
        );
        response
    }

    /// What is kept when the body is too big to keep: the status and id stay, the body says why.
    fn too_big(&self) -> Outcome {
        let body = serde_json::json!({"error": {
            "kind": "not_kept",
            "message": format!("the answer ({} bytes) was too big to keep for a page that reloaded; its frame is in the timeline", self.body.len()),
        }});
        Outcome {
            status: self.status,
            request_id: self.request_id.clone(),
            body: Bytes::from(body.to_string()),
            duration: self.duration,
        }
    }
}

struct Call {
    session: String,
    reference: String,
    outcome: watch::Sender<Option<Outcome>>,
}

/// The calls pages made, by session and ref.
#[derive(Default)]
pub struct Calls {
    calls: Mutex<VecDeque<Call>>,
}

impl Calls {
    /// Registers a call about to start. A ref used again replaces the older call.
    pub(super) fn start(&self, session: &str, reference: &str) -> watch::Sender<Option<Outcome>> {
        let (tx, _) = watch::channel(None);
        let mut calls = self.calls.lock().unwrap();
        calls.retain(|c| !(c.session == session && c.reference == reference));
        calls.push_back(Call {
            session: session.to_owned(),
            reference: reference.to_owned(),
            outcome: tx.clone(),
        });
        Self::trim(&mut calls);
        tx
    }

    /// Keeps a finished call's outcome (or its short form when it is too big).
    pub(super) fn finish(&self, tx: &watch::Sender<Option<Outcome>>, outcome: &Outcome) {
        let kept = if outcome.body.len() > MAX_BYTES / 8 {
            outcome.too_big()
        } else {
            outcome.clone()
        };
        tx.send_replace(Some(kept));
        Self::trim(&mut self.calls.lock().unwrap());
    }

    /// The call `reference` of `session`, to wait on.
    pub(super) fn watch(
        &self,
        session: &str,
        reference: &str,
    ) -> Option<watch::Receiver<Option<Outcome>>> {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .find(|c| c.session == session && c.reference == reference)
            .map(|c| c.outcome.subscribe())
    }

    /// Drops the oldest finished calls while there are too many or they hold too many bytes.
    /// Calls still running are never dropped (their number is bounded by what is in flight).
    fn trim(calls: &mut VecDeque<Call>) {
        let size = |c: &Call| c.outcome.borrow().as_ref().map_or(0, |o| o.body.len());
        let mut bytes: usize = calls.iter().map(size).sum();
        while calls.len() > MAX_CALLS || bytes > MAX_BYTES {
            let Some(at) = calls.iter().position(|c| c.outcome.borrow().is_some()) else {
                return;
            };
            if let Some(c) = calls.remove(at) {
                bytes -= size(&c);
            }
        }
    }
}

/// `POST …/request` with a `ref`: the call runs on its own, so a page that goes away mid-call
/// does not end it, and its outcome is kept for the page that comes back. The caller still here
/// gets it whole.
pub(super) async fn keep(
    state: &AppState,
    session: &str,
    reference: String,
    handle: SessionHandle,
    method: String,
    params: Option<Value>,
    timeout: Timeout,
) -> Result<Response, ApiError> {
    if reference.is_empty() || reference.len() > MAX_REF {
        return Err(ApiError::BadRequest(format!(
            "\"ref\" must be 1 to {MAX_REF} bytes"
        )));
    }
    let kept = state.calls.start(session, &reference);
    let book = state.calls.clone();
    let (whole, outcome) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let started = std::time::Instant::now();
        let response = match handle.request(method, params, timeout).await {
            Ok(answer) => answer_into_response(answer),
            Err(e) => ApiError::from(e).into_response(),
        };
        let done = Outcome::of(response, started.elapsed()).await;
        book.finish(&kept, &done);
        let _ = whole.send(done);
    });
    outcome.await.map(|o| o.response()).map_err(|_| {
        ApiError::Local(LocalError::Transport(
            "the call ended without an outcome".into(),
        ))
    })
}

#[derive(Deserialize)]
pub(super) struct CallQuery {
    wait: Option<bool>,
}

/// `GET /api/sessions/{id}/calls/{ref}`: the outcome of a call made with that `ref`, as
/// `/request` answered (or will answer) it; waits while the call runs, or with `?wait=false`
/// answers 202 `{"running": true}` at once (the page polls: a wait would hold one of the
/// browser's six connections for as long as the call runs).
pub(super) async fn call_outcome(
    State(state): State<AppState>,
    Path((id, reference)): Path<(String, String)>,
    Query(query): Query<CallQuery>,
) -> Result<Response, ApiError> {
    let mut outcome = state.calls.watch(&id, &reference).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no call {reference:?} on {id:?}: mcpscope has restarted, or many calls ended since"
        ))
    })?;
    if query.wait == Some(false) && outcome.borrow().is_none() {
        return Ok(json_text(StatusCode::ACCEPTED, "{\"running\":true}"));
    }
    Ok(wait_for_outcome(&mut outcome).await)
}

async fn wait_for_outcome(outcome: &mut tokio::sync::watch::Receiver<Option<Outcome>>) -> Response {
    outcome
        .wait_for(Option::is_some)
        .await
        .ok()
        .and_then(|done| done.as_ref().map(Outcome::response))
        .unwrap_or_else(|| {
            ApiError::NotFound("the call's outcome was not kept".into()).into_response()
        })
}

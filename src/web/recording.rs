//! Recordings and lint over HTTP: `GET /api/sessions/{id}/export` streams the session's events
//! as a recording file (NDJSON, secrets scrubbed), the same file the UI's Export offers;
//! `GET /api/sessions/{id}/lint` holds what the session observed to the spec;
//! `POST /api/sessions/{id}/replay` runs it again in a new session and compares. An opened
//! recording answers list requests with what it recorded, so its workbench lists show.

use crate::session::SessionState;
use axum::{
    body::Body,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use tokio_stream::wrappers::ReceiverStream;

use super::{AppState, error::ApiError, extract::Which};
use crate::recording::{self, Header, export, replay};

pub(super) async fn export(
    State(state): State<AppState>,
    which: Which,
) -> Result<Response, ApiError> {
    let session = which.existing(&state)?;
    let info = session.info();
    let id: std::sync::Arc<str> = session.id().into();
    let reseal = info.recording.is_none();
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
            // A recording's own header is file text: only its first 19 characters, and only
            // those a file name may hold (a multibyte one used to slip the byte cut whole).
            .map_or_else(String::new, |t| safe_name(
                &t.chars().take(19).filter(|c| *c != ':').collect::<String>()
            ))
    );
    let chunks = export::stream(
        state.events.clone(),
        id,
        header,
        export::Secrets::new(session.secret_values()),
        reseal,
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

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct ReplayBody {
    /// Where to replay (a connect body); default: the session's own target.
    target: Option<super::connect::ConnectBody>,
    /// Or: the target another session last connected to, with its real settings (the user's
    /// build of the server against a recording, say).
    against: Option<String>,
    #[serde(default)]
    ignore: Vec<String>,
    /// Per request, as `/api/request` takes it.
    timeout_ms: Option<u64>,
    /// The caller has shown the user the plan (`GET …/replay`) of an opened recording this
    /// machine did not seal, and the user said yes.
    #[serde(default)]
    accept_requests: bool,
    /// Keep the replay session connected afterwards (its server running); by default it is
    /// disconnected once the report is made, and stays listed with its frames.
    #[serde(default)]
    keep: bool,
}

/// An opened recording's file chooses what is sent, so its plan is trusted only when this
/// machine sealed it as it is; a live session's plan is what this process itself sent.
fn trusted(source: &crate::session::Session, plan: &replay::Plan) -> bool {
    // A tapped session's requests were another program's (a client, its model): the user reads
    // them before they are sent again.
    if source.is_tapped() {
        return false;
    }
    match source.info().recording {
        None => true,
        Some(r) => serde_json::from_value::<Header>(r["header"].clone())
            .is_ok_and(|h| replay::sealed_here(&h, plan)),
    }
}

/// `GET …/replay`: what a replay of the session would send, for the user to see before it runs:
/// every request with its params, the answers it would give to the server's requests, and
/// whether this machine sealed it (a live session's own traffic counts as sealed).
pub(super) async fn replay_plan(
    State(state): State<AppState>,
    which: Which,
) -> Result<Response, ApiError> {
    let source = which.existing(&state)?;
    let plan = replay::Plan::read(recording::session_events(&state.events, source.id()));
    Ok(axum::Json(serde_json::json!({
        "sealed": trusted(&source, &plan),
        "plan": plan.sealed_view(),
        "text": plan.spelled_out(),
    }))
    .into_response())
}

/// Replays the session's requests in a new session (`replay of NAME`) and answers the report:
/// each request same, different (with its differences) or missing, and the new session's id.
pub(super) async fn replay(
    State(state): State<AppState>,
    which: Which,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    if body
        .windows(crate::redact::REDACTED.len())
        .any(|w| w == crate::redact::REDACTED.as_bytes())
    {
        return Err(ApiError::BadRequest(format!(
            "the target holds {}: give the real values (a recording keeps none)",
            crate::redact::REDACTED
        )));
    }
    let body: ReplayBody = super::error::parse(&body)?;
    let source = which.existing(&state)?;
    let ignore = body
        .ignore
        .iter()
        .map(|p| replay::diff::Ignore::parse(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ApiError::BadRequest)?;
    let plan = replay::Plan::read(recording::session_events(&state.events, source.id()));
    if !body.accept_requests && !trusted(&source, &plan) {
        return Err(ApiError::Conflict(
            "this recording was not written by mcpscope here (or it was edited): show the user what it sends (GET …/replay) and send \"acceptRequests\": true once they agree".into(),
        ));
    }
    // A command is started only when this process was told to start it: the session's own
    // target, or one the caller names. An opened recording's file never chooses what runs.
    let target = match (body.target, body.against, source.last_target()) {
        (Some(_), Some(_), _) => {
            return Err(ApiError::BadRequest(
                "give \"target\" or \"against\", not both".into(),
            ));
        }
        (Some(t), None, _) => super::connect::connect_plan(t)?.0,
        (None, Some(id), _) => {
            let other = state
                .sessions
                .get(&id)
                .ok_or_else(|| ApiError::NotFound(format!("no session {id}")))?;
            other.last_target().ok_or_else(|| {
                ApiError::Conflict(format!("session {id} never connected to anything"))
            })?
        }
        (None, None, Some(t)) => t,
        (None, None, None) => {
            return Err(ApiError::Conflict(
                "replaying an opened recording or a tapped session runs only a target the request names: send \"target\" or \"against\" (the recorded or tapped one is in the session object)".into(),
            ));
        }
    };
    let name = format!(
        "replay of {}",
        source.info().name.unwrap_or_else(|| source.id().into())
    );
    let session = state.sessions.create(Some(name), None);
    let began = std::time::Instant::now();
    let info = session.connect(target, replay::options(&plan)).await;
    let handle = match (info.state, session.handle()) {
        (SessionState::Connected, Some(h)) => h,
        _ => {
            return Ok((
                axum::http::StatusCode::BAD_GATEWAY,
                axum::Json(serde_json::json!({"error": {"kind": "transport",
                    "message": info.error.unwrap_or_else(|| format!("the replay session is {}", info.state))},
                    "session": session.id()})),
            )
                .into_response());
        }
    };
    let idle = std::time::Duration::from_millis(body.timeout_ms.unwrap_or(60_000).max(1));
    let settings = replay::Settings {
        ignore,
        timeout: crate::session::timeout_after(idle),
    };
    // On its own task, so a caller that goes away (a reload mid-replay) still leaves the
    // replay session disconnected at the end, not running its server for ever.
    let events = state.events.clone();
    let keep = body.keep;
    let run = tokio::spawn(async move {
        let report = replay::run_plan(plan, &handle, &events, session.id(), &settings, began).await;
        if !keep {
            session.disconnect().await;
        }
        report
    });
    let report = run.await.map_err(|e| {
        ApiError::Local(crate::session::LocalError::Transport(format!(
            "the replay stopped: {e}"
        )))
    })?;
    Ok(axum::Json(report).into_response())
}

/// The lists an opened recording answers from its own frames.
const RECORDED_LISTS: &[&str] = &[
    "tools/list",
    "resources/list",
    "resources/templates/list",
    "prompts/list",
];

/// `/api/request` on an opened recording: a list method gets the answer recorded for the same
/// cursor (the latest one), marked `x-mcpscope-recorded: <seq>`; anything else is refused,
/// since a recording sends nothing.
pub(super) fn recorded_answer(
    state: &AppState,
    session: &crate::session::Session,
    method: &str,
    params: Option<&serde_json::Value>,
) -> Result<Response, ApiError> {
    if !RECORDED_LISTS.contains(&method) {
        super::extract::writable(session)?;
    }
    let cursor = params.and_then(|p| p.get("cursor"));
    let plan = replay::Plan::read(recording::session_events(&state.events, session.id()));
    let (seq, answer) = plan
        .steps
        .iter()
        .rev()
        .filter(|s| s.method == method)
        .filter(|s| s.params.as_ref().and_then(|p| p.get("cursor")) == cursor)
        .find_map(|s| s.recorded.as_ref())
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "the recording has no {method} answer for this cursor"
            ))
        })?;
    let mut response = axum::Json(answer).into_response();
    response
        .headers_mut()
        .insert("x-mcpscope-recorded", HeaderValue::from(*seq));
    Ok(response)
}

/// Which recorded requests `GET …/recorded` gives: one method, and one tool or prompt (`name`)
/// or resource (`uri`).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RecordedQuery {
    method: String,
    name: Option<String>,
    uri: Option<String>,
}

/// At most this many recorded requests per answer (the newest): a person reads a few.
const RECORDED_CALLS: usize = 50;

/// `GET …/recorded?method=tools/call&name=echo`: the session's requests of one method (for one
/// tool, prompt or resource), each with the answer it got, oldest first, so an opened recording
/// shows under a tool what was called and what came back.
pub(super) async fn recorded_calls(
    State(state): State<AppState>,
    which: Which,
    axum::extract::Query(q): axum::extract::Query<RecordedQuery>,
) -> Result<Response, ApiError> {
    let session = which.existing(&state)?;
    let plan = replay::Plan::read(recording::session_events(&state.events, session.id()));
    let field = |p: &Option<serde_json::Value>, key: &str| {
        p.as_ref()
            .and_then(|p| p.get(key))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let calls: Vec<serde_json::Value> = plan
        .steps
        .iter()
        .filter(|s| s.method == q.method)
        .filter(|s| q.name.is_none() || field(&s.params, "name") == q.name)
        .filter(|s| q.uri.is_none() || field(&s.params, "uri") == q.uri)
        .map(|s| {
            serde_json::json!({
                "seq": s.seq,
                "params": s.params,
                "answerSeq": s.recorded.as_ref().map(|(seq, _)| seq),
                "answer": s.recorded.as_ref().map(|(_, a)| a),
            })
        })
        .collect();
    let total = calls.len();
    let newest = calls[total.saturating_sub(RECORDED_CALLS)..].to_vec();
    Ok(axum::Json(serde_json::json!({"calls": newest, "total": total})).into_response())
}

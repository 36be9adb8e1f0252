//! The JSON API handlers and the one error type every route answers with:
//! `{"error": {"kind", "message"}}`, its status chosen in one exhaustive match.
//!
//! Every session route exists twice: `/api/sessions/{id}/…` acts on that session, and the
//! single-session form (`/api/request`, …) on the selected one. [`Which`] tells them apart, so
//! each handler is written once.

use std::{collections::BTreeMap, convert::Infallible, sync::Arc, time::Duration};

use axum::{
    body::Bytes,
    extract::{FromRequestParts, Path, RawPathParams, State},
    http::{HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json, value::RawValue};

use super::{AppState, calls};
use crate::{
    config::guess_transport,
    oauth::OAuthOptions,
    responders::Settings,
    session::{
        Answer, ConnectOptions, DEFAULT_MAX_TOTAL, DEFAULT_TIMEOUT, EraChoice, LOG_LEVELS,
        LocalError, RemoteKind, RemoteTarget, Session, SessionHandle, SessionInfo, Target,
    },
    transport::stdio::StdioTarget,
    wire::{Outcome, Timeout},
};

/// The session a route names with `{id}`, or none for the single-session routes.
pub(super) struct Which(Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Which {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        let id = RawPathParams::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|p| {
                p.iter()
                    .find(|(k, _)| *k == "id")
                    .map(|(_, v)| v.to_owned())
            });
        Ok(Which(id))
    }
}

impl Which {
    /// The named session (404 when unknown), or the selected one (None when there is none).
    pub(super) fn session(&self, state: &AppState) -> Result<Option<Arc<Session>>, ApiError> {
        match &self.0 {
            Some(id) => state
                .sessions
                .get(id)
                .map(Some)
                .ok_or_else(|| ApiError::NotFound(format!("no session {id:?}"))),
            None => Ok(state.sessions.selected()),
        }
    }

    /// The named or selected session; 404 when there is none.
    pub(super) fn existing(&self, state: &AppState) -> Result<Arc<Session>, ApiError> {
        self.session(state)?
            .ok_or_else(|| ApiError::NotFound("no session".into()))
    }

    /// The session's live connection, if it has one (404 only for an unknown session).
    fn live(&self, state: &AppState) -> Result<Option<SessionHandle>, ApiError> {
        Ok(self.session(state)?.and_then(|s| s.handle()))
    }

    /// The session's live connection (409 not connected when there is none, or when it is
    /// an opened recording).
    pub(super) fn handle(&self, state: &AppState) -> Result<SessionHandle, ApiError> {
        if let Some(session) = self.session(state)? {
            writable(&session)?;
        }
        self.live(state)?
            .ok_or(ApiError::Local(LocalError::NotConnected))
    }
}

/// 409 for an opened recording: it shows what happened and never sends or connects.
pub(super) fn writable(session: &Session) -> Result<(), ApiError> {
    if session.is_recording() {
        return Err(ApiError::Conflict(
            "this session is an opened recording: it is read-only and sends nothing (replay it to run it again)".into(),
        ));
    }
    Ok(())
}

fn info_json(info: &SessionInfo) -> Response {
    axum::Json(info).into_response()
}

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
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, kind) = match &self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
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

pub(super) async fn session(
    State(state): State<AppState>,
    which: Which,
) -> Result<Response, ApiError> {
    let info = which
        .session(&state)?
        .map_or_else(SessionInfo::disconnected, |s| s.info());
    Ok(info_json(&info))
}

pub(super) async fn sessions(State(state): State<AppState>) -> Response {
    let list: Vec<Value> = state
        .sessions
        .list()
        .iter()
        .map(|s| s.info().to_json())
        .collect();
    axum::Json(list).into_response()
}

/// `POST /api/sessions`: a new session, connected (or failed) before the answer.
pub(super) async fn create(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut body: ConnectBody = parse(&body)?;
    let name = take_name(&mut body)?;
    let (target, options) = connect_plan(body)?;
    let session = state.sessions.create(name, None);
    let info = session.connect(target, options).await;
    Ok((StatusCode::CREATED, info_json(&info)).into_response())
}

pub(super) async fn remove(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let session = state
        .sessions
        .remove(&id)
        .await
        .ok_or_else(|| ApiError::NotFound(format!("no session {id:?}")))?;
    Ok(info_json(&session.info()))
}

pub(super) async fn select(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let session = state
        .sessions
        .select(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no session {id:?}")))?;
    Ok(info_json(&session.info()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(super) struct ConnectBody {
    transport: Option<String>,
    command: Option<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    cwd: Option<String>,
    url: Option<String>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// Header names whose values must never be shown (besides Authorization, cookies and
    /// names that say token, secret, password or api key).
    #[serde(default)]
    secret_headers: Vec<String>,
    protocol_version: Option<String>,
    client_capabilities: Option<Value>,
    /// `legacy` (default), `auto` or `modern`.
    era: Option<String>,
    /// Modern era: the log level every request asks for in its `_meta`.
    log_level: Option<String>,
    /// The session's name (default: its catalog name, else a label from the target).
    name: Option<String>,
    /// OAuth for a remote target: `clientId`, `clientSecret`, `clientMetadataUrl`, `scopes`,
    /// `tokenEndpointAuthMethod`.
    #[serde(default)]
    oauth: OAuthOptions,
}

/// The session (or the selected one, created if there is none) connects to a new target.
pub(super) async fn connect(
    State(state): State<AppState>,
    which: Which,
    body: Bytes,
) -> Result<Response, ApiError> {
    let mut body: ConnectBody = parse(&body)?;
    let name = take_name(&mut body)?;
    let (target, options) = connect_plan(body)?;
    let session = match which.session(&state)? {
        Some(s) => s,
        None => state.sessions.selected_or_create(),
    };
    writable(&session)?;
    if let Some(name) = name {
        session.rename(name);
    }
    session.set_catalog(None);
    Ok(info_json(&session.connect(target, options).await))
}

fn take_name(body: &mut ConnectBody) -> Result<Option<String>, ApiError> {
    match body.name.take() {
        Some(n) if n.trim().is_empty() => {
            Err(ApiError::BadRequest("\"name\" must not be empty".into()))
        }
        name => Ok(name),
    }
}

/// A connect body as a target and its options, checked.
pub(super) fn connect_plan(body: ConnectBody) -> Result<(Target, ConnectOptions), ApiError> {
    let transport =
        body.transport
            .as_deref()
            .unwrap_or(if body.url.is_some() { "auto" } else { "stdio" });
    let target = match transport {
        "stdio" => {
            let command = body
                .command
                .filter(|c| !c.trim().is_empty())
                .ok_or_else(|| ApiError::BadRequest("a stdio target needs \"command\"".into()))?;
            Target::Stdio(StdioTarget {
                command,
                args: body.args,
                env: body.env,
                cwd: body.cwd.filter(|c| !c.is_empty()).map(Into::into),
                secrets: Vec::new(),
                note: None,
            })
        }
        "http" | "sse" | "auto" => {
            let url = body
                .url
                .ok_or_else(|| ApiError::BadRequest("a remote target needs \"url\"".into()))?;
            let kind = match transport {
                "http" => RemoteKind::Http,
                "sse" => RemoteKind::Sse,
                _ => guess_transport(&url),
            };
            Target::Remote(RemoteTarget {
                kind,
                url,
                headers: body.headers,
                secret_headers: body.secret_headers.into_iter().collect(),
                oauth: body.oauth,
                secrets: Vec::new(),
            })
        }
        other => {
            return Err(ApiError::BadRequest(format!(
                "unknown transport {other:?}: use stdio, http or sse"
            )));
        }
    };
    Ok((
        target,
        options(
            body.protocol_version,
            body.client_capabilities,
            parse_era(body.era.as_deref())?,
            body.log_level,
        )?,
    ))
}

/// A body's `"era"`, checked.
pub(super) fn parse_era(era: Option<&str>) -> Result<Option<EraChoice>, ApiError> {
    era.map(EraChoice::parse)
        .transpose()
        .map_err(ApiError::BadRequest)
}

/// A log level is one of the RFC 5424 names `logging/setLevel` takes, or absent.
fn check_log_level(level: Option<&str>) -> Result<(), ApiError> {
    match level {
        Some(level) if !LOG_LEVELS.contains(&level) => Err(ApiError::BadRequest(format!(
            "unknown log level {level:?}: use one of {}",
            LOG_LEVELS.join(", ")
        ))),
        _ => Ok(()),
    }
}

/// The connect options a body asks for, over the defaults.
pub(super) fn options(
    protocol_version: Option<String>,
    client_capabilities: Option<Value>,
    era: Option<EraChoice>,
    log_level: Option<String>,
) -> Result<ConnectOptions, ApiError> {
    check_log_level(log_level.as_deref())?;
    let mut options = ConnectOptions {
        era: era.unwrap_or_default(),
        log_level,
        ..ConnectOptions::default()
    };
    if let Some(v) = protocol_version {
        options.protocol_version = v;
    }
    if let Some(caps) = client_capabilities {
        if !caps.is_object() {
            return Err(ApiError::BadRequest(
                "\"clientCapabilities\" must be an object".into(),
            ));
        }
        options.client_capabilities = caps;
    }
    Ok(options)
}

pub(super) async fn reconnect(
    State(state): State<AppState>,
    which: Which,
) -> Result<Response, ApiError> {
    let nothing =
        || ApiError::NotFound("nothing to reconnect to: connect to a target first".into());
    let session = which.session(&state)?.ok_or_else(nothing)?;
    writable(&session)?;
    let info = session.reconnect().await.ok_or_else(nothing)?;
    Ok(info_json(&info))
}

pub(super) async fn disconnect(
    State(state): State<AppState>,
    which: Which,
) -> Result<Response, ApiError> {
    Ok(match which.session(&state)? {
        Some(session) => {
            writable(&session)?;
            info_json(&session.disconnect().await)
        }
        None => info_json(&SessionInfo::disconnected()),
    })
}

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
        && session.is_recording()
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
        return Ok(answer_response(&answer));
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
    let mut response = json_text(StatusCode::OK, outcome_body(&answer.outcome));
    response
        .headers_mut()
        .insert("x-mcpscope-request-id", HeaderValue::from(answer.id));
    response
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
    if session.info().era == Some("modern") {
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
    Ok(answer_response(&answer))
}

/// `GET /api/tasks`: the tasks this connection follows, newest first.
pub(super) async fn tasks(
    State(state): State<AppState>,
    which: Which,
) -> Result<Response, ApiError> {
    let list = match which.live(&state)? {
        Some(handle) => handle.tasks().await,
        None => Vec::new(),
    };
    Ok(axum::Json(list).into_response())
}

/// `POST /api/tasks/{task}/cancel`: `tasks/cancel`, answered like `/api/request`.
pub(super) async fn cancel_task(
    State(state): State<AppState>,
    which: Which,
    Path(params): Path<BTreeMap<String, String>>,
) -> Result<Response, ApiError> {
    let task = params.get("task").cloned().unwrap_or_default();
    let answer = match which.handle(&state)?.cancel_task(task).await {
        Err(LocalError::Unsupported(why)) => return Err(ApiError::NotFound(why)),
        other => other?,
    };
    Ok(answer_response(&answer))
}

/// `POST /api/listen`: the modern listen stream opens again now (after a drop or an end).
pub(super) async fn relisten(
    State(state): State<AppState>,
    which: Which,
) -> Result<Response, ApiError> {
    which.handle(&state)?.relisten()?;
    Ok(StatusCode::ACCEPTED.into_response())
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
        .and_then(|a| a.pointer("/paused/flow"))
        .and_then(Value::as_str)
        .filter(|_| info.state == "authorizing");
    match flow {
        Some(flow) if state.oauth.resume(flow, edits) => Ok(StatusCode::ACCEPTED.into_response()),
        _ => Err(ApiError::Conflict(
            "no authorization flow of this session is paused".into(),
        )),
    }
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

pub(super) async fn pending(
    State(state): State<AppState>,
    which: Which,
) -> Result<Response, ApiError> {
    let list: Vec<Value> = which
        .session(&state)?
        .map(|s| s.pending().iter().map(|p| p.to_json()).collect())
        .unwrap_or_default();
    Ok(axum::Json(list).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PendingAnswer {
    result: Option<Value>,
    error: Option<Value>,
}

pub(super) async fn answer_pending(
    State(state): State<AppState>,
    which: Which,
    Path(params): Path<BTreeMap<String, String>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = params.get("pid").cloned().unwrap_or_default();
    let body: PendingAnswer = parse(&body)?;
    let outcome = match (body.result, body.error) {
        (Some(r), None) => Ok(r),
        (None, Some(e))
            if e.get("code").is_some_and(Value::is_i64)
                && e.get("message").is_some_and(Value::is_string) =>
        {
            Err(e)
        }
        _ => {
            return Err(ApiError::BadRequest(
                "send {\"result\": {...}} or {\"error\": {\"code\": int, \"message\": str}}".into(),
            ));
        }
    };
    let handle = which.handle(&state)?;
    if handle.answer_pending(id.clone(), outcome).await {
        Ok(axum::Json(json!({"answered": id})).into_response())
    } else {
        Err(ApiError::NotFound(format!("no pending request {id}")))
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

pub(super) async fn responders(State(state): State<AppState>) -> Response {
    axum::Json(state.sessions.responders()).into_response()
}

pub(super) async fn set_responders(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let settings: Settings = parse(&body)?;
    let settings = state
        .sessions
        .set_responders(settings)
        .map_err(ApiError::BadRequest)?;
    Ok(axum::Json(settings).into_response())
}

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

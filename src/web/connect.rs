//! Connecting: a connect body checked into a target and its options (shared with the catalog
//! and replay routes), and the lifecycle routes: create, connect, reconnect, disconnect.

use std::collections::BTreeMap;

use axum::{
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::Value;

use super::{
    AppState,
    error::{ApiError, parse},
    extract::{Which, writable},
    sessions::info_json,
};
use crate::{
    config::guess_transport,
    oauth::OAuthOptions,
    session::{
        ConnectOptions, EraChoice, LOG_LEVELS, RemoteKind, RemoteTarget, SessionInfo, Target,
    },
    transport::stdio::StdioTarget,
};

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
    /// `false`: do not declare the MCP Apps extension (to see a server's text-only fallback).
    apps: Option<bool>,
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
            body.apps,
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
pub(super) fn check_log_level(level: Option<&str>) -> Result<(), ApiError> {
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
    apps: Option<bool>,
) -> Result<ConnectOptions, ApiError> {
    check_log_level(log_level.as_deref())?;
    let mut options = ConnectOptions {
        era: era.unwrap_or_default(),
        log_level,
        apps: apps.unwrap_or(true),
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

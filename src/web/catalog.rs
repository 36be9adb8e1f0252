//! `/api/catalog`: the servers the user keeps (and those of `--config`), edited, duplicated,
//! removed, connected as new sessions, exported in any config-file format and imported. Values
//! that may be secrets are handed out redacted; sending `<redacted>` back keeps the stored one.

use std::collections::BTreeMap;

use axum::{
    body::Bytes,
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    AppState,
    connect::{options, parse_era},
    error::{ApiError, parse},
};
use crate::catalog::{Catalog, Format, InputDecl, ServerSpec, export_file};

fn listing(catalog: &Catalog) -> Value {
    json!({
        "path": catalog.path().display().to_string(),
        "servers": catalog.entries().iter().map(|e| e.to_json(false)).collect::<Vec<_>>(),
        "inputs": catalog.inputs(),
    })
}

pub(super) async fn list(State(state): State<AppState>) -> Response {
    axum::Json(listing(&state.catalog.lock().unwrap())).into_response()
}

#[derive(Deserialize)]
struct EntryBody {
    name: String,
    #[serde(flatten)]
    spec: ServerSpec,
}

/// 404 unless the catalog has an entry called `name`.
fn must_exist(catalog: &Catalog, name: &str) -> Result<(), ApiError> {
    match catalog.get(name) {
        Some(_) => Ok(()),
        None => Err(ApiError::NotFound(format!(
            "no server \"{name}\" in the catalog"
        ))),
    }
}

fn entry_answer(catalog: &Catalog, name: &str, status: StatusCode) -> Response {
    let entry = catalog.get(name).map(|e| e.to_json(false));
    (status, axum::Json(entry.unwrap_or(Value::Null))).into_response()
}

pub(super) async fn add(State(state): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let body: EntryBody = parse(&body)?;
    let mut catalog = state.catalog.lock().unwrap();
    if catalog.entries().iter().any(|e| e.name == body.name) {
        return Err(ApiError::BadRequest(format!(
            "a server named \"{}\" exists: edit it, or pick another name",
            body.name
        )));
    }
    let name = catalog
        .upsert(None, body.name, body.spec)
        .map_err(ApiError::BadRequest)?
        .name
        .clone();
    Ok(entry_answer(&catalog, &name, StatusCode::CREATED))
}

pub(super) async fn edit(
    State(state): State<AppState>,
    Path(old): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: EntryBody = parse(&body)?;
    let mut catalog = state.catalog.lock().unwrap();
    must_exist(&catalog, &old)?;
    let name = catalog
        .upsert(Some(&old), body.name, body.spec)
        .map_err(ApiError::BadRequest)?
        .name
        .clone();
    Ok(entry_answer(&catalog, &name, StatusCode::OK))
}

pub(super) async fn remove(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let mut catalog = state.catalog.lock().unwrap();
    must_exist(&catalog, &name)?;
    catalog.remove(&name).map_err(ApiError::BadRequest)?;
    Ok(axum::Json(listing(&catalog)).into_response())
}

pub(super) async fn duplicate(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let mut catalog = state.catalog.lock().unwrap();
    must_exist(&catalog, &name)?;
    let copy = catalog
        .duplicate(&name)
        .map_err(ApiError::BadRequest)?
        .name
        .clone();
    Ok(entry_answer(&catalog, &copy, StatusCode::CREATED))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConnectEntryBody {
    /// Values for the entry's `${input:…}` placeholders.
    #[serde(default)]
    inputs: BTreeMap<String, String>,
    /// `${env:NAME}` names whose values (from mcpscope's environment) may go to a remote
    /// server's URL or headers; the user named each one and the host.
    #[serde(default)]
    allow_env: std::collections::BTreeSet<String>,
    /// The session's name (default: the entry's).
    name: Option<String>,
    protocol_version: Option<String>,
    client_capabilities: Option<Value>,
    /// Over the entry's own `"era"`.
    era: Option<String>,
    log_level: Option<String>,
    /// `false`: do not declare the MCP Apps extension.
    apps: Option<bool>,
}

/// A new session for the entry, connected (or failed) before the answer: **201**.
pub(super) async fn connect(
    State(state): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: ConnectEntryBody = parse(&body)?;
    let (target, entry_era) = {
        let catalog = state.catalog.lock().unwrap();
        must_exist(&catalog, &name)?;
        let target = catalog
            .target(&name, &body.inputs, &BTreeMap::new(), &body.allow_env)
            .map_err(|unresolved| {
                ApiError::BadRequest(format!(
                    "cannot connect \"{name}\": {}",
                    unresolved.join("; ")
                ))
            })?;
        (target, catalog.era(&name).map_err(ApiError::BadRequest)?)
    };
    let era = parse_era(body.era.as_deref())?.or(entry_era);
    let options = options(
        body.protocol_version,
        body.client_capabilities,
        era,
        body.log_level,
        body.apps,
    )?;
    let session = state
        .sessions
        .create(Some(body.name.unwrap_or_else(|| name.clone())), Some(name));
    let info = session.connect(target, options).await;
    Ok((StatusCode::CREATED, axum::Json(info.to_json())).into_response())
}

#[derive(Deserialize)]
pub(super) struct ExportQuery {
    format: Option<String>,
    /// One entry; every entry when absent.
    name: Option<String>,
    /// `include` to write secret values as they are; redacted otherwise.
    secrets: Option<String>,
    /// Any value: answer as a file to save rather than a JSON document.
    download: Option<String>,
    /// Any value: answer `{format, fileName, text, warnings}`, what the file would be and what
    /// the chosen client cannot use in it, for a person to read before saving.
    preview: Option<String>,
}

/// The file a client of `format` looks for.
fn file_name(format: Format) -> &'static str {
    match format {
        Format::VsCode | Format::Cursor => "mcp.json",
        Format::Claude => "claude_desktop_config.json",
        Format::Windsurf => "mcp_config.json",
    }
}

/// The `${input:ID}` declarations the exported servers use (a VS Code file must carry them, or
/// its placeholders mean nothing): the catalog's, or a masked prompt for an id it never
/// declared, said in `warnings`.
fn used_inputs(
    servers: &[(String, ServerSpec)],
    declared: &[InputDecl],
    warnings: &mut Vec<String>,
) -> Vec<InputDecl> {
    let mut used: Vec<InputDecl> = Vec::new();
    for (name, spec) in servers {
        for p in crate::catalog::placeholders(spec) {
            let Some(id) = p.strip_prefix("input:") else {
                continue;
            };
            if used.iter().any(|d| d.id == id) {
                continue;
            }
            used.push(match declared.iter().find(|d| d.id == id) {
                Some(d) => d.clone(),
                None => {
                    warnings.push(format!("{name}: ${{input:{id}}} is declared nowhere in the catalog; the file asks for it as a masked prompt"));
                    InputDecl {
                        id: id.to_owned(),
                        description: None,
                        password: true,
                    }
                }
            });
        }
    }
    used
}

pub(super) async fn export(
    State(state): State<AppState>,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let format: Format = q
        .format
        .as_deref()
        .unwrap_or("claude")
        .parse()
        .map_err(ApiError::BadRequest)?;
    let reveal = match q.secrets.as_deref() {
        None | Some("redact") => false,
        Some("include") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "secrets={other}: use include or redact"
            )));
        }
    };
    let catalog = state.catalog.lock().unwrap();
    let servers: Vec<(String, ServerSpec)> = catalog
        .entries()
        .iter()
        .filter(|e| q.name.as_ref().is_none_or(|n| &e.name == n))
        .map(|e| (e.name.clone(), e.shown_spec(reveal)))
        .collect();
    if let Some(name) = &q.name
        && servers.is_empty()
    {
        return Err(ApiError::NotFound(format!(
            "no server \"{name}\" in the catalog"
        )));
    }
    let mut warnings: Vec<String> = servers
        .iter()
        .flat_map(|(name, spec)| {
            crate::catalog::unsupported_in(spec, format)
                .into_iter()
                .map(move |w| format!("{name}: {w}"))
        })
        .collect();
    let inputs = match format {
        Format::VsCode => used_inputs(&servers, catalog.inputs(), &mut warnings),
        _ => Vec::new(),
    };
    let file = export_file(&servers, &inputs, format);
    let mut text = serde_json::to_string_pretty(&file).expect("a JSON value serialises");
    text.push('\n');
    if q.preview.is_some() {
        return Ok(axum::Json(json!({
            "format": format.as_str(),
            "fileName": file_name(format),
            "text": text,
            "warnings": warnings,
        }))
        .into_response());
    }
    let mut res = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        text,
    )
        .into_response();
    if q.download.is_some() {
        let file_name = file_name(format);
        res.headers_mut().insert(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
                .expect("a plain file name"),
        );
    }
    Ok(res)
}

/// `POST /api/catalog/import`: the body is a config file of any format; its servers join the
/// catalog (renamed when a name is taken).
pub(super) async fn import(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::BadRequest("the file is not UTF-8".into()))?;
    let mut catalog = state.catalog.lock().unwrap();
    let imported = catalog.import(text).map_err(ApiError::BadRequest)?;
    let mut answer = listing(&catalog);
    answer["imported"] = json!(imported);
    Ok(axum::Json(answer).into_response())
}

//! `mcpscope mock FILE --listen PORT`: the mock over Streamable HTTP, on loopback. A POST's
//! message goes to the client's own run through the script (by `Mcp-Session-Id`, given at
//! `initialize`); an answer with nothing before it is JSON, one with the server's own messages
//! before it an SSE stream, which waits at each recorded server request for the client's answer
//! (POSTed like any message, 202). No standalone GET stream (405). `Host` and `Origin` must name
//! this machine, as the spec asks of a local server.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::any,
};
use tokio::sync::{mpsc, oneshot};

use super::{Mock, Out, Script};
use crate::recording::diff::Ignore;

/// How long a recorded server request waits for the client's answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(30);
/// The largest message a client may POST.
const MAX_BODY: usize = 16 << 20;

#[derive(Clone)]
struct Served {
    script: Arc<Script>,
    ignore: Vec<Ignore>,
    port: u16,
    runs: Arc<Mutex<HashMap<String, Mock>>>,
    /// The client's answers awaited, by the recorded request id.
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<()>>>>,
}

/// Serves until the listener fails.
pub async fn serve(
    listener: tokio::net::TcpListener,
    script: Arc<Script>,
    ignore: Vec<Ignore>,
) -> std::io::Result<()> {
    let port = listener.local_addr()?.port();
    let served = Served {
        script,
        ignore,
        port,
        runs: Default::default(),
        waiting: Default::default(),
    };
    let app = Router::new().fallback(any(handle)).with_state(served);
    axum::serve(listener, app).await
}

fn loopback_name(host: &str, port: u16) -> bool {
    ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|h| host.eq_ignore_ascii_case(&format!("{h}:{port}")))
}

async fn handle(
    State(s): State<Served>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !loopback_name(host, s.port) {
        return (StatusCode::FORBIDDEN, "Host must name this machine").into_response();
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        let ok = origin
            .strip_prefix("http://")
            .is_some_and(|rest| loopback_name(rest, s.port));
        if !ok {
            return (StatusCode::FORBIDDEN, "Origin must be this mock").into_response();
        }
    }
    let session = headers
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match method {
        axum::http::Method::POST => {}
        axum::http::Method::DELETE => {
            if let Some(id) = session {
                s.runs.lock().unwrap().remove(&id);
            }
            return StatusCode::OK.into_response();
        }
        _ => return StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
    if body.len() > MAX_BODY {
        return (StatusCode::PAYLOAD_TOO_LARGE, "a message over 16 MiB").into_response();
    }
    let starts = crate::wire::messages(&body).iter().any(|m| {
        matches!(m, crate::wire::Parsed::Call { id: Some(_), method, .. } if method == "initialize")
    });
    let (key, new_session) = match (&session, starts) {
        (_, true) => (random_id(), true),
        (Some(id), false) => (id.clone(), false),
        (None, false) => (String::new(), false),
    };
    let (outs, answered) = {
        let mut runs = s.runs.lock().unwrap();
        if session.is_some() && !new_session && !runs.contains_key(&key) {
            return (StatusCode::NOT_FOUND, "no such session").into_response();
        }
        let run = runs
            .entry(key.clone())
            .or_insert_with(|| Mock::new(s.script.clone(), s.ignore.clone()));
        run.on_line(&body)
    };
    for id in answered {
        if let Some(tx) = s.waiting.lock().unwrap().remove(&id.to_string()) {
            let _ = tx.send(());
        }
    }
    if outs.is_empty() {
        return StatusCode::ACCEPTED.into_response();
    }
    let mut response = match &outs[..] {
        [Out::Send(line)] => {
            let mut r = Response::new(Body::from(line.clone()));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        _ => stream(outs, s.waiting.clone()),
    };
    if new_session && let Ok(v) = HeaderValue::from_str(&key) {
        response.headers_mut().insert("mcp-session-id", v);
    }
    response
}

/// The server's messages and the answer as one SSE stream, waiting at each recorded server
/// request for the client's answer.
fn stream(outs: Vec<Out>, waiting: Arc<Mutex<HashMap<String, oneshot::Sender<()>>>>) -> Response {
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(16);
    tokio::spawn(async move {
        for out in outs {
            let (line, wait) = match out {
                Out::Send(line) => (line, None),
                Out::Ask { id, line } => {
                    let (done, answered) = oneshot::channel();
                    waiting.lock().unwrap().insert(id.to_string(), done);
                    (line, Some(answered))
                }
            };
            let event = format!("event: message\ndata: {line}\n\n");
            if tx.send(Ok(Bytes::from(event))).await.is_err() {
                return;
            }
            if let Some(answered) = wait {
                let _ = tokio::time::timeout(ANSWER_WITHIN, answered).await;
            }
        }
    });
    let mut r = Response::new(Body::from_stream(
        tokio_stream::wrappers::ReceiverStream::new(rx),
    ));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn random_id() -> String {
    let mut bytes = [0u8; 16];
    let _ = getrandom::getrandom(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

//! `mcpscope mock FILE --listen PORT`: the mock over Streamable HTTP, on loopback. Each
//! `initialize` starts a client's own run through the script, under its own `Mcp-Session-Id`
//! (a client without one shares the run of others without one). A POSTed request's reply is
//! its answer alone (JSON), or an SSE stream of the server's messages that came before it and
//! then the answer; what the server sent after an answer, or after a client's notification,
//! goes on the session's own stream (`GET`), queued until the client opens it. At each recorded
//! server request a stream waits for the client's answer (POSTed like any message, 202) before
//! it goes on. `Host` and `Origin` must name this machine, as the spec asks of a local server.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::any,
};
use tokio::sync::{Notify, mpsc, oneshot};

use super::{Mock, Out, Script};
use crate::recording::diff::Ignore;

/// How long a recorded server request waits for the client's answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(30);
/// The largest message a client may POST.
const MAX_BODY: usize = 16 << 20;
/// Messages a session's own stream holds for a client that has not opened it.
const QUEUE_MAX: usize = 1024;

/// One client's run: its place in the script and its own stream's queue.
struct Run {
    mock: Mock,
    queue: Arc<Queue>,
}

#[derive(Default)]
struct Queue {
    outs: Mutex<VecDeque<Out>>,
    ready: Notify,
}

impl Queue {
    /// Queues messages for the session's stream (the oldest go past [`QUEUE_MAX`]).
    fn push(&self, outs: Vec<Out>) {
        if outs.is_empty() {
            return;
        }
        let mut queued = self.outs.lock().unwrap();
        queued.extend(outs);
        while queued.len() > QUEUE_MAX {
            queued.pop_front();
        }
        drop(queued);
        self.ready.notify_one();
    }
}

/// The client's answers awaited: by session, then the recorded request id.
type Waiting = Arc<Mutex<HashMap<(String, String), oneshot::Sender<()>>>>;

#[derive(Clone)]
struct Served {
    script: Arc<Script>,
    ignore: Vec<Ignore>,
    port: u16,
    runs: Arc<Mutex<HashMap<String, Run>>>,
    waiting: Waiting,
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
    let app = Router::new()
        .fallback(any(handle))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(served);
    axum::serve(listener, app).await
}

async fn handle(
    State(s): State<Served>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(why) = crate::net::foreign_request(&headers, s.port) {
        return (StatusCode::FORBIDDEN, format!("mcpscope mock: {why}")).into_response();
    }
    let session = headers
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match method {
        axum::http::Method::POST => post(s, session, body).await,
        axum::http::Method::GET => {
            let key = session.unwrap_or_default();
            let queue = s.runs.lock().unwrap().get(&key).map(|r| r.queue.clone());
            match queue {
                Some(queue) => own_stream(queue, key, s.waiting.clone()),
                None => (StatusCode::NOT_FOUND, "no such session").into_response(),
            }
        }
        axum::http::Method::DELETE => {
            if let Some(id) = session {
                s.runs.lock().unwrap().remove(&id);
            }
            StatusCode::OK.into_response()
        }
        _ => StatusCode::METHOD_NOT_ALLOWED.into_response(),
    }
}

async fn post(s: Served, session: Option<String>, body: Bytes) -> Response {
    let starts = crate::wire::messages(&body).iter().any(|m| {
        matches!(m, crate::wire::Parsed::Call { id: Some(_), method, .. } if method == "initialize")
    });
    let (key, new_session) = match (&session, starts) {
        (_, true) => (crate::net::random_hex(16), true),
        (Some(id), false) => (id.clone(), false),
        (None, false) => (String::new(), false),
    };
    let (outs, answered, queue) = {
        let mut runs = s.runs.lock().unwrap();
        if session.is_some() && !new_session && !runs.contains_key(&key) {
            return (StatusCode::NOT_FOUND, "no such session").into_response();
        }
        let run = runs.entry(key.clone()).or_insert_with(|| Run {
            mock: Mock::new(s.script.clone(), s.ignore.clone()),
            queue: Default::default(),
        });
        let (outs, answered) = run.mock.on_line(&body);
        (outs, answered, run.queue.clone())
    };
    for id in answered {
        if let Some(tx) = s
            .waiting
            .lock()
            .unwrap()
            .remove(&(key.clone(), id.to_string()))
        {
            let _ = tx.send(());
        }
    }
    // The request's own reply: up to its answer; the rest goes on the session's stream.
    // The request's own reply: up to its (last) answer; the rest goes on the session's
    // stream, once the reply has been sent, so the recorded order holds.
    let split = outs
        .iter()
        .rposition(|o| matches!(o, Out::Answer(_)))
        .map_or(0, |i| i + 1);
    let mut outs = outs;
    let later = outs.split_off(split);
    if outs.is_empty() {
        queue.push(later);
        return StatusCode::ACCEPTED.into_response();
    }
    let mut response = match &outs[..] {
        [Out::Answer(line)] => {
            queue.push(later);
            let mut r = Response::new(Body::from(line.clone()));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            r
        }
        _ => {
            let (tx, rx) = mpsc::channel(16);
            let waiting = s.waiting.clone();
            let key = key.clone();
            tokio::spawn(async move {
                for out in outs {
                    if !send(&tx, out, &key, &waiting).await {
                        break;
                    }
                }
                queue.push(later);
            });
            sse(rx)
        }
    };
    if new_session && let Ok(v) = HeaderValue::from_str(&key) {
        response.headers_mut().insert("mcp-session-id", v);
    }
    response
}

/// Sends one message as an SSE event; a server request waits for the client's answer (or the
/// time allowed). False when the client has gone.
async fn send(
    tx: &mpsc::Sender<Result<Bytes, std::io::Error>>,
    out: Out,
    session: &str,
    waiting: &Mutex<HashMap<(String, String), oneshot::Sender<()>>>,
) -> bool {
    let (line, wait) = match out {
        Out::Send(line) | Out::Answer(line) => (line, None),
        Out::Ask { id, line } => {
            let key = (session.to_owned(), id.to_string());
            let (done, answered) = oneshot::channel();
            waiting.lock().unwrap().insert(key.clone(), done);
            (line, Some((key, answered)))
        }
    };
    let event = format!("event: message\ndata: {line}\n\n");
    if tx.send(Ok(Bytes::from(event))).await.is_err() {
        return false;
    }
    if let Some((key, answered)) = wait
        && tokio::time::timeout(ANSWER_WITHIN, answered).await.is_err()
    {
        waiting.lock().unwrap().remove(&key);
    }
    true
}

/// The session's own stream: what waited for it, then what comes, until the client leaves.
fn own_stream(queue: Arc<Queue>, session: String, waiting: Waiting) -> Response {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            // Not taken off the queue for a client that has gone.
            if tx.is_closed() {
                return;
            }
            let next = queue.outs.lock().unwrap().pop_front();
            match next {
                Some(out) => {
                    if !send(&tx, out, &session, &waiting).await {
                        return;
                    }
                }
                None => tokio::select! {
                    () = queue.ready.notified() => {}
                    () = tx.closed() => return,
                },
            }
        }
    });
    sse(rx)
}

fn sse(rx: mpsc::Receiver<Result<Bytes, std::io::Error>>) -> Response {
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

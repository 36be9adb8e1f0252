//! `mcpscope proxy`: a remote MCP server (Streamable HTTP or legacy HTTP+SSE) relayed on a
//! loopback port, so a real client's traffic can be watched. Every request goes to the upstream
//! origin with the same method, path, query, headers (the client's own `Authorization`
//! included; only hop-by-hop headers and `Host` are the relay's) and body; the answer comes
//! back the same way, streamed chunk by chunk as it arrives (SSE streams, resumption with
//! `Last-Event-ID`, the legacy endpoint event: all as the server sent them). A copy goes to the
//! report: the request body as the client's frame, each SSE `message` event's data or a JSON
//! answer as the server's, one `http` event per exchange with credentials hidden, and each
//! credential the client sent as a secret to scrub from exports.
//!
//! The relay answers only this machine: `Host` must name it (DNS rebinding would otherwise
//! reach the upstream with the client's credentials) and a browser `Origin` must be loopback.

use std::{collections::BTreeSet, sync::Arc, time::Instant};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Request, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::any,
};
use serde_json::json;
use tokio::sync::mpsc;
use tokio_stream::StreamExt;

use super::{
    pipe::Queue,
    report::{MAX_REPORTED, Peer, Report},
};
use crate::{
    events::{HttpEvent, HttpKind},
    redact,
    transport::sse::SseParser,
};

/// Headers that belong to one hop, not to the exchange (RFC 9110 §7.6.1), and `Host`.
const HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
    "host",
    "content-length",
];

/// What every relayed request shares.
pub struct Relay {
    /// The upstream's origin (`http://host:port`): paths and queries are the client's.
    pub upstream: url::Url,
    pub client: reqwest::Client,
    pub queue: Queue,
    pub clock: Instant,
    /// Our own port, for the `Host` check.
    pub port: u16,
}

/// Relays until the listener fails.
pub async fn serve(listener: tokio::net::TcpListener, relay: Arc<Relay>) -> std::io::Result<()> {
    let app = Router::new().fallback(any(handle)).with_state(relay);
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await
}

impl Relay {
    fn at(&self) -> u64 {
        self.clock.elapsed().as_micros() as u64
    }
}

async fn handle(State(relay): State<Arc<Relay>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if let Some(why) = crate::net::foreign_request(&parts.headers, relay.port) {
        return (StatusCode::FORBIDDEN, format!("mcpscope proxy: {why}")).into_response();
    }
    let body = match axum::body::to_bytes(body, crate::transport::stdio::MAX_FRAME_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return (
                StatusCode::PAYLOAD_TOO_LARGE,
                "mcpscope proxy: a body over its limit",
            )
                .into_response();
        }
    };
    let mut url = relay.upstream.clone();
    url.set_path(parts.uri.path());
    url.set_query(parts.uri.query());
    let started = Instant::now();
    for value in parts.headers.get_all(header::AUTHORIZATION) {
        if let Ok(v) = value.to_str() {
            relay.queue.offer(Report::Secret(v.to_owned()));
            if let Some((_, credential)) = v.split_once(' ') {
                relay
                    .queue
                    .offer(Report::Secret(credential.trim().to_owned()));
            }
        }
    }
    // Only MCP messages are frames: a form of an authorization flow through the same origin
    // (codes, verifiers, client secrets) is not.
    if !body.is_empty() && is_json(&parts.headers) {
        relay.queue.offer(frame(Peer::Client, relay.at(), &body));
    }
    let mut upstream = relay.client.request(parts.method.clone(), url.clone());
    let named = connection_named(&parts.headers);
    for (name, value) in parts.headers.iter() {
        // The encoding is asked for below, in place of the client's (a header is added, not
        // replaced, so the client's must not go too).
        if !HOP.contains(&name.as_str())
            && !named.iter().any(|n| n == name.as_str())
            && name != header::ACCEPT_ENCODING
        {
            upstream = upstream.header(name, value);
        }
    }
    // Our copy must be readable: the answer comes unencoded (the client gets the same
    // content, only not compressed on this loopback hop).
    upstream = upstream.header(header::ACCEPT_ENCODING, "identity");
    let none = BTreeSet::new();
    let mut event = HttpEvent {
        phase: Some("proxy".into()),
        method: Some(parts.method.as_str().to_owned()),
        url: Some(redact::url(&url, &none)),
        request_headers: Some(redact::header_map(&parts.headers, &none)),
        ..HttpEvent::default()
    };
    let answer = match upstream.body(body).send().await {
        Ok(answer) => answer,
        Err(e) => {
            let message = crate::net::describe_error(&e);
            event.kind = Some(HttpKind::Error);
            event.error = Some(Some(message.clone()));
            event.duration_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
            relay.queue.offer(http(&event));
            return (
                StatusCode::BAD_GATEWAY,
                format!("mcpscope proxy: the upstream did not answer: {message}"),
            )
                .into_response();
        }
    };
    let status = answer.status();
    let mut headers = HeaderMap::new();
    let named = connection_named(answer.headers());
    for (name, value) in answer.headers() {
        if !HOP.contains(&name.as_str()) && !named.iter().any(|n| n == name.as_str()) {
            headers.append(name.clone(), value.clone());
        }
    }
    event.kind = Some(HttpKind::Exchange);
    event.status = Some(status.as_u16());
    event.response_headers = Some(redact::header_map(answer.headers(), &none));
    event.duration_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
    relay.queue.offer(http(&event));
    let sse = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/event-stream"));
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(64);
    let relay2 = relay.clone();
    let headers_of_answer = headers.clone();
    tokio::spawn(async move {
        let mut stream = answer.bytes_stream();
        let mut parser = sse.then(|| SseParser::new(MAX_REPORTED));
        let json = !sse && is_json(&headers_of_answer);
        let mut whole: Vec<u8> = Vec::new();
        let mut total = 0usize;
        // A body cut off (the upstream failed, the client left) is not reported as a message.
        let mut whole_body = false;
        loop {
            // A client that went away ends an idle stream too, not only at its next chunk.
            let chunk = tokio::select! {
                chunk = stream.next() => chunk,
                () = tx.closed() => break,
            };
            let Some(chunk) = chunk else {
                whole_body = true;
                break;
            };
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    break;
                }
            };
            // The report's copy first, as the tap does: what the client sees next is already
            // in the report, so the order across both directions holds.
            match &mut parser {
                Some(p) => match p.push(&chunk) {
                    Ok(events) => {
                        for e in events
                            .into_iter()
                            .filter(|e| e.kind() == "message" && !e.data.is_empty())
                        {
                            relay2
                                .queue
                                .offer(frame(Peer::Server, relay2.at(), e.data.as_bytes()));
                        }
                    }
                    Err(_) => {
                        // An event past the limit: the stream still passes, the report says
                        // what it could not show.
                        relay2.queue.offer(Report::Skipped {
                            from: Peer::Server,
                            at_us: relay2.at(),
                            len: p.buffered() as u64,
                        });
                        parser = None;
                    }
                },
                None if json => {
                    total += chunk.len();
                    if total <= MAX_REPORTED {
                        whole.extend_from_slice(&chunk);
                    } else {
                        whole = Vec::new();
                    }
                }
                None => {}
            }
            if tx.send(Ok(chunk)).await.is_err() {
                break;
            }
        }
        if json && total > 0 && whole_body {
            let at = relay2.at();
            relay2.queue.offer(if total > MAX_REPORTED {
                Report::Skipped {
                    from: Peer::Server,
                    at_us: at,
                    len: total as u64,
                }
            } else {
                frame(Peer::Server, at, &whole)
            });
        }
    });
    let mut response = Response::new(Body::from_stream(
        tokio_stream::wrappers::ReceiverStream::new(rx),
    ));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// Whether a body is JSON (an MCP message), by its `Content-Type`.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| {
            let t = t.split(';').next().unwrap_or("").trim();
            t.eq_ignore_ascii_case("application/json") || t.ends_with("+json")
        })
}

/// The headers a `Connection` header names: they belong to this hop too.
fn connection_named(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .collect()
}

/// A frame of the report, trimmed of the line end a body may carry.
fn frame(from: Peer, at_us: u64, bytes: &[u8]) -> Report {
    let trimmed = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let trimmed = trimmed.strip_suffix(b"\r").unwrap_or(trimmed);
    if trimmed.len() > MAX_REPORTED {
        return Report::Skipped {
            from,
            at_us,
            len: trimmed.len() as u64,
        };
    }
    Report::Frame {
        from,
        at_us,
        bytes: trimmed.to_vec(),
    }
}

fn http(event: &HttpEvent) -> Report {
    Report::Http(serde_json::to_value(event).unwrap_or_else(|_| json!({})))
}

//! One SSE body read to its end, for a POST answer, the Streamable GET stream and the legacy
//! stream alike: `message` events become frames (and say whether the answer we wait for came),
//! `endpoint` names the legacy POST URL (on the server's own origin only), ids and `retry` are
//! kept for resuming, and the end of the stream is an `http` event.

use super::*;

pub(super) struct StreamOutcome {
    /// A response to `answer_for` came on the stream.
    pub(super) answered: bool,
    pub(super) last_id: Option<String>,
    pub(super) retry: Duration,
    pub(super) error: Option<String>,
}

/// Reads an SSE body to its end: `message` events become frames, the rest is bookkeeping.
pub(super) async fn read_sse(
    sh: &Arc<Shared>,
    mut res: reqwest::Response,
    method: &str,
    url: &Url,
    answer_for: Option<i64>,
) -> StreamOutcome {
    let mut parser = SseParser::new(MAX_FRAME_BYTES);
    let mut out = StreamOutcome {
        answered: false,
        last_id: None,
        retry: DEFAULT_RETRY,
        error: None,
    };
    let mut count = 0u64;
    let mut first_id: Option<String> = None;
    let mut held = budget::Reservation::new();
    loop {
        let chunk = match res.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                out.error = Some(describe_error(&e));
                break;
            }
        };
        let events = match parser.push(&chunk) {
            Ok(events) => events,
            Err(_) => {
                out.error = Some(format!("an SSE event over {MAX_FRAME_BYTES} bytes"));
                break;
            }
        };
        // What the parser holds of the event it has not finished, against the shared budget.
        if let Err(e) = held.resize(parser.buffered()) {
            sh.emit(TransportEvent::OverBudget).await;
            out.error = Some(e.to_string());
            break;
        }
        for event in events {
            if let Some(id) = &event.id {
                first_id.get_or_insert_with(|| id.clone());
                out.last_id = Some(id.clone());
            }
            if let Some(ms) = event.retry {
                out.retry = Duration::from_millis(ms);
            }
            count += 1;
            handle_stream_event(sh, event, answer_for, &mut out).await;
        }
    }
    sh.http(HttpEvent {
        kind: Some(HttpKind::StreamClosed),
        method: Some(method.to_owned()),
        url: Some(sh.redact_url(url)),
        events: Some(count),
        first_event_id: Some(first_id),
        last_event_id: Some(out.last_id.clone()),
        error: Some(out.error.clone()),
        ..HttpEvent::default()
    })
    .await;
    out
}

async fn handle_stream_event(
    sh: &Arc<Shared>,
    event: SseEvent,
    answer_for: Option<i64>,
    out: &mut StreamOutcome,
) {
    match event.kind() {
        "message" if event.data.trim().is_empty() => {} // a priming event
        "message" => {
            let bytes = event.data.into_bytes();
            if answer_for.is_some_and(|want| wire::answers(&bytes, want).is_some()) {
                out.answered = true;
            }
            sh.emit(TransportEvent::Frame(bytes)).await;
        }
        "endpoint" => {
            let resolved = sh.url.join(event.data.trim());
            match resolved {
                Ok(u) if u.origin() == sh.url.origin() => {
                    sh.note(format!(
                        "legacy endpoint {:?} resolves to {}",
                        event.data,
                        sh.redact_url(&u)
                    ))
                    .await;
                    sh.endpoint.send_replace(Some(u));
                }
                Ok(u) => {
                    let _ = sh
                        .ended
                        .send(format!(
                            "the server named an endpoint on another origin ({}); mcpscope does not send your headers there",
                            u.origin().ascii_serialization()
                        ))
                        .await;
                }
                Err(e) => {
                    let _ = sh
                        .ended
                        .send(format!(
                            "the endpoint event {:?} is not a URL: {e}",
                            event.data
                        ))
                        .await;
                }
            }
        }
        other => {
            sh.note(format!(
                "SSE event of type {other:?} ignored ({} bytes)",
                event.data.len()
            ))
            .await;
        }
    }
}

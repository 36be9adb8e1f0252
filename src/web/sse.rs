//! `GET /api/events`: replays retained events after `Last-Event-ID` (else `since`, else the newest
//! `tail`), then tails;
//! `?session=ID` keeps that session's events and those that belong to no session.
//!
//! Each subscriber is a task that copies batches out of the ring and writes them as one chunk, so
//! a flood costs one write per batch, not per event. A subscriber that cannot keep up only falls
//! behind in the ring; when the ring has moved past it, it gets a `lagged` marker and resumes at
//! the oldest retained event. The session never waits for it.

use std::{convert::Infallible, time::Duration};

use axum::{
    body::{Body, Bytes},
    extract::State,
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Response},
};
use tokio::sync::mpsc;
use tokio_stream::{StreamExt, wrappers::ReceiverStream};

use super::AppState;
use crate::events::TailStart;

const BATCH: usize = 2048;
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The longest tail a stream starts with (older events are for `…/history`).
const MAX_TAIL: usize = 10_000;

pub(super) async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let param = |name: &str| {
        uri.query()
            .unwrap_or("")
            .split('&')
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    };
    // Session ids are `s` and digits, so they need no percent-decoding.
    let session = param("session");
    // `Last-Event-ID` first: a browser resuming by itself sends it with the URL it first opened,
    // whose `since` is older than what it has seen (it would get everything twice).
    let since = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .or_else(|| param("since").and_then(|v| v.parse::<u64>().ok()));
    // `tail=N`: a page's first load starts after the newest N retained events (it fetches older
    // ones from `…/history` when they are wanted) and is told where, in an event of its own
    // whose id a browser resuming by itself sends back.
    let tail = match since {
        None => param("tail").and_then(|v| v.parse::<usize>().ok()),
        Some(_) => None,
    };
    // A reader resuming after `since` missed every event evicted since then; one starting
    // fresh finds history, whose gaps (one session's oldest events made room for another's)
    // were there before it came.
    let start = state.events.tail_start(tail.unwrap_or(0).min(MAX_TAIL));
    let horizon = match since {
        Some(since) if since > 0 => since,
        _ => start.horizon,
    };
    let (since, hello) = match tail {
        // `newest` says when the tail is all in: a page waits for it before it asks for older
        // history, or the rows still on their way would look like a list too short to scroll.
        Some(_) => {
            let TailStart { after, newest, .. } = start;
            (
                after,
                Bytes::from(format!(
                    "id: {after}\nevent: start\ndata: {{\"after\":{after},\"newest\":{newest}}}\n\n"
                )),
            )
        }
        // An initial comment makes the response start at once, before any event exists.
        None => (
            since.unwrap_or(0),
            Bytes::from_static(b": mcpscope events\n\n"),
        ),
    };
    // `elide=N`: frames longer than N bytes come without their message (`…/events/{seq}` has
    // them whole), so a page need not hold a 100 MB answer to show its row. Only frames of
    // 64 KiB or more have a summary, so a small N elides nothing smaller (`EventBus::elided`).
    let elide = param("elide").and_then(|v| v.parse::<usize>().ok());
    let (tx, rx) = mpsc::channel::<Bytes>(8);
    tokio::spawn(follow(
        Follower {
            state,
            horizon,
            session,
            elide,
        },
        since,
        hello,
        tx,
    ));
    let body = Body::from_stream(ReceiverStream::new(rx).map(Ok::<_, Infallible>));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::HeaderName::from_static("x-accel-buffering"),
                HeaderValue::from_static("no"),
            ),
        ],
        body,
    )
        .into_response()
}

/// What one subscriber follows, and how.
struct Follower {
    state: AppState,
    horizon: u64,
    session: Option<String>,
    elide: Option<usize>,
}

async fn follow(follower: Follower, mut last: u64, hello: Bytes, tx: mpsc::Sender<Bytes>) {
    let Follower {
        state,
        horizon,
        session,
        elide,
    } = follower;
    let mut newest = state.events.watch();
    let mut stop = state.shutting_down.clone();
    if tx.send(hello).await.is_err() {
        return;
    }
    loop {
        if *stop.borrow() {
            return;
        }
        newest.borrow_and_update();
        let batch = state.events.read_after(last, BATCH, horizon);
        let mut chunk = String::new();
        if let Some((from, missed)) = batch.lagged {
            chunk.push_str(&format!(
                "data: {{\"kind\":\"lagged\",\"from\":{from},\"missed\":{missed}}}\n\n"
            ));
        }
        let read = !batch.records.is_empty();
        for record in &batch.records {
            last = record.seq;
            if !record.visible_to(session.as_deref()) {
                continue;
            }
            if let Some(summary) = elide.and_then(|n| state.events.elided(record, n)) {
                write_event(&mut chunk, record.seq, &summary);
                continue;
            }
            if record.json.len() < BIG || record.json.contains(['\r', '\n']) {
                write_event(&mut chunk, record.seq, &record.json);
                continue;
            }
            // A big event goes out as the ring holds it, shared rather than copied into the
            // chunk: a reader of a 100 MB answer costs no second 100 MB.
            let parts = [
                Bytes::from(std::mem::take(&mut chunk)),
                Bytes::from(format!("id: {}\ndata: ", record.seq)),
                Bytes::from_owner(Shared(record.clone())),
                Bytes::from_static(b"\n\n"),
            ];
            for part in parts.into_iter().filter(|p| !p.is_empty()) {
                if tx.send(part).await.is_err() {
                    return;
                }
            }
        }
        if !chunk.is_empty() {
            if tx.send(Bytes::from(chunk)).await.is_err() {
                return;
            }
            continue;
        }
        if read {
            // Only other sessions' events: look again before waiting.
            continue;
        }
        tokio::select! {
            changed = newest.changed() => if changed.is_err() { return },
            _ = stop.changed() => {}
            _ = tokio::time::sleep(KEEP_ALIVE) => {
                if tx.send(Bytes::from_static(b": keep-alive\n\n")).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// An event this big (its text) is sent shared with the ring, not copied into a chunk.
const BIG: usize = 64 * 1024;

/// A record's text as a body chunk, kept alive by the chunk.
pub(super) struct Shared(pub(super) std::sync::Arc<crate::events::Record>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        self.0.json.as_bytes()
    }
}

/// One SSE event. Our own JSON never holds a raw line break, but a server's frame embedded
/// verbatim may carry CR or LF as whitespace between tokens; SSE would read that as the end of
/// the field, so such text is split over several `data:` lines (the reader joins them with LF,
/// which is still the same JSON).
fn write_event(out: &mut String, seq: u64, json: &str) {
    out.push_str("id: ");
    out.push_str(&seq.to_string());
    out.push('\n');
    if json.contains(['\r', '\n']) {
        for part in json.split(['\r', '\n']) {
            out.push_str("data: ");
            out.push_str(part);
            out.push('\n');
        }
    } else {
        out.push_str("data: ");
        out.push_str(json);
        out.push('\n');
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_breaks_in_embedded_frames_stay_inside_one_event() {
        let mut out = String::new();
        write_event(&mut out, 7, "{\"a\":\r1}");
        assert_eq!(out, "id: 7\ndata: {\"a\":\ndata: 1}\n\n");
    }
}

//! Streamable HTTP (2025-03-26 … 2025-11-25, and the modern era's stateless POSTs): one POST
//! per client message, its answer as JSON or an SSE stream, a refusal handed to the
//! authorization flow, the fallback to HTTP+SSE on a refused `initialize`, and the GET stream
//! for server-initiated messages, resumed with `Last-Event-ID`.

use super::{legacy::fall_back, *};

pub(super) async fn post_streamable(sh: &Arc<Shared>, msg: &Outgoing) {
    let is_initialize = msg.is_request("initialize");
    let mut attempts = 0;
    let (res, mut exchange, www) = loop {
        if let Some(auth) = &sh.auth {
            auth.freshen().await;
        }
        let (mut headers, used) = sh.request_headers("application/json, text/event-stream", true);
        // The session computed these (the modern era's routing headers); a value HTTP cannot
        // carry is left out, and its absence shows in the exchange.
        for (name, value) in &msg.headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.insert(n, v);
            }
        }
        let (res, mut exchange) = match sh
            .send(
                Method::POST,
                &sh.url,
                headers,
                Some(&msg.text),
                Some(msg),
                None,
            )
            .await
        {
            Ok(answered) => answered,
            Err(why) => return sh.post_unanswered(&sh.url, msg, why).await,
        };
        let www = www_authenticate(&res);
        if !sh.asks_authorization(res.status(), www.as_deref()) {
            if res.status().is_success()
                && let Some(auth) = &sh.auth
            {
                auth.accepted().await;
            }
            break (res, exchange, www);
        }
        let status = res.status();
        let body = excerpt(res).await;
        exchange.body_excerpt = Some(body.clone());
        sh.http(exchange).await;
        let refusal = sh.refusal(status, www.as_deref(), &body);
        attempts += 1;
        if attempts > MAX_AUTH_RETRIES {
            return sh
                .fail(
                    msg,
                    format!("{refusal}; still refused after {MAX_AUTH_RETRIES} authorizations, giving up"),
                )
                .await;
        }
        if let Err(why) = sh.authorize(status, www.as_deref(), used).await {
            return sh
                .fail(msg, format!("{refusal}; authorization failed: {why}"))
                .await;
        }
    };
    let status = res.status();
    if is_initialize
        && let Some(id) = res
            .headers()
            .get(SESSION_HEADER)
            .and_then(|v| v.to_str().ok())
    {
        *sh.session_id.lock().unwrap() = Some(id.to_owned());
    }
    if !status.is_success() {
        let had_session = sh.session_id.lock().unwrap().is_some();
        let body = read_body(sh, res).await.unwrap_or_default();
        let text = excerpt_of(&body);
        exchange.body_excerpt = Some(text.clone());
        sh.http(exchange).await;
        // A JSON-RPC error for our request is the server's answer, whatever the status says
        // (e.g. 400 with -32022 for a version it does not speak): the session reads it as such.
        let refusal = msg
            .request_id()
            .and_then(|id| wire::answers(&body, id))
            .is_some_and(|a| a == wire::Answered::Error);
        if refusal {
            sh.emit(TransportEvent::Frame(body)).await;
            return;
        }
        if is_initialize
            && matches!(
                status,
                StatusCode::BAD_REQUEST | StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
            )
        {
            return fall_back(sh, msg, status).await;
        }
        sh.fail(msg, sh.refusal(status, www.as_deref(), &text))
            .await;
        if status == StatusCode::NOT_FOUND && had_session && !is_initialize {
            let _ = sh
                .ended
                .send(
                    "the server no longer knows this session (404); reconnect to start a new one"
                        .into(),
                )
                .await;
        }
        return;
    }
    let ctype = content_type(&res);
    sh.http(exchange).await;
    if ctype.starts_with("text/event-stream") {
        let outcome = read_sse(sh, res, "POST", &sh.url.clone(), msg.request_id()).await;
        if let Some(id) = msg.request_id()
            && !outcome.answered
        {
            match (outcome.error, outcome.last_id) {
                // The modern era has no resuming: the request is lost, and says so.
                (error, _) if sh.is_modern() => {
                    sh.fail(
                        msg,
                        format!(
                            "the response stream ended before the answer{}; the modern era cannot resume it, so the request is lost (send it again)",
                            error.map_or_else(String::new, |e| format!(" ({e})"))
                        ),
                    )
                    .await;
                }
                // The server closed the stream on purpose (SSE polling): resume it with GET.
                (None, Some(last)) => {
                    // The server said how long to wait (`retry`) before coming back.
                    let sh2 = sh.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(outcome.retry).await;
                        get_loop(sh2, Some(last), Some(id), outcome.retry).await;
                    });
                }
                (error, _) => {
                    sh.fail(
                        msg,
                        format!(
                            "the response stream ended before the answer{}",
                            error.map_or_else(String::new, |e| format!(": {e}"))
                        ),
                    )
                    .await;
                }
            }
        }
    } else if status == StatusCode::ACCEPTED || status == StatusCode::NO_CONTENT {
        // Accepted notification or response.
    } else {
        match read_body(sh, res).await {
            Ok(body) if body.iter().all(u8::is_ascii_whitespace) => {
                if msg.request_id().is_some() {
                    sh.fail(msg, format!("POST answered {status} with an empty body"))
                        .await;
                }
            }
            Ok(body) => sh.emit(TransportEvent::Frame(body)).await,
            Err(e) => sh.fail(msg, e).await,
        }
    }
}

/// The GET stream of Streamable HTTP: unrelated server messages, resumed with `Last-Event-ID`
/// after a drop. With `until_answer`, it resumes a POST stream the server closed and stops once
/// that request is answered.
///
/// A server that says it has no stream here is believed at once, with a note: 405 (the spec's
/// word for it), a 404 before any GET stream of this session worked, another 4xx, or an answer
/// that is not SSE. Only failures that may pass (5xx, 408, 429, a dropped connection, a stream
/// that closes empty) are tried again, waiting longer each time; a stream that delivered events
/// is reopened after the server's `retry`, as the spec asks.
pub(super) async fn get_loop(
    sh: Arc<Shared>,
    mut last_id: Option<String>,
    until_answer: Option<i64>,
    mut retry: Duration,
) {
    let mut failures = 0u32;
    let mut worked = false;
    // After a failure, the server's `retry` or the back-off, whichever is longer; after a
    // stream that worked, the server's `retry` alone.
    let wait = |failures: u32, retry: Duration| match failures {
        0 => retry,
        n => retry.max(crate::transport::backoff(n)),
    };
    loop {
        let (mut headers, used) = sh.request_headers("text/event-stream", false);
        if let Some(id) = &last_id
            && let Ok(v) = HeaderValue::from_str(id)
        {
            headers.insert("last-event-id", v);
        }
        let (res, exchange) = match sh
            .send(Method::GET, &sh.url, headers, None, None, None)
            .await
        {
            Ok(answered) => answered,
            Err(Unanswered { message: error, .. }) => {
                failures += 1;
                if failures >= MAX_GET_RETRIES {
                    // The standalone stream is how we notice a server that went away between
                    // calls; a resumed POST stream leaves that to its caller's timeout.
                    if until_answer.is_none() {
                        sh.stopped_answering(&format!("GET {}: {error}", sh.redact_url(&sh.url)))
                            .await;
                    }
                    return;
                }
                // Not backed off: a server that went away should end the session in seconds.
                tokio::time::sleep(retry).await;
                continue;
            }
        };
        let status = res.status();
        let ctype = content_type(&res);
        if status == StatusCode::METHOD_NOT_ALLOWED {
            sh.http(exchange).await;
            sh.note("the server offers no GET stream for server-initiated messages (405)".into())
                .await;
            return;
        }
        if !status.is_success() || !ctype.starts_with("text/event-stream") {
            let www = www_authenticate(&res);
            let mut exchange = exchange;
            exchange.body_excerpt = Some(excerpt(res).await);
            sh.http(exchange).await;
            if sh.asks_authorization(status, www.as_deref()) {
                failures += 1;
                if failures >= MAX_GET_RETRIES
                    || sh.authorize(status, www.as_deref(), used).await.is_err()
                {
                    sh.note(format!(
                        "GET stream given up: authorization failed ({status})"
                    ))
                    .await;
                    return;
                }
                continue;
            }
            let session = sh.session_id.lock().unwrap().is_some();
            // A resumed POST stream follows a stream that worked: its 404 is a forgotten session.
            if status == StatusCode::NOT_FOUND && session && (worked || until_answer.is_some()) {
                let _ = sh
                    .ended
                    .send("the server no longer knows this session (404); reconnect to start a new one".into())
                    .await;
                return;
            }
            let passing = status.is_server_error()
                || status == StatusCode::REQUEST_TIMEOUT
                || status == StatusCode::TOO_MANY_REQUESTS;
            if !passing {
                let why = if status.is_success() {
                    format!(
                        "it answered {status} with {ctype:?}, not text/event-stream (the spec asks for SSE or 405)"
                    )
                } else if status == StatusCode::NOT_FOUND {
                    "404: the server has no stream at this URL (it should answer 405); its messages come only in answers to our requests".to_owned()
                } else {
                    format!("{status}")
                };
                sh.note(format!(
                    "no GET stream for server-initiated messages, not retried: {why}"
                ))
                .await;
                return;
            }
            failures += 1;
            if failures >= MAX_GET_RETRIES {
                sh.note(format!(
                    "GET stream given up after {failures} failures (last: {status})"
                ))
                .await;
                return;
            }
            tokio::time::sleep(wait(failures, retry)).await;
            continue;
        }
        worked = true;
        sh.http(exchange).await;
        let outcome = read_sse(&sh, res, "GET", &sh.url.clone(), until_answer).await;
        if outcome.last_id.is_some() {
            last_id = outcome.last_id;
            failures = 0;
        } else {
            failures += 1;
        }
        retry = outcome.retry;
        if outcome.answered {
            return;
        }
        if failures >= MAX_GET_RETRIES {
            sh.note(format!(
                "GET stream given up: it closed {failures} times in a row without an event id to resume from"
            ))
            .await;
            return;
        }
        tokio::time::sleep(wait(failures, retry)).await;
    }
}

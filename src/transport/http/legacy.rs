//! The legacy HTTP+SSE transport (2024-11-05): one GET stream that names the POST endpoint
//! and then carries every server message, and the fallback to it from Streamable HTTP.

use super::*;

/// The server refused Streamable HTTP for initialize without a JSON-RPC answer: try the legacy
/// transport on the same URL, and tell the session it now speaks that.
pub(super) async fn fall_back(sh: &Arc<Shared>, msg: &Outgoing, status: StatusCode) {
    sh.http(HttpEvent {
        fallback: Some("sse".into()),
        ..HttpEvent::note(format!(
            "initialize over Streamable HTTP got {status} without a JSON-RPC answer; falling back to the legacy HTTP+SSE transport (GET {} for an endpoint event)",
            sh.redact_url(&sh.url)
        ))
    })
    .await;
    sh.emit(TransportEvent::Fallback {
        from: RemoteKind::Http.as_str(),
        to: RemoteKind::Sse.as_str(),
    })
    .await;
    *sh.mode.lock().unwrap() = Mode::Legacy;
    start_legacy_stream(sh);
    post_legacy(sh, msg).await;
}

pub(super) fn start_legacy_stream(sh: &Arc<Shared>) {
    let sh2 = sh.clone();
    let task = tokio::spawn(async move { legacy_stream(sh2).await });
    if let Some(old) = sh.get_task.lock().unwrap().replace(task) {
        old.abort();
    }
}

/// The legacy transport's one GET stream: the endpoint, then every server message.
pub(super) async fn legacy_stream(sh: Arc<Shared>) {
    let (headers, _) = sh.request_headers("text/event-stream", false);
    let (res, mut exchange) = match sh
        .send(Method::GET, &sh.url, headers, None, None, None)
        .await
    {
        Ok(answered) => answered,
        Err(why) => {
            let _ = sh
                .ended
                .send(format!("GET {}: {}", sh.redact_url(&sh.url), why.message))
                .await;
            return;
        }
    };
    let status = res.status();
    let ctype = content_type(&res);
    if !status.is_success() || !ctype.starts_with("text/event-stream") {
        let body = excerpt(res).await;
        exchange.body_excerpt = Some(body.clone());
        sh.http(exchange).await;
        let _ = sh
            .ended
            .send(format!(
                "GET {} answered {status} ({ctype}), not an SSE stream: {}",
                sh.redact_url(&sh.url),
                body.trim()
            ))
            .await;
        return;
    }
    sh.http(exchange).await;
    let outcome = read_sse(&sh, res, "GET", &sh.url.clone(), None).await;
    let _ = sh
        .ended
        .send(format!(
            "the server closed the SSE stream{}",
            outcome.error.map_or_else(String::new, |e| format!(": {e}"))
        ))
        .await;
}

pub(super) async fn post_legacy(sh: &Arc<Shared>, msg: &Outgoing) {
    let mut endpoint = sh.endpoint.subscribe();
    let url = match endpoint.wait_for(Option::is_some).await {
        Ok(u) => u.clone().expect("waited for Some"),
        Err(_) => return,
    };
    let (headers, _) = sh.request_headers("application/json, text/event-stream", true);
    match sh
        .send(
            Method::POST,
            &url,
            headers,
            Some(&msg.text),
            Some(msg),
            None,
        )
        .await
    {
        Ok((res, mut exchange)) => {
            let status = res.status();
            if status.is_success() {
                sh.http(exchange).await;
            } else {
                let body = excerpt(res).await;
                exchange.body_excerpt = Some(body.clone());
                sh.http(exchange).await;
                sh.fail(
                    msg,
                    format!(
                        "POST {} answered {status}: {}",
                        sh.redact_url(&url),
                        body.trim()
                    ),
                )
                .await;
            }
        }
        Err(why) => sh.post_unanswered(&url, msg, why).await,
    }
}

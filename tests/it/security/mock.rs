//! `mcpscope mock`: its HTTP listener under another `Host` (DNS rebinding) or from another
//! `Origin`, asked for a standalone stream, sent a huge body or an unknown session; a file that
//! is not a recording, with terminal escapes in it.

use std::process::Stdio;

use reqwest::StatusCode;
use serde_json::json;
use tokio::process::Command;

use crate::{mock::mock_http, support::*};

#[tokio::test]
async fn the_mocks_listener_answers_only_this_machine() {
    let scope = Scope::start().await;
    let text = crate::recordings::record_everything(&scope).await;
    let file = std::env::temp_dir().join(format!("mcpscope-mock-sec-{}.ndjson", scope.port));
    std::fs::write(&file, &text).unwrap();
    let (_mock, url) = mock_http(file.to_str().unwrap(), &[]).await;
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    // A fresh connection each time: the refused huge body closes its connection.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}});
    let post = |h: reqwest::RequestBuilder| {
        h.header("accept", "application/json, text/event-stream")
            .json(&init)
    };
    let res = post(http.post(&url).header("host", "evil.example:80"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = post(http.post(&url).header("origin", "http://evil.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // A session's own stream only for a session the mock gave out.
    let res = http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = http
        .get(&url)
        .header("mcp-session-id", "guessed")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = http.put(&url).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    let res = http
        .post(&url)
        .body(vec![b' '; 17 << 20])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let res = post(http.post(&url).header("mcp-session-id", "nobody"))
        .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Its own origin is fine.
    let origin = url.trim_end_matches("/mcp").to_owned();
    let res = post(http.post(&url).header("origin", origin))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().get("mcp-session-id").is_some());
    let _ = std::fs::remove_file(&file);
}

#[tokio::test]
async fn a_file_that_is_not_a_recording_is_refused_with_its_escapes_made_visible() {
    let file =
        std::env::temp_dir().join(format!("mcpscope-mock-bad-{}.ndjson", std::process::id()));
    std::fs::write(&file, "\u{1b}]0;owned\u{7}\u{1b}[2J not a recording\n").unwrap();
    let out = Command::new(bin())
        .args(["mock", file.to_str().unwrap()])
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert!(out.stdout.is_empty(), "nothing on the client's side");
    let _ = std::fs::remove_file(&file);
}

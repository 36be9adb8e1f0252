//! The command line and the session lifecycle: targets given at start, connect failures,
//! disconnect, cancel, notify, event replay, and a clean exit on SIGTERM.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;

async fn wait_connected(scope: &Scope) -> serde_json::Value {
    let mut events = scope.events().await;
    events
        .wait_for("connected or failed", |e| {
            e["kind"] == "state" && (e["state"] == "connected" || e["state"] == "failed")
        })
        .await
}

#[tokio::test]
async fn a_target_after_double_dash_connects_at_start_and_sigterm_exits_cleanly() {
    let scope = Scope::start_with(&["-e", "DEMO_FLAG=1", "--", bin(), "demo-server"]).await;
    let state = wait_connected(&scope).await;
    assert_eq!(state["state"], "connected", "{state}");
    assert_eq!(state["target"]["env"]["DEMO_FLAG"], "<redacted>");
    // An open event stream (a browser tab) must not keep mcpscope from exiting.
    let _tab = scope.events().await;
    let started = Instant::now();
    let status = scope.terminate().await;
    assert_eq!(status.code(), Some(0));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn an_mcp_servers_file_names_the_target() {
    let dir = std::env::temp_dir().join(format!("mcpscope-it-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("claude_desktop_config.json");
    let config = json!({"mcpServers": {
        "demo": {"command": bin(), "args": ["demo-server"]},
        "other": {"command": "false"},
    }});
    std::fs::write(&file, config.to_string()).unwrap();
    let scope = Scope::start_with(&["--config", file.to_str().unwrap(), "--server", "demo"]).await;
    let state = wait_connected(&scope).await;
    assert_eq!(state["serverInfo"]["name"], "mcpscope-demo", "{state}");
}

#[tokio::test]
async fn a_command_that_cannot_start_fails_visibly() {
    let scope = Scope::start().await;
    let (status, session) = scope
        .post(
            "/api/session/connect",
            json!({"command": "/nonexistent/mcp-server"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(session["state"], "failed");
    assert!(
        session["error"]
            .as_str()
            .unwrap()
            .contains("/nonexistent/mcp-server"),
        "{session}"
    );
    let (status, body) = scope.request("ping", json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["kind"], "not_connected");

    // A process that exits before answering initialize fails the connect, with its stderr.
    let (_, session) = scope
        .post(
            "/api/session/connect",
            json!({"command": "sh", "args": ["-c", "echo no config found >&2; exit 4"]}),
        )
        .await;
    assert_eq!(session["state"], "failed");
    assert!(
        session["error"]
            .as_str()
            .unwrap()
            .contains("no config found"),
        "{session}"
    );
}

#[tokio::test]
async fn bad_bodies_are_400_with_the_error_shape() {
    let scope = Scope::start().await;
    for (path, body) in [
        (
            "/api/session/connect",
            json!({"transport": "carrier-pigeon"}),
        ),
        ("/api/session/connect", json!({"transport": "stdio"})),
        ("/api/request", json!({"params": {}})),
        ("/api/request", json!({"method": "x", "params": [1]})),
        ("/api/cancel", json!({"reason": "no id"})),
    ] {
        let (status, answer) = scope.post(path, body.clone()).await;
        assert_eq!(status, 400, "{path} {body}: {answer}");
        assert_eq!(answer["error"]["kind"], "bad_request");
        assert!(answer["error"]["message"].is_string());
    }
}

#[tokio::test]
async fn cancel_fails_the_call_at_once_and_tells_the_server() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope.connect(demo_target()).await;
    let call = scope.post(
        "/api/request",
        json!({"method": "tools/call", "params": {"name": "count_slowly", "arguments": {"steps": 100, "delayMs": 100}}}),
    );
    let cancel = async {
        let p = events.wait_for("first progress", kind("progress")).await;
        let id = p["requestId"].clone();
        let (status, _) = scope
            .post("/api/cancel", json!({"requestId": id, "reason": "enough"}))
            .await;
        assert_eq!(status, 202);
        id
    };
    let started = Instant::now();
    let ((status, body), id) = tokio::join!(call, cancel);
    assert_eq!(status, 499, "{body}");
    assert_eq!(body["error"]["kind"], "cancelled");
    assert!(started.elapsed() < Duration::from_secs(8));
    let sent = events
        .wait_for(
            "cancel on the wire",
            frame("sent", "notifications/cancelled"),
        )
        .await;
    assert_eq!(
        sent["message"]["params"],
        json!({"requestId": id, "reason": "enough"})
    );
    let (status, _) = scope.post("/api/cancel", json!({"requestId": id})).await;
    assert_eq!(status, 404, "not in flight any more");
}

#[tokio::test]
async fn notify_sends_a_notification_frame() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope.connect(demo_target()).await;
    let (status, _) = scope
        .post(
            "/api/notify",
            json!({"method": "notifications/roots/list_changed"}),
        )
        .await;
    assert_eq!(status, 202);
    let sent = events
        .wait_for(
            "notification",
            frame("sent", "notifications/roots/list_changed"),
        )
        .await;
    assert_eq!(
        sent["message"],
        json!({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"})
    );
}

#[tokio::test]
async fn events_replay_after_since_and_last_event_id_then_tail() {
    let scope = Scope::start().await;
    scope.connect(demo_target()).await;
    let mut all = scope.events().await;
    let first = all.wait_for("any", |_| true).await;
    assert_eq!(first["seq"], 1);
    assert!(first["time"].as_str().unwrap().ends_with('Z'));
    let connected = all.wait_for("connected", state("connected")).await;
    let seq = connected["seq"].as_u64().unwrap();

    let mut later = scope.events_since(seq).await;
    scope.result("ping", json!({})).await;
    let next = later.wait_for("next", |_| true).await;
    assert_eq!(
        next["seq"].as_u64(),
        Some(seq + 1),
        "replay starts right after since"
    );

    let res = scope
        .http
        .get(scope.url(&format!("/api/events?token={}", scope.token)))
        .header("Last-Event-ID", seq.to_string())
        .send()
        .await
        .unwrap();
    let body = res.bytes_stream();
    let mut resumed = body;
    let chunk = futures_util::StreamExt::next(&mut resumed)
        .await
        .unwrap()
        .unwrap();
    let mut text = String::from_utf8_lossy(&chunk).into_owned();
    while !text.contains("id: ") {
        let chunk = futures_util::StreamExt::next(&mut resumed)
            .await
            .unwrap()
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.contains(&format!("id: {}\n", seq + 1)), "{text}");
    assert!(!text.contains(&format!("id: {seq}\n")));
}

// See: a session stuck in the handshake must not hold Disconnect hostage for the handshake
// timeout (found in review: the lifecycle lock used to span the whole handshake).
#[tokio::test]
async fn disconnect_ends_a_session_that_hangs_while_connecting() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    // `sleep` never reads stdin, so initialize is never answered.
    let connect = scope.post(
        "/api/session/connect",
        json!({"command": "sleep", "args": ["60"]}),
    );
    let disconnect = async {
        events.wait_for("connecting", state("connecting")).await;
        let started = Instant::now();
        let answer = scope.post("/api/session/disconnect", json!({})).await;
        (answer, started.elapsed())
    };
    let ((status, session), ((d_status, d_session), took)) = tokio::join!(connect, disconnect);
    assert_eq!(status, 200);
    assert_eq!(d_status, 200);
    assert_eq!(d_session["state"], "disconnected");
    assert_eq!(
        session["state"], "disconnected",
        "connect reports how it ended: {session}"
    );
    assert!(took < Duration::from_secs(10), "disconnect took {took:?}");
}

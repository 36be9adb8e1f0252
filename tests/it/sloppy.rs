//! Against a deliberately sloppy stdio server: every fault must become a finding, an exit or a
//! timeout — never a crash, a hang or a silently dropped frame.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

fn finding_containing(text: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["kind"] == "finding" && e["message"].as_str().unwrap_or("").contains(text)
}

async fn sloppy() -> (Scope, Events) {
    let scope = Scope::start().await;
    let events = scope.events().await;
    scope.connect(python_target("sloppy_server.py")).await;
    (scope, events)
}

#[tokio::test]
async fn junk_on_stdout_and_early_notifications_are_shown_not_fatal() {
    let (scope, mut events) = sloppy().await;
    let junk = events
        .wait_for("the start-up junk line", |e| {
            e["kind"] == "frame"
                && e["raw"]
                    .as_str()
                    .is_some_and(|r| r.starts_with("sloppy server starting"))
        })
        .await;
    let finding = events
        .wait_for("a not-JSON finding", finding_containing("not JSON"))
        .await;
    assert_eq!(finding["frameSeq"], junk["seq"]);
    assert_eq!(finding["severity"], "error");

    // The notification sent before the initialize answer is a frame like any other.
    let early = events
        .wait_for(
            "early notification",
            frame("received", "notifications/tools/list_changed"),
        )
        .await;
    let connected = events.wait_for("connected", state("connected")).await;
    assert!(early["seq"].as_u64() < connected["seq"].as_u64());
    assert_eq!(
        scope.get("/api/session").await.1["serverInfo"]["version"],
        ""
    );
}

#[tokio::test]
async fn non_json_and_invalid_utf8_frames_become_findings() {
    let (scope, mut events) = sloppy().await;
    let result = scope.result("tools/call", json!({"name": "junk"})).await;
    assert_eq!(first_text(&result), "junk sent");
    let raw = events
        .wait_for("raw junk frame", |e| {
            e["kind"] == "frame" && e["raw"] == "DEBUG: this is not JSON"
        })
        .await;
    assert_eq!(raw["direction"], "received");
    let log = events
        .wait_for(
            "the log line, still delivered",
            frame("received", "notifications/message"),
        )
        .await;
    assert_eq!(log["message"]["params"]["data"], "caf\u{fffd}");
    let finding = events
        .wait_for("UTF-8 finding", finding_containing("invalid UTF-8"))
        .await;
    assert_eq!(finding["frameSeq"], log["seq"]);
}

#[tokio::test]
async fn stray_and_duplicate_responses_are_named() {
    let (scope, mut events) = sloppy().await;
    let result = scope.result("tools/call", json!({"name": "stray"})).await;
    assert_eq!(first_text(&result), "stray sent", "the first answer wins");
    events
        .wait_for(
            "stray finding",
            finding_containing("987654, which mcpscope never sent"),
        )
        .await;
    let stray = events
        .wait_for(
            "stray progress finding",
            finding_containing("\"never-issued\", which belongs to no request in flight"),
        )
        .await;
    let progress = events
        .wait_for("the stray progress", kind("progress"))
        .await;
    assert_eq!(progress["requestId"], Value::Null, "{progress}");
    assert!(progress.get("after").is_none(), "{progress}");
    assert_eq!(progress["seq"], stray["seq"].as_u64().unwrap() + 1);
    events
        .wait_for(
            "duplicate finding",
            finding_containing("duplicate response"),
        )
        .await;
    // The session carries on.
    scope.result("ping", json!({})).await;
}

#[tokio::test]
async fn server_pings_are_answered_and_undeclared_or_unknown_server_requests_refused() {
    let scope = Scope::start().await;
    let mut target = python_target("sloppy_server.py");
    // Nothing declared: sampling must be refused the way a client without it refuses it.
    target["clientCapabilities"] = json!({});
    scope.connect(target).await;
    let result = scope
        .result("tools/call", json!({"name": "ping_client"}))
        .await;
    let answers: Value = serde_json::from_str(&first_text(&result)).unwrap();
    // Its id 1 collides with our own first id; the answer must echo the server's id.
    assert_eq!(
        answers["ping"],
        json!({"jsonrpc": "2.0", "id": 1, "result": {}})
    );
    assert_eq!(answers["sampling"]["id"], 2);
    assert_eq!(answers["sampling"]["error"]["code"], -32601);
    assert_eq!(answers["unknown"]["id"], "x");
    assert_eq!(answers["unknown"]["error"]["code"], -32601);
}

#[tokio::test]
async fn responses_out_of_order_reach_their_callers() {
    let (scope, _events) = sloppy().await;
    let slow = scope.request("tools/call", json!({"name": "slow"}));
    let fast = async {
        // Give the slow call a head start without sleeping blindly: wait until it is on the wire.
        let mut events = scope.events().await;
        events
            .wait_for("slow call sent", frame("sent", "tools/call"))
            .await;
        scope.request("tools/call", json!({"name": "fast"})).await
    };
    let ((s1, slow), (s2, fast)) = tokio::join!(slow, fast);
    assert_eq!((s1.as_u16(), s2.as_u16()), (200, 200));
    assert_eq!(first_text(&slow["result"]), "slow");
    assert_eq!(first_text(&fast["result"]), "fast");
}

#[tokio::test]
async fn a_hanging_call_times_out_with_504_and_a_cancel_on_the_wire() {
    let (scope, mut events) = sloppy().await;
    let (status, body) = scope
        .post(
            "/api/request",
            json!({"method": "tools/call", "params": {"name": "hang"}, "timeoutMs": 300}),
        )
        .await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["error"]["kind"], "timeout");
    let cancel = events
        .wait_for(
            "notifications/cancelled",
            frame("sent", "notifications/cancelled"),
        )
        .await;
    let call = events
        .seen
        .iter()
        .rev()
        .find(|e| e["method"] == "tools/call" && e["direction"] == "sent")
        .unwrap();
    assert_eq!(cancel["message"]["params"]["requestId"], call["id"]);
    scope.result("ping", json!({})).await;
}

#[tokio::test]
async fn a_crash_mid_call_fails_every_waiting_call_at_once() {
    let (scope, mut events) = sloppy().await;
    let started = Instant::now();
    let hang = scope.request("tools/call", json!({"name": "hang"}));
    let crash = async {
        let mut ev = scope.events().await;
        ev.wait_for("hang sent", frame("sent", "tools/call")).await;
        scope.request("tools/call", json!({"name": "crash"})).await
    };
    let ((s1, b1), (s2, b2)) = tokio::join!(hang, crash);
    assert_eq!(s1, 502, "{b1}");
    assert_eq!(s2, 502, "{b2}");
    assert_eq!(b2["error"]["kind"], "transport");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "failed at once, not at the timeout"
    );
    events
        .wait_for(
            "stderr before the crash",
            stderr_line("sloppy: crashing now"),
        )
        .await;
    let exit = events.wait_for("exit", kind("exit")).await;
    assert_eq!(exit["code"], 3);
    let failed = events.wait_for("failed state", state("failed")).await;
    assert!(
        failed["error"].as_str().unwrap().contains("crashing now"),
        "{failed}"
    );
    // mcpscope itself keeps answering.
    let (status, session) = scope.get("/api/session").await;
    assert_eq!(
        (status.as_u16(), session["state"].as_str()),
        (200, Some("failed"))
    );
    let (status, body) = scope.request("ping", json!({})).await;
    assert_eq!(status, 409, "{body}");
}

#[tokio::test]
async fn a_frame_of_many_megabytes_streams_through() {
    let (scope, mut events) = sloppy().await;
    let result = scope
        .result(
            "tools/call",
            json!({"name": "big", "arguments": {"mb": 40}}),
        )
        .await;
    assert_eq!(first_text(&result).len(), 40 * 1024 * 1024);
    let frame = events
        .wait_for("the big frame", |e| {
            e["kind"] == "frame"
                && e["frameType"] == "response"
                && e["requestMethod"] == "tools/call"
        })
        .await;
    assert!(frame["bytes"].as_u64().unwrap() > 40 * 1024 * 1024);
    // The caller's answer is the frame's result exactly (taken from the text the ring keeps).
    assert!(
        frame["message"]["result"] == result,
        "the answer differs from the frame"
    );
}

#[tokio::test]
async fn an_answer_past_the_frame_limit_fails_its_call_at_once_and_the_session_goes_on() {
    let (scope, mut events) = sloppy().await;
    let started = Instant::now();
    let (status, body) = scope
        .post(
            "/api/request",
            json!({"method": "tools/call", "params": {"name": "huge", "arguments": {"mb": 600}}, "timeoutMs": 600000}),
        )
        .await;
    assert_eq!(status, 502, "{body}");
    let why = body["error"]["message"].as_str().unwrap_or_default();
    assert!(why.contains("exceeded the 536870912 byte limit"), "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "not at its timeout"
    );
    events
        .wait_for("the finding", |e| {
            e["kind"] == "finding" && e["message"].as_str().unwrap_or("").contains("629145")
        })
        .await;
    let result = scope.result("tools/call", json!({"name": "fast"})).await;
    assert!(result.is_object(), "the session goes on: {result}");
}

#[tokio::test]
async fn a_server_that_ignores_eof_and_sigterm_is_killed_on_disconnect() {
    let (scope, mut events) = sloppy().await;
    let call = scope.request("tools/call", json!({"name": "stubborn"}));
    let disconnect = async {
        events
            .wait_for(
                "it ignores SIGTERM",
                stderr_line("sloppy: ignoring SIGTERM now"),
            )
            .await;
        let started = Instant::now();
        let (status, session) = scope.post("/api/session/disconnect", json!({})).await;
        (status, session, started.elapsed())
    };
    let ((call_status, call_body), (status, session, took)) = tokio::join!(call, disconnect);
    assert_eq!(status, 200);
    assert_eq!(session["state"], "disconnected");
    assert_eq!(call_status, 502, "the waiting call fails: {call_body}");
    let exit = events.wait_for("exit", kind("exit")).await;
    assert_eq!(exit["signal"], 9, "SIGKILL was needed: {exit}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_never_stalls_the_session_and_learns_it_lagged() {
    let scope = Scope::start_with(&["--max-events", "50"]).await;
    let mut stalled = scope.events().await;
    scope.connect(python_target("sloppy_server.py")).await;
    // 30 MB in one event: far more than the socket buffers hold, so this reader is stuck.
    scope
        .result(
            "tools/call",
            json!({"name": "big", "arguments": {"mb": 30}}),
        )
        .await;
    for _ in 0..60 {
        scope.result("ping", json!({})).await;
    }
    // Now it reads again: it is told what it missed, then carries on to the newest events.
    let lagged = stalled.wait_for("lagged marker", kind("lagged")).await;
    assert!(lagged["missed"].as_u64().unwrap() > 0, "{lagged}");
    let next = stalled
        .wait_for("an event after the gap", |e| e.get("seq").is_some())
        .await;
    assert_eq!(
        next["seq"],
        lagged["from"].as_u64().unwrap() + lagged["missed"].as_u64().unwrap()
    );

    // A subscriber that asks for history older than the ring gets the same marker first.
    let mut late = scope.events_since(1).await;
    let first = late.wait_for("anything", |_| true).await;
    assert_eq!(first["kind"], "lagged", "{first}");
}

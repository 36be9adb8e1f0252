//! Against @modelcontextprotocol/server-everything (npm) over stdio: the reference server that
//! exercises every feature.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn lists_and_calls_tools_reads_a_resource_and_completes() {
    let scope = Scope::start().await;
    let session = scope.connect(everything_target()).await;
    assert_eq!(session["protocolVersion"], "2025-11-25");
    assert!(session["serverInfo"]["name"].is_string());
    assert!(session["capabilities"]["tools"].is_object());

    let tools = scope.result("tools/list", json!({})).await;
    let names: Vec<&str> = tools["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for expected in [
        "echo",
        "get-sum",
        "get-tiny-image",
        "trigger-long-running-operation",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }

    let sum = scope
        .result(
            "tools/call",
            json!({"name": "get-sum", "arguments": {"a": 2, "b": 3}}),
        )
        .await;
    assert!(first_text(&sum).contains('5'), "{sum}");

    let resources = scope.result("resources/list", json!({})).await;
    let uri = resources["resources"][0]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(uri.starts_with("demo://resource/"), "{uri}");
    let read = scope.result("resources/read", json!({"uri": uri})).await;
    assert_eq!(read["contents"][0]["uri"], uri);

    let completion = scope
        .result(
            "completion/complete",
            json!({
                "ref": {"type": "ref/prompt", "name": "completable-prompt"},
                "argument": {"name": "department", "value": "E"},
            }),
        )
        .await;
    assert_eq!(completion["completion"]["values"], json!(["Engineering"]));
}

#[tokio::test]
async fn a_server_error_is_relayed_as_200_with_the_servers_error() {
    let scope = Scope::start().await;
    scope.connect(everything_target()).await;
    let (status, body) = scope.request("no/such-method", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["error"]["code"], -32601, "{body}");
    assert!(body.get("result").is_none());
}

#[tokio::test]
async fn progress_is_tied_to_the_request_that_asked_for_it() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope.connect(everything_target()).await;
    let res = scope
        .http
        .post(scope.url("/api/request"))
        .bearer_auth(&scope.token)
        .json(&json!({"method": "tools/call", "params": {"name": "trigger-long-running-operation", "arguments": {"duration": 0.6, "steps": 3}}}))
        .send()
        .await
        .unwrap();
    let id: i64 = res.headers()["x-mcpscope-request-id"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let (status, body) = decode(res).await;
    assert_eq!(status, 200, "{body}");
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let p = events.wait_for("progress", kind("progress")).await;
        assert_eq!(p["requestId"], id, "{p}");
        assert_eq!(p["progressToken"], format!("mcpscope-{id}"));
        seen.push(p["progress"].as_f64().unwrap());
    }
    assert_eq!(seen, [1.0, 2.0, 3.0]);
}

/// With roots declared, server-everything asks for them at once; returns that pending request.
async fn connect_declaring_roots() -> (Scope, Events, serde_json::Value) {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let mut target = everything_target();
    target["clientCapabilities"] = json!({"roots": {"listChanged": true}});
    scope.connect(target).await;
    let pending = events.wait_for("pending roots/list", kind("pending")).await;
    (scope, events, pending)
}

#[tokio::test]
async fn server_requests_queue_and_the_server_that_ignores_eof_is_still_shut_down() {
    let (scope, mut events, pending) = connect_declaring_roots().await;
    assert_eq!(pending["method"], "roots/list");
    let (_, list) = scope.get("/api/pending").await;
    assert_eq!(list[0]["id"], pending["id"]);

    // Leave it unanswered: server-everything then ignores stdin EOF, so disconnect needs the
    // SIGTERM step. It must still finish promptly.
    let started = std::time::Instant::now();
    let (status, session) = scope.post("/api/session/disconnect", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(session["state"], "disconnected");
    let exit = events.wait_for("exit", kind("exit")).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "{exit}"
    );
    let (_, list) = scope.get("/api/pending").await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn answering_a_pending_request_reaches_the_server() {
    let (scope, mut events, pending) = connect_declaring_roots().await;
    let id = pending["id"].as_str().unwrap();
    let roots = json!({"roots": [{"uri": "file:///tmp/mcpscope-root", "name": "scratch"}]});
    let (status, body) = scope
        .post(&format!("/api/pending/{id}"), json!({"result": roots}))
        .await;
    assert_eq!(status, 200, "{body}");
    let reply = events
        .wait_for("our answer", |e| {
            e["kind"] == "frame" && e["direction"] == "sent" && e["frameType"] == "response"
        })
        .await;
    assert_eq!(reply["message"]["result"], roots);
    assert_eq!(reply["message"]["id"], reply["id"]);
    let (status, _) = scope
        .post(&format!("/api/pending/{id}"), json!({"result": {}}))
        .await;
    assert_eq!(status, 404, "answered twice");
}

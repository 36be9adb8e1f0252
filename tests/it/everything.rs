//! Against @modelcontextprotocol/server-everything (npm) over stdio: the reference server that
//! exercises every feature.

use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn lists_and_calls_tools_reads_a_resource_and_completes() {
    let scope = Scope::start().await;
    let session = scope.connect(everything_target()).await;
    assert_eq!(session["protocolVersion"], "2025-11-25");
    assert!(session["serverInfo"]["name"].is_string());
    assert!(session["capabilities"]["tools"].is_object());

    let names = scope.tool_names().await;
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
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
        .spawn_request(json!({"method": "tools/call", "params": {"name": "trigger-long-running-operation", "arguments": {"duration": 0.6, "steps": 3}}}))
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

/// The session object lists the resources the server accepted subscriptions to: added by a
/// successful subscribe, removed by unsubscribe, announced in `state` events, and empty again
/// on a new connection.
#[tokio::test]
async fn resource_subscriptions_are_session_state() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let session = scope.connect(everything_target()).await;
    assert_eq!(session["subscriptions"], json!([]));
    let id = session["id"].as_str().unwrap();
    let resources = scope.result("resources/list", json!({})).await;
    let uri = resources["resources"][0]["uri"].clone();
    let path = format!("/api/sessions/{id}/request");
    let ask =
        |method: &'static str| scope.post(&path, json!({"method": method, "params": {"uri": uri}}));
    let subscriptions =
        |want: Value| move |e: &Value| e["kind"] == "state" && e["subscriptions"] == want;

    let (status, body) = ask("resources/subscribe").await;
    assert_eq!(
        (status.as_u16(), &body["result"]),
        (200, &json!({})),
        "{body}"
    );
    events
        .wait_for(
            "a state event with the subscription",
            subscriptions(json!([uri])),
        )
        .await;
    let (_, info) = scope.get(&format!("/api/sessions/{id}")).await;
    assert_eq!(info["subscriptions"], json!([uri]), "{info}");
    // Subscribing again changes nothing: no duplicate.
    ask("resources/subscribe").await;
    assert_eq!(
        scope.get("/api/session").await.1["subscriptions"],
        json!([uri])
    );

    let (status, body) = ask("resources/unsubscribe").await;
    assert_eq!(status, 200, "{body}");
    events
        .wait_for("a state event without it", subscriptions(json!([])))
        .await;
    let (_, info) = scope.get(&format!("/api/sessions/{id}")).await;
    assert_eq!(info["subscriptions"], json!([]), "{info}");

    ask("resources/subscribe").await;
    let (status, info) = scope.post("/api/session/reconnect", json!({})).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["state"], "connected", "{info}");
    assert_eq!(
        info["subscriptions"],
        json!([]),
        "a new connection starts with none"
    );
}

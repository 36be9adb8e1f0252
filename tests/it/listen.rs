//! The modern era's `subscriptions/listen` against the Python SDK 2.x: the stream opens by
//! itself once the session is established, list changes and resource updates arrive on it named
//! by its subscription id, Subscribe and Unsubscribe open a new stream with the new filter (and
//! close the old one), and a stream that drops (the server restarting) is listened to again.

use serde_json::{Value, json};

use crate::eras::{modern_http, modern_http_on, modern_stdio, with_era};
use crate::support::*;

fn listen_state(s: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["kind"] == "state" && e["listen"]["state"] == s
}

fn subscription_id(e: &Value) -> Value {
    e["message"]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"].clone()
}

#[tokio::test]
async fn list_changes_and_resource_updates_arrive_on_the_listen_stream() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope.connect(with_era(modern_stdio(), "modern")).await;
    let sent = events
        .wait_for("the listen request", frame("sent", "subscriptions/listen"))
        .await;
    let listening = events
        .wait_for("the stream acknowledged", listen_state("listening"))
        .await;
    let listen = &listening["listen"];
    assert_eq!(listen["acknowledged"]["toolsListChanged"], true, "{listen}");
    let first = listen["requestId"].clone();
    assert_eq!(sent["id"], first);
    assert!(
        scope
            .get("/api/inflight")
            .await
            .1
            .as_array()
            .unwrap()
            .is_empty(),
        "the stream is not a call waiting for an answer"
    );

    // A list change rides the stream, named by it.
    let grown = scope
        .result("tools/call", json!({"name": "grow", "arguments": {}}))
        .await;
    assert_eq!(first_text(&grown), "extra_1");
    let changed = events
        .wait_for(
            "tools/list_changed",
            frame("received", "notifications/tools/list_changed"),
        )
        .await;
    assert_eq!(subscription_id(&changed), first);
    assert!(scope.tool_names().await.contains(&"extra_1".to_owned()));

    // Subscribe: a new stream with the resource in its filter; the old one is closed.
    let (status, answer) = scope
        .post("/api/subscriptions", json!({"uri": "memo://greeting"}))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["result"]["acknowledged"]["resourceSubscriptions"],
        json!(["memo://greeting"])
    );
    let (_, session) = scope.get("/api/session").await;
    assert_eq!(session["subscriptions"], json!(["memo://greeting"]));
    let second = session["listen"]["requestId"].clone();
    assert_ne!(second, first);
    let closed = events
        .wait_for(
            "the old stream closed",
            frame("sent", "notifications/cancelled"),
        )
        .await;
    assert_eq!(closed["message"]["params"]["requestId"], first);

    scope
        .result(
            "tools/call",
            json!({"name": "touch_memo", "arguments": {"text": "changed"}}),
        )
        .await;
    let updated = events
        .wait_for(
            "resources/updated",
            frame("received", "notifications/resources/updated"),
        )
        .await;
    assert_eq!(updated["message"]["params"]["uri"], "memo://greeting");
    assert_eq!(subscription_id(&updated), second);

    // Unsubscribe: the resource leaves the filter and the session object.
    let (status, answer) = scope
        .delete("/api/subscriptions", json!({"uri": "memo://greeting"}))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["result"]["acknowledged"]
            .get("resourceSubscriptions")
            .is_none()
    );
    let (_, session) = scope.get("/api/session").await;
    assert_eq!(session["subscriptions"], json!([]));

    // Nothing above was out of place.
    let mut replay = scope.events_since(0).await;
    while let Some(e) = replay
        .next(std::time::Instant::now() + std::time::Duration::from_millis(300))
        .await
    {
        assert!(
            !(e["kind"] == "finding" && e["message"].as_str().unwrap_or("").contains("listen")),
            "{e}"
        );
    }
}

#[tokio::test]
async fn a_dropped_http_stream_is_listened_to_again() {
    let mut peer = modern_http().await;
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope
        .connect(json!({"transport": "http", "url": peer.url("/mcp"), "era": "modern"}))
        .await;
    let exchange = events
        .wait_for("the listen POST", |e| {
            e["kind"] == "http" && e["carries"]["method"] == "subscriptions/listen"
        })
        .await;
    events
        .wait_for("the stream acknowledged", listen_state("listening"))
        .await;
    assert_eq!(
        exchange["requestHeaders"]["mcp-method"],
        "subscriptions/listen"
    );

    // The server restarts: the stream drops, and comes back once the server does.
    let port = peer.port;
    peer.child.kill().await.unwrap();
    let dropped = events
        .wait_for("the stream dropped", listen_state("dropped"))
        .await;
    assert!(
        dropped["listen"]["reason"]
            .as_str()
            .unwrap()
            .contains("listening again"),
        "{dropped}"
    );
    let _peer = modern_http_on(port).await;
    let again = events
        .wait_for("listening again", listen_state("listening"))
        .await;
    assert_ne!(again["listen"]["requestId"], dropped["listen"]["requestId"]);
    let grown = scope
        .result("tools/call", json!({"name": "grow", "arguments": {}}))
        .await;
    assert_eq!(first_text(&grown), "extra_1", "a fresh server");
    let changed = events
        .wait_for(
            "tools/list_changed",
            frame("received", "notifications/tools/list_changed"),
        )
        .await;
    assert_eq!(subscription_id(&changed), again["listen"]["requestId"]);
}

#[tokio::test]
async fn a_legacy_session_subscribes_through_the_same_route() {
    let scope = Scope::start().await;
    scope.connect(everything_target()).await;
    let uri = "demo://resource/static/document/features.md";
    let (status, answer) = scope.post("/api/subscriptions", json!({"uri": uri})).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.get("result").is_some(), "{answer}");
    let (_, session) = scope.get("/api/session").await;
    assert_eq!(session["subscriptions"], json!([uri]));
    assert!(session.get("listen").is_none());
    let (status, _) = scope
        .delete("/api/subscriptions", json!({"uri": uri}))
        .await;
    assert_eq!(status, 200);
    let (_, session) = scope.get("/api/session").await;
    assert_eq!(session["subscriptions"], json!([]));
    let (status, _) = scope.post("/api/listen", json!({})).await;
    assert_eq!(
        status, 202,
        "a legacy session has nothing to re-listen, and that is fine"
    );
}

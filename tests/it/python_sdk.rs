//! Against a Python SDK (mcp 1.x, FastMCP) server written the way the SDK's README does.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn fastmcp_tool_resource_template_and_prompt() {
    let scope = Scope::start().await;
    let session = scope.connect(python_target("fastmcp_server.py")).await;
    assert_eq!(session["serverInfo"]["name"], "Demo");

    let tools = scope.result("tools/list", json!({})).await;
    assert_eq!(tools["tools"][0]["name"], "add");
    assert_eq!(tools["tools"][1]["name"], "summarize");
    let sum = scope
        .result(
            "tools/call",
            json!({"name": "add", "arguments": {"a": 20, "b": 22}}),
        )
        .await;
    assert_eq!(first_text(&sum), "42");

    let templates = scope.result("resources/templates/list", json!({})).await;
    assert_eq!(
        templates["resourceTemplates"][0]["uriTemplate"],
        "greeting://{name}"
    );
    let read = scope
        .result("resources/read", json!({"uri": "greeting://Ada"}))
        .await;
    assert_eq!(read["contents"][0]["text"], "Hello, Ada!");

    let prompt = scope
        .result(
            "prompts/get",
            json!({"name": "greet_user", "arguments": {"name": "Ada", "style": "formal"}}),
        )
        .await;
    let text = prompt["messages"][0]["content"]["text"].as_str().unwrap();
    assert!(text.contains("formal") && text.contains("Ada"), "{text}");

    // A tool error from the SDK comes back as a result with isError, not a transport failure.
    let bad = scope
        .result(
            "tools/call",
            json!({"name": "add", "arguments": {"a": "x"}}),
        )
        .await;
    assert_eq!(bad["isError"], true, "{bad}");
}

#[tokio::test]
async fn fastmcp_sampling_is_answered_by_a_mock_rule() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let (status, _) = scope
        .put(
            "/api/responders",
            json!({"sampling": {"mode": "mock", "rules": [{
                "match": "^Summarize this: ",
                "response": {"role": "assistant", "content": {"type": "text", "text": "short version"}, "model": "mock-summarizer", "stopReason": "endTurn"},
            }]}}),
        )
        .await;
    assert_eq!(status, 200);
    scope.connect(python_target("fastmcp_server.py")).await;
    let result = scope
        .result(
            "tools/call",
            json!({"name": "summarize", "arguments": {"text": "a very long story"}}),
        )
        .await;
    assert_eq!(first_text(&result), "mock-summarizer: short version");
    let request = events
        .wait_for(
            "the SDK's sampling request",
            frame("received", "sampling/createMessage"),
        )
        .await;
    assert_eq!(request["message"]["params"]["maxTokens"], 100);
    let answer = events
        .wait_for("the mocked answer", |e| {
            e["kind"] == "frame" && e["answeredBy"]["responder"] == "mock"
        })
        .await;
    assert_eq!(answer["id"], request["id"]);
}

//! The built-in demo server (`mcpscope demo-server`), driven through mcpscope like any target.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn the_demo_server_offers_tools_resources_prompts_and_completion() {
    let scope = Scope::start().await;
    let session = scope.connect(demo_target()).await;
    assert!(session["capabilities"]["completions"].is_object());

    let tools = scope.result("tools/list", json!({})).await;
    assert_eq!(tools["tools"].as_array().unwrap().len(), 4);
    let add = scope
        .result(
            "tools/call",
            json!({"name": "add", "arguments": {"a": 1.5, "b": 2}}),
        )
        .await;
    assert_eq!(add["structuredContent"]["sum"], 3.5);
    let fail = scope
        .result("tools/call", json!({"name": "fail", "arguments": {}}))
        .await;
    assert_eq!(fail["isError"], true);

    let read = scope
        .result("resources/read", json!({"uri": "demo://items/item-3"}))
        .await;
    assert!(
        read["contents"][0]["text"]
            .as_str()
            .unwrap()
            .contains("item-3")
    );
    let missing = scope
        .request("resources/read", json!({"uri": "demo://nope"}))
        .await
        .1;
    assert_eq!(missing["error"]["code"], -32002);

    let ids = scope
        .result("completion/complete", json!({"ref": {"type": "ref/resource", "uri": "demo://items/{id}"}, "argument": {"name": "id", "value": "item-1"}}))
        .await;
    assert_eq!(
        ids["completion"]["values"].as_array().unwrap().len(),
        11,
        "item-1 and item-10..19"
    );
    let styles = scope
        .result("completion/complete", json!({"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "style", "value": "p"}}))
        .await;
    assert_eq!(styles["completion"]["values"], json!(["pirate", "poetic"]));
    let prompt = scope
        .result(
            "prompts/get",
            json!({"name": "greet", "arguments": {"name": "Ada", "style": "pirate"}}),
        )
        .await;
    assert_eq!(
        prompt["messages"][0]["content"]["text"],
        "Greet Ada in a pirate style."
    );
}

#[tokio::test]
async fn the_demo_progress_tool_reports_progress_and_a_log_line() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope.connect(demo_target()).await;
    let result = scope
        .result(
            "tools/call",
            json!({"name": "count_slowly", "arguments": {"steps": 3, "delayMs": 10}}),
        )
        .await;
    assert_eq!(first_text(&result), "counted to 3");
    events
        .wait_for("log line", frame("received", "notifications/message"))
        .await;
    let last = events
        .wait_for("last progress", |e| {
            e["kind"] == "progress" && e["progress"] == 3
        })
        .await;
    assert_eq!(last["total"], 3);
    assert!(last["requestId"].is_i64());
}

#[tokio::test]
async fn large_request_bodies_reach_the_server() {
    let scope = Scope::start().await;
    scope.connect(demo_target()).await;
    let message = "m".repeat(5 * 1024 * 1024);
    let result = scope
        .result(
            "tools/call",
            json!({"name": "echo", "arguments": {"message": message}}),
        )
        .await;
    assert_eq!(first_text(&result).len(), message.len());
}

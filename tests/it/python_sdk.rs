//! Against a Python SDK (mcp 1.x, FastMCP) server written the way the SDK's README does.

use serde_json::{Value, json};

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

#[tokio::test]
async fn one_session_answers_sampling_by_its_own_rules_while_another_follows_everyones() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let mut ids = Vec::new();
    for name in ["mine", "theirs"] {
        let mut target = python_target("fastmcp_server.py");
        target["name"] = json!(name);
        let (status, s) = scope.post("/api/sessions", target).await;
        assert_eq!(status, 201, "{s}");
        ids.push(s["id"].as_str().unwrap().to_owned());
    }
    let (mine, theirs) = (&ids[0], &ids[1]);
    let rule = json!({"sampling": {"mode": "mock", "rules": [{
        "match": "^Summarize this: ",
        "response": {"role": "assistant", "content": {"type": "text", "text": "mine only"}, "model": "own-rules", "stopReason": "endTurn"},
    }]}});
    let (status, set) = scope
        .put(&format!("/api/sessions/{mine}/responders"), rule)
        .await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(set["own"], true);
    let (_, theirs_view) = scope
        .get(&format!("/api/sessions/{theirs}/responders"))
        .await;
    assert_eq!(theirs_view["own"], false);
    assert_eq!(theirs_view["settings"]["sampling"]["mode"], "manual");
    let (_, global) = scope.get("/api/responders").await;
    assert_eq!(
        global["sampling"]["mode"], "manual",
        "everyone's settings unchanged"
    );

    let summarize = json!({"method": "tools/call", "params": {"name": "summarize", "arguments": {"text": "a long story"}}});
    let (status, answer) = scope
        .post(&format!("/api/sessions/{mine}/request"), summarize.clone())
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(first_text(&answer["result"]), "own-rules: mine only");

    // The other session's server asks a person, as everyone's settings say.
    let call = {
        let scope_http = scope.http.clone();
        let url = scope.url(&format!("/api/sessions/{theirs}/request"));
        let token = scope.token.clone();
        let body = summarize.clone();
        tokio::spawn(async move {
            scope_http
                .post(url)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .unwrap()
        })
    };
    let pending = events
        .wait_for("their sampling request waiting for a person", |e| {
            e["kind"] == "pending" && e["session"] == theirs.as_str()
        })
        .await;
    let pid = pending["id"].as_str().unwrap();
    let (status, _) = scope
        .post(
            &format!("/api/sessions/{theirs}/pending/{pid}"),
            json!({"result": {"role": "assistant", "content": {"type": "text", "text": "typed"}, "model": "a person", "stopReason": "endTurn"}}),
        )
        .await;
    assert_eq!(status, 200);
    let answered = call.await.unwrap().json::<Value>().await.unwrap();
    assert_eq!(first_text(&answered["result"]), "a person: typed");

    // Back to everyone's: its next request waits for a person too.
    let (status, cleared) = scope
        .delete(&format!("/api/sessions/{mine}/responders"), json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(cleared["own"], false);
    let (status, bad) = scope
        .put(
            &format!("/api/sessions/{mine}/responders"),
            json!({"sampling": {"mode": "mock", "rules": [{"match": "(", "response": {}}]}}),
        )
        .await;
    assert_eq!(status, 400, "a bad rule is refused: {bad}");
}

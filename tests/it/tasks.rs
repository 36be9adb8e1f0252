//! Tasks against real servers: server-everything's legacy (2025-11-25) task tool
//! `simulate-research-query` run as a task, followed by `tasks/get` at the server's poll interval
//! to its report (fetched with `tasks/result`), its mid-task elicitation answered by a mock rule
//! on the `tasks/result` stream, and a task cancelled part-way.

use serde_json::{Value, json};

use crate::support::*;

/// A `task` event for `task_id` that satisfies `pred`.
fn task_event(task_id: &str, pred: impl Fn(&Value) -> bool) -> impl Fn(&Value) -> bool {
    let task_id = task_id.to_owned();
    move |e| e["kind"] == "task" && e["taskId"] == task_id.as_str() && pred(e)
}

/// Connects server-everything and waits for its task tool (registered after `initialized`).
async fn everything_with_tasks(scope: &Scope, events: &mut Events) {
    let session = scope.connect(everything_target()).await;
    assert!(
        session["capabilities"]["tasks"]["requests"]["tools"]["call"].is_object(),
        "{session}"
    );
    events
        .wait_for(
            "the tool list settled",
            frame("received", "notifications/tools/list_changed"),
        )
        .await;
    let tools = scope.result("tools/list", json!({})).await;
    let research = tools["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "simulate-research-query")
        .expect("the task tool")
        .clone();
    assert_eq!(research["execution"]["taskSupport"], "required");
}

async fn start_research(scope: &Scope, arguments: Value) -> String {
    let created = scope
        .result(
            "tools/call",
            json!({"name": "simulate-research-query", "arguments": arguments, "task": {"ttl": 60000}}),
        )
        .await;
    // The call's answer is the CreateTaskResult, exactly as the server sent it.
    assert_eq!(created["task"]["status"], "working", "{created}");
    created["task"]["taskId"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_legacy_task_is_followed_to_its_result() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    everything_with_tasks(&scope, &mut events).await;
    let id = start_research(&scope, json!({"topic": "tides"})).await;
    let created = events
        .wait_for("the task followed", task_event(&id, |_| true))
        .await;
    assert_eq!(created["era"], "legacy");
    assert_eq!(created["subject"], "simulate-research-query");
    assert_eq!(created["pollIntervalMs"], 1000, "the server's pollInterval");
    let poll = events
        .wait_for("a poll", |e| {
            frame("sent", "tasks/get")(e) && e["message"]["params"]["taskId"] == id.as_str()
        })
        .await;
    assert!(poll["message"]["params"].get("_meta").is_none());
    let working = events
        .wait_for(
            "a status message",
            task_event(&id, |e| e["statusMessage"] == "Analyzing content..."),
        )
        .await;
    assert_eq!(working["status"], "working");
    events
        .wait_for("tasks/result", frame("sent", "tasks/result"))
        .await;
    let done = events
        .wait_for(
            "the report",
            task_event(&id, |e| {
                e["status"] == "completed" && !e["outcome"].is_null()
            }),
        )
        .await;
    let report = &done["outcome"]["result"];
    assert!(
        first_text(report).starts_with("# Research Report: tides"),
        "{done}"
    );
    assert!(done["polls"].as_u64().unwrap() >= 2, "{done}");

    let (status, list) = scope.get("/api/tasks").await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["taskId"], id.as_str());
    assert_eq!(list[0]["status"], "completed");
    // A finished task is no longer polled.
    let polls = list[0]["polls"].clone();
    let (status, body) = scope
        .post(&format!("/api/tasks/{id}/cancel"), json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["error"]["code"], -32602,
        "a terminal task cannot be cancelled: {body}"
    );
    let (_, list) = scope.get("/api/tasks").await;
    assert!(list[0]["polls"].as_u64() <= polls.as_u64().map(|p| p + 1));
}

#[tokio::test]
async fn a_legacy_tasks_question_arrives_on_tasks_result_and_a_rule_answers_it() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope
        .put(
            "/api/responders",
            json!({"elicitation": {"mode": "mock", "rules": [
                {"match": "multiple interpretations", "response": {"action": "accept", "content": {"interpretation": "snake"}}}
            ]}}),
        )
        .await;
    everything_with_tasks(&scope, &mut events).await;
    let id = start_research(&scope, json!({"topic": "python", "ambiguous": true})).await;
    events
        .wait_for(
            "input required",
            task_event(&id, |e| e["status"] == "input_required"),
        )
        .await;
    let asked = events
        .wait_for("the question", frame("received", "elicitation/create"))
        .await;
    assert_eq!(
        asked["message"]["params"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
        id.as_str()
    );
    let done = events
        .wait_for(
            "the report",
            task_event(&id, |e| {
                e["status"] == "completed" && !e["outcome"].is_null()
            }),
        )
        .await;
    assert!(
        first_text(&done["outcome"]["result"]).starts_with("# Research Report: python (snake)"),
        "{done}"
    );
}

#[tokio::test]
async fn a_legacy_task_is_cancelled_part_way() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    everything_with_tasks(&scope, &mut events).await;
    let id = start_research(&scope, json!({"topic": "volcanoes"})).await;
    let (status, body) = scope
        .post(&format!("/api/tasks/{id}/cancel"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["status"], "cancelled", "{body}");
    let cancelled = events
        .wait_for("cancelled", task_event(&id, |e| e["status"] == "cancelled"))
        .await;
    assert!(cancelled["outcome"].is_null());
    let (status, _) = scope.post("/api/tasks/nope/cancel", json!({})).await;
    assert_eq!(status, 404);
}

//! Tasks against real servers: server-everything's legacy (2025-11-25) task tool
//! `simulate-research-query` run as a task, followed by `tasks/get` at the server's poll interval
//! to its report (fetched with `tasks/result`), its mid-task elicitation answered by a mock rule
//! on the `tasks/result` stream, and a task cancelled part-way. Then the client as a task
//! receiver: server-everything's async sampling and elicitation hosted as tasks (answered by a
//! rule, by a person, and replayed), and `tests/servers/task_requestor.py` listing and
//! cancelling a hosted task.

use serde_json::{Value, json};

use crate::support::*;

/// A `task` event for `task_id` that satisfies `pred`.
fn task_event(task_id: &str, pred: impl Fn(&Value) -> bool) -> impl Fn(&Value) -> bool {
    let task_id = task_id.to_owned();
    move |e| e["kind"] == "task" && e["taskId"] == task_id.as_str() && pred(e)
}

/// Waits for the task to complete with its outcome known.
async fn completed(events: &mut Events, task_id: &str) -> Value {
    events
        .wait_for(
            "the task completed with its outcome",
            task_event(task_id, |e| {
                e["status"] == "completed" && !e["outcome"].is_null()
            }),
        )
        .await
}

/// Connects server-everything and waits until its tools settle (some are registered after
/// `initialized`, by what the client declared); the session object.
async fn settled_everything(scope: &Scope, events: &mut Events) -> Value {
    let session = scope.connect(everything_target()).await;
    events
        .wait_for(
            "the tool list settled",
            frame("received", "notifications/tools/list_changed"),
        )
        .await;
    session
}

/// Connects server-everything and waits for its task tool (registered after `initialized`).
async fn everything_with_tasks(scope: &Scope, events: &mut Events) {
    let session = settled_everything(scope, events).await;
    assert!(
        session["capabilities"]["tasks"]["requests"]["tools"]["call"].is_object(),
        "{session}"
    );
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
    let done = completed(&mut events, &id).await;
    let report = &done["outcome"]["result"];
    assert!(
        first_text(report).starts_with("# Research Report: tides"),
        "{done}"
    );
    assert!(done["polls"].as_u64().unwrap() >= 2, "{done}");
    // Along the way (in whatever order polls and status notices raced): plain polls, a stage
    // seen, and the outcome fetched with tasks/result.
    let (mut polls, mut stage, mut fetched) = (0, false, false);
    let mut replay = scope.events_since(0).await;
    while let Some(e) = replay
        .next(std::time::Instant::now() + std::time::Duration::from_millis(300))
        .await
    {
        if frame("sent", "tasks/get")(&e) && e["message"]["params"]["taskId"] == id.as_str() {
            assert!(e["message"]["params"].get("_meta").is_none(), "{e}");
            polls += 1;
        }
        stage |= e["kind"] == "task" && e["statusMessage"] == "Analyzing content...";
        fetched |= frame("sent", "tasks/result")(&e);
        // The first status notice races the task's creation; that is no finding.
        assert_ne!(e["kind"], "finding", "{e}");
    }
    assert!(polls >= 2 && stage && fetched, "{polls} {stage} {fetched}");

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
    let done = completed(&mut events, &id).await;
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

/// The hand-written modern tasks server (no installable SDK ships the extension yet).
fn modern_tasks_target() -> Value {
    let script = root().join("tests/servers/modern_tasks_server.py");
    json!({"transport": "stdio", "command": "python3", "args": ["-u", script, ], "era": "modern"})
}

async fn call_tool(scope: &Scope, name: &str, arguments: Value) -> Value {
    scope
        .result("tools/call", json!({"name": name, "arguments": arguments}))
        .await
}

#[tokio::test]
async fn modern_tasks_are_polled_answered_through_tasks_update_and_cancelled() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let session = scope.connect(modern_tasks_target()).await;
    assert_eq!(session["era"], "modern");

    // Completed: the result comes inline in tasks/get.
    let created = call_tool(&scope, "slow_compute", json!({"seconds": 0.4})).await;
    assert_eq!(created["resultType"], "task", "{created}");
    let id = created["taskId"].as_str().unwrap().to_owned();
    let poll = events
        .wait_for("a poll", |e| {
            frame("sent", "tasks/get")(e) && e["message"]["params"]["taskId"] == id.as_str()
        })
        .await;
    assert!(
        poll["message"]["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"]
            ["extensions"]["io.modelcontextprotocol/tasks"]
            .is_object(),
        "every request declares the extension: {poll}"
    );
    let done = events
        .wait_for("completed", task_event(&id, |e| e["status"] == "completed"))
        .await;
    assert_eq!(done["era"], "modern");
    assert_eq!(done["pollIntervalMs"], 200);
    assert_eq!(done["ttlMs"], 60000);
    assert_eq!(first_text(&done["outcome"]["result"]), "computed in 0.4 s");

    // Input required: the question waits in /api/pending, tied to its task; the answer goes
    // back in tasks/update under its key.
    let created = call_tool(&scope, "confirm_delete", json!({"filename": "notes.txt"})).await;
    let id = created["taskId"].as_str().unwrap().to_owned();
    let pending = events.wait_for("the question", kind("pending")).await;
    assert_eq!(pending["taskId"], id.as_str());
    assert_eq!(pending["inputKey"], "confirm-1");
    assert_eq!(pending["params"]["message"], "Delete notes.txt?");
    let (status, _) = scope
        .post(
            &format!("/api/pending/{}", pending["id"].as_str().unwrap()),
            json!({"result": {"action": "accept", "content": {"confirm": true}}}),
        )
        .await;
    assert_eq!(status, 200);
    let update = events
        .wait_for("tasks/update", frame("sent", "tasks/update"))
        .await;
    assert_eq!(
        update["message"]["params"]["inputResponses"]["confirm-1"]["content"]["confirm"],
        true
    );
    let done = events
        .wait_for("deleted", task_event(&id, |e| e["status"] == "completed"))
        .await;
    assert_eq!(first_text(&done["outcome"]["result"]), "deleted notes.txt");
    let (_, pending) = scope.get("/api/pending").await;
    assert_eq!(
        pending,
        json!([]),
        "asked once, however many polls repeat it"
    );

    // Failed: the JSON-RPC error comes inline.
    let created = call_tool(&scope, "protocol_error_job", json!({})).await;
    let id = created["taskId"].as_str().unwrap().to_owned();
    let failed = events
        .wait_for("failed", task_event(&id, |e| e["status"] == "failed"))
        .await;
    assert_eq!(failed["outcome"]["error"]["code"], -32603);

    // Cancelled: an empty ack, then the status says so.
    let created = call_tool(&scope, "slow_compute", json!({"seconds": 30})).await;
    let id = created["taskId"].as_str().unwrap().to_owned();
    let (status, ack) = scope
        .post(&format!("/api/tasks/{id}/cancel"), json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(ack, json!({"result": {"resultType": "complete"}}));
    events
        .wait_for("cancelled", task_event(&id, |e| e["status"] == "cancelled"))
        .await;
}

#[tokio::test]
async fn the_browser_runs_a_task_watches_it_finish_and_cancels_another() {
    use crate::browser::{click, find, ui_with_everything, wait_text};
    use fantoccini::Locator;

    let (scope, b) = ui_with_everything().await;
    let c = &b.client;
    // A required-task tool: the form runs it as a task, and says why the box is fixed.
    c.wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css(
            "button.item[data-item='tool:simulate-research-query']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let option = wait_text(c, "#task-option", "the task option", |t| {
        t.contains("Run as task")
    })
    .await;
    assert!(
        option.contains("execution.taskSupport: required"),
        "{option}"
    );
    let run = find(c, "#run-as-task").await;
    assert_eq!(run.prop("checked").await.unwrap().as_deref(), Some("true"));
    assert_eq!(run.prop("disabled").await.unwrap().as_deref(), Some("true"));
    let topic = find(c, "#tool-form [data-field='topic'] input").await;
    topic.clear().await.unwrap();
    topic.send_keys("coral reefs").await.unwrap();
    click(c, "#call-tool").await;
    let created = wait_text(c, "#result .task-created", "the task's creation", |t| {
        t.starts_with("Task created:")
    })
    .await;
    assert!(created.contains("(working)"), "{created}");

    // Followed in the Tasks tab to its report.
    click(c, "#result .task-created button").await;
    // "1 running" while it runs, "1" once it ended (the task may beat a slow browser).
    wait_text(c, "#tab-tasks", "the count", |t| {
        t.contains("1 running") || t.ends_with('1')
    })
    .await;
    let card = "#task-list li.task-card";
    wait_text(c, &format!("{card} .task-status"), "completed", |t| {
        t == "completed"
    })
    .await;
    let report = wait_text(c, &format!("{card} .task-outcome"), "the report", |t| {
        t.contains("Research Report: coral reefs")
    })
    .await;
    assert!(!report.is_empty());
    let head = find(c, &format!("{card} .task-head"))
        .await
        .text()
        .await
        .unwrap();
    assert!(head.contains("simulate-research-query"), "{head}");

    // Another, cancelled from its card while it runs.
    let (_, made) = scope
        .request(
            "tools/call",
            json!({"name": "simulate-research-query", "arguments": {"topic": "glaciers"}, "task": {"ttl": 60000}}),
        )
        .await;
    let id = made["result"]["task"]["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = format!("#task-list li.task-card[data-task='{id}']");
    c.wait()
        .at_most(DEADLINE)
        .for_element(Locator::Css(&format!("{second} button.task-cancel")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_text(c, &format!("{second} .task-status"), "cancelled", |t| {
        t == "cancelled"
    })
    .await;
    if let Ok(dir) = std::env::var("MCPSCOPE_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&dir).join("tasks.png"), png).unwrap();
    }
    b.close().await;
}

/// The texts of a tool result's text content, joined.
fn texts(result: &Value) -> String {
    result["content"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The task `task_id` as `GET /api/tasks` shows it.
async fn task_view(scope: &Scope, task_id: &str) -> Value {
    let (_, tasks) = scope.get("/api/tasks").await;
    tasks
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["taskId"] == task_id)
        .unwrap_or_else(|| panic!("no task {task_id}: {tasks:#}"))
        .clone()
}

/// server-everything with every client capability mcpscope declares, its tools settled.
async fn everything_as_a_task_receiver(scope: &Scope, events: &mut Events) -> Vec<String> {
    let session = settled_everything(scope, events).await;
    assert!(
        session["clientCapabilities"]["tasks"]["requests"]["sampling"]["createMessage"].is_object(),
        "{session}"
    );
    scope.tool_names().await
}

#[tokio::test]
async fn the_client_runs_a_servers_sampling_as_a_task_and_a_rule_completes_it() {
    let scope = Scope::start().await;
    let (status, _) = scope
        .put(
            "/api/responders",
            json!({"sampling": {"mode": "mock", "rules": [], "default":
                {"role": "assistant", "content": {"type": "text", "text": "sunny, from a rule"},
                 "model": "mock", "stopReason": "endTurn"}}}),
        )
        .await;
    assert_eq!(status, 200);
    let mut events = scope.events().await;
    let tools = everything_as_a_task_receiver(&scope, &mut events).await;
    // Regression: with no client task support declared, these two were not listed (17, not 19).
    for tool in [
        "trigger-sampling-request-async",
        "trigger-elicitation-request-async",
    ] {
        assert!(tools.contains(&tool.to_owned()), "{tool} in {tools:?}");
    }
    let result = scope
        .result(
            "tools/call",
            json!({"name": "trigger-sampling-request-async", "arguments": {"prompt": "weather?"}}),
        )
        .await;
    let text = texts(&result);
    assert!(text.contains("sunny, from a rule"), "{text}");
    assert!(!text.contains("[SYNC]"), "answered as a task: {text}");

    // On the wire: the task at once, the server's polls, the status notice, the result.
    let created = events
        .wait_for("the CreateTaskResult we sent", |e| {
            e["kind"] == "frame"
                && e["direction"] == "sent"
                && e["message"]["result"]["task"]["status"] == "working"
        })
        .await;
    let task_id = created["message"]["result"]["task"]["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(task_id.starts_with("mcpscope-"), "{created}");
    events
        .wait_for("the server's poll", frame("received", "tasks/get"))
        .await;
    let result_asked = events
        .wait_for(
            "the server's tasks/result",
            frame("received", "tasks/result"),
        )
        .await;
    let answer = events
        .wait_for("our tasks/result answer", |e| {
            e["kind"] == "frame"
                && e["direction"] == "sent"
                && e["message"]["id"] == result_asked["message"]["id"]
        })
        .await;
    assert_eq!(
        answer["message"]["result"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
        task_id.as_str(),
        "{answer}"
    );
    // In the Tasks tab's data, as the client's side.
    let hosted = &task_view(&scope, &task_id).await;
    assert_eq!(hosted["side"], "client");
    assert_eq!(hosted["status"], "completed");
    assert!(hosted["polls"].as_u64().unwrap() >= 1, "{hosted}");
    assert_eq!(
        hosted["outcome"]["result"]["content"]["text"],
        "sunny, from a rule"
    );

    // A replay hosts the task again and gives its request the answer the recording's
    // tasks/result carried (not the task it was first answered with).
    let (status, report) = scope.post("/api/sessions/s1/replay", json!({})).await;
    assert_eq!(status, 200, "{report}");
    let call = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "trigger-sampling-request-async")
        .unwrap_or_else(|| panic!("{report:#}"));
    // The texts differ only in the new task's id.
    let replayed = match call["status"].as_str() {
        Some("same") => text.clone(),
        _ => call["differences"][0]["replayed"]
            .as_str()
            .unwrap()
            .to_owned(),
    };
    assert!(
        replayed.contains("[COMPLETED]") && replayed.contains("sunny, from a rule"),
        "{call:#}"
    );
    assert_eq!(
        call["differences"].as_array().map_or(0, Vec::len),
        1,
        "{call:#}"
    );
}

#[tokio::test]
async fn a_person_answers_an_elicitation_the_client_hosts_as_a_task() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    everything_as_a_task_receiver(&scope, &mut events).await;
    let call = scope.post(
        "/api/request",
        json!({"method": "tools/call", "params":
            {"name": "trigger-elicitation-request-async", "arguments": {}}}),
    );
    let person = async {
        let pending = events
            .wait_for("the elicitation waiting for a person", |e| {
                e["kind"] == "pending" && e["method"] == "elicitation/create"
            })
            .await;
        assert_eq!(pending["hostedTask"], true, "{pending}");
        let task_id = pending["taskId"].as_str().unwrap().to_owned();
        // The server polls while the person thinks: the task is still working.
        events
            .wait_for("a poll while it waits", frame("received", "tasks/get"))
            .await;
        let t = task_view(&scope, &task_id).await;
        assert_eq!(t["status"], "working", "{t}");
        let (status, body) = scope
            .post(
                &format!("/api/pending/{}", pending["id"].as_str().unwrap()),
                json!({"result": {"action": "accept", "content": {"name": "Ada", "favoriteColor": "Green", "agreeToTerms": true}}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        task_id
    };
    let ((status, answer), task_id) = tokio::join!(call, person);
    assert_eq!(status, 200, "{answer}");
    let text = texts(&answer["result"]);
    assert!(
        text.contains("[COMPLETED]") && text.contains("- Name: Ada") && text.contains("Green"),
        "{text}"
    );
    events
        .wait_for("our status notice", |e| {
            e["kind"] == "frame"
                && e["direction"] == "sent"
                && e["method"] == "notifications/tasks/status"
                && e["message"]["params"]["taskId"] == task_id.as_str()
                && e["message"]["params"]["status"] == "completed"
        })
        .await;
}

#[tokio::test]
async fn a_server_lists_and_cancels_a_task_the_client_hosts_and_its_request_is_withdrawn() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope.connect(python_target("task_requestor.py")).await;
    let call = scope.post(
        "/api/request",
        json!({"method": "tools/call", "params": {"name": "cancel_a_task", "arguments": {}}}),
    );
    let watch = async {
        let pending = events
            .wait_for("the hosted request waiting for a person", |e| {
                e["kind"] == "pending" && e["hostedTask"] == true
            })
            .await;
        events
            .wait_for("our status notice: cancelled", |e| {
                e["kind"] == "frame"
                    && e["direction"] == "sent"
                    && e["method"] == "notifications/tasks/status"
                    && e["message"]["params"]["status"] == "cancelled"
            })
            .await;
        pending["taskId"].as_str().unwrap().to_owned()
    };
    let ((status, answer), task_id) = tokio::join!(call, watch);
    assert_eq!(status, 200, "{answer}");
    let replies: Value =
        serde_json::from_str(answer["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(
        replies["created"]["result"]["task"]["taskId"],
        task_id.as_str()
    );
    assert_eq!(replies["created"]["result"]["task"]["status"], "working");
    assert_eq!(
        replies["list"]["result"]["tasks"][0]["taskId"],
        task_id.as_str(),
        "{replies:#}"
    );
    assert_eq!(
        replies["cancel"]["result"]["status"], "cancelled",
        "{replies:#}"
    );
    assert_eq!(
        replies["get"]["result"]["status"], "cancelled",
        "{replies:#}"
    );
    assert_eq!(
        replies["cancelAgain"]["error"]["code"], -32602,
        "{replies:#}"
    );
    // The person is no longer asked: the cancelled task's request left the queue.
    let (_, queue) = scope.get("/api/pending").await;
    assert_eq!(queue, json!([]), "{queue}");
    let hosted = &task_view(&scope, &task_id).await;
    assert_eq!(hosted["status"], "cancelled");
    assert_eq!(hosted["side"], "client");
}

//! The client side against server-everything over stdio: sampling answered by hand, rejected and
//! mocked; elicitation accepted and declined; roots from the responders with list_changed;
//! progress tied to its request (even after a cancel or a timeout), timeouts that progress
//! extends, and cancel mid-way.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::*;

fn sampling_call(prompt: &str) -> Value {
    json!({"name": "trigger-sampling-request", "arguments": {"prompt": prompt, "maxTokens": 42}})
}

/// server-everything's long-running tool: `steps` progress notifications over `duration` s.
fn long_running_op(duration: f64, steps: u32) -> Value {
    json!({"name": "trigger-long-running-operation", "arguments": {"duration": duration, "steps": steps}})
}

fn answer_from(events_seen: &Value) -> Value {
    events_seen["message"].clone()
}

/// The sent frame that answered the server request with this id.
fn our_answer_to(server_id: Value) -> impl Fn(&Value) -> bool {
    move |e| e["kind"] == "frame" && e["direction"] == "sent" && e["id"] == server_id
}

#[tokio::test]
async fn sampling_answered_by_hand_through_the_queue() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let session = scope.connect(everything_target()).await;
    // Declared by default, so the server shows its sampling tool.
    assert!(session["clientCapabilities"]["sampling"].is_object());

    let call = scope.request("tools/call", sampling_call("hello there"));
    let answer = async {
        let pending = events
            .wait_for("a pending sampling request", kind("pending"))
            .await;
        assert_eq!(pending["method"], "sampling/createMessage");
        let params = &pending["params"];
        assert_eq!(params["maxTokens"], 42);
        assert_eq!(params["systemPrompt"], "You are a helpful test server.");
        assert!(
            params["messages"][0]["content"]["text"]
                .as_str()
                .unwrap()
                .contains("hello there"),
            "{params}"
        );
        let (_, queue) = scope.get("/api/pending").await;
        assert_eq!(queue[0]["id"], pending["id"]);
        let result = json!({
            "role": "assistant",
            "content": {"type": "text", "text": "an answer typed by a person"},
            "model": "human-1",
            "stopReason": "endTurn",
        });
        let (status, body) = scope
            .post(
                &format!("/api/pending/{}", pending["id"].as_str().unwrap()),
                json!({"result": result}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let server_id = queue[0]["serverId"].clone();
        let sent = events
            .wait_for("our answer", our_answer_to(server_id))
            .await;
        assert_eq!(sent["answeredBy"]["responder"], "manual");
        assert_eq!(answer_from(&sent)["result"], result);
    };
    let ((status, body), ()) = tokio::join!(call, answer);
    assert_eq!(status, 200, "{body}");
    let text = first_text(&body["result"]);
    assert!(
        text.contains("an answer typed by a person") && text.contains("human-1"),
        "{text}"
    );
    let (_, queue) = scope.get("/api/pending").await;
    assert_eq!(queue, json!([]));
}

#[tokio::test]
async fn sampling_rejected_reaches_the_server_as_an_error() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope.connect(everything_target()).await;
    let call = scope.request("tools/call", sampling_call("no thanks"));
    let reject = scope.answer_next_pending(
        &mut events,
        json!({"error": {"code": -1, "message": "User rejected sampling request"}}),
    );
    let ((status, body), _) = tokio::join!(call, reject);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["isError"], true, "{body}");
    assert!(
        first_text(&body["result"]).contains("User rejected sampling request"),
        "{body}"
    );
}

#[tokio::test]
async fn sampling_answered_by_a_mock_rule_and_by_the_default() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let (status, settings) = scope
        .put(
            "/api/responders",
            json!({"sampling": {
                "mode": "mock",
                "rules": [{
                    "name": "weather",
                    "match": "(?i)weather",
                    "response": {"role": "assistant", "content": {"type": "text", "text": "sunny"}, "model": "mock-weather", "stopReason": "endTurn"},
                }, {
                    "match": "refuse me",
                    "error": {"code": -1, "message": "User rejected sampling request"},
                }, {
                    "match": "slowly",
                    "delayMs": 300,
                    "response": {"role": "assistant", "content": {"type": "text", "text": "late"}, "model": "mock-slow", "stopReason": "endTurn"},
                }],
                "default": {"role": "assistant", "content": {"type": "text", "text": "whatever"}, "model": "mock-default", "stopReason": "endTurn"},
            }}),
        )
        .await;
    assert_eq!(status, 200, "{settings}");
    assert_eq!(settings["sampling"]["rules"][0]["name"], "weather");
    assert_eq!(settings["elicitation"]["mode"], "manual");
    scope.connect(everything_target()).await;

    let hit = scope
        .result("tools/call", sampling_call("What is the WEATHER?"))
        .await;
    assert!(first_text(&hit).contains("mock-weather"), "{hit}");
    let marked = events
        .wait_for("the mocked answer", |e| {
            e["kind"] == "frame" && e["answeredBy"]["responder"] == "mock"
        })
        .await;
    assert_eq!(marked["answeredBy"]["rule"], 0);
    assert_eq!(marked["answeredBy"]["name"], "weather");
    assert_eq!(marked["answeredBy"]["match"], "(?i)weather");

    let fallback = scope.result("tools/call", sampling_call("tell me")).await;
    assert!(first_text(&fallback).contains("mock-default"), "{fallback}");
    let marked = events
        .wait_for("the default answer", |e| {
            e["kind"] == "frame" && e["answeredBy"]["rule"] == "default"
        })
        .await;
    assert_eq!(marked["direction"], "sent");

    let refused = scope.result("tools/call", sampling_call("refuse me")).await;
    assert_eq!(refused["isError"], true, "{refused}");
    assert!(
        first_text(&refused).contains("User rejected sampling request"),
        "{refused}"
    );
    let marked = events
        .wait_for("the mocked refusal", |e| {
            e["kind"] == "frame" && e["answeredBy"]["rule"] == 1
        })
        .await;
    assert_eq!(marked["frameType"], "error");

    let started = Instant::now();
    let slow = scope.result("tools/call", sampling_call("slowly")).await;
    assert!(first_text(&slow).contains("mock-slow"), "{slow}");
    assert!(started.elapsed() >= Duration::from_millis(300));

    // Nothing ever waited for a person.
    let (_, queue) = scope.get("/api/pending").await;
    assert_eq!(queue, json!([]));
}

#[tokio::test]
async fn an_unmatched_request_without_a_default_waits_for_a_person() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope
        .put(
            "/api/responders",
            json!({"sampling": {"mode": "mock", "rules": [{"match": "^never$", "response": {}}]}}),
        )
        .await;
    scope.connect(everything_target()).await;
    let call = scope.request("tools/call", sampling_call("unmatched"));
    let result =
        json!({"role": "assistant", "content": {"type": "text", "text": "by hand"}, "model": "m"});
    let answer = scope.answer_next_pending(&mut events, json!({"result": result}));
    let ((status, body), _) = tokio::join!(call, answer);
    assert_eq!(status, 200);
    assert!(first_text(&body["result"]).contains("by hand"), "{body}");
}

#[tokio::test]
async fn bad_responder_settings_are_refused_and_nothing_changes() {
    let scope = Scope::start().await;
    let (status, body) = scope
        .put(
            "/api/responders",
            json!({"sampling": {"mode": "mock", "rules": [{"match": "(unclosed", "response": {}}]}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sampling.rules[0].match"),
        "{body}"
    );
    let (status, body) = scope
        .put("/api/responders", json!({"sampling": {"mode": "auto"}}))
        .await;
    assert_eq!(status, 400, "{body}");
    let (_, settings) = scope.get("/api/responders").await;
    assert_eq!(
        settings,
        json!({"sampling": {"mode": "manual", "rules": [], "default": null},
               "elicitation": {"mode": "manual", "rules": [], "default": null},
               "roots": []})
    );
}

#[tokio::test]
async fn responders_persist_to_the_file_given_on_the_command_line() {
    let dir = std::env::temp_dir().join(format!("mcpscope-it-resp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("responders.json");
    let _ = std::fs::remove_file(&file);
    let path = file.to_str().unwrap();
    let settings = json!({
        "sampling": {"mode": "mock", "rules": [{"match": "x", "response": {"model": "m"}, "delayMs": 5}], "default": null},
        "elicitation": {"mode": "manual", "rules": [], "default": {"action": "decline"}},
        "roots": [{"uri": "file:///srv/project", "name": "project"}],
    });
    {
        let scope = Scope::start_with(&["--responders", path]).await;
        let (status, body) = scope.put("/api/responders", settings.clone()).await;
        assert_eq!(status, 200, "{body}");
    }
    let on_disk: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(on_disk, settings);
    let scope = Scope::start_with(&["--responders", path]).await;
    let (_, loaded) = scope.get("/api/responders").await;
    assert_eq!(loaded, settings);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn elicitation_accepted_with_content_and_declined() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope.connect(everything_target()).await;
    let call = json!({"name": "trigger-elicitation-request", "arguments": {}});

    let accept = async {
        let pending = events.wait_for("elicitation", kind("pending")).await;
        assert_eq!(pending["method"], "elicitation/create");
        let schema = &pending["params"]["requestedSchema"];
        assert_eq!(schema["required"], json!(["name"]));
        assert_eq!(
            schema["properties"]["legacyTitledEnum"]["enumNames"][0],
            "Cats"
        );
        let content = json!({"name": "Ada Lovelace", "check": true, "email": "ada@example.com", "integer": 7});
        scope
            .post(
                &format!("/api/pending/{}", pending["id"].as_str().unwrap()),
                json!({"result": {"action": "accept", "content": content}}),
            )
            .await;
    };
    let ((status, body), ()) = tokio::join!(scope.request("tools/call", call.clone()), accept);
    assert_eq!(status, 200);
    let text = body["result"]["content"][1]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(
        text.contains("Ada Lovelace") && text.contains("ada@example.com") && text.contains('7'),
        "{body}"
    );

    let decline = scope.answer_next_pending(&mut events, json!({"result": {"action": "decline"}}));
    let ((status, body), _) = tokio::join!(scope.request("tools/call", call), decline);
    assert_eq!(status, 200);
    assert!(first_text(&body["result"]).contains("declined"), "{body}");
}

#[tokio::test]
async fn url_elicitation_is_queued_with_its_url_and_mockable_by_url() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope.connect(everything_target()).await;
    let call = json!({"name": "trigger-url-elicitation", "arguments": {"url": "https://auth.example.com/start", "elicitationId": "el-1"}});
    let answer = async {
        let pending = events.wait_for("url elicitation", kind("pending")).await;
        assert_eq!(pending["params"]["mode"], "url");
        assert_eq!(pending["params"]["url"], "https://auth.example.com/start");
        assert_eq!(pending["params"]["elicitationId"], "el-1");
        scope
            .post(
                &format!("/api/pending/{}", pending["id"].as_str().unwrap()),
                json!({"result": {"action": "accept"}}),
            )
            .await;
    };
    let ((status, body), ()) = tokio::join!(scope.request("tools/call", call), answer);
    assert_eq!(status, 200);
    assert!(first_text(&body["result"]).contains("el-1"), "{body}");

    scope
        .put(
            "/api/responders",
            json!({"elicitation": {"mode": "mock", "rules": [{"match": "auth\\.example\\.com", "response": {"action": "cancel"}}]}}),
        )
        .await;
    let mocked = scope
        .result(
            "tools/call",
            json!({"name": "trigger-url-elicitation", "arguments": {"url": "https://auth.example.com/again"}}),
        )
        .await;
    assert!(first_text(&mocked).contains("cancelled"), "{mocked}");
}

#[tokio::test]
async fn roots_come_from_the_responders_and_changes_are_announced() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope
        .put(
            "/api/responders",
            json!({"roots": [{"uri": "file:///srv/alpha", "name": "alpha"}]}),
        )
        .await;
    scope.connect(everything_target()).await;
    let first = scope
        .result(
            "tools/call",
            json!({"name": "get-roots-list", "arguments": {}}),
        )
        .await;
    assert!(first_text(&first).contains("file:///srv/alpha"), "{first}");
    let answered = events
        .wait_for("the roots answer", |e| {
            e["kind"] == "frame" && e["answeredBy"]["responder"] == "roots"
        })
        .await;
    assert_eq!(
        answered["message"]["result"]["roots"][0]["name"], "alpha",
        "{answered}"
    );

    scope
        .put(
            "/api/responders",
            json!({"roots": [{"uri": "file:///srv/beta", "name": "beta"}]}),
        )
        .await;
    events
        .wait_for(
            "roots/list_changed on the wire",
            frame("sent", "notifications/roots/list_changed"),
        )
        .await;
    // server-everything asks again and gets the new list.
    events
        .wait_for("the server asks again", frame("received", "roots/list"))
        .await;
    events
        .wait_for("the new answer", |e| {
            e["kind"] == "frame"
                && e["answeredBy"]["responder"] == "roots"
                && e["message"]["result"]["roots"][0]["name"] == "beta"
        })
        .await;
    let second = scope
        .result(
            "tools/call",
            json!({"name": "get-roots-list", "arguments": {}}),
        )
        .await;
    assert!(first_text(&second).contains("file:///srv/beta"), "{second}");
}

#[tokio::test]
async fn long_running_operation_shows_progress_and_cancels_mid_way() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope.connect(everything_target()).await;
    let call =
        scope.spawn_request(json!({"method": "tools/call", "params": long_running_op(60.0, 120)}));

    let first = events.wait_for("progress", kind("progress")).await;
    let id = first["requestId"].as_i64().expect("tied to our request");
    assert_eq!(first["total"], 120);
    let second = events.wait_for("more progress", kind("progress")).await;
    assert_eq!(second["requestId"], id);
    assert!(second["progress"].as_f64() > first["progress"].as_f64());

    let (_, inflight) = scope.get("/api/inflight").await;
    let entry = &inflight[0];
    assert_eq!(entry["requestId"], id, "{inflight}");
    assert_eq!(entry["method"], "tools/call");
    assert_eq!(entry["subject"], "trigger-long-running-operation");
    assert_eq!(entry["timeoutMs"], 60_000);
    assert_eq!(entry["maxTotalMs"], 600_000);
    assert!(
        entry["progress"]["progress"].as_f64() >= Some(1.0),
        "{entry}"
    );

    let started = Instant::now();
    let (status, body) = scope
        .post(
            "/api/cancel",
            json!({"requestId": id, "reason": "enough of that"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let res = call.await.unwrap();
    let (status, body) = decode(res).await;
    assert_eq!(status.as_u16(), 499, "{body}");
    assert_eq!(body["error"]["kind"], "cancelled");
    assert!(started.elapsed() < Duration::from_secs(2));
    let cancelled = events
        .wait_for(
            "notifications/cancelled",
            frame("sent", "notifications/cancelled"),
        )
        .await;
    assert_eq!(cancelled["message"]["params"]["requestId"], id);
    assert_eq!(cancelled["message"]["params"]["reason"], "enough of that");
    let (_, inflight) = scope.get("/api/inflight").await;
    assert_eq!(inflight, json!([]));
}

/// Progress the server sends after we cancelled (or timed out) a call still names that call,
/// says how it had ended, and is no finding: the spec lets progress race a cancel.
#[tokio::test]
async fn progress_after_a_cancel_or_a_timeout_belongs_to_its_request() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope.connect(everything_target()).await;
    // 8 steps of 0.25 s; server-everything keeps reporting after a cancel (its SDK drops only
    // the answer).
    let op = long_running_op(2.0, 8);
    let call = scope.spawn_request(json!({"method": "tools/call", "params": op}));
    let first = events.wait_for("progress", kind("progress")).await;
    let id = first["requestId"].as_i64().expect("tied to our request");
    assert!(first.get("after").is_none(), "{first}");
    let (status, body) = scope.post("/api/cancel", json!({"requestId": id})).await;
    assert_eq!(status, 202, "{body}");
    let (status, body) = decode(call.await.unwrap()).await;
    assert_eq!(status.as_u16(), 499, "{body}");
    assert_eq!(body["error"]["kind"], "cancelled");
    assert_eq!(body["error"]["requestId"], id, "{body}");
    assert!(body["error"]["elapsedMs"].as_u64() >= Some(200), "{body}");

    let late = events
        .wait_for("progress after the cancel", |e| {
            e["kind"] == "progress" && e["after"].is_string()
        })
        .await;
    assert_eq!(late["after"], "cancelled", "{late}");
    assert_eq!(late["requestId"], id, "{late}");
    assert_eq!(late["progressToken"], format!("mcpscope-{id}"));
    assert!(late["afterMs"].is_u64(), "{late}");
    let last = events
        .wait_for("the last step", |e| {
            e["kind"] == "progress" && e["progress"] == 8
        })
        .await;
    assert_eq!(
        (&last["requestId"], &last["after"]),
        (&json!(id), &json!("cancelled"))
    );
    no_stray_progress_finding(&events);

    // 4 steps of 0.5 s against a 300 ms limit: timed out before the first step.
    let op = long_running_op(2.0, 4);
    let (status, body) = scope
        .post(
            "/api/request",
            json!({"method": "tools/call", "params": op, "timeoutMs": 300}),
        )
        .await;
    assert_eq!(status, 504, "{body}");
    let id = body["error"]["requestId"]
        .as_i64()
        .expect("names the request");
    assert!(body["error"]["elapsedMs"].as_u64() >= Some(300), "{body}");
    let late = events
        .wait_for("progress after the timeout", |e| {
            e["kind"] == "progress" && e["requestId"] == id
        })
        .await;
    assert_eq!(late["after"], "timeout", "{late}");
    events
        .wait_for("the last step", |e| {
            e["kind"] == "progress" && e["requestId"] == id && e["progress"] == 4
        })
        .await;
    no_stray_progress_finding(&events);
}

fn no_stray_progress_finding(events: &Events) {
    let stray: Vec<&Value> = events
        .seen
        .iter()
        .filter(|e| {
            e["kind"] == "finding" && e["message"].as_str().unwrap_or("").contains("progress")
        })
        .collect();
    assert!(stray.is_empty(), "{stray:?}");
}

#[tokio::test]
async fn progress_extends_the_timeout_up_to_the_hard_maximum() {
    let scope = Scope::start().await;
    scope.connect(everything_target()).await;
    // 6 steps of 0.5 s: 3 s in all, twice the 1.5 s idle limit, but never 1.5 s without progress.
    let op = long_running_op(3.0, 6);
    let (status, body) = scope
        .post(
            "/api/request",
            json!({"method": "tools/call", "params": op, "timeoutMs": 1500}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(first_text(&body["result"]).contains("completed"), "{body}");

    let (status, body) = scope
        .post(
            "/api/request",
            json!({"method": "tools/call", "params": op, "timeoutMs": 1500, "maxTotalMs": 2000}),
        )
        .await;
    assert_eq!(status, 504, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("2000 ms maximum"), "{message}");
}

#[tokio::test]
async fn a_pending_request_left_unanswered_does_not_stop_disconnect() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope.connect(everything_target()).await;
    let call = scope
        .spawn_request(json!({"method": "tools/call", "params": sampling_call("left hanging")}));
    events.wait_for("pending", kind("pending")).await;

    // server-everything ignores stdin EOF while its own request is unanswered, so disconnect
    // needs the SIGTERM step. It must still finish promptly, and the waiting call must fail.
    let started = Instant::now();
    let (status, session) = scope.post("/api/session/disconnect", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(session["state"], "disconnected");
    let exit = events.wait_for("exit", kind("exit")).await;
    assert!(started.elapsed() < Duration::from_secs(8), "{exit}");
    let (status, _) = decode(call.await.unwrap()).await;
    assert_eq!(status.as_u16(), 502);
    let (_, list) = scope.get("/api/pending").await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn capabilities_can_be_turned_off_to_test_fallbacks() {
    let scope = Scope::start().await;
    let mut target = everything_target();
    target["clientCapabilities"] = json!({"roots": {}});
    target["apps"] = json!(false);
    let session = scope.connect(target).await;
    assert_eq!(session["clientCapabilities"], json!({"roots": {}}));
    let names = scope.tool_names().await;
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    assert!(names.contains(&"get-roots-list"), "{names:?}");
    assert!(!names.contains(&"trigger-sampling-request"), "{names:?}");
    assert!(!names.contains(&"trigger-elicitation-request"), "{names:?}");
}

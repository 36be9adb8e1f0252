//! A model in the loop, against a fake provider that speaks both APIs as documented
//! (`tests/servers/fake_llm.py`) and server-everything's sampling tool: sampling answered by an
//! OpenAI-compatible model and by an Anthropic one, a draft held for review, a 429 tried again
//! after its `retry-after`, a 401 said plainly; the key never in an event or an export.

use serde_json::{Value, json};

use crate::{
    remote::{Peer, free_port, python_server},
    support::*,
};

pub const KEY: &str = "sk-fake-9c2e51d7a4";

/// The fake provider, scripted with `steps`, and where it logs what it was sent.
pub async fn fake(steps: Value) -> (Peer, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "mcpscope-llm-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("script.json");
    let log = dir.join("log.ndjson");
    std::fs::write(&script, steps.to_string()).unwrap();
    let port = free_port();
    let peer = python_server(
        "fake_llm.py",
        &[
            &port.to_string(),
            script.to_str().unwrap(),
            log.to_str().unwrap(),
        ],
        port,
    )
    .await;
    (peer, log)
}

fn seen(log: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn sampling(prompt: &str) -> Value {
    json!({"name": "trigger-sampling-request", "arguments": {"prompt": prompt, "maxTokens": 42}})
}

/// mcpscope with one provider configured, sampling answered by it, server-everything connected.
async fn with_model(provider: &str, peer: &Peer, responders: Value) -> Scope {
    let (key, base, url) = match provider {
        "openai" => ("OPENAI_API_KEY", "OPENAI_BASE_URL", peer.url("/v1")),
        _ => ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", peer.url("")),
    };
    let model = format!("{provider}:fake-model-1");
    let scope = Scope::start_env(&["--model", &model], &[(key, KEY), (base, &url)]).await;
    let (code, body) = scope
        .put("/api/responders", json!({"sampling": responders}))
        .await;
    assert_eq!(code, 200, "{body}");
    scope.connect(everything_target()).await;
    scope
}

/// Nothing mcpscope shows or writes holds the key.
async fn key_nowhere(scope: &Scope, events: &Events) {
    for e in &events.seen {
        assert!(!e.to_string().contains(KEY), "the key in an event: {e}");
    }
    let res = scope
        .http
        .get(scope.url("/api/sessions/s1/export"))
        .bearer_auth(&scope.token)
        .send()
        .await
        .unwrap();
    assert!(
        !res.text().await.unwrap().contains(KEY),
        "the key in the export"
    );
}

#[tokio::test]
async fn an_openai_compatible_model_answers_sampling_and_its_exchange_is_shown_without_the_key() {
    let (peer, log) = fake(json!([])).await;
    let scope = with_model("openai", &peer, json!({"mode": "llm"})).await;
    let mut events = scope.events().await;
    let (code, answer) = scope.request("tools/call", sampling("the weather")).await;
    assert_eq!(code, 200, "{answer}");
    assert!(
        answer
            .to_string()
            .contains("echo: Resource trigger-sampling-request context: the weather"),
        "{answer}"
    );
    let sent = events
        .wait_seen("our answer", |e| {
            e["kind"] == "frame"
                && e["direction"] == "sent"
                && e["answeredBy"]["responder"] == "llm"
        })
        .await;
    assert_eq!(sent["answeredBy"]["model"], "openai:fake-model-1");
    assert_eq!(
        sent["answeredBy"]["usage"],
        json!({"inputTokens": 11, "outputTokens": 3})
    );
    assert_eq!(sent["message"]["result"]["stopReason"], "endTurn");
    let http = events
        .wait_seen("the provider exchange", |e| {
            e["kind"] == "http" && e["phase"] == "model openai"
        })
        .await;
    assert_eq!(http["status"], 200);
    assert_eq!(http["requestHeaders"]["authorization"], "<redacted>");
    // What the provider was sent: the request as the server made it.
    let got = seen(&log);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["path"], "/v1/chat/completions");
    assert_eq!(got[0]["headers"]["authorization"], format!("Bearer {KEY}"));
    let body = &got[0]["body"];
    assert_eq!(body["model"], "fake-model-1");
    assert_eq!(
        body["messages"][0],
        json!({"role": "system", "content": "You are a helpful test server."})
    );
    assert_eq!(body["max_tokens"], 42);
    assert_eq!(body["temperature"], 0.7);
    key_nowhere(&scope, &events).await;
}

#[tokio::test]
async fn an_anthropic_draft_waits_for_review_and_a_429_is_tried_again() {
    let (peer, log) = fake(json!([{"status": 429, "headers": {"retry-after": "0"},
        "body": {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}}]))
    .await;
    let scope = with_model("anthropic", &peer, json!({"mode": "llm", "review": true})).await;
    let mut events = scope.events().await;
    let call = scope.spawn_request(json!({"method": "tools/call", "params": sampling("a poem")}));
    let pending = events.wait_for("the draft", kind("pending")).await;
    assert_eq!(pending["method"], "sampling/createMessage");
    assert_eq!(pending["draftedBy"]["model"], "anthropic:fake-model-1");
    let draft = pending["draft"].clone();
    assert_eq!(
        draft["content"]["text"],
        "echo: Resource trigger-sampling-request context: a poem"
    );
    // Two exchanges: the 429, then the answer; the key sent as x-api-key, never shown.
    let statuses: Vec<Value> = events
        .seen
        .iter()
        .filter(|e| e["kind"] == "http" && e["phase"] == "model anthropic")
        .map(|e| e["status"].clone())
        .collect();
    assert_eq!(statuses, vec![json!(429), json!(200)]);
    let got = seen(&log);
    assert_eq!(got[1]["headers"]["x-api-key"], KEY);
    assert_eq!(got[1]["headers"]["anthropic-version"], "2023-06-01");
    assert_eq!(got[1]["body"]["system"], "You are a helpful test server.");
    // The person edits the draft and sends it.
    let mut edited = draft.clone();
    edited["content"]["text"] = json!("an edited poem");
    let (code, body) = scope
        .post(
            &format!("/api/pending/{}", pending["id"].as_str().unwrap()),
            json!({"result": edited}),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let (_, answer) = decode(call.await.unwrap()).await;
    assert!(answer.to_string().contains("an edited poem"), "{answer}");
    key_nowhere(&scope, &events).await;
}

#[tokio::test]
async fn a_provider_that_refuses_is_said_plainly_to_the_server_and_in_a_finding() {
    let (peer, _log) = fake(json!([{"status": 401, "body": {"error": {"message": "Incorrect API key provided: sk-fake-9c2e51d7a4", "type": "invalid_request_error"}}}])).await;
    // Logged at debug, so nothing mcpscope says anywhere holds the key either.
    let logs = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let scope = Scope::start_env_logging(
        &["--model", "openai:fake-model-1"],
        &[
            ("OPENAI_API_KEY", KEY),
            ("OPENAI_BASE_URL", &peer.url("/v1")),
        ],
        "debug",
        logs.clone(),
    )
    .await;
    scope
        .put("/api/responders", json!({"sampling": {"mode": "llm"}}))
        .await;
    scope.connect(everything_target()).await;
    let mut events = scope.events().await;
    let (_, answer) = scope.request("tools/call", sampling("anything")).await;
    assert!(
        answer.to_string().contains("the model could not answer"),
        "{answer}"
    );
    let finding = events
        .wait_seen("the finding", |e| {
            e["kind"] == "finding" && e["message"].as_str().unwrap_or("").contains("401")
        })
        .await;
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("openai:fake-model-1"),
        "{finding}"
    );
    // The provider echoed the key in its error: scrubbed before it reached anything.
    key_nowhere(&scope, &events).await;
    let logged = logs.lock().unwrap().clone();
    assert!(
        logged.contains("DEBUG") || logged.contains("debug"),
        "debug logging is on"
    );
    assert!(!logged.contains(KEY), "the key in the log");
}

#[tokio::test]
async fn a_provider_failing_with_5xx_is_tried_three_times_then_said() {
    let down = json!({"status": 503, "body": {"error": {"message": "overloaded"}}});
    let (peer, log) = fake(json!([down, down, down])).await;
    let scope = with_model("openai", &peer, json!({"mode": "llm"})).await;
    let mut events = scope.events().await;
    let (_, answer) = scope.request("tools/call", sampling("anything")).await;
    assert!(
        answer.to_string().contains("the model could not answer"),
        "{answer}"
    );
    assert!(
        !answer.to_string().contains("overloaded"),
        "the provider's words stay with the user: {answer}"
    );
    assert_eq!(seen(&log).len(), 3, "three tries");
    events
        .wait_seen("the finding", |e| {
            e["kind"] == "finding" && e["message"].as_str().unwrap_or("").contains("503")
        })
        .await;
}

#[tokio::test]
async fn sampling_with_tools_goes_to_the_model_and_its_tool_call_back_to_the_server() {
    // The model calls the tool it is offered, as OpenAI's API writes a tool call.
    let (peer, log) = fake(json!([{"status": 200, "body": {
        "id": "chatcmpl-t", "object": "chat.completion", "model": "fake-model-1",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant",
            "content": null, "tool_calls": [{"id": "call_7", "type": "function",
                "function": {"name": "weather", "arguments": "{\"city\": \"Oslo\"}"}}]}}]}}]))
    .await;
    let scope = Scope::start_env(
        &["--model", "openai:fake-model-1"],
        &[
            ("OPENAI_API_KEY", KEY),
            ("OPENAI_BASE_URL", &peer.url("/v1")),
        ],
    )
    .await;
    scope
        .put("/api/responders", json!({"sampling": {"mode": "llm"}}))
        .await;
    scope.connect(python_target("fastmcp_server.py")).await;
    let (code, answer) = scope
        .request(
            "tools/call",
            json!({"name": "forecast", "arguments": {"city": "Oslo"}}),
        )
        .await;
    assert_eq!(code, 200, "{answer}");
    assert_eq!(
        first_text(&answer["result"]),
        "fake-model-1 called weather with {\"city\": \"Oslo\"} (toolUse)"
    );
    let body = &seen(&log)[0]["body"];
    assert_eq!(body["tools"][0]["function"]["name"], "weather");
    assert_eq!(
        body["tools"][0]["function"]["parameters"]["required"],
        json!(["city"])
    );
    assert_eq!(body["tool_choice"], "required");
}

#[tokio::test]
async fn a_chat_calls_a_servers_tool_and_answers_with_its_result() {
    // The model calls echo, then answers with what it got (Anthropic's shapes).
    let (peer, log) = fake(json!([
        {"status": 200, "body": {"id": "m1", "type": "message", "role": "assistant", "model": "fake-model-1",
            "content": [{"type": "text", "text": "Let me echo."},
                        {"type": "tool_use", "id": "tu_1", "name": "echo", "input": {"message": "hi there"}}],
            "stop_reason": "tool_use", "usage": {"input_tokens": 20, "output_tokens": 9}}},
        {"status": 200, "body": {"id": "m2", "type": "message", "role": "assistant", "model": "fake-model-1",
            "content": [{"type": "text", "text": "The server said: Echo: hi there"}],
            "stop_reason": "end_turn", "usage": {"input_tokens": 40, "output_tokens": 8}}}
    ]))
    .await;
    let scope = Scope::start_env(
        &["--model", "anthropic:fake-model-1"],
        &[
            ("ANTHROPIC_API_KEY", KEY),
            ("ANTHROPIC_BASE_URL", &peer.url("")),
        ],
    )
    .await;
    let mut events = scope.events().await;
    scope.connect(everything_target()).await;
    let (code, reply) = scope
        .post(
            "/api/chat",
            json!({"messages": [{"role": "user", "content": "Echo 'hi there' please"}]}),
        )
        .await;
    assert_eq!(code, 200, "{reply}");
    assert_eq!(
        reply["message"]["content"][0]["text"],
        "The server said: Echo: hi there"
    );
    assert_eq!(reply["toolCalls"][0]["session"], "s1");
    assert_eq!(reply["toolCalls"][0]["name"], "echo");
    assert_eq!(
        reply["toolCalls"][0]["arguments"],
        json!({"message": "hi there"})
    );
    assert_eq!(
        reply["toolCalls"][0]["result"]["content"][0]["text"],
        "Echo: hi there"
    );
    assert_eq!(reply["steps"], 2);
    assert_eq!(
        reply["usage"],
        json!({"inputTokens": 60, "outputTokens": 17})
    );
    // The tool call is an ordinary frame on its session; each step a chat event.
    let call = events
        .wait_seen("the tools/call frame", |e| {
            frame("sent", "tools/call")(e) && e["message"]["params"]["name"] == "echo"
        })
        .await;
    assert_eq!(call["session"], "s1");
    let last = events
        .wait_seen("the last chat step", |e| {
            e["kind"] == "chat" && e["step"] == 2 && e["part"] == "model"
        })
        .await;
    assert_eq!(last["text"], "The server said: Echo: hi there");
    let steps: Vec<String> = events
        .seen
        .iter()
        .filter(|e| e["kind"] == "chat")
        .map(|e| format!("{} {}", e["step"], e["part"]))
        .collect();
    let whole: Vec<&String> = steps.iter().filter(|s| !s.ends_with("\"delta\"")).collect();
    assert_eq!(
        whole,
        ["1 \"model\"", "1 \"tool\"", "2 \"model\""],
        "{steps:?}"
    );
    // The text was streamed: its pieces, in order, are the whole answer.
    let streamed: String = events
        .seen
        .iter()
        .filter(|e| e["kind"] == "chat" && e["step"] == 2 && e["part"] == "delta")
        .filter_map(|e| e["text"].as_str())
        .collect();
    assert_eq!(streamed, "The server said: Echo: hi there");
    // The model saw server-everything's tools, and the tool's result in the second turn.
    let got = seen(&log);
    assert_eq!(got[0]["body"]["stream"], true, "a chat streams");
    assert!(
        got[0]["body"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "echo")
    );
    let second = &got[1]["body"]["messages"];
    assert_eq!(second[1]["content"][1]["type"], "tool_use");
    assert_eq!(second[2]["content"][0]["type"], "tool_result");
    assert_eq!(second[2]["content"][0]["tool_use_id"], "tu_1");
    assert_eq!(second[2]["content"][0]["content"], "Echo: hi there");
    key_nowhere(&scope, &events).await;
}

/// An OpenAI answer that calls `name` with `args`, then one that says `text`.
pub fn calls_then_says(name: &str, args: Value, text: &str) -> [Value; 2] {
    [
        json!({"status": 200, "body": {"id": "c", "object": "chat.completion", "model": "fake-model-1",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant",
                "content": "I will use a tool.", "tool_calls": [{"id": "call_1", "type": "function",
                    "function": {"name": name, "arguments": args.to_string()}}]}}]}}),
        json!({"status": 200, "body": {"id": "d", "object": "chat.completion", "model": "fake-model-1",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}]}}),
    ]
}

#[tokio::test]
async fn an_eval_file_passes_and_fails_its_cases_with_junit_for_ci() {
    let [a, b] = calls_then_says(
        "echo",
        json!({"message": "hello"}),
        "The server said Echo: hello",
    );
    let [c, d] = calls_then_says("echo", json!({"message": "2+3"}), "It is 5");
    let (peer, _log) = fake(json!([a, b, c, d])).await;
    let everything = everything_target();
    let file = std::env::temp_dir().join(format!("mcpscope-eval-{}.json", free_port()));
    std::fs::write(
        &file,
        json!({
            "mcpServers": {"everything": {"command": everything["command"], "args": everything["args"]}},
            "model": "openai:fake-model-1",
            "cases": [
                {"name": "echoes", "prompt": "Echo hello",
                 "expect": {"toolCalls": [{"name": "echo", "arguments": {"message": "hello"}}], "answerContains": "echo: HELLO"}},
                {"name": "adds", "prompt": "What is 2+3?",
                 "expect": {"toolCalls": [{"name": "get-sum", "arguments": {"a": 2}}], "answerContains": "5"}},
            ],
        })
        .to_string(),
    )
    .unwrap();
    let out = tokio::process::Command::new(bin())
        .args(["eval", file.to_str().unwrap(), "--format", "junit"])
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", peer.url("/v1"))
        .output()
        .await
        .unwrap();
    let xml = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{xml}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
    assert!(
        xml.contains("<testcase classname=\"mcpscope.eval\" name=\"echoes\""),
        "{xml}"
    );
    assert!(
        xml.contains("expected a call to get-sum with {&quot;a&quot;:2}; it called echo({&quot;message&quot;:&quot;2+3&quot;}) instead"),
        "{xml}"
    );
    assert!(xml.contains("the model said: I will use a tool."), "{xml}");
    assert!(!xml.contains(KEY) && !String::from_utf8_lossy(&out.stderr).contains(KEY));
    // Without a provider configured, it says which variable to set (exit 2).
    let out = tokio::process::Command::new(bin())
        .args(["eval", file.to_str().unwrap()])
        .env_remove("OPENAI_API_KEY")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("OPENAI_API_KEY"));
    let _ = std::fs::remove_file(&file);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_chat_view_shows_the_tool_calls_inline_and_the_models_answer() {
    let [a, b] = calls_then_says(
        "echo",
        json!({"message": "from the page"}),
        "It echoed: from the page",
    );
    let (peer, _log) = fake(json!([a, b])).await;
    let scope = Scope::start_env(
        &["--model", "openai:fake-model-1"],
        &[
            ("OPENAI_API_KEY", KEY),
            ("OPENAI_BASE_URL", &peer.url("/v1")),
        ],
    )
    .await;
    let browser = crate::browser::open_ui(&scope).await;
    let c = &browser.client;
    scope.connect(everything_target()).await;
    crate::browser::wait_text(c, "#state", "connected", |t| t == "connected").await;
    crate::browser::click(c, "#open-chat").await;
    crate::browser::wait_text(c, "#chat-about", "the providers", |t| {
        t.contains("Providers configured: openai") && t.contains("openai:fake-model-1")
    })
    .await;
    // A prompt of the server joins the conversation; a resource goes with the next message.
    crate::browser::wait_text(c, "#prompt-list", "the prompts", |t| {
        t.contains("simple-prompt")
    })
    .await;
    crate::browser::wait_text(c, "#resource-list", "the resources", |t| {
        t.contains("features.md")
    })
    .await;
    crate::browser::click(c, "#open-chat").await;
    crate::browser::find(c, "#chat-prompt")
        .await
        .select_by_value("simple-prompt")
        .await
        .unwrap();
    crate::browser::click(c, "#chat-insert").await;
    crate::browser::wait_text(c, "#chat-log", "the prompt's message", |t| {
        t.contains("simple-prompt")
    })
    .await;
    crate::browser::find(c, "#chat-resource")
        .await
        .select_by_value("demo://resource/static/document/features.md")
        .await
        .unwrap();
    crate::browser::click(c, "#chat-attach").await;
    crate::browser::wait_text(c, "#chat-attached", "the attachment", |t| {
        t.contains("features.md")
    })
    .await;
    crate::browser::find(c, "#chat-input")
        .await
        .send_keys("Echo 'from the page'")
        .await
        .unwrap();
    crate::browser::click(c, "#chat-send").await;
    let log = crate::browser::wait_text(c, "#chat-log", "the answer", |t| {
        t.contains("It echoed: from the page")
    })
    .await;
    assert!(log.contains("echo on s1"), "{log}");
    assert!(
        log.contains("Echo: from the page"),
        "the tool's result inline: {log}"
    );
    assert!(log.contains("openai:fake-model-1"), "{log}");
    let page = crate::browser::find(c, "body").await.text().await.unwrap();
    assert!(!page.contains(KEY));
    // The provider saw the prompt's message first, then the text with the resource in it.
    let first = &seen(&_log)[0]["body"]["messages"];
    assert_eq!(first[0]["role"], "user", "{first}");
    assert!(
        first[0]["content"]
            .to_string()
            .contains("This is a simple prompt"),
        "{first}"
    );
    let asked = first[1]["content"].to_string();
    assert!(asked.contains("Echo 'from the page'"), "{first}");
    assert!(
        asked.contains("[resource demo://resource/static/document/features.md"),
        "{first}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tool_the_model_calls_in_the_chat_opens_its_app_there() {
    let [a, b] = calls_then_says("get-time", json!({}), "Here is the time.");
    let (peer, _log) = fake(json!([a, b])).await;
    let scope = Scope::start_env(
        &["--model", "openai:fake-model-1"],
        &[
            ("OPENAI_API_KEY", KEY),
            ("OPENAI_BASE_URL", &peer.url("/v1")),
        ],
    )
    .await;
    let browser = crate::browser::open_ui(&scope).await;
    let c = &browser.client;
    let mut events = scope.events().await;
    let script = root().join(
        "tests/peers/node_modules/@modelcontextprotocol/server-basic-vanillajs/dist/index.js",
    );
    scope
        .connect(json!({"transport": "stdio", "command": "node", "args": [script, "--stdio"]}))
        .await;
    crate::browser::wait_text(c, "#tool-list", "the app's tool", |t| {
        t.contains("get-time")
    })
    .await;
    crate::browser::click(c, "#open-chat").await;
    crate::browser::find(c, "#chat-input")
        .await
        .send_keys("What time is it?")
        .await
        .unwrap();
    crate::browser::click(c, "#chat-send").await;
    crate::browser::wait_text(c, "#chat-log", "the answer", |t| {
        t.contains("Here is the time.")
    })
    .await;
    // The app the tool names renders in the chat, its handshake and the result in the timeline.
    let result = events
        .wait_for("the app's tool result", |e| {
            e["kind"] == "app"
                && e["direction"] == "to-app"
                && e["message"]["method"] == "ui/notifications/tool-result"
        })
        .await;
    assert_eq!(result["tool"], "get-time");
    crate::browser::wait_text(c, "#chat-log", "the app's panel", |t| {
        t.contains("Get Time App")
    })
    .await;
}

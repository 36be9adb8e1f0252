//! Protocol eras against real dual-era SDKs: the Python SDK 2.x (`tests/servers/modern_server.py`)
//! and the TypeScript SDK 2.x (`tests/servers/ts_dual_server.mjs`), over stdio and Streamable
//! HTTP. The modern era's probe, `_meta`, routing headers and input rounds (MRTR) answered by
//! hand and by mock rules; the legacy era against the same server; `auto` choosing either way;
//! and the refusals when the two sides share no era.

use serde_json::{Value, json};
use tokio::process::Command;

use crate::remote::{Peer, free_port, peer};
use crate::support::*;

pub fn modern_stdio() -> Value {
    let script = root().join("tests/servers/modern_server.py");
    json!({"transport": "stdio", "command": python2(), "args": ["-u", script, "stdio"]})
}

pub async fn modern_http() -> Peer {
    modern_http_on(free_port()).await
}

/// The modern Python peer over HTTP on a given port (to restart it where it was).
pub async fn modern_http_on(port: u16) -> Peer {
    let mut cmd = Command::new(python2());
    cmd.arg("-u")
        .arg(root().join("tests/servers/modern_server.py"))
        .args(["http", &port.to_string()]);
    peer(cmd, port).await
}

fn ts_stdio(modern_only: bool) -> Value {
    let script = root().join("tests/servers/ts_dual_server.mjs");
    let mut args = vec![json!(script), json!("stdio")];
    if modern_only {
        args.push(json!("--modern-only"));
    }
    json!({"transport": "stdio", "command": "node", "args": args})
}

async fn ts_http(modern_only: bool) -> Peer {
    let port = free_port();
    let mut cmd = Command::new("node");
    cmd.arg(root().join("tests/servers/ts_dual_server.mjs"))
        .args(["http", &port.to_string()]);
    if modern_only {
        cmd.arg("--modern-only");
    }
    peer(cmd, port).await
}

pub fn with_era(mut target: Value, era: &str) -> Value {
    target["era"] = json!(era);
    target
}

fn round(phase: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["kind"] == "round" && e["phase"] == phase
}

/// Mock rules that answer the modern server's questions.
fn trip_rules() -> Value {
    json!({"elicitation": {"mode": "mock", "rules": [
        {"match": "Where to", "response": {"action": "accept", "content": {"city": "Oslo"}}},
        {"match": "How many nights", "response": {"action": "accept", "content": {"nights": 3}}},
        {"match": "sit", "response": {"action": "accept", "content": {"outdoor": true}}}
    ]}})
}

#[tokio::test]
async fn modern_stdio_input_rounds_by_hand_and_by_rule() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let session = scope.connect(with_era(modern_stdio(), "modern")).await;
    assert_eq!(session["state"], "connected", "{session}");
    assert_eq!(session["era"], "modern");
    assert_eq!(session["protocolVersion"], "2026-07-28");
    assert_eq!(
        session["discover"]["supportedVersions"],
        json!(["2026-07-28"])
    );
    assert_eq!(session["serverInfo"]["name"], "modern-peer");
    // No handshake: the first frame we sent is the probe, with the modern `_meta`.
    let probe = events
        .wait_for("the probe", frame("sent", "server/discover"))
        .await;
    let meta = &probe["message"]["params"]["_meta"];
    assert_eq!(
        meta["io.modelcontextprotocol/protocolVersion"],
        "2026-07-28"
    );
    assert_eq!(
        meta["io.modelcontextprotocol/clientInfo"]["name"],
        "mcpscope"
    );

    // By hand: the input request waits in /api/pending, tied to its call and round.
    let call = scope.spawn_request(json!({"method": "tools/call",
        "params": {"name": "book_table", "arguments": {"day": "friday"}}}));
    let pending = events
        .wait_for("the input request", |e| e["kind"] == "pending")
        .await;
    assert_eq!(pending["method"], "elicitation/create");
    assert_eq!(pending["round"], 1);
    assert!(pending["requestId"].is_i64() && pending.get("serverId").is_none());
    let (status, listed) = scope.get("/api/pending").await;
    assert_eq!(status, 200);
    assert_eq!(listed[0]["inputKey"], pending["inputKey"]);
    let id = pending["id"].as_str().unwrap();
    let (status, _) = scope
        .post(
            &format!("/api/pending/{id}"),
            json!({"result": {"action": "accept", "content": {"outdoor": false, "guests": 4}}}),
        )
        .await;
    assert_eq!(status, 200);
    // The retry carries the answer under its key, with a new id.
    let sent = events
        .wait_for("the retried call", |e| {
            frame("sent", "tools/call")(e) && e["message"]["params"].get("inputResponses").is_some()
        })
        .await;
    let retry = events.wait_for("the retry", round("retry")).await;
    assert_eq!(sent["id"], retry["requestId"]);
    assert_ne!(retry["requestId"], retry["previousRequestId"]);
    let (status, answer) = decode(call.await.unwrap()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(first_text(&answer["result"]), "booked friday for 4, inside");

    // By rule: two questions, the second asked only after the first came back: three requests.
    scope.put("/api/responders", trip_rules()).await;
    let answer = scope
        .result("tools/call", json!({"name": "plan_trip", "arguments": {}}))
        .await;
    assert_eq!(first_text(&answer), "3 nights in Oslo");
    let last = events
        .wait_for("the second retry", |e| round("retry")(e) && e["round"] == 3)
        .await;
    assert_eq!(last["method"], "tools/call");
}

#[tokio::test]
async fn modern_http_headers_log_level_and_no_get_stream() {
    let peer = modern_http().await;
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let session = scope
        .connect(json!({"transport": "http", "url": peer.url("/mcp"), "era": "modern"}))
        .await;
    assert_eq!(session["era"], "modern", "{session}");
    scope.put("/api/responders", trip_rules()).await;
    let answer = scope
        .result(
            "tools/call",
            json!({"name": "book_table", "arguments": {"day": "monday"}}),
        )
        .await;
    assert_eq!(first_text(&answer), "booked monday for 2, outside");
    let post = events
        .wait_for("the call's POST", |e| {
            e["kind"] == "http" && e["type"] == "exchange" && e["carries"]["method"] == "tools/call"
        })
        .await;
    let headers = &post["requestHeaders"];
    assert_eq!(headers["mcp-method"], "tools/call", "{headers}");
    assert_eq!(headers["mcp-name"], "book_table");
    assert_eq!(headers["mcp-protocol-version"], "2026-07-28");

    // The modern era has no logging/setLevel: the level rides in every request's `_meta`.
    let (status, _) = scope.put("/api/log-level", json!({"level": "debug"})).await;
    assert_eq!(status, 204);
    let (status, _) = scope.put("/api/log-level", json!({"level": "loud"})).await;
    assert_eq!(status, 400);
    let (status, _) = scope
        .post(
            "/api/sessions",
            json!({"transport": "http", "url": peer.url("/mcp"), "era": "modern", "logLevel": "loud"}),
        )
        .await;
    assert_eq!(
        status, 400,
        "the connect body's logLevel is checked like the route's"
    );
    scope
        .result("tools/call", json!({"name": "chatty", "arguments": {}}))
        .await;
    let sent = events
        .wait_for("the chatty call", |e| {
            frame("sent", "tools/call")(e) && e["message"]["params"]["name"] == "chatty"
        })
        .await;
    assert_eq!(
        sent["message"]["params"]["_meta"]["io.modelcontextprotocol/logLevel"],
        "debug"
    );
    let debug = events
        .wait_for("the debug log line", |e| {
            frame("received", "notifications/message")(e)
                && e["message"]["params"]["level"] == "debug"
        })
        .await;
    assert_eq!(debug["message"]["params"]["data"], "debug detail");

    // A stateless era: we never opened a GET stream.
    let (_, all) = scope.get("/api/sessions").await;
    assert_eq!(all[0]["logLevel"], "debug");
    let mut replay = scope.events_since(0).await;
    while let Some(e) = replay
        .next(std::time::Instant::now() + std::time::Duration::from_millis(300))
        .await
    {
        assert!(
            !(e["kind"] == "http" && e["method"] == "GET"),
            "a GET in the modern era: {e}"
        );
    }
}

#[tokio::test]
async fn the_legacy_era_against_the_same_server_uses_a_server_request() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let session = scope.connect(modern_stdio()).await;
    assert_eq!(session["era"], "legacy", "{session}");
    assert_eq!(session["protocolVersion"], "2025-11-25");
    let call = scope.spawn_request(json!({"method": "tools/call",
        "params": {"name": "book_table", "arguments": {"day": "sunday"}}}));
    let pending = events
        .wait_for("the elicitation request", |e| e["kind"] == "pending")
        .await;
    assert!(pending["serverId"].is_number() || pending["serverId"].is_string());
    assert!(pending.get("round").is_none());
    let id = pending["id"].as_str().unwrap();
    scope
        .post(
            &format!("/api/pending/{id}"),
            json!({"result": {"action": "accept", "content": {"outdoor": true}}}),
        )
        .await;
    let (status, answer) = decode(call.await.unwrap()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        first_text(&answer["result"]),
        "booked sunday for 2, outside"
    );
}

#[tokio::test]
async fn auto_picks_modern_from_the_typescript_sdk_and_legacy_from_server_everything() {
    let scope = Scope::start().await;
    let session = scope.connect(with_era(ts_stdio(false), "auto")).await;
    assert_eq!(session["era"], "modern", "{session}");
    let answer = scope
        .result(
            "tools/call",
            json!({"name": "shout", "arguments": {"text": "hi"}}),
        )
        .await;
    assert_eq!(first_text(&answer), "HI");

    let peer = ts_http(false).await;
    let session = scope
        .connect(json!({"transport": "http", "url": peer.url("/mcp"), "era": "auto"}))
        .await;
    assert_eq!(session["era"], "modern", "{session}");
    let answer = scope
        .result(
            "tools/call",
            json!({"name": "shout", "arguments": {"text": "yo"}}),
        )
        .await;
    assert_eq!(first_text(&answer), "YO");

    // server-everything answers -32601 to the probe: `auto` falls back, and says so.
    let mut events = scope.events().await;
    let session = scope.connect(with_era(everything_target(), "auto")).await;
    assert_eq!(session["era"], "legacy", "{session}");
    assert_eq!(session["protocolVersion"], "2025-11-25");
    let note = events
        .wait_for("the fallback finding", |e| {
            e["kind"] == "finding"
                && e["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("protocol era auto")
        })
        .await;
    assert_eq!(note["severity"], "info");
}

#[tokio::test]
async fn eras_that_do_not_meet_end_the_connect_with_the_servers_reason() {
    let scope = Scope::start().await;
    // A modern-only server refuses a legacy initialize with -32022 and its supported list.
    let (_, session) = scope.post("/api/session/connect", ts_stdio(true)).await;
    assert_eq!(session["state"], "failed", "{session}");
    let error = session["error"].as_str().unwrap();
    assert!(
        error.contains("2026-07-28") && error.contains("modern"),
        "{error}"
    );

    let peer = ts_http(true).await;
    let (_, session) = scope
        .post(
            "/api/session/connect",
            json!({"transport": "http", "url": peer.url("/mcp")}),
        )
        .await;
    assert_eq!(session["state"], "failed", "{session}");
    assert!(
        session["error"].as_str().unwrap().contains("2026-07-28"),
        "{session}"
    );

    let (_, session) = scope
        .post(
            "/api/session/connect",
            with_era(everything_target(), "modern"),
        )
        .await;
    assert_eq!(session["state"], "failed", "{session}");
    let error = session["error"].as_str().unwrap();
    assert!(error.starts_with("protocol era modern"), "{error}");
    assert!(
        error.contains("-32601") || error.contains("server/discover"),
        "{error}"
    );
}

#[tokio::test]
async fn cli_mode_takes_the_protocol_era() {
    let script = root().join("tests/servers/modern_server.py");
    let out = Command::new(bin())
        .args([
            "--cli",
            "--protocol-era",
            "modern",
            "--method",
            "tools/call",
        ])
        .args([
            "--tool-name",
            "add",
            "--tool-arg",
            "a=2",
            "--tool-arg",
            "b=40",
            "--",
        ])
        .arg(python2())
        .arg(&script)
        .arg("stdio")
        .output()
        .await
        .expect("mcpscope runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(result["resultType"], "complete");
    assert_eq!(first_text(&result), "42");
}

#[tokio::test]
async fn the_browser_picks_the_era_and_answers_an_input_round() {
    use crate::browser::{click, find, open_ui, wait_text};
    use fantoccini::Locator;

    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    // The era select, under the folded Options, found through its visible label.
    c.find(Locator::XPath(
        "//summary[starts-with(normalize-space(), 'Options')]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let label = c
        .find(Locator::XPath("//label[normalize-space()='Protocol era']"))
        .await
        .unwrap();
    let select = format!("#{}", label.attr("for").await.unwrap().unwrap());
    find(c, &select)
        .await
        .select_by_value("modern")
        .await
        .unwrap();
    let command = find(c, "#command").await;
    command.clear().await.unwrap();
    command.send_keys(&python2()).await.unwrap();
    let args = find(c, "#args").await;
    args.clear().await.unwrap();
    let script = root().join("tests/servers/modern_server.py");
    args.send_keys(&format!("-u\n{}\nstdio", script.display()))
        .await
        .unwrap();
    click(c, "#connect").await;
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    wait_text(c, "#protocol", "the era", |t| t.contains("modern era")).await;

    let call = scope.spawn_request(json!({"method": "tools/call",
        "params": {"name": "book_table", "arguments": {"day": "tuesday"}}}));
    let card = "li.pending-card[data-method='elicitation/create']";
    let head = wait_text(c, card, "the input request", |t| {
        t.contains("Where would you like to sit?")
    })
    .await;
    assert!(head.contains("round 1"), "{head}");
    click(c, &format!("{card} [data-field='outdoor'] input")).await;
    click(c, &format!("{card} button.answer-accept")).await;
    let (status, body) = decode(call.await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(first_text(&body["result"]), "booked tuesday for 2, outside");

    // The modern era has no logging/setLevel: the Logs tab's level sets the `_meta` level.
    c.find(Locator::XPath(
        "//button[@role='tab'][starts-with(normalize-space(), 'Logs')]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    find(c, "#log-level")
        .await
        .select_by_value("debug")
        .await
        .unwrap();
    wait_text(c, "#log-level-note", "the level note", |t| {
        t.contains("debug")
    })
    .await;
    scope
        .result("tools/call", json!({"name": "chatty", "arguments": {}}))
        .await;
    wait_text(c, "#log-list", "the debug line", |t| {
        t.contains("debug detail")
    })
    .await;

    // Subscribe rides the listen stream: the header says what it hears, the mark follows.
    wait_text(c, "#listen-state", "the listen stream", |t| {
        t == "listening"
    })
    .await;
    let heard = find(c, "#listen-state")
        .await
        .attr("title")
        .await
        .unwrap()
        .unwrap();
    assert!(
        heard.ends_with("hears tools, prompts, resources list changes"),
        "{heard}"
    );
    c.wait()
        .at_most(DEADLINE)
        .for_element(Locator::XPath(
            "//button[contains(@class, 'item')][.//code[normalize-space()='memo://greeting' or normalize-space()='greeting']]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(c, "#subscribe-resource").await;
    wait_text(c, "#subscribe-resource", "subscribed", |t| {
        t == "Unsubscribe"
    })
    .await;
    let until = std::time::Instant::now() + DEADLINE;
    loop {
        let title = find(c, "#listen-state").await.attr("title").await.unwrap();
        if title.is_some_and(|t| t.ends_with("list changes; 1 resource")) {
            break;
        }
        assert!(
            std::time::Instant::now() < until,
            "the resource never joined the filter"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Regression: every state event (the listen stream's here) used to wipe the level note.
    let note = find(c, "#log-level-note").await.text().await.unwrap();
    assert!(
        note.contains("debug"),
        "the level note outlives a state event: {note:?}"
    );
    scope
        .result(
            "tools/call",
            json!({"name": "touch_memo", "arguments": {"text": "new text"}}),
        )
        .await;
    wait_text(c, "#resource-updated", "the open resource's mark", |t| {
        t == "updated"
    })
    .await;
    if let Ok(dir) = std::env::var("MCPSCOPE_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&dir).join("modern-era.png"), png).unwrap();
    }
    b.close().await;
}

#[tokio::test]
async fn the_browser_reads_modern_errors_and_cache_hints() {
    use crate::browser::{click, find, open_ui, wait_text};

    let peer = modern_http().await;
    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    scope
        .connect(json!({"transport": "http", "url": peer.url("/mcp"), "era": "modern"}))
        .await;
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    // The tools/list result's caching hints, beside the list's title.
    let hint = wait_text(c, "#tools-cache", "the cache hint", |t| {
        t.starts_with("cache:")
    })
    .await;
    let title = find(c, "#tools-cache")
        .await
        .attr("title")
        .await
        .unwrap()
        .unwrap();
    assert!(title.starts_with("ttlMs "), "{hint} / {title}");

    // A request asking for a version the server does not speak: -32022, read into words.
    click(c, "#open-raw").await;
    let method = find(c, "#raw-method").await;
    method.clear().await.unwrap();
    method.send_keys("tools/list").await.unwrap();
    let params = find(c, "#raw-params").await;
    params.clear().await.unwrap();
    params
        .send_keys(r#"{"_meta": {"io.modelcontextprotocol/protocolVersion": "2099-01-01"}}"#)
        .await
        .unwrap();
    click(c, "#send-raw").await;
    let banner = wait_text(c, "#result .error-banner", "the error", |t| {
        t.contains("-32022")
    })
    .await;
    assert!(banner.contains("Unsupported protocol version"), "{banner}");
    let facts = wait_text(c, "#result .error-facts", "its facts", |t| {
        t.contains("supported")
    })
    .await;
    assert!(facts.contains("2026-07-28"), "{facts}");
    if let Ok(dir) = std::env::var("MCPSCOPE_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&dir).join("modern-error.png"), png).unwrap();
    }
    b.close().await;
}

//! Recordings: a session exported as NDJSON (header, its own events only, secrets scrubbed even
//! where a server echoes them back), opened again with `mcpscope open FILE` as a read-only
//! session whose events keep their seq, time and session, and exported again byte for byte.

use serde_json::{Value, json};

use crate::{remote, support::*};

impl Scope {
    /// `GET …/export` as text, with its status and content type.
    pub async fn export(&self, id: &str) -> String {
        let res = self
            .http
            .get(self.url(&format!("/api/sessions/{id}/export")))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()["content-type"].to_str().unwrap(),
            "application/x-ndjson"
        );
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .contains(".ndjson")
        );
        res.text().await.unwrap()
    }
}

pub fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

const ENV_SECRET: &str = "sk-env-2f9c41d07b";
const HEADER_SECRET: &str = "hdr-secret-71ad93";
const OAUTH_SECRET: &str = "oauth-secret-5e0b27";

#[tokio::test]
async fn an_export_holds_one_session_with_no_secret_and_opens_again_read_only() {
    let peer = remote::fastmcp("streamable-http").await;
    let scope = Scope::start().await;
    let mut everything = everything_target();
    everything["env"] = json!({"API_KEY": ENV_SECRET});
    everything["name"] = json!("everything");
    let (status, a) = scope.post("/api/sessions", everything).await;
    assert_eq!(status, 201, "{a}");
    let (status, b) = scope
        .post(
            "/api/sessions",
            json!({"name": "remote", "url": peer.url("/mcp"),
                   "headers": {"X-Api-Key": HEADER_SECRET},
                   "oauth": {"clientId": "given", "clientSecret": OAUTH_SECRET}}),
        )
        .await;
    assert_eq!(status, 201, "{b}");
    // server-everything's get-env prints its environment: the secret comes back in a frame.
    let (status, body) = scope
        .post(
            "/api/sessions/s1/request",
            json!({"method": "tools/call", "params": {"name": "get-env", "arguments": {}}}),
        )
        .await;
    assert_eq!(status, 200);
    assert!(body.to_string().contains(ENV_SECRET), "the tool echoes it");
    scope
        .post("/api/sessions/s2/request", json!({"method": "tools/list"}))
        .await;
    // Regression: only the last target's secrets were scrubbed, though the history holds the
    // traffic of every target the session connected to.
    let mut again = everything_target();
    again["env"] = json!({"API_KEY": "sk-env-second-83d1"});
    let (status, body) = scope.post("/api/sessions/s1/connect", again).await;
    assert_eq!(status, 200, "{body}");

    let text = scope.export("s1").await;
    let all = lines(&text);
    let header = &all[0];
    assert_eq!(header["mcpscopeRecording"], 1);
    assert_eq!(header["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(header["session"], "s1");
    assert_eq!(header["era"], "legacy");
    assert_eq!(header["target"]["transport"], "stdio");
    assert_eq!(header["target"]["env"]["API_KEY"], "<redacted>");
    assert!(header["startedAt"].as_str().unwrap().ends_with('Z'));
    assert_eq!(header["startedAt"], all[1]["time"]);
    assert!(
        all[1..].iter().all(|e| e["session"] == "s1"),
        "only s1's events"
    );
    assert!(
        all[1..]
            .windows(2)
            .all(|w| w[0]["seq"].as_u64() < w[1]["seq"].as_u64())
    );
    assert!(
        all.iter()
            .any(|e| e["kind"] == "frame" && e["requestMethod"] == "tools/call")
    );
    assert!(
        !text.contains(ENV_SECRET),
        "the echoed env value is scrubbed"
    );
    let remote_text = scope.export("s2").await;
    for secret in [HEADER_SECRET, OAUTH_SECRET] {
        assert!(!remote_text.contains(secret), "{secret} in the export");
    }
    assert!(lines(&remote_text)[1..].iter().any(|e| e["kind"] == "http"));

    // Opened again: the same events, read-only, and the same file when exported again.
    let file = std::env::temp_dir().join(format!("mcpscope-rec-{}.ndjson", std::process::id()));
    std::fs::write(&file, &text).unwrap();
    let opened = Scope::start_with(&["open", file.to_str().unwrap()]).await;
    let (_, sessions) = opened.get("/api/sessions").await;
    let s = &sessions[0];
    assert_eq!(
        (s["id"].as_str(), s["state"].as_str(), s["name"].as_str()),
        (Some("s1"), Some("recorded"), Some("everything")),
        "{s:#}"
    );
    assert_eq!(s["serverInfo"]["name"], "mcp-servers/everything");
    assert_eq!(s["recording"]["events"], all.len() - 1);
    let mut events = opened.events().await;
    let first = events.wait_for("the first recorded event", |_| true).await;
    assert_eq!(
        first, all[1],
        "the event stream replays the file's events as written"
    );
    assert_eq!(
        opened.export("s1").await,
        text,
        "exported again byte for byte"
    );
    // Lists answer from the recording, so the workbench shows them; nothing else is sent.
    let (status, body) = opened
        .post("/api/sessions/s1/request", json!({"method": "tools/list"}))
        .await;
    assert_eq!(status, 404, "this session never listed tools: {body}");
    let (status, body) = opened
        .post(
            "/api/sessions/s1/request",
            json!({"method": "tools/call", "params": {"name": "echo", "arguments": {}}}),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("read-only")
    );
    let (status, _) = opened
        .post("/api/sessions/s1/connect", everything_target())
        .await;
    assert_eq!(status, 409);
    // A recording's file never chooses what runs: a replay must name its target, in full.
    let (status, body) = opened.post("/api/sessions/s1/replay", json!({})).await;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("\"target\"")
    );
    let mut redacted = everything_target();
    redacted["env"] = header["target"]["env"].clone();
    let (status, body) = opened
        .post("/api/sessions/s1/replay", json!({"target": redacted}))
        .await;
    assert_eq!(status, 400, "{body}");
    // Or against another session's target, which must exist; never both ways at once.
    for (body, status) in [
        (json!({"against": "s9"}), 404),
        (json!({"against": "s1", "target": everything_target()}), 400),
    ] {
        let (got, answer) = opened.post("/api/sessions/s1/replay", body).await;
        assert_eq!(got, status, "{answer}");
    }
    // Other sessions are numbered after the recording's.
    let (status, c) = opened.post("/api/sessions", demo_target()).await;
    assert_eq!((status.as_u16(), c["id"].as_str()), (201, Some("s2")));
    std::fs::remove_file(file).ok();
}

#[tokio::test]
async fn open_refuses_a_file_that_is_not_a_recording() {
    let file = std::env::temp_dir().join(format!("mcpscope-notrec-{}.json", std::process::id()));
    std::fs::write(&file, "{\"mcpServers\": {}}\n").unwrap();
    let out = tokio::process::Command::new(bin())
        .args(["--port", "0", "--no-open", "open"])
        .arg(&file)
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not an mcpscope recording header"), "{err}");
    std::fs::remove_file(file).ok();
}

/// A session against server-everything with answers that do not change from run to run.
pub async fn record_everything(scope: &Scope) -> String {
    let (status, s) = scope.post("/api/sessions", everything_target()).await;
    assert_eq!(status, 201, "{s}");
    let id = s["id"].as_str().unwrap().to_owned();
    for (method, params) in [
        ("tools/list", json!({})),
        (
            "tools/call",
            json!({"name": "echo", "arguments": {"message": "hi"}}),
        ),
        (
            "tools/call",
            json!({"name": "get-sum", "arguments": {"a": 2, "b": 3}}),
        ),
        (
            "resources/read",
            json!({"uri": "demo://resource/static/document/architecture.md"}),
        ),
        ("prompts/get", json!({"name": "simple-prompt"})),
    ] {
        let (status, body) = scope
            .post(
                &format!("/api/sessions/{id}/request"),
                json!({"method": method, "params": params}),
            )
            .await;
        assert_eq!(status, 200, "{method}: {body}");
    }
    scope.export(&id).await
}

/// A recording written to a temporary file (named by `tag`), and mcpscope opening it.
pub async fn opened(tag: &str, text: &str) -> (std::path::PathBuf, Scope) {
    let file = std::env::temp_dir().join(format!("mcpscope-{tag}-{}.ndjson", std::process::id()));
    std::fs::write(&file, text).unwrap();
    let scope = Scope::start_with(&["open", file.to_str().unwrap()]).await;
    (file, scope)
}

/// `altering_proxy.py` in front of server-everything: the echo tool's text changed.
fn altered_everything() -> Vec<String> {
    let t = everything_target();
    let mut cmd = vec![
        python(),
        root()
            .join("tests/servers/altering_proxy.py")
            .display()
            .to_string(),
        "Echo: ".into(),
        "Echo (altered): ".into(),
        "--".into(),
        t["command"].as_str().unwrap().into(),
    ];
    cmd.extend(
        t["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned()),
    );
    cmd
}

pub async fn replay_cli(file: &std::path::Path, extra: &[String]) -> (i32, String, String) {
    let out = tokio::process::Command::new(bin())
        .args(["replay", "-q"])
        .arg(file)
        .args(extra)
        .output()
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn a_recording_replays_the_same_against_its_server_and_names_what_changed() {
    let scope = Scope::start().await;
    let text = record_everything(&scope).await;

    // Opened, it lists what it recorded.
    let (file, opened) = opened("replay", &text).await;
    let (status, body) = opened
        .post("/api/sessions/s1/request", json!({"method": "tools/list"}))
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "echo")
    );
    drop(opened);

    // A file never chooses what runs by itself: one this mcpscope did not seal (here, the
    // export with its target edited) shows all it names (a crafted environment and working
    // directory too) and starts nothing without --recorded-target.
    let crafted = file.with_extension("crafted.ndjson");
    let mut lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines[0]["target"]["env"] = json!({"LD_PRELOAD": "/tmp/not a lib.so"});
    lines[0]["target"]["cwd"] = json!("/tmp");
    let crafted_text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(&crafted, crafted_text).unwrap();
    let (code, out, err) = replay_cli(&crafted, &[]).await;
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.is_empty(), "{out}");
    let err: Value = serde_json::from_str(err.trim()).unwrap();
    assert_eq!(err["error"]["target"], lines[0]["target"]);
    let err = err["error"]["message"].as_str().unwrap();
    for shown in [
        "command: node",
        r#"env: LD_PRELOAD="/tmp/not a lib.so""#,
        "cwd: /tmp",
        "--recorded-target --accept-requests",
        r#"1. tools/list {}"#,
        r#"tools/call {"name":"echo","arguments":{"message":"hi"}}"#,
    ] {
        assert!(err.contains(shown), "{shown:?} in\n{err}");
    }

    assert!(lines[0]["seal"].is_string(), "{}", lines[0]);
    // The export as written: sealed here, its recorded target starts again, every answer the same.
    let (code, out, err) = replay_cli(&file, &[]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    for line in [
        "same      initialize",
        "same      tools/call echo",
        "same      tools/call get-sum",
        "same      resources/read demo://resource/static/document/architecture.md",
        "same      prompts/get simple-prompt",
        "6 same, 0 different, 0 missing",
    ] {
        assert!(out.contains(line), "{line:?} in\n{out}");
    }

    // The same server with the echo tool's text altered: that request differs, by its path.
    let mut altered = vec!["--".to_owned()];
    altered.extend(altered_everything());
    let (code, out, err) = replay_cli(&file, &altered).await;
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(out.contains("different tools/call echo"), "{out}");
    assert!(
        out.contains(r#"$.result.content[0].text: "Echo: hi" → "Echo (altered): hi""#),
        "{out}"
    );
    assert!(out.contains("5 same, 1 different, 0 missing"), "{out}");

    // --ignore takes the difference out; JSON output says the same in fields.
    let mut ignored = vec![
        "--ignore".to_owned(),
        "$.result.content[*].text".into(),
        "--format".into(),
        "json".into(),
    ];
    ignored.extend(altered);
    let (code, out, err) = replay_cli(&file, &ignored).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["summary"]["different"], 0);
    assert!(report["summary"]["requestsPerSecond"].as_f64().unwrap() > 0.0);

    // The API runs the same replay in a new session the UI can show.
    let (status, report) = scope.post("/api/sessions/s1/replay", json!({})).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["summary"]["same"], 6, "{report:#}");
    let replay_session = report["session"].as_str().unwrap();
    let (_, s) = scope.get(&format!("/api/sessions/{replay_session}")).await;
    assert_eq!(s["name"], format!("replay of {}", "node index.js"));
    // Regression: each run left a connected session and its server running, and its time left
    // out starting the server.
    assert_eq!(s["state"], "disconnected", "{s:#}");
    let (start, whole) = (
        report["summary"]["startSeconds"].as_f64().unwrap(),
        report["summary"]["seconds"].as_f64().unwrap(),
    );
    assert!(start > 0.0 && whole > start, "{report:#}");
    let (status, kept) = scope
        .post("/api/sessions/s1/replay", json!({"keep": true}))
        .await;
    assert_eq!(status, 200, "{kept}");
    let (_, s) = scope
        .get(&format!(
            "/api/sessions/{}",
            kept["session"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s["state"], "connected", "kept on request: {s:#}");
    let alt = altered_everything();
    let (status, report) = scope
        .post(
            "/api/sessions/s1/replay",
            json!({"target": {"command": alt[0], "args": alt[1..]}}),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    let echo = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "echo")
        .unwrap();
    assert_eq!(echo["status"], "different");
    assert_eq!(echo["differences"][0]["path"], "$.result.content[0].text");
    assert!(echo["replayedSeq"].as_u64().is_some() && echo["recordedSeq"].as_u64().is_some());
    std::fs::remove_file(file).ok();
}

/// Shows the dock's Findings tab, found by its role and visible name.
async fn findings_tab(c: &fantoccini::Client) {
    c.find(fantoccini::Locator::XPath(
        "//button[@role='tab'][starts-with(normalize-space(), 'Findings')]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
}

/// Clicks the button whose visible text is `text` (inside `scope_css`).
async fn click_text(c: &fantoccini::Client, scope_css: &str, text: &str) {
    let xpath = format!(
        "//*[@id='{}']//button[normalize-space()='{text}'] | //button[@id='{}' and normalize-space()='{text}']",
        scope_css, scope_css
    );
    c.find(fantoccini::Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|e| panic!("no button {text:?}: {e}"))
        .click()
        .await
        .unwrap();
}

#[tokio::test]
async fn the_findings_tab_groups_by_rule_links_frames_exports_and_replays() {
    use crate::browser::{find, open_ui, wait_text};
    let scope = Scope::start().await;
    let bad = root().join("tests/servers/lint_bad_server.py");
    let (status, s) = scope
        .post(
            "/api/sessions",
            json!({"name": "bad", "transport": "stdio", "command": python(),
                   "args": ["-u", bad.display().to_string()]}),
        )
        .await;
    assert_eq!(status, 201, "{s}");
    scope
        .post("/api/sessions/s1/request", json!({"method": "tools/list"}))
        .await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    wait_text(c, "#state", "connected", |t| t == "connected").await;
    // Regression: "Load all" on a list whose cursor repeats used to loop for ever.
    c.wait()
        .at_most(DEADLINE)
        .for_element(fantoccini::Locator::Css("#tools-all:not([hidden])"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .at_most(DEADLINE)
        .for_element(fantoccini::Locator::Css("#tools-all[hidden]"))
        .await
        .unwrap();
    wait_text(c, "#tool-list", "the second page", |t| {
        t.contains("wrong_structured")
    })
    .await;
    // Regression: a list page that failed (error code 0) left the pane looking empty.
    c.wait()
        .at_most(DEADLINE)
        .for_element(fantoccini::Locator::Css("#resources-more:not([hidden])"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let said = wait_text(c, "#resources-error", "the failed page said", |t| {
        !t.is_empty()
    })
    .await;
    assert_eq!(
        said,
        "resources/list failed: database is locked (error 0, not a JSON-RPC or MCP code)"
    );
    wait_text(c, "#resources-count", "the first page kept", |t| {
        t.contains('3')
    })
    .await;
    findings_tab(c).await;
    let list = wait_text(c, "#findings-list", "the findings by rule", |t| {
        t.contains("cursor-repeat") && t.contains("list-failed")
    })
    .await;
    for rule in [
        "error-code",
        "undeclared-capability",
        "protocol-version",
        "id-reused",
        "tool-name-duplicate",
    ] {
        assert!(list.contains(rule), "{rule} in {list}");
    }
    let summary = find(c, "#findings-summary").await.text().await.unwrap();
    assert!(
        summary.contains("errors") && summary.contains("21 rules checked"),
        "{summary}"
    );
    // A finding's frame opens in the timeline.
    let frame = find(c, "#findings-list .finding-list button").await;
    assert!(frame.text().await.unwrap().starts_with("frame #"));
    frame.click().await.unwrap();
    assert!(
        find(c, "#panel-timeline")
            .await
            .attr("hidden")
            .await
            .unwrap()
            .is_none()
    );

    findings_tab(c).await;
    click_text(c, "export-run", "Export recording").await;
    wait_text(c, "#export-slot", "a download", |t| {
        t.contains("Download") && t.contains("secrets redacted")
    })
    .await;
    click_text(c, "replay-run", "Replay").await;
    let report = wait_text(c, "#replay-report", "the replay report", |t| {
        t.contains("0 different")
    })
    .await;
    assert!(
        report.contains("same") && report.contains("tools/list"),
        "{report}"
    );
    if let Ok(dir) = std::env::var("MCPSCOPE_SCREENSHOTS") {
        let png = c.screenshot().await.unwrap();
        std::fs::write(std::path::Path::new(&dir).join("findings.png"), png).unwrap();
    }
    b.client.clone().close().await.unwrap();
}

#[tokio::test]
async fn an_opened_recording_shows_its_server_and_lists_read_only_in_the_browser() {
    use crate::browser::{find, open_ui, wait_text};
    let scope = Scope::start().await;
    let text = record_everything(&scope).await;
    // The file names a working directory: the Replay button must show it before anything runs.
    let mut lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines[0]["target"]["cwd"] = json!("/tmp/a dir");
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let (file, opened) = opened("open-ui", &text).await;
    let b = open_ui(&opened).await;
    let c = &b.client;
    // Regression: the recording's own `connected` state events, replayed as history, made the
    // page take it for a live server (and say every unrecorded list was missing).
    wait_text(c, "#tool-list", "the recorded tools", |t| {
        t.contains("echo")
    })
    .await;
    assert_eq!(find(c, "#state").await.text().await.unwrap(), "recorded");
    let notice = c
        .execute(
            "return document.getElementById('notice').textContent",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        notice,
        json!(""),
        "no complaint about lists it never recorded"
    );
    assert!(
        find(c, "#call-tool")
            .await
            .prop("disabled")
            .await
            .unwrap()
            .as_deref()
            == Some("true")
    );
    assert!(
        find(c, "#disconnect")
            .await
            .prop("disabled")
            .await
            .unwrap()
            .as_deref()
            == Some("true")
    );
    // Regression: a recorded tool showed an empty form and nothing of what was recorded.
    crate::daily_ui::open_item(c, "echo").await;
    wait_text(c, "#result", "the recorded answer", |t| {
        t.contains("Echo: hi")
    })
    .await;
    let history = find(c, "#history-list").await.text().await.unwrap();
    assert!(
        history.contains("recorded #") && !history.contains("Re-run"),
        "{history}"
    );
    let typed =
        crate::daily_ui::js(c, "return document.querySelector('#tool-form input').value").await;
    assert_eq!(typed, json!("hi"), "the form holds the recorded arguments");
    // Nothing on it sends: no Connect form, no Refresh, no Call, and it says why.
    for (css, what) in [
        ("#connect-box", "the connect form"),
        ("#list-tools", "Refresh"),
        ("#call-tool", "Call tool"),
    ] {
        assert!(
            !find(c, css).await.is_displayed().await.unwrap(),
            "{what} offered"
        );
    }
    let note = find(c, "#tool-detail .recorded-note").await;
    assert!(note.is_displayed().await.unwrap());

    // Replay asks first, naming all the file would run; declined, nothing starts.
    findings_tab(c).await;
    click_text(c, "replay-run", "Replay").await;
    let asked = crate::browser::wait_question(c).await;
    for shown in [
        "command: node",
        r#"cwd: "/tmp/a dir""#,
        r#"tools/call {"name":"echo","arguments":{"message":"hi"}}"#,
    ] {
        assert!(asked.contains(shown), "{shown:?} in {asked:?}");
    }
    c.dismiss_alert().await.unwrap();
    let (_, sessions) = opened.get("/api/sessions").await;
    assert_eq!(sessions.as_array().unwrap().len(), 1, "{sessions}");

    // Against a server the user connected here (their own build, say): the file was edited
    // since it was sealed, so it still asks first, listing every request it would send;
    // accepted, every answer the same.
    let mut mine = everything_target();
    mine["name"] = json!("my build");
    let (status, s) = opened.post("/api/sessions", mine).await;
    assert_eq!(status, 201, "{s}");
    c.wait()
        .at_most(crate::support::DEADLINE)
        .for_element(fantoccini::Locator::XPath(
            "//label[contains(., 'against')]/select/option[normalize-space()='my build · s2']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click_text(c, "replay-run", "Replay").await;
    let asked = crate::browser::wait_question(c).await;
    for shown in [
        "not written by mcpscope here",
        r#"tools/call {"name":"get-sum","arguments":{"a":2,"b":3}}"#,
        "my build · s2",
    ] {
        assert!(asked.contains(shown), "{shown:?} in {asked:?}");
    }
    c.accept_alert().await.unwrap();
    let report = wait_text(c, "#replay-report", "the replay report", |t| {
        t.contains("different")
    })
    .await;
    assert!(report.contains("0 different, 0 missing"), "{report}");
    b.client.clone().close().await.unwrap();
    std::fs::remove_file(file).ok();
}

/// The replay report's item for a method (and tool name, for calls).
fn item<'a>(report: &'a Value, label: &str) -> &'a Value {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            format!(
                "{} {}",
                i["method"].as_str().unwrap(),
                i["label"].as_str().unwrap_or("")
            )
            .trim()
                == label
        })
        .unwrap_or_else(|| panic!("no {label} in {report:#}"))
}

#[tokio::test]
async fn input_rounds_and_an_auto_fallback_replay_the_same() {
    use crate::eras::{modern_stdio, with_era};
    let scope = Scope::start().await;
    let mut events = scope.events().await;

    // A modern call that asked for input, answered by hand: the recording's answer for it is
    // the call's last round, and the replay answers the input request as the user did.
    scope.connect(with_era(modern_stdio(), "modern")).await;
    let call = scope.spawn_request(json!({"method": "tools/call",
        "params": {"name": "book_table", "arguments": {"day": "friday"}}}));
    let pending = events
        .wait_for("the input request", |e| e["kind"] == "pending")
        .await;
    let (status, _) = scope
        .post(
            &format!("/api/pending/{}", pending["id"].as_str().unwrap()),
            json!({"result": {"action": "accept", "content": {"outdoor": false, "guests": 4}}}),
        )
        .await;
    assert_eq!(status, 200);
    let (status, answer) = decode(call.await.unwrap()).await;
    assert_eq!(status, 200, "{answer}");
    let (status, report) = scope.post("/api/sessions/s1/replay", json!({})).await;
    assert_eq!(status, 200, "{report}");
    let booked = item(&report, "tools/call book_table");
    assert_eq!(booked["status"], "same", "{report:#}");
    assert_eq!(report["summary"]["serverRequestsAnswered"], 1, "{report:#}");
    assert_eq!(report["summary"]["different"], 0, "{report:#}");

    // `auto` against a legacy server probes with server/discover and falls back: the replay
    // speaks legacy too, and lint still holds it to the legacy handshake.
    let (status, s) = scope
        .post("/api/sessions", with_era(everything_target(), "auto"))
        .await;
    assert_eq!(status, 201, "{s}");
    let id = s["id"].as_str().unwrap().to_owned();
    assert_eq!(s["era"], "legacy", "{s:#}");
    let (status, _) = scope
        .post(
            &format!("/api/sessions/{id}/request"),
            json!({"method": "tools/call", "params": {"name": "echo", "arguments": {"message": "hi"}}}),
        )
        .await;
    assert_eq!(status, 200);
    // Kept connected, so its era can be read.
    let (status, report) = scope
        .post(&format!("/api/sessions/{id}/replay"), json!({"keep": true}))
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        item(&report, "tools/call echo")["status"],
        "same",
        "{report:#}"
    );
    let replayed = report["session"].as_str().unwrap();
    let (_, r) = scope.get(&format!("/api/sessions/{replayed}")).await;
    assert_eq!(r["era"], "legacy", "{r:#}");
}

//! `mcpscope tap`: real clients (the Python SDK 1.x and 2.x, the TypeScript SDK) run their
//! servers through the tap, as a client config would. What they get must be what they get
//! without it, and the running mcpscope must show every line that passed, in order, as a
//! read-only session.

use std::process::Stdio;

use serde_json::{Value, json};
use tokio::process::Command;

use crate::support::*;

const EVERYTHING: &str =
    "tests/peers/node_modules/@modelcontextprotocol/server-everything/dist/index.js";

/// Runs a client script to its end; its JSON report.
pub async fn run_client(program: &str, args: &[&str], env: &[(&str, &str)]) -> Value {
    let out = tokio::time::timeout(
        DEADLINE,
        Command::new(program)
            .args(args)
            .envs(env.iter().copied())
            .current_dir(root())
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output(),
    )
    .await
    .expect("the client finishes within the deadline")
    .expect("the client runs");
    assert!(
        out.status.success(),
        "client {args:?} failed: {:?}",
        out.status
    );
    let text = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("client printed no report ({e}): {text}"))
}

/// The Python SDK client (`python`: 1.x or 2.x) runs its script on server-everything through
/// `mcpscope tap --to TO TAP_FLAGS…`, with `env`; what it got.
pub async fn via_tap(python: &str, to: &str, tap_flags: &[&str], env: &[(&str, &str)]) -> Value {
    let client = sdk_client();
    let mut args = vec![client.as_str(), "stdio", bin(), "tap", "--to", to];
    args.extend(tap_flags);
    args.extend(["--", "node", EVERYTHING, "stdio"]);
    run_client(python, &args, env).await
}

pub fn sdk_client() -> String {
    root()
        .join("tests/clients/sdk_client.py")
        .display()
        .to_string()
}

/// The client's view without the tap and with it, for one server command.
async fn direct_and_tapped(
    client: &[String],
    server: &[&str],
    scope: &Scope,
    extra_tap: &[&str],
) -> (Value, Value) {
    let client_args: Vec<&str> = client[1..].iter().map(String::as_str).collect();
    let mut direct = client_args.clone();
    direct.extend(server);
    let mut tapped = client_args.clone();
    tapped.extend([bin(), "tap", "--to", &scope.base]);
    tapped.extend(extra_tap);
    tapped.push("--");
    tapped.extend(server);
    let env = [("MCPSCOPE_TOKEN", scope.token.as_str())];
    let a = run_client(&client[0], &direct, &[]).await;
    let b = run_client(&client[0], &tapped, &env).await;
    (a, b)
}

/// The tapped sessions mcpscope lists, newest last.
async fn tapped_sessions(scope: &Scope) -> Vec<Value> {
    let (_, list) = scope.get("/api/sessions").await;
    list.as_array()
        .unwrap()
        .iter()
        .filter(|s| s["tapped"] == true)
        .cloned()
        .collect()
}

/// A session's exported events (header first).
pub async fn export_lines(scope: &Scope, id: &str) -> Vec<Value> {
    let text = scope.export(id).await;
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The frames of an export: direction, and the message's method or the method it answers.
fn frames(lines: &[Value]) -> Vec<(String, String)> {
    lines
        .iter()
        .filter(|e| e["kind"] == "frame")
        .map(|e| {
            let what = e["method"]
                .as_str()
                .or(e["requestMethod"].as_str())
                .unwrap_or("?");
            (e["direction"].as_str().unwrap().to_owned(), what.to_owned())
        })
        .collect()
}

/// Waits until the newest tapped session has ended (the client closed it).
async fn ended_tap(scope: &Scope, events: &mut Events) -> Value {
    events
        .wait_for("the tapped session to end", |e| {
            e["kind"] == "state" && e["tapped"] == true && e["state"] == "disconnected"
        })
        .await;
    tapped_sessions(scope).await.pop().unwrap()
}

#[tokio::test]
async fn python_sdk_clients_get_the_same_answers_through_the_tap_and_mcpscope_sees_every_line() {
    let scope = Scope::start().await;
    for (python, sdk) in [(python(), "1.x"), (python2(), "2.x")] {
        let mut events = scope.events_since(0).await;
        let client = vec![python.clone(), sdk_client(), "stdio".into()];
        let save = std::env::temp_dir().join(format!("mcpscope-tap-{}-{sdk}.ndjson", scope.port));
        let save_arg = save.display().to_string();
        let (direct, tapped) = direct_and_tapped(
            &client,
            &["node", EVERYTHING, "stdio"],
            &scope,
            &["--save", &save_arg, "--name", "everything via tap"],
        )
        .await;
        assert_eq!(
            direct["results"], tapped["results"],
            "SDK {sdk}: answers differ"
        );
        assert!(tapped["errors"].as_array().unwrap().is_empty(), "{tapped}");

        let session = ended_tap(&scope, &mut events).await;
        assert_eq!(session["name"], "everything via tap");
        assert_eq!(session["serverInfo"]["name"], "mcp-servers/everything");
        assert_eq!(session["clientInfo"]["name"], "mcp", "{session}");
        assert_eq!(session["protocolVersion"], tapped_version(&session));
        let id = session["id"].as_str().unwrap();
        let lines = export_lines(&scope, id).await;
        let seen = frames(&lines);
        // The client's script, in order, each answered (server notifications and requests
        // may come between).
        let ours: Vec<&(String, String)> = seen.iter().filter(|(d, _)| d == "sent").collect();
        let methods: Vec<&str> = ours.iter().map(|(_, m)| m.as_str()).collect();
        let script = [
            "initialize",
            "notifications/initialized",
            "tools/list",
            "tools/call",
            "resources/list",
            "resources/read",
            "prompts/list",
        ];
        let mut at = 0;
        for m in methods
            .iter()
            .filter(|m| script.contains(m) || **m == "roots/list")
        {
            if *m == "roots/list" {
                continue; // the client's answer to the server's roots/list
            }
            assert_eq!(*m, script[at], "SDK {sdk}: sent order {methods:?}");
            at += 1;
        }
        assert_eq!(at, script.len(), "SDK {sdk}: sent {methods:?}");
        for m in [
            "initialize",
            "tools/list",
            "tools/call",
            "resources/read",
            "prompts/list",
        ] {
            assert!(
                seen.iter().any(|(d, w)| d == "received" && w == m),
                "SDK {sdk}: no answer to {m} in {seen:?}"
            );
        }
        // The engine judged the tapped lines as it judges ours: a clean exchange has no
        // finding worth a badge.
        assert_eq!(session["findings"], 0, "{lines:?}");
        // The echo the client got is the frame mcpscope shows, byte for byte.
        let echo = lines
            .iter()
            .find(|e| e["kind"] == "frame" && e["requestMethod"] == "tools/call")
            .unwrap();
        assert_eq!(
            echo["message"]["result"]["content"], tapped["results"][1][1]["content"],
            "the answer shown is the answer the client got"
        );

        // Nothing can be sent on a tapped session.
        for (path, body) in [
            ("request", json!({"method": "ping"})),
            (
                "notify",
                json!({"method": "notifications/roots/list_changed"}),
            ),
            ("disconnect", json!({})),
            ("reconnect", json!({})),
        ] {
            let (status, answer) = scope
                .post(&format!("/api/sessions/{id}/{path}"), body)
                .await;
            assert_eq!(status, 409, "{path}: {answer}");
            assert!(
                answer["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("tapped")
            );
        }
        // What the client listed is what the session shows (from what passed).
        let (status, listed) = scope
            .post(
                &format!("/api/sessions/{id}/list"),
                json!({"method": "tools/list"}),
            )
            .await;
        assert_eq!(status, 200);
        let names = |tools: &Value| -> Vec<Value> {
            tools["tools"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["name"].clone())
                .collect()
        };
        assert_eq!(names(&listed["result"]), names(&tapped["results"][0][1]));
        // Lint reads it like any session.
        let (status, lint) = scope.get(&format!("/api/sessions/{id}/lint")).await;
        assert_eq!(status, 200, "{lint}");

        // --save wrote the same lines as a recording, which mcpscope reads back.
        let text = std::fs::read_to_string(&save).unwrap();
        let saved: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(saved[0]["mcpscopeRecording"], 1);
        assert_eq!(
            frames(&saved),
            seen,
            "SDK {sdk}: the saved lines are the shown lines"
        );
        let _ = std::fs::remove_file(&save);
    }
}

fn tapped_version(session: &Value) -> Value {
    session["protocolVersion"].clone()
}

#[tokio::test]
async fn the_typescript_sdk_client_gets_the_same_answers_through_the_tap() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let client = vec![
        "node".to_owned(),
        root()
            .join("tests/peers/ts_client.mjs")
            .display()
            .to_string(),
        "stdio".into(),
    ];
    let (direct, tapped) =
        direct_and_tapped(&client, &["node", EVERYTHING, "stdio"], &scope, &[]).await;
    assert_eq!(direct["results"], tapped["results"]);
    let session = ended_tap(&scope, &mut events).await;
    assert_eq!(session["clientInfo"]["name"], "ts-sdk-test-client");
    assert_eq!(session["name"], "node index.js");
    let lines = export_lines(&scope, session["id"].as_str().unwrap()).await;
    assert!(frames(&lines).contains(&("received".into(), "tools/call".into())));
}

#[tokio::test]
async fn a_python_sdk_server_is_tapped_for_a_python_sdk_client() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let client = [python(), sdk_client(), "stdio".into()];
    let calls = json!([
        ["tools/list", {}],
        ["tools/call", {"name": "add", "arguments": {"a": 2, "b": 40}}],
        ["tools/call", {"name": "nope", "arguments": {}}],
        ["prompts/list", {}]
    ])
    .to_string();
    let server_path = root()
        .join("tests/servers/fastmcp_server.py")
        .display()
        .to_string();
    let py = python();
    let server = [py.as_str(), "-u", server_path.as_str()];
    let client_args: Vec<&str> = client[1..].iter().map(String::as_str).collect();
    let mut direct = client_args.clone();
    direct.extend(server);
    let mut tapped = client_args.clone();
    tapped.extend([bin(), "tap", "--to", &scope.base, "--"]);
    tapped.extend(server);
    let a = run_client(&client[0], &direct, &[("CALLS", &calls)]).await;
    let b = run_client(
        &client[0],
        &tapped,
        &[("CALLS", &calls), ("MCPSCOPE_TOKEN", &scope.token)],
    )
    .await;
    assert_eq!(a["results"], b["results"]);
    assert_eq!(a["errors"], b["errors"]);
    let session = ended_tap(&scope, &mut events).await;
    assert_eq!(session["serverInfo"]["name"], "Demo");
    let lines = export_lines(&scope, session["id"].as_str().unwrap()).await;
    let calls: Vec<&Value> = lines
        .iter()
        .filter(|e| e["kind"] == "frame" && e["requestMethod"] == "tools/call")
        .collect();
    assert_eq!(calls.len(), 2);
    assert!(calls[0]["durationMs"].as_f64().is_some());
}

#[tokio::test]
async fn with_no_mcpscope_running_the_traffic_passes_and_the_recording_is_written() {
    // A port nothing listens on: the one this test's own listener had.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let to = format!("http://127.0.0.1:{}", closed.local_addr().unwrap().port());
    drop(closed);
    let save =
        std::env::temp_dir().join(format!("mcpscope-tap-alone-{}.ndjson", std::process::id()));
    let save_arg = save.display().to_string();
    let client = sdk_client();
    let direct = run_client(
        &python(),
        &[&client, "stdio", "node", EVERYTHING, "stdio"],
        &[],
    )
    .await;
    let tapped = via_tap(
        &python(),
        &to,
        &["--save", &save_arg],
        &[("MCPSCOPE_TOKEN", "nobody-listens")],
    )
    .await;
    assert_eq!(direct["results"], tapped["results"]);
    let text = std::fs::read_to_string(&save).unwrap();
    let saved: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(frames(&saved).contains(&("received".into(), "resources/read".into())));
    // The file opens as a recording.
    let scope = Scope::start_with(&["open", &save_arg]).await;
    let (_, sessions) = scope.get("/api/sessions").await;
    assert_eq!(sessions[0]["state"], "recorded");
    let _ = std::fs::remove_file(&save);
}

#[tokio::test]
async fn the_exit_code_and_a_signal_pass_through_the_tap() {
    let closed = "http://127.0.0.1:9";
    let status = Command::new(bin())
        .args(["tap", "--to", closed, "--", "sh", "-c", "echo '{}'; exit 7"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .await
        .unwrap();
    assert_eq!(status.code(), Some(7));
    // SIGTERM to the tap reaches the server, which says so on stdout and exits 3.
    let mut child = Command::new(bin())
        .args([
            "tap",
            "--to",
            closed,
            "--",
            "sh",
            "-c",
            "trap 'echo got-term; exit 3' TERM; echo ready; while true; do sleep 0.05; done",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = tokio::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    use tokio::io::AsyncBufReadExt;
    tokio::time::timeout(DEADLINE, out.read_line(&mut line))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(line, "ready\n");
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id().unwrap() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    line.clear();
    tokio::time::timeout(DEADLINE, out.read_line(&mut line))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(line, "got-term\n");
    let status = tokio::time::timeout(DEADLINE, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(3));
}

#[tokio::test]
async fn an_installed_tap_runs_from_the_rewritten_config_line_and_uninstalls() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let dir = std::env::temp_dir().join(format!("mcpscope-install-it-{}", scope.port));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("claude_desktop_config.json");
    let original = json!({"mcpServers": {"everything": {
        "command": "node",
        "args": [root().join(EVERYTHING).display().to_string(), "stdio"]
    }}});
    std::fs::write(&config, original.to_string()).unwrap();
    let config_arg = config.display().to_string();
    let install = Command::new(bin())
        .args([
            "tap",
            "--to",
            &scope.base,
            "--install",
            &config_arg,
            "--server",
            "everything",
        ])
        .output()
        .await
        .unwrap();
    assert!(install.status.success(), "{install:?}");
    // What Claude Desktop would now run, run by a real client.
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    let entry = &file["mcpServers"]["everything"];
    let mut args = vec![
        sdk_client(),
        "stdio".into(),
        entry["command"].as_str().unwrap().to_owned(),
    ];
    args.extend(
        entry["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_owned()),
    );
    let report = run_client(
        &python(),
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        &[("MCPSCOPE_TOKEN", &scope.token)],
    )
    .await;
    assert!(report["errors"].as_array().unwrap().is_empty());
    let session = ended_tap(&scope, &mut events).await;
    assert_eq!(session["name"], "everything");
    let uninstall = Command::new(bin())
        .args(["tap", "--uninstall", &config_arg, "--server", "everything"])
        .output()
        .await
        .unwrap();
    assert!(uninstall.status.success());
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(file, original);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn the_page_shows_a_tapped_session_live_read_only_with_the_clients_calls() {
    use crate::browser::{find, open_ui, wait_text};
    let scope = Scope::start().await;
    let b = open_ui(&scope).await;
    let c = &b.client;
    // The connect form offers the line to paste into a client's config, for its command.
    crate::daily_ui::js(c, "document.getElementById('tap-box').open = true").await;
    let line = wait_text(c, "#tap-line", "the config line", |t| t.contains("\"tap\"")).await;
    let entry: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(entry["command"], bin());
    assert_eq!(entry["args"][2], scope.base, "{entry}");
    assert_eq!(entry["args"][5], "demo-server", "{entry}");

    let mut events = scope.events().await;
    // Regression: the page listed a tapped session once, at its handshake, before the client
    // had listed anything, and never again. The client thinks a while after its handshake.
    let calls = json!([
        ["sleep", {"s": 1.5}],
        ["tools/list", {}],
        ["tools/call", {"name": "echo", "arguments": {"message": "through the tap"}}]
    ])
    .to_string();
    let page_saw_handshake = async {
        wait_text(c, "#state", "the tapped session shown", |t| {
            t.contains("tapped")
        })
        .await;
    };
    let py = python();
    let env = [
        ("MCPSCOPE_TOKEN", scope.token.as_str()),
        ("CALLS", calls.as_str()),
    ];
    let client_run = via_tap(&py, &scope.base, &["--name", "claude's server"], &env);
    // The page shows the session while the client still thinks, then what it lists.
    let (_, report) = tokio::join!(page_saw_handshake, client_run);
    assert!(report["errors"].as_array().unwrap().is_empty(), "{report}");
    ended_tap(&scope, &mut events).await;
    wait_text(c, "#server-list", "the tapped session listed", |t| {
        t.contains("claude's server") && t.contains("tapped")
    })
    .await;
    crate::browser::click_fresh(
        c,
        fantoccini::Locator::XPath(
            "//ul[@id='server-list']//button[contains(., \"claude's server\")]",
        ),
        "the tapped session",
    )
    .await;
    wait_text(c, "#state", "the tapped state", |t| t.contains("tapped")).await;
    assert!(find(c, "#tap-note").await.is_displayed().await.unwrap());
    // The client's call, under its tool, with its answer; nothing on it sends.
    crate::daily_ui::open_item(c, "echo").await;
    wait_text(c, "#result", "the call the client made", |t| {
        t.contains("Echo: through the tap")
    })
    .await;
    for (css, what) in [("#call-tool", "Call tool"), ("#list-tools", "Refresh")] {
        assert!(
            !find(c, css).await.is_displayed().await.unwrap(),
            "{what} offered"
        );
    }
    assert!(
        find(c, "#disconnect")
            .await
            .prop("disabled")
            .await
            .unwrap()
            .as_deref()
            == Some("true")
    );
}

#[tokio::test]
async fn a_tap_started_with_a_clients_default_environment_finds_mcpscope() {
    // Regression: the token file's place came from XDG_RUNTIME_DIR, which the SDKs do not pass
    // to a server; a tap in a real client's config found no token and reported nothing. This
    // mcpscope keeps its token where a real one does (the user's home), not the tests' place.
    let scope = Scope::start_env(&[], &[("MCPSCOPE_RUN_DIR", "")]).await;
    let mut events = scope.events().await;
    let report = via_tap(&python(), &scope.base, &[], &[("SDK_DEFAULT_ENV", "1")]).await;
    assert!(report["errors"].as_array().unwrap().is_empty(), "{report}");
    let session = ended_tap(&scope, &mut events).await;
    assert_eq!(session["serverInfo"]["name"], "mcp-servers/everything");
}

#[tokio::test]
async fn a_forgotten_tapped_session_takes_nothing_more_from_its_report() {
    // Regression: frames of a report still arriving after the session was removed were
    // published under its id, after its `removed` event.
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(16);
    let record = |tag: &str, body: &[u8]| {
        let mut out = format!("{tag} {} 0\n", body.len()).into_bytes();
        out.extend_from_slice(body);
        out.push(b'\n');
        out
    };
    let hello = json!({"transport": "stdio", "command": "srv", "pid": 1}).to_string();
    tx.send(Ok(record("hello", hello.as_bytes())))
        .await
        .unwrap();
    tx.send(Ok(record(
        "c",
        br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
    )))
    .await
    .unwrap();
    // Its own client: the route ends this request before its body does, and that connection
    // must not be handed to the next request.
    let report = test_client()
        .post(scope.url("/api/tap"))
        .bearer_auth(&scope.token)
        .body(reqwest::Body::wrap_stream(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        ))
        .send();
    let report = tokio::spawn(report);
    let first = events
        .wait_for("the tapped ping", |e| {
            e["kind"] == "frame" && e["method"] == "ping"
        })
        .await;
    let id = first["session"].as_str().unwrap().to_owned();
    let (status, _) = scope
        .delete(&format!("/api/sessions/{id}"), json!({}))
        .await;
    assert_eq!(status, 200);
    let removed = events.wait_for("removed", |e| e["kind"] == "removed").await["seq"]
        .as_u64()
        .unwrap();
    for _ in 0..3 {
        let _ = tx
            .send(Ok(record("s", br#"{"jsonrpc":"2.0","id":1,"result":{}}"#)))
            .await;
    }
    drop(tx);
    let _ = tokio::time::timeout(DEADLINE, report).await;
    // A marker after everything the report could have caused.
    let mut marker = demo_target();
    marker["name"] = json!("marker");
    let (status, marker) = scope.post("/api/sessions", marker).await;
    assert_eq!(status, 201, "{marker}");
    events
        .wait_for("the marker session", |e| {
            e["kind"] == "state" && e["name"] == "marker"
        })
        .await;
    let after: Vec<&Value> = events
        .seen
        .iter()
        .filter(|e| e["seq"].as_u64().unwrap() > removed && e["session"] == id.as_str())
        .collect();
    assert!(after.is_empty(), "events after removal: {after:?}");
}

#[tokio::test]
async fn a_tapped_sessions_requests_replay_against_a_live_session_once_accepted() {
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    via_tap(
        &python(),
        &scope.base,
        &[],
        &[("MCPSCOPE_TOKEN", &scope.token)],
    )
    .await;
    let tapped = ended_tap(&scope, &mut events).await;
    let id = tapped["id"].as_str().unwrap();
    let (status, live) = scope.post("/api/sessions", everything_target()).await;
    assert_eq!(status, 201, "{live}");
    let live = live["id"].as_str().unwrap();
    // Another program chose these requests: nothing is sent before the user has read them.
    let (status, refused) = scope
        .post(
            &format!("/api/sessions/{id}/replay"),
            json!({"against": live}),
        )
        .await;
    assert_eq!(status, 409, "{refused}");
    let (status, plan) = scope.get(&format!("/api/sessions/{id}/replay")).await;
    assert_eq!(status, 200);
    assert_eq!(plan["sealed"], false, "{plan}");
    let (status, report) = scope
        .post(
            &format!("/api/sessions/{id}/replay"),
            json!({"against": live, "acceptRequests": true}),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    // The client's requests, answered by a live server-everything as they were through the tap.
    assert_eq!(report["summary"]["different"], 0, "{report:#}");
    assert!(
        report["summary"]["same"].as_u64().unwrap() >= 5,
        "{report:#}"
    );
}

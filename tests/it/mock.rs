//! `mcpscope mock`: a recording's server side served to real clients (the Python SDK 1.x and
//! 2.x, the TypeScript SDK) over stdio and Streamable HTTP. What they get must be what the real
//! server gave when it was recorded; what was never recorded is refused, naming the closest.

use std::process::Stdio;

use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::{
    support::*,
    tap::{run_client, sdk_client, via_tap},
};

/// A recording of a Python SDK client's script against server-everything, made by a tap with
/// no mcpscope running; and what the client got then.
async fn tapped_recording(tag: &str, python: &str) -> (std::path::PathBuf, Value) {
    let file = std::env::temp_dir().join(format!(
        "mcpscope-mock-{tag}-{}-{}.ndjson",
        std::process::id(),
        python.len()
    ));
    let save = file.display().to_string();
    let got = via_tap(python, "http://127.0.0.1:9", &["--save", &save], &[]).await;
    (file, got)
}

/// `mcpscope mock FILE --listen 0`, and the URL it printed.
pub async fn mock_http(file: &str, extra: &[&str]) -> (Child, String) {
    let mut cmd = Command::new(bin());
    cmd.args(["mock", file, "--listen", "0"])
        .args(extra)
        .stderr(Stdio::null());
    spawn_announcing(cmd, "mcpscope mock: ").await
}

#[tokio::test]
async fn sdk_clients_get_the_recorded_answers_from_the_mock_over_stdio() {
    let client = sdk_client();
    for python in [python2(), python()] {
        let (file, recorded) = tapped_recording("stdio", &python).await;
        let path = file.display().to_string();
        let got = run_client(&python, &[&client, "stdio", bin(), "mock", &path], &[]).await;
        assert_eq!(got["results"], recorded["results"], "{python}");
        assert_eq!(got["serverInfo"]["name"], "mcp-servers/everything");
        let _ = std::fs::remove_file(&file);
    }
    let (file, recorded) = tapped_recording("stdio", &python()).await;
    let path = file.display().to_string();
    let ts = root()
        .join("tests/peers/ts_client.mjs")
        .display()
        .to_string();
    let got = run_client("node", &[&ts, "stdio", bin(), "mock", &path], &[]).await;
    assert_eq!(
        got["results"][0][1]["tools"],
        recorded["results"][0][1]["tools"]
    );
    // A call never recorded is refused, naming the closest recorded one and where it differs.
    let calls = json!([["tools/call", {"name": "echo", "arguments": {"message": "never said"}}]])
        .to_string();
    let got = run_client(
        &python(),
        &[&client, "stdio", bin(), "mock", &path],
        &[("CALLS", &calls)],
    )
    .await;
    let error = got["errors"][0][1].as_str().unwrap();
    assert!(
        error.contains("closest recorded is tools/call")
            && error.contains("through the tap")
            && error.contains("$.arguments.message"),
        "{error}"
    );
    // ...unless --ignore says that argument does not matter.
    let got = run_client(
        &python(),
        &[
            &client,
            "stdio",
            bin(),
            "mock",
            &path,
            "--ignore",
            "$.arguments.message",
        ],
        &[("CALLS", &calls)],
    )
    .await;
    assert!(got["errors"].as_array().unwrap().is_empty(), "{got}");
    let _ = std::fs::remove_file(&file);
}

#[tokio::test]
async fn sdk_clients_get_the_recorded_answers_from_the_mock_over_streamable_http() {
    let client = sdk_client();
    for python in [python2(), python()] {
        let (file, recorded) = tapped_recording("http", &python).await;
        let (_mock, url) = mock_http(file.to_str().unwrap(), &[]).await;
        let got = run_client(&python, &[&client, "http", &url], &[]).await;
        assert_eq!(got["results"], recorded["results"], "{python}");
        let _ = std::fs::remove_file(&file);
    }
    let (file, recorded) = tapped_recording("http", &python()).await;
    let (_mock, url) = mock_http(file.to_str().unwrap(), &[]).await;
    let ts = root()
        .join("tests/peers/ts_client.mjs")
        .display()
        .to_string();
    let got = run_client("node", &[&ts, "http", &url], &[]).await;
    assert_eq!(
        got["results"][1][1]["content"],
        recorded["results"][1][1]["content"]
    );
    let _ = std::fs::remove_file(&file);
}

#[tokio::test]
async fn an_export_of_mcpscopes_own_session_is_served_with_the_servers_requests_in_order() {
    // mcpscope as the client: server-everything asks it for roots after the handshake, so the
    // recording holds a server request the mock must ask the new client too, and wait for.
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let (status, s) = scope.post("/api/sessions", everything_target()).await;
    assert_eq!(status, 201, "{s}");
    let id = s["id"].as_str().unwrap().to_owned();
    events
        .wait_for("server-everything asking for roots", |e| {
            e["kind"] == "frame" && e["direction"] == "received" && e["method"] == "roots/list"
        })
        .await;
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
    ] {
        let (status, body) = scope
            .post(
                &format!("/api/sessions/{id}/request"),
                json!({"method": method, "params": params}),
            )
            .await;
        assert_eq!(status, 200, "{method}: {body}");
    }
    let text = scope.export(&id).await;
    let file = std::env::temp_dir().join(format!("mcpscope-mock-export-{}.ndjson", scope.port));
    std::fs::write(&file, &text).unwrap();
    let path = file.display().to_string();
    let calls = json!([
        ["tools/list", {}],
        ["tools/call", {"name": "echo", "arguments": {"message": "hi"}}],
        ["tools/call", {"name": "get-sum", "arguments": {"a": 2, "b": 3}}]
    ])
    .to_string();
    let client = sdk_client();
    let got = run_client(
        &python(),
        &[&client, "stdio", bin(), "mock", &path],
        &[("CALLS", &calls)],
    )
    .await;
    assert!(got["errors"].as_array().unwrap().is_empty(), "{got}");
    assert_eq!(got["results"][1][1]["content"][0]["text"], "Echo: hi");
    assert_eq!(
        got["results"][2][1]["content"][0]["text"],
        "The sum of 2 and 3 is 5."
    );
    // The same over HTTP, watched through mcpscope's proxy: the server's request that came
    // after the client's `initialized` reaches the client on its session's own stream, and
    // the client's answer reaches the mock.
    let (_mock, url) = mock_http(&path, &[]).await;
    let (_proxy, relayed) = crate::proxy::proxy(&url, &scope, &["--name", "mock"]).await;
    // The client waits a moment after its handshake, so its own stream is open and served
    // before it is done.
    let mut slow: Vec<Value> = serde_json::from_str(&calls).unwrap();
    slow.insert(0, json!(["sleep", {"s": 1}]));
    let calls = Value::from(slow).to_string();
    let got = run_client(
        &python(),
        &[&client, "http", &relayed],
        &[("CALLS", &calls)],
    )
    .await;
    assert!(got["errors"].as_array().unwrap().is_empty(), "{got}");
    assert_eq!(
        got["results"][3][1]["content"][0]["text"],
        "The sum of 2 and 3 is 5."
    );
    events
        .wait_for("the replayed roots/list, answered by the client", |e| {
            e["kind"] == "frame" && e["direction"] == "sent" && e["requestMethod"] == "roots/list"
        })
        .await;
    let _ = std::fs::remove_file(&file);
}

//! `mcpscope proxy`: real clients (the Python SDK 1.x and 2.x, the TypeScript SDK) reach
//! server-everything and a FastMCP server over Streamable HTTP and legacy SSE through the relay.
//! What they get must be what they get without it; the running mcpscope shows the exchange as a
//! tapped session, the client's credential hidden.

use std::process::Stdio;

use serde_json::Value;
use tokio::process::{Child, Command};

use crate::{
    remote::{everything, fastmcp},
    support::*,
    tap::{export_lines, run_client, sdk_client},
};

/// `mcpscope proxy --listen 0 --upstream URL --to SCOPE`, and the URL it printed.
pub async fn proxy(upstream: &str, scope: &Scope, extra: &[&str]) -> (Child, String) {
    let mut cmd = Command::new(bin());
    cmd.args(["proxy", "--listen", "0", "--upstream", upstream])
        .args(["--to", &scope.base])
        .args(extra)
        .env("MCPSCOPE_TOKEN", &scope.token)
        .stderr(Stdio::inherit());
    spawn_announcing(cmd, "mcpscope proxy: ").await
}

/// The newest tapped session, once it shows a frame answering `method`.
async fn tapped_with(scope: &Scope, events: &mut Events, method: &'static str) -> Value {
    let frame = events
        .wait_for(&format!("a tapped answer to {method}"), move |e| {
            e["kind"] == "frame" && e["requestMethod"] == method && e["direction"] == "received"
        })
        .await;
    let id = frame["session"].as_str().unwrap().to_owned();
    let (_, session) = scope.get(&format!("/api/sessions/{id}")).await;
    session
}

#[tokio::test]
async fn sdk_clients_get_the_same_answers_through_the_proxy_over_streamable_http() {
    let server = everything("streamableHttp").await;
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let (_proxy, url) = proxy(
        &server.url("/mcp"),
        &scope,
        &["--name", "everything over http"],
    )
    .await;
    assert!(url.ends_with("/mcp"), "{url}");
    let client = sdk_client();
    for python in [python(), python2()] {
        let direct = run_client(&python, &[&client, "http", &server.url("/mcp")], &[]).await;
        let relayed = run_client(&python, &[&client, "http", &url], &[]).await;
        assert_eq!(direct["results"], relayed["results"], "{python}");
    }
    let ts = root()
        .join("tests/peers/ts_client.mjs")
        .display()
        .to_string();
    let direct = run_client("node", &[&ts, "http", &server.url("/mcp")], &[]).await;
    let relayed = run_client("node", &[&ts, "http", &url], &[]).await;
    assert_eq!(direct["results"], relayed["results"]);

    let session = tapped_with(&scope, &mut events, "tools/call").await;
    assert_eq!(session["tapped"], true);
    assert_eq!(session["name"], "everything over http");
    assert_eq!(session["target"]["url"], server.url("/mcp"));
    let lines = export_lines(&scope, session["id"].as_str().unwrap()).await;
    let answered: Vec<&str> = lines
        .iter()
        .filter(|e| e["kind"] == "frame" && e["direction"] == "received")
        .filter_map(|e| e["requestMethod"].as_str())
        .collect();
    for m in [
        "initialize",
        "tools/list",
        "tools/call",
        "resources/read",
        "prompts/list",
    ] {
        assert!(answered.contains(&m), "{m} in {answered:?}");
    }
    let exchanges = lines
        .iter()
        .filter(|e| e["kind"] == "http" && e["phase"] == "proxy")
        .count();
    assert!(exchanges >= 5, "{exchanges} http exchanges");
}

#[tokio::test]
async fn the_clients_authorization_passes_and_is_never_shown() {
    // FastMCP answers whatever the header; what matters is that it arrives and stays hidden.
    let server = fastmcp("streamable-http").await;
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let (_proxy, url) = proxy(&server.url("/mcp"), &scope, &[]).await;
    let secret = "sk-proxy-secret-123456";
    let http = test_client();
    let res = http
        .post(&url)
        .header("authorization", format!("Bearer {secret}"))
        .header("accept", "application/json, text/event-stream")
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers().get("mcp-session-id").is_some(),
        "the server's headers pass"
    );
    let _ = res.text().await.unwrap();
    let session = tapped_with(&scope, &mut events, "initialize").await;
    let text = scope.export(session["id"].as_str().unwrap()).await;
    assert!(text.contains("\"phase\":\"proxy\""), "{text}");
    assert!(
        !text.contains(secret),
        "the client's credential in an export"
    );
    let seen: String = events.seen.iter().map(|e| e.to_string()).collect();
    assert!(
        !seen.contains(secret),
        "the client's credential in an event"
    );
}

#[tokio::test]
async fn a_legacy_sse_server_is_relayed_stream_and_posts() {
    let server = fastmcp("sse").await;
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let (_proxy, url) = proxy(&server.url("/sse"), &scope, &[]).await;
    let client = sdk_client();
    let calls = serde_json::json!([["tools/list", {}], ["tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}}]]).to_string();
    let direct = run_client(
        &python(),
        &[&client, "sse", &server.url("/sse")],
        &[("CALLS", &calls)],
    )
    .await;
    let relayed = run_client(&python(), &[&client, "sse", &url], &[("CALLS", &calls)]).await;
    assert_eq!(direct["results"], relayed["results"]);
    let session = tapped_with(&scope, &mut events, "tools/call").await;
    assert_eq!(session["target"]["transport"], "sse");
}

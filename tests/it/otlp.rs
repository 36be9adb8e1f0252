//! `--otlp`: every session's traffic as OpenTelemetry traces, checked at a small collector that
//! decodes the real OTLP/HTTP protobuf payload (`tests/servers/otlp_receiver.py`): a span per
//! request with its answer, notifications as span events, the W3C trace a request's `_meta`
//! names kept, errors with their codes, secrets hidden, tapped sessions too.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::process::Command;

use crate::{
    remote::{free_port, peer},
    support::*,
    tap::via_tap,
};

/// The collector and the file its spans go to.
async fn collector() -> (crate::remote::Peer, std::path::PathBuf) {
    let port = free_port();
    let out = std::env::temp_dir().join(format!("mcpscope-otlp-{port}.ndjson"));
    let _ = std::fs::remove_file(&out);
    let mut cmd = Command::new(python());
    cmd.arg(root().join("tests/servers/otlp_receiver.py"))
        .arg(port.to_string())
        .arg(&out);
    (peer(cmd, port).await, out)
}

/// Waits until the collector has spans that `pred` accepts.
async fn spans_until(
    file: &std::path::Path,
    what: &str,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let until = Instant::now() + DEADLINE;
    loop {
        let spans: Vec<Value> = std::fs::read_to_string(file)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if pred(&spans) {
            return spans;
        }
        assert!(
            Instant::now() < until,
            "no spans {what} within the deadline: {spans:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn every_request_is_a_span_at_the_collector_with_its_trace_kept() {
    let (collector, file) = collector().await;
    let scope = Scope::start_with(&["--otlp", &collector.url("")]).await;
    let mut target = everything_target();
    target["name"] = json!("everything");
    let (status, _) = scope.post("/api/sessions", target).await;
    assert_eq!(status, 201);
    let (_, listed) = scope.get("/api/sessions").await;
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    let call = |params: Value| {
        let scope = &scope;
        let id = id.clone();
        async move {
            scope
                .post(
                    &format!("/api/sessions/{id}/request"),
                    json!({"method": "tools/call", "params": params}),
                )
                .await
        }
    };
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    call(json!({"name": "echo", "arguments": {"message": "hi"}, "_meta": {"traceparent": traceparent}})).await;
    call(json!({"name": "trigger-long-running-operation", "arguments": {"duration": 0.3, "steps": 3}})).await;
    call(json!({"name": "no-such-tool", "arguments": {}})).await;

    let spans = spans_until(&file, "for the three calls", |s| {
        s.iter()
            .filter(|s| s["attributes"]["mcp.method.name"] == "tools/call")
            .count()
            >= 3
    })
    .await;
    let echo = spans
        .iter()
        .find(|s| s["name"] == "tools/call echo")
        .expect("the echo span");
    assert_eq!(
        echo["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736",
        "the trace _meta named"
    );
    assert_eq!(echo["parentSpanId"], "00f067aa0ba902b7");
    assert_eq!(echo["kind"], 3, "a client span");
    assert_eq!(echo["attributes"]["gen_ai.tool.name"], "echo");
    assert_eq!(
        echo["attributes"]["mcp.server.name"],
        "mcp-servers/everything"
    );
    assert_eq!(echo["attributes"]["mcpscope.session.name"], "everything");
    assert_eq!(echo["attributes"]["network.transport"], "pipe");
    assert_eq!(echo["status"]["code"], 1, "ok");
    assert_eq!(echo["resource"]["service.name"], "mcpscope");
    // Progress notifications are events of the call they concern.
    let long = spans
        .iter()
        .find(|s| s["name"] == "tools/call trigger-long-running-operation")
        .unwrap();
    let progress = long["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["name"] == "notifications/progress")
        .count();
    assert!(progress >= 2, "{long}");
    assert!(
        long["durationNs"].as_u64().unwrap() >= 200_000_000,
        "{long}"
    );
    assert_ne!(long["traceId"], echo["traceId"], "a trace of its own");
    // An unknown tool: an error with its code (server-everything answers -32602).
    let unknown = spans
        .iter()
        .find(|s| s["name"] == "tools/call no-such-tool")
        .unwrap();
    assert_eq!(unknown["status"]["code"], 2, "{unknown}");
    assert!(unknown["attributes"]["error.type"].is_string(), "{unknown}");
    // The handshake too.
    assert!(spans.iter().any(|s| s["name"] == "initialize"));
}

#[tokio::test]
async fn a_tapped_session_is_traced_too_and_secrets_stay_out() {
    let (collector, file) = collector().await;
    let scope = Scope::start_with(&["--otlp", &collector.url("")]).await;
    let calls =
        json!([["resources/read", {"uri": "demo://resource/static/document/architecture.md"}]])
            .to_string();
    via_tap(
        &python(),
        &scope.base,
        &[],
        &[
            ("MCPSCOPE_TOKEN", scope.token.as_str()),
            ("CALLS", calls.as_str()),
            ("MY_API_KEY", "architecture"),
        ],
    )
    .await;
    let spans = spans_until(&file, "for the tapped read", |s| {
        s.iter()
            .any(|s| s["attributes"]["mcp.method.name"] == "resources/read")
    })
    .await;
    let read = spans
        .iter()
        .find(|s| s["attributes"]["mcp.method.name"] == "resources/read")
        .unwrap();
    assert_eq!(read["attributes"]["mcpscope.tapped"], true);
    // The tap's secret-looking environment value is hidden wherever it would show.
    let uri = read["attributes"]["mcp.resource.uri"].as_str().unwrap();
    assert!(
        !uri.contains("architecture") && uri.contains("<redacted>"),
        "{uri}"
    );
}

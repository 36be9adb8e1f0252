//! What a remote server can make mcpscope do: hold memory, or fetch an address of the user's
//! machine's network for it.

use serde_json::json;

use crate::{
    remote::{free_port, python_server},
    support::*,
};

/// Attack: a server answering with more than the process's memory budget for answers (here a
/// 20 MiB answer against an 8 MiB budget; six 500 MB answers at once took 3 GB before).
#[tokio::test]
async fn an_answer_over_the_memory_budget_fails_its_call_and_the_session_goes_on() {
    let port = free_port();
    let peer = python_server("hostile_server.py", &["big", &port.to_string(), "20"], port).await;
    let scope = Scope::start_with(&["--max-buffered-mb", "8"]).await;
    let mut events = scope.events().await;
    let s = scope.connect(json!({"url": peer.url("/mcp")})).await;
    assert_eq!(s["state"], "connected", "{s}");
    let (status, answer) = scope
        .request("tools/call", json!({"name": "big", "arguments": {}}))
        .await;
    assert_ne!(status, 200, "{answer}");
    assert!(answer.to_string().contains("memory budget"), "{answer}");
    let finding = events
        .wait_for("the budget finding", |e| {
            e["kind"] == "finding"
                && e["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("memory budget")
        })
        .await;
    assert_eq!(finding["severity"], "error");
    // The session is still there and answers.
    let (status, pong) = scope.request("ping", json!({})).await;
    assert_eq!(status, 200, "{pong}");
    let (_, session) = scope.get("/api/session").await;
    assert_eq!(session["state"], "connected", "{session}");
}

/// Attack: a challenge whose `resource_metadata` names the cloud metadata address, so that
/// mcpscope's GET fetches the machine's credentials for the server (blind SSRF).
#[tokio::test]
async fn a_challenge_naming_the_metadata_address_is_not_fetched() {
    let port = free_port();
    let peer = python_server("hostile_server.py", &["metadata", &port.to_string()], port).await;
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let (_, s) = scope
        .post("/api/session/connect", json!({"url": peer.url("/mcp")}))
        .await;
    assert_ne!(s["state"], "connected", "{s}");
    let refused = events
        .wait_for("the refused step", |e| {
            e["kind"] == "auth" && e["ok"] == false
        })
        .await;
    let said = refused.to_string();
    assert!(
        said.contains("169.254.169.254") && said.contains("link-local"),
        "{said}"
    );
    // No request went there: every http event is for the server itself.
    let (_, all) = scope.get("/api/session").await;
    assert!(!all.to_string().contains("authorizing"), "{all}");
    let mut seen = scope.events_since(0).await;
    let until = std::time::Instant::now() + std::time::Duration::from_secs(2);
    while let Some(e) = seen.next(until).await {
        if e["kind"] == "http" {
            assert!(!e["url"].as_str().unwrap_or("").contains("169.254"), "{e}");
        }
    }
}

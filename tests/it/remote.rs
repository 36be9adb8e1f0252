//! Remote targets over real HTTP: server-everything in `streamableHttp` and `sse` modes (kept on
//! loopback by a preload) and a FastMCP server in `streamable-http` and `sse` modes, each on a
//! free 127.0.0.1 port.

use std::{
    process::Stdio,
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::support::*;

/// A test server listening on 127.0.0.1:`port`, killed when dropped.
pub struct Peer {
    pub child: Child,
    pub port: u16,
}

impl Peer {
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn listening(mut child: Child, port: u16) -> Peer {
    let until = Instant::now() + DEADLINE;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the test server exited before listening on {port}"
        );
        assert!(Instant::now() < until, "nothing listens on {port}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Peer { child, port }
}

/// A test server started by `cmd` (its output discarded), once it listens on `port`.
pub async fn peer(mut cmd: Command, port: u16) -> Peer {
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the test server starts");
    listening(child, port).await
}

/// server-everything in `streamableHttp` or `sse` mode, bound to loopback by the preload.
pub async fn everything(mode: &str) -> Peer {
    let port = free_port();
    let peers = root().join("tests/peers");
    let mut cmd = Command::new("node");
    cmd.arg(peers.join("node_modules/@modelcontextprotocol/server-everything/dist/index.js"))
        .arg(mode)
        .env("PORT", port.to_string())
        .env(
            "NODE_OPTIONS",
            format!("--require {}", peers.join("loopback.cjs").display()),
        );
    peer(cmd, port).await
}

/// The FastMCP HTTP server in `streamable-http` or `sse` mode.
pub async fn fastmcp(mode: &str) -> Peer {
    fastmcp_on(mode, free_port()).await
}

async fn fastmcp_on(mode: &str, port: u16) -> Peer {
    python_server("fastmcp_http_server.py", &[mode, &port.to_string()], port).await
}

/// One of the Python servers in `tests/servers/`, started with `args`, once it listens on `port`.
pub async fn python_server(script: &str, args: &[&str], port: u16) -> Peer {
    let mut cmd = Command::new(python());
    cmd.arg("-u")
        .arg(root().join("tests/servers").join(script))
        .args(args);
    peer(cmd, port).await
}

fn http(kind: &str) -> impl Fn(&Value) -> bool {
    move |e| e["kind"] == "http" && e["type"] == kind
}

fn exchange(method: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["kind"] == "http" && e["type"] == "exchange" && e["method"] == method
}

const SECRET: &str = "sekret-bearer-7f3a";

#[tokio::test]
async fn streamable_http_against_server_everything() {
    let peer = everything("streamableHttp").await;
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let session = scope
        .connect(json!({
            "transport": "http",
            "url": peer.url("/mcp"),
            "headers": {"Authorization": format!("Bearer {SECRET}"), "X-Team": "blue"},
        }))
        .await;
    assert_eq!(session["protocolVersion"], "2025-11-25");
    assert_eq!(session["target"]["headers"]["Authorization"], "<redacted>");

    // The session id from the initialize answer is echoed, with the protocol version.
    let init = events
        .wait_for("the initialize POST", exchange("POST"))
        .await;
    assert_eq!(init["carries"]["method"], "initialize");
    assert_eq!(init["requestHeaders"]["authorization"], "<redacted>");
    assert_eq!(init["requestHeaders"]["x-team"], "blue");
    let session_id = init["responseHeaders"]["mcp-session-id"]
        .as_str()
        .expect("a session id")
        .to_owned();
    let next = events.wait_for("the next POST", exchange("POST")).await;
    assert_eq!(
        next["requestHeaders"]["mcp-session-id"],
        session_id.as_str()
    );
    assert_eq!(next["requestHeaders"]["mcp-protocol-version"], "2025-11-25");

    let names = scope.tool_names().await;
    assert!(names.iter().any(|n| n == "get-sum"), "{names:?}");
    let sum = scope
        .result(
            "tools/call",
            json!({"name": "get-sum", "arguments": {"a": 19, "b": 23}}),
        )
        .await;
    assert!(first_text(&sum).contains("42"), "{sum}");

    // Progress arrives on the POST's SSE answer and is tied to the request.
    let (status, body) = scope
        .request(
            "tools/call",
            json!({"name": "trigger-long-running-operation", "arguments": {"duration": 0.4, "steps": 2}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let p = events.wait_for("progress", kind("progress")).await;
    assert!(p["requestId"].is_i64(), "{p}");
    assert_eq!(p["total"], 2);
    let stream = events
        .wait_for("the SSE answer's end", http("stream-closed"))
        .await;
    assert_eq!(stream["method"], "POST");

    let (status, _) = scope.post("/api/session/disconnect", json!({})).await;
    assert_eq!(status, 200);
    let delete = events.wait_for("DELETE", exchange("DELETE")).await;
    assert_eq!(
        delete["requestHeaders"]["mcp-session-id"],
        session_id.as_str()
    );
    assert_eq!(delete["status"], 200);

    // The bearer token is nowhere in what mcpscope shows.
    for e in &events.seen {
        assert!(!e.to_string().contains(SECRET), "leaked in {e}");
    }
    let (_, info) = scope.get("/api/session").await;
    assert!(!info.to_string().contains(SECRET));
}

#[tokio::test]
async fn legacy_sse_against_server_everything_resolves_its_endpoint() {
    let peer = everything("sse").await;
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope
        .connect(json!({"transport": "sse", "url": peer.url("/sse")}))
        .await;
    let note = events.wait_for("the endpoint", http("note")).await;
    let message = note["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("{}/message?sessionId=", peer.url(""))),
        "{message}"
    );
    let echo = scope
        .result(
            "tools/call",
            json!({"name": "echo", "arguments": {"message": "over sse"}}),
        )
        .await;
    assert!(first_text(&echo).contains("over sse"), "{echo}");
}

#[tokio::test]
async fn streamable_http_falls_back_to_sse_and_says_so() {
    let peer = everything("sse").await;
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    let session = scope
        .connect(json!({"transport": "http", "url": peer.url("/sse")}))
        .await;
    assert_eq!(session["target"]["transport"], "sse", "{session}");
    assert_eq!(session["target"]["fallbackFrom"], "http");
    let refused = events.wait_for("the refused POST", exchange("POST")).await;
    assert_eq!(refused["carries"]["method"], "initialize");
    assert!(
        [400, 404, 405].contains(&refused["status"].as_u64().unwrap()),
        "{refused}"
    );
    let note = events.wait_for("the fallback note", http("note")).await;
    assert!(
        note["message"].as_str().unwrap().contains("falling back"),
        "{note}"
    );
    let names = scope.tool_names().await;
    assert!(names.iter().any(|n| n == "echo"), "{names:?}");
}

#[tokio::test]
async fn fastmcp_over_streamable_http_sends_custom_headers_and_reports_progress() {
    let peer = fastmcp("streamable-http").await;
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope
        .connect(json!({
            "url": peer.url("/mcp"),
            "headers": {"X-Custom": "from mcpscope", "X-Tenant": "acme"},
            "secretHeaders": ["X-Tenant"],
        }))
        .await;
    let seen = scope
        .result(
            "tools/call",
            json!({"name": "echo_header", "arguments": {"name": "x-custom"}}),
        )
        .await;
    assert_eq!(first_text(&seen), "from mcpscope");
    let tenant = scope
        .result(
            "tools/call",
            json!({"name": "echo_header", "arguments": {"name": "x-tenant"}}),
        )
        .await;
    assert_eq!(first_text(&tenant), "acme", "sent, though never shown");
    scope
        .result(
            "tools/call",
            json!({"name": "count_to", "arguments": {"n": 3}}),
        )
        .await;
    let p = events.wait_for("progress", kind("progress")).await;
    assert_eq!(p["message"], "step 1");
    let post = events
        .seen
        .iter()
        .find(|e| exchange("POST")(e))
        .expect("POST exchanges before the progress");
    assert_eq!(post["requestHeaders"]["x-tenant"], "<redacted>");
    // (The tool's own answer says it, of course; mcpscope's http events must not.)
    for e in events.seen.iter().filter(|e| e["kind"] == "http") {
        assert!(!e.to_string().contains("acme"), "leaked in {e}");
    }
}

#[tokio::test]
async fn fastmcp_over_legacy_sse_resolves_its_endpoint() {
    let peer = fastmcp("sse").await;
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope.connect(json!({"url": peer.url("/sse")})).await;
    let note = events.wait_for("the endpoint", http("note")).await;
    let message = note["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("{}/messages/?session_id=", peer.url(""))),
        "{message}"
    );
    let sum = scope
        .result(
            "tools/call",
            json!({"name": "add", "arguments": {"a": 2, "b": 40}}),
        )
        .await;
    assert_eq!(first_text(&sum), "42");
}

#[tokio::test]
async fn a_dropped_get_stream_resumes_with_last_event_id() {
    let peer = fastmcp("streamable-http").await;
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope.connect(json!({"url": peer.url("/mcp")})).await;
    let dropped = scope
        .result(
            "tools/call",
            json!({"name": "drop_get_stream", "arguments": {}}),
        )
        .await;
    assert_eq!(first_text(&dropped), "dropped");
    let closed = events
        .wait_for("the GET stream closing", |e| {
            e["kind"] == "http" && e["type"] == "stream-closed" && e["method"] == "GET"
        })
        .await;
    let last = closed["lastEventId"]
        .as_str()
        .expect("an event id")
        .to_owned();
    let resumed = events
        .wait_for("the resumed GET", |e| {
            e["kind"] == "http"
                && e["type"] == "exchange"
                && e["method"] == "GET"
                && e["requestHeaders"]["last-event-id"].is_string()
        })
        .await;
    assert_eq!(resumed["requestHeaders"]["last-event-id"], last.as_str());
    // The notification sent while the stream was down arrives through the resumed one.
    events
        .wait_for(
            "the missed notification",
            frame("received", "notifications/tools/list_changed"),
        )
        .await;
}

#[tokio::test]
async fn a_server_killed_mid_session_fails_the_call_promptly_and_mcpscope_keeps_answering() {
    let mut peer = everything("streamableHttp").await;
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope
        .connect(json!({"transport": "http", "url": peer.url("/mcp")}))
        .await;
    peer.child.kill().await.unwrap();
    let started = Instant::now();
    let (status, body) = scope.request("tools/list", json!({})).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["kind"], "transport");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("POST"), "{message}");
    assert!(started.elapsed() < Duration::from_secs(5));
    let (status, _) = scope.get("/api/session").await;
    assert_eq!(status, 200);
    // The GET stream notices too, and the session says so rather than looking alive.
    let failed = events.wait_for("the failed state", state("failed")).await;
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("stopped answering"),
        "{failed}"
    );
}

#[tokio::test]
async fn connection_refused_fails_the_connect_with_a_plain_reason() {
    let port = free_port();
    let scope = Scope::start().await;
    let (status, session) = scope
        .post(
            "/api/session/connect",
            json!({"transport": "http", "url": format!("http://127.0.0.1:{port}/mcp")}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(session["state"], "failed");
    let error = session["error"].as_str().unwrap();
    assert!(error.to_lowercase().contains("refused"), "{error}");
}

#[tokio::test]
async fn the_bearer_token_stays_out_of_even_trace_logs() {
    let peer = fastmcp("streamable-http").await;
    let logs = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let scope = Scope::start_logging("trace", logs.clone()).await;
    scope
        .connect(json!({"url": peer.url("/mcp"), "headers": {"Authorization": format!("Bearer {SECRET}")}}))
        .await;
    let seen = scope
        .result(
            "tools/call",
            json!({"name": "echo_header", "arguments": {"name": "authorization"}}),
        )
        .await;
    assert_eq!(first_text(&seen), format!("Bearer {SECRET}"), "it was sent");
    scope.post("/api/session/disconnect", json!({})).await;
    drop(scope);
    let logs = logs.lock().unwrap().clone();
    assert!(!logs.is_empty(), "trace logging produced output");
    assert!(!logs.contains(SECRET), "the token is in the logs");
}

#[tokio::test]
async fn a_forgotten_session_ends_with_a_reconnect_hint_and_reconnect_starts_a_new_one() {
    let mut peer = fastmcp("streamable-http").await;
    let port = peer.port;
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope.connect(json!({"url": peer.url("/mcp")})).await;
    // A restarted server knows no sessions.
    peer.child.kill().await.unwrap();
    peer.child.wait().await.unwrap();
    let peer = fastmcp_on("streamable-http", port).await;
    // Either our POST meets the 404 (502 for the call), or the GET stream's re-open met it first
    // and the session had already ended (409): both are the server saying it forgot us.
    let (status, body) = scope.request("tools/list", json!({})).await;
    match status.as_u16() {
        502 => assert!(
            body["error"]["message"].as_str().unwrap().contains("404"),
            "{body}"
        ),
        409 => {}
        other => panic!("{other}: {body}"),
    }
    let ended = events.wait_for("the failed state", state("failed")).await;
    assert!(
        ended["error"].as_str().unwrap().contains("reconnect"),
        "{ended}"
    );
    let (status, session) = scope.post("/api/session/reconnect", json!({})).await;
    assert_eq!(status, 200, "{session}");
    assert_eq!(session["state"], "connected", "{session}");
    assert_eq!(session["target"]["url"], peer.url("/mcp"));
    let sum = scope
        .result(
            "tools/call",
            json!({"name": "add", "arguments": {"a": 1, "b": 2}}),
        )
        .await;
    assert_eq!(first_text(&sum), "3");
}

#[tokio::test]
async fn a_401_shows_the_www_authenticate_challenge_plainly() {
    // A server that wants OAuth: every request gets the same challenge.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = sock.read(&mut buf).await;
            let body = r#"{"error":"invalid_token"}"#;
            let reply = format!(
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer resource_metadata=\"http://127.0.0.1:{port}/.well-known/oauth-protected-resource\", scope=\"mcp:read\"\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = sock.write_all(reply.as_bytes()).await;
        }
    });
    let scope = Scope::start().await;
    let (_, session) = scope
        .post(
            "/api/session/connect",
            json!({"transport": "http", "url": format!("http://127.0.0.1:{port}/mcp")}),
        )
        .await;
    assert_eq!(session["state"], "failed");
    let error = session["error"].as_str().unwrap();
    assert!(
        error.contains("401")
            && error.contains("WWW-Authenticate: Bearer resource_metadata=")
            && error.contains("invalid_token"),
        "{error}"
    );
}

/// A minimal Streamable HTTP server that is slow to accept `notifications/initialized` and
/// refuses requests that arrive before it has, as the Python SDK does.
async fn slow_initialized_server() -> u16 {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    };
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let initialized = Arc::new(AtomicBool::new(false));
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let initialized = initialized.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let (head_end, length) = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse().unwrap());
                        break (end + 4, length);
                    }
                };
                while buf.len() < head_end + length {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                if !buf.starts_with(b"POST") {
                    let _ = sock.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
                    return;
                }
                let msg: Value = serde_json::from_slice(&buf[head_end..head_end + length]).unwrap();
                let reply = match msg["method"].as_str() {
                    Some("initialize") => {
                        Some(json!({"jsonrpc": "2.0", "id": msg["id"], "result": {
                        "protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                        "serverInfo": {"name": "slow-initialized", "version": "1"}}}))
                    }
                    Some("notifications/initialized") => {
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        initialized.store(true, Ordering::SeqCst);
                        None
                    }
                    Some(_) if !initialized.load(Ordering::SeqCst) => {
                        Some(json!({"jsonrpc": "2.0", "id": msg["id"],
                        "error": {"code": -32600, "message": "Received request before initialization was complete"}}))
                    }
                    Some(_) => {
                        Some(json!({"jsonrpc": "2.0", "id": msg["id"], "result": {"tools": []}}))
                    }
                    None => None,
                };
                let response = match reply {
                    Some(body) => {
                        let body = body.to_string();
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nMcp-Session-Id: s1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    }
                    None => {
                        "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_owned()
                    }
                };
                let _ = sock.write_all(response.as_bytes()).await;
            });
        }
    });
    port
}

#[tokio::test]
async fn initialized_reaches_the_server_before_the_next_request() {
    let port = slow_initialized_server().await;
    let scope = Scope::start().await;
    scope
        .connect(json!({"transport": "http", "url": format!("http://127.0.0.1:{port}/mcp")}))
        .await;
    // Sent at once after connect: it must not overtake the slow `initialized`.
    let (status, body) = scope.request("tools/list", json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["result"]["tools"], json!([]), "{body}");
}

#[tokio::test]
async fn a_get_stream_the_server_lacks_is_asked_for_once_and_a_failing_one_backs_off() {
    // Seen against the conformance suite's servers: a 404 to GET made a session ask again every
    // second for as long as it lived.
    for (status, session) in [("404", false), ("404", true), ("400", true)] {
        let port = free_port();
        let mut args = vec![port.to_string(), status.to_owned()];
        if session {
            args.push("--session".into());
        }
        let peer = python_server(
            "no_get_server.py",
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            port,
        )
        .await;
        let scope = Scope::start().await;
        let mut events = scope.events().await;
        scope
            .connect(json!({"transport": "http", "url": peer.url("/mcp")}))
            .await;
        let note = events
            .wait_for("the note", |e| {
                http("note")(e) && e["message"].as_str().unwrap_or("").contains("not retried")
            })
            .await;
        assert!(note["message"].as_str().unwrap().contains(status), "{note}");
        // Three seconds on: still one GET, and the session still works.
        let until = Instant::now() + Duration::from_secs(3);
        while let Some(e) = events.next(until).await {
            assert!(!exchange("GET")(&e), "{status}: asked again: {e}");
        }
        let (_, s) = scope.get("/api/session").await;
        assert_eq!(s["state"], "connected", "{status}: {s}");
        assert_eq!(
            scope.result("tools/list", json!({})).await["tools"],
            json!([])
        );
    }

    // A server error may pass: asked again, each time after a longer wait, then given up.
    let port = free_port();
    let peer = python_server("no_get_server.py", &[&port.to_string(), "503"], port).await;
    let scope = Scope::start().await;
    let mut events = scope.events().await;
    scope
        .connect(json!({"transport": "http", "url": peer.url("/mcp")}))
        .await;
    let mut times = vec![];
    while times.len() < 3 {
        events.wait_for("a GET", exchange("GET")).await;
        times.push(Instant::now());
    }
    let (first, second) = (times[1] - times[0], times[2] - times[1]);
    assert!(first >= Duration::from_millis(900), "{first:?}");
    assert!(second >= Duration::from_millis(1900), "{second:?}");
}
